/* run: one scenario end to end (see run.h). The calling thread enters the
 * scenario's namespaces, then drives everything from one poll loop: the capture,
 * the programs' exits and outputs, the fault schedule, the socket watcher and the
 * timeout. Every exit path goes through one teardown that stops the programs,
 * kills the PID namespace and closes or deletes the capture. */
#include "lab/run/run.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "lab/liveness/hang.h"
#include "lab/run/sandbox.h"
#include "lab/liveness/watch.h"
#include "lab/wire/wire.h"

/* How often the watcher samples the sockets, and how often the client start waits
 * for the server's listener to show up in sock_diag. */
#define RUN_SAMPLE_US 5000
#define RUN_LISTEN_POLL_US 500
/* A stopped server gets this long to go after SIGTERM before SIGKILL. */
#define RUN_STOP_GRACE_MS 100
/* After the client ends, the server gets at most this long to finish its work
 * (its last lines, its close) and go back to waiting, before it is stopped. */
#define RUN_SETTLE_MS 200
/* Longer than the capture ring's block timeout (1 ms), so the last block arrives. */
#define RUN_CAPTURE_GRACE_MS 3

extern char **environ;

struct run_ctx {
	const struct scenario *sc;
	const struct run_opts *opts;
	struct run_record *rec;
	struct sandbox sandbox;
	struct capture *capture;
	struct watch *watch;
	/* With a link: the wire, and a watcher in each of its namespaces (watch is
	 * then the server's; samples are merged from both). */
	struct wire *wire;
	struct watch *watch_client;
	struct watch_sample *sample_client;
	struct watch_detector *detector;
	int64_t start_us;
	char stats_dir[64];
	char stats_path[2][PATH_MAX];
	char *env_strings[2][10];
	bool stall_noted;
	bool paused[2];
	bool pause_done[2];
	bool kill_done[2];
};

static int64_t since_start(const struct run_ctx *ctx)
{
	return proc_now_us() - ctx->start_us;
}

__attribute__((format(printf, 3, 4))) static void
add_event(struct run_ctx *ctx, enum run_event_kind kind, const char *fmt, ...)
{
	struct run_record *rec = ctx->rec;
	struct run_event *ev;
	va_list ap;

	if (rec->n_events >= RUN_MAX_EVENTS)
		return;
	ev = &rec->events[rec->n_events++];
	ev->at_us = since_start(ctx);
	ev->kind = kind;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
}

