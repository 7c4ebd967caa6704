/* wire_model_test: the pure fault model and the link's queue in time, with made-up
 * packets and times: choices repeat by seed, percentages hold over many packets,
 * jitter never reorders, reordering holds one packet behind the next, filters drop
 * once, every Nth or the first N of their matches, the rate queue is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/wire/wire_fault.h"
#include "lab/wire/wire_link.h"

#define N_PACKETS 200000

/* A minimal IPv4 TCP packet: 20 bytes of IP, 20 of TCP, PAYLOAD bytes of data. */
static struct wire_packet *tcp_packet(uint16_t src_port, uint16_t dst_port, uint8_t flags,
				      size_t payload)
{
	size_t len = 40 + payload;
	struct wire_packet *pkt = calloc(1, sizeof(*pkt) + len);
	uint8_t *p = pkt->data;

	pkt->len = (uint32_t)len;
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 6;
	p[12] = 127, p[15] = 2;
	p[16] = 127, p[19] = 1;
	p[20] = (uint8_t)(src_port >> 8), p[21] = (uint8_t)src_port;
	p[22] = (uint8_t)(dst_port >> 8), p[23] = (uint8_t)dst_port;
	p[32] = 5 << 4;
	p[33] = flags;
	for (size_t i = 0; i < payload; i++)
		p[40 + i] = (uint8_t)i;
	return pkt;
}

static uint64_t count_choices(const struct wire_faults *f, uint64_t seed, int which)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < N_PACKETS; i++) {
		struct wire_choice c;

		wire_choose(f, seed, WIRE_C2S, i, &c);
		n += which == 0 ? c.lose : which == 1 ? c.duplicate : which == 2 ? c.reorder : c.corrupt;
	}
	return n;
}

static void test_same_seed_same_choices_other_seed_others(void **state)
{
	struct wire_faults f = { .loss_pcm = 5000, .jitter_us = 1000 };
	int same = 0, differ = 0;

	(void)state;
	for (uint64_t i = 0; i < 10000; i++) {
		struct wire_choice a, b, c;

		wire_choose(&f, 42, WIRE_C2S, i, &a);
		wire_choose(&f, 42, WIRE_C2S, i, &b);
		wire_choose(&f, 43, WIRE_C2S, i, &c);
		assert_int_equal(a.lose, b.lose);
		assert_int_equal(a.jitter_us, b.jitter_us);
		if (a.lose == c.lose && a.jitter_us == c.jitter_us)
			same++;
		else
			differ++;
	}
	/* Another seed makes other choices for most packets (jitter differs almost always). */
	assert_true(differ > 9900);
}

static void test_directions_choose_independently(void **state)
{
	struct wire_faults f = { .loss_pcm = 50000 };
	int differ = 0;

	(void)state;
	for (uint64_t i = 0; i < 1000; i++) {
		struct wire_choice a, b;

		wire_choose(&f, 7, WIRE_C2S, i, &a);
		wire_choose(&f, 7, WIRE_S2C, i, &b);
		differ += a.lose != b.lose;
	}
	assert_true(differ > 400 && differ < 600);
}

/* Within 5 standard deviations of the expected count over 200 000 packets. */
static void assert_near_percent(uint64_t got, double percent)
{
	double expect = N_PACKETS * percent / 100.0;
	double sd = __builtin_sqrt(N_PACKETS * (percent / 100.0) * (1 - percent / 100.0));

	assert_true((double)got > expect - 5 * sd - 1);
	assert_true((double)got < expect + 5 * sd + 1);
}

static void test_percentages_hold_over_many_packets(void **state)
{
	struct wire_faults f = {
		.loss_pcm = 5000, .duplicate_pcm = 500, .reorder_pcm = 25000, .corrupt_pcm = 125,
	};

	(void)state;
	assert_near_percent(count_choices(&f, 1, 0), 5.0);
	assert_near_percent(count_choices(&f, 1, 1), 0.5);
	assert_near_percent(count_choices(&f, 1, 2), 25.0);
	assert_near_percent(count_choices(&f, 1, 3), 0.125);
	/* The bounds: 0% never, 100% always. */
	f.loss_pcm = 0;
	assert_int_equal(count_choices(&f, 1, 0), 0);
	f.loss_pcm = WIRE_PCM_ALL;
	assert_int_equal(count_choices(&f, 1, 0), N_PACKETS);
}

