/* scenario_parser: the parser's state and the helpers shared by the files of the
 * scenario library, private to it like scenario_lex.h (defined in
 * scenario_parser.c, a leaf): scenario.c reads the file, its settings and programs
 * and runs the checks at the end; scenario_fault.c parses `fault` lines;
 * scenario_expect.c parses `expect` lines. */
#ifndef TCPLAB_SCENARIO_PARSER_H
#define TCPLAB_SCENARIO_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "lab/scenario/scenario.h"
#include "lab/scenario/scenario_lex.h"

enum {
	MAX_ITEMS = 1000, /* faults, expectations, sysctls: each */
};

/* Checks that can only be made once the whole file is read. */
enum deferred_kind {
	DEFER_SERVER_FAULT,
	DEFER_SERVER_EXPLORE,
	DEFER_LINK_EXPLORE, /* `explore link` needs a link line */
	DEFER_SERVER_EXPECT,
	DEFER_PAUSE_AT,
	DEFER_PAUSE_FOR,
	DEFER_KILL_AT,
	DEFER_DEADLOCK_WITHIN,
	DEFER_LINK_DOWN_AT,
	DEFER_LINK_EXPECT,
};

struct deferred {
	int line;
	int col;
	enum deferred_kind kind;
	int64_t value_us;
};

struct parser {
	struct lex lx;
	struct scenario *sc;
	int scenario_line, timeout_line, quiet_line, port_line, host_line, hang_line, capture_line;
	int link_filter_col[2][SCENARIO_LINK_MAX_FILTERS]; /* where each filter is written */
	struct deferred *deferred;
	size_t n_deferred, cap_deferred;
	size_t cap_faults, cap_expects, cap_sysctls;
};

/* Words of the language that both the expectations' grammar and the name
 * helpers (scenario_op_text, scenario_outcome_name ...) use. */
/* The words of the enums in scenario.h, in enum order: parsed by the expect
 * grammar, named by scenario.c's public helpers. Defined once, in scenario_parser.c. */
extern const char *const scenario_who_words[2];
extern const char *const scenario_op_words[6];
extern const char *const scenario_outcome_words[4];
extern const char *const scenario_handshake_words[4];
extern const char *const scenario_teardown_words[3];
extern const char *const scenario_link_drop_words[LINK_DROP_KINDS];

/* "client" or "server" as the next token, which t receives. */
int parser_want_who(struct parser *p, struct token *t, enum scenario_who *who);

/* Queues a check for the end of the file (see struct deferred), reported at
 * column col of the current line. */
int parser_defer(struct parser *p, int col, enum deferred_kind kind, int64_t value_us);

/* Makes room for one more element in a growing array of at most MAX_ITEMS. */
void *parser_grow(void *arr, size_t *cap, size_t n, size_t elem_size);

#endif
