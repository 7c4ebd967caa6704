/* packet_test: decoding frames of every supported link type, and frames cut
 * short or corrupt at every offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "lab/analysis/packet.h"

/* A frame under construction. */
struct frame {
	uint8_t b[512];
	size_t len;
};

static void put(struct frame *f, const void *data, size_t n)
{
	memcpy(f->b + f->len, data, n);
	f->len += n;
}

static void put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

/* TCP header with MSS 1460, SACK permitted, timestamps, window scale 7 and one
 * SACK block (40 bytes of header), then `payload` bytes. */
static void put_tcp(struct frame *f, uint16_t payload)
{
	static const uint8_t opts[20] = {
		2, 4,  0x05, 0xb4,                   /* MSS 1460 */
		4, 2,                                /* SACK permitted */
		8, 10, 0,    0,    0, 7, 0, 0, 0, 9, /* TS val 7 ecr 9 */
		1, 3,  3,    7,                      /* NOP, window scale 7 */
	};
	static const uint8_t sack[12] = { 1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0 };

	put16(f, 40000);
	put16(f, 1060);
	put32(f, 1000);
	put32(f, 2000);
	f->b[f->len++] = (52 / 4) << 4;
	f->b[f->len++] = PACKET_TCP_ACK | PACKET_TCP_PSH;
	put16(f, 512);
	put16(f, 0); /* checksum: not checked */
	put16(f, 0);
	put(f, opts, sizeof(opts));
	put(f, sack, sizeof(sack));
	for (uint16_t i = 0; i < payload; i++)
		f->b[f->len++] = (uint8_t)i;
}

static void put_ipv4(struct frame *f, uint16_t payload, uint16_t frag)
{
	static const uint8_t addrs[8] = { 127, 0, 0, 1, 127, 0, 0, 2 };

	f->b[f->len++] = 0x45;
	f->b[f->len++] = 0;
	put16(f, (uint16_t)(20 + 52 + payload));
	put16(f, 1);
	put16(f, frag);
	f->b[f->len++] = 64;
	f->b[f->len++] = 6;
	put16(f, 0);
	put(f, addrs, sizeof(addrs));
	put_tcp(f, payload);
}

static void put_ipv6(struct frame *f, uint16_t payload, bool ext_headers, uint16_t frag)
{
	uint8_t addr[16] = { 0 };

	f->b[f->len++] = 0x60;
	f->b[f->len++] = 0;
	put16(f, 0);
	put16(f, (uint16_t)(52 + payload + (ext_headers ? 16 : 0)));
	f->b[f->len++] = ext_headers ? 0 : 6; /* hop-by-hop first */
	f->b[f->len++] = 64;
	addr[15] = 1;
	put(f, addr, 16);
	addr[15] = 2;
	put(f, addr, 16);
	if (ext_headers) {
		static const uint8_t hbh[8] = { 44, 0, 1, 4, 0, 0, 0, 0 }; /* next: fragment */

		put(f, hbh, sizeof(hbh));
		f->b[f->len++] = 6;
		f->b[f->len++] = 0;
		put16(f, frag);
		put32(f, 0x1234);
	}
	put_tcp(f, payload);
}

static void ether(struct frame *f, uint16_t type)
{
	memset(f, 0, sizeof(*f));
	f->len = 12;
	put16(f, type);
}

static void check_decoded(const struct packet_tcp *t, uint16_t payload)
{
	assert_int_equal(t->src_port, 40000);
	assert_int_equal(t->dst_port, 1060);
	assert_int_equal(t->seq, 1000);
	assert_int_equal(t->ack, 2000);
	assert_int_equal(t->window, 512);
	assert_int_equal(t->flags, PACKET_TCP_ACK | PACKET_TCP_PSH);
	assert_int_equal(t->payload_bytes, payload);
	assert_true(t->has_mss);
	assert_int_equal(t->mss, 1460);
	assert_true(t->sack_permitted);
	assert_true(t->has_timestamps);
	assert_int_equal(t->ts_val, 7);
	assert_int_equal(t->ts_ecr, 9);
	assert_true(t->has_wscale);
	assert_int_equal(t->wscale, 7);
	assert_int_equal(t->sack_count, 1);
	assert_int_equal(t->sack_left[0], 0x1000);
	assert_int_equal(t->sack_right[0], 0x2000);
	assert_false(t->options_malformed);
}

