/* teardown: the end of a run (run_ctx.h): the programs stopped, their outputs
 * drained, the shim's counters read. */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lab/run/run_ctx.h"
#include "lab/shim/shim_spec.h"

/* A stopped server gets this long to go after SIGTERM before SIGKILL. */
#define RUN_STOP_GRACE_MS 100
/* After the client ends, the server gets at most this long to finish its work
 * (its last lines, its close) and go back to waiting, before it is stopped. */
#define RUN_SETTLE_MS 200

/* Ends both programs. After a deadlock or timeout both are frozen first, then
 * killed: killed one after the other, the first to die would send a RST that lets
 * the other return from its blocked call and exit on its own before its SIGKILL
 * lands. A client that finished leaves a server to be stopped politely. */
/* The client is done: waits until every process left (the server's) waits with
 * no time limit, typically in accept() for the next client, so that stopping it
 * cuts off nothing it was still doing for the last one. At most RUN_SETTLE_MS. */
static void let_server_settle(struct run_ctx *ctx)
{
	struct run_side *server = &ctx->rec->side[WHO_SERVER];
	int64_t until_us = proc_now_us() + RUN_SETTLE_MS * 1000;
	struct lab_err ignored;

	while (server->started && server->proc.running && !ctx->paused[WHO_SERVER] &&
	       proc_now_us() < until_us) {
		if (liveness_all_waiting())
			return;
		if (loop_pump(ctx, 1, &ignored) < 0)
			return;
	}
}

/* The moment the lab decided to end programs still running, on the run's clock
 * and on the capture's (CLOCK_REALTIME, which stamps the packets): what the
 * capture holds after it is the lab's doing (record.h). */
static void mark_lab_stop(struct run_ctx *ctx)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ctx->rec->stop_us = loop_since_start(ctx);
	ctx->rec->stop_wall_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

void teardown_stop_programs(struct run_ctx *ctx)
{
	struct lab_err ignored;
	bool at_once = ctx->rec->outcome != OUTCOME_COMPLETED || loop_interrupted(ctx, &ignored);
	int sigs[2] = { SIGSTOP, SIGKILL };

	if (!at_once)
		let_server_settle(ctx);

	for (int who = WHO_CLIENT; who <= WHO_SERVER; who++) {
		struct run_side *side = &ctx->rec->side[who];

		if (!side->started || !side->proc.running)
			continue;
		if (ctx->rec->stop_us < 0)
			mark_lab_stop(ctx);
		side->stopped_by_lab = true;
		loop_add_event(ctx, RUN_EV_STOP, "%s stopped by the lab", scenario_who_name(who));
	}
	for (int i = 0; at_once && i < 2; i++)
		for (int who = WHO_CLIENT; who <= WHO_SERVER; who++)
			if (ctx->rec->side[who].stopped_by_lab)
				proc_signal(&ctx->rec->side[who].proc, sigs[i]);
	for (int who = WHO_CLIENT; who <= WHO_SERVER; who++) {
		struct run_side *side = &ctx->rec->side[who];

		if (!side->started)
			continue;
		if (ctx->paused[who])
			proc_signal(&side->proc, SIGCONT);
		proc_stop(&side->proc, RUN_STOP_GRACE_MS);
		proc_drain_output(&side->proc);
	}
}

void teardown_read_shim_stats(struct run_ctx *ctx)
{
	for (int who = 0; who < 2; who++) {
		struct lab_err ignored;

		if (ctx->stats_path[who][0] == '\0')
			continue;
		shim_stats_read(ctx->stats_path[who], &ctx->rec->side[who].shim, &ignored);
		unlink(ctx->stats_path[who]);
	}
	rmdir(ctx->stats_dir);
}
