/* report_fmt: shared pieces of the file reports (see report_fmt.h). */
#include "lab/report/report_fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *report_fmt_status_name(enum report_status status)
{
	switch (status) {
	case REPORT_PASS:
		return "pass";
	case REPORT_FAIL:
		return "fail";
	case REPORT_INCONCLUSIVE:
		return "inconclusive";
	default:
		return "error";
	}
}

const char *report_fmt_event_name(enum run_event_kind kind)
{
	static const char *const names[] = {
		[RUN_EV_SERVER_START] = "server_start",
		[RUN_EV_LISTENING] = "listening",
		[RUN_EV_CLIENT_START] = "client_start",
		[RUN_EV_EXIT] = "exit",
		[RUN_EV_PAUSE] = "pause",
		[RUN_EV_CONTINUE] = "continue",
		[RUN_EV_KILL] = "kill",
		[RUN_EV_STALL] = "stall",
		[RUN_EV_DEADLOCK] = "deadlock",
		[RUN_EV_TIMEOUT] = "timeout",
		[RUN_EV_HANG] = "hang",
		[RUN_EV_STOP] = "stop",
	};

	if ((unsigned)kind < sizeof(names) / sizeof(names[0]) && names[kind] != NULL)
		return names[kind];
	return "unknown";
}

const char *report_fmt_signal_name(int signal, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(signal);

	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "SIG%d", signal);
	return buf;
}

void report_fmt_duration(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else if (us < 1000)
		snprintf(buf, len, "%" PRId64 " µs", us);
	else if (us < 1000000)
		snprintf(buf, len, "%.2f ms", (double)us / 1e3);
	else
		snprintf(buf, len, "%.3f s", (double)us / 1e6);
}

/* Unicode 15, table 3-7 (well-formed UTF-8 byte sequences). */
size_t report_fmt_utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b = s[0];
	size_t need;
	uint32_t v, min;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		need = 1, v = b & 0x1F, min = 0x80;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 2, v = b & 0x0F, min = 0x800;
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 3, v = b & 0x07, min = 0x10000;
	} else {
		*cp = REPORT_FMT_REPLACEMENT;
		return 1;
	}
	if (len < need + 1)
		goto bad;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
	*cp = v;
	return need + 1;
bad:
	*cp = REPORT_FMT_REPLACEMENT;
	return 1;
}

void report_fmt_put_utf8(FILE *out, uint32_t cp)
{
	if (cp < 0x80) {
		putc((int)cp, out);
	} else if (cp < 0x800) {
		putc((int)(0xC0 | (cp >> 6)), out);
		putc((int)(0x80 | (cp & 0x3F)), out);
	} else if (cp < 0x10000) {
		putc((int)(0xE0 | (cp >> 12)), out);
		putc((int)(0x80 | ((cp >> 6) & 0x3F)), out);
		putc((int)(0x80 | (cp & 0x3F)), out);
	} else {
		putc((int)(0xF0 | (cp >> 18)), out);
		putc((int)(0x80 | ((cp >> 12) & 0x3F)), out);
		putc((int)(0x80 | ((cp >> 6) & 0x3F)), out);
		putc((int)(0x80 | (cp & 0x3F)), out);
	}
}

int report_fmt_open(struct report_file *f, const char *path, struct lab_err *err)
{
	f->out = NULL;
	if (snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path))
		return lab_err_set(err, "%s: path too long", path);
	snprintf(f->tmp_path, sizeof(f->tmp_path), "%s.tmp", path);
	f->out = fopen(f->tmp_path, "w");
	if (f->out == NULL)
		return lab_err_sys(err, errno, "%s", f->tmp_path);
	return 0;
}

int report_fmt_commit(struct report_file *f, struct lab_err *err)
{
	int failed = ferror(f->out) || fflush(f->out) != 0;
	int saved = errno;

	if (fclose(f->out) != 0 && !failed) {
		failed = 1;
		saved = errno;
	}
	f->out = NULL;
	if (failed) {
		unlink(f->tmp_path);
		return lab_err_sys(err, saved ? saved : EIO, "%s: write", f->tmp_path);
	}
	if (rename(f->tmp_path, f->path) < 0) {
		saved = errno;
		unlink(f->tmp_path);
		return lab_err_sys(err, saved, "%s: rename to %s", f->tmp_path, f->path);
	}
	return 0;
}

void report_fmt_abort(struct report_file *f)
{
	if (f->out != NULL)
		fclose(f->out);
	f->out = NULL;
	unlink(f->tmp_path);
}

/* Text or attribute value: markup characters as entities, what is not UTF-8 as
 * U+FFFD, control characters as their visible pictures (U+2400 block: ␛ for
 * ESC), so that a program's odd output is shown, not interpreted. */
void report_fmt_html(FILE *out, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;

		i += report_fmt_utf8_next(s + i, len - i, &cp);
		switch (cp) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		case '\n':
		case '\t':
			putc((int)cp, out);
			break;
		default:
			if (cp < 0x20)
				cp += 0x2400;
			else if (cp == 0x7f)
				cp = 0x2421;
			else if (cp == 0xFFFE || cp == 0xFFFF)
				cp = REPORT_FMT_REPLACEMENT;
			report_fmt_put_utf8(out, cp);
		}
	}
}

void report_fmt_link(const struct run_link *l, char *buf, size_t len)
{
	size_t at = 0;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(buf + at, at < len ? len - at : 0, __VA_ARGS__);                 \
		if (n_ > 0)                                                                        \
			at += (size_t)n_;                                                          \
	} while (0)
	if (len > 0)
		buf[0] = 0;
	for (int d = 0; d < 2; d++) {
		PUT("%s%s %" PRIu64 " packets", d ? "; " : "",
		    d ? "server->client" : "client->server", l->packets[d]);
		for (int k = 0; k < LINK_DROP_KINDS; k++)
			if (l->dropped[d][k] > 0)
				PUT(", %" PRIu64 " dropped (%s)", l->dropped[d][k],
				    scenario_link_drop_name((enum scenario_link_drop)k));
		if (l->duplicated[d])
			PUT(", %" PRIu64 " duplicated", l->duplicated[d]);
		if (l->reordered[d])
			PUT(", %" PRIu64 " reordered", l->reordered[d]);
		if (l->corrupted[d])
			PUT(", %" PRIu64 " corrupted", l->corrupted[d]);
	}
#undef PUT
}
