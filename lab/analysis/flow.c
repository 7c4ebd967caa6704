/* flow: per-segment TCP analysis (see flow.h); the connection table (lookup
 * by 4-tuple, port reuse, closed connections lingering for late segments, the
 * summaries) lives in flow_table.c.
 *
 * The per-segment checks follow the definitions of Wireshark's "TCP Analysis"
 * (user's guide, section 7.5) and the order Wireshark applies them in, so that
 * our counts equal tshark's tcp.analysis.* counts:
 *   zero window probe, zero window, lost segment, keep-alive, window update,
 *   window full, keep-alive ACK, zero window probe ACK, duplicate ACK;
 *   then ACKed unseen segment; then for segments that occupy sequence space:
 *   fast retransmission, out-of-order, spurious retransmission, retransmission.
 * Windows: window updates, duplicate ACKs and the probe checks compare the raw
 * window field as Wireshark does; window full uses the scaled right edge.
 *
 * Deliberate differences from Wireshark (tshark 4.0 was the reference):
 * - A closed connection's analysis state is dropped flow_opts.linger_us (60 s)
 *   of capture time after it closed; a segment on its 4-tuple after that
 *   starts a new, mid-stream connection. Wireshark keeps every conversation
 *   for the whole file (and its memory grows with it).
 * - IPv4/IPv6 fragments are not reassembled: a first fragment is analysed
 *   with the payload it carries, later fragments count as non-TCP.
 *   Wireshark reassembles and analyses the whole segment at the last one.
 * - "Known" flags instead of Wireshark's "0 means unset" for next sequence
 *   and last ACK numbers: differs only when a real number is 0.
 * - No limit on unacknowledged segments (Wireshark stops tracking after
 *   TCP_MAX_UNACKED_SEGMENTS); we keep no per-segment list at all.
 * - FLOW_WINDOW_PROBE is ours, not a Wireshark flag (see flow.h).
 * - reused_ports: a SYN on the 4-tuple of a connection retired after its
 *   linger (above) starts a connection without the flag; Wireshark, which
 *   keeps every conversation, flags it.
 * - ACKed unseen segment: whether data was seen beyond the contiguous edge
 *   is decided with wrap-around sequence comparison (tshark 4.0's choice of
 *   comparison was inferred from its counts on real captures with dropped
 *   packets; the two agree except across a sequence wrap).
 * - Tunnels: VXLAN (UDP 4789), Geneve (UDP 6081), GRE (Ethernet or IP
 *   inside) and IP in IP are opened and their TCP analysed. GTP-U, L2TP,
 *   VXLAN-GPE, MPLS, ERSPAN and GRE version 1 are counted as tunnelled and
 *   noted, not opened: tshark opens some of them and analyses the TCP
 *   inside, so its counts differ on such captures.
 * - pcapng: frames on an interface of a link type packet.c cannot decode
 *   are counted and noted (flow_totals.undecoded, decode_note); a simple
 *   packet block has no time, and counts as time 0, as for tshark. */
#include "lab/analysis/flow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "lab/analysis/flow_table.h"
#include "lab/analysis/packet.h"
#include "lab/analysis/pcapng.h"

#define FLOW_DEFAULT_LINGER_US (60LL * 1000000)
/* Wireshark's thresholds: a retransmission within 20 ms of the last duplicate
 * ACK is "fast"; out-of-order needs the segment within the handshake RTT of the
 * highest one, or 3 ms when the RTT is unknown. */
#define FAST_RETRANSMISSION_WINDOW_US 20000
#define OUT_OF_ORDER_DEFAULT_US 3000

/* Modular sequence comparisons, RFC 9293 §3.4 (sequence space wraps). */
static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return !seq_gt(a, b);
}

/* now_us is less than limit_us after then_us. Wireshark takes the difference
 * as an unsigned number, so a capture time running backwards (interfaces
 * merged into one file) is never "soon after". */
static bool within_us(int64_t now_us, int64_t then_us, int64_t limit_us)
{
	int64_t d;

	if (__builtin_sub_overflow(now_us, then_us, &d))
		return false;
	return d >= 0 && d < limit_us;
}

