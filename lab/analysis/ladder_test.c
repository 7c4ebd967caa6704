/* ladder_test: the rows of a ladder built from synthetic segments (the
 * flow_segment structs the analyser hands its callback): runs of ordinary
 * segments fold past the limit and keep at most that many rows meanwhile,
 * notable segments stay rows, the turns of a conversation stay rows, annotated
 * runs fold with a count per note, the per-connection row limit, and the label
 * text both renderers share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lab/analysis/ladder.h"
#include "lab/analysis/packet.h"

static struct flow_conn conn1 = { .id = 1 };
static struct flow_conn conn2 = { .id = 2 };

/* A data segment client->server (or an ACK back when dir is S2C) at time_us. */
static struct flow_segment segment(const struct flow_conn *conn, int dir, int64_t time_us,
				   uint32_t payload_bytes)
{
	struct flow_segment seg = {
		.conn = conn,
		.dir = dir,
		.frame = (uint64_t)time_us,
		.time_us = time_us,
		.tcp_flags = PACKET_TCP_ACK | (payload_bytes ? PACKET_TCP_PSH : 0),
		.seq_rel = 1,
		.ack_rel = 1,
		.payload_bytes = payload_bytes,
		.window_bytes = 65536,
	};
	return seg;
}

static struct ladder *new_ladder(unsigned fold_segments, bool all, bool truncated_folds,
				 size_t max_rows)
{
	struct ladder_opts lo = { .fold_segments = fold_segments,
				  .all = all,
				  .truncated_folds = truncated_folds,
				  .max_rows = max_rows };
	struct ladder *l = ladder_new(&lo);

	assert_non_null(l);
	return l;
}

static void add(struct ladder *l, struct flow_segment seg)
{
	assert_int_equal(ladder_add(l, &seg), 0);
}

static const struct ladder_conn *rows_of(const struct ladder *l, unsigned id)
{
	const struct ladder_conn *lc = ladder_conn(l, id);

	assert_non_null(lc);
	return lc;
}

static void test_run_up_to_the_limit_stays_rows(void **state)
{
	struct ladder *l = new_ladder(4, false, false, 0);
	const struct ladder_conn *lc;

	(void)state;
	for (int i = 1; i <= 4; i++)
		add(l, segment(&conn1, FLOW_DIR_C2S, i * 10, 100));
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(lc->rows[i].kind, LADDER_ROW_SEGMENT);
		assert_int_equal(lc->rows[i].time_us, (int64_t)(i + 1) * 10);
		assert_int_equal(lc->rows[i].payload_bytes, 100);
	}
	ladder_free(l);
}

static void test_run_past_the_limit_folds_into_one_row_counted_per_direction(void **state)
{
	struct ladder *l = new_ladder(4, false, false, 0);
	const struct ladder_conn *lc;
	const struct ladder_row *r;

	(void)state;
	/* 1000 data segments one way, 500 ACKs the other: one fold row */
	for (int i = 0; i < 1500; i++) {
		int c2s = i % 3 != 2;

		add(l,
		    segment(&conn1, c2s ? FLOW_DIR_C2S : FLOW_DIR_S2C, 1000 + i, c2s ? 1448 : 0));
		/* memory: never more rows than the limit while the run grows */
		assert_true(rows_of(l, 1)->row_count <= 4);
	}
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 1);
	r = &lc->rows[0];
	assert_int_equal(r->kind, LADDER_ROW_FOLD);
	assert_int_equal(r->fold_segments[FLOW_DIR_C2S], 1000);
	assert_int_equal(r->fold_segments[FLOW_DIR_S2C], 500);
	assert_int_equal(r->fold_bytes[FLOW_DIR_C2S], 1000 * 1448);
	assert_int_equal(r->fold_bytes[FLOW_DIR_S2C], 0);
	assert_int_equal(r->time_us, 1000);
	assert_int_equal(r->frame, 1000);
	assert_int_equal(r->last_time_us, 2499);
	ladder_free(l);
}

