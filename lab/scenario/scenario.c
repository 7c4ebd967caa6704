/* scenario: the hand-written parser of scenario files (see scenario.h and
 * docs/scenario-language.md). The tokenizer and value readers live in
 * scenario_lex.c, the grammar of `fault` lines in scenario_fault.c and of
 * `expect` lines in scenario_expect.c; here are the file's parse loop, the
 * settings and programs, each directive with its own function. Checks that need
 * the whole file (is there a server line? what is the timeout?) are queued and
 * run at the end, where $PORT and $HOST in packet filters are expanded too. */
#include "lab/scenario/scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab/scenario/scenario_lex.h"
#include "lab/scenario/scenario_expect.h"
#include "lab/scenario/scenario_fault.h"
#include "lab/scenario/scenario_link.h"
#include "lab/scenario/scenario_parser.h"

enum {
	MAX_FILE_BYTES = 16 << 20,
};

/* ---- settings ---------------------------------------------------------------- */

static int check_duplicate(struct parser *p, const struct token *kw, int *first_line)
{
	if (*first_line != 0)
		return lex_err(&p->lx, kw->col, "duplicate \"%s\" (first set on line %d)", kw->text,
			       *first_line);
	*first_line = p->lx.line_no;
	return 0;
}

static int parse_summary(struct parser *p, const struct token *kw)
{
	struct token t;

	if (check_duplicate(p, kw, &p->scenario_line) < 0 ||
	    lex_want_string(&p->lx, &t, "the summary") < 0)
		return -1;
	if (t.text[0] == '\0')
		return lex_err(&p->lx, t.col,
			       "empty summary: say in a few words what the case shows");
	if (strchr(t.text, '\n') != NULL)
		return lex_err(&p->lx, t.col, "the summary must be one line (no \\n)");
	if (lex_want_end(&p->lx) < 0)
		return -1;
	p->sc->summary = strdup(t.text);
	return p->sc->summary == NULL ? lex_out_of_memory(&p->lx) : 0;
}

/* timeout and quiet: more than 0, at most an hour. */
static int parse_limit(struct parser *p, const struct token *kw, int *first_line, int64_t *us)
{
	struct token t;
	int64_t v;

	if (check_duplicate(p, kw, first_line) < 0 || lex_want_duration(&p->lx, &t, &v) < 0)
		return -1;
	if (v == 0)
		return lex_err(&p->lx, t.col, "bad %s %s: it must be more than 0", kw->text,
			       lex_show(&p->lx, &t).s);
	if (v > LEX_US_PER_HOUR)
		return lex_err(&p->lx, t.col, "bad %s %s: it must be at most 1h (60m)", kw->text,
			       lex_show(&p->lx, &t).s);
	if (lex_want_end(&p->lx) < 0)
		return -1;
	*us = v;
	return 0;
}

/* `hang off` or `hang after DURATION`: what the lab cannot see of a program's
 * own clock (an alarm) is left to the author. */
static int parse_hang(struct parser *p, const struct token *kw)
{
	static const char *const words[] = { "off", "after" };
	struct token t;
	int which;

	if (check_duplicate(p, kw, &p->hang_line) < 0 ||
	    lex_want_keyword(&p->lx, &t, "hang setting", words, 2, &which) < 0)
		return -1;
	if (which == 0) {
		p->sc->hang_after_us = SCENARIO_HANG_OFF;
		return lex_want_end(&p->lx);
	}
	if (lex_want_duration(&p->lx, &t, &p->sc->hang_after_us) < 0)
		return -1;
	if (p->sc->hang_after_us == 0)
		return lex_err(&p->lx, t.col,
			       "bad hang after %s: it must be more than 0 (or "
			       "`hang off`)",
			       lex_show(&p->lx, &t).s);
	if (p->sc->hang_after_us > LEX_US_PER_HOUR)
		return lex_err(&p->lx, t.col, "bad hang after %s: it must be at most 1h (60m)",
			       lex_show(&p->lx, &t).s);
	return lex_want_end(&p->lx);
}

static int parse_port(struct parser *p, const struct token *kw)
{
	struct token t;
	int64_t v;

	if (check_duplicate(p, kw, &p->port_line) < 0 ||
	    lex_want_word(&p->lx, &t, "a port number") < 0 ||
	    lex_parse_int(&p->lx, &t, "port", 1, 65535, &v) < 0 || lex_want_end(&p->lx) < 0)
		return -1;
	p->sc->port = (int)v;
	return 0;
}