static void test_jitter_stays_within_its_bounds_and_spreads(void **state)
{
	struct wire_faults f = { .jitter_us = 2000 };
	int64_t lo = 0, hi = 0;

	(void)state;
	for (uint64_t i = 0; i < N_PACKETS; i++) {
		struct wire_choice c;

		wire_choose(&f, 3, WIRE_S2C, i, &c);
		assert_true(c.jitter_us >= -2000 && c.jitter_us <= 2000);
		lo = c.jitter_us < lo ? c.jitter_us : lo;
		hi = c.jitter_us > hi ? c.jitter_us : hi;
	}
	assert_true(lo < -1990 && hi > 1990);
}

static void test_filter_modes_once_every_first(void **state)
{
	struct wire_filter_rule all = { .mode = WIRE_FILTER_ALL };
	struct wire_filter_rule once = { .mode = WIRE_FILTER_ONCE };
	struct wire_filter_rule every3 = { .mode = WIRE_FILTER_EVERY, .n = 3 };
	struct wire_filter_rule first2 = { .mode = WIRE_FILTER_FIRST, .n = 2 };
	const int expect_every3[] = { 0, 0, 1, 0, 0, 1, 0 };
	const int expect_first2[] = { 1, 1, 0, 0, 0, 0, 0 };

	(void)state;
	for (uint64_t m = 1; m <= 7; m++) {
		assert_true(wire_filter_drops(&all, m));
		assert_int_equal(wire_filter_drops(&once, m), m == 1);
		assert_int_equal(wire_filter_drops(&every3, m), expect_every3[m - 1]);
		assert_int_equal(wire_filter_drops(&first2, m), expect_first2[m - 1]);
	}
}

static void test_down_windows(void **state)
{
	struct wire_faults f = { .n_downs = 2 };

	(void)state;
	f.downs[0] = (struct wire_down){ .at_us = 1000, .for_us = 500 };
	f.downs[1] = (struct wire_down){ .at_us = 5000, .for_us = 0 };
	assert_false(wire_is_down(&f, 999));
	assert_true(wire_is_down(&f, 1000));
	assert_true(wire_is_down(&f, 1499));
	assert_false(wire_is_down(&f, 1500));
	assert_false(wire_is_down(&f, 4999));
	assert_true(wire_is_down(&f, 5000));
	assert_true(wire_is_down(&f, 1000000000));
}

static uint16_t checksum_field(const struct wire_packet *pkt)
{
	return (uint16_t)(pkt->data[36] << 8 | pkt->data[37]);
}

static void test_corrupt_flips_one_bit_of_the_tcp_segment(void **state)
{
	(void)state;
	for (uint64_t draw = 0; draw < 2000; draw++) {
		struct wire_packet *data = tcp_packet(1, 2, 0x18, 100);
		struct wire_packet *bare = tcp_packet(1, 2, 0x10, 0);
		struct wire_packet *orig = tcp_packet(1, 2, 0x18, 100);
		long bit;
		int flipped = 0;

		bit = wire_corrupt(data->data, data->len, draw);
		/* With payload: a payload bit, headers untouched. */
		assert_true(bit >= 20 * 8 && bit < 120 * 8);
		for (size_t i = 0; i < data->len; i++)
			flipped += __builtin_popcount(data->data[i] ^ orig->data[i]);
		assert_int_equal(flipped, 1);
		assert_memory_equal(data->data, orig->data, 40);
		/* Without payload: a bit of the checksum field. */
		bit = wire_corrupt(bare->data, bare->len, draw);
		assert_true(bit >= 128 && bit < 144);
		assert_int_equal(__builtin_popcount(checksum_field(bare)), 1);
		free(data);
		free(bare);
		free(orig);
	}
}

static void test_corrupt_leaves_what_is_not_tcp(void **state)
{
	struct wire_packet *pkt = tcp_packet(1, 2, 0x10, 10);

	(void)state;
	pkt->data[9] = 17; /* UDP */
	assert_int_equal(wire_corrupt(pkt->data, pkt->len, 5), -1);
	pkt->data[9] = 6;
	assert_int_equal(wire_corrupt(pkt->data, 30, 5), -1); /* truncated */
	free(pkt);
}

static struct wire_link *link_with(const struct wire_faults *f, uint64_t seed)
{
	struct lab_err err = { { 0 } };
	struct wire_link *l = wire_link_new(f, seed, WIRE_C2S, 1500, &err);

