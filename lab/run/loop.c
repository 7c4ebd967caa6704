/* loop: the run's event loop (run_ctx.h): one poll over the capture, the
 * programs' exits and outputs, the fault schedule, the liveness samples and the
 * timeout. */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/run/run_ctx.h"

/* How often the liveness sample is taken, and how often the client start waits
 * for the server's listener to show up in sock_diag. */
#define RUN_SAMPLE_US 5000
#define RUN_LISTEN_POLL_US 500

int64_t loop_since_start(const struct run_ctx *ctx)
{
	return proc_now_us() - ctx->start_us;
}

void loop_add_event(struct run_ctx *ctx, enum run_event_kind kind, const char *fmt, ...)
{
	struct run_record *rec = ctx->rec;
	struct run_event *ev;
	va_list ap;

	if (rec->n_events >= RUN_MAX_EVENTS)
		return;
	ev = &rec->events[rec->n_events++];
	ev->at_us = loop_since_start(ctx);
	ev->kind = kind;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
}

bool loop_interrupted(const struct run_ctx *ctx, struct lab_err *err)
{
	if (ctx->opts->interrupted == NULL || !atomic_load(ctx->opts->interrupted))
		return false;
	lab_err_set(err, "interrupted: the programs were killed and the capture deleted");
	return true;
}

int64_t loop_deadline_left_ms(const struct run_ctx *ctx)
{
	return (ctx->sc->timeout_us - loop_since_start(ctx)) / 1000;
}

static int start_program(struct run_ctx *ctx, enum scenario_who who, struct lab_err *err)
{
	const struct scenario_program *prog =
		who == WHO_CLIENT ? &ctx->sc->client : &ctx->sc->server;
	struct run_side *side = &ctx->rec->side[who];
	char *dir = strdup(ctx->sc->path);
	char **env = run_env_make(&ctx->env, ctx->sc, ctx->opts, who, ctx->stats_path[who], err);
	int rc = -1;

	if (dir == NULL || env == NULL)
		goto out;
	/* With a link, each program runs in its side's namespace of the wire. */
	if (proc_spawn_in(&side->proc, prog->command, dirname(dir), env,
			  ctx->wire ? wire_netns_fd(ctx->wire, who == WHO_CLIENT ? WIRE_CLIENT :
										 WIRE_SERVER) :
				      -1,
			  err) < 0)
		goto out;
	proc_watch_outputs(&side->proc, ctx->sc, who);
	side->started = true;
	side->faulted = run_env_faulted(ctx->sc, who);
	loop_add_event(ctx, who == WHO_CLIENT ? RUN_EV_CLIENT_START : RUN_EV_SERVER_START,
		       "%s started (pid %d): %s", scenario_who_name(who), (int)side->proc.pid,
		       prog->command);
	rc = 0;
out:
	free(dir);
	free(env);
	return rc;
}

