/* scenario: the hand-written parser of scenario files (see scenario.h and
 * docs/scenario-language.md). The tokenizer and value readers live in
 * scenario_lex.c; here each directive has its own function. Checks that need the
 * whole file (is there a server line? what is the timeout?) are queued and run at
 * the end, where $PORT and $HOST in packet filters are expanded too. */
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_lex.h"

enum {
	MAX_ITEMS = 1000, /* faults, expectations, sysctls: each */
	MAX_FILE_BYTES = 16 << 20,
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
	struct lex lx;
	struct scenario *sc;
	int scenario_line, timeout_line, quiet_line, port_line, host_line;
	struct deferred *deferred;
	size_t n_deferred, cap_deferred;
	size_t cap_faults, cap_expects, cap_sysctls;
};

static const char *const op_words[] = { "==", "!=", "<", "<=", ">", ">=" };

static int want_op(struct parser *p, enum scenario_op *op)
{
	struct token t;
	int i;

	if (lex_want_keyword(&p->lx, &t, "operator", op_words, 6, &i) < 0)
		return -1;
	*op = (enum scenario_op)i;
	return 0;
}

static const char *const who_words[] = { "client", "server" };

static int want_who(struct parser *p, struct token *t, enum scenario_who *who)
{
	int i;

	if (lex_want_keyword(&p->lx, t, "program", who_words, 2, &i) < 0)
		return -1;
	*who = i == 0 ? WHO_CLIENT : WHO_SERVER;
	return 0;
}

static int defer(struct parser *p, int col, enum deferred_kind kind, int64_t value_us)
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
		return lex_err(&p->lx, t.col, "empty summary: say in a few words what the case shows");
	if (strchr(t.text, '\n') != NULL)
		return lex_err(&p->lx, t.col, "the summary must be one line (no \\n)");
	if (lex_want_end(&p->lx) < 0)
		return -1;
	p->sc->summary = strdup(t.text);
	return p->sc->summary == NULL ? lex_out_of_memory(&p->lx) : 0;
}

/* timeout and quiet: more than 0, at most an hour. */
static int parse_limit(struct parser *p, const struct token *kw, int *first_line,
		       int64_t *us)
{
	struct token t;
	int64_t v;

	if (check_duplicate(p, kw, first_line) < 0 || lex_want_duration(&p->lx, &t, &v) < 0)
		return -1;
	if (v == 0)
		return lex_err(&p->lx, t.col, "bad %s %s: it must be more than 0", kw->text, lex_show(&p->lx, &t).s);
	if (v > LEX_US_PER_HOUR)
		return lex_err(&p->lx, t.col, "bad %s %s: it must be at most 1h (60m)", kw->text,
			    lex_show(&p->lx, &t).s);
	if (lex_want_end(&p->lx) < 0)
		return -1;
	*us = v;
	return 0;
}