static void test_ethernet_ipv4_tcp_with_all_options(void **state)
{
	struct frame f;
	struct packet_tcp t;
	char addr[64];

	(void)state;
	ether(&f, 0x0800);
	put_ipv4(&f, 10, 0);
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
	check_decoded(&t, 10);
	assert_int_equal(t.family, AF_INET);
	assert_false(t.truncated);
	packet_addr_str(t.family, t.dst_addr, addr, sizeof(addr));
	assert_string_equal(addr, "127.0.0.2");
}

static void test_ethernet_padding_does_not_count_as_payload(void **state)
{
	struct frame f;
	struct packet_tcp t;

	(void)state;
	ether(&f, 0x0800);
	put_ipv4(&f, 0, 0);
	f.len += 6; /* Ethernet trailer/padding after the IP packet */
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
	assert_int_equal(t.payload_bytes, 0);
}

static void test_vlan_tags_stacked(void **state)
{
	struct frame f;
	struct packet_tcp t;

	(void)state;
	ether(&f, 0x88a8);
	put16(&f, 5);
	put16(&f, 0x8100);
	put16(&f, 42);
	put16(&f, 0x0800);
	put_ipv4(&f, 3, 0);
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
	check_decoded(&t, 3);
}

static void test_every_cut_before_tcp_header_end_is_malformed(void **state)
{
	struct frame f;
	struct packet_tcp t;
	size_t header_end = 14 + 20 + 52;

	(void)state;
	ether(&f, 0x0800);
	put_ipv4(&f, 100, 0);
	for (size_t cut = 0; cut < header_end; cut++)
		assert_int_equal(packet_decode(DLT_EN10MB, f.b, cut, f.len, &t, NULL),
				 PACKET_KIND_MALFORMED);
	/* headers complete: TCP, payload length from the IP header */
	for (size_t cut = header_end; cut < f.len; cut++) {
		assert_int_equal(packet_decode(DLT_EN10MB, f.b, cut, f.len, &t, NULL),
				 PACKET_KIND_TCP);
		assert_true(t.truncated);
		assert_int_equal(t.payload_bytes, 100);
		assert_int_equal(t.captured_payload_bytes, cut - header_end);
	}
}

static void test_corrupt_lengths_are_malformed(void **state)
{
	struct frame f, g;
	struct packet_tcp t;
	const char *why;

	(void)state;
	ether(&f, 0x0800);
	put_ipv4(&f, 10, 0);
	g = f;
	g.b[14] = 0x44; /* IHL 4 */
	assert_int_equal(packet_decode(DLT_EN10MB, g.b, g.len, g.len, &t, &why),
			 PACKET_KIND_MALFORMED);
	g = f;
	g.b[16] = 0x7f; /* total length far beyond the frame: what is there counts */
	assert_int_equal(packet_decode(DLT_EN10MB, g.b, g.len, g.len, &t, &why), PACKET_KIND_TCP);
	assert_int_equal(t.payload_bytes, 10);
	assert_false(t.truncated);
	g = f;
	g.b[14 + 20 + 12] = 0x40; /* TCP data offset 4 */
	assert_int_equal(packet_decode(DLT_EN10MB, g.b, g.len, g.len, &t, &why),
			 PACKET_KIND_MALFORMED);
	assert_string_equal(why, "TCP data offset below 5");
	g = f;
	g.b[14 + 20 + 12] = 0xf0; /* 60-byte TCP header > 52 + 10 bytes? no: > IP payload */
	g.b[17] = 20 + 55;        /* IP total: TCP length 55 < 60 */
	assert_int_equal(packet_decode(DLT_EN10MB, g.b, g.len, g.len, &t, &why),
			 PACKET_KIND_MALFORMED);
}

