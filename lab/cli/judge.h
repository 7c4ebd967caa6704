/* judge: a scenario's capture analysed once and its expectations judged, into a
 * report item: the analysis stage (facts) then the verdicts, for `run` (with the
 * run's record) and `check` (a capture alone). */
#ifndef TCPLAB_JUDGE_H
#define TCPLAB_JUDGE_H

#include <stdbool.h>

#include "lab/analysis/facts.h"
#include "lab/common/err.h"
#include "lab/record/record.h"
#include "lab/report/report.h"
#include "lab/scenario/scenario.h"

/* Reads pcap_path once into *facts (kept for the reports: free with facts_free;
 * with ladder rows when ladder is non-NULL, with graph points when series) and judges sc's expectations on it
 * and on rec (NULL for a capture alone). Sets item->verdicts, item->facts and
 * item->status (PASS or FAIL). Returns -1 with err set when the capture cannot be
 * read or judged: item->status is then REPORT_ERROR with the message in
 * item->error (and item->facts_error pointing to it when there are no facts). */
int judge_item(const struct scenario *sc, const struct run_record *rec, const char *pcap_path,
	       const struct ladder_opts *ladder, bool series, struct report_item *item,
	       struct facts **facts, struct lab_err *err);

#endif