static const char *const flag_names[FLOW_FLAG_COUNT] = {
	[FLOW_RETRANSMISSION] = "retransmission",
	[FLOW_FAST_RETRANSMISSION] = "fast_retransmission",
	[FLOW_SPURIOUS_RETRANSMISSION] = "spurious_retransmission",
	[FLOW_OUT_OF_ORDER] = "out_of_order",
	[FLOW_LOST_SEGMENT] = "lost_segment",
	[FLOW_ACK_LOST_SEGMENT] = "ack_lost_segment",
	[FLOW_DUPLICATE_ACK] = "duplicate_ack",
	[FLOW_ZERO_WINDOW] = "zero_window",
	[FLOW_ZERO_WINDOW_PROBE] = "zero_window_probe",
	[FLOW_ZERO_WINDOW_PROBE_ACK] = "zero_window_probe_ack",
	[FLOW_WINDOW_FULL] = "window_full",
	[FLOW_WINDOW_UPDATE] = "window_update",
	[FLOW_KEEP_ALIVE] = "keep_alive",
	[FLOW_KEEP_ALIVE_ACK] = "keep_alive_ack",
	[FLOW_REUSED_PORTS] = "reused_ports",
	[FLOW_WINDOW_PROBE] = "window_probe",
};

static const char *const flag_words[FLOW_FLAG_COUNT] = {
	[FLOW_RETRANSMISSION] = "retransmission",
	[FLOW_FAST_RETRANSMISSION] = "fast retransmission",
	[FLOW_SPURIOUS_RETRANSMISSION] = "spurious retransmission",
	[FLOW_OUT_OF_ORDER] = "out-of-order",
	[FLOW_LOST_SEGMENT] = "previous segment not captured",
	[FLOW_ACK_LOST_SEGMENT] = "acked unseen segment",
	[FLOW_DUPLICATE_ACK] = "dup ack",
	[FLOW_ZERO_WINDOW] = "zero window",
	[FLOW_ZERO_WINDOW_PROBE] = "zero window probe",
	[FLOW_ZERO_WINDOW_PROBE_ACK] = "zero window probe ack",
	[FLOW_WINDOW_FULL] = "window full",
	[FLOW_WINDOW_UPDATE] = "window update",
	[FLOW_KEEP_ALIVE] = "keep-alive",
	[FLOW_KEEP_ALIVE_ACK] = "keep-alive ack",
	[FLOW_REUSED_PORTS] = "ports reused",
	[FLOW_WINDOW_PROBE] = "window probe",
};

const char *flow_flag_name(enum flow_flag flag)
{
	return (unsigned)flag < FLOW_FLAG_COUNT ? flag_names[flag] : "?";
}

const char *flow_flag_words(enum flow_flag flag)
{
	return (unsigned)flag < FLOW_FLAG_COUNT ? flag_words[flag] : "?";
}

const char *flow_handshake_name(enum flow_handshake hs)
{
	switch (hs) {
	case FLOW_HANDSHAKE_NONE:
		return "none";
	case FLOW_HANDSHAKE_UNANSWERED:
		return "unanswered";
	case FLOW_HANDSHAKE_REFUSED:
		return "refused";
	case FLOW_HANDSHAKE_INCOMPLETE:
		return "incomplete";
	case FLOW_HANDSHAKE_COMPLETE:
		return "complete";
	}
	return "?";
}

const char *flow_teardown_name(enum flow_teardown td)
{
	switch (td) {
	case FLOW_TEARDOWN_NONE:
		return "none";
	case FLOW_TEARDOWN_FIN:
		return "fin";
	case FLOW_TEARDOWN_RESET:
		return "reset";
	}
	return "?";
}

const struct flow_totals *flow_totals(const struct flow_analysis *fa)
{
	return &fa->totals;
}

/* ---- per-segment analysis ------------------------------------------------- */

static void flag(uint32_t *mask, enum flow_flag f)
{
	*mask |= 1u << f;
}

static bool has(uint32_t mask, enum flow_flag f)
{
	return (mask & (1u << f)) != 0;
}

/* RFC 7323 §2.2: scaling is in use only when both SYNs carried the option;
 * §2.3: the shift is at most 14; windows in SYN segments are never scaled. */
static void note_window_scale(struct conn *c, int dir, const struct packet_tcp *t)
{
	struct dir_state *fwd = &c->d[dir], *rev = &c->d[1 - dir];

	fwd->win_scale = t->has_wscale ? (t->wscale > 14 ? 14 : t->wscale) : -2;
	if ((t->flags & PACKET_TCP_ACK) && rev->win_scale != -1) {
		if (fwd->win_scale == -2 || rev->win_scale == -2)
			fwd->win_scale = rev->win_scale = -2;
	}
	c->sum->dir[dir].wscale = fwd->win_scale >= 0 ? fwd->win_scale : -1;
	c->sum->dir[1 - dir].wscale = rev->win_scale >= 0 ? rev->win_scale : -1;
	if (t->has_mss)
		c->sum->dir[dir].mss = t->mss;
}

static uint64_t scaled_window(const struct dir_state *fwd, const struct packet_tcp *t)
{
	if ((t->flags & PACKET_TCP_SYN) || fwd->win_scale < 0)
		return t->window;
	return (uint64_t)t->window << fwd->win_scale;
}