static void test_bad_option_length_stops_option_parsing(void **state)
{
	struct frame f;
	struct packet_tcp t;

	(void)state;
	ether(&f, 0x0800);
	put_ipv4(&f, 0, 0);
	f.b[14 + 20 + 20 + 1] = 60; /* MSS option claims 60 bytes */
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
	assert_true(t.options_malformed);
	assert_false(t.has_mss);
}

static void test_ipv4_fragments(void **state)
{
	struct frame f;
	struct packet_tcp t;

	(void)state;
	ether(&f, 0x0800);
	put_ipv4(&f, 10, 0x2000); /* MF, offset 0: the first fragment holds TCP */
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
	ether(&f, 0x0800);
	put_ipv4(&f, 10, 0x0010);
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_OTHER);
}

static void test_ipv6_extension_headers_and_fragments(void **state)
{
	struct frame f;
	struct packet_tcp t;
	char addr[64];

	(void)state;
	ether(&f, 0x86dd);
	put_ipv6(&f, 5, true, 1); /* offset 0, M set */
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
	check_decoded(&t, 5);
	assert_int_equal(t.family, AF_INET6);
	packet_addr_str(t.family, t.src_addr, addr, sizeof(addr));
	assert_string_equal(addr, "::1");
	ether(&f, 0x86dd);
	put_ipv6(&f, 5, true, 0x0100);
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_OTHER);
	ether(&f, 0x86dd);
	put_ipv6(&f, 5, true, 1);
	for (size_t cut = 0; cut < 14 + 40 + 16 + 52; cut++)
		assert_int_equal(packet_decode(DLT_EN10MB, f.b, cut, f.len, &t, NULL),
				 PACKET_KIND_MALFORMED);
}

static void test_link_types(void **state)
{
	struct frame ip4, ip6, f;
	struct packet_tcp t;
	static const uint32_t af6[] = { 24, 28, 30 };

	(void)state;
	memset(&ip4, 0, sizeof(ip4));
	put_ipv4(&ip4, 7, 0);
	memset(&ip6, 0, sizeof(ip6));
	put_ipv6(&ip6, 7, false, 0);

	/* raw IP: the version nibble decides */
	const int raw[] = { DLT_RAW, 101, 14 };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(packet_decode(raw[i], ip4.b, ip4.len, ip4.len, &t, NULL),
				 PACKET_KIND_TCP);
		assert_int_equal(t.family, AF_INET);
		assert_int_equal(packet_decode(raw[i], ip6.b, ip6.len, ip6.len, &t, NULL),
				 PACKET_KIND_TCP);
		assert_int_equal(t.family, AF_INET6);
	}
	assert_int_equal(packet_decode(DLT_IPV4, ip4.b, ip4.len, ip4.len, &t, NULL),
			 PACKET_KIND_TCP);
	assert_int_equal(packet_decode(DLT_IPV6, ip6.b, ip6.len, ip6.len, &t, NULL),
			 PACKET_KIND_TCP);
	assert_int_equal(packet_decode(DLT_IPV4, ip6.b, ip6.len, ip6.len, &t, NULL),
			 PACKET_KIND_MALFORMED);

	/* Linux cooked captures */
	memset(&f, 0, sizeof(f));
	f.len = 14;
	put16(&f, 0x0800);
	put(&f, ip4.b, ip4.len);
	assert_int_equal(packet_decode(DLT_LINUX_SLL, f.b, f.len, f.len, &t, NULL),
			 PACKET_KIND_TCP);
	check_decoded(&t, 7);
	memset(&f, 0, sizeof(f));
	put16(&f, 0x86dd);
	f.len = 20;
	put(&f, ip6.b, ip6.len);
	assert_int_equal(packet_decode(DLT_LINUX_SLL2, f.b, f.len, f.len, &t, NULL),
			 PACKET_KIND_TCP);
	check_decoded(&t, 7);

	/* BSD loopback: host order (little endian here) and network order */
	memset(&f, 0, sizeof(f));
	f.b[0] = 2;
	f.len = 4;
	put(&f, ip4.b, ip4.len);
	assert_int_equal(packet_decode(DLT_NULL, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
	for (size_t i = 0; i < 3; i++) {
		memset(&f, 0, sizeof(f));
		put32(&f, af6[i]);
		put(&f, ip6.b, ip6.len);
		assert_int_equal(packet_decode(108, f.b, f.len, f.len, &t, NULL), PACKET_KIND_TCP);
		assert_int_equal(t.family, AF_INET6);
		f.b[0] = (uint8_t)af6[i];
		f.b[3] = 0;
		assert_int_equal(packet_decode(DLT_NULL, f.b, f.len, f.len, &t, NULL),
				 PACKET_KIND_TCP);
	}
	assert_false(packet_linktype_supported(DLT_IEEE802_11));
	assert_int_equal(packet_decode(DLT_IEEE802_11, f.b, f.len, f.len, &t, NULL),
			 PACKET_KIND_OTHER);
}

static void test_not_tcp_is_other(void **state)
{
	struct frame f;
	struct packet_tcp t;

	(void)state;
	ether(&f, 0x0806); /* ARP */
	f.len += 28;
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_OTHER);
	ether(&f, 0x0800);
	put_ipv4(&f, 0, 0);
	f.b[14 + 9] = 17; /* UDP */
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL), PACKET_KIND_OTHER);
	assert_int_equal(packet_decode(DLT_EN10MB, NULL, 0, 0, &t, NULL), PACKET_KIND_MALFORMED);
}

