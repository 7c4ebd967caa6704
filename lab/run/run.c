/* run: one scenario end to end (see run.h). The calling thread enters the
 * scenario's namespaces, starts the capture (or, for a scenario with link lines,
 * the wire, whose relay writes the captures: link.c), then the server and the client, and
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
/* Nice steps above the programs for the thread that reads the capture. */
#define RUN_CAPTURE_PRIORITY 10

/* A pidfd for a PID of the scenario's namespace, for the liveness decision. */
int64_t run_payload_budget(const struct run_ctx *ctx)
{
	if (ctx->opts->snap_payload_bytes >= 0)
		return ctx->opts->snap_payload_bytes;
	if (ctx->sc->capture_payload_bytes >= 0)
		return ctx->sc->capture_payload_bytes;
	return CAPTURE_PAYLOAD_BUDGET_BYTES;
}

static int run_pidfd(void *arg, int pid)
{
	return sandbox_pidfd(arg, pid);
}

int run_leftovers_add(struct run_leftovers *l, const char *path)
{
	int slot = -1;

	if (l == NULL)
		return -1;
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < RUN_LEFTOVERS_MAX && slot < 0; i++) {
		if (l->paths[i] == NULL) {
			l->paths[i] = strdup(path);
			slot = l->paths[i] != NULL ? i : -1;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return slot;
}

void run_leftovers_drop(struct run_leftovers *l, int slot)
{
	if (l == NULL || slot < 0)
		return;
	pthread_mutex_lock(&l->lock);
	free(l->paths[slot]);
	l->paths[slot] = NULL;
	pthread_mutex_unlock(&l->lock);
}

void run_leftovers_remove_all(struct run_leftovers *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	for (int i = 0; i < RUN_LEFTOVERS_MAX; i++)
		if (l->paths[i] != NULL)
			unlink(l->paths[i]);
	for (int i = 0; i < RUN_LEFTOVERS_MAX; i++)
		if (l->paths[i] != NULL)
			rmdir(l->paths[i]);
	pthread_mutex_unlock(&l->lock);
}

int run_scenario(const struct scenario *sc, const struct run_opts *opts, struct run_record *rec,
		 struct lab_err *err)
{
	struct run_ctx ctx = { .sc = sc, .opts = opts, .rec = rec };
	char part_path[PATH_MAX + 8];
	/* stats dir, its two files, the capture; with a link, the relay's two captures */
	int slots[6] = { -1, -1, -1, -1, -1, -1 };
	int netns_fds[2] = { -1, -1 };
	int rc = -1;

	memset(rec, 0, sizeof(*rec));
	rec->outcome = OUTCOME_COMPLETED;
	rec->listening_us = -1;
	rec->last_progress_us = -1;
	rec->verdict_us = -1;
	rec->stop_us = -1;
	rec->side[WHO_CLIENT].present = true;
	rec->side[WHO_SERVER].present = sc->server.command != NULL;
	ctx.sandbox.init_pid = -1;
	ctx.sandbox.init_fd = -1;
	if (opts->copy > 0)
		snprintf(rec->pcap_path, sizeof(rec->pcap_path), "%s/%s-%d.pcap", opts->pcap_dir,
			 sc->name, opts->copy + 1);
	else
		snprintf(rec->pcap_path, sizeof(rec->pcap_path), "%s/%s.pcap", opts->pcap_dir,
			 sc->name);
	snprintf(ctx.stats_dir, sizeof(ctx.stats_dir), "/tmp/tcplab-XXXXXX");
	if (mkdtemp(ctx.stats_dir) == NULL) {
		lab_err_sys(err, errno, "cannot make a temporary directory");
		return -1;
	}
	slots[0] = run_leftovers_add(opts->leftovers, ctx.stats_dir);
	for (int who = 0; who < 2; who++) {
		snprintf(ctx.stats_path[who], sizeof(ctx.stats_path[who]), "%s/%s.stats",
			 ctx.stats_dir, scenario_who_name((enum scenario_who)who));
		slots[1 + who] = run_leftovers_add(opts->leftovers, ctx.stats_path[who]);
	}
	snprintf(part_path, sizeof(part_path), "%s.part", rec->pcap_path);
	slots[3] = run_leftovers_add(opts->leftovers, part_path);
	/* The wire first: its threads cannot be made once this thread has entered
	 * the sandbox's PID namespace (the kernel refuses a new thread there). */
	if (sc->link.line != 0) {
		if (link_start(&ctx, err) < 0)
			goto out;
		/* Written as they go: a lab killed mid-run removes them. */
		slots[4] = run_leftovers_add(opts->leftovers, rec->pcap_path);
		slots[5] = run_leftovers_add(opts->leftovers, rec->link.server_pcap_path);
	}
	if (sandbox_enter(&ctx.sandbox, sc, err) < 0)
		goto out;
	if (ctx.wire != NULL) {
		/* The relay writes the captures; the sockets live in the wire's two
		 * namespaces. */
		netns_fds[0] = wire_netns_fd(ctx.wire, WIRE_SERVER);
		netns_fds[1] = wire_netns_fd(ctx.wire, WIRE_CLIENT);
	} else {
		int64_t budget = run_payload_budget(&ctx);

		ctx.capture =
			capture_start(rec->pcap_path, opts->snaplen,
				      budget == INT64_MAX ? UINT64_MAX : (uint64_t)budget, err);
		if (ctx.capture == NULL)
			goto out;
	}
	proc_raise_priority(RUN_CAPTURE_PRIORITY);
	ctx.liveness = liveness_new(
		&(struct liveness_opts){
			.quiet_us = (uint64_t)sc->quiet_us,
			.hang_after_us = sc->hang_after_us == 0 ? sc->quiet_us : sc->hang_after_us,
			.proc_dir = "/proc",
			.pidfd_fn = run_pidfd,
			.pidfd_arg = &ctx.sandbox,
			.netns_fds = netns_fds,
			.n_netns = ctx.wire != NULL ? 2 : 0,
		},
		err);
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
	if (ctx.wire != NULL) {
		if (link_stop(&ctx, err) < 0)
			rc = -1;
		if (rc < 0) {
			unlink(rec->pcap_path);
			unlink(rec->link.server_pcap_path);
		}
		wire_free(ctx.wire);
	}
	liveness_free(ctx.liveness);
	teardown_read_shim_stats(&ctx);
	run_env_free(&ctx.env);
	for (int i = 0; i < 6; i++)
		run_leftovers_drop(opts->leftovers, slots[i]);
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
