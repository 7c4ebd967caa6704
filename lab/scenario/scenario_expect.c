/* scenario_expect: the grammar of `expect` lines in scenario files (see
 * docs/scenario-language.md): how the programs end, what they print, the run's
 * outcome and what the capture must show. Part of the scenario library
 * (scenario_parser.h); scenario.c expands $PORT and $HOST in packet filters at
 * the end of the file. */
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/scenario/scenario_expect.h"

static int want_op(struct parser *p, enum scenario_op *op)
{
	struct token t;
	int i;

	if (lex_want_keyword(&p->lx, &t, "operator", scenario_op_words, 6, &i) < 0)
		return -1;
	*op = (enum scenario_op)i;
	return 0;
}

enum expect_word {
	EW_CLIENT,
	EW_SERVER,
	EW_OUTCOME,
	EW_DEADLOCK,
	EW_HANDSHAKE,
	EW_TEARDOWN,
	EW_PACKETS,
	EW_ZERO_WINDOW,
	EW_WINDOW_PROBES,
	EW_RETRANSMISSIONS,
	EW_BYTES,
	EW_SEGMENTS,
	EW_DURATION,
	EW_ANALYSIS,
	EW_RTT,
	EW_LINK,
	EW_RESENDS,
};

static const char *const expect_words[] = {
	"client",   "server",   "outcome",     "deadlock",      "handshake",
	"teardown", "packets",  "zero-window", "window-probes", "retransmissions",
	"bytes",    "segments", "duration",    "analysis",      "rtt",
	"link",     "resends",
};

static int want_signal(struct parser *p, int64_t *value)
{
	struct token t;
	const char *names[2 * 64];
	char full[64][16];
	size_t n = 0;

	if (lex_want_word(&p->lx, &t, "a signal name (e.g. SIGKILL)") < 0)
		return -1;
	for (int s = 1; s < 64 && s < NSIG; s++) {
		const char *abbrev = sigabbrev_np(s);
		const char *bare = strncmp(t.text, "SIG", 3) == 0 ? t.text + 3 : t.text;

		if (abbrev == NULL)
			continue;
		if (strcmp(bare, abbrev) == 0) {
			*value = s;
			return 0;
		}
		snprintf(full[s], sizeof(full[s]), "SIG%s", abbrev);
		names[n++] = full[s];
		names[n++] = abbrev;
	}
	return lex_unknown_word(&p->lx, &t, "signal", names, n,
				"expected a name such as SIGTERM, SIGKILL or KILL");
}

/* $PORT and $HOST are the only variables of a filter. */
static int check_filter_variables(struct parser *p, const struct token *t)
{
	for (const char *c = strchr(t->text, '$'); c != NULL; c = strchr(c + 1, '$')) {
		size_t len = 0;

		while ((c[1 + len] >= 'A' && c[1 + len] <= 'Z') ||
		       (c[1 + len] >= 'a' && c[1 + len] <= 'z') ||
		       (c[1 + len] >= '0' && c[1 + len] <= '9') || c[1 + len] == '_')
			len++;
		if (len == 0)
			continue;
		if ((len == 4 && strncmp(c + 1, "PORT", 4) == 0) ||
		    (len == 4 && strncmp(c + 1, "HOST", 4) == 0))
			continue;
		return lex_err(
			&p->lx, t->col,
			"unknown variable \"$%.*s\" in the filter (only $PORT and $HOST are replaced)",
			(int)len, c + 1);
	}
	return 0;
}