/* An outer IPv4 header (10.0.0.1 -> 10.0.0.2) for `inner_len` bytes of `proto`. */
static void put_outer_ipv4(struct frame *f, uint8_t proto, size_t inner_len)
{
	static const uint8_t addrs[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };

	f->b[f->len++] = 0x45;
	f->b[f->len++] = 0;
	put16(f, (uint16_t)(20 + inner_len));
	put16(f, 1);
	put16(f, 0);
	f->b[f->len++] = 64;
	f->b[f->len++] = proto;
	put16(f, 0);
	put(f, addrs, sizeof(addrs));
}

static void put_udp(struct frame *f, uint16_t dst_port, size_t payload)
{
	put16(f, 50000);
	put16(f, dst_port);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0);
}

/* Inner Ethernet + IPv4 + TCP with 10 bytes of payload: 96 bytes. */
#define INNER_ETHER_LEN (14 + 20 + 52 + 10)
static void put_inner_ether(struct frame *f)
{
	memset(f->b + f->len, 0, 12);
	f->len += 12;
	put16(f, 0x0800);
	put_ipv4(f, 10, 0);
}

static void check_tunnelled(const struct frame *f, uint32_t tunnels)
{
	struct packet_tcp t;
	const char *why;

	assert_int_equal(packet_decode(DLT_EN10MB, f->b, f->len, f->len, &t, &why),
			 PACKET_KIND_TCP);
	check_decoded(&t, 10);
	assert_int_equal(t.tunnels, tunnels);
	assert_int_equal(t.family, AF_INET);
	assert_int_equal(t.src_addr[0], 127); /* the inner addresses */
	/* every cut before the inner TCP header ends is malformed, never TCP */
	for (size_t cut = 0; cut < f->len - 10; cut++)
		assert_int_equal(packet_decode(DLT_EN10MB, f->b, cut, f->len, &t, NULL),
				 PACKET_KIND_MALFORMED);
}

