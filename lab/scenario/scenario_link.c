/* scenario_link: the grammar of `link` lines in scenario files (see
 * docs/scenario-language.md): the faults of the wire between the client and the
 * server, per direction or both. A value given twice for the same direction is an
 * error, so a file says each thing once. Drop filters are compiled by libpcap for
 * raw IP at the end of the file, once $PORT and $HOST are known. Part of the
 * scenario library (scenario_parser.h). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/scenario/scenario_link.h"

/* The wire's limits (lab/wire/wire.h), repeated for messages. */
enum {
	LINK_MIN_MTU = 68,
	LINK_MAX_MTU = 65535,
	LINK_PCM_ALL = 100000,
	LINK_MAX_QUEUE = 1000000,
};
static const int64_t LINK_MIN_RATE_BPS = 1000;
static const int64_t LINK_MAX_RATE_BPS = 100000000000LL;

enum link_word {
	LW_DELAY,
	LW_LOSS,
	LW_DUPLICATE,
	LW_REORDER,
	LW_CORRUPT,
	LW_RATE,
	LW_DROP,
	LW_DOWN,
	LW_MTU,
	LW_SEED,
};

static const char *const link_words[] = { "delay",   "loss", "duplicate", "reorder", "corrupt",
					  "rate",    "drop", "down",      "mtu",     "seed" };
static const char *const dir_words[] = { "client->server", "server->client" };

enum { N_LINK_WORDS = sizeof(link_words) / sizeof(link_words[0]) };

/* "5%", "0.5%", "0.125%": 0 to 100 with at most three decimals. */
static int want_percent(struct parser *p, int64_t *pcm)
{
	struct token t;
	const char *c;
	int64_t whole = 0, frac = 0;
	int digits = 0, decimals = 0;

	if (lex_want_word(&p->lx, &t, "a percentage (e.g. 5% or 0.5%)") < 0)
		return -1;
	c = t.text;
	while (*c >= '0' && *c <= '9' && digits < 4) {
		whole = whole * 10 + (*c++ - '0');
		digits++;
	}
	if (*c == '.') {
		c++;
		while (*c >= '0' && *c <= '9' && decimals < 4) {
			frac = frac * 10 + (*c++ - '0');
			decimals++;
		}
	}
	if (digits == 0 || digits > 3 || (c[-1] == '.') || decimals > 3 || strcmp(c, "%") != 0)
		return lex_err(&p->lx, t.col,
			       "bad percentage %s: expected 0%% to 100%% with at most three "
			       "decimals, e.g. 5%% or 0.125%%",
			       lex_show(&p->lx, &t).s);
	for (int i = decimals; i < 3; i++)
		frac *= 10;
	*pcm = whole * 1000 + frac;
	if (*pcm > LINK_PCM_ALL)
		return lex_err(&p->lx, t.col, "bad percentage %s: at most 100%%",
			       lex_show(&p->lx, &t).s);
	return 0;
}

/* "1Mbit", "100Mbit", "1Gbit", "64kbit", "9600bit": SI, bits per second. */
static int want_rate(struct parser *p, int64_t *bps)
{
	static const struct {
		const char *unit;
		int64_t factor;
	} units[] = { { "bit", 1 },	     { "kbit", 1000 },		{ "Kbit", 1000 },
		      { "Mbit", 1000000 }, { "Gbit", 1000000000 } };
	struct token t;
	const char *c;
	int64_t n = 0;

	if (lex_want_word(&p->lx, &t, "a rate (e.g. 1Mbit)") < 0)
		return -1;
	for (c = t.text; *c >= '0' && *c <= '9' && n < LINK_MAX_RATE_BPS; c++)
		n = n * 10 + (*c - '0');
	if (c == t.text)
		return lex_err(&p->lx, t.col,
			       "bad rate %s: expected a whole number and a unit, e.g. 1Mbit or "
			       "100Mbit",
			       lex_show(&p->lx, &t).s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(c, units[i].unit) != 0)
			continue;
		if (n > LINK_MAX_RATE_BPS / units[i].factor ||
		    n * units[i].factor < LINK_MIN_RATE_BPS)
			return lex_err(&p->lx, t.col,
				       "bad rate %s: expected 1kbit to 100Gbit (bits per second)",
				       lex_show(&p->lx, &t).s);
		*bps = n * units[i].factor;
		return 0;
	}
	return lex_err(&p->lx, t.col,
		       "bad rate %s: unknown unit \"%s\" (use bit, kbit, Mbit or Gbit: bits per "
		       "second)",
		       lex_show(&p->lx, &t).s, c);
}

