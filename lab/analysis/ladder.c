/* ladder: the rows of each connection's ladder diagram (see ladder.h).
 *
 * The analysis streams the segments of all connections interleaved; each
 * connection keeps its rows here until the renderer draws them at the end, when
 * the summaries are final. A run of ordinary segments is kept as rows while it
 * is short; when it grows past opts.fold_segments its rows collapse into one
 * fold row in place and later segments of the run only add to its counts, so a
 * bulk transfer costs one row, not one per segment. With keep_turns, the turns
 * of the conversation end a run: the handshake's last ACK (the client's first ACK
 * after the SYN/ACK) and the first segment with data in each direction (the
 * request, the response) are rows, so a fold never hides who spoke first. */
#include "lab/analysis/ladder.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/analysis/packet.h"

struct conn_state {
	struct ladder_conn conn;
	bool seen; /* a segment of this connection was added */
	size_t row_cap;
	size_t run_start;     /* first row of the current run of ordinary segments */
	uint64_t run_count;   /* segments in it, 0: no run */
	bool synack_seen;     /* a SYN/ACK went server->client */
	bool handshake_acked; /* and the client's ACK of it was added */
	bool data_seen[2];    /* per direction: a segment with payload was added */
	uint32_t notes_seen;  /* analysis bits some row already shows */
};

struct ladder {
	struct ladder_opts opts;
	struct conn_state *conns; /* index: flow_conn.id - 1 */
	size_t conn_count;
	bool failed;
};

struct ladder *ladder_new(const struct ladder_opts *opts)
{
	struct ladder *l = calloc(1, sizeof(*l));

	if (l != NULL && opts != NULL)
		l->opts = *opts;
	return l;
}

void ladder_free(struct ladder *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->conn_count; i++)
		free(l->conns[i].conn.rows);
	free(l->conns);
	free(l);
}

bool ladder_failed(const struct ladder *l)
{
	return l->failed;
}

const struct ladder_conn *ladder_conn(const struct ladder *l, unsigned conn_id)
{
	if (conn_id == 0 || conn_id > l->conn_count || !l->conns[conn_id - 1].seen)
		return NULL;
	return &l->conns[conn_id - 1].conn;
}

static struct conn_state *conn_slot(struct ladder *l, unsigned id)
{
	if (id == 0)
		return NULL;
	if (id > l->conn_count) {
		size_t n = l->conn_count * 2 > id ? l->conn_count * 2 : (size_t)id + 16;
		struct conn_state *conns = realloc(l->conns, n * sizeof(*conns));

		if (conns == NULL)
			return NULL;
		memset(conns + l->conn_count, 0, (n - l->conn_count) * sizeof(*conns));
		l->conns = conns;
		l->conn_count = n;
	}
	return &l->conns[id - 1];
}

/* A turn of the conversation: the handshake's last ACK or the first data in
 * this direction. Updates what the connection has seen. */
static bool segment_is_turn(struct conn_state *cs, const struct flow_segment *seg)
{
	bool turn = false;

	if ((seg->tcp_flags & (PACKET_TCP_SYN | PACKET_TCP_ACK)) ==
	    (PACKET_TCP_SYN | PACKET_TCP_ACK)) {
		if (seg->dir == FLOW_DIR_S2C)
			cs->synack_seen = true;
	} else if (seg->dir == FLOW_DIR_C2S && (seg->tcp_flags & PACKET_TCP_ACK) &&
		   cs->synack_seen && !cs->handshake_acked) {
		cs->handshake_acked = true;
		turn = true;
	}
	if (seg->payload_bytes > 0 && !cs->data_seen[seg->dir]) {
		cs->data_seen[seg->dir] = true;
		turn = true;
	}
	return turn;
}

