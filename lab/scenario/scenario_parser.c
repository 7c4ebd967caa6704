/* scenario_parser: the parser's helpers and the language's word tables, shared by
 * the directive grammars (scenario.c, scenario_fault.c, scenario_expect.c). A leaf
 * of the scenario library: it depends on the lexer only. */
#include "lab/scenario/scenario_parser.h"

#include <stdlib.h>

const char *const scenario_who_words[2] = { "client", "server" };
const char *const scenario_op_words[6] = { "==", "!=", "<", "<=", ">", ">=" };
const char *const scenario_outcome_words[4] = { "completed", "deadlock", "timeout", "hang" };
const char *const scenario_handshake_words[4] = { "complete", "refused", "unanswered", "none" };
const char *const scenario_analysis_flag_words[SCENARIO_ANALYSIS_FLAGS] = {
	"retransmission",	 "fast_retransmission",	  "spurious_retransmission",
	"out_of_order",		 "lost_segment",	  "ack_lost_segment",
	"duplicate_ack",	 "zero_window",		  "zero_window_probe",
	"zero_window_probe_ack", "window_full",		  "window_update",
	"keep_alive",		 "keep_alive_ack",	  "reused_ports",
};

const char *const scenario_teardown_words[3] = { "fin", "reset", "none" };
const char *const scenario_link_drop_words[LINK_DROP_KINDS] = { "down",  "mtu",   "drop",
								"loss",  "queue", "overflow" };

int parser_want_who(struct parser *p, struct token *t, enum scenario_who *who)
{
	int i;

	if (lex_want_keyword(&p->lx, t, "program", scenario_who_words, 2, &i) < 0)
		return -1;
	*who = i == 0 ? WHO_CLIENT : WHO_SERVER;
	return 0;
}

int parser_defer(struct parser *p, int col, enum deferred_kind kind, int64_t value_us)
{
	if (p->n_deferred == p->cap_deferred) {
		size_t cap = p->cap_deferred ? 2 * p->cap_deferred : 16;
		struct deferred *d = realloc(p->deferred, cap * sizeof(*d));

		if (d == NULL)
			return lex_out_of_memory(&p->lx);
		p->deferred = d;
		p->cap_deferred = cap;
	}
	p->deferred[p->n_deferred++] = (struct deferred){
		.line = p->lx.line_no, .col = col, .kind = kind, .value_us = value_us
	};
	return 0;
}

/* Makes room for one more element in a growing array of at most MAX_ITEMS. */
void *parser_grow(void *arr, size_t *cap, size_t n, size_t elem_size)
{
	size_t new_cap;
	void *grown;

	if (n < *cap)
		return arr;
	new_cap = *cap ? 2 * *cap : 8;
	if (new_cap > MAX_ITEMS)
		new_cap = MAX_ITEMS;
	grown = realloc(arr, new_cap * elem_size);
	if (grown != NULL)
		*cap = new_cap;
	return grown;
}

const char *const scenario_explore_words[EXPLORE_KINDS] = {
	"send-max", "recv-max", "eintr", "eagain", "send-delay", "recv-delay",
};

const char *const scenario_explore_link_words[EXPLORE_LINK_KINDS] = {
	"loss", "reorder", "duplicate", "delay",
};