/* A value that may be set once per direction. */
static int set_once(struct parser *p, const struct token *kw, int64_t *slot, int64_t value,
		    int dir)
{
	if (*slot != 0)
		return lex_err(&p->lx, kw->col, "duplicate \"link %s\" for %s", kw->text,
			       dir_words[dir]);
	*slot = value;
	return 0;
}

static int parse_drop(struct parser *p, const struct token *what, bool dirs[2])
{
	static const char *const mode_words[] = { "once", "every", "first" };
	struct token t;
	enum scenario_link_filter_mode mode = LINK_FILTER_ALL;
	int64_t n = 0;
	int i;

	if (lex_want_string(&p->lx, &t, "a packet filter in quotes, e.g. \"tcp[tcpflags] & tcp-syn != 0\"") < 0)
		return -1;
	struct token filter = t;
	if (filter.text[0] == '\0')
		return lex_err(&p->lx, t.col, "empty filter: it would drop every packet");
	if (lex_next(&p->lx, &t) < 0)
		return -1;
	if (t.type != TOK_END) {
		i = t.type == TOK_WORD ? lex_find_word(t.text, mode_words, 3) : -1;
		if (i < 0)
			return lex_unknown_word(&p->lx, &t, "condition", mode_words, 3, NULL);
		mode = i == 0 ? LINK_FILTER_ONCE : i == 1 ? LINK_FILTER_EVERY : LINK_FILTER_FIRST;
		if (i > 0 && (lex_want_word(&p->lx, &t, "a count") < 0 ||
			      lex_parse_int(&p->lx, &t, "count", 1, INT64_MAX, &n) < 0))
			return -1;
		if (lex_want_end(&p->lx) < 0)
			return -1;
	}
	for (int d = 0; d < 2; d++) {
		struct scenario_link_dir_faults *f = &p->sc->link.dir[d];
		struct scenario_link_filter *rule;

		if (!dirs[d])
			continue;
		if (f->n_filters >= SCENARIO_LINK_MAX_FILTERS)
			return lex_err(&p->lx, what->col, "too many drop filters for %s (at most %d)",
				       dir_words[d], SCENARIO_LINK_MAX_FILTERS);
		rule = &f->filters[f->n_filters];
		rule->filter = strdup(filter.text);
		if (rule->filter == NULL)
			return lex_out_of_memory(&p->lx);
		rule->line = p->lx.line_no;
		rule->mode = mode;
		rule->n = n;
		p->link_filter_col[d][f->n_filters] = filter.col;
		f->n_filters++;
	}
	return 0;
}

static int parse_down(struct parser *p, const struct token *what, bool dirs[2])
{
	struct token t;
	int64_t at_us, for_us = 0;

	if (lex_want_exact(&p->lx, "at") < 0 || lex_want_duration(&p->lx, &t, &at_us) < 0 ||
	    parser_defer(p, t.col, DEFER_LINK_DOWN_AT, at_us) < 0 || lex_next(&p->lx, &t) < 0)
		return -1;
	if (t.type != TOK_END) {
		if (t.type != TOK_WORD || strcmp(t.text, "for") != 0)
			return lex_err(&p->lx, t.col, "expected \"for DURATION\" or the end of the line, not %s",
				       lex_show(&p->lx, &t).s);
		if (lex_want_duration(&p->lx, &t, &for_us) < 0)
			return -1;
		if (for_us == 0)
			return lex_err(&p->lx, t.col, "bad duration %s: the link must be down for more than 0",
				       lex_show(&p->lx, &t).s);
		if (lex_want_end(&p->lx) < 0)
			return -1;
	}
	for (int d = 0; d < 2; d++) {
		struct scenario_link_dir_faults *f = &p->sc->link.dir[d];

		if (!dirs[d])
			continue;
		if (f->n_downs >= SCENARIO_LINK_MAX_DOWNS)
			return lex_err(&p->lx, what->col, "too many \"down\" lines for %s (at most %d)",
				       dir_words[d], SCENARIO_LINK_MAX_DOWNS);
		f->downs[f->n_downs++] =
			(struct scenario_link_down){ .line = p->lx.line_no, .at_us = at_us, .for_us = for_us };
	}
	return 0;
}

