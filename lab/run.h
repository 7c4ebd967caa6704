/* run: runs one scenario end to end in its own namespaces: capture, server, client
 * (once the server listens), faults, stall, deadlock and hang watch, timeout,
 * teardown.
 * It records what happened; it judges nothing (expect.c does) and prints nothing. */
#ifndef TCPLAB_RUN_H
#define TCPLAB_RUN_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "err.h"
#include "proc.h"
#include "scenario.h"
#include "lab/shim/shim_spec.h"

struct run_opts {
	const char *pcap_dir;  /* where <name>.pcap goes */
	const char *tools_dir; /* prepended to PATH: the reference programs */
	const char *shim_path; /* absolute path of libtcplab_shim.so */
	int snaplen;
	/* Set (by a signal handler's thread) to abandon the run: the programs are
	 * killed, the partial capture deleted, and run_scenario fails. May be NULL. */
	const atomic_bool *interrupted;
};

enum run_event_kind {
	RUN_EV_SERVER_START,
	RUN_EV_LISTENING,
	RUN_EV_CLIENT_START,
	RUN_EV_EXIT,
	RUN_EV_PAUSE,
	RUN_EV_CONTINUE,
	RUN_EV_KILL,
	RUN_EV_STALL,
	RUN_EV_DEADLOCK,
	RUN_EV_HANG,
	RUN_EV_TIMEOUT,
	RUN_EV_STOP,
};

struct run_event {
	int64_t at_us; /* since the run started */
	enum run_event_kind kind;
	char text[320];
};

#define RUN_MAX_EVENTS 64

struct run_side {
	bool present; /* the scenario has this program */
	bool started;
	struct proc proc;
	bool stopped_by_lab; /* the lab ended it (client done, deadlock, timeout) */
	bool faulted;        /* the shim was preloaded */
	struct shim_stats shim;
};

struct run_record {
	enum scenario_outcome outcome;
	int64_t duration_us;
	int64_t listening_us;     /* when the server listened; -1 never */
	int64_t last_progress_us; /* deadlock/stall: last byte moved, since start */
	int64_t verdict_us;       /* deadlock: when the watcher concluded */
	uint64_t stall_bytes[2];  /* bytes moved client->server, server->client */
	uint64_t stall_queued[2]; /* bytes queued in the client's, the server's send queue */
	char stall_text[400];
	struct run_side side[2]; /* indexed by enum scenario_who */
	struct capture_stats capture;
	char pcap_path[PATH_MAX];
	struct run_event events[RUN_MAX_EVENTS];
	int n_events;
	struct capture *open_capture; /* open until run_finish */
};

/* Runs sc and fills rec. Must be called from a thread that exists for this run
 * only (it enters namespaces for good). Returns -1 when the lab itself could not
 * run the scenario (err says why); a program failing is not an error. */
int run_scenario(const struct scenario *sc, const struct run_opts *opts, struct run_record *rec,
		 struct lab_err *err);

/* Closes what the run left open beyond its thread: the capture socket, whose close
 * waits for the kernel. Call it from a thread outside the scenario's namespaces,
 * as soon as the scenario thread has ended. */
void run_finish(struct run_record *rec);

/* Frees the programs' outputs held by rec (and finishes it if need be). */
void run_record_release(struct run_record *rec);

#endif
