/* liveness: is the run still moving? The stall/deadlock/hang decision of one run,
 * made from what the kernel shows: the sockets' queues, windows and byte counters
 * through sock_diag (watch.h) and where every task of the run waits (tasks.h, the
 * run's own /proc). A deadlock is proven, not timed: on one connection both send
 * queues hold data, both receive windows are closed, and every task of the run is
 * blocked sending on it (or waiting for another task), with no clock of its own;
 * the sockets sampled again after the look at /proc have not moved. A hang is
 * idle sockets and every task waiting with no time limit and no clock of its own,
 * for `hang after` (default: quiet); a socket with a keep-alive timer pending is
 * never part of a hang (keep-alive will end the wait). What is not proven is a stall: reported,
 * never acted on. It signals and kills nothing: the runner decides. */
#ifndef TCPLAB_LIVENESS_H
#define TCPLAB_LIVENESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"

enum liveness_verdict {
	LIVENESS_RUNNING,  /* progress, or nothing new to say */
	LIVENESS_STALL,    /* the first stall of the run: reported, not acted on */
	LIVENESS_DEADLOCK, /* a connection blocked both ways, proven */
	LIVENESS_HANG,     /* idle sockets, and every task waits with no time limit */
};

/* What a stall, deadlock or hang verdict rests on. */
struct liveness_figures {
	uint64_t last_progress_us; /* on the clock the samples were given */
	uint64_t bytes[2];         /* moved client->server, server->client */
	uint64_t queued[2];        /* in the client's, the server's send queue */
	char text[600];            /* one line for reports */
};

/* A pidfd for a PID of the run's /proc (see sandbox_pidfd), or -1. */
typedef int (*liveness_pidfd_fn)(void *arg, int pid);

struct liveness_opts {
	uint64_t quiet_us;     /* silence before a stall is reported */
	int64_t hang_after_us; /* silence before a hang may be called; < 0: never */
	const char *proc_dir;  /* the run's /proc: "/proc" in a scenario's thread */
	liveness_pidfd_fn pidfd_fn;
	void *pidfd_arg;
	/* The network namespaces the run's sockets live in, when not the calling
	 * thread's: the wire's client and server sides (at most 2). The calling thread
	 * visits each to open a watcher there and comes back; samples are merged as
	 * if from one namespace. n_netns 0: the calling thread's namespace. */
	const int *netns_fds;
	size_t n_netns;
};

struct liveness;

/* Opens the sock_diag socket of the calling thread's network namespace. NULL
 * with err set on failure. */
struct liveness *liveness_new(const struct liveness_opts *opts, struct lab_err *err);
void liveness_free(struct liveness *l);

/* Whether something listens on port now. */
int liveness_listening(struct liveness *l, int port, bool *listening, struct lab_err *err);

/* Takes one sample of the sockets of port at now_us (a monotonic clock in µs),
 * and looks at the tasks when the sockets say a deadlock or hang may be there.
 * paused: a program of the run was paused by the lab on purpose (at most a stall). */
int liveness_sample(struct liveness *l, int port, uint64_t now_us, bool paused,
		    enum liveness_verdict *verdict, struct lab_err *err);

/* Bytes moved client->server ([0]) and server->client ([1]) as the last sample
 * saw them, summed over the port's connections (0 before any sample). */
void liveness_bytes(const struct liveness *l, uint64_t bytes[2]);
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

/* True when every task of the run waits with no time limit (for instance a
 * server back in accept() once its client is done); false when one does not or
 * /proc cannot be read. */
bool liveness_all_waiting(void);

#endif
