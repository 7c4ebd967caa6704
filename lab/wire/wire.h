/* wire: a network link with faults between a client and a server, each in a network
 * namespace of its own.
 * Takes: a struct wire_config: the faults of each direction (wire_fault.h), the MTU,
 *   the seed of every random choice, and where to write the two captures.
 * Gives: the two namespaces (fds to setns into before starting a program there: both
 *   programs keep using 127.0.0.1), a relay thread carrying every IPv4 packet between
 *   their TUN devices and applying the faults, two captures the relay writes itself
 *   (what the client's side of the wire saw, what the server's side saw: a packet
 *   the link dropped is in the sender's only), and counters per fault kind.
 * Does not print or exit; needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN in its user
 * namespace). wire_free leaves no namespace, TUN device, thread or fd behind. */
#ifndef TCPLAB_WIRE_H
#define TCPLAB_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/wire/wire_fault.h"
#include "lab/wire/wire_link.h"
#include "lab/wire/wire_netns.h"

/* MTU bounds: IPv4's minimum, and the largest TUN packet. */
#define WIRE_MIN_MTU 68u
#define WIRE_MAX_MTU 65535u

struct wire_config {
	struct wire_faults dir[WIRE_DIRS]; /* [WIRE_C2S], [WIRE_S2C] */
	uint64_t seed;                     /* WIRE_DEFAULT_SEED unless the scenario says */
	uint32_t mtu;                      /* 0: WIRE_DEFAULT_MTU */
	uint32_t snaplen;                  /* bytes kept per packet in the captures; 0: all */
	/* With payload_budget_on, each direction of each connection is captured whole
	 * for payload_budget_bytes of payload, then headers only (wire_pcap.h); else
	 * every packet whole. */
	bool payload_budget_on;
	uint64_t payload_budget_bytes;
	const char *client_pcap;           /* the client side's capture; NULL: none */
	const char *server_pcap;           /* the server side's capture; NULL: none */
	/* Carry one segment at a time even where the faults would let the wire carry
	 * the kernel's offloaded bursts whole (see wire_faults_per_segment): for tests
	 * and benches that compare the two. */
	bool no_offload;
};

struct wire_stats {
	struct wire_link_stats dir[WIRE_DIRS]; /* what the faults did, per direction */
	uint64_t delivered[WIRE_DIRS];         /* packets written to the far side (copies too) */
	/* Deliveries (copies counted) still on the link when it stopped: read in
	 * the sender's capture, never delivered. delivered + pending_at_stop =
	 * packets_in - dropped + duplicated. */
	uint64_t pending_at_stop[WIRE_DIRS];
	uint64_t write_errors[WIRE_DIRS];      /* deliveries the far side's device refused */
	/* Packets the relay read from the sender's device and wrote to the receiver's,
	 * as the devices count them (a burst is one): against the device counters. */
	uint64_t device_reads[WIRE_DIRS];
	uint64_t device_writes[WIRE_DIRS];
	uint64_t captured[WIRE_SIDES];         /* packets in each side's capture */
	uint64_t headers_only[WIRE_SIDES];     /* of those, cut to their headers (the budget) */
	/* The kernel's counters of each side's TUN device, read at wire_stop. A
	 * tx_dropped above 0 means the kernel dropped packets before the relay could
	 * read them (its queue of 10000 overflowed): they are in neither capture, so
	 * a verdict on the captures must say it cannot know. */
	struct wire_device_stats device[WIRE_SIDES];
	/* Whether the wire carried offloaded bursts (no fault chose per segment): the
	 * counts above are in segments either way, the devices' counters in bursts. */
	bool offload;
};

struct wire;

/* Makes the two namespaces, their devices, the links (compiling the drop filters)
 * and the captures. Nothing moves until wire_start. */
struct wire *wire_new(const struct wire_config *cfg, struct lab_err *err);

/* Starts the relay thread; times in the faults (`down at`) count from here. */
int wire_start(struct wire *w, struct lab_err *err);

/* Stops the relay (packets still delayed are not delivered: pending_at_stop), closes
 * the captures and reads the counters. -1 if a capture could not be written whole. */
int wire_stop(struct wire *w, struct lab_err *err);

/* Stops the relay if it runs, removes the namespaces and devices, frees everything. */
void wire_free(struct wire *w);

/* SIDE's network namespace: a child process calls setns(fd, CLONE_NEWNET) before
 * exec to run there. The fd is close-on-exec and stays the wire's. */
int wire_netns_fd(const struct wire *w, enum wire_side side);

/* Moves the calling thread into SIDE's namespace (sockets it makes then live there). */
int wire_enter(const struct wire *w, enum wire_side side, struct lab_err *err);

/* The counters; complete once wire_stop has returned. */
const struct wire_stats *wire_stats(const struct wire *w);

/* Packets dropped in direction DIR (-1: both) for KIND (-1: every kind). */
uint64_t wire_stats_dropped(const struct wire_stats *s, int dir, int kind);

/* "client->server" or "server->client". */
const char *wire_dir_name(enum wire_dir dir);

#endif