	if (l == NULL)
		fail_msg("%s", err.msg);
	return l;
}

static void drain_free(struct wire_link *l)
{
	struct wire_packet *pkt = wire_link_take_all(l);

	while (pkt) {
		struct wire_packet *next = pkt->next;

		free(pkt);
		pkt = next;
	}
	wire_link_free(l);
}

static void test_no_fault_passes_at_once_in_order(void **state)
{
	struct wire_faults f = { 0 };
	struct wire_link *l = link_with(&f, 1);
	enum wire_drop_kind kind;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(wire_link_offer(l, tcp_packet(1, 2, 0x10, 0), 100, &kind), 1);
	for (uint64_t i = 0; i < 5; i++) {
		struct wire_packet *pkt = wire_link_pop(l, 100);

		assert_non_null(pkt);
		assert_int_equal(pkt->index, i);
		free(pkt);
	}
	assert_null(wire_link_pop(l, 100));
	drain_free(l);
}

static void test_delay_holds_until_due(void **state)
{
	struct wire_faults f = { .delay_us = 50000 };
	struct wire_link *l = link_with(&f, 1);
	enum wire_drop_kind kind;
	struct wire_packet *pkt;

	(void)state;
	wire_link_offer(l, tcp_packet(1, 2, 0x10, 0), 1000, &kind);
	assert_int_equal(wire_link_next_ns(l), 1000 + 50000000);
	assert_null(wire_link_pop(l, 1000 + 49999999));
	pkt = wire_link_pop(l, 1000 + 50000000);
	assert_non_null(pkt);
	free(pkt);
	drain_free(l);
}

static void test_jitter_never_reorders(void **state)
{
	struct wire_faults f = { .delay_us = 1000, .jitter_us = 1000 };
	struct wire_link *l = link_with(&f, 9);
	enum wire_drop_kind kind;
	uint64_t expect_index = 0, last_release = 0;
	int later_than_own = 0;

	(void)state;
	/* A packet every 10 us: jitter of +-1 ms would reorder them freely. */
	for (uint64_t i = 0; i < 5000; i++)
		wire_link_offer(l, tcp_packet(1, 2, 0x10, 0), i * 10000, &kind);
	for (uint64_t t = 0; t < 100000000; t += 5000) {
		struct wire_packet *pkt;

		while ((pkt = wire_link_pop(l, t)) != NULL) {
			assert_int_equal(pkt->index, expect_index);
			assert_true(pkt->release_ns >= last_release);
			last_release = pkt->release_ns;
			later_than_own += pkt->release_ns > pkt->index * 10000 + 1000000;
			expect_index++;
			free(pkt);
		}
	}
	assert_int_equal(expect_index, 5000);
	/* And jitter did delay some packets beyond the base delay. */
	assert_true(later_than_own > 1000);
	drain_free(l);
}

static void test_reorder_holds_one_packet_behind_the_next(void **state)
{
	struct wire_faults f = { .reorder_pcm = 20000 };
	struct wire_link *l = link_with(&f, 5);
	enum wire_drop_kind kind;
	uint64_t order[3000], n = 0, swapped = 0;

	(void)state;
	for (uint64_t i = 0; i < 3000; i++) {
		struct wire_packet *pkt;

		wire_link_offer(l, tcp_packet(1, 2, 0x10, 0), i * 1000, &kind);
		while ((pkt = wire_link_pop(l, i * 1000)) != NULL) {
			order[n++] = pkt->index;
			free(pkt);
		}
	}
	for (uint64_t t = 3000000; n < 3000 && t < 100000000; t += 1000) {
		struct wire_packet *pkt;

		while ((pkt = wire_link_pop(l, t)) != NULL) {
			order[n++] = pkt->index;
			free(pkt);
		}
	}
	assert_int_equal(n, 3000);
	/* Every displacement is a swap of neighbours: a held packet follows its successor. */
	for (uint64_t i = 0; i < n; i++) {
		if (order[i] == i)
			continue;
		assert_int_equal(order[i], i + 1);
		assert_int_equal(order[i + 1], i);
		swapped++;
		i++;
	}
	assert_int_equal(swapped, wire_link_stats(l)->reordered);
	assert_true(swapped > 30);
	drain_free(l);
}