static void test_fold_counts_the_whole_run_from_its_first_segment(void **state)
{
	struct ladder *l = new_ladder(2, false, false, 0);
	const struct ladder_conn *lc;

	(void)state;
	add(l, segment(&conn1, FLOW_DIR_C2S, 1, 10));
	add(l, segment(&conn1, FLOW_DIR_C2S, 2, 20));
	assert_int_equal(rows_of(l, 1)->row_count, 2);
	/* the third ordinary segment passes the limit of 2: all three fold */
	add(l, segment(&conn1, FLOW_DIR_S2C, 3, 30));
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 1);
	assert_int_equal(lc->rows[0].fold_segments[FLOW_DIR_C2S], 2);
	assert_int_equal(lc->rows[0].fold_segments[FLOW_DIR_S2C], 1);
	assert_int_equal(lc->rows[0].fold_bytes[FLOW_DIR_C2S], 30);
	assert_int_equal(lc->rows[0].fold_bytes[FLOW_DIR_S2C], 30);
	assert_int_equal(lc->rows[0].time_us, 1);
	assert_int_equal(lc->rows[0].last_time_us, 3);
	ladder_free(l);
}

static void test_notable_segments_end_a_run_and_stay_rows(void **state)
{
	struct ladder *l = new_ladder(2, false, false, 0);
	struct flow_segment syn = segment(&conn1, FLOW_DIR_C2S, 1, 0);
	struct flow_segment probe = segment(&conn1, FLOW_DIR_C2S, 20, 0);
	struct flow_segment fin = segment(&conn1, FLOW_DIR_S2C, 40, 0);
	const struct ladder_conn *lc;

	(void)state;
	syn.tcp_flags = PACKET_TCP_SYN;
	probe.analysis = 1u << FLOW_WINDOW_PROBE;
	fin.tcp_flags = PACKET_TCP_FIN | PACKET_TCP_ACK;
	add(l, syn);
	for (int i = 0; i < 5; i++)
		add(l, segment(&conn1, FLOW_DIR_C2S, 10 + i, 100)); /* folds */
	add(l, probe);
	for (int i = 0; i < 2; i++)
		add(l, segment(&conn1, FLOW_DIR_C2S, 30 + i, 100)); /* a new run: 2, no fold */
	add(l, fin);
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 6);
	assert_int_equal(lc->rows[0].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[0].tcp_flags, PACKET_TCP_SYN);
	assert_int_equal(lc->rows[1].kind, LADDER_ROW_FOLD);
	assert_int_equal(lc->rows[1].fold_segments[FLOW_DIR_C2S], 5);
	assert_int_equal(lc->rows[2].analysis, 1u << FLOW_WINDOW_PROBE);
	assert_int_equal(lc->rows[3].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[4].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[5].dir, FLOW_DIR_S2C);
	assert_int_equal(lc->rows[5].tcp_flags, PACKET_TCP_FIN | PACKET_TCP_ACK);
	ladder_free(l);
}

static void test_rst_is_never_folded(void **state)
{
	struct ladder *l = new_ladder(0, false, false, 0);
	struct flow_segment rst = segment(&conn1, FLOW_DIR_S2C, 5, 0);
	const struct ladder_conn *lc;

	(void)state;
	rst.tcp_flags = PACKET_TCP_RST;
	/* a limit of 0: every ordinary segment folds at once */
	add(l, segment(&conn1, FLOW_DIR_C2S, 1, 7));
	add(l, rst);
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 2);
	assert_int_equal(lc->rows[0].kind, LADDER_ROW_FOLD);
	assert_int_equal(lc->rows[0].fold_segments[FLOW_DIR_C2S], 1);
	assert_int_equal(lc->rows[1].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[1].tcp_flags, PACKET_TCP_RST);
	ladder_free(l);
}

static void test_all_never_folds(void **state)
{
	struct ladder *l = new_ladder(2, true, false, 0);
	const struct ladder_conn *lc;

	(void)state;
	for (int i = 0; i < 100; i++)
		add(l, segment(&conn1, FLOW_DIR_C2S, i, 1));
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(lc->rows[i].kind, LADDER_ROW_SEGMENT);
	ladder_free(l);
}

static void test_truncated_segment_folds_only_when_asked(void **state)
{
	for (int folds = 0; folds <= 1; folds++) {
		struct ladder *l = new_ladder(2, false, folds, 0);
		const struct ladder_conn *lc;

		(void)state;
		for (int i = 0; i < 6; i++) {
			struct flow_segment seg = segment(&conn1, FLOW_DIR_C2S, i, 100);

			seg.truncated = i == 3;
			add(l, seg);
		}
		lc = rows_of(l, 1);
		if (folds) {
			/* one run of six */
			assert_int_equal(lc->row_count, 1);
			assert_int_equal(lc->rows[0].fold_segments[FLOW_DIR_C2S], 6);
		} else {
			/* a fold of 3, the truncated row, 2 rows */
			assert_int_equal(lc->row_count, 4);
			assert_int_equal(lc->rows[0].kind, LADDER_ROW_FOLD);
			assert_int_equal(lc->rows[0].fold_segments[FLOW_DIR_C2S], 3);
			assert_true(lc->rows[1].truncated);
			assert_int_equal(lc->rows[2].kind, LADDER_ROW_SEGMENT);
			assert_int_equal(lc->rows[3].kind, LADDER_ROW_SEGMENT);
		}
		ladder_free(l);
	}
}

