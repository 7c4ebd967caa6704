/* report: what the user reads after `tcplab run` and `tcplab check`: one line per
 * scenario (PASS/FAIL/ERROR, time, pcap), the failed expectations in words with
 * FILE:LINE, a hint to open the capture in Wireshark, and a summary line. */
#ifndef TCPLAB_REPORT_H
#define TCPLAB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "lab/verdict/expect.h"
#include "lab/analysis/facts.h"
#include "lab/record/record.h"
#include "lab/scenario/scenario.h"

/* INCONCLUSIVE: no verdict failed, and at least one could not be known (the
 * capture lost packets, output was cut): the scenario neither passed nor failed. */
enum report_status { REPORT_PASS, REPORT_FAIL, REPORT_ERROR, REPORT_INCONCLUSIVE };
#define REPORT_STATUS_COUNT 4

/* Everything known about one scenario's run, for the reports. */
struct report_item {
	const struct scenario *sc;
	enum report_status status;
	struct run_record *rec; /* NULL for `check` or when the lab could not run it */
	struct verdict *verdicts; /* sc->n_expects of them */
	/* One per fault line of the scenario (expect_faults): did it take effect?
	 * NULL and 0 for a capture alone. */
	struct verdict *fault_verdicts;
	size_t n_fault_verdicts;
	/* The facts of its capture (lab/analysis/facts.h), which the reports render;
	 * NULL when there is no capture or it could not be read (facts_error: why). */
	const struct facts *facts;
	const char *facts_error;
	char error[1024]; /* REPORT_ERROR: why */
	const char *pcap_path;
};

struct report_opts {
	bool color;
	bool verbose; /* every verdict, not only the failed ones */
};

/* "15 short sends, 16 bytes sent (2 processes)": what the fault shim did in one
 * program, only the counters that moved; with_calls puts the intercepted calls
 * first. Always NUL-terminates. */
void report_shim_counts(const struct shim_stats *st, bool with_calls, char *buf, size_t len);

/* The status verdicts give a scenario: FAIL when one failed, else INCONCLUSIVE
 * when one could not be known, else PASS. */
enum report_status report_status_of(const struct report_item *item);

/* The line for one scenario and, when it failed, its verdicts and outputs. */
void report_item(FILE *out, const struct report_item *item, const struct report_opts *opts);

/* "2 scenarios: 2 passed, 0 failed, 0 errors (0.05 s)"; ", 1 inconclusive"
 * after the failed ones when there are any. */
void report_summary(FILE *out, const struct report_item *items, size_t n, double wall_s,
		    const struct report_opts *opts);

#endif
