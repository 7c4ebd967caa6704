/* wire_fault: the wire's fault model as pure functions. What a link line asks of one
 * direction (delay, jitter, loss, duplication, reordering, corruption, rate, targeted
 * drops, partitions), and every random choice made from it: each is a function of
 * (seed, direction, packet index) only, so a run repeats its choices exactly. No I/O,
 * no clock, no state: the link (wire_link.h) keeps the state and the time. */
#ifndef TCPLAB_WIRE_FAULT_H
#define TCPLAB_WIRE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Percentages are kept in pcm (per cent mille): 100% = 100000, so "0.125%" = 125. */
#define WIRE_PCM_ALL 100000u

#define WIRE_MAX_FILTERS 8
#define WIRE_MAX_DOWNS 8
#define WIRE_FILTER_EXPR_BYTES 512

/* The seed a scenario without `link seed` uses: every run of a file makes the same choices. */
#define WIRE_DEFAULT_SEED 1u
#define WIRE_DEFAULT_MTU 1500u
/* The rate queue's bound when the line gives none: about 100 full packets, as a
 * small router's buffer; a packet that finds it full is dropped (kind "queue"). */
#define WIRE_DEFAULT_QUEUE_PACKETS 100u
/* A packet held back for reordering waits for the next one at most this long,
 * then leaves alone (late, not reordered): a lone SYN is never held for good. */
#define WIRE_REORDER_HOLD_MAX_US 10000u

enum wire_dir {
	WIRE_C2S = 0, /* client -> server */
	WIRE_S2C = 1, /* server -> client */
	WIRE_DIRS = 2,
};

/* Why the link dropped a packet. The order is the order the checks are made in. */
enum wire_drop_kind {
	WIRE_DROP_DOWN = 0, /* the link was down (`down at T [for D]`) */
	WIRE_DROP_MTU,      /* larger than the link's MTU */
	WIRE_DROP_FILTER,   /* matched a `drop "FILTER"` rule */
	WIRE_DROP_LOSS,     /* random loss (`loss P%`) */
	WIRE_DROP_QUEUE,    /* the rate queue was full (`rate R`) */
	WIRE_DROP_OVERFLOW, /* the relay's memory bound was reached (never expected) */
	WIRE_DROP_KINDS,
};

/* "down", "mtu", "filter", "loss", "queue", "overflow"; NULL for a bad value. */
const char *wire_drop_kind_name(enum wire_drop_kind kind);
/* The kind named NAME, or -1. */
int wire_drop_kind_from_name(const char *name);

/* Which matches of a drop filter are dropped. */
enum wire_filter_mode {
	WIRE_FILTER_ALL = 0, /* every packet that matches */
	WIRE_FILTER_ONCE,    /* the first match only */
	WIRE_FILTER_EVERY,   /* every Nth match: the Nth, 2Nth, ... */
	WIRE_FILTER_FIRST,   /* the first N matches */
};

struct wire_filter_rule {
	char expr[WIRE_FILTER_EXPR_BYTES]; /* tcpdump syntax, compiled for raw IP */
	enum wire_filter_mode mode;
	uint32_t n; /* for EVERY and FIRST */
};

/* A partition: nothing passes from at_us (since the wire started) for for_us; a
 * for_us of 0 means until the end. */
struct wire_down {
	uint64_t at_us;
	uint64_t for_us;
};

/* The faults of one direction. All zero: a perfect wire. */
struct wire_faults {
	uint64_t delay_us;
	uint64_t jitter_us; /* each packet's delay is delay_us +- up to jitter_us */
	uint32_t loss_pcm;
	uint32_t duplicate_pcm;
	uint32_t reorder_pcm;
	uint32_t corrupt_pcm;
	uint64_t rate_bps;      /* bits per second of IP packet bytes; 0: unlimited */
	uint32_t queue_packets; /* the rate queue's bound; 0: WIRE_DEFAULT_QUEUE_PACKETS */
	struct wire_filter_rule filters[WIRE_MAX_FILTERS];
	size_t n_filters;
	struct wire_down downs[WIRE_MAX_DOWNS];
	size_t n_downs;
};

/* The random choices for one packet. */
struct wire_choice {
	bool lose;
	bool corrupt;
	bool duplicate;
	bool reorder;
	uint64_t corrupt_draw; /* picks the bit to flip (wire_corrupt) */
	int64_t jitter_us;     /* in [-jitter_us, +jitter_us] */
};

/* A 64-bit draw, uniform, from (seed, dir, index, salt): the one source of chance. */
uint64_t wire_draw(uint64_t seed, enum wire_dir dir, uint64_t index, unsigned salt);

/* The choices for the packet at INDEX (0 for the first) of direction DIR. */
void wire_choose(const struct wire_faults *f, uint64_t seed, enum wire_dir dir, uint64_t index,
		 struct wire_choice *out);

/* Whether the rule drops the packet that is its MATCH_NUMBERth match (1 for the first). */
bool wire_filter_drops(const struct wire_filter_rule *rule, uint64_t match_number);

/* Whether the link is down at t_us since the wire started. */
bool wire_is_down(const struct wire_faults *f, uint64_t t_us);

/* Whether the direction has any fault at all (if not, packets pass straight through). */
bool wire_faults_any(const struct wire_faults *f);

/* Whether the direction makes a choice, or takes a time, per segment of the wire
 * (loss, duplication, reordering, corruption, filters, jitter, rate): then the
 * wire carries one MTU-sized segment at a time. A delay without jitter and the
 * partitions treat every segment of a burst alike, so the wire may carry a burst
 * the kernel offloads as one packet (wire.h). */
bool wire_faults_per_segment(const struct wire_faults *f);

/* Flips one bit of the TCP segment in the IPv4 packet PKT: a bit of the payload when
 * there is one, else a bit of the checksum field, so the headers the analysers read
 * stay as sent and the receiver drops the segment for its checksum. DRAW picks the
 * bit. Returns the bit's offset in the TCP segment, or -1 (nothing changed) when PKT
 * is not a whole IPv4 TCP packet. */
long wire_corrupt(uint8_t *pkt, size_t len, uint64_t draw);

#endif
