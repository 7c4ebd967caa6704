/* run: runs one scenario end to end in its own namespaces: capture, server, client
 * (once the server listens), faults, stall, deadlock and hang watch, timeout,
 * teardown.
 * It records what happened; it judges nothing (expect.c does) and prints nothing. */
#ifndef TCPLAB_RUN_H
#define TCPLAB_RUN_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/run/capture.h"
#include "lab/common/err.h"
#include "lab/record/record.h"
#include "lab/run/proc.h"
#include "lab/scenario/scenario.h"
#include "lab/shim/shim_spec.h"

/* The files runs have made and not yet removed (captures being written, the
 * shim's counters), so that a lab told to end at once (a second Ctrl-C) can
 * remove them before it exits. Thread-safe. */
#define RUN_LEFTOVERS_MAX 256
struct run_leftovers {
	pthread_mutex_t lock;
	char *paths[RUN_LEFTOVERS_MAX]; /* NULL: a free slot */
};

/* Remembers path (a file, or an empty directory); returns its slot, or -1 when
 * full or out of memory (the run goes on; only an abrupt end would miss it). */
int run_leftovers_add(struct run_leftovers *l, const char *path);
/* Forgets slot (the run removed or kept the file itself). */
void run_leftovers_drop(struct run_leftovers *l, int slot);
/* Removes every path still remembered: files first, then directories. */
void run_leftovers_remove_all(struct run_leftovers *l);

struct run_opts {
	const char *pcap_dir;  /* where <name>.pcap goes */
	const char *tools_dir; /* prepended to PATH: the reference programs */
	const char *shim_path; /* absolute path of libtcplab_shim.so */
	int snaplen;
	/* --snap-payload: whole packets per direction of each connection, then
	 * headers only (capture.h); -1: the scenario's `capture payload`, else
	 * CAPTURE_PAYLOAD_BUDGET_BYTES; INT64_MAX: every packet whole. */
	int64_t snap_payload_bytes;
	/* 0: the capture is <pcap_dir>/<name>.pcap; n > 0: <name>-<n+1>.pcap, for a
	 * scenario run again in the same command (--repeat, or named twice). */
	int copy;
	/* Set (by a signal handler's thread) to abandon the run: the programs are
	 * killed, the partial capture deleted, and run_scenario fails. May be NULL. */
	const atomic_bool *interrupted;
	struct run_leftovers *leftovers; /* may be NULL */
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
