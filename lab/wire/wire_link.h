/* wire_link: one direction of the wire, as a queue in time. A packet offered at time t
 * is dropped (and why) or queued with the time it leaves; popping returns the packets
 * due, in order. It applies the fault model (wire_fault.h) and keeps its state: the
 * packet index, the drop filters' match counts, the rate queue, the packet held back
 * for reordering. It owns no clock and does no I/O (the relay, wire_relay.c, does), so
 * every rule here is testable with made-up times. */
#ifndef TCPLAB_WIRE_LINK_H
#define TCPLAB_WIRE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/wire/wire_fault.h"
#include "lab/wire/wire_gso.h"

/* A packet on the wire. The relay allocates it; the link holds it between offer and pop. */
struct wire_packet {
	struct wire_packet *next;
	uint64_t index;      /* its place in its direction, from 0 */
	uint64_t release_ns; /* when it leaves the wire */
	uint32_t len;
	uint32_t capacity; /* bytes data[] has room for (the relay's) */
	/* The segments it is on an MTU-sized wire (1 unless offloaded, wire_gso.h) and
	 * the largest one's length: the link counts, numbers and checks the MTU in
	 * segments. Set by the relay before the offer. */
	uint32_t segs;
	uint32_t seg_len;
	uint8_t copies; /* 2 when duplicated: the second copy leaves right after the first */
	struct wire_vnet vnet; /* the virtio-net header, when offloads are on */
	uint8_t data[];
};

/* The first drop indices a direction records (more are counted, not recorded). */
#define WIRE_RECORDED_DROPS 4096

/* What one direction did, by kind. */
struct wire_link_stats {
	uint64_t packets_in; /* offered, every one numbered (in segments) */
	uint64_t bytes_in;
	uint64_t dropped[WIRE_DROP_KINDS];
	uint64_t duplicated;
	uint64_t reordered; /* held back and overtaken by the next packet */
	uint64_t corrupted;
	uint64_t delayed; /* left later than they came */
	/* The indices of the first WIRE_RECORDED_DROPS packets dropped, in order. */
	uint64_t drop_index[WIRE_RECORDED_DROPS];
	uint64_t n_drop_index;
};

struct wire_link;

/* A direction with faults F (copied), the run's SEED and the link's MTU. Fails on a
 * filter libpcap cannot compile, naming it. */
struct wire_link *wire_link_new(const struct wire_faults *f, uint64_t seed, enum wire_dir dir,
				uint32_t mtu, struct lab_err *err);

/* Frees the link and its filters. Packets still queued are not freed: take them
 * with wire_link_take_all first. */
void wire_link_free(struct wire_link *l);

/* Offers PKT (data and len set) that entered the wire at t_ns (since the wire
 * started; never less than an earlier offer's). Returns 1 when the link keeps it
 * (pop it later), 0 when it is dropped (the caller keeps it; *kind says why). The
 * packet's bytes may be changed (corruption). */
int wire_link_offer(struct wire_link *l, struct wire_packet *pkt, uint64_t t_ns,
		    enum wire_drop_kind *kind);

/* Numbers PKT and counts it dropped for KIND without looking at it: for a packet
 * the relay could not keep (WIRE_DROP_OVERFLOW). */
void wire_link_refuse(struct wire_link *l, struct wire_packet *pkt, enum wire_drop_kind kind);

/* The next packet due at t_ns, or NULL. Packets come out in the order they leave. */
struct wire_packet *wire_link_pop(struct wire_link *l, uint64_t t_ns);

/* When the next packet is due (it may be in the past), or UINT64_MAX when none waits. */
uint64_t wire_link_next_ns(const struct wire_link *l);

/* Every packet still on the link, as a list (next), in order; the link is then empty. */
struct wire_packet *wire_link_take_all(struct wire_link *l);

/* Packets on the link now (queued or held). */
uint64_t wire_link_pending(const struct wire_link *l);

const struct wire_link_stats *wire_link_stats(const struct wire_link *l);

/* Whether EXPR compiles as a filter for raw IPv4 packets; if not, MSG gets libpcap's
 * reason. For the scenario parser, which refuses a bad filter at its line. */
bool wire_filter_compiles(const char *expr, char *msg, size_t msg_bytes);

#endif
