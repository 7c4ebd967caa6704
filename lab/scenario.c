/* scenario: the hand-written parser of scenario files (see scenario.h and
 * docs/scenario-language.md). Each line is checked (length, bytes), then split
 * into tokens by a small tokenizer that knows its columns; each directive has
 * its own function. Checks that need the whole file (is there a server line?
 * what is the timeout?) are queued and run at the end, where $PORT and $HOST in
 * packet filters are expanded too. */
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAX_LINE_BYTES = 4096,
	MAX_ITEMS = 1000, /* faults, expectations, sysctls: each */
	MAX_FILE_BYTES = 16 << 20,
};

static const int64_t US_PER_MS = 1000;
static const int64_t US_PER_S = 1000 * 1000;
static const int64_t US_PER_MIN = 60LL * 1000 * 1000;
static const int64_t US_PER_HOUR = 3600LL * 1000 * 1000;

enum token_type { TOK_END, TOK_WORD, TOK_STRING };

struct token {
	enum token_type type;
	int col;
	size_t start, end; /* byte offsets of the raw text within the line */
	const char *text;  /* the word, or the string without quotes and escapes */
};

/* Checks that can only be made once the whole file is read. */
enum deferred_kind {
	DEFER_SERVER_FAULT,
	DEFER_SERVER_EXPECT,
	DEFER_PAUSE_AT,
	DEFER_PAUSE_FOR,
	DEFER_KILL_AT,
	DEFER_DEADLOCK_WITHIN,
};

struct deferred {
	int line;
	int col;
	enum deferred_kind kind;
	int64_t value_us;
};

struct parser {
	const char *path;
	struct lab_err *err;
	struct scenario *sc;
	int line_no;
	const char *line; /* the current line, without its end-of-line bytes */
	size_t line_len;
	size_t pos;      /* the tokenizer's position within the line */
	size_t last_end; /* where the last token read ends */
	struct token prev;
	char arena[2 * MAX_LINE_BYTES + 64]; /* token texts of the current line */
	size_t arena_used;
	int scenario_line, timeout_line, quiet_line, port_line, host_line;
	struct deferred *deferred;
	size_t n_deferred, cap_deferred;
	size_t cap_faults, cap_expects, cap_sysctls;
};

/* ---- errors ------------------------------------------------------------------ */

static int perr(struct parser *p, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, int col, const char *fmt, ...)
{
	va_list ap;
	int used;

	if (p->err == NULL)
		return -1;
	used = snprintf(p->err->msg, sizeof(p->err->msg), "%s:%d:%d: ", p->path,
			p->line_no, col);
	if (used < 0 || (size_t)used >= sizeof(p->err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err->msg + used, sizeof(p->err->msg) - (size_t)used, fmt, ap);
	va_end(ap);
	return -1;
}

static int out_of_memory(struct parser *p)
{
	return lab_err_set(p->err, "%s: out of memory", p->path);
}

/* Column (1-based, in characters) of a byte offset in the current line. */
static int col_at(const struct parser *p, size_t off)
{
	int col = 1;

	for (size_t i = 0; i < off && i < p->line_len; i++)
		if (((unsigned char)p->line[i] & 0xC0) != 0x80)
			col++;
	return col;
}

/* A token as the user wrote it, quoted, shortened for messages. */
struct shown {
	char s[112];
};

static struct shown show(const struct parser *p, const struct token *t)
{
	struct shown out;
	size_t len = t->end - t->start;
	const char *raw = p->line + t->start;
	bool cut = len > 80;

	if (cut) {
		len = 80;
		while (len > 0 && ((unsigned char)raw[len] & 0xC0) == 0x80)
			len--;
	}
	if (t->type == TOK_STRING)
		snprintf(out.s, sizeof(out.s), "%.*s%s", (int)len, raw, cut ? "...\"" : "");
	else
		snprintf(out.s, sizeof(out.s), "\"%.*s%s\"", (int)len, raw, cut ? "..." : "");
	return out;
}

static void format_duration(int64_t us, char *buf, size_t size)
{
	if (us != 0 && us % US_PER_MIN == 0)
		snprintf(buf, size, "%lldm", (long long)(us / US_PER_MIN));
	else if (us != 0 && us % US_PER_S == 0)
		snprintf(buf, size, "%llds", (long long)(us / US_PER_S));
	else if (us != 0 && us % US_PER_MS == 0)
		snprintf(buf, size, "%lldms", (long long)(us / US_PER_MS));
	else
		snprintf(buf, size, "%lldus", (long long)us);
}

/* ---- suggestions ------------------------------------------------------------- */

/* Edits (insert, delete, substitute, swap two neighbours) that turn a into b. */
static size_t edit_distance(const char *a, const char *b)
{
	unsigned char d[72][64];
	size_t la = strlen(a), lb = strlen(b);

	if (lb >= 64 || la > lb + 8 || la >= 72)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1u < best)
				best = d[i - 1][j] + 1u;
			if (d[i][j - 1] + 1u < best)
				best = d[i][j - 1] + 1u;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1u < best)
				best = d[i - 2][j - 2] + 1u;
			d[i][j] = (unsigned char)best;
		}
	}
	return d[la][lb];
}

/* The choice closest to word: same letters in another case, or within an edit
 * distance of 2 (1 for words of up to three letters); NULL when none is. */
static const char *suggest(const char *word, const char *const *choices, size_t n)
{
	size_t len = strlen(word);
	size_t limit = len / 2 < 1 ? 1 : (len / 2 < 2 ? len / 2 : 2);
	const char *best = NULL;
	size_t best_d = limit + 1;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(word, choices[i]) == 0)
			return choices[i];
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, choices[i]);

		if (d < best_d) {
			best_d = d;
			best = choices[i];
		}
	}
	return best;
}