/* Appends "NAME=value" to extra[*n]; -1 when out of memory (extra[*n] stays NULL). */
__attribute__((format(printf, 3, 4))) static int add_env(char **extra, size_t *n, const char *fmt,
							 ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&extra[*n], fmt, ap);
	va_end(ap);
	if (rc < 0) {
		extra[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

/* The environment of one program: the lab's own, plus HOST, PORT, PATH with the
 * reference programs first, unbuffered Python output (a killed program's last
 * lines still reach the report), and the fault shim where faults name it (before
 * any LD_PRELOAD the user set). */
static char **make_env(struct run_ctx *ctx, enum scenario_who who, struct lab_err *err)
{
	char faults[2048];
	char **extra = ctx->env_strings[who];
	size_t n_extra = 0;
	size_t n_env = 0;
	char **env;
	const char *path = getenv("PATH");
	const char *preload = getenv("LD_PRELOAD");
	const char *asan = getenv("ASAN_OPTIONS");

	if (shim_spec_format(ctx->sc->faults, ctx->sc->n_faults, who, faults, sizeof(faults), err) <
	    0)
		return NULL;
	if (add_env(extra, &n_extra, "HOST=%s", ctx->sc->host) < 0 ||
	    add_env(extra, &n_extra, "PORT=%d", ctx->sc->port) < 0 ||
	    add_env(extra, &n_extra, "PATH=%s:%s", ctx->opts->tools_dir,
		    path ? path : "/usr/bin:/bin") < 0 ||
	    add_env(extra, &n_extra, "PYTHONUNBUFFERED=1") < 0)
		goto oom;
	if (faults[0] != '\0') {
		snprintf(ctx->stats_path[who], sizeof(ctx->stats_path[who]), "%s/%s.stats",
			 ctx->stats_dir, scenario_who_name(who));
		if (add_env(extra, &n_extra, "LD_PRELOAD=%s%s%s", ctx->opts->shim_path,
			    preload ? ":" : "", preload ? preload : "") < 0 ||
		    add_env(extra, &n_extra, "TCPLAB_FAULTS=%s", faults) < 0 ||
		    add_env(extra, &n_extra, "TCPLAB_SHIM_STATS=%s", ctx->stats_path[who]) < 0)
			goto oom;
		/* A program built with ASan refuses a library preloaded before its
		 * runtime unless told not to check; other programs ignore this. */
		if (add_env(extra, &n_extra, "ASAN_OPTIONS=verify_asan_link_order=0%s%s",
			    asan ? ":" : "", asan ? asan : "") < 0)
			goto oom;
		ctx->rec->side[who].faulted = true;
	}
	while (environ[n_env] != NULL)
		n_env++;
	env = calloc(n_env + n_extra + 1, sizeof(*env));
	if (env == NULL)
		goto oom;
	n_env = 0;
	for (char **e = environ; *e != NULL; e++) {
		bool replaced = false;

		for (size_t i = 0; i < n_extra; i++) {
			size_t name_len = strcspn(extra[i], "=") + 1;

			if (strncmp(*e, extra[i], name_len) == 0)
				replaced = true;
		}
		if (!replaced)
			env[n_env++] = *e;
	}
	for (size_t i = 0; i < n_extra; i++)
		env[n_env++] = extra[i];
	return env;
oom:
	lab_err_set(err, "out of memory");
	return NULL;
}

static int start_program(struct run_ctx *ctx, enum scenario_who who, struct lab_err *err)
{
	const struct scenario_program *prog =
		who == WHO_CLIENT ? &ctx->sc->client : &ctx->sc->server;
	struct run_side *side = &ctx->rec->side[who];
	char *dir = strdup(ctx->sc->path);
	char **env = make_env(ctx, who, err);
	int rc = -1;

	if (dir == NULL || env == NULL)
		goto out;
	if (proc_spawn_in(&side->proc, prog->command, dirname(dir), env,
			  ctx->wire ? wire_netns_fd(ctx->wire, who == WHO_CLIENT ? WIRE_CLIENT :
										 WIRE_SERVER) :
				      -1,
			  err) < 0)
		goto out;
	side->started = true;
	add_event(ctx, who == WHO_CLIENT ? RUN_EV_CLIENT_START : RUN_EV_SERVER_START,
		  "%s started (pid %d): %s", scenario_who_name(who), (int)side->proc.pid,
		  prog->command);
	rc = 0;
out:
	free(dir);
	free(env);
	return rc;
}

/* Applies `pause at`/`kill at` faults whose time has come. Times count from the
 * start of the program they name. */
static void apply_signal_faults(struct run_ctx *ctx)
{
	for (size_t i = 0; i < ctx->sc->n_faults; i++) {
		const struct fault *f = &ctx->sc->faults[i];
		struct run_side *side = &ctx->rec->side[f->who];
		int64_t t;

		if ((f->kind != FAULT_PAUSE && f->kind != FAULT_KILL) || !side->started ||
		    !side->proc.running)
			continue;
		t = proc_now_us() - side->proc.start_us;
		if (f->kind == FAULT_KILL && !ctx->kill_done[f->who] && t >= f->at_us) {
			ctx->kill_done[f->who] = true;
			proc_signal(&side->proc, SIGKILL);
			add_event(ctx, RUN_EV_KILL, "%s killed by fault (line %d)",
				  scenario_who_name(f->who), f->line);
		} else if (f->kind == FAULT_PAUSE && !ctx->pause_done[f->who]) {
			if (!ctx->paused[f->who] && t >= f->at_us) {
				ctx->paused[f->who] = true;
				proc_signal(&side->proc, SIGSTOP);
				add_event(ctx, RUN_EV_PAUSE, "%s paused (line %d)",
					  scenario_who_name(f->who), f->line);
			} else if (ctx->paused[f->who] && t >= f->at_us + f->for_us) {
				ctx->paused[f->who] = false;
				ctx->pause_done[f->who] = true;
				proc_signal(&side->proc, SIGCONT);
				add_event(ctx, RUN_EV_CONTINUE, "%s continued",
					  scenario_who_name(f->who));
			}
		}
	}
}

/* The earliest pending fault time, as a poll timeout in ms from now (cap: max). */
static int next_fault_ms(const struct run_ctx *ctx, int max_ms)
{
	int best = max_ms;

	for (size_t i = 0; i < ctx->sc->n_faults; i++) {
		const struct fault *f = &ctx->sc->faults[i];
		const struct run_side *side = &ctx->rec->side[f->who];
		int64_t due;
		int64_t ms;

		if ((f->kind != FAULT_PAUSE && f->kind != FAULT_KILL) || !side->started)
			continue;
		if (f->kind == FAULT_KILL && ctx->kill_done[f->who])
			continue;
		if (f->kind == FAULT_PAUSE && ctx->pause_done[f->who])
			continue;
		due = side->proc.start_us + f->at_us + (ctx->paused[f->who] ? f->for_us : 0);
		ms = (due - proc_now_us() + 999) / 1000;
		if (ms < 0)
			ms = 0;
		if (ms < best)
			best = (int)ms;
	}
	return best;
}

/* One round of waiting: capture, outputs and exits, up to timeout_ms. */
static int pump(struct run_ctx *ctx, int timeout_ms, struct lab_err *err)
{
	struct pollfd pfd[7];
	int n = 0;

	if (ctx->capture)
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
				add_event(ctx, RUN_EV_EXIT, "%s exited with status %d",
					  scenario_who_name(who), side->proc.exit_code);
			else
				add_event(ctx, RUN_EV_EXIT, "%s killed by signal %d (%s)",
					  scenario_who_name(who), side->proc.signal,
					  strsignal(side->proc.signal));
		}
	}
	return 0;
}

