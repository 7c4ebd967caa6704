/* ladder: the rows of each TCP connection's ladder (sequence) diagram, built from
 * the analyser's per-segment callback while the capture streams by: one row per
 * segment, a long run of ordinary segments folded into one row that counts them
 * per direction (and per analysis note). The turns of a conversation (the
 * handshake's last ACK, the first data each way) always keep a row. It draws
 * nothing: show.c (terminal) and report_seqdiag.c (SVG) render the rows; the
 * label text of a segment is shared here. */
#ifndef TCPLAB_LADDER_H
#define TCPLAB_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/analysis/flow.h"

struct ladder_opts {
	/* A run of more ordinary segments than this (no analysis note, no SYN,
	 * FIN or RST) becomes one fold row. The run's first segments are kept
	 * as rows until it grows past the limit, so a run costs at most
	 * fold_segments rows of memory, however long it gets. */
	unsigned fold_segments;
	/* The turns of the conversation are never ordinary: the handshake's
	 * last ACK (the client's first ACK after the SYN/ACK) and the first
	 * segment with data in each direction (the request, the response). */
	bool keep_turns;
	/* Annotated segments fold too, once their notes are not news: the first
	 * segment of a connection with a given note is always a row, later
	 * ones count as ordinary (the fold row counts them per note), so 2 000
	 * duplicate ACKs are one dup-ack row and one fold, not 2 000 rows. */
	bool fold_annotated;
	bool all;             /* never fold: every segment is a row */
	bool truncated_folds; /* a segment cut by the snaplen may fold like any
				 other; false: it is always a row of its own */
	size_t max_rows;      /* rows kept per connection, 0 = no limit; once
				 reached, segments are only counted
				 (ladder_conn.omitted_*), except those that join
				 the fold row in progress; a run that meets the
				 limit before it folds is counted there too */
};

enum ladder_row_kind { LADDER_ROW_SEGMENT, LADDER_ROW_FOLD };

struct ladder_row {
	enum ladder_row_kind kind;
	uint64_t frame;  /* capture frame number (1-based, as Wireshark counts);
			    a fold: of its first segment */
	int64_t time_us; /* a fold: of its first segment */
	/* LADDER_ROW_SEGMENT: the segment as flow.h saw it */
	int dir;           /* FLOW_DIR_C2S or FLOW_DIR_S2C */
	uint8_t tcp_flags; /* PACKET_TCP_* bits */
	bool truncated;
	uint32_t seq_rel, ack_rel, payload_bytes;
	uint64_t window_bytes;
	uint32_t analysis; /* bit (1u << enum flow_flag) per flag */
	/* LADDER_ROW_FOLD: per direction (FLOW_DIR_*) */
	uint64_t fold_segments[2];
	uint64_t fold_bytes[2]; /* payload bytes */
	uint64_t last_frame;    /* of its last segment */
	int64_t last_time_us;   /* of its last segment */
	/* segments per analysis note (enum flow_flag); with fold_annotated */
	uint64_t fold_flags[FLOW_FLAG_COUNT];
};

/* One connection's rows, in capture order. Read-only for callers. */
struct ladder_conn {
	struct ladder_row *rows;
	size_t row_count;
	uint64_t omitted_segments; /* past ladder_opts.max_rows */
	uint64_t omitted_bytes;
};

struct ladder;

/* NULL when out of memory. */
struct ladder *ladder_new(const struct ladder_opts *opts);
void ladder_free(struct ladder *l);

/* Adds one segment to its connection's rows (seg->conn->id picks the
 * connection). Returns 0, or -1 when out of memory: then the ladder is failed
 * and ignores what follows. */
int ladder_add(struct ladder *l, const struct flow_segment *seg);
/* ladder_add as a flow_segment_fn for flow_opts.on_segment; arg: the ladder. */
void ladder_on_segment(const struct flow_segment *seg, void *arg);
/* True once an ladder_add ran out of memory. */
bool ladder_failed(const struct ladder *l);

/* The rows of connection conn_id (flow_conn.id); NULL when none of its
 * segments was added. */
const struct ladder_conn *ladder_conn(const struct ladder *l, unsigned conn_id);

/* "SYN/ACK", "PSH/ACK", "FIN/ACK", "none": the order of Wireshark's ladder. */
void ladder_format_flags(uint8_t tcp_flags, char *buf, size_t len);
/* A segment row's label: "SYN/ACK seq=0 ack=1 len=0 win=65483" (no ack= when
 * ACK is not set). */
void ladder_format_label(const struct ladder_row *row, char *buf, size_t len);
/* The analysis notes in words (flow_flag_words), the specific name instead of
 * its general one (fast retransmission, not also retransmission; window probe,
 * not also keep-alive or zero window probe), each as OPEN word CLOSE, joined by
 * sep: ("[", "]", " ") gives "[zero window] [window full]". Returns strlen(buf). */
size_t ladder_format_notes(uint32_t analysis, const char *open, const char *close, const char *sep,
			   char *buf, size_t len);
/* A fold row's notes with their counts, the specific name instead of its
 * general one as in ladder_format_notes: "dup ack 2 690, window update 3"
 * (count groups joined by count_sep). "" when the fold holds no note. Returns
 * strlen(buf). */
size_t ladder_format_fold_notes(const struct ladder_row *fold, const char *count_sep, char *buf,
				size_t len);
/* A count in groups of three digits joined by sep: 8123 with " " -> "8 123". */
void ladder_format_count(uint64_t n, const char *sep, char *buf, size_t len);
/* "16 B", "9999 B", "13.6 kB", "13.6 MB", "1.1 GB" (decimal units). */
void ladder_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif
