/* flow_test: the analysis of the reference captures in lab/tests/pcaps/ (made by
 * tools/pcapgen/gen_pcaps.py, each a small story with a known outcome), the
 * packet-by-packet API, and bad files. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "lab/analysis/flow.h"
#include "lab/analysis/packet.h"

#define PCAPS "lab/tests/pcaps/"

static struct flow_analysis *analyse(const char *name, const struct flow_opts *opts)
{
	char path[256];
	struct flow_analysis *fa = NULL;
	struct lab_err err = { "" };

	snprintf(path, sizeof(path), PCAPS "%s.pcap", name);
	if (flow_analyse_file(path, opts, &fa, &err) < 0)
		fail_msg("%s", err.msg);
	return fa;
}

static const struct flow_conn *only_conn(const struct flow_analysis *fa)
{
	assert_int_equal(flow_conn_count(fa), 1);
	return flow_conn_at(fa, 0);
}

/* The 16-byte echo story, whatever the link layer. */
static void check_echo(const char *name, const char *client, const char *server)
{
	struct flow_analysis *fa = analyse(name, NULL);
	const struct flow_conn *c = only_conn(fa);
	const struct flow_totals *t = flow_totals(fa);

	assert_int_equal(t->packets, 10);
	assert_int_equal(t->tcp_packets, 10);
	assert_int_equal(t->malformed + t->non_tcp + t->truncated, 0);
	assert_string_equal(c->client_str, client);
	assert_string_equal(c->server_str, server);
	assert_true(c->client_from_syn);
	assert_int_equal(c->handshake, FLOW_HANDSHAKE_COMPLETE);
	assert_int_equal(c->rtt_us, 100);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 16);
	assert_int_equal(c->dir[FLOW_DIR_S2C].data_bytes, 16);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_segments, 1);
	assert_int_equal(c->dir[FLOW_DIR_C2S].max_payload_bytes, 16);
	assert_int_equal(c->dir[FLOW_DIR_C2S].min_payload_bytes, 16);
	assert_true(c->dir[0].fin && c->dir[1].fin);
	assert_false(c->dir[0].rst || c->dir[1].rst);
	assert_int_equal(c->teardown, FLOW_TEARDOWN_FIN);
	assert_int_equal(c->teardown_dir, FLOW_DIR_C2S);
	assert_int_equal(c->dir[0].wscale, 7);
	assert_int_equal(c->dir[1].mss, 65495);
	assert_true(c->closed);
	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		assert_int_equal(t->flags[f], 0);
	flow_free(fa);
}

static void test_echo_on_every_link_type(void **state)
{
	static const char *const v4[] = { "basic_echo", "link_vlan", "link_sll", "link_sll2",
					  "link_raw",   "link_ipv4", "link_null" };
	static const char *const v6[] = { "link_raw6", "link_ipv6", "link_null6", "link_loop6",
					  "ipv6_destopts" };

	(void)state;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
		check_echo(v4[i], "127.0.0.1:40000", "127.0.0.1:1060");
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
		check_echo(v6[i], "[::1]:40000", "[::1]:1060");
}

static void test_syn_answered_by_rst_is_refused(void **state)
{
	struct flow_analysis *fa = analyse("refused", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->handshake, FLOW_HANDSHAKE_REFUSED);
	assert_int_equal(c->teardown, FLOW_TEARDOWN_RESET);
	assert_int_equal(c->teardown_dir, FLOW_DIR_S2C);
	assert_true(c->dir[FLOW_DIR_S2C].rst);
	assert_int_equal(c->rtt_us, -1);
	/* a RST's zero window is no zero window (Wireshark agrees) */
	assert_int_equal(flow_conn_flag_count(c, FLOW_ZERO_WINDOW), 0);
	flow_free(fa);
}

static void test_unanswered_syn_retransmitted_twice(void **state)
{
	struct flow_analysis *fa = analyse("unanswered", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->handshake, FLOW_HANDSHAKE_UNANSWERED);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_RETRANSMISSION], 2);
	assert_int_equal(c->teardown, FLOW_TEARDOWN_NONE);
	assert_false(c->closed);
	flow_free(fa);
}