static bool interrupted(const struct run_ctx *ctx, struct lab_err *err)
{
	if (ctx->opts->interrupted == NULL || !atomic_load(ctx->opts->interrupted))
		return false;
	lab_err_set(err, "interrupted: the programs were killed and the capture deleted");
	return true;
}

static int64_t deadline_left_ms(const struct run_ctx *ctx)
{
	return (ctx->sc->timeout_us - since_start(ctx)) / 1000;
}

/* Starts the server and waits until something listens on the port, the server
 * ends, or the run times out. */
static int start_server(struct run_ctx *ctx, struct lab_err *err)
{
	struct run_side *server = &ctx->rec->side[WHO_SERVER];
	bool listening = false;

	if (start_program(ctx, WHO_SERVER, err) < 0)
		return -1;
	for (;;) {
		if (watch_listening(ctx->watch, ctx->sc->port, &listening, err) < 0)
			return -1;
		if (listening) {
			ctx->rec->listening_us = since_start(ctx);
			add_event(ctx, RUN_EV_LISTENING, "server listening on port %d",
				  ctx->sc->port);
			return 0;
		}
		if (!server->proc.running) {
			add_event(ctx, RUN_EV_EXIT,
				  "the server ended before it listened on port %d; "
				  "the client starts anyway",
				  ctx->sc->port);
			return 0;
		}
		if (deadline_left_ms(ctx) <= 0)
			return 0;
		if (interrupted(ctx, err))
			return -1;
		if (pump(ctx, 0, err) < 0)
			return -1;
		usleep(RUN_LISTEN_POLL_US);
	}
}

/* The watcher's figures at a stall, deadlock or hang verdict. */
static void record_stall(struct run_ctx *ctx)
{
	struct run_record *rec = ctx->rec;

	rec->last_progress_us = (int64_t)ctx->detector->last_progress_us - ctx->start_us;
	rec->verdict_us = since_start(ctx);
	rec->stall_bytes[0] = ctx->detector->client_to_server_bytes;
	rec->stall_bytes[1] = ctx->detector->server_to_client_bytes;
}

