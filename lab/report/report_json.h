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
#define REPORT_JSON_ANALYSIS_SCHEMA "tcplab-analysis/1"

/* Writes the report to PATH.tmp and renames it to path. The captures named by
 * the items are analysed again for the flows summary (an unreadable capture is
 * noted in the report, not an error). Returns -1 with err set when the file
 * cannot be written. */
int report_json_write(const char *path, const struct report_item *items, size_t n, double wall_s,
		      struct lab_err *err);

/* The same document into an open stream (for tests and pipes). */
int report_json_write_stream(FILE *out, const struct report_item *items, size_t n, double wall_s,
			     struct lab_err *err);

/* One capture's analysis alone, as `tcplab check --json` and `tcplab show --json`
 * write it (schema "tcplab-analysis/1", docs/report-formats.md): the capture's
 * path, the `flows` object of tcplab-report/1 (connections analysed: those of
 * `port`, 0 for all) and, when item->sc is set (check), the status and verdicts. */
int report_json_write_analysis(FILE *out, const struct report_item *item, int port,
			       struct lab_err *err);

#endif
