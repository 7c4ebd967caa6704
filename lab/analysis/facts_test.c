/* facts_test: one pass over a reference capture gives the same numbers as reading
 * it once for each question: the flows as flow_analyse_file sees them, each BPF
 * filter's count as libpcap counts it on its own, the payload rules as a walk over
 * the segments decides them; ladder rows only when asked; errors name the file or
 * the filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "lab/analysis/facts.h"
#include "lab/analysis/flow.h"

#define PCAPS "lab/tests/pcaps/"

/* libpcap alone: how many frames of path the filter matches. */
static uint64_t count_alone(const char *path, const char *filter)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t n = 0;

	assert_non_null(p);
	assert_int_equal(pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0);
	while (pcap_next_ex(p, &h, &data) == 1)
		if (pcap_offline_filter(&prog, h, data))
			n++;
	pcap_freecode(&prog);
	pcap_close(p);
	return n;
}

struct walk {
	int dir;
	uint32_t max_bytes;
	uint64_t data_segments, over;
};

static void walk_segment(const struct flow_segment *seg, void *arg)
{
	struct walk *w = arg;
	uint32_t not_data = (1u << FLOW_KEEP_ALIVE) | (1u << FLOW_WINDOW_PROBE) |
			    (1u << FLOW_ZERO_WINDOW_PROBE);

	if (seg->dir != w->dir || seg->payload_bytes == 0 || (seg->analysis & not_data))
		return;
	w->data_segments++;
	if (seg->payload_bytes > w->max_bytes)
		w->over++;
}

static void test_filters_count_as_libpcap_alone(void **state)
{
	const char *path = PCAPS "bulk.pcap";
	const struct facts_filter filters[] = {
		{ .text = "tcp[tcpflags] & tcp-syn != 0", .where = "a" },
		{ .text = "tcp and greater 200", .where = "b" },
		{ .text = "udp", .where = "c" },
	};
	struct facts_opts fo = { .filters = filters, .n_filters = 3 };
	struct facts *f = NULL;
	struct lab_err err;

	(void)state;
	assert_int_equal(facts_read(path, &fo, &f, &err), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(facts_filter_matches(f, i), count_alone(path, filters[i].text));
	assert_true(facts_filter_matches(f, 0) > 0);
	assert_true(facts_filter_matches(f, 1) > 0);
	assert_int_equal(facts_filter_matches(f, 2), 0);
	facts_free(f);
}

static void test_flows_are_flow_analyse_file(void **state)
{
	const char *path = PCAPS "retransmission.pcap";
	struct flow_analysis *alone = NULL;
	struct facts *f = NULL;
	struct lab_err err;
	const struct flow_totals *a, *b;

	(void)state;
	assert_int_equal(flow_analyse_file(path, NULL, &alone, &err), 0);
	assert_int_equal(facts_read(path, NULL, &f, &err), 0);
	a = flow_totals(alone);
	b = flow_totals(facts_flows(f));
	assert_int_equal(a->packets, b->packets);
	assert_int_equal(a->tcp_packets, b->tcp_packets);
	assert_memory_equal(a->flags, b->flags, sizeof(a->flags));
	assert_int_equal(flow_conn_count(alone), flow_conn_count(facts_flows(f)));
	assert_true(b->flags[FLOW_RETRANSMISSION] > 0);
	assert_null(facts_ladder(f));
	assert_string_equal(facts_path(f), path);
	flow_free(alone);
	facts_free(f);
}

static void test_payload_rules_as_a_walk_decides(void **state)
{
	const char *path = PCAPS "bulk.pcap";
	struct walk w = { .dir = FLOW_DIR_C2S, .max_bytes = 100 };
	struct flow_opts wo = { .on_segment = walk_segment, .arg = &w };
	struct flow_analysis *alone = NULL;
	const struct facts_payload_rule rules[] = {
		/* at most 100 bytes: the bulk data breaks it */
		{ .dir = FLOW_DIR_C2S, .min_bytes = 0, .max_bytes = 100, .inside = true },
		/* anything but 0 bytes: every data segment keeps it */
		{ .dir = FLOW_DIR_C2S, .min_bytes = 0, .max_bytes = 0, .inside = false },
		/* an empty range: every data segment breaks it */
		{ .dir = FLOW_DIR_C2S, .min_bytes = 1, .max_bytes = 0, .inside = true },
	};
	struct facts_opts fo = { .rules = rules, .n_rules = 3 };
	struct facts *f = NULL;
	struct lab_err err;

	(void)state;
	assert_int_equal(flow_analyse_file(path, &wo, &alone, &err), 0);
	assert_int_equal(facts_read(path, &fo, &f, &err), 0);
	assert_true(w.data_segments > 0);
	assert_int_equal(facts_rule_segments(f, 0), w.data_segments);
	assert_int_equal(facts_rule_violations(f, 0), w.over);
	assert_true(facts_rule_first_violation(f, 0) > 100);
	assert_int_equal(facts_rule_violations(f, 1), 0);
	assert_int_equal(facts_rule_violations(f, 2), w.data_segments);
	flow_free(alone);
	facts_free(f);
}

static void test_ladder_rows_when_asked(void **state)
{
	const struct ladder_opts lo = { .fold_segments = 8 };
	struct facts_opts fo = { .ladder = &lo };
	struct facts *f = NULL;
	struct lab_err err;
	const struct flow_analysis *fa;

	(void)state;
	assert_int_equal(facts_read(PCAPS "basic_echo.pcap", &fo, &f, &err), 0);
	assert_non_null(facts_ladder(f));
	fa = facts_flows(f);
	assert_true(flow_conn_count(fa) > 0);
	assert_non_null(ladder_conn(facts_ladder(f), flow_conn_at(fa, 0)->id));
	facts_free(f);
}

static void test_bad_filter_names_where(void **state)
{
	const struct facts_filter filters[] = { { .text = "tcp and and", .where = "x.scn:3:1" } };
	struct facts_opts fo = { .filters = filters, .n_filters = 1 };
	struct facts *f = NULL;
	struct lab_err err = { { 0 } };

	(void)state;
	assert_int_equal(facts_read(PCAPS "basic_echo.pcap", &fo, &f, &err), -1);
	assert_null(f);
	assert_non_null(strstr(err.msg, "x.scn:3:1: bad packet filter \"tcp and and\""));
}

static void test_not_a_capture_names_the_file(void **state)
{
	struct facts *f = NULL;
	struct lab_err err = { { 0 } };

	(void)state;
	assert_int_equal(facts_read("/nonexistent.pcap", NULL, &f, &err), -1);
	assert_null(f);
	assert_non_null(strstr(err.msg, "/nonexistent.pcap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters_count_as_libpcap_alone),
		cmocka_unit_test(test_flows_are_flow_analyse_file),
		cmocka_unit_test(test_payload_rules_as_a_walk_decides),
		cmocka_unit_test(test_ladder_rows_when_asked),
		cmocka_unit_test(test_bad_filter_names_where),
		cmocka_unit_test(test_not_a_capture_names_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