/* Wireshark's checks, in its order (see the comment at the top). Returns the
 * analysis flags of this segment and updates both directions' state. */
static uint32_t analyse_segment(struct conn *c, int dir, const struct packet_tcp *t, int64_t now_us)
{
	struct dir_state *fwd = &c->d[dir], *rev = &c->d[1 - dir];
	const uint8_t no_sfr = PACKET_TCP_SYN | PACKET_TCP_FIN | PACKET_TCP_RST;
	bool plain = (t->flags & no_sfr) == 0;
	uint32_t seglen = t->payload_bytes;
	uint32_t seq = t->seq, ack = t->ack;
	bool acking = (t->flags & PACKET_TCP_ACK) != 0;
	uint32_t window = t->window;
	uint32_t nextseq;
	uint32_t m = 0;

	/* Zero window probe: one byte of new data while the peer's window is
	 * closed (RFC 9293 §3.8.6.1). Such a byte does not advance nextseq. */
	if (seglen == 1 && fwd->nextseq_known && seq == fwd->nextseq && rev->raw_window == 0) {
		flag(&m, FLOW_ZERO_WINDOW_PROBE);
		goto finished_fwd;
	}
	/* Zero window: the receiver has no buffer space (RFC 9293 §3.8.6). */
	if (t->window == 0 && plain)
		flag(&m, FLOW_ZERO_WINDOW);
	/* Lost segment: data starts beyond what we saw, so some was not captured. */
	if (fwd->nextseq_known && seq_gt(seq, fwd->nextseq) && !(t->flags & PACKET_TCP_RST))
		flag(&m, FLOW_LOST_SEGMENT);
	/* Keep-alive: seq one below the next expected, 0 or 1 byte of garbage
	 * (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6). */
	if (seglen <= 1 && fwd->nextseq_known && seq == fwd->nextseq - 1 && plain)
		flag(&m, FLOW_KEEP_ALIVE);
	/* Window update: a pure ACK that only changes the window (RFC 9293 §3.8.6.2.2). */
	if (seglen == 0 && window != 0 && window != fwd->raw_window && fwd->nextseq_known &&
	    seq == fwd->nextseq && fwd->lastack_known && ack == fwd->lastack && plain)
		flag(&m, FLOW_WINDOW_UPDATE);
	/* Window full: this segment fills the peer's advertised window to its
	 * right edge (RFC 9293 §3.8.6: the sender may not go beyond it). */
	if (seglen > 0 && rev->win_scale != -1 && rev->lastack_known &&
	    rev->window != WINDOW_UNSEEN && seq + seglen == rev->lastack + (uint32_t)rev->window &&
	    plain)
		flag(&m, FLOW_WINDOW_FULL);
	/* Keep-alive ACK: the unchanged ACK answering a keep-alive. */
	if (seglen == 0 && window != 0 && window == fwd->raw_window && fwd->nextseq_known &&
	    seq == fwd->nextseq && fwd->lastack_known && ack == fwd->lastack &&
	    has(rev->last_flags, FLOW_KEEP_ALIVE) && plain) {
		flag(&m, FLOW_KEEP_ALIVE_ACK);
		goto finished_fwd;
	}
	/* Zero window probe ACK: the window stays closed after a probe. */
	if (seglen == 0 && window == 0 && window == fwd->raw_window && fwd->nextseq_known &&
	    seq == fwd->nextseq && fwd->lastack_known &&
	    (ack == fwd->lastack || ack == fwd->lastack + 1) &&
	    has(rev->last_flags, FLOW_ZERO_WINDOW_PROBE) && plain) {
		flag(&m, FLOW_ZERO_WINDOW_PROBE_ACK);
		goto finished_fwd;
	}
	/* Duplicate ACK: same ack, same window, no data (RFC 5681 §2). */
	if (seglen == 0 && window != 0 && window == fwd->raw_window && fwd->nextseq_known &&
	    seq == fwd->nextseq && fwd->lastack_known && ack == fwd->lastack && plain) {
		fwd->dupacks = fwd->dupacks < 0 ? 1 : fwd->dupacks + 1;
		flag(&m, FLOW_DUPLICATE_ACK);
	}

finished_fwd:
	/* Duplicate ACKs are counted until the ack number changes. */
	if (ack != fwd->lastack)
		fwd->dupacks = 0;
	/* ACKed unseen segment: the peer acknowledges data we never saw (the
	 * contiguous edge of what we saw is below its ack). As tshark 4.0 does,
	 * measured on real captures with packets dropped: when data beyond a
	 * gap was seen, the edge jumps to the highest seq seen; when the ack
	 * is beyond everything seen so far, it is said once, until the data
	 * sender's own ack number moves (its duplicate ACK count, set to -1
	 * here, is back at 0), so a stream of ACKs running ahead of the
	 * capture is not flagged again and again. */
	if (rev->maxseq_known && seq_gt(ack, rev->maxseqtobeacked) && acking) {
		if (seq_gt(rev->nextseq, rev->maxseqtobeacked)) {
			rev->maxseqtobeacked = rev->nextseq;
			flag(&m, FLOW_ACK_LOST_SEGMENT);
		} else {
			if (rev->dupacks == 0)
				flag(&m, FLOW_ACK_LOST_SEGMENT);
			rev->dupacks = -1;
		}
	}

	/* Retransmission family: a segment occupying sequence space (data, SYN
	 * or FIN) that does not advance the highest sequence number seen. */
	if ((seglen > 0 || (t->flags & (PACKET_TCP_SYN | PACKET_TCP_FIN))) &&
	    !has(m, FLOW_KEEP_ALIVE)) {
		bool not_advanced = fwd->nextseq_known && seq_lt(seq, fwd->nextseq);
		uint32_t syn_fin = (t->flags & (PACKET_TCP_SYN | PACKET_TCP_FIN)) ? 1 : 0;
		int64_t ooo_us = c->first_rtt_us > 0 ? c->first_rtt_us : OUT_OF_ORDER_DEFAULT_US;

		/* Wireshark's exception: more than one byte starting one below
		 * the next expected seq brings new data (the byte before it was
		 * most likely a zero-window probe or a keep-alive's garbage byte,
		 * RFC 9293 §3.8.6.1, RFC 1122 §4.2.3.6), so it is neither out of
		 * order nor a retransmission; it may still be spurious. */
		if (seglen > 1 && fwd->nextseq_known && seq == fwd->nextseq - 1)
			not_advanced = false;

		/* Fast retransmission: after two or more duplicate ACKs for
		 * exactly this sequence number (RFC 5681 §3.2). */
		if (not_advanced && rev->dupacks >= 2 && rev->lastack_known &&
		    rev->lastack == seq &&
		    within_us(now_us, rev->lastack_time_us, FAST_RETRANSMISSION_WINDOW_US)) {
			flag(&m, FLOW_FAST_RETRANSMISSION);
			flag(&m, FLOW_RETRANSMISSION);
			goto finished_retransmission;
		}
		/* Out-of-order: soon (within an RTT) after the highest segment. */
		if (not_advanced && within_us(now_us, fwd->nextseq_time_us, ooo_us) &&
		    fwd->nextseq != seq + seglen + syn_fin) {
			flag(&m, FLOW_OUT_OF_ORDER);
			goto finished_retransmission;
		}
		/* Spurious retransmission: all of it was acknowledged already. */
		if (seglen > 0 && rev->lastack_known && rev->lastack != 0 &&
		    seq_le(seq + seglen, rev->lastack)) {
			flag(&m, FLOW_SPURIOUS_RETRANSMISSION);
			flag(&m, FLOW_RETRANSMISSION);
			goto finished_retransmission;
		}
		if (not_advanced)
			flag(&m, FLOW_RETRANSMISSION);
	}

finished_retransmission:
	nextseq = seq + seglen + ((t->flags & (PACKET_TCP_SYN | PACKET_TCP_FIN)) ? 1 : 0);
	if ((!fwd->nextseq_known || seq_gt(nextseq, fwd->nextseq)) &&
	    !has(m, FLOW_ZERO_WINDOW_PROBE)) {
		fwd->nextseq = nextseq;
		fwd->nextseq_known = true;
		fwd->nextseq_time_us = now_us;
	}
	/* The contiguous edge: only a segment starting right at it moves it. */
	if ((!fwd->maxseq_known || seq == fwd->maxseqtobeacked) &&
	    !has(m, FLOW_ZERO_WINDOW_PROBE) && fwd->nextseq_known) {
		fwd->maxseqtobeacked = fwd->nextseq;
		fwd->maxseq_known = true;
	}
	fwd->raw_window = window;
	fwd->window = scaled_window(fwd, t);
	/* Only an ACK-bearing segment carries an acknowledgment number. */
	fwd->lastack_known = acking;
	fwd->lastack = acking ? ack : 0;
	fwd->lastack_time_us = now_us;
	fwd->last_flags = m;
	return m;
}