static void test_retransmitted_bytes_count_once(void **state)
{
	struct flow_analysis *fa = analyse("retransmission", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_RETRANSMISSION], 1);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 100);
	assert_int_equal(c->dir[FLOW_DIR_C2S].payload_bytes, 200);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_segments, 2);
	flow_free(fa);
}

static void test_spurious_and_fast_retransmissions(void **state)
{
	struct flow_analysis *fa = analyse("spurious", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->dir[0].flags[FLOW_SPURIOUS_RETRANSMISSION], 1);
	assert_int_equal(c->dir[0].flags[FLOW_RETRANSMISSION], 1);
	flow_free(fa);
	fa = analyse("fast_retransmission", NULL);
	c = only_conn(fa);
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_DUPLICATE_ACK], 3);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_FAST_RETRANSMISSION], 1);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_RETRANSMISSION], 1);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 100 + 4000);
	flow_free(fa);
}

static void test_out_of_order_and_lost_segments(void **state)
{
	struct flow_analysis *fa = analyse("out_of_order", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->dir[0].flags[FLOW_LOST_SEGMENT], 1);
	assert_int_equal(c->dir[0].flags[FLOW_OUT_OF_ORDER], 1);
	assert_int_equal(c->dir[0].flags[FLOW_RETRANSMISSION], 0);
	assert_int_equal(c->dir[0].data_bytes, 1000);
	assert_int_equal(c->rtt_us, 10000);
	flow_free(fa);
	fa = analyse("lost_segment", NULL);
	c = only_conn(fa);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_LOST_SEGMENT], 1);
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_ACK_LOST_SEGMENT], 1);
	/* The 700 bytes the capture missed were sent (the server acked 1001):
	 * the client sent 1000 bytes, not the 300 the capture holds. */
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 1000);
	assert_int_equal(c->dir[FLOW_DIR_C2S].payload_bytes, 300);
	flow_free(fa);
}

static void test_zero_window_with_one_byte_probes(void **state)
{
	struct flow_analysis *fa = analyse("zero_window", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_ZERO_WINDOW], 4);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_ZERO_WINDOW], 0);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_ZERO_WINDOW_PROBE], 3);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_WINDOW_PROBE], 3);
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_ZERO_WINDOW_PROBE_ACK], 3);
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_WINDOW_UPDATE], 1);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_WINDOW_FULL], 1);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_RETRANSMISSION], 0);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 4000 + 4096 + 1000);
	flow_free(fa);
}

static void test_linux_style_window_probes(void **state)
{
	struct flow_analysis *fa = analyse("zero_window_linux", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_KEEP_ALIVE], 3);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_WINDOW_PROBE], 3);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_ZERO_WINDOW_PROBE], 0);
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_ZERO_WINDOW], 4);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_segments, 2);
	flow_free(fa);
}

static void test_keepalives_are_not_data(void **state)
{
	struct flow_analysis *fa = analyse("keepalive", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_KEEP_ALIVE], 3);
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_KEEP_ALIVE_ACK], 3);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_WINDOW_PROBE], 0);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_segments, 1);
	assert_int_equal(c->dir[FLOW_DIR_C2S].min_payload_bytes, 10);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 10);
	assert_int_equal(c->teardown_dir, FLOW_DIR_S2C);
	flow_free(fa);
}

static void test_window_full_uses_scaled_edge(void **state)
{
	static const char *const names[] = { "window_full", "window_scaled",
					     "window_scale_one_side" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct flow_analysis *fa = analyse(names[i], NULL);
		const struct flow_conn *c = only_conn(fa);

		assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_WINDOW_FULL], 1);
		flow_free(fa);
	}
}

static void test_reset_mid_stream(void **state)
{
	struct flow_analysis *fa = analyse("rst_midstream", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->handshake, FLOW_HANDSHAKE_COMPLETE);
	assert_int_equal(c->teardown, FLOW_TEARDOWN_RESET);
	assert_int_equal(c->teardown_dir, FLOW_DIR_S2C);
	assert_true(c->closed);
	flow_free(fa);
}