static void note_watch(struct run_ctx *ctx, enum watch_state state)
{
	struct run_record *rec = ctx->rec;
	const struct watch_conn *conn;

	if (state != WATCH_STALL && state != WATCH_DEADLOCK)
		return;
	record_stall(ctx);
	conn = watch_detector_conn(ctx->detector);
	if (conn != NULL) {
		rec->stall_queued[0] = conn->has_client ? conn->client.send_queue_bytes : 0;
		rec->stall_queued[1] = conn->has_server ? conn->server.send_queue_bytes : 0;
	}
	watch_detector_describe(ctx->detector, rec->stall_text, sizeof(rec->stall_text));
}

/* Called when the sockets have been idle for the quiet period: a hang when there
 * is a connection and every program (all but paused ones) waits for ever. */
static bool is_hang(struct run_ctx *ctx, const struct watch_sample *sample, struct lab_err *err)
{
	struct run_record *rec = ctx->rec;
	char why[200];
	bool hung = false;

	if (ctx->detector->conn_count == 0 || ctx->paused[WHO_CLIENT] || ctx->paused[WHO_SERVER])
		return false;
	/* A socket with keep-alive on has a timer that will end a wait on an idle
	 * connection whose peer is gone (RFC 9293 §3.8.4): not for ever. */
	for (size_t i = 0; i < sample->count; i++)
		if (sample->sockets[i].timer == WATCH_TIMER_KEEPALIVE)
			return false;
	if (hang_check("/proc", &hung, why, sizeof(why), err) < 0 || !hung)
		return false;
	record_stall(ctx);
	snprintf(rec->stall_text, sizeof(rec->stall_text),
		 "hang: nothing moved or queued for %lld ms after %llu bytes client->server "
		 "and %llu server->client, and every program waits for ever: %s",
		 (long long)((rec->verdict_us - rec->last_progress_us) / 1000),
		 (unsigned long long)rec->stall_bytes[0], (unsigned long long)rec->stall_bytes[1],
		 why);
	return true;
}

/* The sockets on the port: from lo's namespace, or with a link from both of the
 * wire's (the client's sockets live in one, the server's in the other). */
static int sample_sockets(struct run_ctx *ctx, struct watch_sample *out, struct lab_err *err)
{
	struct watch_sample *more = ctx->sample_client;

	if (watch_sample(ctx->watch, ctx->sc->port, out, err) < 0)
		return -1;
	if (ctx->wire == NULL)
		return 0;
	if (watch_sample(ctx->watch_client, ctx->sc->port, more, err) < 0)
		return -1;
	for (size_t i = 0; i < more->count; i++) {
		if (out->count < WATCH_MAX_SOCKETS)
			out->sockets[out->count++] = more->sockets[i];
		else
			out->overflow_count++;
	}
	out->overflow_count += more->overflow_count;
	out->send_queue_bytes += more->send_queue_bytes;
	out->recv_queue_bytes += more->recv_queue_bytes;
	out->bytes_acked += more->bytes_acked;
	out->bytes_received += more->bytes_received;
	return 0;
}

