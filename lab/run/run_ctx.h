/* run_ctx: the state of one run, shared by the files of the runner and private to
 * them: loop.c (the event loop: programs, capture, outputs, liveness samples),
 * fault_clock.c (faults in time: pause, kill), teardown.c (stopping the programs)
 * and run.c (the whole run, in order). */
#ifndef TCPLAB_RUN_CTX_H
#define TCPLAB_RUN_CTX_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/liveness/liveness.h"
#include "lab/run/capture.h"
#include "lab/run/env.h"
#include "lab/run/run.h"
#include "lab/run/sandbox.h"
#include "lab/wire/wire.h"

struct run_ctx {
	const struct scenario *sc;
	const struct run_opts *opts;
	struct run_record *rec;
	struct sandbox sandbox;
	struct capture *capture;
	struct liveness *liveness;
	struct wire *wire; /* a scenario with link lines: the programs' two namespaces */
	struct run_env env;
	int64_t start_us;
	char stats_dir[64];
	char stats_path[2][PATH_MAX];
	uint64_t queue_samples_seen; /* loop.c: liveness samples since the stride changed */
	/* fault_clock.c */
	bool paused[2];
	int64_t pause_start_us[2];
	bool pause_done[2];
	bool kill_done[2];
};

/* ---- loop.c ---- */

/* Microseconds since the run started. */
int64_t loop_since_start(const struct run_ctx *ctx);

/* Adds an event to the run's timeline (dropped past RUN_MAX_EVENTS). */
void loop_add_event(struct run_ctx *ctx, enum run_event_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True (err set) when the user asked the lab to stop. */
bool loop_interrupted(const struct run_ctx *ctx, struct lab_err *err);

/* One round of waiting: capture, outputs and exits, up to timeout_ms. */
int loop_pump(struct run_ctx *ctx, int timeout_ms, struct lab_err *err);

/* Starts the server and waits until something listens on the port, the server
 * ends, or the run times out. */
int loop_start_server(struct run_ctx *ctx, struct lab_err *err);

/* Starts the client and runs until it ends, a deadlock or hang is seen, or the
 * timeout. */
int loop_run_client(struct run_ctx *ctx, struct lab_err *err);

/* Milliseconds left before the scenario's timeout. */
int64_t loop_deadline_left_ms(const struct run_ctx *ctx);

/* ---- fault_clock.c ---- */

/* Applies `pause at`/`kill at` faults whose time has come (times count from the
 * start of the program they name). */
void fault_clock_apply(struct run_ctx *ctx);

/* The earliest pending fault time, as a poll timeout in ms from now (cap: max_ms). */
int fault_clock_next_ms(const struct run_ctx *ctx, int max_ms);

/* ---- link.c ---- */

/* The wire of a scenario with link lines, its namespaces given the scenario's
 * sysctls, the relay started; the client side's capture is the run's. Before
 * sandbox_enter: the wire makes threads, which a thread inside a new PID
 * namespace cannot. */
int link_start(struct run_ctx *ctx, struct lab_err *err);

/* The payload kept whole per direction of a connection in the run's captures
 * (--snap-payload, else `capture payload`, else the lab's default); INT64_MAX: all. */
int64_t run_payload_budget(const struct run_ctx *ctx);

/* Stops the relay (the captures are then complete) and records what the link did. */
int link_stop(struct run_ctx *ctx, struct lab_err *err);

/* ---- teardown.c ---- */

/* Ends both programs: at once after a deadlock, hang, timeout or interrupt; a
 * server whose client finished first gets to settle. Drains their outputs. */
void teardown_stop_programs(struct run_ctx *ctx);

/* The shim's counters into the record; removes the stats files. */
void teardown_read_shim_stats(struct run_ctx *ctx);

#endif