static void test_port_reuse_makes_two_connections(void **state)
{
	struct flow_analysis *fa = analyse("port_reuse", NULL);
	const struct flow_conn *a, *b;

	(void)state;
	assert_int_equal(flow_conn_count(fa), 2);
	a = flow_conn_at(fa, 0);
	b = flow_conn_at(fa, 1);
	assert_int_equal(a->dir[0].data_bytes, 5);
	assert_int_equal(b->dir[0].data_bytes, 7);
	assert_int_equal(a->teardown_dir, FLOW_DIR_C2S);
	assert_int_equal(b->teardown_dir, FLOW_DIR_S2C);
	assert_int_equal(b->handshake, FLOW_HANDSHAKE_COMPLETE);
	assert_int_equal(flow_conn_flag_count(b, FLOW_RETRANSMISSION), 0);
	/* Wireshark's tcp.analysis.reused_ports: on the second SYN only */
	assert_int_equal(b->dir[FLOW_DIR_C2S].flags[FLOW_REUSED_PORTS], 1);
	assert_int_equal(flow_conn_flag_count(a, FLOW_REUSED_PORTS), 0);
	assert_int_equal(flow_totals(fa)->flags[FLOW_REUSED_PORTS], 1);
	assert_null(flow_conn_at(fa, 2));
	flow_free(fa);
}

static void test_midstream_capture_guesses_client_by_port(void **state)
{
	struct flow_analysis *fa = analyse("midstream", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->handshake, FLOW_HANDSHAKE_NONE);
	assert_false(c->client_from_syn);
	assert_int_equal(c->server_port, 1060);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 30);
	assert_int_equal(c->dir[FLOW_DIR_S2C].data_bytes, 50);
	flow_free(fa);
}

static void test_sequence_wrap(void **state)
{
	struct flow_analysis *fa = analyse("seq_wrap", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 500);
	assert_int_equal(c->dir[FLOW_DIR_S2C].data_bytes, 100);
	assert_int_equal(c->dir[FLOW_DIR_C2S].flags[FLOW_RETRANSMISSION], 1);
	assert_int_equal(flow_conn_flag_count(c, FLOW_LOST_SEGMENT), 0);
	flow_free(fa);
}

static void test_snaplen_cut_payload_still_counts_bytes(void **state)
{
	struct flow_analysis *fa = analyse("snaplen", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(flow_totals(fa)->truncated, 41);
	assert_int_equal(flow_totals(fa)->malformed, 0);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 40 * 200);
	assert_int_equal(c->dir[FLOW_DIR_C2S].max_payload_bytes, 200);
	flow_free(fa);
}

static void test_other_protocols_and_malformed_frames_are_counted(void **state)
{
	struct flow_analysis *fa = analyse("mixed", NULL);
	const struct flow_totals *t = flow_totals(fa);

	(void)state;
	assert_int_equal(t->packets, 12);
	assert_int_equal(t->tcp_packets, 8);
	assert_int_equal(t->non_tcp, 3);
	assert_int_equal(t->malformed, 1);
	assert_int_equal(only_conn(fa)->dir[0].data_bytes, 16);
	flow_free(fa);
}

static void test_port_filter(void **state)
{
	struct flow_opts opts = { .port = 1061 };
	struct flow_analysis *fa = analyse("port_reuse", &opts);

	(void)state;
	assert_int_equal(flow_conn_count(fa), 0);
	assert_int_equal(flow_totals(fa)->filtered, 16);
	flow_free(fa);
	opts.port = 1060;
	fa = analyse("port_reuse", &opts);
	assert_int_equal(flow_conn_count(fa), 2);
	assert_true(flow_conn_has_port(flow_conn_at(fa, 0), 1060));
	flow_free(fa);
}

struct seen {
	unsigned segments;
	unsigned probes;
	uint32_t last_seq_rel;
};

static void count_segment(const struct flow_segment *seg, void *arg)
{
	struct seen *s = arg;

	s->segments++;
	if (seg->analysis & (1u << FLOW_WINDOW_PROBE)) {
		s->probes++;
		assert_int_equal(seg->dir, FLOW_DIR_C2S);
	}
	if (seg->dir == FLOW_DIR_C2S)
		s->last_seq_rel = seg->seq_rel;
}