/* Handshake and teardown bookkeeping for the summary. */
static void track_state(struct conn *c, int dir, const struct packet_tcp *t, int64_t now_us)
{
	struct flow_conn *s = c->sum;
	uint8_t f = t->flags;

	if ((f & (PACKET_TCP_SYN | PACKET_TCP_ACK)) == PACKET_TCP_SYN && dir == FLOW_DIR_C2S) {
		c->last_syn_time_us = now_us;
		if (!c->first_syn_seen) {
			c->first_syn_seen = true;
			c->first_syn_time_us = now_us;
		}
		if (s->handshake == FLOW_HANDSHAKE_NONE)
			s->handshake = FLOW_HANDSHAKE_UNANSWERED;
	} else if ((f & (PACKET_TCP_SYN | PACKET_TCP_ACK)) == (PACKET_TCP_SYN | PACKET_TCP_ACK) &&
		   dir == FLOW_DIR_S2C) {
		c->synack_seen = true;
		if (s->handshake == FLOW_HANDSHAKE_NONE ||
		    s->handshake == FLOW_HANDSHAKE_UNANSWERED)
			s->handshake = FLOW_HANDSHAKE_INCOMPLETE;
	} else if ((f & PACKET_TCP_RST) && dir == FLOW_DIR_S2C &&
		   s->handshake == FLOW_HANDSHAKE_UNANSWERED) {
		/* RFC 9293 §3.10.7.1: a SYN to a closed port draws a RST. */
		s->handshake = FLOW_HANDSHAKE_REFUSED;
	} else if (!(f & (PACKET_TCP_SYN | PACKET_TCP_RST)) && (f & PACKET_TCP_ACK) &&
		   dir == FLOW_DIR_C2S && s->handshake == FLOW_HANDSHAKE_INCOMPLETE &&
		   c->d[1].syn_seen && t->ack == c->d[1].isn + 1) {
		/* RFC 9293 §3.5: the client's ACK of the SYN/ACK completes it. */
		s->handshake = FLOW_HANDSHAKE_COMPLETE;
		if (s->dir[0].syn) {
			s->rtt_us = now_us - c->last_syn_time_us;
			s->handshake_us = now_us - c->first_syn_time_us;
			c->first_rtt_us = s->rtt_us;
		}
	}
	if ((f & (PACKET_TCP_FIN | PACKET_TCP_RST)) && s->teardown == FLOW_TEARDOWN_NONE) {
		s->teardown = (f & PACKET_TCP_RST) ? FLOW_TEARDOWN_RESET : FLOW_TEARDOWN_FIN;
		s->teardown_dir = dir;
	}
}