/* Whether the segment may join a run that folds. Updates the notes seen. */
static bool segment_is_ordinary(const struct ladder *l, struct conn_state *cs,
				const struct flow_segment *seg)
{
	bool turn = segment_is_turn(cs, seg);
	uint32_t news = seg->analysis & ~cs->notes_seen;

	cs->notes_seen |= seg->analysis;
	if (l->opts.all || (turn && l->opts.keep_turns) ||
	    (seg->truncated && !l->opts.truncated_folds))
		return false;
	if (seg->tcp_flags & (PACKET_TCP_SYN | PACKET_TCP_FIN | PACKET_TCP_RST))
		return false;
	return seg->analysis == 0 || (l->opts.fold_annotated && news == 0);
}

static struct ladder_row *push_row(struct conn_state *cs)
{
	struct ladder_conn *c = &cs->conn;

	if (c->row_count == cs->row_cap) {
		size_t cap = cs->row_cap ? cs->row_cap * 2 : 32;
		struct ladder_row *rows = realloc(c->rows, cap * sizeof(*rows));

		if (rows == NULL)
			return NULL;
		c->rows = rows;
		cs->row_cap = cap;
	}
	memset(&c->rows[c->row_count], 0, sizeof(c->rows[0]));
	return &c->rows[c->row_count++];
}

static bool note_listed(uint32_t m, int f);

static void fold_add(struct ladder_row *fold, int dir, uint32_t payload_bytes, uint32_t analysis,
		     uint64_t frame, int64_t time_us)
{
	fold->fold_segments[dir]++;
	fold->fold_bytes[dir] += payload_bytes;
	for (int f = 0; analysis != 0 && f < FLOW_FLAG_COUNT; f++)
		if (note_listed(analysis, f))
			fold->fold_flags[f]++;
	fold->last_frame = frame;
	fold->last_time_us = time_us;
}

/* The run has grown past the limit: its rows become one fold row. */
static void fold_run(struct conn_state *cs)
{
	struct ladder_conn *c = &cs->conn;
	struct ladder_row fold = { .kind = LADDER_ROW_FOLD };

	fold.time_us = c->rows[cs->run_start].time_us;
	fold.frame = c->rows[cs->run_start].frame;
	for (size_t i = cs->run_start; i < c->row_count; i++)
		fold_add(&fold, c->rows[i].dir, c->rows[i].payload_bytes, c->rows[i].analysis,
			 c->rows[i].frame, c->rows[i].time_us);
	c->rows[cs->run_start] = fold;
	c->row_count = cs->run_start + 1;
}

int ladder_add(struct ladder *l, const struct flow_segment *seg)
{
	bool ordinary;
	struct conn_state *cs;
	struct ladder_row *row;

	if (l->failed)
		return -1;
	cs = conn_slot(l, seg->conn->id);
	if (cs == NULL)
		goto fail;
	cs->seen = true;
	ordinary = segment_is_ordinary(l, cs, seg);
	if (!ordinary)
		cs->run_count = 0;
	if (ordinary && cs->run_count > l->opts.fold_segments) {
		fold_add(&cs->conn.rows[cs->run_start], seg->dir, seg->payload_bytes, seg->analysis,
			 seg->frame, seg->time_us);
		cs->run_count++;
		return 0;
	}
	if (l->opts.max_rows > 0 && cs->conn.row_count >= l->opts.max_rows) {
		cs->conn.omitted_segments++;
		cs->conn.omitted_bytes += seg->payload_bytes;
		return 0;
	}
	row = push_row(cs);
	if (row == NULL)
		goto fail;
	row->kind = LADDER_ROW_SEGMENT;
	row->dir = seg->dir;
	row->frame = seg->frame;
	row->time_us = seg->time_us;
	row->tcp_flags = seg->tcp_flags;
	row->seq_rel = seg->seq_rel;
	row->ack_rel = seg->ack_rel;
	row->payload_bytes = seg->payload_bytes;
	row->window_bytes = seg->window_bytes;
	row->analysis = seg->analysis;
	row->truncated = seg->truncated;
	if (!ordinary)
		return 0;
	if (cs->run_count == 0)
		cs->run_start = cs->conn.row_count - 1;
	cs->run_count++;
	if (cs->run_count > l->opts.fold_segments)
		fold_run(cs);
	return 0;
fail:
	l->failed = true;
	return -1;
}