static void test_callback_sees_every_segment(void **state)
{
	struct seen seen = { 0 };
	struct flow_opts opts = { .on_segment = count_segment, .arg = &seen };
	struct flow_analysis *fa = analyse("zero_window", &opts);

	(void)state;
	assert_int_equal(seen.segments, flow_totals(fa)->tcp_packets);
	assert_int_equal(seen.probes, 3);
	assert_int_equal(seen.last_seq_rel, 9098); /* the last ACK, after 9096 B and a FIN */
	flow_free(fa);
}

/* Builds a raw IPv4 TCP segment for the packet-by-packet API. */
static size_t make_segment(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
			   uint8_t flags, uint16_t payload)
{
	size_t len = 40 + payload;

	memset(b, 0, len);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = 6;
	b[12] = 10, b[15] = 1;
	b[16] = 10, b[19] = 2;
	if (sport == 1060)
		b[15] = 2, b[19] = 1;
	b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8), b[23] = (uint8_t)dport;
	b[24] = (uint8_t)(seq >> 24), b[25] = (uint8_t)(seq >> 16), b[26] = (uint8_t)(seq >> 8),
	b[27] = (uint8_t)seq;
	b[28] = (uint8_t)(ack >> 24), b[29] = (uint8_t)(ack >> 16), b[30] = (uint8_t)(ack >> 8),
	b[31] = (uint8_t)ack;
	b[32] = 5 << 4;
	b[33] = flags;
	b[34] = 0xff;
	return len;
}

static void feed(struct flow_analysis *fa, int64_t t_us, uint16_t sport, uint16_t dport,
		 uint32_t seq, uint32_t ack, uint8_t flags, uint16_t payload)
{
	uint8_t b[1600];
	struct pcap_pkthdr h = { { (time_t)(t_us / 1000000), (suseconds_t)(t_us % 1000000) },
				 0,
				 0 };
	struct lab_err err = { "" };

	h.len = h.caplen = (bpf_u_int32)make_segment(b, sport, dport, seq, ack, flags, payload);
	assert_int_equal(flow_add_packet(fa, &h, b, DLT_RAW, &err), 0);
}

static void test_packet_api_and_linger(void **state)
{
	struct flow_opts opts = { .linger_us = 1000000 };
	struct flow_analysis *fa = flow_new(&opts);
	const struct flow_conn *c;

	(void)state;
	assert_non_null(fa);
	feed(fa, 0, 5000, 1060, 100, 0, PACKET_TCP_SYN, 0);
	feed(fa, 10, 1060, 5000, 900, 101, PACKET_TCP_SYN | PACKET_TCP_ACK, 0);
	feed(fa, 20, 5000, 1060, 101, 901, PACKET_TCP_ACK, 0);
	feed(fa, 30, 5000, 1060, 101, 901, PACKET_TCP_ACK | PACKET_TCP_PSH, 3);
	feed(fa, 40, 5000, 1060, 104, 901, PACKET_TCP_RST, 0);
	/* within the linger time: still the same connection */
	feed(fa, 500000, 1060, 5000, 901, 104, PACKET_TCP_ACK, 0);
	assert_int_equal(flow_conn_count(fa), 1);
	c = flow_conn_at(fa, 0);
	assert_string_equal(c->client_str, "10.0.0.1:5000");
	assert_int_equal(c->handshake, FLOW_HANDSHAKE_COMPLETE);
	assert_int_equal(c->rtt_us, 20);
	assert_int_equal(c->teardown, FLOW_TEARDOWN_RESET);
	assert_int_equal(c->packets, 6);
	/* after it: the state is gone, a late segment is a new (mid-stream) one */
	feed(fa, 3000000, 1060, 5000, 901, 104, PACKET_TCP_ACK, 0);
	assert_int_equal(flow_conn_count(fa), 2);
	assert_int_equal(flow_conn_at(fa, 1)->handshake, FLOW_HANDSHAKE_NONE);
	assert_int_equal(flow_conn_at(fa, 0)->packets, 6);
	flow_free(fa);
}