/* Runs until the client ends, a deadlock or hang is seen, or the timeout. */
static int watch_client(struct run_ctx *ctx, struct lab_err *err)
{
	struct run_side *client = &ctx->rec->side[WHO_CLIENT];
	struct watch_sample *sample = malloc(sizeof(*sample));
	int64_t next_sample_us = proc_now_us();
	int rc = -1;

	if (sample == NULL) {
		lab_err_set(err, "out of memory");
		return -1;
	}
	while (client->proc.running) {
		int64_t left_ms = deadline_left_ms(ctx);
		int64_t sample_ms = (next_sample_us - proc_now_us() + 999) / 1000;
		int wait_ms;

		if (interrupted(ctx, err))
			goto out;
		if (left_ms <= 0) {
			ctx->rec->outcome = OUTCOME_TIMEOUT;
			add_event(ctx, RUN_EV_TIMEOUT, "timeout after %lld ms",
				  (long long)(ctx->sc->timeout_us / 1000));
			break;
		}
		if (proc_now_us() >= next_sample_us) {
			enum watch_state state;

			if (sample_sockets(ctx, sample, err) < 0)
				goto out;
			state = watch_detector_feed(ctx->detector, (uint64_t)proc_now_us(), sample);
			/* A paused program is not deadlocked: it was stopped on purpose. */
			if (ctx->paused[WHO_CLIENT] || ctx->paused[WHO_SERVER])
				state = state == WATCH_DEADLOCK ? WATCH_STALL : state;
			if (state == WATCH_DEADLOCK) {
				note_watch(ctx, state);
				ctx->rec->outcome = OUTCOME_DEADLOCK;
				add_event(ctx, RUN_EV_DEADLOCK, "%s", ctx->rec->stall_text);
				break;
			}
			if (state == WATCH_IDLE && is_hang(ctx, sample, err)) {
				ctx->rec->outcome = OUTCOME_HANG;
				add_event(ctx, RUN_EV_HANG, "%s", ctx->rec->stall_text);
				break;
			}
			if (state == WATCH_STALL && !ctx->stall_noted) {
				ctx->stall_noted = true;
				note_watch(ctx, state);
				add_event(ctx, RUN_EV_STALL, "%s", ctx->rec->stall_text);
			}
			next_sample_us = proc_now_us() + RUN_SAMPLE_US;
			sample_ms = RUN_SAMPLE_US / 1000;
		}
		apply_signal_faults(ctx);
		wait_ms = (int)(left_ms < sample_ms ? left_ms : sample_ms);
		wait_ms = next_fault_ms(ctx, wait_ms < 0 ? 0 : wait_ms);
		if (pump(ctx, wait_ms, err) < 0)
			goto out;
	}
	rc = 0;
out:
	free(sample);
	return rc;
}

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
	char why[200];
	bool idle = false;

	while (server->started && server->proc.running && !ctx->paused[WHO_SERVER] &&
	       proc_now_us() < until_us) {
		if (hang_check("/proc", &idle, why, sizeof(why), &ignored) < 0 || idle)
			return;
		if (pump(ctx, 1, &ignored) < 0)
			return;
	}
}