static void test_vxlan_geneve_gre_and_ip_in_ip_are_opened(void **state)
{
	struct frame f;

	(void)state;
	ether(&f, 0x0800); /* VXLAN: 8 bytes, I flag, VNI 42, then Ethernet */
	put_outer_ipv4(&f, 17, 8 + 8 + INNER_ETHER_LEN);
	put_udp(&f, 4789, 8 + INNER_ETHER_LEN);
	put32(&f, 0x08000000);
	put32(&f, 42 << 8);
	put_inner_ether(&f);
	check_tunnelled(&f, PACKET_TUNNEL_VXLAN);

	ether(&f, 0x0800); /* Geneve with a 4-byte option, carrying IPv4 */
	put_outer_ipv4(&f, 17, 8 + 12 + INNER_ETHER_LEN - 14);
	put_udp(&f, 6081, 12 + INNER_ETHER_LEN - 14);
	put16(&f, 0x0100); /* version 0, option length 1 (4 bytes) */
	put16(&f, 0x0800);
	put32(&f, 42 << 8);
	put32(&f, 0x01020300);
	put_ipv4(&f, 10, 0);
	check_tunnelled(&f, PACKET_TUNNEL_GENEVE);

	ether(&f, 0x0800); /* GRE with checksum and key, transparent bridging */
	put_outer_ipv4(&f, 47, 12 + INNER_ETHER_LEN);
	put16(&f, 0xa000);
	put16(&f, 0x6558);
	put32(&f, 0);
	put32(&f, 7);
	put_inner_ether(&f);
	check_tunnelled(&f, PACKET_TUNNEL_GRE);

	ether(&f, 0x0800); /* IPv4 in IPv4 */
	put_outer_ipv4(&f, 4, INNER_ETHER_LEN - 14);
	put_ipv4(&f, 10, 0);
	check_tunnelled(&f, PACKET_TUNNEL_IPIP);
}

static void test_tunnels_not_opened_are_told_apart(void **state)
{
	struct frame f;
	struct packet_tcp t;
	char names[64];

	(void)state;
	ether(&f, 0x0800); /* GTP-U */
	put_outer_ipv4(&f, 17, 8 + 8 + INNER_ETHER_LEN - 14);
	put_udp(&f, 2152, 8 + INNER_ETHER_LEN - 14);
	put32(&f, 0x30ff0000);
	put32(&f, 1);
	put_ipv4(&f, 10, 0);
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL),
			 PACKET_KIND_TUNNEL);
	assert_int_equal(t.tunnels, PACKET_TUNNEL_GTP_U);

	ether(&f, 0x0800); /* GRE version 1 (PPTP) */
	put_outer_ipv4(&f, 47, 8);
	put16(&f, 0x3001);
	put16(&f, 0x880b);
	put32(&f, 0);
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, f.len, &t, NULL),
			 PACKET_KIND_TUNNEL);
	assert_int_equal(t.tunnels, PACKET_TUNNEL_GRE_OTHER);
	packet_tunnel_names(PACKET_TUNNEL_GRE_OTHER | PACKET_TUNNEL_GTP_U | PACKET_TUNNEL_VXLAN,
			    names, sizeof(names));
	assert_string_equal(names, "VXLAN, GRE, GTP-U");
}

/* BIG TCP: segments beyond 64 KiB leave IPv4 total length 0; the frame's
 * length is the packet's, however long. */
static void test_ipv4_total_length_zero_uses_the_frame(void **state)
{
	struct frame f;
	struct packet_tcp t;

	(void)state;
	ether(&f, 0x0800);
	put_ipv4(&f, 10, 0);
	f.b[16] = f.b[17] = 0;
	assert_int_equal(packet_decode(DLT_EN10MB, f.b, f.len, 14 + 20 + 52 + 80000, &t, NULL),
			 PACKET_KIND_TCP);
	assert_int_equal(t.payload_bytes, 80000);
	assert_int_equal(t.captured_payload_bytes, 10);
	assert_true(t.truncated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4_tcp_with_all_options),
		cmocka_unit_test(test_ethernet_padding_does_not_count_as_payload),
		cmocka_unit_test(test_vlan_tags_stacked),
		cmocka_unit_test(test_every_cut_before_tcp_header_end_is_malformed),
		cmocka_unit_test(test_corrupt_lengths_are_malformed),
		cmocka_unit_test(test_bad_option_length_stops_option_parsing),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv6_extension_headers_and_fragments),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_not_tcp_is_other),
		cmocka_unit_test(test_vxlan_geneve_gre_and_ip_in_ip_are_opened),
		cmocka_unit_test(test_tunnels_not_opened_are_told_apart),
		cmocka_unit_test(test_ipv4_total_length_zero_uses_the_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