static void update_stats(struct conn *c, int dir, const struct packet_tcp *t, uint32_t m)
{
	struct flow_dir_stats *st = &c->sum->dir[dir];
	struct dir_state *fwd = &c->d[dir];
	uint32_t len = t->payload_bytes;

	st->packets++;
	if (t->flags & PACKET_TCP_SYN)
		st->syn = true;
	if (t->flags & PACKET_TCP_FIN)
		st->fin = true;
	if (t->flags & PACKET_TCP_RST)
		st->rst = true;
	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		if (has(m, (enum flow_flag)f))
			st->flags[f]++;
	if (len == 0)
		return;
	st->payload_bytes += len;
	/* Count each sequence number once: the payload covers a range from the
	 * lowest to the highest sequence number seen, and data_bytes is its size.
	 * Only a segment reaching beyond either end adds bytes: a retransmission
	 * adds none; a segment after a gap adds the gap too (the bytes were sent,
	 * the capture saw them late, out of order, or not at all), so the one that
	 * fills the gap later adds nothing. */
	if (!fwd->data_end_known) {
		/* With the SYN seen, data starts right after it: a first data
		 * segment the capture missed still counts. */
		fwd->data_start = fwd->syn_seen && seq_lt(fwd->isn, t->seq) ? fwd->isn + 1 : t->seq;
		fwd->data_end = t->seq + len;
		fwd->data_end_known = true;
		st->data_bytes += fwd->data_end - fwd->data_start;
	} else {
		if (seq_gt(t->seq + len, fwd->data_end)) {
			st->data_bytes += t->seq + len - fwd->data_end;
			fwd->data_end = t->seq + len;
		}
		if (seq_lt(t->seq, fwd->data_start)) {
			st->data_bytes += fwd->data_start - t->seq;
			fwd->data_start = t->seq;
		}
	}
	/* A keep-alive's byte is garbage, not data (RFC 1122 §4.2.3.6). */
	if (has(m, FLOW_KEEP_ALIVE))
		return;
	if (st->data_segments == 0 || len < st->min_payload_bytes)
		st->min_payload_bytes = len;
	if (len > st->max_payload_bytes)
		st->max_payload_bytes = len;
	st->data_segments++;
}