static int parse_port(struct parser *p, const struct token *kw)
{
	struct token t;
	int64_t v;

	if (check_duplicate(p, kw, &p->port_line) < 0 || lex_want_word(&p->lx, &t, "a port number") < 0 ||
	    lex_parse_int(&p->lx, &t, "port", 1, 65535, &v) < 0 || lex_want_end(&p->lx) < 0)
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

	if (check_duplicate(p, kw, &p->host_line) < 0 || lex_want_word(&p->lx, &t, "an address") < 0)
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
		return lex_err(&p->lx, name.col,
			    "sysctl %s is not allowed: only net.* sysctls belong to the lab's network namespace",
			    lex_show(&p->lx, &name).s);
	if (!sysctl_name_ok(name.text))
		return lex_err(&p->lx, name.col,
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
			return lex_err(&p->lx, name.col, "duplicate sysctl %s (first set on line %d)",
				    lex_show(&p->lx, &name).s, sc->sysctls[i].line);
	if (sc->n_sysctls >= MAX_ITEMS)
		return lex_err(&p->lx, kw->col, "too many sysctl lines (at most %d)", MAX_ITEMS);
	s = grow(sc->sysctls, &p->cap_sysctls, sc->n_sysctls, sizeof(*s));
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
static int parse_program(struct parser *p, const struct token *kw,
			 struct scenario_program *prog)
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
		return lex_err(&p->lx, lex_col_at(&p->lx, kw->end), "expected a command after \"%s\"", kw->text);
	if (p->lx.line[start] == '#')
		return lex_err(&p->lx, lex_col_at(&p->lx, start),
			    "the command starts with \"#\": comments are not allowed on %s lines",
			    kw->text);
	prog->command = strndup(p->lx.line + start, end - start);
	if (prog->command == NULL)
		return lex_out_of_memory(&p->lx);
	prog->line = p->lx.line_no;
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

enum fault_word { FW_SEND, FW_RECV, FW_ERROR, FW_BUFFERS, FW_RESET, FW_PAUSE, FW_KILL };

static const char *const fault_words[] = { "send",  "recv",  "error", "buffers",
					   "reset", "pause", "kill" };

static int parse_fault_error(struct parser *p, struct fault *f)
{
	static const char *const when_words[] = { "once", "every", "after" };
	struct token t;
	int i;

	f->kind = FAULT_ERROR;
	if (lex_want_keyword(&p->lx, &t, "call", call_words, sizeof(call_words) / sizeof(call_words[0]),
			 &i) < 0)
		return -1;
	snprintf(f->call, sizeof(f->call), "%s", call_words[i]);
	if (want_errno(p, &f->errno_value) < 0 || lex_next(&p->lx, &t) < 0)
		return -1;
	if (t.type == TOK_END) {
		f->when = WHEN_ALWAYS;
		return 0;
	}
	i = t.type == TOK_WORD ? lex_find_word(t.text, when_words, 3) : -1;
	if (i < 0)
		return lex_unknown_word(&p->lx, &t, "condition", when_words, 3, NULL);
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
	return lex_want_end(&p->lx);
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
				return lex_err(&p->lx, t.col, "expected rcv or snd after \"buffers\"");
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

static int parse_fault_kind(struct parser *p, struct fault *f)
{
	struct token t;
	int i;

	if (lex_want_keyword(&p->lx, &t, "fault", fault_words, 7, &i) < 0)
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
				return lex_err(&p->lx, t.col, "bad size %s: at least 1 byte must move",
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
		f->kind = FAULT_RESET_AFTER;
		if (lex_want_exact(&p->lx, "after") < 0 || lex_want_size(&p->lx, &t, &f->bytes) < 0)
			return -1;
		return lex_want_end(&p->lx);
	case FW_PAUSE:
		f->kind = FAULT_PAUSE;
		if (lex_want_exact(&p->lx, "at") < 0 || lex_want_duration(&p->lx, &t, &f->at_us) < 0 ||
		    defer(p, t.col, DEFER_PAUSE_AT, f->at_us) < 0)
			return -1;
		if (lex_want_exact(&p->lx, "for") < 0 || lex_want_duration(&p->lx, &t, &f->for_us) < 0)
			return -1;
		if (f->for_us == 0)
			return lex_err(&p->lx, t.col, "bad duration %s: a pause must last more than 0",
				    lex_show(&p->lx, &t).s);
		if (defer(p, t.col, DEFER_PAUSE_FOR, f->for_us) < 0)
			return -1;
		return lex_want_end(&p->lx);
	case FW_KILL:
		f->kind = FAULT_KILL;
		if (lex_want_exact(&p->lx, "at") < 0 || lex_want_duration(&p->lx, &t, &f->at_us) < 0 ||
		    defer(p, t.col, DEFER_KILL_AT, f->at_us) < 0)
			return -1;
		return lex_want_end(&p->lx);
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
	f.line = p->lx.line_no;
	if (sc->n_faults >= MAX_ITEMS)
		return lex_err(&p->lx, kw->col, "too many faults (at most %d)", MAX_ITEMS);
	if (want_who(p, &who_tok, &f.who) < 0 || parse_fault_kind(p, &f) < 0)
		return -1;
	/* Faults that set one value per program cannot be given twice. */
	if (f.kind != FAULT_ERROR && f.kind != FAULT_PAUSE) {
		for (size_t i = 0; i < sc->n_faults; i++)
			if (sc->faults[i].who == f.who && sc->faults[i].kind == f.kind)
				return lex_err(&p->lx, kw->col,
					    "duplicate fault \"%s\" on %s (first set on line %d)",
					    fault_kind_words(f.kind), scenario_who_name(f.who),
					    sc->faults[i].line);
	}
	if (f.who == WHO_SERVER && defer(p, who_tok.col, DEFER_SERVER_FAULT, 0) < 0)
		return -1;
	arr = grow(sc->faults, &p->cap_faults, sc->n_faults, sizeof(*arr));
	if (arr == NULL)
		return lex_out_of_memory(&p->lx);
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

static const char *const outcome_words[] = { "completed", "deadlock", "timeout", "hang" };
static const char *const handshake_words[] = { "complete", "refused", "unanswered", "none" };
static const char *const teardown_words[] = { "fin", "reset", "none" };

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
		return lex_err(&p->lx, t->col,
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
			i = lex_find_word(t.text, op_words, 6);
			if (i < 0)
				return lex_unknown_word(&p->lx, &t, "operator", op_words, 6, NULL);
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
			return lex_err(&p->lx, t.col, "bad regular expression %s: %s", lex_show(&p->lx, &t).s, why);
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
		if (lex_want_keyword(&p->lx, &t, "outcome", outcome_words,
				     sizeof(outcome_words) / sizeof(outcome_words[0]), &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_DEADLOCK:
		e->kind = EXPECT_DEADLOCK_WITHIN;
		if (lex_want_exact(&p->lx, "within") < 0 || lex_want_duration(&p->lx, &t, &e->value) < 0)
			return -1;
		if (e->value == 0)
			return lex_err(&p->lx, t.col, "bad duration %s: it must be more than 0",
				    lex_show(&p->lx, &t).s);
		return defer(p, t.col, DEFER_DEADLOCK_WITHIN, e->value);
	case EW_HANDSHAKE:
		e->kind = EXPECT_HANDSHAKE;
		if (lex_want_keyword(&p->lx, &t, "handshake", handshake_words, 4, &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_TEARDOWN:
		e->kind = EXPECT_TEARDOWN;
		if (lex_want_keyword(&p->lx, &t, "teardown", teardown_words, 3, &i) < 0)
			return -1;
		e->value = i;
		return 0;
	case EW_PACKETS:
		e->kind = EXPECT_PACKETS;
		if (lex_want_string(&p->lx, &t, "the filter") < 0 || check_filter_variables(p, &t) < 0)
			return -1;
		e->text = strdup(t.text);
		if (e->text == NULL)
			return lex_out_of_memory(&p->lx);
		if (want_op(p, &e->op) < 0)
			return -1;
		return lex_want_count(&p->lx, &t, &e->value);
	case EW_ZERO_WINDOW:
		e->kind = EXPECT_ZERO_WINDOW;
		if (lex_want_exact(&p->lx, "from") < 0 || want_who(p, &t, &e->who) < 0)
			return -1;
		*who_col = t.col;
		if (lex_next(&p->lx, &t) < 0)
			return -1;
		if (t.type == TOK_END) {
			e->op = OP_GE;
			e->value = 1;
			return 0;
		}
		i = t.type == TOK_WORD ? lex_find_word(t.text, op_words, 6) : -1;
		if (i < 0)
			return lex_unknown_word(&p->lx, &t, "operator", op_words, 6, NULL);
		e->op = (enum scenario_op)i;
		return lex_want_count(&p->lx, &t, &e->value);
	case EW_WINDOW_PROBES:
		e->kind = EXPECT_WINDOW_PROBES;
		if (lex_want_exact(&p->lx, "from") < 0 || want_who(p, &t, &e->who) < 0)
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
		if (lex_want_exact(&p->lx, "from") < 0 || want_who(p, &t, &e->who) < 0)
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
	}
	return -1;
}

static int parse_expect(struct parser *p, const struct token *kw)
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
	    defer(p, who_col, DEFER_SERVER_EXPECT, 0) < 0)
		goto fail;
	e.source = strndup(p->lx.line + kw->start, p->lx.last_end - kw->start);
	arr = grow(sc->expects, &p->cap_expects, sc->n_expects, sizeof(*arr));
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

	if (lex_check_line(&p->lx) < 0 || lex_next(&p->lx, &kw) < 0)
		return -1;
	if (kw.type == TOK_END)
		return 0;
	if (kw.type == TOK_STRING)
		return lex_err(&p->lx, kw.col, "expected a directive, not a quoted string");
	d = lex_find_word(kw.text, directive_words, 10);
	if (d < 0)
		return lex_unknown_word(&p->lx, &kw, "directive", directive_words, 10, NULL);
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

	p->lx.line_no = d->line;
	lex_format_duration(d->value_us, value, sizeof(value));
	lex_format_duration(p->sc->timeout_us, timeout, sizeof(timeout));
	switch (d->kind) {
	case DEFER_SERVER_FAULT:
		if (p->sc->server.line == 0)
			return lex_err(&p->lx, d->col, "fault on \"server\" but there is no server line");
		break;
	case DEFER_SERVER_EXPECT:
		if (p->sc->server.line == 0)
			return lex_err(&p->lx, d->col,
				    "expectation about \"server\" but there is no server line");
		break;
	case DEFER_PAUSE_AT:
		if (d->value_us >= p->sc->timeout_us)
			return lex_err(&p->lx, d->col, "pause at %s is not before the timeout (%s)", value,
				    timeout);
		break;
	case DEFER_PAUSE_FOR:
		if (d->value_us >= p->sc->timeout_us)
			return lex_err(&p->lx, d->col,
				    "pause for %s is not shorter than the timeout (%s)", value,
				    timeout);
		break;
	case DEFER_KILL_AT:
		if (d->value_us >= p->sc->timeout_us)
			return lex_err(&p->lx, d->col, "kill at %s is not before the timeout (%s)", value,
				    timeout);
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
		return lex_err(&p->lx, 1, "no scenario line: a scenario needs a summary, scenario \"SUMMARY\"");
	if (sc->client.command == NULL)
		return lex_err(&p->lx, 1, "no client line: a scenario needs \"client COMMAND\"");
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
	p->lx.path = path;
	p->lx.err = err;
	p->sc = sc;
	sc->timeout_us = 10 * LEX_US_PER_S;
	sc->quiet_us = 200 * LEX_US_PER_MS;
	sc->port = 1060;
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
	return (unsigned)outcome < sizeof(outcome_words) / sizeof(outcome_words[0])
		       ? outcome_words[outcome]
		       : "?";
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
