/* liveness: is the run still moving? The stall/deadlock/hang decision of one run,
 * made from what the kernel shows: the sockets' queues and byte counters through
 * sock_diag (watch.h) and, when they are idle, where every process of the run
 * waits (hang.h, the run's own /proc). Takes a sample when asked; gives a
 * verdict and the figures that back it. It signals and kills nothing: the runner
 * decides what to do with a verdict. */
#ifndef TCPLAB_LIVENESS_H
#define TCPLAB_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/common/err.h"

enum liveness_verdict {
	LIVENESS_RUNNING,  /* progress, or nothing new to say */
	LIVENESS_STALL,    /* the first stall of the run: reported, not acted on */
	LIVENESS_DEADLOCK, /* a connection blocked both ways (watch.h's rule) */
	LIVENESS_HANG,     /* idle sockets, and every process waits with no time limit */
};

/* What a stall, deadlock or hang verdict rests on. */
struct liveness_figures {
	uint64_t last_progress_us; /* on the clock the samples were given */
	uint64_t bytes[2];         /* moved client->server, server->client */
	uint64_t queued[2];        /* in the client's, the server's send queue */
	char text[400];            /* one line for reports */
};

struct liveness;

/* quiet_us: the silence before any verdict. Opens the sock_diag socket of the
 * calling thread's network namespace. NULL with err set on failure. */
struct liveness *liveness_new(uint64_t quiet_us, struct lab_err *err);
void liveness_free(struct liveness *l);

/* Whether something listens on port now. */
int liveness_listening(struct liveness *l, int port, bool *listening, struct lab_err *err);

/* Takes one sample of the sockets of port at now_us (a monotonic clock in µs).
 * paused: a program of the run was paused by the lab on purpose, which is not a
 * deadlock nor a hang (at most a stall). */
int liveness_sample(struct liveness *l, int port, uint64_t now_us, bool paused,
		    enum liveness_verdict *verdict, struct lab_err *err);

/* The queues of the last sample, summed over the connections of the port, per
 * side (0 client, 1 server); bytes moved each way (0 client->server). */
struct liveness_queues {
	uint32_t send_queue_bytes[2];
	uint32_t recv_queue_bytes[2];
	uint64_t bytes[2];
};
void liveness_queues(const struct liveness *l, struct liveness_queues *out);

/* The figures of the last verdict other than LIVENESS_RUNNING. */
const struct liveness_figures *liveness_figures(const struct liveness *l);

/* True when every process of the run waits with no time limit (for instance a
 * server back in accept() once its client is done); false when one does not or
 * /proc cannot be read. */
bool liveness_all_waiting(void);

#endif
