/* run: one scenario end to end (see run.h). The calling thread enters the
 * scenario's namespaces, starts the capture, then the server and the client, and
 * hands over to the event loop (loop.c); every exit path goes through one
 * teardown (teardown.c) that stops the programs, kills the PID namespace and
 * closes or deletes the capture. */
#include "lab/run/run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/run/run_ctx.h"

/* Longer than the capture ring's block timeout (1 ms), so the last block arrives. */
#define RUN_CAPTURE_GRACE_MS 3

int run_scenario(const struct scenario *sc, const struct run_opts *opts, struct run_record *rec,
		 struct lab_err *err)
{
	struct run_ctx ctx = { .sc = sc, .opts = opts, .rec = rec };
	int rc = -1;

	memset(rec, 0, sizeof(*rec));
	rec->outcome = OUTCOME_COMPLETED;
	rec->listening_us = -1;
	rec->last_progress_us = -1;
	rec->verdict_us = -1;
	rec->side[WHO_CLIENT].present = true;
	rec->side[WHO_SERVER].present = sc->server.command != NULL;
	ctx.sandbox.init_pid = -1;
	snprintf(rec->pcap_path, sizeof(rec->pcap_path), "%s/%s.pcap", opts->pcap_dir, sc->name);
	snprintf(ctx.stats_dir, sizeof(ctx.stats_dir), "/tmp/tcplab-XXXXXX");
	if (mkdtemp(ctx.stats_dir) == NULL) {
		lab_err_sys(err, errno, "cannot make a temporary directory");
		return -1;
	}
	for (int who = 0; who < 2; who++)
		snprintf(ctx.stats_path[who], sizeof(ctx.stats_path[who]), "%s/%s.stats",
			 ctx.stats_dir, scenario_who_name((enum scenario_who)who));
	if (sandbox_enter(&ctx.sandbox, sc, err) < 0)
		goto out;
	ctx.capture = capture_start(rec->pcap_path, opts->snaplen, err);
	if (ctx.capture == NULL)
		goto out;
	ctx.liveness = liveness_new((uint64_t)sc->quiet_us, err);
	if (ctx.liveness == NULL)
		goto out;
	ctx.start_us = proc_now_us();
	if (rec->side[WHO_SERVER].present && loop_start_server(&ctx, err) < 0)
		goto out;
	if (loop_deadline_left_ms(&ctx) <= 0) {
		rec->outcome = OUTCOME_TIMEOUT;
		loop_add_event(
			&ctx, RUN_EV_TIMEOUT,
			"timeout: the server never listened on port %d, so the client never started",
			sc->port);
	} else {
		if (loop_run_client(&ctx, err) < 0)
			goto out;
	}
	rc = 0;
out:
	teardown_stop_programs(&ctx);
	sandbox_leave(&ctx.sandbox);
	rec->duration_us = ctx.start_us ? loop_since_start(&ctx) : 0;
	if (ctx.capture != NULL) {
		if (rc == 0) {
			if (capture_stop(ctx.capture, RUN_CAPTURE_GRACE_MS, &rec->capture, err) < 0)
				rc = -1;
			else
				rec->open_capture = ctx.capture;
		} else {
			capture_abort(ctx.capture);
		}
	}
	liveness_free(ctx.liveness);
	teardown_read_shim_stats(&ctx);
	run_env_free(&ctx.env);
	return rc;
}

void run_finish(struct run_record *rec)
{
	capture_close(rec->open_capture);
	rec->open_capture = NULL;
}

void run_record_release(struct run_record *rec)
{
	run_finish(rec);
	free(rec->queue_samples);
	rec->queue_samples = NULL;
	rec->n_queue_samples = 0;
	for (int who = 0; who < 2; who++)
		if (rec->side[who].started)
			proc_release(&rec->side[who].proc);
}
