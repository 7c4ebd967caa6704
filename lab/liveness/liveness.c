/* liveness: the stall/deadlock/hang decision of one run (liveness.h). */
#include "lab/liveness/liveness.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "lab/liveness/hang.h"
#include "lab/liveness/tasks.h"
#include "lab/liveness/watch.h"

/* The namespaces a run's sockets may live in: the calling thread's, or the wire's two. */
#define LIVENESS_MAX_NETNS 2

struct liveness {
	struct liveness_opts opts;
	struct watch *watch;
	struct watch *more[LIVENESS_MAX_NETNS - 1]; /* the other namespaces' watchers */
	size_t n_more;
	struct watch_sample more_sample;
	struct watch_detector detector; /* large: allocated with the struct */
	struct watch_sample sample;
	struct watch_sample again; /* the second look of a proof */
	struct tasks_view view;
	/* pidfds of the run's processes, kept across samples: each costs a round
	 * trip to the namespace's init. */
	struct {
		int pid;
		int pidfd;
	} pidfds[16];
	bool stall_reported;
	struct liveness_figures figures;
};

/* A watcher of the namespace netns_fd: the calling thread goes there, opens it
 * (a netlink socket stays in the namespace it was made in) and comes back. */
static struct watch *watch_open_in(int netns_fd, struct lab_err *err)
{
	int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int home;
	struct watch *w;

	if (sock < 0) {
		lab_err_sys(err, errno, "liveness: cannot open a socket");
		return NULL;
	}
	home = ioctl(sock, SIOCGSKNS);
	close(sock);
	if (home < 0) {
		lab_err_sys(err, errno, "liveness: cannot name the current network namespace");
		return NULL;
	}
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		lab_err_sys(err, errno, "liveness: cannot enter a network namespace of the run");
		close(home);
		return NULL;
	}
	w = watch_open(err);
	if (setns(home, CLONE_NEWNET) < 0 && w != NULL) {
		lab_err_sys(err, errno, "liveness: cannot come back to the run's namespace");
		watch_close(w);
		w = NULL;
	}
	close(home);
	return w;
}

struct liveness *liveness_new(const struct liveness_opts *opts, struct lab_err *err)
{
	struct liveness *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		lab_err_set(err, "out of memory");
		return NULL;
	}
	l->opts = *opts;
	for (size_t i = 0; i < sizeof(l->pidfds) / sizeof(l->pidfds[0]); i++)
		l->pidfds[i].pidfd = -1;
	if (l->opts.proc_dir == NULL)
		l->opts.proc_dir = "/proc";
	watch_detector_init(&l->detector, opts->quiet_us);
	if (opts->n_netns > LIVENESS_MAX_NETNS) {
		lab_err_set(err, "liveness: %zu namespaces to watch", opts->n_netns);
		free(l);
		return NULL;
	}
	l->watch = opts->n_netns > 0 ? watch_open_in(opts->netns_fds[0], err) : watch_open(err);
	if (l->watch == NULL) {
		free(l);
		return NULL;
	}
	for (size_t i = 1; i < opts->n_netns; i++) {
		l->more[l->n_more] = watch_open_in(opts->netns_fds[i], err);
		if (l->more[l->n_more] == NULL) {
			liveness_free(l);
			return NULL;
		}
		l->n_more++;
	}
	l->opts.netns_fds = NULL; /* the caller's array: not kept */
	return l;
}

void liveness_free(struct liveness *l)
{
	if (l == NULL)
		return;
	watch_close(l->watch);
	for (size_t i = 0; i < l->n_more; i++)
		watch_close(l->more[i]);
	for (size_t i = 0; i < sizeof(l->pidfds) / sizeof(l->pidfds[0]); i++)
		if (l->pidfds[i].pidfd >= 0)
			close(l->pidfds[i].pidfd);
	free(l);
}

int liveness_listening(struct liveness *l, int port, bool *listening, struct lab_err *err)
{
	if (watch_listening(l->watch, port, listening, err) < 0)
		return -1;
	for (size_t i = 0; i < l->n_more && !*listening; i++)
		if (watch_listening(l->more[i], port, listening, err) < 0)
			return -1;
	return 0;
}

/* One sample of the sockets of port in every namespace of the run, as if one. */
static int sample_all(struct liveness *l, int port, struct watch_sample *out,
		      struct lab_err *err)
{
	struct watch_sample *more = &l->more_sample;

	if (watch_sample(l->watch, port, out, err) < 0)
		return -1;
	for (size_t w = 0; w < l->n_more; w++) {
		if (watch_sample(l->more[w], port, more, err) < 0)
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
	}
	return 0;
}