int loop_pump(struct run_ctx *ctx, int timeout_ms, struct lab_err *err)
{
	struct pollfd pfd[7];
	int n = 0;

	if (ctx->capture) /* none with a link: the relay writes the captures */
		pfd[n++] = (struct pollfd){ .fd = capture_fd(ctx->capture), .events = POLLIN };
	for (int who = 0; who < 2; who++) {
		struct run_side *side = &ctx->rec->side[who];

		if (!side->started)
			continue;
		if (side->proc.running)
			pfd[n++] = (struct pollfd){ .fd = side->proc.pidfd, .events = POLLIN };
		if (side->proc.out.fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = side->proc.out.fd, .events = POLLIN };
		if (side->proc.err.fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = side->proc.err.fd, .events = POLLIN };
	}
	if (poll(pfd, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
		return lab_err_sys(err, errno, "poll");
	if (ctx->capture && capture_dispatch(ctx->capture, err) < 0)
		return -1;
	for (int who = 0; who < 2; who++) {
		struct run_side *side = &ctx->rec->side[who];

		if (!side->started)
			continue;
		proc_read_output(&side->proc);
		if (side->proc.running && proc_poll_exit(&side->proc)) {
			if (side->proc.exited)
				loop_add_event(ctx, RUN_EV_EXIT, "%s exited with status %d",
					       scenario_who_name(who), side->proc.exit_code);
			else
				loop_add_event(ctx, RUN_EV_EXIT, "%s killed by signal %d (%s)",
					       scenario_who_name(who), side->proc.signal,
					       sigdescr_np(side->proc.signal) != NULL
						       ? sigdescr_np(side->proc.signal)
						       : "unknown signal");
		}
	}
	return 0;
}

int loop_start_server(struct run_ctx *ctx, struct lab_err *err)
{
	struct run_side *server = &ctx->rec->side[WHO_SERVER];
	bool listening = false;

	if (start_program(ctx, WHO_SERVER, err) < 0)
		return -1;
	for (;;) {
		if (liveness_listening(ctx->liveness, ctx->sc->port, &listening, err) < 0)
			return -1;
		if (listening) {
			ctx->rec->listening_us = loop_since_start(ctx);
			loop_add_event(ctx, RUN_EV_LISTENING, "server listening on port %d",
				       ctx->sc->port);
			return 0;
		}
		if (!server->proc.running) {
			loop_add_event(ctx, RUN_EV_EXIT,
				       "the server ended before it listened on port %d; "
				       "the client starts anyway",
				       ctx->sc->port);
			return 0;
		}
		if (loop_deadline_left_ms(ctx) <= 0)
			return 0;
		if (loop_interrupted(ctx, err))
			return -1;
		if (loop_pump(ctx, 0, err) < 0)
			return -1;
		usleep(RUN_LISTEN_POLL_US);
	}
}

/* The liveness figures of a verdict into the record. */
static void record_figures(struct run_ctx *ctx)
{
	const struct liveness_figures *f = liveness_figures(ctx->liveness);
	struct run_record *rec = ctx->rec;

	rec->last_progress_us = (int64_t)f->last_progress_us - ctx->start_us;
	rec->verdict_us = loop_since_start(ctx);
	rec->stall_bytes[0] = f->bytes[0];
	rec->stall_bytes[1] = f->bytes[1];
	rec->stall_queued[0] = f->queued[0];
	rec->stall_queued[1] = f->queued[1];
	snprintf(rec->stall_text, sizeof(rec->stall_text), "%s", f->text);
}

/* The sockets as the last liveness sample saw them, on the run's timeline. */
static void record_queues(struct run_ctx *ctx)
{
	struct run_record *rec = ctx->rec;
	struct liveness_queues q;
	struct run_queue_sample *s;

	if (rec->queue_stride == 0)
		rec->queue_stride = 1;
	if (ctx->queue_samples_seen++ % rec->queue_stride != 0)
		return;
	if (rec->n_queue_samples == RUN_MAX_QUEUE_SAMPLES) {
		for (size_t i = 0; i < RUN_MAX_QUEUE_SAMPLES / 2; i++)
			rec->queue_samples[i] = rec->queue_samples[2 * i];
		rec->n_queue_samples = RUN_MAX_QUEUE_SAMPLES / 2;
		rec->queue_stride *= 2;
		ctx->queue_samples_seen = 1;
	}
	if (rec->queue_samples == NULL) {
		rec->queue_samples = calloc(RUN_MAX_QUEUE_SAMPLES, sizeof(*rec->queue_samples));
		if (rec->queue_samples == NULL)
			return; /* the graph is a bonus: the run goes on without it */
	}
	liveness_queues(ctx->liveness, &q);
	s = &rec->queue_samples[rec->n_queue_samples++];
	s->at_us = loop_since_start(ctx);
	memcpy(s->send_queue_bytes, q.send_queue_bytes, sizeof(s->send_queue_bytes));
	memcpy(s->recv_queue_bytes, q.recv_queue_bytes, sizeof(s->recv_queue_bytes));
	memcpy(s->bytes, q.bytes, sizeof(s->bytes));
}

int loop_run_client(struct run_ctx *ctx, struct lab_err *err)
{
	struct run_side *client = &ctx->rec->side[WHO_CLIENT];
	int64_t next_sample_us = proc_now_us();

	if (start_program(ctx, WHO_CLIENT, err) < 0)
		return -1;
	while (client->proc.running) {
		int64_t left_ms = loop_deadline_left_ms(ctx);
		int64_t sample_ms = (next_sample_us - proc_now_us() + 999) / 1000;
		int wait_ms;

		if (loop_interrupted(ctx, err))
			return -1;
		if (left_ms <= 0) {
			ctx->rec->outcome = OUTCOME_TIMEOUT;
			loop_add_event(ctx, RUN_EV_TIMEOUT, "timeout after %lld ms",
				       (long long)(ctx->sc->timeout_us / 1000));
			break;
		}
		if (proc_now_us() >= next_sample_us) {
			enum liveness_verdict v;
			bool paused = ctx->paused[WHO_CLIENT] || ctx->paused[WHO_SERVER];

			if (liveness_sample(ctx->liveness, ctx->sc->port, (uint64_t)proc_now_us(),
					    paused, &v, err) < 0)
				return -1;
			record_queues(ctx);
			if (v != LIVENESS_RUNNING)
				record_figures(ctx);
			if (v == LIVENESS_DEADLOCK) {
				ctx->rec->outcome = OUTCOME_DEADLOCK;
				loop_add_event(ctx, RUN_EV_DEADLOCK, "%s", ctx->rec->stall_text);
				break;
			}
			if (v == LIVENESS_HANG) {
				ctx->rec->outcome = OUTCOME_HANG;
				loop_add_event(ctx, RUN_EV_HANG, "%s", ctx->rec->stall_text);
				break;
			}
			if (v == LIVENESS_STALL)
				loop_add_event(ctx, RUN_EV_STALL, "%s", ctx->rec->stall_text);
			next_sample_us = proc_now_us() + RUN_SAMPLE_US;
			sample_ms = RUN_SAMPLE_US / 1000;
		}
		fault_clock_apply(ctx);
		wait_ms = (int)(left_ms < sample_ms ? left_ms : sample_ms);
		wait_ms = fault_clock_next_ms(ctx, wait_ms < 0 ? 0 : wait_ms);
		if (loop_pump(ctx, wait_ms, err) < 0)
			return -1;
	}
	return 0;
}