static void test_unreadable_and_non_pcap_files_fail_naming_the_file(void **state)
{
	struct flow_analysis *fa = (void *)1;
	struct lab_err err = { "" };
	char path[] = "/tmp/flow_test_notpcap_XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(flow_analyse_file("/nonexistent/x.pcap", NULL, &fa, &err), -1);
	assert_null(fa);
	assert_non_null(strstr(err.msg, "/nonexistent/x.pcap"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, this is not a capture file\n", 34), 34);
	close(fd);
	assert_int_equal(flow_analyse_file(path, NULL, &fa, &err), -1);
	assert_non_null(strstr(err.msg, path));
	unlink(path);
}

static void test_truncated_file_returns_what_was_read(void **state)
{
	char path[] = "/tmp/flow_test_cut_XXXXXX";
	struct flow_analysis *fa = NULL;
	struct lab_err err = { "" };
	FILE *in = fopen(PCAPS "basic_echo.pcap", "rb");
	uint8_t buf[4096];
	size_t n;
	int fd;

	(void)state;
	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n - 10), (ssize_t)(n - 10)); /* cut the last record */
	close(fd);
	assert_int_equal(flow_analyse_file(path, NULL, &fa, &err), 0);
	assert_non_null(fa);
	assert_int_equal(flow_totals(fa)->packets, 9);
	assert_non_null(strstr(flow_totals(fa)->file_note, "truncated"));
	assert_int_equal(only_conn(fa)->dir[0].data_bytes, 16);
	flow_free(fa);
	unlink(path);
}

static struct flow_analysis *analyse_path(const char *path)
{
	struct flow_analysis *fa = NULL;
	struct lab_err err = { "" };

	if (flow_analyse_file(path, NULL, &fa, &err) < 0)
		fail_msg("%s", err.msg);
	return fa;
}

/* Interfaces of three link types (one not decodable), two sections of
 * opposite byte order, nanosecond and 2^-20 s resolutions, a time offset,
 * simple and obsolete packet blocks. */
static void test_pcapng_with_several_link_types(void **state)
{
	struct flow_analysis *fa = analyse_path(PCAPS "multi_link.pcapng");
	const struct flow_totals *t = flow_totals(fa);
	const struct flow_conn *a, *b;

	(void)state;
	assert_int_equal(t->packets, 27);
	assert_int_equal(t->tcp_packets, 26);
	assert_int_equal(t->undecoded, 1);
	assert_int_equal(t->malformed, 0);
	assert_string_equal(t->file_note, "");
	assert_non_null(strstr(t->decode_note, "1 frames of link type 147"));
	assert_int_equal(flow_conn_count(fa), 2);
	a = flow_conn_at(fa, 0);
	b = flow_conn_at(fa, 1);
	/* every packet of the first seen on lo and on any, 3 us apart */
	assert_int_equal(a->packets, 16);
	assert_int_equal(a->dir[0].data_bytes, 16);
	assert_int_equal(t->flags[FLOW_RETRANSMISSION], 5);
	assert_int_equal(t->flags[FLOW_DUPLICATE_ACK], 3);
	/* the big-endian section: times from 2^-20 s units plus the offset */
	assert_int_equal(b->packets, 10);
	assert_int_equal(b->dir[0].data_bytes, 30);
	assert_int_equal(b->dir[1].data_bytes, 30);
	assert_true(b->first_time_us / 1000000 == 1700000005);
	assert_true(b->rtt_us >= 99 && b->rtt_us <= 101);
	flow_free(fa);
}

/* The real thing: `dumpcap -i lo -i any` in a namespace. */
static void test_dumpcap_lo_and_any(void **state)
{
	struct flow_analysis *fa = analyse_path(PCAPS "lo_any.pcapng");
	const struct flow_totals *t = flow_totals(fa);

	(void)state;
	assert_int_equal(t->packets, 64);
	assert_int_equal(t->tcp_packets, 64);
	assert_int_equal(flow_conn_count(fa), 3);
	assert_int_equal(flow_conn_at(fa, 1)->dir[0].data_bytes, 300000);
	assert_int_equal(flow_conn_at(fa, 2)->handshake, FLOW_HANDSHAKE_REFUSED);
	assert_string_equal(t->decode_note, "");
	flow_free(fa);
}

