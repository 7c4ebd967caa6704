/* report_json: everything a run's report knows, as one JSON document for tools
 * (schema "tcplab-report/1", documented in docs/report-formats.md): per scenario
 * its status, outcome, events, programs with their output and fault counters,
 * the watcher's figures, verdicts, and the analyser's summary of each connection.
 * Programs' output of any bytes becomes valid JSON (U+FFFD for what is not UTF-8). */
#ifndef TCPLAB_REPORT_JSON_H
#define TCPLAB_REPORT_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "lab/common/err.h"
#include "lab/report/report.h"

#define REPORT_JSON_SCHEMA "tcplab-report/1"

/* Writes the report to PATH.tmp and renames it to path. The captures named by
 * the items are analysed again for the flows summary (an unreadable capture is
 * noted in the report, not an error). Returns -1 with err set when the file
 * cannot be written. */
int report_json_write(const char *path, const struct report_item *items, size_t n, double wall_s,
		      struct lab_err *err);

/* The same document into an open stream (for tests and pipes). */
int report_json_write_stream(FILE *out, const struct report_item *items, size_t n, double wall_s,
			     struct lab_err *err);

#endif