int parser_link_line(struct parser *p, const struct token *kw)
{
	struct scenario_link *link = &p->sc->link;
	struct token t, what;
	bool dirs[2] = { true, true };
	int64_t value = 0, jitter_us = 0, queue = 0;
	int i;

	(void)kw;
	if (link->line == 0) {
		link->line = p->lx.line_no;
		link->seed = 1;
		link->mtu_bytes = 1500;
	}
	if (lex_want_word(&p->lx, &t, "a direction or a link fault (e.g. loss 5%)") < 0)
		return -1;
	i = lex_find_word(t.text, dir_words, 2);
	if (i >= 0) {
		dirs[1 - i] = false;
		if (lex_want_word(&p->lx, &t, "a link fault (e.g. loss 5%)") < 0)
			return -1;
	}
	what = t;
	i = lex_find_word(t.text, link_words, N_LINK_WORDS);
	if (i < 0) {
		const char *choices[N_LINK_WORDS + 2];

		memcpy(choices, link_words, sizeof(link_words));
		choices[N_LINK_WORDS] = dir_words[0];
		choices[N_LINK_WORDS + 1] = dir_words[1];
		return lex_unknown_word(&p->lx, &t, "link fault", choices, N_LINK_WORDS + 2, NULL);
	}
	if ((i == LW_MTU || i == LW_SEED) && !(dirs[0] && dirs[1]))
		return lex_err(&p->lx, t.col, "\"link %s\" is the whole link's: it takes no direction",
			       t.text);
	switch ((enum link_word)i) {
	case LW_DELAY:
		if (lex_want_duration(&p->lx, &t, &value) < 0 || lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type != TOK_END) {
			if (t.type != TOK_WORD || strcmp(t.text, "jitter") != 0)
				return lex_err(&p->lx, t.col,
					       "expected \"jitter DURATION\" or the end of the line, not %s",
					       lex_show(&p->lx, &t).s);
			if (lex_want_duration(&p->lx, &t, &jitter_us) < 0 || lex_want_end(&p->lx) < 0)
				return -1;
		}
		if (value == 0 && jitter_us == 0)
			return lex_err(&p->lx, what.col, "a delay of 0 is no fault: leave the line out");
		for (int d = 0; d < 2; d++) {
			if (!dirs[d])
				continue;
			if (link->dir[d].delay_us != 0 || link->dir[d].jitter_us != 0)
				return lex_err(&p->lx, what.col, "duplicate \"link delay\" for %s",
					       dir_words[d]);
			link->dir[d].delay_us = value;
			link->dir[d].jitter_us = jitter_us;
		}
		return 0;
	case LW_LOSS:
	case LW_DUPLICATE:
	case LW_REORDER:
	case LW_CORRUPT:
		if (want_percent(p, &value) < 0 || lex_want_end(&p->lx) < 0)
			return -1;
		for (int d = 0; d < 2; d++) {
			struct scenario_link_dir_faults *f = &link->dir[d];
			int64_t *slot = i == LW_LOSS	      ? &f->loss_pcm :
					i == LW_DUPLICATE ? &f->duplicate_pcm :
					i == LW_REORDER	      ? &f->reorder_pcm :
								&f->corrupt_pcm;

			/* 0% is allowed (a twin file turns a fault off); stored as is. */
			if (dirs[d] && *slot != 0)
				return lex_err(&p->lx, what.col, "duplicate \"link %s\" for %s",
					       what.text, dir_words[d]);
			if (dirs[d])
				*slot = value;
		}
		return 0;
	case LW_RATE:
		if (want_rate(p, &value) < 0 || lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type != TOK_END) {
			if (t.type != TOK_WORD || strcmp(t.text, "queue") != 0)
				return lex_err(&p->lx, t.col,
					       "expected \"queue PACKETS\" or the end of the line, not %s",
					       lex_show(&p->lx, &t).s);
			if (lex_want_word(&p->lx, &t, "a number of packets") < 0 ||
			    lex_parse_int(&p->lx, &t, "queue", 1, LINK_MAX_QUEUE, &queue) < 0 ||
			    lex_want_end(&p->lx) < 0)
				return -1;
		}
		for (int d = 0; d < 2; d++) {
			if (!dirs[d])
				continue;
			if (set_once(p, &what, &link->dir[d].rate_bps, value, d) < 0)
				return -1;
			link->dir[d].queue_packets = queue;
		}
		return 0;
	case LW_DROP:
		return parse_drop(p, &what, dirs);
	case LW_DOWN:
		return parse_down(p, &what, dirs);
	case LW_MTU:
		if (lex_want_word(&p->lx, &t, "a number of bytes") < 0 ||
		    lex_parse_int(&p->lx, &t, "MTU", LINK_MIN_MTU, LINK_MAX_MTU, &value) < 0 ||
		    lex_want_end(&p->lx) < 0)
			return -1;
		link->mtu_bytes = value;
		return 0;
	case LW_SEED:
		if (lex_want_word(&p->lx, &t, "a seed (a whole number)") < 0 ||
		    lex_parse_int(&p->lx, &t, "seed", 0, INT64_MAX, &value) < 0 ||
		    lex_want_end(&p->lx) < 0)
			return -1;
		link->seed = (uint64_t)value;
		return 0;
	}
	return -1;
}

