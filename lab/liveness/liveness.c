/* liveness: the stall/deadlock/hang decision of one run (liveness.h). */
#include "lab/liveness/liveness.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab/liveness/hang.h"
#include "lab/liveness/watch.h"

struct liveness {
	struct watch *watch;
	struct watch_detector detector; /* large: allocated with the struct */
	struct watch_sample sample;
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

void liveness_free(struct liveness *l)
{
	if (l == NULL)
		return;
	watch_close(l->watch);
	free(l);
}

int liveness_listening(struct liveness *l, int port, bool *listening, struct lab_err *err)
{
	return watch_listening(l->watch, port, listening, err);
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
	if (watch_sample(l->watch, port, &l->sample, err) < 0)
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