static void set_bases(struct conn *c, int dir, const struct packet_tcp *t)
{
	struct dir_state *fwd = &c->d[dir], *rev = &c->d[1 - dir];

	/* Relative numbers as Wireshark shows them: the ISN is 0, or when the
	 * SYN was not captured the first seq seen is 1. */
	if (!fwd->base_known) {
		fwd->base_seq = (t->flags & PACKET_TCP_SYN) ? t->seq : t->seq - 1;
		fwd->base_known = true;
	}
	if (!rev->base_known && (t->flags & PACKET_TCP_ACK)) {
		rev->base_seq = t->ack - 1;
		rev->base_known = true;
	}
	if ((t->flags & PACKET_TCP_SYN) && !fwd->syn_seen) {
		fwd->syn_seen = true;
		fwd->isn = t->seq;
		fwd->base_seq = t->seq;
	}
}

static void emit_segment(struct flow_analysis *fa, struct conn *c, int dir,
			 const struct packet_tcp *t, uint32_t m, uint64_t frame, int64_t now_us)
{
	struct flow_segment seg = {
		.conn = c->sum,
		.dir = dir,
		.frame = frame,
		.time_us = now_us,
		.tcp_flags = t->flags,
		.seq_rel = t->seq - c->d[dir].base_seq,
		.ack_rel = (t->flags & PACKET_TCP_ACK) ? t->ack - c->d[1 - dir].base_seq : 0,
		.payload_bytes = t->payload_bytes,
		.window_bytes = scaled_window(&c->d[dir], t),
		.analysis = m,
		.truncated = t->truncated,
	};

	fa->opts.on_segment(&seg, fa->opts.arg);
}

static int add_tcp(struct flow_analysis *fa, const struct packet_tcp *t, uint64_t frame,
		   int64_t now_us, struct lab_err *err)
{
	struct conn *c;
	bool reused, synack_reused;
	int dir;
	uint32_t m;

	c = flow_table_conn(fa, t, frame, now_us, &dir, &reused, err);
	if (c == NULL)
		return -1;
	/* Wireshark marks a SYN/ACK whose ISN differs from the one this
	 * direction started with too, though it stays in the connection. */
	synack_reused = (t->flags & (PACKET_TCP_SYN | PACKET_TCP_ACK)) ==
				(PACKET_TCP_SYN | PACKET_TCP_ACK) &&
			c->d[dir].base_known && t->seq != c->d[dir].base_seq;
	set_bases(c, dir, t);
	if (t->flags & PACKET_TCP_SYN)
		note_window_scale(c, dir, t);
	m = analyse_segment(c, dir, t, now_us);
	if (reused || synack_reused)
		flag(&m, FLOW_REUSED_PORTS);
	/* tcplab's window probe: either probe form while the peer's window is 0. */
	if (has(m, FLOW_ZERO_WINDOW_PROBE) ||
	    (has(m, FLOW_KEEP_ALIVE) && c->d[1 - dir].raw_window == 0))
		flag(&m, FLOW_WINDOW_PROBE);
	track_state(c, dir, t, now_us);
	update_stats(c, dir, t, m);
	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		if (has(m, (enum flow_flag)f))
			fa->totals.flags[f]++;
	c->sum->packets++;
	c->sum->last_frame = frame;
	c->sum->last_time_us = now_us;
	if (fa->opts.on_segment)
		emit_segment(fa, c, dir, t, m, frame, now_us);
	if (c->sum->dir[0].rst || c->sum->dir[1].rst ||
	    (c->sum->dir[0].fin && c->sum->dir[1].fin)) {
		c->sum->closed = true;
		flow_table_linger(fa, c, now_us);
	}
	return 0;
}

struct flow_analysis *flow_new(const struct flow_opts *opts)
{
	struct flow_analysis *fa = calloc(1, sizeof(*fa));

	if (fa == NULL)
		return NULL;
	if (opts)
		fa->opts = *opts;
	if (fa->opts.linger_us <= 0)
		fa->opts.linger_us = FLOW_DEFAULT_LINGER_US;
	return fa;
}

void flow_free(struct flow_analysis *fa)
{
	if (fa == NULL)
		return;
	flow_table_free(fa);
	free(fa);
}

/* The link type's name for notes: "LINUX_SLL", or its number. */
static void linktype_words(int linktype, char *buf, size_t len)
{
	const char *name = pcap_datalink_val_to_name(linktype);

	if (name)
		snprintf(buf, len, "%d (%s)", linktype, name);
	else
		snprintf(buf, len, "%d", linktype);
}

/* decode_note from the counts: what was left out, and why. */
static void update_decode_note(struct flow_analysis *fa)
{
	struct flow_totals *t = &fa->totals;
	char lt[64] = "";
	char tun[160] = "";
	int n = 0;

	if (t->undecoded)
		linktype_words(fa->undecoded_linktype, lt, sizeof(lt));
	if (t->tunnelled)
		packet_tunnel_names(fa->tunnelled_kinds, tun, sizeof(tun));
	if (t->undecoded)
		n = snprintf(t->decode_note, sizeof(t->decode_note),
			     "%llu frames of link type %s not decoded",
			     (unsigned long long)t->undecoded, lt);
	if (t->tunnelled && n >= 0 && (size_t)n < sizeof(t->decode_note))
		snprintf(t->decode_note + n, sizeof(t->decode_note) - (size_t)n,
			 "%s%llu tunnelled packets not opened (%s)", n ? "; " : "",
			 (unsigned long long)t->tunnelled, tun);
}

