/* scenario_lex: the tokenizer and value readers of the scenario parser, private to
 * the scenario library (its .c files are the only users). Splits one line into words
 * and strings with their columns; reads durations, sizes, counts and keywords;
 * formats "FILE:LINE:COL: message" errors with "did you mean" suggestions. */
#ifndef TCPLAB_SCENARIO_LEX_H
#define TCPLAB_SCENARIO_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"

enum { LEX_MAX_LINE_BYTES = 4096 };

static const int64_t LEX_US_PER_MS = 1000;
static const int64_t LEX_US_PER_S = 1000 * 1000;
static const int64_t LEX_US_PER_MIN = 60LL * 1000 * 1000;
static const int64_t LEX_US_PER_HOUR = 3600LL * 1000 * 1000;

enum token_type { TOK_END, TOK_WORD, TOK_STRING };

struct token {
	enum token_type type;
	int col;
	size_t start, end; /* byte offsets of the raw text within the line */
	const char *text;  /* the word, or the string without quotes and escapes */
};

/* The tokenizer's state: where in which file, and the current line. */
struct lex {
	const char *path;
	struct lab_err *err;
	int line_no;
	const char *line; /* the current line, without its end-of-line bytes */
	size_t line_len;
	size_t pos;                              /* the tokenizer's position within the line */
	size_t last_end;                         /* where the last token read ends */
	struct token prev;                       /* the last token read, for "expected X after Y" */
	char arena[2 * LEX_MAX_LINE_BYTES + 64]; /* token texts of the current line */
	size_t arena_used;
};

/* Makes line (len bytes, without "\n"; a final "\r" is dropped) the next line. */
void lex_start_line(struct lex *lx, const char *line, size_t len);

/* Rejects overlong lines, NUL and control bytes, invalid UTF-8. */
int lex_check_line(struct lex *lx);

/* "PATH:LINE:COL: message" into lx->err; returns -1. */
int lex_err(struct lex *lx, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int lex_out_of_memory(struct lex *lx);

/* Column (1-based, in characters) of a byte offset in the current line. */
int lex_col_at(const struct lex *lx, size_t off);

/* A token as written, in quotes, shortened for messages. */
struct shown {
	char s[112];
};
struct shown lex_show(const struct lex *lx, const struct token *t);

/* "2s", "250ms", "1m", "7us": the largest unit that divides exactly. */
void lex_format_duration(int64_t us, char *buf, size_t size);

/* The choice closest to word (same letters in another case, or a few edits
 * away), NULL when none is; the index of word among choices, or -1. */
const char *lex_suggest(const char *word, const char *const *choices, size_t n);
int lex_find_word(const char *word, const char *const *choices, size_t n);

/* "unknown NOUN "X" (did you mean "Y"?)", else "(HINT)", else "(expected a, b or c)". */
int lex_unknown_word(struct lex *lx, const struct token *t, const char *noun,
		     const char *const *choices, size_t n, const char *hint);

bool lex_is_blank(char c);

/* Reads the next token; TOK_END (at the column just after the last token) at
 * the end of the line or at a comment. */
int lex_next(struct lex *lx, struct token *t);

/* The next token, which must be there ("expected WHAT after X" otherwise). */
int lex_want(struct lex *lx, struct token *t, const char *what);
int lex_want_word(struct lex *lx, struct token *t, const char *what);
int lex_want_string(struct lex *lx, struct token *t, const char *what);
/* No token may follow ("unexpected X after a complete directive"). */
int lex_want_end(struct lex *lx);
/* A word among choices; *index is its position. */
int lex_want_keyword(struct lex *lx, struct token *t, const char *noun, const char *const *choices,
		     size_t n, int *index);
/* Exactly the word `word` ("from", "at"). */
int lex_want_exact(struct lex *lx, const char *word);

/* Values of a token; noun names it in messages ("port", "count"). */
int lex_parse_int(struct lex *lx, const struct token *t, const char *noun, int64_t min, int64_t max,
		  int64_t *value);
int lex_parse_duration(struct lex *lx, const struct token *t, int64_t *us);
int lex_parse_size(struct lex *lx, const struct token *t, int64_t *bytes);

/* The next token as a duration, a size, a count (whole number >= 0). */
int lex_want_duration(struct lex *lx, struct token *t, int64_t *us);
int lex_want_size(struct lex *lx, struct token *t, int64_t *bytes);
int lex_want_count(struct lex *lx, struct token *t, int64_t *n);

#endif
