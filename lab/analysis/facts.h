/* facts: the analysis stage. Reads a capture once, in one pass, into everything the
 * later stages ask of it: the connections with every tcp.analysis flag, bytes,
 * handshake and teardown (flow.h); the number of frames each BPF filter of the
 * expectations matches (libpcap's own compiler and pcap_offline_filter); for each
 * payload rule ("every data segment from the client carries at most 1 byte") the
 * segments that break it; and, when asked, the ladder rows of each connection
 * (ladder.h) that show and the sequence diagram draw. Verdicts judge these facts
 * and every report renders them; nothing reads the capture a second time.
 * Takes a pcap or pcapng path and options; gives a read-only struct facts. It
 * knows nothing of scenarios or runs, and prints nothing. */
#ifndef TCPLAB_FACTS_H
#define TCPLAB_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/analysis/flow.h"
#include "lab/analysis/ladder.h"
#include "lab/common/err.h"

/* A BPF filter (tcpdump syntax) whose matching frames are counted over the whole
 * capture (every port). where: the caller's name for it in messages
 * ("sixteen.scn:12:1"), may be NULL. */
struct facts_filter {
	const char *text;
	const char *where;
};

/* Every data segment sent in direction dir (FLOW_DIR_*) must carry a payload
 * inside [min_bytes, max_bytes] (inside = true) or outside it (inside = false).
 * Keep-alive bytes and window probes are not data. Only segments of connections
 * that pass flow_opts.port count. */
struct facts_payload_rule {
	int dir;
	uint32_t min_bytes;
	uint32_t max_bytes;
	bool inside;
};

struct facts_opts {
	uint16_t port; /* non-zero: only connections from or to this port */
	const struct facts_filter *filters;
	size_t n_filters;
	const struct facts_payload_rule *rules;
	size_t n_rules;
	/* Non-zero: frames stamped later (capture time, microseconds since the
	 * epoch) count nowhere, neither in flows nor filters nor rules nor the
	 * ladder (the lab's stop: record.h); facts_after_until counts them. */
	int64_t until_us;
	/* Non-NULL: build the ladder rows of every connection with these options. */
	const struct ladder_opts *ladder;
	/* Keep every connection's segments as points for graphs (facts_series). */
	bool series;
};

/* One segment as a time-sequence graph draws it. */
struct facts_point {
	int64_t time_us; /* capture timestamp */
	uint64_t frame;  /* 1-based, as Wireshark numbers frames */
	uint32_t seq_rel, ack_rel, payload_bytes;
	uint64_t window_bytes; /* advertised, scaled when known */
	uint32_t analysis;     /* bit (1u << enum flow_flag) per flag */
	uint8_t tcp_flags;     /* PACKET_TCP_* bits */
};

/* The segments one direction of one connection sent, in capture order. A long
 * transfer keeps at most FACTS_SERIES_MAX_POINTS: once full, ordinary segments
 * (no analysis flag, no SYN, FIN or RST) are thinned to every stride-th; every
 * segment with a flag or those flags is kept. */
#define FACTS_SERIES_MAX_POINTS 20000
struct facts_series {
	const struct facts_point *points;
	size_t count;
	uint64_t segments; /* all segments this way, kept or not */
	unsigned stride;   /* 1: every segment kept */
};

struct facts;

/* Reads the capture at path. Returns 0 and sets *out (free with facts_free), also
 * when the file ends in a truncated or corrupt record: then
 * facts_flows(f)->totals' file_note says so and what came before counts. Returns
 * -1 with err set when the file cannot be read as a capture, a filter does not
 * compile for the capture's link type ("WHERE: bad packet filter ..."), or memory
 * runs out. */
int facts_read(const char *path, const struct facts_opts *opts, struct facts **out,
	       struct lab_err *err);
void facts_free(struct facts *f);

/* The capture's path as given to facts_read. */
const char *facts_path(const struct facts *f);
/* The connections and totals. */
const struct flow_analysis *facts_flows(const struct facts *f);
/* Frames filter i matched (i < opts.n_filters). */
uint64_t facts_filter_matches(const struct facts *f, size_t i);
/* Data segments that broke rule i, and the payload of the first of them. */
uint64_t facts_rule_violations(const struct facts *f, size_t i);
uint32_t facts_rule_first_violation(const struct facts *f, size_t i);
/* Data segments that rule i applied to (its direction). */
uint64_t facts_rule_segments(const struct facts *f, size_t i);
/* Frames after opts.until_us, not judged. */
uint64_t facts_after_until(const struct facts *f);
/* opts.until_us as given (0: none). */
int64_t facts_until_us(const struct facts *f);
/* The points of connection conn_id (flow_conn.id) in direction dir (FLOW_DIR_*);
 * count 0 when opts.series was false or the direction sent nothing. */
struct facts_series facts_series(const struct facts *f, unsigned conn_id, int dir);

/* The ladder rows, or NULL when opts.ladder was NULL. */
const struct ladder *facts_ladder(const struct facts *f);

#endif
