/* liveness: the stall/deadlock/hang decision of one run (liveness.h). */
#include "lab/liveness/liveness.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "lab/liveness/hang.h"
#include "lab/liveness/watch.h"

/* The namespaces a run's sockets may live in: one (lo), or the wire's two. */
#define LIVENESS_MAX_NETNS 2

struct liveness {
	struct watch *watch;
	struct watch *more[LIVENESS_MAX_NETNS]; /* the other namespaces' (liveness_new_netns) */
	size_t n_more;
	struct watch_detector detector; /* large: allocated with the struct */
	struct watch_sample sample;
	struct watch_sample more_sample;
	bool stall_reported;
	struct liveness_figures figures;
};

struct liveness *liveness_new(uint64_t quiet_us, struct lab_err *err)
{
	struct liveness *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		lab_err_set(err, "out of memory");
		return NULL;
	}
	watch_detector_init(&l->detector, quiet_us);
	l->watch = watch_open(err);
	if (l->watch == NULL) {
		free(l);
		return NULL;
	}
	return l;
}

/* A watcher of the namespace netns_fd: the calling thread goes there, opens it
 * (a netlink socket stays in the namespace it was made in) and comes back. */
static struct watch *watch_open_in(int netns_fd, struct lab_err *err)
{
	int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int home = -1;
	struct watch *w = NULL;

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

struct liveness *liveness_new_netns(uint64_t quiet_us, const int *netns_fds, size_t n,
				    struct lab_err *err)
{
	struct liveness *l;

	if (n == 0 || n > LIVENESS_MAX_NETNS) {
		lab_err_set(err, "liveness: %zu namespaces to watch", n);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		lab_err_set(err, "out of memory");
		return NULL;
	}
	watch_detector_init(&l->detector, quiet_us);
	l->watch = watch_open_in(netns_fds[0], err);
	if (l->watch == NULL)
		goto fail;
	for (size_t i = 1; i < n; i++) {
		l->more[l->n_more] = watch_open_in(netns_fds[i], err);
		if (l->more[l->n_more] == NULL)
			goto fail;
		l->n_more++;
	}
	return l;
fail:
	liveness_free(l);
	return NULL;
}

void liveness_free(struct liveness *l)
{
	if (l == NULL)
		return;
	watch_close(l->watch);
	for (size_t i = 0; i < l->n_more; i++)
		watch_close(l->more[i]);
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

/* One sample of every namespace's sockets of port, as if they were one. */
static int sample_all(struct liveness *l, int port, struct lab_err *err)
{
	struct watch_sample *out = &l->sample, *more = &l->more_sample;

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

/* The detector's figures at a verdict. */
static void take_figures(struct liveness *l)
{
	const struct watch_detector *det = &l->detector;
	const struct watch_conn *conn = watch_detector_conn(det);

	l->figures.last_progress_us = det->last_progress_us;
	l->figures.bytes[0] = det->client_to_server_bytes;
	l->figures.bytes[1] = det->server_to_client_bytes;
	l->figures.queued[0] = conn != NULL && conn->has_client ? conn->client.send_queue_bytes : 0;
	l->figures.queued[1] = conn != NULL && conn->has_server ? conn->server.send_queue_bytes : 0;
	watch_detector_describe(det, l->figures.text, sizeof(l->figures.text));
}

/* Idle sockets: a hang when there is a connection and every process waits for ever. */
static bool is_hang(struct liveness *l, uint64_t now_us, struct lab_err *err)
{
	char why[200];
	bool hung = false;

	if (l->detector.conn_count == 0)
		return false;
	/* A socket with keep-alive on has a timer that will end a wait on an idle
	 * connection whose peer is gone (RFC 9293 §3.8.4): not for ever. */
	for (size_t i = 0; i < l->sample.count; i++)
		if (l->sample.sockets[i].timer == WATCH_TIMER_KEEPALIVE)
			return false;
	if (hang_check("/proc", &hung, why, sizeof(why), err) < 0 || !hung)
		return false;
	take_figures(l);
	snprintf(l->figures.text, sizeof(l->figures.text),
		 "hang: nothing moved or queued for %llu ms after %llu bytes client->server "
		 "and %llu server->client, and every program waits for ever: %s",
		 (unsigned long long)((now_us - l->figures.last_progress_us) / 1000),
		 (unsigned long long)l->figures.bytes[0], (unsigned long long)l->figures.bytes[1],
		 why);
	return true;
}

int liveness_sample(struct liveness *l, int port, uint64_t now_us, bool paused,
		    enum liveness_verdict *verdict, struct lab_err *err)
{
	enum watch_state state;

	*verdict = LIVENESS_RUNNING;
	if (sample_all(l, port, err) < 0)
		return -1;
	state = watch_detector_feed(&l->detector, now_us, &l->sample);
	/* A paused program is not deadlocked: it was stopped on purpose. */
	if (paused && state == WATCH_DEADLOCK)
		state = WATCH_STALL;
	if (state == WATCH_DEADLOCK) {
		take_figures(l);
		*verdict = LIVENESS_DEADLOCK;
	} else if (state == WATCH_IDLE && !paused && is_hang(l, now_us, err)) {
		*verdict = LIVENESS_HANG;
	} else if (state == WATCH_STALL && !l->stall_reported) {
		l->stall_reported = true;
		take_figures(l);
		*verdict = LIVENESS_STALL;
	}
	return 0;
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