int flow_add_frame(struct flow_analysis *fa, int64_t time_us, const uint8_t *data, size_t caplen,
		   size_t wire_len, int linktype, struct lab_err *err)
{
	struct packet_tcp t;
	uint64_t frame = ++fa->totals.packets;

	if (frame == 1)
		fa->totals.first_time_us = time_us;
	if (fa->opts.until_us != 0 && time_us > fa->opts.until_us) {
		fa->totals.after_until++;
		return 0;
	}
	if (!packet_linktype_supported(linktype)) {
		if (fa->totals.undecoded++ == 0)
			fa->undecoded_linktype = linktype;
		fa->totals.non_tcp++;
		update_decode_note(fa);
		return 0;
	}
	switch (packet_decode(linktype, data, caplen, wire_len, &t, NULL)) {
	case PACKET_KIND_OTHER:
		fa->totals.non_tcp++;
		return 0;
	case PACKET_KIND_TUNNEL:
		fa->totals.non_tcp++;
		fa->totals.tunnelled++;
		fa->tunnelled_kinds |= t.tunnels;
		update_decode_note(fa);
		return 0;
	case PACKET_KIND_MALFORMED:
		fa->totals.malformed++;
		return 0;
	case PACKET_KIND_TCP:
		break;
	}
	if (fa->opts.port && t.src_port != fa->opts.port && t.dst_port != fa->opts.port) {
		fa->totals.filtered++;
		return 0;
	}
	fa->totals.tcp_packets++;
	if (t.truncated)
		fa->totals.truncated++;
	if (t.tunnels)
		fa->totals.decapsulated++;
	flow_table_expire(fa, time_us);
	return add_tcp(fa, &t, frame, time_us, err);
}

int flow_add_packet(struct flow_analysis *fa, const struct pcap_pkthdr *hdr, const u_char *data,
		    int linktype, struct lab_err *err)
{
	int64_t time_us;

	/* Saturate: a file may claim any number of seconds. */
	if (__builtin_mul_overflow((int64_t)hdr->ts.tv_sec, (int64_t)1000000, &time_us) ||
	    __builtin_add_overflow(time_us, (int64_t)hdr->ts.tv_usec, &time_us))
		time_us = hdr->ts.tv_sec < 0 ? INT64_MIN : INT64_MAX;
	return flow_add_frame(fa, time_us, data, hdr->caplen, hdr->len, linktype, err);
}

/* ---- reading files -------------------------------------------------------- */

/* A stream that first gives back bytes already read from another (standard
 * input cannot seek back over the magic number). */
struct replay {
	FILE *under;
	uint8_t head[4];
	size_t head_len, head_pos;
};

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
	struct replay *r = cookie;
	size_t n = 0;

	while (r->head_pos < r->head_len && n < size)
		buf[n++] = (char)r->head[r->head_pos++];
	if (n < size)
		n += fread(buf + n, 1, size - n, r->under);
	return (ssize_t)n;
}

static int replay_close(void *cookie)
{
	struct replay *r = cookie;
	int rc = r->under == stdin ? 0 : fclose(r->under);

	free(r);
	return rc;
}

/* Opens path ("-": standard input) and reads its first 4 bytes into magic;
 * returns a stream positioned at the file's start again. */
static FILE *open_capture(const char *path, uint32_t *magic, struct lab_err *err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(path, "rb");
	cookie_io_functions_t io = { .read = replay_read, .close = replay_close };
	struct replay *r;
	FILE *out;
	uint8_t head[4];
	size_t got;

	if (fp == NULL) {
		lab_err_sys(err, errno, "%s: cannot read as a capture", path);
		return NULL;
	}
	got = fread(head, 1, 4, fp);
	memcpy(magic, head, 4);
	if (got < 4)
		*magic = 0;
	if (!is_stdin && fseek(fp, 0, SEEK_SET) == 0)
		return fp;
	r = calloc(1, sizeof(*r));
	out = r ? fopencookie(r, "rb", io) : NULL;
	if (out == NULL) {
		free(r);
		if (!is_stdin)
			fclose(fp);
		lab_err_sys(err, ENOMEM, "%s: reading", path);
		return NULL;
	}
	r->under = fp;
	memcpy(r->head, head, got);
	r->head_len = got;
	return out;
}

