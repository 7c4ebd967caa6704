/* expect: judges a scenario's expectations against what a run recorded and what
 * its capture holds, and says each verdict in words ("expected 1 packet matching
 * ..., saw 0"). It reads the capture through the flow analyser and libpcap's own
 * BPF compiler; it never prints. */
#ifndef TCPLAB_EXPECT_H
#define TCPLAB_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "run.h"
#include "scenario.h"

struct verdict {
	const struct expectation *exp;
	bool held;
	char text[512]; /* what was expected and what was seen, in words */
};

/* Checks at load time what can be checked before a run: every `packets` filter
 * compiles. err: "FILE:LINE:COL: bad packet filter ...: libpcap's message". */
int expect_validate(const struct scenario *sc, struct lab_err *err);

/* True for expectations about the programs or the run (exit, output, outcome,
 * deadlock, duration): they need a run record, not only a capture. */
bool expect_needs_run(const struct expectation *exp);

/* Judges every expectation of sc. rec may be NULL (a capture taken elsewhere):
 * then expectations that need a run are an error. *verdicts gets sc->n_expects
 * entries (free with free()). Returns -1 when the capture cannot be read. */
int expect_evaluate(const struct scenario *sc, const struct run_record *rec, const char *pcap_path,
		    struct verdict **verdicts, struct lab_err *err);

#endif