static void stop_programs(struct run_ctx *ctx)
{
	struct lab_err ignored;
	bool at_once = ctx->rec->outcome != OUTCOME_COMPLETED || interrupted(ctx, &ignored);
	int sigs[2] = { SIGSTOP, SIGKILL };

	if (!at_once)
		let_server_settle(ctx);

	for (int who = WHO_CLIENT; who <= WHO_SERVER; who++) {
		struct run_side *side = &ctx->rec->side[who];

		if (!side->started || !side->proc.running)
			continue;
		side->stopped_by_lab = true;
		add_event(ctx, RUN_EV_STOP, "%s stopped by the lab", scenario_who_name(who));
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

static void free_env_strings(struct run_ctx *ctx)
{
	for (int who = 0; who < 2; who++)
		for (size_t i = 0;
		     i < sizeof(ctx->env_strings[who]) / sizeof(ctx->env_strings[who][0]); i++) {
			free(ctx->env_strings[who][i]);
			ctx->env_strings[who][i] = NULL;
		}
}

static void read_shim_stats(struct run_ctx *ctx)
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

/* ---- the wire -------------------------------------------------------------------- */

struct netns_job {
	int netns_fd;
	const struct scenario *sc;
	struct watch *watch;
	struct lab_err err;
	int rc;
};

/* In a thread of its own that enters the namespace: the scenario's sysctls there,
 * and a socket watcher that sees that namespace's sockets. */
static void *prepare_netns(void *arg)
{
	struct netns_job *job = arg;

	job->rc = -1;
	if (setns(job->netns_fd, CLONE_NEWNET) < 0) {
		lab_err_sys(&job->err, errno, "cannot enter the wire's namespace");
		return NULL;
	}
	if (sandbox_apply_sysctls(job->sc, &job->err) < 0)
		return NULL;
	job->watch = watch_open(&job->err);
	if (job->watch == NULL)
		return NULL;
	job->rc = 0;
	return NULL;
}

static int prepare_side(struct run_ctx *ctx, enum wire_side side, struct watch **watch,
			struct lab_err *err)
{
	struct netns_job job = { .netns_fd = wire_netns_fd(ctx->wire, side), .sc = ctx->sc };
	pthread_t t;
	int rc = pthread_create(&t, NULL, prepare_netns, &job);

	if (rc != 0)
		return lab_err_sys(err, rc, "cannot start a thread");
	pthread_join(t, NULL);
	if (job.rc < 0)
		return lab_err_set(err, "%s", job.err.msg);
	*watch = job.watch;
	return 0;
}

static void wire_faults_of(const struct scenario_link_dir_faults *in, struct wire_faults *out)
{
	static const enum wire_filter_mode modes[] = {
		[LINK_FILTER_ALL] = WIRE_FILTER_ALL,
		[LINK_FILTER_ONCE] = WIRE_FILTER_ONCE,
		[LINK_FILTER_EVERY] = WIRE_FILTER_EVERY,
		[LINK_FILTER_FIRST] = WIRE_FILTER_FIRST,
	};

	memset(out, 0, sizeof(*out));
	out->delay_us = (uint64_t)in->delay_us;
	out->jitter_us = (uint64_t)in->jitter_us;
	out->loss_pcm = (uint32_t)in->loss_pcm;
	out->duplicate_pcm = (uint32_t)in->duplicate_pcm;
	out->reorder_pcm = (uint32_t)in->reorder_pcm;
	out->corrupt_pcm = (uint32_t)in->corrupt_pcm;
	out->rate_bps = (uint64_t)in->rate_bps;
	out->queue_packets = (uint32_t)in->queue_packets;
	for (size_t i = 0; i < in->n_filters && i < WIRE_MAX_FILTERS; i++) {
		snprintf(out->filters[i].expr, sizeof(out->filters[i].expr), "%s",
			 in->filters[i].filter);
		out->filters[i].mode = modes[in->filters[i].mode];
		out->filters[i].n = (uint32_t)in->filters[i].n;
		out->n_filters++;
	}
	for (size_t i = 0; i < in->n_downs && i < WIRE_MAX_DOWNS; i++) {
		out->downs[i].at_us = (uint64_t)in->downs[i].at_us;
		out->downs[i].for_us = (uint64_t)in->downs[i].for_us;
		out->n_downs++;
	}
}

/* The wire for a scenario with link lines: namespaces, sysctls and watchers in
 * both, the relay started. The client side's capture is the run's capture. */
static int start_wire(struct run_ctx *ctx, struct lab_err *err)
{
	const struct scenario_link *link = &ctx->sc->link;
	struct run_record *rec = ctx->rec;
	struct wire_config cfg = { .seed = link->seed, .mtu = (uint32_t)link->mtu_bytes };
	struct lab_err why;

	_Static_assert((int)LINK_DROP_KINDS == (int)WIRE_DROP_KINDS,
		       "scenario_link_drop and wire_drop_kind name the same kinds");
	_Static_assert((int)LINK_DROP_LOSS == (int)WIRE_DROP_LOSS &&
			       (int)LINK_DROP_FILTER == (int)WIRE_DROP_FILTER &&
			       (int)LINK_DROP_QUEUE == (int)WIRE_DROP_QUEUE,
		       "in the same order");
	for (int d = 0; d < 2; d++)
		wire_faults_of(&link->dir[d], &cfg.dir[d]);
	cfg.snaplen = ctx->opts->snaplen > 0 ? (uint32_t)ctx->opts->snaplen : 0;
	snprintf(rec->link.server_pcap_path, sizeof(rec->link.server_pcap_path),
		 "%s/%s.server.pcap", ctx->opts->pcap_dir, ctx->sc->name);
	cfg.client_pcap = rec->pcap_path;
	cfg.server_pcap = rec->link.server_pcap_path;
	rec->link.used = true;
	rec->link.seed = link->seed;
	ctx->wire = wire_new(&cfg, &why);
	if (ctx->wire == NULL)
		return lab_err_set(err, "%s:%d:1: the link: %s", ctx->sc->path, link->line, why.msg);
	ctx->sample_client = malloc(sizeof(*ctx->sample_client));
	if (ctx->sample_client == NULL)
		return lab_err_set(err, "out of memory");
	if (prepare_side(ctx, WIRE_CLIENT, &ctx->watch_client, err) < 0 ||
	    prepare_side(ctx, WIRE_SERVER, &ctx->watch, err) < 0)
		return -1;
	return wire_start(ctx->wire, err);
}

/* Stops the relay and records what the link did; the captures are then complete. */
static int stop_wire(struct run_ctx *ctx, struct lab_err *err)
{
	struct run_link *out = &ctx->rec->link;
	const struct wire_stats *s;
	int rc = wire_stop(ctx->wire, err);

	s = wire_stats(ctx->wire);
	for (int d = 0; d < 2; d++) {
		const struct wire_link_stats *l = &s->dir[d];

		out->packets[d] = l->packets_in;
		out->delivered[d] = s->delivered[d];
		for (int k = 0; k < LINK_DROP_KINDS; k++)
			out->dropped[d][k] = l->dropped[k];
		out->duplicated[d] = l->duplicated;
		out->reordered[d] = l->reordered;
		out->corrupted[d] = l->corrupted;
		out->delayed[d] = l->delayed;
		out->pending_at_stop[d] = s->pending_at_stop[d];
		out->kernel_drops[d] = s->device[d].tx_dropped;
	}
	ctx->rec->capture.packets = s->captured[WIRE_CLIENT];
	/* A packet the kernel dropped before the relay read it is in no capture. */
	ctx->rec->capture.kernel_drops = s->device[WIRE_CLIENT].tx_dropped +
					 s->device[WIRE_SERVER].tx_dropped;
	return rc;
}

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
	ctx.detector = calloc(1, sizeof(*ctx.detector));
	if (ctx.detector == NULL) {
		lab_err_set(err, "out of memory");
		goto out;
	}
	watch_detector_init(ctx.detector, (uint64_t)sc->quiet_us);
	/* The wire first: its threads cannot be made once this thread has entered
	 * the sandbox's PID namespace (the kernel refuses a new thread there). */
	if (sc->link.line != 0 && start_wire(&ctx, err) < 0)
		goto out;
	if (sandbox_enter(&ctx.sandbox, sc, err) < 0)
		goto out;
	if (sc->link.line == 0) {
		ctx.capture = capture_start(rec->pcap_path, opts->snaplen, err);
		if (ctx.capture == NULL)
			goto out;
		ctx.watch = watch_open(err);
		if (ctx.watch == NULL)
			goto out;
	}
	ctx.start_us = proc_now_us();
	if (rec->side[WHO_SERVER].present && start_server(&ctx, err) < 0)
		goto out;
	if (deadline_left_ms(&ctx) <= 0) {
		rec->outcome = OUTCOME_TIMEOUT;
		add_event(
			&ctx, RUN_EV_TIMEOUT,
			"timeout: the server never listened on port %d, so the client never started",
			sc->port);
	} else {
		if (start_program(&ctx, WHO_CLIENT, err) < 0 || watch_client(&ctx, err) < 0)
			goto out;
	}
	rc = 0;
out:
	stop_programs(&ctx);
	sandbox_leave(&ctx.sandbox);
	rec->duration_us = ctx.start_us ? since_start(&ctx) : 0;
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
		if (stop_wire(&ctx, err) < 0)
			rc = -1;
		if (rc < 0) {
			unlink(rec->pcap_path);
			unlink(rec->link.server_pcap_path);
		}
		wire_free(ctx.wire);
	}
	watch_close(ctx.watch);
	watch_close(ctx.watch_client);
	free(ctx.sample_client);
	read_shim_stats(&ctx);
	free_env_strings(&ctx);
	free(ctx.detector);
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
	for (int who = 0; who < 2; who++)
		if (rec->side[who].started)
			proc_release(&rec->side[who].proc);
}