static int analyse_pcapng(const char *path, FILE *fp, struct flow_analysis *fa,
			  struct lab_err *err)
{
	struct pcapng_reader *r = pcapng_new(fp);
	struct lab_err rerr = { "" };
	struct pcapng_packet pkt;
	int rc = -1, n;

	if (r == NULL)
		return lab_err_sys(err, ENOMEM, "%s: reading", path);
	while ((n = pcapng_next(r, &pkt, &rerr)) == 1) {
		if (fa->opts.on_frame != NULL) {
			struct pcap_pkthdr hdr = {
				.ts = { .tv_sec = (time_t)(pkt.time_us / 1000000),
					.tv_usec = (suseconds_t)(pkt.time_us % 1000000) },
				.caplen = pkt.caplen,
				.len = pkt.wire_len,
			};

			if (hdr.ts.tv_usec < 0) {
				hdr.ts.tv_sec--;
				hdr.ts.tv_usec += 1000000;
			}
			fa->opts.on_frame(&hdr, pkt.data, pkt.linktype, fa->opts.frame_arg);
		}
		if (flow_add_frame(fa, pkt.time_us, pkt.data, pkt.caplen, pkt.wire_len,
				   pkt.linktype, err) < 0)
			goto out;
	}
	if (n < 0 && fa->totals.packets == 0 && pcapng_interface_count(r) == 0) {
		lab_err_set(err, "%s: cannot read as a capture: %s", path, rerr.msg);
		goto out;
	}
	if (n < 0)
		snprintf(fa->totals.file_note, sizeof(fa->totals.file_note),
			 "%s: reading stopped after %llu packets: %s", path,
			 (unsigned long long)fa->totals.packets, rerr.msg);
	for (size_t i = 0; i < pcapng_interface_count(r); i++) {
		const char *why = pcapng_interface_time_note(r, i);

		if (why && fa->totals.decode_note[0] == '\0')
			snprintf(fa->totals.decode_note, sizeof(fa->totals.decode_note),
				 "interface %zu: packet times read as 0: %s", i, why);
	}
	rc = 0;
out:
	pcapng_free(r);
	return rc;
}

static int analyse_pcap(const char *path, FILE *fp, struct flow_analysis *fa,
			struct lab_err *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *p = pcap_fopen_offline(fp, errbuf); /* closes fp from now on */
	int linktype, rc = -1;

	if (p == NULL) {
		fclose(fp);
		return lab_err_set(err, "%s: cannot read as a capture: %s", path, errbuf);
	}
	linktype = pcap_datalink(p);
	for (;;) {
		int r = pcap_next_ex(p, &hdr, &data);

		if (r == PCAP_ERROR_BREAK)
			break;
		if (r == PCAP_ERROR) {
			snprintf(fa->totals.file_note, sizeof(fa->totals.file_note),
				 "%s: reading stopped after %llu packets: %s", path,
				 (unsigned long long)fa->totals.packets, pcap_geterr(p));
			break;
		}
		if (r != 1)
			continue;
		if (fa->opts.on_frame != NULL)
			fa->opts.on_frame(hdr, data, linktype, fa->opts.frame_arg);
		if (flow_add_packet(fa, hdr, data, linktype, err) < 0)
			goto out;
	}
	rc = 0;
out:
	pcap_close(p);
	return rc;
}

int flow_analyse_file(const char *path, const struct flow_opts *opts, struct flow_analysis **out,
		      struct lab_err *err)
{
	struct flow_analysis *fa = NULL;
	uint32_t magic;
	FILE *fp;
	int rc = -1;

	*out = NULL;
	fp = open_capture(path, &magic, err);
	if (fp == NULL)
		return -1;
	fa = flow_new(opts);
	if (fa == NULL) {
		fclose(fp);
		return lab_err_sys(err, ENOMEM, "%s: analysis", path);
	}
	if (magic == PCAPNG_MAGIC) {
		/* Big reads: a capture is read once, front to back. */
		setvbuf(fp, NULL, _IOFBF, 1 << 18);
		rc = analyse_pcapng(path, fp, fa, err);
		fclose(fp);
	} else {
		rc = analyse_pcap(path, fp, fa, err);
	}
	if (rc == 0 && fa->totals.undecoded > 0 && fa->totals.undecoded == fa->totals.packets &&
	    fa->totals.file_note[0] == '\0') {
		char lt[64];

		/* Nothing at all could be read: no verdict may rest on it. */
		linktype_words(fa->undecoded_linktype, lt, sizeof(lt));
		snprintf(fa->totals.file_note, sizeof(fa->totals.file_note),
			 "link type %s is not supported: no packet decoded", lt);
	}
	if (rc == 0) {
		*out = fa;
		fa = NULL;
	}
	flow_free(fa);
	return rc;
}