static void test_rows_past_the_limit_are_only_counted(void **state)
{
	struct ladder *l = new_ladder(3, false, false, 5);
	const struct ladder_conn *lc;

	(void)state;
	for (int i = 0; i < 8; i++) {
		struct flow_segment seg = segment(&conn1, FLOW_DIR_C2S, i, 10);

		seg.analysis = 1u << FLOW_DUPLICATE_ACK;
		add(l, seg);
	}
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 5);
	assert_int_equal(lc->omitted_segments, 3);
	assert_int_equal(lc->omitted_bytes, 30);
	assert_int_equal(lc->rows[4].time_us, 4);
	ladder_free(l);
}

static void test_fold_in_progress_keeps_counting_near_the_row_limit(void **state)
{
	struct ladder *l = new_ladder(2, false, false, 5);
	struct flow_segment noted = segment(&conn1, FLOW_DIR_C2S, 0, 0);
	const struct ladder_conn *lc;

	(void)state;
	noted.analysis = 1u << FLOW_ZERO_WINDOW;
	add(l, noted);
	add(l, noted);
	/* rows 3, 4 and 5 start a run, the third one folds them back to row 3 */
	for (int i = 0; i < 50; i++)
		add(l, segment(&conn1, FLOW_DIR_S2C, 100 + i, 1));
	add(l, noted);                                 /* row 4 */
	add(l, noted);                                 /* row 5 */
	add(l, noted);                                 /* past the limit */
	add(l, segment(&conn1, FLOW_DIR_C2S, 200, 9)); /* past the limit */
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 5);
	assert_int_equal(lc->rows[2].kind, LADDER_ROW_FOLD);
	assert_int_equal(lc->rows[2].fold_segments[FLOW_DIR_S2C], 50);
	assert_int_equal(lc->rows[2].last_time_us, 149);
	assert_int_equal(lc->rows[4].analysis, 1u << FLOW_ZERO_WINDOW);
	assert_int_equal(lc->omitted_segments, 2);
	assert_int_equal(lc->omitted_bytes, 9);
	ladder_free(l);
}

static void test_run_that_meets_the_row_limit_before_folding_is_counted(void **state)
{
	struct ladder *l = new_ladder(2, false, false, 4);
	struct flow_segment noted = segment(&conn1, FLOW_DIR_C2S, 0, 0);
	const struct ladder_conn *lc;

	(void)state;
	noted.analysis = 1u << FLOW_ZERO_WINDOW;
	add(l, noted);
	add(l, noted);
	/* rows 3 and 4 are its first segments; the limit comes before the fold */
	for (int i = 0; i < 50; i++)
		add(l, segment(&conn1, FLOW_DIR_S2C, 100 + i, 1));
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 4);
	assert_int_equal(lc->rows[2].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[3].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[3].time_us, 101);
	assert_int_equal(lc->omitted_segments, 48);
	assert_int_equal(lc->omitted_bytes, 48);
	ladder_free(l);
}

static void test_connections_keep_their_own_rows(void **state)
{
	struct ladder *l = new_ladder(2, false, false, 0);

	(void)state;
	/* interleaved: connection 1's run is not broken by connection 2 */
	for (int i = 0; i < 6; i++) {
		add(l, segment(&conn1, FLOW_DIR_C2S, i, 1));
		if (i == 2) {
			struct flow_segment rst = segment(&conn2, FLOW_DIR_S2C, i, 0);

			rst.tcp_flags = PACKET_TCP_RST;
			add(l, rst);
		}
	}
	assert_int_equal(rows_of(l, 1)->row_count, 1);
	assert_int_equal(rows_of(l, 1)->rows[0].fold_segments[FLOW_DIR_C2S], 6);
	assert_int_equal(rows_of(l, 2)->row_count, 1);
	assert_int_equal(rows_of(l, 2)->rows[0].tcp_flags, PACKET_TCP_RST);
	assert_null(ladder_conn(l, 3));
	assert_null(ladder_conn(l, 1000));
	assert_null(ladder_conn(l, 0));
	ladder_free(l);
}