/* expect client|server exit|killed|signal|stdout|stderr ... */
static int parse_expect_program(struct parser *p, struct expectation *e)
{
	static const char *const what_words[] = { "exit", "killed", "signal", "stdout", "stderr" };
	static const char *const match_words[] = { "contains", "matches" };
	struct token t;
	int i;

	if (lex_want_keyword(&p->lx, &t, "expectation", what_words, 5, &i) < 0)
		return -1;
	switch (i) {
	case 0:
		e->kind = EXPECT_EXIT;
		if (lex_want_word(&p->lx, &t, "an exit code") < 0)
			return -1;
		if (t.text[0] != '\0' && strchr("=!<>", t.text[0]) != NULL) {
			i = lex_find_word(t.text, scenario_op_words, 6);
			if (i < 0)
				return lex_unknown_word(&p->lx, &t, "operator", scenario_op_words,
							6, NULL);
			e->op = (enum scenario_op)i;
			if (lex_want_word(&p->lx, &t, "an exit code") < 0)
				return -1;
		}
		return lex_parse_int(&p->lx, &t, "exit code", 0, 255, &e->value);
	case 1:
		e->kind = EXPECT_KILLED;
		return 0;
	case 2:
		e->kind = EXPECT_SIGNAL;
		return want_signal(p, &e->value);
	default:
		break;
	}
	e->kind = EXPECT_OUTPUT;
	e->stream = i == 3 ? STREAM_STDOUT : STREAM_STDERR;
	if (lex_want_word(&p->lx, &t, "contains, matches or not") < 0)
		return -1;
	if (strcmp(t.text, "not") == 0) {
		e->negate = true;
		if (lex_want_keyword(&p->lx, &t, "output check", match_words, 2, &i) < 0)
			return -1;
	} else {
		static const char *const all[] = { "contains", "matches", "not" };

		i = lex_find_word(t.text, match_words, 2);
		if (i < 0)
			return lex_unknown_word(&p->lx, &t, "output check", all, 3, NULL);
	}
	e->regex = i == 1;
	if (lex_want_string(&p->lx, &t, e->regex ? "the regular expression" : "the text") < 0)
		return -1;
	if (e->regex) {
		regex_t re;
		int rc = regcomp(&re, t.text, REG_EXTENDED | REG_NOSUB);

		if (rc != 0) {
			char why[256];

			regerror(rc, &re, why, sizeof(why));
			return lex_err(&p->lx, t.col, "bad regular expression %s: %s",
				       lex_show(&p->lx, &t).s, why);
		}
		regfree(&re);
	}
	e->text = strdup(t.text);
	return e->text == NULL ? lex_out_of_memory(&p->lx) : 0;
}