/* "a, b or c" */
static void join_choices(const char *const *choices, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		const char *sep = i == 0 ? "" : (i + 1 == n ? " or " : ", ");
		int w = snprintf(buf + used, size - used, "%s%s", sep, choices[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static int find_word(const char *word, const char *const *choices, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, choices[i]) == 0)
			return (int)i;
	return -1;
}

/* "unknown NOUN "X" (did you mean "Y"?)", or with hint (or the list of choices). */
static int unknown_word(struct parser *p, const struct token *t, const char *noun,
			const char *const *choices, size_t n, const char *hint)
{
	const char *near = suggest(t->text, choices, n);
	char list[512];

	if (near != NULL)
		return perr(p, t->col, "unknown %s %s (did you mean \"%s\"?)", noun,
			    show(p, t).s, near);
	if (hint != NULL)
		return perr(p, t->col, "unknown %s %s (%s)", noun, show(p, t).s, hint);
	join_choices(choices, n, list, sizeof(list));
	return perr(p, t->col, "unknown %s %s (expected %s)", noun, show(p, t).s, list);
}

/* ---- lines and tokens -------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		need = 2;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		need = 3;
		if (s[0] == 0xE0)
			lo = 0xA0; /* no overlong forms */
		if (s[0] == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		need = 4;
		if (s[0] == 0xF0)
			lo = 0x90;
		if (s[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (len < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

/* Rejects what no scenario line holds: overlong lines, NUL and control bytes,
 * invalid UTF-8. */
static int check_line(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->line;

	if (p->line_len > MAX_LINE_BYTES)
		return perr(p, col_at(p, MAX_LINE_BYTES),
			    "line too long (%zu bytes; at most %d)", p->line_len,
			    MAX_LINE_BYTES);
	for (size_t i = 0; i < p->line_len;) {
		size_t n;

		if (s[i] == '\0')
			return perr(p, col_at(p, i), "NUL byte (is this a text file?)");
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
			return perr(p, col_at(p, i), "control character 0x%02X", s[i]);
		n = utf8_len(s + i, p->line_len - i);
		if (n == 0)
			return perr(p, col_at(p, i), "invalid UTF-8");
		i += n;
	}
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->line_len && is_blank(p->line[p->pos]))
		p->pos++;
}

static int read_string(struct parser *p, struct token *t, char *out)
{
	size_t pos = t->start + 1;
	size_t n = 0;

	for (;;) {
		char c;

		if (pos >= p->line_len)
			return perr(p, t->col, "unterminated string");
		c = p->line[pos];
		if (c == '"')
			break;
		if (c == '\\') {
			char e;

			if (pos + 1 >= p->line_len)
				return perr(p, t->col, "unterminated string");
			e = p->line[pos + 1];
			if (e == '"' || e == '\\') {
				out[n++] = e;
			} else if (e == 'n') {
				out[n++] = '\n';
			} else if (e == 't') {
				out[n++] = '\t';
			} else {
				size_t len = utf8_len((const unsigned char *)p->line + pos + 1,
						      p->line_len - pos - 1);

				return perr(p, col_at(p, pos),
					    "unknown escape \"\\%.*s\" in string (use \\\", \\\\, \\n or \\t)",
					    (int)len, p->line + pos + 1);
			}
			pos += 2;
			continue;
		}
		out[n++] = c;
		pos++;
	}
	out[n] = '\0';
	t->end = pos + 1;
	if (t->end < p->line_len && !is_blank(p->line[t->end]) && p->line[t->end] != '#')
		return perr(p, col_at(p, t->end), "expected a space after the closing quote");
	return 0;
}

/* Reads the next token; TOK_END (at the column just after the last token) at
 * the end of the line or at a comment. */
static int next_token(struct parser *p, struct token *t)
{
	char *out = p->arena + p->arena_used;

	skip_blanks(p);
	memset(t, 0, sizeof(*t));
	t->start = t->end = p->pos;
	if (p->pos >= p->line_len || p->line[p->pos] == '#') {
		t->type = TOK_END;
		t->col = col_at(p, p->last_end);
		t->text = "";
		return 0;
	}
	if (p->arena_used + (p->line_len - p->pos) + 1 > sizeof(p->arena))
		return perr(p, col_at(p, p->pos), "line too complex");
	t->col = col_at(p, p->pos);
	if (p->line[p->pos] == '"') {
		t->type = TOK_STRING;
		if (read_string(p, t, out) < 0)
			return -1;
	} else {
		size_t end = p->pos;

		t->type = TOK_WORD;
		while (end < p->line_len && !is_blank(p->line[end]) && p->line[end] != '#' &&
		       p->line[end] != '"')
			end++;
		if (end < p->line_len && p->line[end] == '"')
			return perr(p, col_at(p, end), "expected a space before the quote");
		memcpy(out, p->line + p->pos, end - p->pos);
		out[end - p->pos] = '\0';
		t->end = end;
	}
	t->text = out;
	p->arena_used += strlen(out) + 1;
	p->pos = p->last_end = t->end;
	p->prev = *t;
	return 0;
}

/* The next token, which must exist; what names it in "expected WHAT after X". */
static int want(struct parser *p, struct token *t, const char *what)
{
	if (next_token(p, t) < 0)
		return -1;
	if (t->type == TOK_END)
		return perr(p, t->col, "expected %s after %s", what, show(p, &p->prev).s);
	return 0;
}

static int want_word(struct parser *p, struct token *t, const char *what)
{
	if (want(p, t, what) < 0)
		return -1;
	if (t->type == TOK_STRING)
		return perr(p, t->col, "expected %s, not a quoted string", what);
	return 0;
}

static int want_string(struct parser *p, struct token *t, const char *what)
{
	if (want(p, t, what) < 0)
		return -1;
	if (t->type == TOK_WORD)
		return perr(p, t->col, "%s must be in double quotes", what);
	return 0;
}

static int want_end(struct parser *p)
{
	struct token t;

	if (next_token(p, &t) < 0)
		return -1;
	if (t.type != TOK_END)
		return perr(p, t.col, "unexpected %s after a complete directive", show(p, &t).s);
	return 0;
}

/* A word among choices; *index is its position. */
static int want_keyword(struct parser *p, struct token *t, const char *noun,
			const char *const *choices, size_t n, int *index)
{
	char list[512];

	join_choices(choices, n, list, sizeof(list));
	if (want_word(p, t, list) < 0)
		return -1;
	*index = find_word(t->text, choices, n);
	if (*index < 0)
		return unknown_word(p, t, noun, choices, n, NULL);
	return 0;
}

/* ---- values ------------------------------------------------------------------ */

enum num_status { NUM_OK, NUM_NONE, NUM_NEGATIVE, NUM_OVERFLOW, NUM_FRACTION };

/* Leading decimal digits of s; *rest points after them. */
static enum num_status parse_digits(const char *s, int64_t *value, const char **rest)
{
	int64_t v = 0;
	const char *c = s;

	if (c[0] == '-' && c[1] >= '0' && c[1] <= '9')
		return NUM_NEGATIVE;
	if (*c < '0' || *c > '9')
		return NUM_NONE;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (v > (INT64_MAX - (*c - '0')) / 10)
			return NUM_OVERFLOW;
		v = v * 10 + (*c - '0');
	}
	if (c[0] == '.' && c[1] >= '0' && c[1] <= '9')
		return NUM_FRACTION;
	*value = v;
	*rest = c;
	return NUM_OK;
}

/* A whole number from min to max; noun names it in messages ("port"). */
static int parse_int(struct parser *p, const struct token *t, const char *noun,
		     int64_t min, int64_t max, int64_t *value)
{
	const char *rest = "";
	enum num_status st = parse_digits(t->text, value, &rest);

	if (st == NUM_NEGATIVE && min >= 0)
		return perr(p, t->col, "bad %s %s: it cannot be negative", noun, show(p, t).s);
	if (st == NUM_OK && *rest == '\0' && *value >= min && *value <= max)
		return 0;
	if (max == INT64_MAX && st == NUM_OVERFLOW)
		return perr(p, t->col, "bad %s %s: too large", noun, show(p, t).s);
	if (max == INT64_MAX && min == 0)
		return perr(p, t->col, "bad %s %s: expected a whole number", noun, show(p, t).s);
	if (max == INT64_MAX)
		return perr(p, t->col, "bad %s %s: expected a whole number of at least %lld",
			    noun, show(p, t).s, (long long)min);
	return perr(p, t->col, "bad %s %s: expected a whole number from %lld to %lld", noun,
		    show(p, t).s, (long long)min, (long long)max);
}

struct unit {
	const char *name;
	int64_t factor;
};

static const struct unit duration_units[] = {
	{ "us", 1 }, { "ms", 1000 }, { "s", 1000 * 1000 }, { "m", 60LL * 1000 * 1000 },
};

static const struct unit size_units[] = {
	{ "", 1 },
	{ "B", 1 },
	{ "KiB", 1LL << 10 },
	{ "MiB", 1LL << 20 },
	{ "GiB", 1LL << 30 },
	{ "TiB", 1LL << 40 },
	{ "KB", 1000LL },
	{ "kB", 1000LL },
	{ "MB", 1000LL * 1000 },
	{ "GB", 1000LL * 1000 * 1000 },
	{ "TB", 1000LL * 1000 * 1000 * 1000 },
};

static const struct unit *find_unit(const struct unit *units, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(units[i].name, name) == 0)
			return &units[i];
	return NULL;
}

/* A duration: whole number and unit (us, ms, s, m), in microseconds. */
static int parse_duration(struct parser *p, const struct token *t, int64_t *us)
{
	const char *rest = "";
	int64_t n = 0;
	const struct unit *u;
	struct shown s = show(p, t);

	switch (parse_digits(t->text, &n, &rest)) {
	case NUM_NONE:
		return perr(p, t->col, "bad duration %s: expected a number and a unit, e.g. 250ms or 2s", s.s);
	case NUM_NEGATIVE:
		return perr(p, t->col, "bad duration %s: a duration cannot be negative", s.s);
	case NUM_OVERFLOW:
		return perr(p, t->col, "bad duration %s: too large", s.s);
	case NUM_FRACTION:
		return perr(p, t->col, "bad duration %s: use a whole number with a smaller unit (e.g. 1500ms, not 1.5s)", s.s);
	case NUM_OK:
		break;
	}
	if (*rest == '\0')
		return perr(p, t->col, "bad duration %s: a duration needs a unit (us, ms, s, m)", s.s);
	u = find_unit(duration_units, sizeof(duration_units) / sizeof(duration_units[0]), rest);
	if (u == NULL)
		return perr(p, t->col, "bad duration %s: unknown unit \"%s\" (use us, ms, s or m)", s.s, rest);
	if (n > INT64_MAX / u->factor)
		return perr(p, t->col, "bad duration %s: too large", s.s);
	*us = n * u->factor;
	return 0;
}

/* A size: whole number of bytes with an optional unit (KiB... or KB...). */
static int parse_size(struct parser *p, const struct token *t, int64_t *bytes)
{
	const char *rest = "";
	int64_t n = 0;
	const struct unit *u;
	struct shown s = show(p, t);

	switch (parse_digits(t->text, &n, &rest)) {
	case NUM_NONE:
		return perr(p, t->col, "bad size %s: expected a number of bytes, e.g. 16, 64KiB or 1MiB", s.s);
	case NUM_NEGATIVE:
		return perr(p, t->col, "bad size %s: a size cannot be negative", s.s);
	case NUM_OVERFLOW:
		return perr(p, t->col, "bad size %s: too large", s.s);
	case NUM_FRACTION:
		return perr(p, t->col, "bad size %s: use a whole number with a smaller unit (e.g. 1536KiB, not 1.5MiB)", s.s);
	case NUM_OK:
		break;
	}
	u = find_unit(size_units, sizeof(size_units) / sizeof(size_units[0]), rest);
	if (u == NULL)
		return perr(p, t->col,
			    "bad size %s: unknown unit \"%s\" (use B, KiB, MiB, GiB, TiB for powers of 1024 or KB, MB, GB, TB for powers of 1000)",
			    s.s, rest);
	if (n > INT64_MAX / u->factor)
		return perr(p, t->col, "bad size %s: too large", s.s);
	*bytes = n * u->factor;
	return 0;
}

static int want_duration(struct parser *p, struct token *t, int64_t *us)
{
	if (want_word(p, t, "a duration") < 0)
		return -1;
	return parse_duration(p, t, us);
}

static int want_size(struct parser *p, struct token *t, int64_t *bytes)
{
	if (want_word(p, t, "a size") < 0)
		return -1;
	return parse_size(p, t, bytes);
}

static int want_count(struct parser *p, struct token *t, int64_t *n)
{
	if (want_word(p, t, "a count") < 0)
		return -1;
	return parse_int(p, t, "count", 0, INT64_MAX, n);
}

static const char *const op_words[] = { "==", "!=", "<", "<=", ">", ">=" };

static int want_op(struct parser *p, enum scenario_op *op)
{
	struct token t;
	int i;

	if (want_keyword(p, &t, "operator", op_words, 6, &i) < 0)
		return -1;
	*op = (enum scenario_op)i;
	return 0;
}

static const char *const who_words[] = { "client", "server" };

static int want_who(struct parser *p, struct token *t, enum scenario_who *who)
{
	int i;

	if (want_keyword(p, t, "program", who_words, 2, &i) < 0)
		return -1;
	*who = i == 0 ? WHO_CLIENT : WHO_SERVER;
	return 0;
}

/* Requires the word `word` next (e.g. "from", "at"). */
static int want_exact(struct parser *p, const char *word)
{
	struct token t;
	int i;

	return want_keyword(p, &t, "word", &word, 1, &i);
}

static int defer(struct parser *p, int col, enum deferred_kind kind, int64_t value_us)
{
	if (p->n_deferred == p->cap_deferred) {
		size_t cap = p->cap_deferred ? 2 * p->cap_deferred : 16;
		struct deferred *d = realloc(p->deferred, cap * sizeof(*d));

		if (d == NULL)
			return out_of_memory(p);
		p->deferred = d;
		p->cap_deferred = cap;
	}
	p->deferred[p->n_deferred++] = (struct deferred){
		.line = p->line_no, .col = col, .kind = kind, .value_us = value_us
	};
	return 0;
}

/* Makes room for one more element in a growing array of at most MAX_ITEMS. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem_size)
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

/* ---- settings ---------------------------------------------------------------- */

static int check_duplicate(struct parser *p, const struct token *kw, int *first_line)
{
	if (*first_line != 0)
		return perr(p, kw->col, "duplicate \"%s\" (first set on line %d)", kw->text,
			    *first_line);
	*first_line = p->line_no;
	return 0;
}

static int parse_summary(struct parser *p, const struct token *kw)
{
	struct token t;

	if (check_duplicate(p, kw, &p->scenario_line) < 0 ||
	    want_string(p, &t, "the summary") < 0)
		return -1;
	if (t.text[0] == '\0')
		return perr(p, t.col, "empty summary: say in a few words what the case shows");
	if (strchr(t.text, '\n') != NULL)
		return perr(p, t.col, "the summary must be one line (no \\n)");
	if (want_end(p) < 0)
		return -1;
	p->sc->summary = strdup(t.text);
	return p->sc->summary == NULL ? out_of_memory(p) : 0;
}

/* timeout and quiet: more than 0, at most an hour. */
static int parse_limit(struct parser *p, const struct token *kw, int *first_line,
		       int64_t *us)
{
	struct token t;
	int64_t v;

	if (check_duplicate(p, kw, first_line) < 0 || want_duration(p, &t, &v) < 0)
		return -1;
	if (v == 0)
		return perr(p, t.col, "bad %s %s: it must be more than 0", kw->text, show(p, &t).s);
	if (v > US_PER_HOUR)
		return perr(p, t.col, "bad %s %s: it must be at most 1h (60m)", kw->text,
			    show(p, &t).s);
	if (want_end(p) < 0)
		return -1;
	*us = v;
	return 0;
}

static int parse_port(struct parser *p, const struct token *kw)
{
	struct token t;
	int64_t v;

	if (check_duplicate(p, kw, &p->port_line) < 0 || want_word(p, &t, "a port number") < 0 ||
	    parse_int(p, &t, "port", 1, 65535, &v) < 0 || want_end(p) < 0)
		return -1;
	p->sc->port = (int)v;
	return 0;
}

static int parse_host(struct parser *p, const struct token *kw)
{
	struct token t;
	struct in_addr a4;
	struct in6_addr a6;
	bool ok = false;

	if (check_duplicate(p, kw, &p->host_line) < 0 || want_word(p, &t, "an address") < 0)
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
		return perr(p, t.col,
			    "bad host %s: the lab runs on loopback only (use 127.x.x.x or ::1)",
			    show(p, &t).s);
	return want_end(p);
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

	if (want_word(p, &name, "a sysctl name (net.…)") < 0)
		return -1;
	if (strncmp(name.text, "net.", 4) != 0)
		return perr(p, name.col,
			    "sysctl %s is not allowed: only net.* sysctls belong to the lab's network namespace",
			    show(p, &name).s);
	if (!sysctl_name_ok(name.text))
		return perr(p, name.col,
			    "bad sysctl name %s: use letters, digits, _ and - between single dots",
			    show(p, &name).s);
	if (want(p, &value, "a value") < 0)
		return -1;
	if (value.text[0] == '\0')
		return perr(p, value.col, "empty sysctl value");
	if (want_end(p) < 0)
		return -1;
	for (size_t i = 0; i < sc->n_sysctls; i++)
		if (strcmp(sc->sysctls[i].name, name.text) == 0)
			return perr(p, name.col, "duplicate sysctl %s (first set on line %d)",
				    show(p, &name).s, sc->sysctls[i].line);
	if (sc->n_sysctls >= MAX_ITEMS)
		return perr(p, kw->col, "too many sysctl lines (at most %d)", MAX_ITEMS);
	s = grow(sc->sysctls, &p->cap_sysctls, sc->n_sysctls, sizeof(*s));
	if (s == NULL)
		return out_of_memory(p);
	sc->sysctls = s;
	s = &sc->sysctls[sc->n_sysctls];
	s->line = p->line_no;
	s->name = strdup(name.text);
	s->value = strdup(value.text);
	sc->n_sysctls++; /* counted even when strdup failed, so scenario_free frees */
	if (s->name == NULL || s->value == NULL)
		return out_of_memory(p);
	return 0;
}

/* server/client: the rest of the line is the command, verbatim but trimmed. */
static int parse_program(struct parser *p, const struct token *kw,
			 struct scenario_program *prog)
{
	size_t start = kw->end, end = p->line_len;

	if (prog->line != 0)
		return perr(p, kw->col, "duplicate \"%s\" (first set on line %d)", kw->text,
			    prog->line);
	while (start < end && is_blank(p->line[start]))
		start++;
	while (end > start && is_blank(p->line[end - 1]))
		end--;
	if (start == end)
		return perr(p, col_at(p, kw->end), "expected a command after \"%s\"", kw->text);
	if (p->line[start] == '#')
		return perr(p, col_at(p, start),
			    "the command starts with \"#\": comments are not allowed on %s lines",
			    kw->text);
	prog->command = strndup(p->line + start, end - start);
	if (prog->command == NULL)
		return out_of_memory(p);
	prog->line = p->line_no;
	return 0;
}

/* ---- faults ------------------------------------------------------------------ */

static const char *const call_words[] = {
	"send",  "recv",    "write",   "read",   "connect", "accept",
	"sendmsg", "recvmsg", "writev", "readv", "sendto",  "recvfrom",
};

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

	if (want_word(p, &t, "an errno name (e.g. EINTR)") < 0)
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
	return unknown_word(p, &t, "errno name", names, n,
			    "expected a name such as EINTR, EAGAIN or ECONNRESET");
}

enum fault_word { FW_SEND, FW_RECV, FW_ERROR, FW_BUFFERS, FW_RESET, FW_PAUSE, FW_KILL };

static const char *const fault_words[] = { "send",  "recv",  "error", "buffers",
					   "reset", "pause", "kill" };

static int parse_fault_error(struct parser *p, struct fault *f)
{
	static const char *const when_words[] = { "once", "every", "after" };
	struct token t;
	int i;

	f->kind = FAULT_ERROR;
	if (want_keyword(p, &t, "call", call_words, sizeof(call_words) / sizeof(call_words[0]),
			 &i) < 0)
		return -1;
	snprintf(f->call, sizeof(f->call), "%s", call_words[i]);
	if (want_errno(p, &f->errno_value) < 0 || next_token(p, &t) < 0)
		return -1;
	if (t.type == TOK_END) {
		f->when = WHEN_ALWAYS;
		return 0;
	}
	i = t.type == TOK_WORD ? find_word(t.text, when_words, 3) : -1;
	if (i < 0)
		return unknown_word(p, &t, "condition", when_words, 3, NULL);
	if (i == 0) {
		f->when = WHEN_ONCE;
	} else if (i == 1) {
		f->when = WHEN_EVERY;
		if (want_word(p, &t, "a count") < 0 ||
		    parse_int(p, &t, "count", 1, INT64_MAX, &f->when_n) < 0)
			return -1;
	} else {
		f->when = WHEN_AFTER;
		if (want_size(p, &t, &f->when_n) < 0)
			return -1;
	}
	return want_end(p);
}

static int parse_fault_buffers(struct parser *p, struct fault *f)
{
	static const char *const buf_words[] = { "rcv", "snd" };
	struct token t;

	f->kind = FAULT_BUFFERS;
	for (;;) {
		int64_t *slot;
		int i;

		if (next_token(p, &t) < 0)
			return -1;
		if (t.type == TOK_END) {
			if (f->rcvbuf_bytes == 0 && f->sndbuf_bytes == 0)
				return perr(p, t.col, "expected rcv or snd after \"buffers\"");
			return 0;
		}
		i = t.type == TOK_WORD ? find_word(t.text, buf_words, 2) : -1;
		if (i < 0)
			return unknown_word(p, &t, "buffer", buf_words, 2, NULL);
		slot = i == 0 ? &f->rcvbuf_bytes : &f->sndbuf_bytes;
		if (*slot != 0)
			return perr(p, t.col, "duplicate \"%s\" in buffers", t.text);
		if (want_size(p, &t, slot) < 0)
			return -1;
		if (*slot == 0 || *slot > INT_MAX)
			return perr(p, t.col, "bad buffer size %s: expected 1 to %d bytes",
				    show(p, &t).s, INT_MAX);
	}
}

static int parse_fault_kind(struct parser *p, struct fault *f)
{
	struct token t;
	int i;

	if (want_keyword(p, &t, "fault", fault_words, 7, &i) < 0)
		return -1;
	switch ((enum fault_word)i) {
	case FW_SEND:
	case FW_RECV: {
		static const char *const sub[] = { "max", "delay" };
		bool send = i == FW_SEND;

		if (want_keyword(p, &t, "fault", sub, 2, &i) < 0)
			return -1;
		if (i == 0) {
			f->kind = send ? FAULT_SEND_MAX : FAULT_RECV_MAX;
			if (want_size(p, &t, &f->bytes) < 0)
				return -1;
			if (f->bytes == 0)
				return perr(p, t.col, "bad size %s: at least 1 byte must move",
					    show(p, &t).s);
		} else {
			f->kind = send ? FAULT_SEND_DELAY : FAULT_RECV_DELAY;
			if (want_duration(p, &t, &f->delay_us) < 0)
				return -1;
		}
		return want_end(p);
	}
	case FW_ERROR:
		return parse_fault_error(p, f);
	case FW_BUFFERS:
		return parse_fault_buffers(p, f);
	case FW_RESET:
		f->kind = FAULT_RESET_AFTER;
		if (want_exact(p, "after") < 0 || want_size(p, &t, &f->bytes) < 0)
			return -1;
		return want_end(p);
	case FW_PAUSE:
		f->kind = FAULT_PAUSE;
		if (want_exact(p, "at") < 0 || want_duration(p, &t, &f->at_us) < 0 ||
		    defer(p, t.col, DEFER_PAUSE_AT, f->at_us) < 0)
			return -1;
		if (want_exact(p, "for") < 0 || want_duration(p, &t, &f->for_us) < 0)
			return -1;
		if (f->for_us == 0)
			return perr(p, t.col, "bad duration %s: a pause must last more than 0",
				    show(p, &t).s);
		if (defer(p, t.col, DEFER_PAUSE_FOR, f->for_us) < 0)
			return -1;
		return want_end(p);
	case FW_KILL:
		f->kind = FAULT_KILL;
		if (want_exact(p, "at") < 0 || want_duration(p, &t, &f->at_us) < 0 ||
		    defer(p, t.col, DEFER_KILL_AT, f->at_us) < 0)
			return -1;
		return want_end(p);
	}
	return -1;
}

static const char *fault_kind_words(enum fault_kind kind)
{
	switch (kind) {
	case FAULT_SEND_MAX: return "send max";
	case FAULT_RECV_MAX: return "recv max";
	case FAULT_SEND_DELAY: return "send delay";
	case FAULT_RECV_DELAY: return "recv delay";
	case FAULT_ERROR: return "error";
	case FAULT_BUFFERS: return "buffers";
	case FAULT_RESET_AFTER: return "reset after";
	case FAULT_PAUSE: return "pause";
	case FAULT_KILL: return "kill";
	}
	return "?";
}

static int parse_fault(struct parser *p, const struct token *kw)
{
	struct scenario *sc = p->sc;
	struct token who_tok;
	struct fault f, *arr;

	memset(&f, 0, sizeof(f));
	f.line = p->line_no;
	if (sc->n_faults >= MAX_ITEMS)
		return perr(p, kw->col, "too many faults (at most %d)", MAX_ITEMS);
	if (want_who(p, &who_tok, &f.who) < 0 || parse_fault_kind(p, &f) < 0)
		return -1;
	/* Faults that set one value per program cannot be given twice. */
	if (f.kind != FAULT_ERROR && f.kind != FAULT_PAUSE) {
		for (size_t i = 0; i < sc->n_faults; i++)
			if (sc->faults[i].who == f.who && sc->faults[i].kind == f.kind)
				return perr(p, kw->col,
					    "duplicate fault \"%s\" on %s (first set on line %d)",
					    fault_kind_words(f.kind), scenario_who_name(f.who),
					    sc->faults[i].line);
	}
	if (f.who == WHO_SERVER && defer(p, who_tok.col, DEFER_SERVER_FAULT, 0) < 0)
		return -1;
	arr = grow(sc->faults, &p->cap_faults, sc->n_faults, sizeof(*arr));
	if (arr == NULL)
		return out_of_memory(p);
	sc->faults = arr;
	sc->faults[sc->n_faults++] = f;
	return 0;
}

/* ---- expectations ------------------------------------------------------------ */

enum expect_word {
	EW_CLIENT, EW_SERVER, EW_OUTCOME, EW_DEADLOCK, EW_HANDSHAKE, EW_TEARDOWN,
	EW_PACKETS, EW_ZERO_WINDOW, EW_WINDOW_PROBES, EW_RETRANSMISSIONS, EW_BYTES,
	EW_SEGMENTS, EW_DURATION,
};

static const char *const expect_words[] = {
	"client",      "server",        "outcome",         "deadlock", "handshake",
	"teardown",    "packets",       "zero-window",     "window-probes",
	"retransmissions", "bytes",     "segments",        "duration",
};

static const char *const outcome_words[] = { "completed", "deadlock", "timeout" };
static const char *const handshake_words[] = { "complete", "refused", "unanswered", "none" };
static const char *const teardown_words[] = { "fin", "reset", "none" };

static int want_signal(struct parser *p, int64_t *value)
{
	struct token t;
	const char *names[2 * 64];
	char full[64][16];
	size_t n = 0;

	if (want_word(p, &t, "a signal name (e.g. SIGKILL)") < 0)
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
	return unknown_word(p, &t, "signal", names, n,
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
		return perr(p, t->col,
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

	if (want_keyword(p, &t, "expectation", what_words, 5, &i) < 0)
		return -1;
	switch (i) {
	case 0:
		e->kind = EXPECT_EXIT;
		if (want_word(p, &t, "an exit code") < 0)
			return -1;
		if (t.text[0] != '\0' && strchr("=!<>", t.text[0]) != NULL) {
			i = find_word(t.text, op_words, 6);
			if (i < 0)
				return unknown_word(p, &t, "operator", op_words, 6, NULL);
			e->op = (enum scenario_op)i;
			if (want_word(p, &t, "an exit code") < 0)
				return -1;
		}
		return parse_int(p, &t, "exit code", 0, 255, &e->value);
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
	if (want_word(p, &t, "contains, matches or not") < 0)
		return -1;
	if (strcmp(t.text, "not") == 0) {
		e->negate = true;
		if (want_keyword(p, &t, "match", match_words, 2, &i) < 0)
			return -1;
	} else {
		static const char *const all[] = { "contains", "matches", "not" };

		i = find_word(t.text, match_words, 2);
		if (i < 0)
			return unknown_word(p, &t, "match", all, 3, NULL);
	}
	e->regex = i == 1;
	if (want_string(p, &t, e->regex ? "the regular expression" : "the text") < 0)
		return -1;
	if (e->regex) {
		regex_t re;
		int rc = regcomp(&re, t.text, REG_EXTENDED | REG_NOSUB);

		if (rc != 0) {
			char why[256];

			regerror(rc, &re, why, sizeof(why));
			return perr(p, t.col, "bad regular expression %s: %s", show(p, &t).s, why);
		}
		regfree(&re);
	}
	e->text = strdup(t.text);
	return e->text == NULL ? out_of_memory(p) : 0;
}

/* The part after "expect"; who_col is set to the column of a program named. */
static int parse_expect_body(struct parser *p, struct expectation *e, int *who_col)
{
	struct token t;
	int i;

	if (want_keyword(p, &t, "expectation", expect_words,
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
		if (want_keyword(p, &t, "outcome", outcome_words, 3, &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_DEADLOCK:
		e->kind = EXPECT_DEADLOCK_WITHIN;
		if (want_exact(p, "within") < 0 || want_duration(p, &t, &e->value) < 0)
			return -1;
		if (e->value == 0)
			return perr(p, t.col, "bad duration %s: it must be more than 0",
				    show(p, &t).s);
		return defer(p, t.col, DEFER_DEADLOCK_WITHIN, e->value);
	case EW_HANDSHAKE:
		e->kind = EXPECT_HANDSHAKE;
		if (want_keyword(p, &t, "handshake", handshake_words, 4, &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_TEARDOWN:
		e->kind = EXPECT_TEARDOWN;
		if (want_keyword(p, &t, "teardown", teardown_words, 3, &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_PACKETS:
		e->kind = EXPECT_PACKETS;
		if (want_string(p, &t, "the filter") < 0 || check_filter_variables(p, &t) < 0)
			return -1;
		e->text = strdup(t.text);
		if (e->text == NULL)
			return out_of_memory(p);
		if (want_op(p, &e->op) < 0)
			return -1;
		return want_count(p, &t, &e->value);
	case EW_ZERO_WINDOW:
		e->kind = EXPECT_ZERO_WINDOW;
		if (want_exact(p, "from") < 0 || want_who(p, &t, &e->who) < 0)
			return -1;
		*who_col = t.col;
		if (next_token(p, &t) < 0)
			return -1;
		if (t.type == TOK_END) {
			e->op = OP_GE;
			e->value = 1;
			return 0;
		}
		i = t.type == TOK_WORD ? find_word(t.text, op_words, 6) : -1;
		if (i < 0)
			return unknown_word(p, &t, "operator", op_words, 6, NULL);
		e->op = (enum scenario_op)i;
		return want_count(p, &t, &e->value);
	case EW_WINDOW_PROBES:
		e->kind = EXPECT_WINDOW_PROBES;
		if (want_exact(p, "from") < 0 || want_who(p, &t, &e->who) < 0)
			return -1;
		*who_col = t.col;
		if (want_op(p, &e->op) < 0)
			return -1;
		return want_count(p, &t, &e->value);
	case EW_RETRANSMISSIONS:
		e->kind = EXPECT_RETRANSMISSIONS;
		if (want_op(p, &e->op) < 0)
			return -1;
		return want_count(p, &t, &e->value);
	case EW_BYTES: {
		static const char *const dir_words[] = { "client->server", "server->client" };

		e->kind = EXPECT_BYTES;
		if (want_keyword(p, &t, "direction", dir_words, 2, &i) < 0)
			return -1;
		e->who = i == 0 ? WHO_CLIENT : WHO_SERVER;
		*who_col = t.col;
		if (want_op(p, &e->op) < 0)
			return -1;
		return want_size(p, &t, &e->value);
	}
	case EW_SEGMENTS:
		e->kind = EXPECT_SEGMENTS_PAYLOAD;
		if (want_exact(p, "from") < 0 || want_who(p, &t, &e->who) < 0)
			return -1;
		*who_col = t.col;
		if (want_exact(p, "payload") < 0 || want_op(p, &e->op) < 0)
			return -1;
		return want_size(p, &t, &e->value);
	case EW_DURATION:
		e->kind = EXPECT_DURATION;
		if (want_op(p, &e->op) < 0)
			return -1;
		return want_duration(p, &t, &e->value);
	}
	return -1;
}

static int parse_expect(struct parser *p, const struct token *kw)
{
	struct scenario *sc = p->sc;
	struct expectation e, *arr;
	int who_col = 0;

	memset(&e, 0, sizeof(e));
	e.line = p->line_no;
	e.col = kw->col;
	e.op = OP_EQ;
	if (sc->n_expects >= MAX_ITEMS)
		return perr(p, kw->col, "too many expectations (at most %d)", MAX_ITEMS);
	if (parse_expect_body(p, &e, &who_col) < 0 || want_end(p) < 0)
		goto fail;
	if (who_col != 0 && e.who == WHO_SERVER &&
	    defer(p, who_col, DEFER_SERVER_EXPECT, 0) < 0)
		goto fail;
	e.source = strndup(p->line + kw->start, p->last_end - kw->start);
	arr = grow(sc->expects, &p->cap_expects, sc->n_expects, sizeof(*arr));
	if (e.source == NULL || arr == NULL) {
		out_of_memory(p);
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

/* ---- the file ---------------------------------------------------------------- */

enum directive {
	D_SCENARIO, D_TIMEOUT, D_QUIET, D_PORT, D_HOST, D_SYSCTL, D_SERVER, D_CLIENT,
	D_FAULT, D_EXPECT,
};

static const char *const directive_words[] = {
	"scenario", "timeout", "quiet", "port",  "host",
	"sysctl",   "server",  "client", "fault", "expect",
};

static int parse_line(struct parser *p)
{
	struct token kw;
	int d;

	p->pos = p->last_end = p->arena_used = 0;
	if (check_line(p) < 0 || next_token(p, &kw) < 0)
		return -1;
	if (kw.type == TOK_END)
		return 0;
	if (kw.type == TOK_STRING)
		return perr(p, kw.col, "expected a directive, not a quoted string");
	d = find_word(kw.text, directive_words, 10);
	if (d < 0)
		return unknown_word(p, &kw, "directive", directive_words, 10, NULL);
	switch ((enum directive)d) {
	case D_SCENARIO: return parse_summary(p, &kw);
	case D_TIMEOUT: return parse_limit(p, &kw, &p->timeout_line, &p->sc->timeout_us);
	case D_QUIET: return parse_limit(p, &kw, &p->quiet_line, &p->sc->quiet_us);
	case D_PORT: return parse_port(p, &kw);
	case D_HOST: return parse_host(p, &kw);
	case D_SYSCTL: return parse_sysctl(p, &kw);
	case D_SERVER: return parse_program(p, &kw, &p->sc->server);
	case D_CLIENT: return parse_program(p, &kw, &p->sc->client);
	case D_FAULT: return parse_fault(p, &kw);
	case D_EXPECT: return parse_expect(p, &kw);
	}
	return -1;
}

static int check_deferred(struct parser *p, const struct deferred *d)
{
	char value[32], timeout[32];

	p->line_no = d->line;
	format_duration(d->value_us, value, sizeof(value));
	format_duration(p->sc->timeout_us, timeout, sizeof(timeout));
	switch (d->kind) {
	case DEFER_SERVER_FAULT:
		if (p->sc->server.line == 0)
			return perr(p, d->col, "fault on \"server\" but there is no server line");
		break;
	case DEFER_SERVER_EXPECT:
		if (p->sc->server.line == 0)
			return perr(p, d->col,
				    "expectation about \"server\" but there is no server line");
		break;
	case DEFER_PAUSE_AT:
		if (d->value_us >= p->sc->timeout_us)
			return perr(p, d->col, "pause at %s is not before the timeout (%s)", value,
				    timeout);
		break;
	case DEFER_PAUSE_FOR:
		if (d->value_us >= p->sc->timeout_us)
			return perr(p, d->col,
				    "pause for %s is not shorter than the timeout (%s)", value,
				    timeout);
		break;
	case DEFER_KILL_AT:
		if (d->value_us >= p->sc->timeout_us)
			return perr(p, d->col, "kill at %s is not before the timeout (%s)", value,
				    timeout);
		break;
	case DEFER_DEADLOCK_WITHIN:
		if (d->value_us > p->sc->timeout_us)
			return perr(p, d->col,
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

	p->line_no = 1;
	if (sc->summary == NULL)
		return perr(p, 1, "no scenario line: a scenario needs a summary, scenario \"SUMMARY\"");
	if (sc->client.command == NULL)
		return perr(p, 1, "no client line: a scenario needs \"client COMMAND\"");
	for (size_t i = 0; i < p->n_deferred; i++)
		if (check_deferred(p, &p->deferred[i]) < 0)
			return -1;
	for (size_t i = 0; i < sc->n_expects; i++) {
		struct expectation *e = &sc->expects[i];
		char *expanded;

		if (e->kind != EXPECT_PACKETS)
			continue;
		expanded = expand_filter(e->text, sc->port, sc->host);
		if (expanded == NULL)
			return out_of_memory(p);
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

static int parse_buffer(const char *path, const char *text, size_t len,
			struct scenario **out, struct lab_err *err)
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
	p->path = path;
	p->err = err;
	p->sc = sc;
	sc->timeout_us = 10 * US_PER_S;
	sc->quiet_us = 200 * US_PER_MS;
	sc->port = 1060;
	snprintf(sc->host, sizeof(sc->host), "127.0.0.1");
	sc->path = strdup(path);
	sc->name = base_name(path);
	if (sc->path == NULL || sc->name == NULL) {
		out_of_memory(p);
		goto out;
	}
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t line_len = nl ? (size_t)(nl - (text + off)) : len - off;

		p->line_no++;
		p->line = text + off;
		p->line_len = line_len;
		if (line_len > 0 && p->line[line_len - 1] == '\r')
			p->line_len--;
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
	for (;;) {
		size_t got;

		if (len == cap) {
			char *grown;

			if (cap >= MAX_FILE_BYTES) {
				lab_err_set(err, "%s: cannot read: larger than %d MiB, not a scenario",
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
	return (unsigned)op < 6 ? op_words[op] : "?";
}

const char *scenario_outcome_name(enum scenario_outcome outcome)
{
	return (unsigned)outcome < 3 ? outcome_words[outcome] : "?";
}

const char *scenario_handshake_name(enum scenario_handshake handshake)
{
	return (unsigned)handshake < 4 ? handshake_words[handshake] : "?";
}

const char *scenario_teardown_name(enum scenario_teardown teardown)
{
	return (unsigned)teardown < 3 ? teardown_words[teardown] : "?";
}

bool scenario_op_holds(enum scenario_op op, int64_t seen, int64_t expected)
{
	switch (op) {
	case OP_EQ: return seen == expected;
	case OP_NE: return seen != expected;
	case OP_LT: return seen < expected;
	case OP_LE: return seen <= expected;
	case OP_GT: return seen > expected;
	case OP_GE: return seen >= expected;
	}
	return false;
}
