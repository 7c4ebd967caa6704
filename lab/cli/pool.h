/* pool: `tcplab run -j N`: N workers take the scenarios in turn; each scenario
 * runs in a fresh thread of its own (a thread that entered a scenario's
 * namespaces cannot leave them), then is analysed and judged. Ctrl-C, SIGTERM
 * and SIGHUP are taken by one thread that asks every running scenario to stop. */
#ifndef TCPLAB_POOL_H
#define TCPLAB_POOL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lab/analysis/facts.h"
#include "lab/cli/progress.h"
#include "lab/record/record.h"
#include "lab/report/report.h"
#include "lab/run/run.h"
#include "lab/scenario/scenario.h"

struct job {
	struct scenario *sc;
	const struct run_opts *run_opts;
	const struct ladder_opts *ladder; /* ladder rows the HTML report needs (and its
					   graph points), or NULL */
	struct report_item item;
	struct run_record rec;
	struct facts *facts; /* the capture's, kept for the reports */
	bool started;
	bool done;
};

struct pool {
	struct job *jobs;
	size_t n;
	atomic_size_t next;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

/* A worker thread's body (arg: the pool). */
void *pool_worker(void *arg);

/* Under pool->lock: the progress line with the scenarios running now. */
void pool_show_progress(struct pool *pool, struct progress *progress);

/* Under pool->lock: until a scenario starts or ends, or a quarter second passes
 * (so that the progress line's clock ticks). */
void pool_wait_a_little(struct pool *pool);

/* Frees what the jobs hold (verdicts, facts, records). */
void pool_release(struct pool *pool);

struct interrupter {
	sigset_t signals;
	atomic_bool stop;
	atomic_int signal;
	struct run_leftovers *leftovers; /* removed on a second signal */
};

/* Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and so in threads it
 * makes later) and starts the thread that waits for them. The first asks every
 * running scenario to stop (teardown: programs killed, partial captures
 * deleted); a second one, while that teardown runs (a second Ctrl-C, Bazel's
 * SIGTERM at a test timeout), ends the lab at once: the files in leftovers are
 * removed and the process exits with 128 + the signal. The programs and
 * namespaces go with it (each program and each namespace's init has
 * PR_SET_PDEATHSIG). Returns -1 when the thread cannot be started. */
int interrupter_start(struct interrupter *in);

#endif
