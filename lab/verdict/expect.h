/* expect: judges a scenario's expectations against what a run recorded and what
 * its capture holds, and says each verdict in words ("expected 1 packet matching
 * ..., saw 0"). It judges the facts of the analysis stage (lab/analysis/facts.h)
 * and never reads a capture itself; it never prints. */
#ifndef TCPLAB_EXPECT_H
#define TCPLAB_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/analysis/facts.h"
#include "lab/common/err.h"
#include "lab/record/record.h"
#include "lab/scenario/scenario.h"

/* A verdict is held, failed, or inconclusive: the lab cannot know (the capture
 * lost packets, the output searched was cut short); inconclusive is never held. */
struct verdict {
	const struct expectation *exp; /* NULL for a fault line's verdict */
	const struct fault *fault;     /* the fault line judged, or NULL */
	bool held;
	bool inconclusive;
	int line; /* of the expectation or fault line */
	int col;
	char source[160]; /* the line as written (a fault: in the lab's words) */
	char text[640];   /* what was expected and what was seen, in words */
};

/* Checks at load time what can be checked before a run: every `packets` filter
 * compiles. err: "FILE:LINE:COL: bad packet filter ...: libpcap's message". */
int expect_validate(const struct scenario *sc, struct lab_err *err);

/* True for expectations about the programs or the run (exit, output, outcome,
 * deadlock, duration): they need a run record, not only a capture. */
bool expect_needs_run(const struct expectation *exp);

/* Room for "FILE:LINE:COL" naming a filter in expect_facts_opts. */
#define EXPECT_WHERE_LEN 4200

/* What the analysis must find for sc's expectations: its port, the BPF filter of
 * every `packets` expectation and the payload rule of every `segments`
 * expectation, in the order of the file. Allocates (expect_facts_opts_free);
 * fo->ladder is left NULL for the caller to set. */
int expect_facts_opts(const struct scenario *sc, struct facts_opts *fo, struct lab_err *err);
void expect_facts_opts_free(struct facts_opts *fo);

/* Judges every expectation of sc on the facts of its capture, read with the
 * options expect_facts_opts gave. rec may be NULL (a capture taken elsewhere):
 * then expectations that need a run are an error. *verdicts gets sc->n_expects
 * entries (free with free()). Returns -1 when the facts cannot be judged (a
 * damaged capture). */
int expect_evaluate(const struct scenario *sc, const struct run_record *rec,
		    const struct facts *facts, struct verdict **verdicts, struct lab_err *err);

/* A verdict on each fault line of sc that the lab can judge: did it take effect?
 * A fault that never took effect fails, saying why the shim (or the driver) could
 * not act: the program was statically linked or moved its data by calls the shim
 * does not interpose (sendfile, io_uring), it ended before `pause at`, nothing
 * crossed the limit. Judged today on the shim's counters per kind of fault (see
 * lab/shim/shim_config.h, struct shim_stats) and on the driver's record of pause
 * and kill; facts (may be NULL) say what the capture saw each side send.
 * *verdicts gets *n entries (free with free()); none for a capture alone. */
int expect_faults(const struct scenario *sc, const struct run_record *rec,
		  const struct facts *facts, struct verdict **verdicts, size_t *n,
		  struct lab_err *err);

#endif