static void test_reorder_held_packet_leaves_alone_after_the_hold(void **state)
{
	struct wire_faults f = { .reorder_pcm = WIRE_PCM_ALL };
	struct wire_link *l = link_with(&f, 5);
	enum wire_drop_kind kind;
	struct wire_packet *pkt;

	(void)state;
	wire_link_offer(l, tcp_packet(1, 2, 0x02, 0), 0, &kind);
	assert_null(wire_link_pop(l, WIRE_REORDER_HOLD_MAX_US * 1000ULL - 1));
	pkt = wire_link_pop(l, WIRE_REORDER_HOLD_MAX_US * 1000ULL);
	assert_non_null(pkt);
	assert_int_equal(wire_link_stats(l)->reordered, 0);
	free(pkt);
	drain_free(l);
}

static void test_filter_drops_first_matching_synack_once(void **state)
{
	struct wire_faults f = { .n_filters = 1 };
	struct wire_link *l;
	enum wire_drop_kind kind = WIRE_DROP_KINDS;

	(void)state;
	snprintf(f.filters[0].expr, sizeof(f.filters[0].expr),
		 "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)");
	f.filters[0].mode = WIRE_FILTER_ONCE;
	l = link_with(&f, 1);
	struct wire_packet *ack = tcp_packet(1, 2, 0x10, 0);
	struct wire_packet *synack1 = tcp_packet(1, 2, 0x12, 0);
	struct wire_packet *synack2 = tcp_packet(1, 2, 0x12, 0);

	assert_int_equal(wire_link_offer(l, ack, 0, &kind), 1);
	assert_int_equal(wire_link_offer(l, synack1, 0, &kind), 0);
	assert_int_equal(kind, WIRE_DROP_FILTER);
	assert_int_equal(wire_link_offer(l, synack2, 0, &kind), 1);
	assert_int_equal(wire_link_stats(l)->dropped[WIRE_DROP_FILTER], 1);
	assert_int_equal(wire_link_stats(l)->drop_index[0], 1);
	free(synack1);
	drain_free(l);
}

static void test_filter_every_and_first_count_matches_only(void **state)
{
	struct wire_faults f = { .n_filters = 2 };
	struct wire_link *l;
	enum wire_drop_kind kind;
	int dropped_80 = 0, dropped_81 = 0;

	(void)state;
	f.filters[0] = (struct wire_filter_rule){ .expr = "dst port 80", .mode = WIRE_FILTER_EVERY, .n = 4 };
	f.filters[1] = (struct wire_filter_rule){ .expr = "dst port 81", .mode = WIRE_FILTER_FIRST, .n = 3 };
	l = link_with(&f, 1);
	for (int i = 0; i < 40; i++) {
		struct wire_packet *pkt = tcp_packet(1, i % 2 ? 80 : 81, 0x10, 0);

		if (wire_link_offer(l, pkt, 0, &kind) == 0) {
			dropped_80 += i % 2;
			dropped_81 += !(i % 2);
			free(pkt);
		}
	}
	assert_int_equal(dropped_80, 5); /* matches 4, 8, 12, 16, 20 of 20 */
	assert_int_equal(dropped_81, 3);
	drain_free(l);
}

static void test_bad_filter_is_refused_with_libpcap_reason(void **state)
{
	struct wire_faults f = { .n_filters = 1 };
	struct lab_err err = { { 0 } };
	char msg[256];

	(void)state;
	snprintf(f.filters[0].expr, sizeof(f.filters[0].expr), "tcp port banana");
	assert_null(wire_link_new(&f, 1, WIRE_C2S, 1500, &err));
	assert_non_null(strstr(err.msg, "tcp port banana"));
	assert_false(wire_filter_compiles("tcp port banana", msg, sizeof(msg)));
	assert_true(strlen(msg) > 0);
	assert_true(wire_filter_compiles("tcp[tcpflags] & tcp-syn != 0", msg, sizeof(msg)));
}

