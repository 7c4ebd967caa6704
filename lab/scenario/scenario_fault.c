/* scenario_fault: the grammar of `fault` lines in scenario files (see
 * docs/scenario-language.md): which program, which fault, its values. Checks
 * that need the whole file (a server line, the timeout) are queued with
 * parser_defer. Part of the scenario library (scenario_parser.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lab/scenario/scenario_fault.h"
#include "lab/shim/shim_config.h"

/* The calls an error fault may name: the shim's own list (shim_config.h). */
#define CALL_WORD(name, bits) name,
static const char *const call_words[] = { SHIM_CALL_NAMES(CALL_WORD) };
#undef CALL_WORD

/* errno names glibc knows (strerrorname_np), plus the aliases it never returns. */
static const struct {
	const char *name;
	int value;
} errno_aliases[] = {
	{ "EWOULDBLOCK", EWOULDBLOCK },
	{ "EDEADLOCK", EDEADLOCK },
	{ "ENOTSUP", ENOTSUP },
};

enum { MAX_ERRNO = 200 };

static int want_errno(struct parser *p, int *value)
{
	struct token t;
	const char *names[MAX_ERRNO + 8];
	size_t n = 0;

	if (lex_want_word(&p->lx, &t, "an errno name (e.g. EINTR)") < 0)
		return -1;
	for (int e = 1; e < MAX_ERRNO; e++) {
		const char *name = strerrorname_np(e);

		if (name == NULL)
			continue;
		if (strcmp(name, t.text) == 0) {
			*value = e;
			return 0;
		}
		names[n++] = name;
	}
	for (size_t i = 0; i < sizeof(errno_aliases) / sizeof(errno_aliases[0]); i++) {
		if (strcmp(errno_aliases[i].name, t.text) == 0) {
			*value = errno_aliases[i].value;
			return 0;
		}
		names[n++] = errno_aliases[i].name;
	}
	return lex_unknown_word(&p->lx, &t, "errno name", names, n,
				"expected a name such as EINTR, EAGAIN or ECONNRESET");
}

enum fault_word { FW_SEND, FW_RECV, FW_ERROR, FW_BUFFERS, FW_RESET, FW_PAUSE, FW_KILL, FW_CLOSE };

static const char *const fault_words[] = { "send",  "recv",  "error", "buffers",
					   "reset", "pause", "kill",  "close" };

/* After the WHEN of an error fault: the end, or `legal` then the end. */
static int parse_error_legal(struct parser *p, struct fault *f, struct token *t)
{
	if (t->type == TOK_END)
		return 0;
	if (t->type != TOK_WORD || strcmp(t->text, "legal") != 0)
		return lex_err(&p->lx, t->col, "unexpected %s after a complete directive",
			       lex_show(&p->lx, t).s);
	if (f->errno_value != EINTR && f->errno_value != EAGAIN)
		return lex_err(&p->lx, t->col,
			       "\"legal\" knows EINTR and EAGAIN (EWOULDBLOCK) only: the "
			       "kernel decides when the others happen");
	f->legal = true;
	return lex_want_end(&p->lx);
}

static int parse_fault_error(struct parser *p, struct fault *f)
{
	static const char *const when_words[] = { "once", "every", "after", "legal" };
	struct token t;
	int i;

	f->kind = FAULT_ERROR;
	if (lex_want_keyword(&p->lx, &t, "call", call_words,
			     sizeof(call_words) / sizeof(call_words[0]), &i) < 0)
		return -1;
	snprintf(f->call, sizeof(f->call), "%s", call_words[i]);
	if (want_errno(p, &f->errno_value) < 0 || lex_next(&p->lx, &t) < 0)
		return -1;
	f->when = WHEN_ALWAYS;
	if (t.type == TOK_END)
		return 0;
	i = t.type == TOK_WORD ? lex_find_word(t.text, when_words, 4) : -1;
	if (i < 0)
		return lex_unknown_word(&p->lx, &t, "condition", when_words, 4, NULL);
	if (i == 3)
		return parse_error_legal(p, f, &t);
	if (i == 0) {
		f->when = WHEN_ONCE;
	} else if (i == 1) {
		f->when = WHEN_EVERY;
		if (lex_want_word(&p->lx, &t, "a count") < 0 ||
		    lex_parse_int(&p->lx, &t, "count", 1, INT64_MAX, &f->when_n) < 0)
			return -1;
	} else {
		f->when = WHEN_AFTER;
		if (lex_want_size(&p->lx, &t, &f->when_n) < 0)
			return -1;
	}
	if (lex_next(&p->lx, &t) < 0)
		return -1;
	return parse_error_legal(p, f, &t);
}

