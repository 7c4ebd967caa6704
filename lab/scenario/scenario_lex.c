/* scenario_lex: the tokenizer and value readers of the scenario parser (see
 * scenario_lex.h). A line is checked (length, bytes), then read token by token;
 * every token knows its column, so every message can point at it. */
#include "lab/scenario/scenario_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- errors ------------------------------------------------------------------ */

int lex_err(struct lex *lx, int col, const char *fmt, ...)
{
	va_list ap;
	int used;

	if (lx->err == NULL)
		return -1;
	used = snprintf(lx->err->msg, sizeof(lx->err->msg), "%s:%d:%d: ", lx->path, lx->line_no,
			col);
	if (used < 0 || (size_t)used >= sizeof(lx->err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(lx->err->msg + used, sizeof(lx->err->msg) - (size_t)used, fmt, ap);
	va_end(ap);
	return -1;
}

int lex_out_of_memory(struct lex *lx)
{
	return lab_err_set(lx->err, "%s: out of memory", lx->path);
}

/* Column (1-based, in characters) of a byte offset in the current line. */
int lex_col_at(const struct lex *lx, size_t off)
{
	int col = 1;

	for (size_t i = 0; i < off && i < lx->line_len; i++)
		if (((unsigned char)lx->line[i] & 0xC0) != 0x80)
			col++;
	return col;
}

struct shown lex_show(const struct lex *lx, const struct token *t)
{
	struct shown out;
	size_t len = t->end - t->start;
	const char *raw = lx->line + t->start;
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

void lex_format_duration(int64_t us, char *buf, size_t size)
{
	if (us != 0 && us % LEX_US_PER_MIN == 0)
		snprintf(buf, size, "%lldm", (long long)(us / LEX_US_PER_MIN));
	else if (us != 0 && us % LEX_US_PER_S == 0)
		snprintf(buf, size, "%llds", (long long)(us / LEX_US_PER_S));
	else if (us != 0 && us % LEX_US_PER_MS == 0)
		snprintf(buf, size, "%lldms", (long long)(us / LEX_US_PER_MS));
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
const char *lex_suggest(const char *word, const char *const *choices, size_t n)
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

int lex_find_word(const char *word, const char *const *choices, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, choices[i]) == 0)
			return (int)i;
	return -1;
}

/* "unknown NOUN "X" (did you mean "Y"?)", or with hint (or the list of choices). */
int lex_unknown_word(struct lex *lx, const struct token *t, const char *noun,
		     const char *const *choices, size_t n, const char *hint)
{
	const char *near = lex_suggest(t->text, choices, n);
	char list[512];

	if (near != NULL)
		return lex_err(lx, t->col, "unknown %s %s (did you mean \"%s\"?)", noun,
			       lex_show(lx, t).s, near);
	if (hint != NULL)
		return lex_err(lx, t->col, "unknown %s %s (%s)", noun, lex_show(lx, t).s, hint);
	join_choices(choices, n, list, sizeof(list));
	return lex_err(lx, t->col, "unknown %s %s (expected %s)", noun, lex_show(lx, t).s, list);
}

/* ---- lines and tokens -------------------------------------------------------- */

void lex_start_line(struct lex *lx, const char *line, size_t len)
{
	lx->line_no++;
	lx->line = line;
	lx->line_len = len > 0 && line[len - 1] == '\r' ? len - 1 : len;
	lx->pos = lx->last_end = lx->arena_used = 0;
}

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
int lex_check_line(struct lex *lx)
{
	const unsigned char *s = (const unsigned char *)lx->line;

	if (lx->line_len > LEX_MAX_LINE_BYTES)
		return lex_err(lx, lex_col_at(lx, LEX_MAX_LINE_BYTES),
			       "line too long (%zu bytes; at most %d)", lx->line_len,
			       LEX_MAX_LINE_BYTES);
	for (size_t i = 0; i < lx->line_len;) {
		size_t n;

		if (s[i] == '\0')
			return lex_err(lx, lex_col_at(lx, i), "NUL byte (is this a text file?)");
		if (s[i] == '\r')
			return lex_err(
				lx, lex_col_at(lx, i),
				"control character 0x0D (a carriage return not at the line end)");
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
			return lex_err(lx, lex_col_at(lx, i), "control character 0x%02X", s[i]);
		n = utf8_len(s + i, lx->line_len - i);
		if (n == 0)
			return lex_err(lx, lex_col_at(lx, i), "invalid UTF-8");
		i += n;
	}
	return 0;
}

bool lex_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_blanks(struct lex *lx)
{
	while (lx->pos < lx->line_len && lex_is_blank(lx->line[lx->pos]))
		lx->pos++;
}

static int read_string(struct lex *lx, struct token *t, char *out)
{
	size_t pos = t->start + 1;
	size_t n = 0;

	for (;;) {
		char c;

		if (pos >= lx->line_len)
			return lex_err(lx, t->col, "unterminated string");
		c = lx->line[pos];
		if (c == '"')
			break;
		if (c == '\\') {
			char e;

			if (pos + 1 >= lx->line_len)
				return lex_err(lx, t->col, "unterminated string");
			e = lx->line[pos + 1];
			if (e == '"' || e == '\\') {
				out[n++] = e;
			} else if (e == 'n') {
				out[n++] = '\n';
			} else if (e == 't') {
				out[n++] = '\t';
			} else {
				size_t len = utf8_len((const unsigned char *)lx->line + pos + 1,
						      lx->line_len - pos - 1);

				return lex_err(
					lx, lex_col_at(lx, pos),
					"unknown escape \"\\%.*s\" in string (use \\\", \\\\, \\n or \\t)",
					(int)len, lx->line + pos + 1);
			}
			pos += 2;
			continue;
		}
		out[n++] = c;
		pos++;
	}
	out[n] = '\0';
	t->end = pos + 1;
	if (t->end < lx->line_len && !lex_is_blank(lx->line[t->end]) && lx->line[t->end] != '#')
		return lex_err(lx, lex_col_at(lx, t->end),
			       "expected a space after the closing quote");
	return 0;
}

/* Reads the next token; TOK_END (at the column just after the last token) at
 * the end of the line or at a comment. */
int lex_next(struct lex *lx, struct token *t)
{
	char *out = lx->arena + lx->arena_used;

	skip_blanks(lx);
	memset(t, 0, sizeof(*t));
	t->start = t->end = lx->pos;
	if (lx->pos >= lx->line_len || lx->line[lx->pos] == '#') {
		t->type = TOK_END;
		t->col = lex_col_at(lx, lx->last_end);
		t->text = "";
		return 0;
	}
	if (lx->arena_used + (lx->line_len - lx->pos) + 1 > sizeof(lx->arena))
		return lex_err(lx, lex_col_at(lx, lx->pos), "line too complex");
	t->col = lex_col_at(lx, lx->pos);
	if (lx->line[lx->pos] == '"') {
		t->type = TOK_STRING;
		if (read_string(lx, t, out) < 0)
			return -1;
	} else {
		size_t end = lx->pos;

		t->type = TOK_WORD;
		while (end < lx->line_len && !lex_is_blank(lx->line[end]) && lx->line[end] != '#' &&
		       lx->line[end] != '"')
			end++;
		if (end < lx->line_len && lx->line[end] == '"')
			return lex_err(lx, lex_col_at(lx, end),
				       "expected a space before the quote");
		memcpy(out, lx->line + lx->pos, end - lx->pos);
		out[end - lx->pos] = '\0';
		t->end = end;
	}
	t->text = out;
	lx->arena_used += strlen(out) + 1;
	lx->pos = lx->last_end = t->end;
	lx->prev = *t;
	return 0;
}

/* The next token, which must exist; what names it in "expected WHAT after X". */
int lex_want(struct lex *lx, struct token *t, const char *what)
{
	if (lex_next(lx, t) < 0)
		return -1;
	if (t->type == TOK_END)
		return lex_err(lx, t->col, "expected %s after %s", what, lex_show(lx, &lx->prev).s);
	return 0;
}

int lex_want_word(struct lex *lx, struct token *t, const char *what)
{
	if (lex_want(lx, t, what) < 0)
		return -1;
	if (t->type == TOK_STRING)
		return lex_err(lx, t->col, "expected %s, not a quoted string", what);
	return 0;
}

int lex_want_string(struct lex *lx, struct token *t, const char *what)
{
	if (lex_want(lx, t, what) < 0)
		return -1;
	if (t->type == TOK_WORD)
		return lex_err(lx, t->col, "%s must be in double quotes", what);
	return 0;
}

int lex_want_end(struct lex *lx)
{
	struct token t;

	if (lex_next(lx, &t) < 0)
		return -1;
	if (t.type != TOK_END)
		return lex_err(lx, t.col, "unexpected %s after a complete directive",
			       lex_show(lx, &t).s);
	return 0;
}

/* A word among choices; *index is its position. */
int lex_want_keyword(struct lex *lx, struct token *t, const char *noun, const char *const *choices,
		     size_t n, int *index)
{
	char list[512];

	join_choices(choices, n, list, sizeof(list));
	if (lex_want_word(lx, t, list) < 0)
		return -1;
	*index = lex_find_word(t->text, choices, n);
	if (*index < 0)
		return lex_unknown_word(lx, t, noun, choices, n, NULL);
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
int lex_parse_int(struct lex *lx, const struct token *t, const char *noun, int64_t min, int64_t max,
		  int64_t *value)
{
	const char *rest = "";
	enum num_status st = parse_digits(t->text, value, &rest);

	if (st == NUM_NEGATIVE && min >= 0)
		return lex_err(lx, t->col, "bad %s %s: it cannot be negative", noun,
			       lex_show(lx, t).s);
	if (st == NUM_OK && *rest == '\0' && *value >= min && *value <= max)
		return 0;
	if (max == INT64_MAX && st == NUM_OVERFLOW)
		return lex_err(lx, t->col, "bad %s %s: too large", noun, lex_show(lx, t).s);
	if (max == INT64_MAX && min == 0)
		return lex_err(lx, t->col, "bad %s %s: expected a whole number", noun,
			       lex_show(lx, t).s);
	if (max == INT64_MAX)
		return lex_err(lx, t->col, "bad %s %s: expected a whole number of at least %lld",
			       noun, lex_show(lx, t).s, (long long)min);
	return lex_err(lx, t->col, "bad %s %s: expected a whole number from %lld to %lld", noun,
		       lex_show(lx, t).s, (long long)min, (long long)max);
}

struct unit {
	const char *name;
	int64_t factor;
};

static const struct unit duration_units[] = {
	{ "us", 1 },
	{ "ms", 1000 },
	{ "s", 1000 * 1000 },
	{ "m", 60LL * 1000 * 1000 },
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
int lex_parse_duration(struct lex *lx, const struct token *t, int64_t *us)
{
	const char *rest = "";
	int64_t n = 0;
	const struct unit *u;
	struct shown s = lex_show(lx, t);

	switch (parse_digits(t->text, &n, &rest)) {
	case NUM_NONE:
		return lex_err(lx, t->col,
			       "bad duration %s: expected a number and a unit, e.g. 250ms or 2s",
			       s.s);
	case NUM_NEGATIVE:
		return lex_err(lx, t->col, "bad duration %s: a duration cannot be negative", s.s);
	case NUM_OVERFLOW:
		return lex_err(lx, t->col, "bad duration %s: too large", s.s);
	case NUM_FRACTION:
		return lex_err(
			lx, t->col,
			"bad duration %s: use a whole number with a smaller unit (e.g. 1500ms, not 1.5s)",
			s.s);
	case NUM_OK:
		break;
	}
	if (*rest == '\0')
		return lex_err(lx, t->col,
			       "bad duration %s: a duration needs a unit (us, ms, s, m)", s.s);
	u = find_unit(duration_units, sizeof(duration_units) / sizeof(duration_units[0]), rest);
	if (u == NULL)
		return lex_err(lx, t->col,
			       "bad duration %s: unknown unit \"%s\" (use us, ms, s or m)", s.s,
			       rest);
	if (n > INT64_MAX / u->factor)
		return lex_err(lx, t->col, "bad duration %s: too large", s.s);
	*us = n * u->factor;
	return 0;
}

/* A size: whole number of bytes with an optional unit (KiB... or KB...). */
int lex_parse_size(struct lex *lx, const struct token *t, int64_t *bytes)
{
	const char *rest = "";
	int64_t n = 0;
	const struct unit *u;
	struct shown s = lex_show(lx, t);

	switch (parse_digits(t->text, &n, &rest)) {
	case NUM_NONE:
		return lex_err(lx, t->col,
			       "bad size %s: expected a number of bytes, e.g. 16, 64KiB or 1MiB",
			       s.s);
	case NUM_NEGATIVE:
		return lex_err(lx, t->col, "bad size %s: a size cannot be negative", s.s);
	case NUM_OVERFLOW:
		return lex_err(lx, t->col, "bad size %s: too large", s.s);
	case NUM_FRACTION:
		return lex_err(
			lx, t->col,
			"bad size %s: use a whole number with a smaller unit (e.g. 1536KiB, not 1.5MiB)",
			s.s);
	case NUM_OK:
		break;
	}
	u = find_unit(size_units, sizeof(size_units) / sizeof(size_units[0]), rest);
	if (u == NULL)
		return lex_err(
			lx, t->col,
			"bad size %s: unknown unit \"%s\" (use B, KiB, MiB, GiB, TiB for powers of 1024 or KB, MB, GB, TB for powers of 1000)",
			s.s, rest);
	if (n > INT64_MAX / u->factor)
		return lex_err(lx, t->col, "bad size %s: too large", s.s);
	*bytes = n * u->factor;
	return 0;
}

int lex_want_duration(struct lex *lx, struct token *t, int64_t *us)
{
	if (lex_want_word(lx, t, "a duration") < 0)
		return -1;
	return lex_parse_duration(lx, t, us);
}

int lex_want_size(struct lex *lx, struct token *t, int64_t *bytes)
{
	if (lex_want_word(lx, t, "a size") < 0)
		return -1;
	return lex_parse_size(lx, t, bytes);
}

int lex_want_count(struct lex *lx, struct token *t, int64_t *n)
{
	if (lex_want_word(lx, t, "a count") < 0)
		return -1;
	return lex_parse_int(lx, t, "count", 0, INT64_MAX, n);
}

/* Requires the word `word` next (e.g. "from", "at"). */
int lex_want_exact(struct lex *lx, const char *word)
{
	struct token t;
	char quoted[32];

	snprintf(quoted, sizeof(quoted), "\"%s\"", word);
	if (lex_want(lx, &t, quoted) < 0)
		return -1;
	if (t.type == TOK_WORD && strcmp(t.text, word) == 0)
		return 0;
	if (t.type == TOK_WORD && lex_suggest(t.text, &word, 1) != NULL)
		return lex_err(lx, t.col, "unknown word %s (did you mean \"%s\"?)",
			       lex_show(lx, &t).s, word);
	return lex_err(lx, t.col, "expected \"%s\", not %s", word, lex_show(lx, &t).s);
}