void ladder_on_segment(const struct flow_segment *seg, void *arg)
{
	(void)ladder_add(arg, seg);
}

/* ---- text ----------------------------------------------------------------------- */

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Appends to buf, cut to fit; *used never passes len - 1. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n >= len ? len - 1 : *used + (size_t)n;
}

void ladder_format_flags(uint8_t tcp_flags, char *buf, size_t len)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} order[] = {
		{ PACKET_TCP_SYN, "SYN" }, { PACKET_TCP_FIN, "FIN" }, { PACKET_TCP_RST, "RST" },
		{ PACKET_TCP_PSH, "PSH" }, { PACKET_TCP_ACK, "ACK" }, { PACKET_TCP_URG, "URG" },
		{ PACKET_TCP_ECE, "ECE" }, { PACKET_TCP_CWR, "CWR" },
	};
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (tcp_flags & order[i].bit)
			append(buf, len, &used, "%s%s", used ? "/" : "", order[i].name);
	if (used == 0)
		snprintf(buf, len, "none");
}

void ladder_format_label(const struct ladder_row *row, char *buf, size_t len)
{
	char flags[48];

	ladder_format_flags(row->tcp_flags, flags, sizeof(flags));
	if (row->tcp_flags & PACKET_TCP_ACK)
		snprintf(buf, len,
			 "%s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32 " win=%" PRIu64, flags,
			 row->seq_rel, row->ack_rel, row->payload_bytes, row->window_bytes);
	else
		snprintf(buf, len, "%s seq=%" PRIu32 " len=%" PRIu32 " win=%" PRIu64, flags,
			 row->seq_rel, row->payload_bytes, row->window_bytes);
}

/* A general note gives way to its specific one. */
static bool note_listed(uint32_t m, int f)
{
	if (!(m & (1u << f)))
		return false;
	if (f == FLOW_RETRANSMISSION &&
	    (m & (1u << FLOW_FAST_RETRANSMISSION | 1u << FLOW_SPURIOUS_RETRANSMISSION)))
		return false;
	if ((f == FLOW_KEEP_ALIVE || f == FLOW_ZERO_WINDOW_PROBE) &&
	    (m & (1u << FLOW_WINDOW_PROBE)))
		return false;
	return true;
}

size_t ladder_format_notes(uint32_t analysis, const char *open, const char *close, const char *sep,
			   char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		if (note_listed(analysis, f))
			append(buf, len, &used, "%s%s%s%s", used ? sep : "", open,
			       flow_flag_words((enum flow_flag)f), close);
	return used;
}

size_t ladder_format_fold_notes(const struct ladder_row *fold, const char *count_sep, char *buf,
				size_t len)
{
	size_t used = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (int f = 0; fold->kind == LADDER_ROW_FOLD && f < FLOW_FLAG_COUNT; f++) {
		char count[48];

		if (fold->fold_flags[f] == 0)
			continue;
		ladder_format_count(fold->fold_flags[f], count_sep, count, sizeof(count));
		append(buf, len, &used, "%s%s %s", used ? ", " : "",
		       flow_flag_words((enum flow_flag)f), count);
	}
	return used;
}

void ladder_format_count(uint64_t n, const char *sep, char *buf, size_t len)
{
	char digits[32];
	size_t nd, sep_len = strlen(sep), used = 0;

	if (len == 0)
		return;
	snprintf(digits, sizeof(digits), "%" PRIu64, n);
	nd = strlen(digits);
	for (size_t i = 0; i < nd; i++) {
		bool group = i > 0 && (nd - i) % 3 == 0;

		if (used + (group ? sep_len : 0) + 1 >= len)
			break;
		if (group) {
			memcpy(buf + used, sep, sep_len);
			used += sep_len;
		}
		buf[used++] = digits[i];
	}
	buf[used] = '\0';
}

void ladder_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	if (bytes < 10000)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else if (bytes < 10000000ULL)
		snprintf(buf, len, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 10000000000ULL)
		snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
	else
		snprintf(buf, len, "%.1f GB", (double)bytes / 1e9);
}