/* capture payload SIZE|all */
static int parse_capture(struct parser *p, const struct token *kw)
{
	static const char *const what[] = { "payload" };
	struct token t;
	int index;
	int64_t v;

	if (check_duplicate(p, kw, &p->capture_line) < 0 ||
	    lex_want_keyword(&p->lx, &t, "capture setting", what, 1, &index) < 0 ||
	    lex_want(&p->lx, &t, "a size (or \"all\")") < 0)
		return -1;
	if (t.type == TOK_WORD && strcmp(t.text, "all") == 0)
		v = INT64_MAX;
	else if (lex_parse_size(&p->lx, &t, &v) < 0)
		return -1;
	if (lex_want_end(&p->lx) < 0)
		return -1;
	p->sc->capture_payload_bytes = v;
	return 0;
}

static int parse_host(struct parser *p, const struct token *kw)
{
	struct token t;
	struct in_addr a4;
	struct in6_addr a6;
	bool ok = false;

	if (check_duplicate(p, kw, &p->host_line) < 0 ||
	    lex_want_word(&p->lx, &t, "an address") < 0)
		return -1;
	if (inet_pton(AF_INET, t.text, &a4) == 1) {
		ok = (ntohl(a4.s_addr) >> 24) == 127;
		if (ok)
			inet_ntop(AF_INET, &a4, p->sc->host, sizeof(p->sc->host));
	} else if (inet_pton(AF_INET6, t.text, &a6) == 1) {
		ok = memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
		if (ok)
			inet_ntop(AF_INET6, &a6, p->sc->host, sizeof(p->sc->host));
	}
	if (!ok)
		return lex_err(&p->lx, t.col,
			       "bad host %s: the lab runs on loopback only (use 127.x.x.x or ::1)",
			       lex_show(&p->lx, &t).s);
	return lex_want_end(&p->lx);
}

static bool sysctl_name_ok(const char *name)
{
	char prev = '.';

	for (const char *c = name; *c; c++) {
		bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9');

		if (!alnum && *c != '_' && *c != '-' && *c != '.')
			return false;
		if (*c == '.' && prev == '.')
			return false;
		prev = *c;
	}
	return prev != '.';
}

static int parse_sysctl(struct parser *p, const struct token *kw)
{
	struct token name, value;
	struct scenario *sc = p->sc;
	struct scenario_sysctl *s;

	if (lex_want_word(&p->lx, &name, "a sysctl name (net.…)") < 0)
		return -1;
	if (strncmp(name.text, "net.", 4) != 0)
		return lex_err(
			&p->lx, name.col,
			"sysctl %s is not allowed: only net.* sysctls belong to the lab's network namespace",
			lex_show(&p->lx, &name).s);
	if (!sysctl_name_ok(name.text))
		return lex_err(
			&p->lx, name.col,
			"bad sysctl name %s: use letters, digits, _ and - between single dots",
			lex_show(&p->lx, &name).s);
	if (lex_want(&p->lx, &value, "a value") < 0)
		return -1;
	if (value.text[0] == '\0')
		return lex_err(&p->lx, value.col, "empty sysctl value");
	if (lex_want_end(&p->lx) < 0)
		return -1;
	for (size_t i = 0; i < sc->n_sysctls; i++)
		if (strcmp(sc->sysctls[i].name, name.text) == 0)
			return lex_err(&p->lx, name.col,
				       "duplicate sysctl %s (first set on line %d)",
				       lex_show(&p->lx, &name).s, sc->sysctls[i].line);
	if (sc->n_sysctls >= MAX_ITEMS)
		return lex_err(&p->lx, kw->col, "too many sysctl lines (at most %d)", MAX_ITEMS);
	s = parser_grow(sc->sysctls, &p->cap_sysctls, sc->n_sysctls, sizeof(*s));
	if (s == NULL)
		return lex_out_of_memory(&p->lx);
	sc->sysctls = s;
	s = &sc->sysctls[sc->n_sysctls];
	s->line = p->lx.line_no;
	s->name = strdup(name.text);
	s->value = strdup(value.text);
	sc->n_sysctls++; /* counted even when strdup failed, so scenario_free frees */
	if (s->name == NULL || s->value == NULL)
		return lex_out_of_memory(&p->lx);
	return 0;
}