/* The part after "expect"; who_col is set to the column of a program named. */
static int parse_expect_body(struct parser *p, struct expectation *e, int *who_col)
{
	struct token t;
	int i;

	if (lex_want_keyword(&p->lx, &t, "expectation", expect_words,
			     sizeof(expect_words) / sizeof(expect_words[0]), &i) < 0)
		return -1;
	switch ((enum expect_word)i) {
	case EW_CLIENT:
	case EW_SERVER:
		e->who = i == EW_CLIENT ? WHO_CLIENT : WHO_SERVER;
		*who_col = t.col;
		return parse_expect_program(p, e);
	case EW_OUTCOME:
		e->kind = EXPECT_OUTCOME;
		if (lex_want_keyword(&p->lx, &t, "outcome", scenario_outcome_words,
				     sizeof(scenario_outcome_words) /
					     sizeof(scenario_outcome_words[0]),
				     &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_DEADLOCK:
		e->kind = EXPECT_DEADLOCK_WITHIN;
		if (lex_want_exact(&p->lx, "within") < 0 ||
		    lex_want_duration(&p->lx, &t, &e->value) < 0)
			return -1;
		if (e->value == 0)
			return lex_err(&p->lx, t.col, "bad duration %s: it must be more than 0",
				       lex_show(&p->lx, &t).s);
		return parser_defer(p, t.col, DEFER_DEADLOCK_WITHIN, e->value);
	case EW_HANDSHAKE:
		e->kind = EXPECT_HANDSHAKE;
		if (lex_want_keyword(&p->lx, &t, "handshake", scenario_handshake_words, 4, &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_TEARDOWN:
		e->kind = EXPECT_TEARDOWN;
		if (lex_want_keyword(&p->lx, &t, "teardown", scenario_teardown_words, 3, &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_PACKETS:
		e->kind = EXPECT_PACKETS;
		if (lex_want_string(&p->lx, &t, "the filter") < 0 ||
		    check_filter_variables(p, &t) < 0)
			return -1;
		e->text = strdup(t.text);
		if (e->text == NULL)
			return lex_out_of_memory(&p->lx);
		if (want_op(p, &e->op) < 0)
			return -1;
		return lex_want_count(&p->lx, &t, &e->value);
	case EW_ZERO_WINDOW:
		e->kind = EXPECT_ZERO_WINDOW;
		if (lex_want_exact(&p->lx, "from") < 0 || parser_want_who(p, &t, &e->who) < 0)
			return -1;
		*who_col = t.col;
		if (lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type == TOK_END) {
			e->op = OP_GE;
			e->value = 1;
			return 0;
		}
		i = t.type == TOK_WORD ? lex_find_word(t.text, scenario_op_words, 6) : -1;
		if (i < 0)
			return lex_unknown_word(&p->lx, &t, "operator", scenario_op_words, 6, NULL);
		e->op = (enum scenario_op)i;
		return lex_want_count(&p->lx, &t, &e->value);
	case EW_WINDOW_PROBES:
	case EW_RESENDS:
		/* window-probes|resends from WHO OP N */
		e->kind = i == EW_RESENDS ? EXPECT_RESENDS : EXPECT_WINDOW_PROBES;
		if (lex_want_exact(&p->lx, "from") < 0 || parser_want_who(p, &t, &e->who) < 0)
			return -1;
		*who_col = t.col;
		if (want_op(p, &e->op) < 0)
			return -1;
		return lex_want_count(&p->lx, &t, &e->value);
	case EW_RETRANSMISSIONS:
		e->kind = EXPECT_RETRANSMISSIONS;
		if (want_op(p, &e->op) < 0)
			return -1;
		return lex_want_count(&p->lx, &t, &e->value);
	case EW_BYTES: {
		static const char *const dir_words[] = { "client->server", "server->client" };

		e->kind = EXPECT_BYTES;
		if (lex_want_keyword(&p->lx, &t, "direction", dir_words, 2, &i) < 0)
			return -1;
		e->who = i == 0 ? WHO_CLIENT : WHO_SERVER;
		*who_col = t.col;
		if (want_op(p, &e->op) < 0)
			return -1;
		return lex_want_size(&p->lx, &t, &e->value);
	}
	case EW_SEGMENTS:
		e->kind = EXPECT_SEGMENTS_PAYLOAD;
		if (lex_want_exact(&p->lx, "from") < 0 || parser_want_who(p, &t, &e->who) < 0)
			return -1;
		*who_col = t.col;
		if (lex_want_exact(&p->lx, "payload") < 0 || want_op(p, &e->op) < 0)
			return -1;
		return lex_want_size(&p->lx, &t, &e->value);
	case EW_DURATION:
		e->kind = EXPECT_DURATION;
		if (want_op(p, &e->op) < 0)
			return -1;
		return lex_want_duration(&p->lx, &t, &e->value);
	case EW_RTT:
		e->kind = EXPECT_RTT;
		if (want_op(p, &e->op) < 0)
			return -1;
		return lex_want_duration(&p->lx, &t, &e->value);
	case EW_LINK:
		/* expect link dropped OP N [KIND] */
		e->kind = EXPECT_LINK_DROPPED;
		e->link_kind = -1;
		if (lex_want_exact(&p->lx, "dropped") < 0 || want_op(p, &e->op) < 0 ||
		    lex_want_count(&p->lx, &t, &e->value) < 0 ||
		    parser_defer(p, t.col, DEFER_LINK_EXPECT, 0) < 0 || lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type == TOK_END)
			return 0;
		i = t.type == TOK_WORD
			    ? lex_find_word(t.text, scenario_link_drop_words, LINK_DROP_KINDS)
			    : -1;
		if (i < 0)
			return lex_unknown_word(&p->lx, &t, "kind of drop",
						scenario_link_drop_words, LINK_DROP_KINDS, NULL);
		e->link_kind = i;
		return 0;
	case EW_ANALYSIS:
		/* analysis FLAG OP N [from WHO]: FLAG is Wireshark's own name */
		e->kind = EXPECT_ANALYSIS;
		if (lex_want_keyword(&p->lx, &t, "analysis flag", scenario_analysis_flag_words,
				     SCENARIO_ANALYSIS_FLAGS, &e->flag) < 0 ||
		    want_op(p, &e->op) < 0 || lex_want_count(&p->lx, &t, &e->value) < 0 ||
		    lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type == TOK_END)
			return 0;
		if (t.type != TOK_WORD || strcmp(t.text, "from") != 0)
			return lex_err(
				&p->lx, t.col,
				"unexpected %s after the count (expected \"from client\" or \"from server\", or nothing)",
				lex_show(&p->lx, &t).s);
		if (parser_want_who(p, &t, &e->who) < 0)
			return -1;
		e->has_who = true;
		*who_col = t.col;
		return 0;
	}
	return -1;
}

int parser_expect_line(struct parser *p, const struct token *kw)
{
	struct scenario *sc = p->sc;
	struct expectation e, *arr;
	int who_col = 0;

	memset(&e, 0, sizeof(e));
	e.line = p->lx.line_no;
	e.col = kw->col;
	e.op = OP_EQ;
	if (sc->n_expects >= MAX_ITEMS)
		return lex_err(&p->lx, kw->col, "too many expectations (at most %d)", MAX_ITEMS);
	if (parse_expect_body(p, &e, &who_col) < 0 || lex_want_end(&p->lx) < 0)
		goto fail;
	if (who_col != 0 && e.who == WHO_SERVER &&
	    parser_defer(p, who_col, DEFER_SERVER_EXPECT, 0) < 0)
		goto fail;
	e.source = strndup(p->lx.line + kw->start, p->lx.last_end - kw->start);
	arr = parser_grow(sc->expects, &p->cap_expects, sc->n_expects, sizeof(*arr));
	if (e.source == NULL || arr == NULL) {
		lex_out_of_memory(&p->lx);
		goto fail;
	}
	sc->expects = arr;
	sc->expects[sc->n_expects++] = e;
	return 0;
fail:
	free(e.text);
	free(e.source);
	return -1;
}