/* The detector's figures at a verdict, described as `name`. */
static void take_figures(struct liveness *l, const struct watch_conn *conn, enum watch_state name)
{
	struct watch_detector *det = &l->detector;
	enum watch_state state = det->state;

	if (conn == NULL)
		conn = watch_detector_conn(det);
	l->figures.last_progress_us = det->last_progress_us;
	l->figures.bytes[0] = det->client_to_server_bytes;
	l->figures.bytes[1] = det->server_to_client_bytes;
	l->figures.queued[0] = conn != NULL && conn->has_client ? conn->client.send_queue_bytes : 0;
	l->figures.queued[1] = conn != NULL && conn->has_server ? conn->server.send_queue_bytes : 0;
	det->state = name;
	watch_detector_describe(det, l->figures.text, sizeof(l->figures.text));
	det->state = state;
}

static void append_text(struct liveness *l, const char *fmt, const char *a)
{
	size_t used = strlen(l->figures.text);

	if (used < sizeof(l->figures.text))
		snprintf(l->figures.text + used, sizeof(l->figures.text) - used, fmt, a);
}

/* A pidfd for pid, from the cache while its process lives (a PID is not reused
 * before its process is reaped, which the pidfd then shows as readable). The
 * caller must not close it. */
static int pidfd_cached(struct liveness *l, int pid)
{
	const size_t n = sizeof(l->pidfds) / sizeof(l->pidfds[0]);
	size_t slot = n;

	for (size_t i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = l->pidfds[i].pidfd, .events = POLLIN };

		if (l->pidfds[i].pidfd >= 0 && poll(&pfd, 1, 0) != 0) {
			close(l->pidfds[i].pidfd); /* ended: its PID may come again */
			l->pidfds[i].pidfd = -1;
		}
		if (l->pidfds[i].pidfd >= 0 && l->pidfds[i].pid == pid)
			return l->pidfds[i].pidfd;
		if (l->pidfds[i].pidfd < 0 && slot == n)
			slot = i;
	}
	if (l->opts.pidfd_fn == NULL)
		return -1;
	if (slot == n) {
		slot = (size_t)pid % n;
		close(l->pidfds[slot].pidfd);
		l->pidfds[slot].pidfd = -1;
	}
	l->pidfds[slot].pid = pid;
	l->pidfds[slot].pidfd = l->opts.pidfd_fn(l->opts.pidfd_arg, pid);
	return l->pidfds[slot].pidfd;
}

static int pidfd_of(void *arg, int pid)
{
	struct liveness *l = arg;
	return pidfd_cached(l, pid);
}

/* A connection the sockets say may be deadlocked: both ends in the run, both
 * send queues and receive queues holding data, both windows closed. */
static const struct watch_conn *deadlock_candidate(const struct watch_detector *det)
{
	for (size_t i = 0; i < det->conn_count; i++) {
		const struct watch_conn *c = &det->conns[i];

		if (c->has_client && c->has_server && c->client.has_snd_wnd &&
		    c->server.has_snd_wnd && c->client.snd_wnd_bytes == 0 &&
		    c->server.snd_wnd_bytes == 0 && c->client.send_queue_bytes > 0 &&
		    c->server.send_queue_bytes > 0 && c->client.recv_queue_bytes > 0 &&
		    c->server.recv_queue_bytes > 0 && c->client.inode != 0 && c->server.inode != 0)
			return c;
	}
	return NULL;
}

/* The second look of a proof: the sockets have not moved since the first. */
static int unmoved(struct liveness *l, int port, bool *same, struct lab_err *err)
{
	if (sample_all(l, port, &l->again, err) < 0)
		return -1;
	*same = watch_samples_same(&l->sample, &l->again);
	return 0;
}

static int try_deadlock(struct liveness *l, int port, const struct watch_conn *c, bool *proven,
			struct lab_err *err)
{
	struct tasks_conn conn = { .inode = { c->client.inode, c->server.inode } };

	*proven = false;
	if (tasks_look(l->opts.proc_dir, &conn, pidfd_of, l, true, &l->view, err) < 0)
		return -1;
	if (!tasks_all_blocked_sending(&l->view))
		return 0;
	return unmoved(l, port, proven, err);
}

static bool has_keepalive_timer(const struct watch_sample *s)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->sockets[i].timer == WATCH_TIMER_KEEPALIVE)
			return true;
	return false;
}

static int try_hang(struct liveness *l, int port, uint64_t now_us, bool *proven,
		    struct lab_err *err)
{
	struct tasks_conn none = { .inode = { 0, 0 } };

