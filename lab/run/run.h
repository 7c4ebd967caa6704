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

#include "lab/run/capture.h"
#include "lab/common/err.h"
#include "lab/record/record.h"
#include "lab/run/proc.h"
#include "lab/scenario/scenario.h"
#include "lab/shim/shim_spec.h"

struct run_opts {
	const char *pcap_dir;  /* where <name>.pcap goes */
	const char *tools_dir; /* prepended to PATH: the reference programs */
	const char *shim_path; /* absolute path of libtcplab_shim.so */
	int snaplen;
	/* --snap-payload: whole packets per direction of each connection, then
	 * headers only (capture.h); -1: the scenario's `capture payload`, else
	 * CAPTURE_PAYLOAD_BUDGET_BYTES; INT64_MAX: every packet whole. */
	int64_t snap_payload_bytes;
	/* Set (by a signal handler's thread) to abandon the run: the programs are
	 * killed, the partial capture deleted, and run_scenario fails. May be NULL. */
	const atomic_bool *interrupted;
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