static void test_late_connection_id_grows_the_table(void **state)
{
	struct ladder *l = new_ladder(2, false, false, 0);
	struct flow_conn far = { .id = 5000 };

	(void)state;
	add(l, segment(&conn1, FLOW_DIR_C2S, 1, 1));
	add(l, segment(&far, FLOW_DIR_C2S, 2, 2));
	assert_int_equal(rows_of(l, 1)->row_count, 1);
	assert_int_equal(rows_of(l, 5000)->rows[0].payload_bytes, 2);
	assert_null(ladder_conn(l, 4999));
	ladder_free(l);
}

static void test_on_segment_callback_adds_and_bad_id_fails(void **state)
{
	struct ladder *l = new_ladder(2, false, false, 0);
	struct flow_segment seg = segment(&conn1, FLOW_DIR_C2S, 1, 1);
	struct flow_conn zero = { .id = 0 };

	(void)state;
	ladder_on_segment(&seg, l);
	assert_int_equal(rows_of(l, 1)->row_count, 1);
	assert_false(ladder_failed(l));
	seg.conn = &zero;
	assert_int_equal(ladder_add(l, &seg), -1);
	assert_true(ladder_failed(l));
	/* a failed ladder ignores what follows */
	seg.conn = &conn1;
	assert_int_equal(ladder_add(l, &seg), -1);
	assert_int_equal(rows_of(l, 1)->row_count, 1);
	ladder_free(l);
}

static void test_label_text(void **state)
{
	struct ladder_row r = { .tcp_flags = PACKET_TCP_SYN | PACKET_TCP_ACK,
				.seq_rel = 0,
				.ack_rel = 1,
				.payload_bytes = 0,
				.window_bytes = 65483 };
	char buf[160];

	(void)state;
	ladder_format_label(&r, buf, sizeof(buf));
	assert_string_equal(buf, "SYN/ACK seq=0 ack=1 len=0 win=65483");
	r.tcp_flags = PACKET_TCP_SYN;
	r.ack_rel = 0;
	ladder_format_label(&r, buf, sizeof(buf));
	assert_string_equal(buf, "SYN seq=0 len=0 win=65483");
	r.tcp_flags = PACKET_TCP_PSH | PACKET_TCP_ACK;
	r.seq_rel = 4294967295u;
	r.ack_rel = 17;
	r.payload_bytes = 1448;
	r.window_bytes = 6291456;
	ladder_format_label(&r, buf, sizeof(buf));
	assert_string_equal(buf, "PSH/ACK seq=4294967295 ack=17 len=1448 win=6291456");
	ladder_format_label(&r, buf, 8);
	assert_string_equal(buf, "PSH/ACK");
}