/* A copy of FILTER with $PORT and $HOST replaced. */
static char *expand(const char *filter, int port, const char *host)
{
	char port_text[16];
	size_t len = 0, cap = strlen(filter) * 8 + 64;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	snprintf(port_text, sizeof(port_text), "%d", port);
	for (const char *c = filter; *c;) {
		const char *with = NULL;

		if (strncmp(c, "$PORT", 5) == 0)
			with = port_text;
		else if (strncmp(c, "$HOST", 5) == 0)
			with = host;
		if (with) {
			size_t n = strlen(with);

			if (len + n + 1 > cap)
				break;
			memcpy(out + len, with, n);
			len += n;
			c += 5;
		} else {
			if (len + 2 > cap)
				break;
			out[len++] = *c++;
		}
	}
	out[len] = '\0';
	return out;
}

int parser_link_finish(struct parser *p)
{
	struct scenario *sc = p->sc;
	pcap_t *dead;
	int rc = 0;

	if (sc->link.line == 0)
		return 0;
	if (strcmp(sc->host, "127.0.0.1") != 0) {
		p->lx.line_no = p->host_line;
		return lex_err(&p->lx, 1,
			       "host %s with a link: the wire joins two namespaces over IPv4, where "
			       "the server is 127.0.0.1 (IPv6's ::1 cannot leave lo); use host "
			       "127.0.0.1 or no host line",
			       sc->host);
	}
	dead = pcap_open_dead(DLT_RAW, 65535);
	if (dead == NULL)
		return lex_out_of_memory(&p->lx);
	for (int d = 0; d < 2 && rc == 0; d++) {
		struct scenario_link_dir_faults *f = &sc->link.dir[d];

		for (size_t i = 0; i < f->n_filters && rc == 0; i++) {
			struct scenario_link_filter *rule = &f->filters[i];
			char *expanded = expand(rule->filter, sc->port, sc->host);
			struct bpf_program prog;

			if (expanded == NULL) {
				rc = lex_out_of_memory(&p->lx);
				break;
			}
			free(rule->filter);
			rule->filter = expanded;
			if (pcap_compile(dead, &prog, expanded, 1, PCAP_NETMASK_UNKNOWN) != 0) {
				p->lx.line_no = rule->line;
				rc = lex_err(&p->lx, p->link_filter_col[d][i], "bad filter \"%s\": %s",
					     expanded, pcap_geterr(dead));
				break;
			}
			pcap_freecode(&prog);
		}
	}
	pcap_close(dead);
	return rc;
}