static int parse_fault_buffers(struct parser *p, struct fault *f)
{
	static const char *const buf_words[] = { "rcv", "snd" };
	struct token t;

	f->kind = FAULT_BUFFERS;
	for (;;) {
		int64_t *slot;
		int i;

		if (lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type == TOK_END) {
			if (f->rcvbuf_bytes == 0 && f->sndbuf_bytes == 0)
				return lex_err(&p->lx, t.col,
					       "expected rcv or snd after \"buffers\"");
			return 0;
		}
		i = t.type == TOK_WORD ? lex_find_word(t.text, buf_words, 2) : -1;
		if (i < 0)
			return lex_unknown_word(&p->lx, &t, "buffer", buf_words, 2, NULL);
		slot = i == 0 ? &f->rcvbuf_bytes : &f->sndbuf_bytes;
		if (*slot != 0)
			return lex_err(&p->lx, t.col, "duplicate \"%s\" in buffers", t.text);
		if (lex_want_size(&p->lx, &t, slot) < 0)
			return -1;
		if (*slot == 0 || *slot > INT_MAX)
			return lex_err(&p->lx, t.col, "bad buffer size %s: expected 1 to %d bytes",
				       lex_show(&p->lx, &t).s, INT_MAX);
	}
}

/* "at" (a time) or "after" (bytes received) in `pause` and `kill`; *after says
 * which. */
static int want_at_or_after(struct parser *p, struct token *t, bool *after)
{
	if (lex_want_word(&p->lx, t, "\"at\" or \"after\"") < 0)
		return -1;
	if (strcmp(t->text, "at") != 0 && strcmp(t->text, "after") != 0)
		return lex_err(&p->lx, t->col, "expected \"at\" or \"after\", not %s",
			       lex_show(&p->lx, t).s);
	*after = strcmp(t->text, "after") == 0;
	return 0;
}