static void test_flags_text(void **state)
{
	char buf[48];

	(void)state;
	ladder_format_flags(PACKET_TCP_FIN | PACKET_TCP_ACK, buf, sizeof(buf));
	assert_string_equal(buf, "FIN/ACK");
	ladder_format_flags(PACKET_TCP_RST | PACKET_TCP_ACK | PACKET_TCP_ECE | PACKET_TCP_CWR, buf,
			    sizeof(buf));
	assert_string_equal(buf, "RST/ACK/ECE/CWR");
	ladder_format_flags(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	ladder_format_flags(0xff, buf, sizeof(buf));
	assert_string_equal(buf, "SYN/FIN/RST/PSH/ACK/URG/ECE/CWR");
	ladder_format_flags(0xff, buf, 6);
	assert_string_equal(buf, "SYN/F");
}

static void test_notes_name_the_specific_flag_only(void **state)
{
	char buf[128];
	size_t n;

	(void)state;
	n = ladder_format_notes(1u << FLOW_RETRANSMISSION | 1u << FLOW_FAST_RETRANSMISSION, "[",
				"]", " ", buf, sizeof(buf));
	assert_string_equal(buf, "[fast retransmission]");
	assert_int_equal(n, strlen(buf));
	ladder_format_notes(1u << FLOW_KEEP_ALIVE | 1u << FLOW_ZERO_WINDOW_PROBE |
				    1u << FLOW_WINDOW_PROBE | 1u << FLOW_ZERO_WINDOW,
			    "", "", ", ", buf, sizeof(buf));
	assert_string_equal(buf, "zero window, window probe");
	ladder_format_notes(1u << FLOW_RETRANSMISSION, "[", "]", " ", buf, sizeof(buf));
	assert_string_equal(buf, "[retransmission]");
	n = ladder_format_notes(0, "[", "]", " ", buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(n, 0);
	/* cut to fit, and the length says so */
	n = ladder_format_notes(1u << FLOW_ZERO_WINDOW, "[", "]", " ", buf, 6);
	assert_string_equal(buf, "[zero");
	assert_int_equal(n, 5);
}

static void test_count_and_bytes_text(void **state)
{
	char buf[48];

	(void)state;
	ladder_format_count(8123, " ", buf, sizeof(buf));
	assert_string_equal(buf, "8 123");
	ladder_format_count(999, " ", buf, sizeof(buf));
	assert_string_equal(buf, "999");
	ladder_format_count(1234567, "\xe2\x80\xaf", buf, sizeof(buf));
	assert_string_equal(buf, "1\xe2\x80\xaf"
				 "234\xe2\x80\xaf"
				 "567");
	ladder_format_count(1234567, " ", buf, 6);
	assert_string_equal(buf, "1 234");
	ladder_format_bytes(16, buf, sizeof(buf));
	assert_string_equal(buf, "16 B");
	ladder_format_bytes(9999, buf, sizeof(buf));
	assert_string_equal(buf, "9999 B");
	ladder_format_bytes(13600, buf, sizeof(buf));
	assert_string_equal(buf, "13.6 kB");
	ladder_format_bytes(13600000, buf, sizeof(buf));
	assert_string_equal(buf, "13.6 MB");
	ladder_format_bytes(1100000000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1100.0 GB");
}

static struct ladder *new_show_ladder(unsigned fold_segments)
{
	struct ladder_opts lo = { .fold_segments = fold_segments,
				  .keep_turns = true,
				  .fold_annotated = true };
	struct ladder *l = ladder_new(&lo);

	assert_non_null(l);
	return l;
}

static void test_turns_of_the_conversation_stay_rows(void **state)
{
	struct ladder *l = new_show_ladder(0); /* every ordinary segment folds at once */
	struct flow_segment syn = segment(&conn1, FLOW_DIR_C2S, 1, 0);
	struct flow_segment synack = segment(&conn1, FLOW_DIR_S2C, 2, 0);
	const struct ladder_conn *lc;

	(void)state;
	syn.tcp_flags = PACKET_TCP_SYN;
	synack.tcp_flags = PACKET_TCP_SYN | PACKET_TCP_ACK;
	add(l, syn);
	add(l, synack);
	add(l, segment(&conn1, FLOW_DIR_C2S, 3, 0));   /* the handshake's last ACK */
	add(l, segment(&conn1, FLOW_DIR_C2S, 4, 100)); /* the request */
	add(l, segment(&conn1, FLOW_DIR_S2C, 5, 0));   /* folds */
	add(l, segment(&conn1, FLOW_DIR_S2C, 6, 300)); /* the response */
	add(l, segment(&conn1, FLOW_DIR_C2S, 7, 0));   /* folds */
	add(l, segment(&conn1, FLOW_DIR_C2S, 8, 100)); /* a second request: folds */
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 7);
	assert_int_equal(lc->rows[2].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[2].frame, 3);
	assert_int_equal(lc->rows[3].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[3].frame, 4);
	assert_int_equal(lc->rows[4].kind, LADDER_ROW_FOLD);
	assert_int_equal(lc->rows[5].kind, LADDER_ROW_SEGMENT);
	assert_int_equal(lc->rows[5].frame, 6);
	assert_int_equal(lc->rows[6].kind, LADDER_ROW_FOLD);
	assert_int_equal(lc->rows[6].frame, 7);
	assert_int_equal(lc->rows[6].last_frame, 8);
	ladder_free(l);
}

static void test_without_keep_turns_the_request_folds(void **state)
{
	struct ladder *l = new_ladder(0, false, false, 0);

	(void)state;
	add(l, segment(&conn1, FLOW_DIR_C2S, 4, 100));
	assert_int_equal(rows_of(l, 1)->rows[0].kind, LADDER_ROW_FOLD);
	ladder_free(l);
}

static void test_annotated_run_folds_after_its_first_row_with_counts_per_note(void **state)
{
	struct ladder *l = new_show_ladder(4);
	const struct ladder_conn *lc;
	const struct ladder_row *fold;
	struct flow_segment retrans = segment(&conn1, FLOW_DIR_C2S, 9000, 100);
	char notes[128];

	(void)state;
	add(l, segment(&conn1, FLOW_DIR_C2S, 1, 100)); /* the request: a turn */
	/* data one way, a duplicate ACK back for each: 2 000 of them */
	for (int i = 0; i < 2000; i++) {
		struct flow_segment dup = segment(&conn1, FLOW_DIR_S2C, 10 + 2 * i + 1, 0);

		dup.analysis = 1u << FLOW_DUPLICATE_ACK;
		add(l, segment(&conn1, FLOW_DIR_C2S, 10 + 2 * i, 100));
		add(l, dup);
		assert_true(rows_of(l, 1)->row_count <= 3 + 4);
	}
	retrans.analysis = 1u << FLOW_RETRANSMISSION | 1u << FLOW_FAST_RETRANSMISSION;
	add(l, retrans); /* news: a row of its own */
	lc = rows_of(l, 1);
	assert_int_equal(lc->row_count, 5);
	assert_int_equal(lc->rows[1].kind, LADDER_ROW_SEGMENT); /* the first data after it */
	assert_int_equal(lc->rows[2].kind, LADDER_ROW_SEGMENT); /* the first dup ack */
	assert_int_equal(lc->rows[2].analysis, 1u << FLOW_DUPLICATE_ACK);
	fold = &lc->rows[3];
	assert_int_equal(fold->kind, LADDER_ROW_FOLD);
	assert_int_equal(fold->fold_segments[FLOW_DIR_C2S], 1999);
	assert_int_equal(fold->fold_segments[FLOW_DIR_S2C], 1999);
	assert_int_equal(fold->fold_flags[FLOW_DUPLICATE_ACK], 1999);
	assert_int_equal(fold->frame, 12);
	assert_int_equal(fold->last_frame, 10 + 2 * 1999 + 1);
	assert_int_equal(lc->rows[4].analysis, retrans.analysis);
	ladder_format_fold_notes(fold, " ", notes, sizeof(notes));
	assert_string_equal(notes, "dup ack 1 999");
	ladder_format_fold_notes(&lc->rows[4], " ", notes, sizeof(notes));
	assert_string_equal(notes, "");
	ladder_free(l);
}

static void test_fold_notes_name_the_specific_flag_only(void **state)
{
	struct ladder *l = new_show_ladder(1);
	struct flow_segment fast = segment(&conn1, FLOW_DIR_C2S, 1, 100);
	char notes[128];

	(void)state;
	fast.analysis = 1u << FLOW_RETRANSMISSION | 1u << FLOW_FAST_RETRANSMISSION;
	add(l, segment(&conn1, FLOW_DIR_C2S, 0, 100));
	add(l, fast); /* news: a row */
	for (int i = 0; i < 3; i++) {
		fast.frame = fast.time_us = 2 + i;
		add(l, fast); /* not news any more: fold */
	}
	ladder_format_fold_notes(&rows_of(l, 1)->rows[2], " ", notes, sizeof(notes));
	assert_string_equal(notes, "fast retransmission 3");
	ladder_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_up_to_the_limit_stays_rows),
		cmocka_unit_test(test_run_past_the_limit_folds_into_one_row_counted_per_direction),
		cmocka_unit_test(test_fold_counts_the_whole_run_from_its_first_segment),
		cmocka_unit_test(test_notable_segments_end_a_run_and_stay_rows),
		cmocka_unit_test(test_rst_is_never_folded),
		cmocka_unit_test(test_all_never_folds),
		cmocka_unit_test(test_turns_of_the_conversation_stay_rows),
		cmocka_unit_test(test_without_keep_turns_the_request_folds),
		cmocka_unit_test(test_annotated_run_folds_after_its_first_row_with_counts_per_note),
		cmocka_unit_test(test_fold_notes_name_the_specific_flag_only),
		cmocka_unit_test(test_truncated_segment_folds_only_when_asked),
		cmocka_unit_test(test_rows_past_the_limit_are_only_counted),
		cmocka_unit_test(test_fold_in_progress_keeps_counting_near_the_row_limit),
		cmocka_unit_test(test_run_that_meets_the_row_limit_before_folding_is_counted),
		cmocka_unit_test(test_connections_keep_their_own_rows),
		cmocka_unit_test(test_late_connection_id_grows_the_table),
		cmocka_unit_test(test_on_segment_callback_adds_and_bad_id_fails),
		cmocka_unit_test(test_label_text),
		cmocka_unit_test(test_flags_text),
		cmocka_unit_test(test_notes_name_the_specific_flag_only),
		cmocka_unit_test(test_count_and_bytes_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
