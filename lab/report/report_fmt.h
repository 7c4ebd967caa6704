/* report_fmt: what the file reports (JSON, JUnit XML, HTML) share: names of
 * statuses, events and signals, a forgiving UTF-8 decoder for programs' output
 * (any bytes in, code points out, U+FFFD for what is not UTF-8), and report
 * files written as PATH.tmp then renamed, so no half-written report is left. */
#ifndef TCPLAB_REPORT_FMT_H
#define TCPLAB_REPORT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/common/err.h"
#include "lab/report/report.h"
#include "lab/record/record.h"

#define REPORT_FMT_REPLACEMENT 0xFFFDu

/* "pass", "fail", "error" */
const char *report_fmt_status_name(enum report_status status);
/* "server_start", "listening", "client_start", "exit", "pause", "continue",
 * "kill", "stall", "deadlock", "timeout", "stop" */
const char *report_fmt_event_name(enum run_event_kind kind);
/* "SIGKILL", "SIGTERM", ...; "SIG<n>" in buf for others. */
const char *report_fmt_signal_name(int signal, char *buf, size_t len);
/* Flags and byte counts are written by ladder_format_flags and ladder_format_bytes
 * (ladder.h), the same words as `tcplab show`. */

/* "250 µs", "12.34 ms", "2.500 s"; "-" for a negative value (never, unknown). */
void report_fmt_duration(int64_t us, char *buf, size_t len);

/* What the wire did, on one line: "client->server 1288 packets, 67 dropped (loss);
 * server->client 1359 packets, 69 dropped (loss)". */
void report_fmt_link(const struct run_link *l, char *buf, size_t len);

/* Decodes the code point at s (len > 0 bytes available) into *cp and returns
 * how many bytes it took. Bytes that are not well-formed UTF-8 (stray
 * continuation bytes, overlong forms, surrogates, beyond U+10FFFF, cut short)
 * give REPORT_FMT_REPLACEMENT and take one byte. */
size_t report_fmt_utf8_next(const unsigned char *s, size_t len, uint32_t *cp);
/* Writes cp as UTF-8 to out. */
void report_fmt_put_utf8(FILE *out, uint32_t cp);

/* Any bytes as HTML text or attribute value (in double or single quotes):
 * markup characters as entities, what is not UTF-8 as U+FFFD, control
 * characters as their visible pictures (U+2400 block: ␛ for ESC), so that a
 * program's odd output is shown, not interpreted. Newlines and tabs stay. */
void report_fmt_html(FILE *out, const char *data, size_t len);

/* A report file being written: `tmp_path` until report_fmt_commit renames it. */
struct report_file {
	FILE *out;
	char path[4096];
	char tmp_path[4096 + 8];
};

/* Opens PATH.tmp for writing. */
int report_fmt_open(struct report_file *f, const char *path, struct lab_err *err);
/* Flushes, closes and renames PATH.tmp to PATH; on any write error deletes
 * PATH.tmp and returns -1 with err saying why. */
int report_fmt_commit(struct report_file *f, struct lab_err *err);
/* Closes and deletes PATH.tmp (after a failure elsewhere). */
void report_fmt_abort(struct report_file *f);

#endif