static int parse_fault_kind(struct parser *p, struct fault *f)
{
	struct token t;
	bool after;
	int i;

	if (lex_want_keyword(&p->lx, &t, "fault", fault_words,
			     sizeof(fault_words) / sizeof(fault_words[0]), &i) < 0)
		return -1;
	switch ((enum fault_word)i) {
	case FW_SEND:
	case FW_RECV: {
		static const char *const sub[] = { "max", "delay" };
		bool send = i == FW_SEND;

		if (lex_want_keyword(&p->lx, &t, "fault", sub, 2, &i) < 0)
			return -1;
		if (i == 0) {
			f->kind = send ? FAULT_SEND_MAX : FAULT_RECV_MAX;
			if (lex_want_size(&p->lx, &t, &f->bytes) < 0)
				return -1;
			if (f->bytes == 0)
				return lex_err(&p->lx, t.col,
					       "bad size %s: at least 1 byte must move",
					       lex_show(&p->lx, &t).s);
		} else {
			f->kind = send ? FAULT_SEND_DELAY : FAULT_RECV_DELAY;
			if (lex_want_duration(&p->lx, &t, &f->delay_us) < 0)
				return -1;
		}
		return lex_want_end(&p->lx);
	}
	case FW_ERROR:
		return parse_fault_error(p, f);
	case FW_BUFFERS:
		return parse_fault_buffers(p, f);
	case FW_RESET:
	case FW_CLOSE:
		f->kind = i == FW_RESET ? FAULT_RESET_AFTER : FAULT_CLOSE_AFTER;
		if (lex_want_exact(&p->lx, "after") < 0 || lex_want_size(&p->lx, &t, &f->bytes) < 0)
			return -1;
		return lex_want_end(&p->lx);
	case FW_PAUSE:
		f->kind = FAULT_PAUSE;
		if (want_at_or_after(p, &t, &after) < 0)
			return -1;
		if (after) {
			/* After bytes: an event of the run, not a time (see scenario.h). */
			if (lex_want_size(&p->lx, &t, &f->bytes) < 0)
				return -1;
			if (f->bytes == 0)
				return lex_err(&p->lx, t.col,
					       "bad size %s: pause after more than 0 "
					       "bytes (or pause at a time)",
					       lex_show(&p->lx, &t).s);
			f->at_us = -1;
		} else if (lex_want_duration(&p->lx, &t, &f->at_us) < 0 ||
			   parser_defer(p, t.col, DEFER_PAUSE_AT, f->at_us) < 0) {
			return -1;
		}
		if (lex_want_exact(&p->lx, "for") < 0 ||
		    lex_want_duration(&p->lx, &t, &f->for_us) < 0)
			return -1;
		if (f->for_us == 0)
			return lex_err(&p->lx, t.col,
				       "bad duration %s: a pause must last more than 0",
				       lex_show(&p->lx, &t).s);
		if (parser_defer(p, t.col, DEFER_PAUSE_FOR, f->for_us) < 0)
			return -1;
		return lex_want_end(&p->lx);
	case FW_KILL: {
		f->kind = FAULT_KILL;
		if (want_at_or_after(p, &t, &after) < 0)
			return -1;
		if (after) {
			/* After bytes: an event of the run, not a time (see scenario.h). */
			if (lex_want_size(&p->lx, &t, &f->bytes) < 0)
				return -1;
			if (f->bytes == 0)
				return lex_err(&p->lx, t.col,
					       "bad size %s: kill after more than 0 bytes "
					       "(or kill at a time)",
					       lex_show(&p->lx, &t).s);
			f->at_us = -1;
			return lex_want_end(&p->lx);
		}
		if (lex_want_duration(&p->lx, &t, &f->at_us) < 0 ||
		    parser_defer(p, t.col, DEFER_KILL_AT, f->at_us) < 0)
			return -1;
		return lex_want_end(&p->lx);
	}
	}
	return -1;
}

static const char *fault_kind_words(enum fault_kind kind)
{
	switch (kind) {
	case FAULT_SEND_MAX:
		return "send max";
	case FAULT_RECV_MAX:
		return "recv max";
	case FAULT_SEND_DELAY:
		return "send delay";
	case FAULT_RECV_DELAY:
		return "recv delay";
	case FAULT_ERROR:
		return "error";
	case FAULT_BUFFERS:
		return "buffers";
	case FAULT_RESET_AFTER:
		return "reset after";
	case FAULT_PAUSE:
		return "pause";
	case FAULT_KILL:
		return "kill";
	case FAULT_CLOSE_AFTER:
		return "close after";
	}
	return "?";
}