	*proven = false;
	if (l->opts.hang_after_us < 0 || l->detector.conn_count == 0 ||
	    now_us - l->detector.last_progress_us < (uint64_t)l->opts.hang_after_us)
		return 0;
	/* A socket with keep-alive on has a timer that will end a wait on an idle
	 * connection whose peer is gone (RFC 9293 §3.8.4): not for ever. The timer
	 * is not pending while its handler sends a probe, so a sample may miss it:
	 * a task waiting for input on such a socket is judged by its SO_KEEPALIVE
	 * (tasks.c), and both looks of the proof are checked here. */
	if (has_keepalive_timer(&l->sample))
		return 0;
	if (tasks_look(l->opts.proc_dir, &none, pidfd_of, l, true, &l->view, err) < 0)
		return -1;
	if (!tasks_all_waiting(&l->view))
		return 0;
	if (unmoved(l, port, proven, err) < 0)
		return -1;
	if (has_keepalive_timer(&l->again))
		*proven = false;
	return 0;
}

int liveness_sample(struct liveness *l, int port, uint64_t now_us, bool paused,
		    enum liveness_verdict *verdict, struct lab_err *err)
{
	const struct watch_conn *candidate;
	enum watch_state state;
	bool proven = false;

	*verdict = LIVENESS_RUNNING;
	if (sample_all(l, port, &l->sample, err) < 0)
		return -1;
	state = watch_detector_feed(&l->detector, now_us, &l->sample);
	candidate = deadlock_candidate(&l->detector);
	/* A paused program is stopped on purpose: neither deadlocked nor hung. */
	if (!paused && candidate != NULL) {
		if (try_deadlock(l, port, candidate, &proven, err) < 0)
			return -1;
		if (proven) {
			take_figures(l, candidate, WATCH_DEADLOCK);
			append_text(l, "; every task is blocked: %s", l->view.where);
			*verdict = LIVENESS_DEADLOCK;
			return 0;
		}
	}
	if (!paused && state == WATCH_IDLE) {
		if (try_hang(l, port, now_us, &proven, err) < 0)
			return -1;
		if (proven) {
			take_figures(l, NULL, WATCH_IDLE);
			snprintf(
				l->figures.text, sizeof(l->figures.text),
				"hang: nothing moved or queued for %llu ms after %llu bytes "
				"client->server and %llu server->client, and every program waits "
				"with no time limit and no clock of its own: %s",
				(unsigned long long)((now_us - l->figures.last_progress_us) / 1000),
				(unsigned long long)l->figures.bytes[0],
				(unsigned long long)l->figures.bytes[1], l->view.where);
			*verdict = LIVENESS_HANG;
			return 0;
		}
	}
	if ((state == WATCH_STALL || state == WATCH_DEADLOCK) && !l->stall_reported) {
		struct tasks_conn conn = { .inode = { 0, 0 } };
		const struct watch_conn *c = watch_detector_conn(&l->detector);

		l->stall_reported = true;
		take_figures(l, NULL, WATCH_STALL);
		if (c != NULL)
			conn = (struct tasks_conn){ .inode = { c->client.inode, c->server.inode } };
		if (paused)
			append_text(l, "; not a deadlock: %s", "a program is paused by the lab");
		else if (tasks_look(l->opts.proc_dir, &conn, pidfd_of, l, false, &l->view, err) ==
				 0 &&
			 l->view.why[0] != '\0')
			append_text(l, "; not proven a deadlock: %s", l->view.why);
		*verdict = LIVENESS_STALL;
	}
	return 0;
}

void liveness_bytes(const struct liveness *l, uint64_t bytes[2])
{
	bytes[0] = l->detector.client_to_server_bytes;
	bytes[1] = l->detector.server_to_client_bytes;
}

static uint32_t add_capped(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

void liveness_queues(const struct liveness *l, struct liveness_queues *out)
{
	const struct watch_detector *det = &l->detector;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < det->conn_count; i++) {
		const struct watch_conn *c = &det->conns[i];

		if (c->has_client) {
			out->send_queue_bytes[0] =
				add_capped(out->send_queue_bytes[0], c->client.send_queue_bytes);
			out->recv_queue_bytes[0] =
				add_capped(out->recv_queue_bytes[0], c->client.recv_queue_bytes);
		}
		if (c->has_server) {
			out->send_queue_bytes[1] =
				add_capped(out->send_queue_bytes[1], c->server.send_queue_bytes);
			out->recv_queue_bytes[1] =
				add_capped(out->recv_queue_bytes[1], c->server.recv_queue_bytes);
		}
	}
	out->bytes[0] = det->client_to_server_bytes;
	out->bytes[1] = det->server_to_client_bytes;
}

const struct liveness_figures *liveness_figures(const struct liveness *l)
{
	return &l->figures;
}

bool liveness_all_waiting(void)
{
	struct lab_err ignored;
	char why[200];
	bool idle = false;

	return hang_check("/proc", &idle, why, sizeof(why), &ignored) == 0 && idle;
}