/* server/client: the rest of the line is the command, verbatim but trimmed. */
static int parse_program(struct parser *p, const struct token *kw, struct scenario_program *prog)
{
	size_t start = kw->end, end = p->lx.line_len;

	if (prog->line != 0)
		return lex_err(&p->lx, kw->col, "duplicate \"%s\" (first set on line %d)", kw->text,
			       prog->line);
	while (start < end && lex_is_blank(p->lx.line[start]))
		start++;
	while (end > start && lex_is_blank(p->lx.line[end - 1]))
		end--;
	if (start == end)
		return lex_err(&p->lx, lex_col_at(&p->lx, kw->end),
			       "expected a command after \"%s\"", kw->text);
	if (p->lx.line[start] == '#')
		return lex_err(
			&p->lx, lex_col_at(&p->lx, start),
			"the command starts with \"#\": comments are not allowed on %s lines",
			kw->text);
	prog->command = strndup(p->lx.line + start, end - start);
	if (prog->command == NULL)
		return lex_out_of_memory(&p->lx);
	prog->line = p->lx.line_no;
	return 0;
}

/* ---- the file ---------------------------------------------------------------- */

enum directive {
	D_SCENARIO,
	D_TIMEOUT,
	D_QUIET,
	D_HANG,
	D_PORT,
	D_HOST,
	D_SYSCTL,
	D_SERVER,
	D_CLIENT,
	D_FAULT,
	D_EXPECT,
	D_LINK,
	D_CAPTURE,
	D_EXPLORE,
};

static const char *const directive_words[] = {
	"scenario", "timeout", "quiet",  "hang",  "port",   "host",
	"sysctl",   "server",  "client", "fault", "expect", "link",
	"capture",  "explore",
};

enum { N_DIRECTIVES = sizeof(directive_words) / sizeof(directive_words[0]) };
_Static_assert(N_DIRECTIVES == D_EXPLORE + 1, "one word per directive");

static int parse_line(struct parser *p)
{
	struct token kw;
	int d;

	if (lex_check_line(&p->lx) < 0 || lex_next(&p->lx, &kw) < 0)
		return -1;
	if (kw.type == TOK_END)
		return 0;
	if (kw.type == TOK_STRING)
		return lex_err(&p->lx, kw.col, "expected a directive, not a quoted string");
	d = lex_find_word(kw.text, directive_words, N_DIRECTIVES);
	if (d < 0)
		return lex_unknown_word(&p->lx, &kw, "directive", directive_words, N_DIRECTIVES,
					NULL);
	switch ((enum directive)d) {
	case D_SCENARIO:
		return parse_summary(p, &kw);
	case D_TIMEOUT:
		return parse_limit(p, &kw, &p->timeout_line, &p->sc->timeout_us);
	case D_QUIET:
		return parse_limit(p, &kw, &p->quiet_line, &p->sc->quiet_us);
	case D_HANG:
		return parse_hang(p, &kw);
	case D_PORT:
		return parse_port(p, &kw);
	case D_HOST:
		return parse_host(p, &kw);
	case D_SYSCTL:
		return parse_sysctl(p, &kw);
	case D_SERVER:
		return parse_program(p, &kw, &p->sc->server);
	case D_CLIENT:
		return parse_program(p, &kw, &p->sc->client);
	case D_FAULT:
		return parser_fault_line(p, &kw);
	case D_EXPECT:
		return parser_expect_line(p, &kw);
	case D_LINK:
		return parser_link_line(p, &kw);
	case D_CAPTURE:
		return parse_capture(p, &kw);
	case D_EXPLORE:
		return parser_explore_line(p, &kw);
	}
	return -1;
}