int parser_fault_line(struct parser *p, const struct token *kw)
{
	struct scenario *sc = p->sc;
	struct token who_tok;
	struct fault f, *arr;

	memset(&f, 0, sizeof(f));
	f.line = p->lx.line_no;
	if (sc->n_faults >= MAX_ITEMS)
		return lex_err(&p->lx, kw->col, "too many faults (at most %d)", MAX_ITEMS);
	if (parser_want_who(p, &who_tok, &f.who) < 0 || parse_fault_kind(p, &f) < 0)
		return -1;
	/* Faults that set one value per program cannot be given twice. */
	if (f.kind != FAULT_ERROR && f.kind != FAULT_PAUSE) {
		for (size_t i = 0; i < sc->n_faults; i++)
			if (sc->faults[i].who == f.who && sc->faults[i].kind == f.kind)
				return lex_err(
					&p->lx, kw->col,
					"duplicate fault \"%s\" on %s (first set on line %d)",
					fault_kind_words(f.kind), scenario_who_name(f.who),
					sc->faults[i].line);
	}
	if (f.who == WHO_SERVER && parser_defer(p, who_tok.col, DEFER_SERVER_FAULT, 0) < 0)
		return -1;
	arr = parser_grow(sc->faults, &p->cap_faults, sc->n_faults, sizeof(*arr));
	if (arr == NULL)
		return lex_out_of_memory(&p->lx);
	sc->faults = arr;
	sc->faults[sc->n_faults++] = f;
	return 0;
}

/* The kinds after "without", as bits of words[] (at least one). */
static int want_kinds(struct parser *p, const char *const *words, int n, unsigned *kinds)
{
	struct token t;
	char list[200] = "";

	*kinds = 0;
	for (;;) {
		int k;

		if (lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type == TOK_END)
			break;
		k = t.type == TOK_WORD ? lex_find_word(t.text, words, n) : -1;
		if (k < 0)
			return lex_unknown_word(&p->lx, &t, "explore kind", words, n, NULL);
		*kinds |= 1u << k;
	}
	if (*kinds != 0)
		return 0;
	for (int k = 0; k < n; k++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
			 words[k]);
	return lex_err(&p->lx, lex_col_at(&p->lx, p->lx.line_len),
		       "expected the kinds to leave out after \"without\" (%s)", list);
}

int parser_explore_line(struct parser *p, const struct token *kw)
{
	static const char *const target_words[] = { "client", "server", "link" };
	static const char *const mode_words[] = { "off", "without" };
	struct scenario *sc = p->sc;
	struct token who_tok, t;
	enum scenario_who who;
	unsigned kinds = 0;
	bool link;
	int i;

	if (lex_want_keyword(&p->lx, &who_tok, "program or link", target_words, 3, &i) < 0)
		return -1;
	link = i == 2;
	who = i == 0 ? WHO_CLIENT : WHO_SERVER;
	if (link && sc->explore_link_line != 0)
		return lex_err(&p->lx, kw->col, "duplicate \"explore link\" (first set on line %d)",
			       sc->explore_link_line);
	if (!link && sc->explore_line[who] != 0)
		return lex_err(&p->lx, kw->col, "duplicate \"explore %s\" (first set on line %d)",
			       scenario_who_name(who), sc->explore_line[who]);
	if (lex_want_keyword(&p->lx, &t, "explore mode", mode_words, 2, &i) < 0)
		return -1;
	if (i == 0) {
		if (lex_want_end(&p->lx) < 0)
			return -1;
		kinds = link ? EXPLORE_LINK_ALL : EXPLORE_ALL;
	} else if (link ? want_kinds(p, scenario_explore_link_words, EXPLORE_LINK_KINDS, &kinds)
			: want_kinds(p, scenario_explore_words, EXPLORE_KINDS, &kinds)) {
		return -1;
	}
	if (link) {
		if (parser_defer(p, who_tok.col, DEFER_LINK_EXPLORE, 0) < 0)
			return -1;
		sc->explore_link_line = p->lx.line_no;
		sc->explore_link_kinds = EXPLORE_LINK_ALL & ~kinds;
		return 0;
	}
	if (who == WHO_SERVER && parser_defer(p, who_tok.col, DEFER_SERVER_EXPLORE, 0) < 0)
		return -1;
	sc->explore_line[who] = p->lx.line_no;
	sc->explore_kinds[who] = EXPLORE_ALL & ~kinds;
	return 0;
}
