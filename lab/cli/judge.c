/* judge: analysis then verdicts for one scenario (judge.h). */
#include "lab/cli/judge.h"

#include <stdio.h>

#include "lab/verdict/expect.h"

int judge_item(const struct scenario *sc, const struct run_record *rec, const char *pcap_path,
	       const struct ladder_opts *ladder, bool series, struct report_item *item,
	       struct facts **facts, struct lab_err *err)
{
	struct facts_opts fo;
	int rc = -1;

	*facts = NULL;
	item->facts = NULL;
	item->facts_error = NULL;
	if (expect_facts_opts(sc, &fo, err) < 0)
		return -1;
	fo.ladder = ladder;
	/* Packets after the lab's stop are the lab's doing, not the programs'. */
	if (rec != NULL && rec->stop_us >= 0 && rec->stop_wall_us > 0)
		fo.until_us = rec->stop_wall_us;
	fo.series = series;
	if (facts_read(pcap_path, &fo, facts, err) < 0)
		goto out;
	item->facts = *facts;
	if (expect_evaluate(sc, rec, *facts, &item->verdicts, err) < 0)
		goto out;
	if (expect_faults(sc, rec, *facts, &item->fault_verdicts, &item->n_fault_verdicts,
			  err) < 0)
		goto out;
	item->sc = sc;
	item->status = report_status_of(item);
	rc = 0;
out:
	if (rc < 0) {
		item->status = REPORT_ERROR;
		snprintf(item->error, sizeof(item->error), "%s", err->msg);
		if (item->facts == NULL)
			item->facts_error = item->error;
	}
	expect_facts_opts_free(&fo);
	return rc;
}