/* Wireshark's nextseq-1 exception: neither out-of-order nor retransmission. */
static void test_segment_at_nextseq_minus_one_brings_new_data(void **state)
{
	struct flow_analysis *fa = analyse("nextseq_minus_one", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(flow_conn_flag_count(c, FLOW_OUT_OF_ORDER), 0);
	assert_int_equal(flow_conn_flag_count(c, FLOW_RETRANSMISSION), 0);
	assert_int_equal(c->dir[0].data_bytes, 298);
	flow_free(fa);
}

static void test_ipv4_length_zero_and_beyond_the_frame(void **state)
{
	struct flow_analysis *fa = analyse("big_tcp", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	/* BIG TCP: three 80 000-byte segments, IPv4 total length 0 */
	assert_int_equal(c->dir[0].data_bytes, 240000);
	assert_int_equal(c->dir[0].max_payload_bytes, 80000);
	assert_int_equal(flow_totals(fa)->truncated, 3);
	assert_int_equal(flow_totals(fa)->malformed, 0);
	flow_free(fa);
	/* a total length of 1500 over 100 bytes: the 100 bytes count */
	fa = analyse("ip_len_beyond_frame", NULL);
	c = only_conn(fa);
	assert_int_equal(flow_totals(fa)->malformed, 0);
	assert_int_equal(c->dir[0].data_bytes, 100);
	assert_int_equal(flow_conn_flag_count(c, FLOW_RETRANSMISSION), 1);
	flow_free(fa);
}

static void test_tcp_in_tunnels(void **state)
{
	struct flow_analysis *fa = analyse("tunnels", NULL);
	const struct flow_totals *t = flow_totals(fa);

	(void)state;
	/* VXLAN, Geneve, GRE (Ethernet), GRE (IPv4), IP in IP: opened */
	assert_int_equal(flow_conn_count(fa), 5);
	assert_int_equal(t->decapsulated, 45);
	assert_int_equal(t->flags[FLOW_RETRANSMISSION], 5);
	for (size_t i = 0; i < 5; i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);

		assert_string_equal(c->server_str, "127.0.0.1:1060");
		assert_int_equal(c->dir[0].data_bytes, 100);
		assert_int_equal(c->handshake, FLOW_HANDSHAKE_COMPLETE);
	}
	/* GTP-U: counted and noted, not opened */
	assert_int_equal(t->tunnelled, 8);
	assert_non_null(strstr(t->decode_note, "8 tunnelled packets not opened (GTP-U)"));
	flow_free(fa);
}

/* A pcapng cut short or corrupt: what came before counts, and the note says
 * which block at which byte stopped the reading. */
static void test_damaged_pcapng_says_where(void **state)
{
	char path[] = "/tmp/flow_test_png_XXXXXX";
	uint8_t buf[8192];
	struct flow_analysis *fa = NULL;
	struct lab_err err = { "" };
	FILE *f = fopen(PCAPS "multi_link.pcapng", "rb");
	size_t len;
	int fd;

	(void)state;
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	/* cut in the middle of the file: inside some block */
	assert_int_equal(write(fd, buf, len / 2), (ssize_t)(len / 2));
	close(fd);
	assert_int_equal(flow_analyse_file(path, NULL, &fa, &err), 0);
	assert_true(flow_totals(fa)->packets > 0);
	assert_non_null(strstr(flow_totals(fa)->file_note, "reading stopped after"));
	assert_non_null(strstr(flow_totals(fa)->file_note, "pcapng block at byte"));
	flow_free(fa);
	/* the second length field of the first interface block made wrong */
	buf[28 + 20 - 4] ^= 0x40;
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	assert_int_equal(flow_analyse_file(path, NULL, &fa, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "pcapng block at byte 28"));
	unlink(path);
}

/* A real 20 MB transfer with 5% of its packets left out: tshark 4.0 says
 * "ACKed unseen segment" 17 times (once per gap), not on every ACK that runs
 * ahead of the capture. */
static void test_acked_unseen_segments_once_per_gap(void **state)
{
	struct flow_analysis *fa = analyse("bulk_drops", NULL);
	const struct flow_conn *c = only_conn(fa);

	(void)state;
	assert_int_equal(flow_totals(fa)->flags[FLOW_ACK_LOST_SEGMENT], 17);
	assert_int_equal(c->dir[FLOW_DIR_S2C].flags[FLOW_ACK_LOST_SEGMENT], 17);
	assert_int_equal(flow_totals(fa)->flags[FLOW_LOST_SEGMENT], 18);
	assert_int_equal(c->dir[FLOW_DIR_C2S].data_bytes, 20000000);
	flow_free(fa);
}

/* "-" reads standard input, also a pcapng through a pipe. */
static void test_standard_input(void **state)
{
	int fds[2];
	FILE *saved;
	struct blob {
		char buf[8192];
		size_t len;
	} b;
	FILE *f = fopen(PCAPS "multi_link.pcapng", "rb");
	struct flow_analysis *fa;

	(void)state;
	assert_non_null(f);
	b.len = fread(b.buf, 1, sizeof(b.buf), f);
	fclose(f);
	assert_true(b.len > 0 && b.len < sizeof(b.buf));
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], b.buf, b.len), (ssize_t)b.len);
	close(fds[1]);
	saved = stdin;
	stdin = fdopen(fds[0], "rb");
	assert_non_null(stdin);
	fa = analyse_path("-");
	fclose(stdin);
	stdin = saved;
	assert_int_equal(flow_totals(fa)->packets, 27);
	flow_free(fa);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(flow_flag_name(FLOW_ZERO_WINDOW_PROBE), "zero_window_probe");
	assert_string_equal(flow_flag_name(FLOW_ACK_LOST_SEGMENT), "ack_lost_segment");
	assert_string_equal(flow_flag_words(FLOW_WINDOW_PROBE), "window probe");
	assert_string_equal(flow_handshake_name(FLOW_HANDSHAKE_REFUSED), "refused");
	assert_string_equal(flow_teardown_name(FLOW_TEARDOWN_RESET), "reset");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_on_every_link_type),
		cmocka_unit_test(test_syn_answered_by_rst_is_refused),
		cmocka_unit_test(test_unanswered_syn_retransmitted_twice),
		cmocka_unit_test(test_retransmitted_bytes_count_once),
		cmocka_unit_test(test_spurious_and_fast_retransmissions),
		cmocka_unit_test(test_out_of_order_and_lost_segments),
		cmocka_unit_test(test_zero_window_with_one_byte_probes),
		cmocka_unit_test(test_linux_style_window_probes),
		cmocka_unit_test(test_keepalives_are_not_data),
		cmocka_unit_test(test_window_full_uses_scaled_edge),
		cmocka_unit_test(test_reset_mid_stream),
		cmocka_unit_test(test_port_reuse_makes_two_connections),
		cmocka_unit_test(test_midstream_capture_guesses_client_by_port),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_snaplen_cut_payload_still_counts_bytes),
		cmocka_unit_test(test_other_protocols_and_malformed_frames_are_counted),
		cmocka_unit_test(test_port_filter),
		cmocka_unit_test(test_callback_sees_every_segment),
		cmocka_unit_test(test_packet_api_and_linger),
		cmocka_unit_test(test_unreadable_and_non_pcap_files_fail_naming_the_file),
		cmocka_unit_test(test_truncated_file_returns_what_was_read),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pcapng_with_several_link_types),
		cmocka_unit_test(test_dumpcap_lo_and_any),
		cmocka_unit_test(test_segment_at_nextseq_minus_one_brings_new_data),
		cmocka_unit_test(test_ipv4_length_zero_and_beyond_the_frame),
		cmocka_unit_test(test_tcp_in_tunnels),
		cmocka_unit_test(test_standard_input),
		cmocka_unit_test(test_acked_unseen_segments_once_per_gap),
		cmocka_unit_test(test_damaged_pcapng_says_where),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
