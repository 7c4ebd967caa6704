/* flow_table: the connection table of the flow analysis, private to the flow
 * library (flow.c analyses segments, flow_table.c keeps connections): finds a
 * segment's connection by its 4-tuple, starts a new one when a SYN reuses the
 * ports, lets closed connections linger for late segments and then keeps only
 * their summaries. */
#ifndef TCPLAB_FLOW_TABLE_H
#define TCPLAB_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/analysis/flow.h"
#include "lab/analysis/packet.h"

#define WINDOW_UNSEEN UINT64_MAX
#define RAW_WINDOW_UNSEEN UINT32_MAX

/* The analysis state of one direction (the sender's side of it). */
struct dir_state {
	bool base_known;
	uint32_t base_seq; /* for relative numbers */
	int win_scale;     /* -1 unknown, -2 not in use, >= 0 shift */
	/* Last window sent: as on the wire (Wireshark compares these for window
	 * updates and duplicate ACKs) and scaled (for the window's right edge). */
	uint32_t raw_window; /* RAW_WINDOW_UNSEEN before the first segment */
	uint64_t window;     /* scaled, WINDOW_UNSEEN before the first */
	bool nextseq_known;
	uint32_t nextseq; /* highest seq + len (+1 for SYN/FIN) seen */
	int64_t nextseq_time_us;
	bool lastack_known;
	uint32_t lastack; /* last ack number sent this way */
	int64_t lastack_time_us;
	bool maxseq_known;
	uint32_t maxseqtobeacked; /* end of the contiguous data seen */
	int dupacks;              /* duplicate ACKs since the ack number last
				     changed; -1 after an ACKed unseen segment
				     (see flow.c) */
	uint32_t last_flags;      /* analysis flags of the last segment */
	bool data_end_known;
	uint32_t data_start; /* lowest seq of payload, for data_bytes */
	uint32_t data_end;   /* highest seq + len of payload */
	bool syn_seen;
	uint32_t isn;
};

struct conn_key {
	int family;
	uint8_t addr[2][16]; /* endpoint 0 sorts before endpoint 1 */
	uint16_t port[2];
};

struct conn {
	struct conn_key key;
	int client_end; /* which key endpoint is the client */
	struct flow_conn *sum;
	struct dir_state d[2]; /* by direction: FLOW_DIR_C2S, FLOW_DIR_S2C */
	int64_t last_syn_time_us;
	int64_t first_syn_time_us;
	bool first_syn_seen;
	int64_t first_rtt_us; /* 0 until the handshake completes */
	bool synack_seen;
	int64_t closed_time_us;
	struct conn *hash_next;
	struct conn *linger_prev, *linger_next;
	bool lingering;
};

struct flow_analysis {
	struct flow_opts opts;
	struct flow_totals totals;
	struct flow_conn **conns; /* summaries, in order of first packet */
	size_t conn_count, conn_cap;
	struct conn **table; /* open connections, chained */
	size_t table_size, open_count;
	struct conn *linger_head, *linger_tail;
	int undecoded_linktype; /* the first link type left undecoded */
	uint64_t tunnelled_kinds; /* packet_tunnel bits seen unopened */
};

/* The connection of segment t, created on its first packet (or when a SYN
 * reuses the 4-tuple with a new ISN: then *reused is set); *dir is the
 * segment's direction, FLOW_DIR_C2S or FLOW_DIR_S2C. NULL with err set when
 * out of memory. */
struct conn *flow_table_conn(struct flow_analysis *fa, const struct packet_tcp *t, uint64_t frame,
			     int64_t now_us, int *dir, bool *reused, struct lab_err *err);

/* c closed at now_us: it keeps its analysis state for late segments until
 * flow_table_expire retires it. */
void flow_table_linger(struct flow_analysis *fa, struct conn *c, int64_t now_us);

/* Retires the connections closed more than opts.linger_us before now_us. */
void flow_table_expire(struct flow_analysis *fa, int64_t now_us);

/* Frees the open connections and every summary (not fa itself). */
void flow_table_free(struct flow_analysis *fa);

#endif