static void test_rate_spaces_packets_and_bounds_its_queue(void **state)
{
	/* 1 Mbit/s: a 1250-byte packet takes 10 ms; a queue of 5. */
	struct wire_faults f = { .rate_bps = 1000000, .queue_packets = 5 };
	struct wire_link *l = link_with(&f, 1);
	enum wire_drop_kind kind;
	int kept = 0;

	(void)state;
	for (int i = 0; i < 8; i++) {
		struct wire_packet *pkt = tcp_packet(1, 2, 0x10, 1210);

		if (wire_link_offer(l, pkt, 0, &kind) == 1) {
			kept++;
		} else {
			assert_int_equal(kind, WIRE_DROP_QUEUE);
			free(pkt);
		}
	}
	assert_int_equal(kept, 5);
	for (int i = 1; i <= 5; i++) {
		struct wire_packet *pkt;

		assert_null(wire_link_pop(l, (uint64_t)i * 10000000 - 1));
		pkt = wire_link_pop(l, (uint64_t)i * 10000000);
		assert_non_null(pkt);
		free(pkt);
	}
	/* Once the queue has drained, a packet is taken again. */
	struct wire_packet *late = tcp_packet(1, 2, 0x10, 1210);
	assert_int_equal(wire_link_offer(l, late, 50000000, &kind), 1);
	drain_free(l);
}

static void test_mtu_and_down_drop_with_their_kind(void **state)
{
	struct wire_faults f = { .n_downs = 1 };
	struct wire_link *l;
	enum wire_drop_kind kind;
	struct wire_packet *big = tcp_packet(1, 2, 0x10, 1500);
	struct wire_packet *small = tcp_packet(1, 2, 0x10, 0);

	(void)state;
	f.downs[0] = (struct wire_down){ .at_us = 10, .for_us = 10 };
	l = link_with(&f, 1);
	assert_int_equal(wire_link_offer(l, big, 0, &kind), 0);
	assert_int_equal(kind, WIRE_DROP_MTU);
	assert_int_equal(wire_link_offer(l, small, 15000, &kind), 0);
	assert_int_equal(kind, WIRE_DROP_DOWN);
	assert_int_equal(wire_link_offer(l, small, 20000, &kind), 1);
	free(big);
	drain_free(l);
}

static void test_same_seed_drops_same_indices_in_the_link(void **state)
{
	struct wire_faults f = { .loss_pcm = 3000 };
	struct wire_link *a = link_with(&f, 11), *b = link_with(&f, 11), *c = link_with(&f, 12);
	enum wire_drop_kind kind;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		struct wire_packet *p[3] = { tcp_packet(1, 2, 0x10, 0), tcp_packet(1, 2, 0x10, 0),
					     tcp_packet(1, 2, 0x10, 0) };
		struct wire_link *ls[3] = { a, b, c };

		for (int k = 0; k < 3; k++)
			if (wire_link_offer(ls[k], p[k], 0, &kind) == 0)
				free(p[k]);
	}
	const struct wire_link_stats *sa = wire_link_stats(a), *sb = wire_link_stats(b),
				     *sc = wire_link_stats(c);
	assert_true(sa->n_drop_index > 100);
	assert_int_equal(sa->n_drop_index, sb->n_drop_index);
	assert_memory_equal(sa->drop_index, sb->drop_index, sa->n_drop_index * sizeof(uint64_t));
	assert_false(sa->n_drop_index == sc->n_drop_index &&
		     memcmp(sa->drop_index, sc->drop_index, sa->n_drop_index * 8) == 0);
	drain_free(a);
	drain_free(b);
	drain_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_choices_other_seed_others),
		cmocka_unit_test(test_directions_choose_independently),
		cmocka_unit_test(test_percentages_hold_over_many_packets),
		cmocka_unit_test(test_jitter_stays_within_its_bounds_and_spreads),
		cmocka_unit_test(test_filter_modes_once_every_first),
		cmocka_unit_test(test_down_windows),
		cmocka_unit_test(test_corrupt_flips_one_bit_of_the_tcp_segment),
		cmocka_unit_test(test_corrupt_leaves_what_is_not_tcp),
		cmocka_unit_test(test_no_fault_passes_at_once_in_order),
		cmocka_unit_test(test_delay_holds_until_due),
		cmocka_unit_test(test_jitter_never_reorders),
		cmocka_unit_test(test_reorder_holds_one_packet_behind_the_next),
		cmocka_unit_test(test_reorder_held_packet_leaves_alone_after_the_hold),
		cmocka_unit_test(test_filter_drops_first_matching_synack_once),
		cmocka_unit_test(test_filter_every_and_first_count_matches_only),
		cmocka_unit_test(test_bad_filter_is_refused_with_libpcap_reason),
		cmocka_unit_test(test_rate_spaces_packets_and_bounds_its_queue),
		cmocka_unit_test(test_mtu_and_down_drop_with_their_kind),
		cmocka_unit_test(test_same_seed_drops_same_indices_in_the_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