static int check_deferred(struct parser *p, const struct deferred *d)
{
	char value[32], timeout[32];

	p->lx.line_no = d->line;
	lex_format_duration(d->value_us, value, sizeof(value));
	lex_format_duration(p->sc->timeout_us, timeout, sizeof(timeout));
	switch (d->kind) {
	case DEFER_SERVER_FAULT:
		if (p->sc->server.line == 0)
			return lex_err(&p->lx, d->col,
				       "fault on \"server\" but there is no server line");
		break;
	case DEFER_SERVER_EXPLORE:
		if (p->sc->server.line == 0)
			return lex_err(&p->lx, d->col,
				       "explore on \"server\" but there is no server line");
		break;
	case DEFER_LINK_EXPLORE:
		if (p->sc->link.line == 0)
			return lex_err(&p->lx, d->col,
				       "explore on \"link\" but there is no link line");
		break;
	case DEFER_SERVER_EXPECT:
		if (p->sc->server.line == 0)
			return lex_err(&p->lx, d->col,
				       "expectation about \"server\" but there is no server line");
		break;
	case DEFER_PAUSE_AT:
		if (d->value_us >= p->sc->timeout_us)
			return lex_err(&p->lx, d->col, "pause at %s is not before the timeout (%s)",
				       value, timeout);
		break;
	case DEFER_PAUSE_FOR:
		if (d->value_us >= p->sc->timeout_us)
			return lex_err(&p->lx, d->col,
				       "pause for %s is not shorter than the timeout (%s)", value,
				       timeout);
		break;
	case DEFER_KILL_AT:
		if (d->value_us >= p->sc->timeout_us)
			return lex_err(&p->lx, d->col, "kill at %s is not before the timeout (%s)",
				       value, timeout);
		break;
	case DEFER_LINK_DOWN_AT:
		if (d->value_us >= p->sc->timeout_us)
			return lex_err(&p->lx, d->col,
				       "link down at %s is not before the timeout (%s)", value,
				       timeout);
		break;
	case DEFER_LINK_EXPECT:
		if (p->sc->link.line == 0)
			return lex_err(&p->lx, d->col,
				       "expectation about the link but there is no link line");
		break;
	case DEFER_DEADLOCK_WITHIN:
		if (d->value_us > p->sc->timeout_us)
			return lex_err(&p->lx, d->col,
				       "deadlock within %s is longer than the timeout (%s)", value,
				       timeout);
		break;
	}
	return 0;
}

/* A copy of filter with $PORT and $HOST replaced. */
static char *expand_filter(const char *filter, int port, const char *host)
{
	char port_text[16];
	size_t len = 0;
	char *out = NULL, *o;

	snprintf(port_text, sizeof(port_text), "%d", port);
	for (int pass = 0; pass < 2; pass++) {
		const char *c = filter;

		o = pass == 0 ? NULL : out;
		while (*c) {
			const char *with = NULL;

			if (strncmp(c, "$PORT", 5) == 0)
				with = port_text;
			else if (strncmp(c, "$HOST", 5) == 0)
				with = host;
			/* $PORTS is not $PORT: check_filter_variables rejected it already. */
			if (with != NULL) {
				size_t n = strlen(with);

				if (o != NULL)
					memcpy(o + len, with, n);
				len += n;
				c += 5;
			} else {
				if (o != NULL)
					o[len] = *c;
				len++;
				c++;
			}
		}
		if (pass == 0) {
			out = malloc(len + 1);
			if (out == NULL)
				return NULL;
			len = 0;
		}
	}
	out[len] = '\0';
	return out;
}

static int finish(struct parser *p)
{
	struct scenario *sc = p->sc;

	p->lx.line_no = 1;
	if (sc->summary == NULL)
		return lex_err(
			&p->lx, 1,
			"no scenario line: a scenario needs a summary, scenario \"SUMMARY\"");
	if (sc->client.command == NULL)
		return lex_err(&p->lx, 1, "no client line: a scenario needs \"client COMMAND\"");
	for (size_t i = 0; i < p->n_deferred; i++)
		if (check_deferred(p, &p->deferred[i]) < 0)
			return -1;
	if (parser_link_finish(p) < 0)
		return -1;
	for (size_t i = 0; i < sc->n_expects; i++) {
		struct expectation *e = &sc->expects[i];
		char *expanded;

		if (e->kind != EXPECT_PACKETS)
			continue;
		expanded = expand_filter(e->text, sc->port, sc->host);
		if (expanded == NULL)
			return lex_out_of_memory(&p->lx);
		free(e->text);
		e->text = expanded;
	}
	return 0;
}

static char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t len = strlen(base);

	if (len > 4 && strcmp(base + len - 4, ".scn") == 0)
		len -= 4;
	return strndup(base, len);
}

static int parse_buffer(const char *path, const char *text, size_t len, struct scenario **out,
			struct lab_err *err)
{
	struct parser *p;
	struct scenario *sc;
	size_t off = 0;
	int rc = -1;

	*out = NULL;
	if (path == NULL)
		path = "(text)";
	p = calloc(1, sizeof(*p));
	sc = calloc(1, sizeof(*sc));
	if (p == NULL || sc == NULL) {
		lab_err_set(err, "%s: out of memory", path);
		goto out;
	}
	p->lx.path = path;
	p->lx.err = err;
	p->sc = sc;
	sc->timeout_us = 10 * LEX_US_PER_S;
	sc->quiet_us = 200 * LEX_US_PER_MS;
	sc->port = 1060;
	sc->capture_payload_bytes = -1;
	sc->explore_kinds[WHO_CLIENT] = EXPLORE_ALL;
	sc->explore_kinds[WHO_SERVER] = EXPLORE_ALL;
	sc->explore_link_kinds = EXPLORE_LINK_ALL;
	snprintf(sc->host, sizeof(sc->host), "127.0.0.1");
	sc->path = strdup(path);
	sc->name = base_name(path);
	if (sc->path == NULL || sc->name == NULL) {
		lex_out_of_memory(&p->lx);
		goto out;
	}
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t line_len = nl ? (size_t)(nl - (text + off)) : len - off;

