/* explore_runs: the runs of `tcplab explore`: one schedule run as one scenario run
 * (an attempt: the scenario with the schedule's fault lines added, run in a
 * thread of its own, judged), and the search, N runs drawn from a seed on -j
 * workers, stopping at the lowest-numbered failing run. Prints nothing. */
#ifndef TCPLAB_EXPLORE_RUNS_H
#define TCPLAB_EXPLORE_RUNS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/analysis/facts.h"
#include "lab/explore/explore.h"
#include "lab/record/record.h"
#include "lab/report/report.h"
#include "lab/run/run.h"
#include "lab/scenario/scenario.h"

struct attempt {
	struct explore_schedule sched;
	struct scenario view; /* the scenario with the schedule's faults */
	struct fault *faults; /* view's faults */
	char name[300];       /* view's name: names its capture */
	const struct run_opts *opts;
	struct run_record rec;
	struct report_item item;
	struct facts *facts;
	bool error;  /* the lab could not run or judge it: item.error says why */
	bool failed; /* some expectation did not hold */
	/* The run reached the scenario's timeout (which it does not expect):
	 * slow under its schedule or stuck, the lab cannot tell which, so it
	 * counts as neither failed nor passed (failed is false). */
	bool timed_out;
	int failed_line;           /* the first expectation that did not hold: its line */
	const char *failed_source; /* ... as written */
	const char *failed_text;   /* ... and its verdict in words */
};

/* Runs sc with schedule s added; capture named `name` in opts->pcap_dir, deleted
 * afterwards unless keep_pcap. Returns -1 only when out of memory or no thread
 * can be made (a run the lab could not do sets a->error). Release with
 * attempt_release. */
int attempt_run(struct attempt *a, const struct scenario *sc, const struct explore_schedule *s,
		const char *name, const struct run_opts *opts, bool keep_pcap);
void attempt_release(struct attempt *a);

/* Per program and kind (bit order of enum scenario_explore_kind): in how many runs
 * it was drawn, and in how many of those the shim reports it did something. */
struct explore_counts {
	uint64_t drawn[2][EXPLORE_KINDS];
	uint64_t fired[2][EXPLORE_KINDS];
	/* The same for the wire, per link kind (bit order of enum
	 * scenario_explore_link_kind), both directions together: took effect when
	 * the link lost, held back, duplicated or delayed a packet for it. */
	uint64_t link_drawn[EXPLORE_LINK_KINDS];
	uint64_t link_fired[EXPLORE_LINK_KINDS];
};

struct search {
	/* in */
	const struct scenario *sc;
	const struct run_opts *opts;
	uint64_t seed;
	uint64_t runs;
	int64_t deadline_us; /* proc_now_us() after which no run starts; 0: none */
	const atomic_bool *interrupted;
	/* out, under lock */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	uint64_t next;
	uint64_t done;
	uint64_t running[256];
	int n_running;
	uint64_t failing_run; /* the lowest failing run so far; UINT64_MAX none */
	struct attempt *failing;
	struct attempt *errored; /* a run the lab could not do (the search stops) */
	struct explore_counts counts;
	uint64_t timed_out;       /* runs that reached the timeout (attempt.timed_out) */
	uint64_t first_timed_out; /* the lowest of them; UINT64_MAX none */
	int64_t busy_us;          /* summed wall time of the runs */
};

/* Starts `jobs` workers on the search and returns when they are done; while they
 * run, tick(search, arg) is called under the lock every quarter second or so. */
void search_run(struct search *s, int jobs, void (*tick)(struct search *, void *), void *arg);

#endif