		lex_start_line(&p->lx, text + off, line_len);
		if (parse_line(p) < 0)
			goto out;
		off += line_len + (nl ? 1 : 0);
	}
	if (finish(p) < 0)
		goto out;
	*out = sc;
	sc = NULL;
	rc = 0;
out:
	scenario_free(sc);
	if (p != NULL)
		free(p->deferred);
	free(p);
	return rc;
}

int scenario_parse_text(const char *path, const char *text, struct scenario **out,
			struct lab_err *err)
{
	return parse_buffer(path, text, strlen(text), out, err);
}

int scenario_parse_file(const char *path, struct scenario **out, struct lab_err *err)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		return lab_err_sys(err, errno, "%s: cannot read", path);
	{
		struct stat st;

		/* A FIFO or a device would block or never end: only regular files. */
		if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
			fclose(f);
			return lab_err_set(err, "%s: cannot read: not a regular file", path);
		}
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *grown;

			if (cap >= MAX_FILE_BYTES) {
				lab_err_set(err,
					    "%s: cannot read: larger than %d MiB, not a scenario",
					    path, MAX_FILE_BYTES >> 20);
				goto out;
			}
			cap = cap ? 2 * cap : 64 * 1024;
			grown = realloc(buf, cap + 1);
			if (grown == NULL) {
				lab_err_set(err, "%s: out of memory", path);
				goto out;
			}
			buf = grown;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				lab_err_sys(err, errno, "%s: cannot read", path);
				goto out;
			}
			break;
		}
	}
	buf[len] = '\0';
	/* A UTF-8 byte order mark (some editors write one) is not part of the text:
	 * left in, it made the first directive an invisible unknown word. */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		rc = parse_buffer(path, buf + 3, len - 3, out, err);
	else
		rc = parse_buffer(path, buf, len, out, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

void scenario_free(struct scenario *sc)
{
	if (sc == NULL)
		return;
	for (size_t i = 0; i < sc->n_sysctls; i++) {
		free(sc->sysctls[i].name);
		free(sc->sysctls[i].value);
	}
	for (size_t i = 0; i < sc->n_expects; i++) {
		free(sc->expects[i].source);
		free(sc->expects[i].text);
	}
	free(sc->sysctls);
	free(sc->expects);
	free(sc->faults);
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < sc->link.dir[d].n_filters; i++)
			free(sc->link.dir[d].filters[i].filter);
	free(sc->server.command);
	free(sc->client.command);
	free(sc->summary);
	free(sc->name);
	free(sc->path);
	free(sc);
}

/* ---- names ------------------------------------------------------------------- */

const char *scenario_who_name(enum scenario_who who)
{
	return who == WHO_SERVER ? "server" : who == WHO_CLIENT ? "client" : "?";
}

const char *scenario_op_text(enum scenario_op op)
{
	return (unsigned)op < 6 ? scenario_op_words[op] : "?";
}

const char *scenario_outcome_name(enum scenario_outcome outcome)
{
	return (unsigned)outcome <
			       sizeof(scenario_outcome_words) / sizeof(scenario_outcome_words[0])
		       ? scenario_outcome_words[outcome]
		       : "?";
}

const char *scenario_handshake_name(enum scenario_handshake handshake)
{
	return (unsigned)handshake < 4 ? scenario_handshake_words[handshake] : "?";
}

const char *scenario_teardown_name(enum scenario_teardown teardown)
{
	return (unsigned)teardown < 3 ? scenario_teardown_words[teardown] : "?";
}

const char *scenario_link_drop_name(enum scenario_link_drop kind)
{
	return (unsigned)kind < LINK_DROP_KINDS ? scenario_link_drop_words[kind] : "?";
}

bool scenario_op_holds(enum scenario_op op, int64_t seen, int64_t expected)
{
	switch (op) {
	case OP_EQ:
		return seen == expected;
	case OP_NE:
		return seen != expected;
	case OP_LT:
		return seen < expected;
	case OP_LE:
		return seen <= expected;
	case OP_GT:
		return seen > expected;
	case OP_GE:
		return seen >= expected;
	}
	return false;
}
