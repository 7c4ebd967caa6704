/* wire_gso_test: an offloaded TCP burst cut into the segments it is on the wire, and
 * checksums left to the device filled in; every checksum is checked against one
 * computed the long way (16-bit big-endian words, RFC 1071's definition). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lab/wire/wire_gso.h"

/* RFC 1071 by its definition: the one's complement of the one's complement sum of
 * the 16-bit big-endian words (a last odd byte padded with zero). */
static uint16_t long_way(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	uint32_t sum = 0;
	uint8_t buf[70000];
	size_t len = a_len + b_len;

	memcpy(buf, a, a_len);
	memcpy(buf + a_len, b, b_len);
	if (len & 1)
		buf[len++] = 0;
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The TCP checksum of a segment the long way: pseudo-header, then the TCP header
 * with its checksum field zero, then the payload. */
static uint16_t tcp_check(const uint8_t *ip, uint32_t ip_len, const uint8_t *tcp, uint32_t tcp_len,
			  const uint8_t *payload, uint32_t payload_len)
{
	uint8_t head[12 + 60];

	memcpy(head, ip + 12, 8);
	head[8] = 0;
	head[9] = 6;
	put16(head + 10, (uint16_t)(tcp_len + payload_len));
	memcpy(head + 12, tcp, tcp_len);
	memset(head + 12 + 16, 0, 2);
	(void)ip_len;
	return long_way(head, 12 + tcp_len, payload, payload_len);
}

/* A header whose checksum is known (0xb861): the field zeroed, the sum must give it. */
static void test_csum_known_header(void **state)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t field = wire_csum_fold(wire_csum_add(0, h, sizeof(h)));

	(void)state;
	memcpy(h + 10, &field, 2);
	assert_int_equal(be16(h + 10), 0xb861);
	/* With the checksum in place, the sum of the header checks out as zero. */
	assert_int_equal(wire_csum_fold(wire_csum_add(0, h, sizeof(h))), 0);
}

/* Odd lengths and sums split in pieces give what the long way gives. */
static void test_csum_odd_and_pieces(void **state)
{
	uint8_t data[1001];
	uint16_t field;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	field = wire_csum_fold(wire_csum_add(wire_csum_add(0, data, 600), data + 600, 401));
	assert_int_equal(be16((const uint8_t *)&field), long_way(data, 600, data + 600, 401));
}

enum { IP_LEN = 20, TCP_LEN = 32, PAYLOAD = 3000, MSS = 1448 };

/* A TSO burst as the kernel hands it over: 127.0.0.2:40000 -> 127.0.0.1:5000, seq
 * 1000, IP id 7, flags FLAGS, timestamps option, PAYLOAD bytes. */
static uint32_t tso_burst(uint8_t *pkt, uint8_t flags, struct wire_vnet *v)
{
	uint32_t len = IP_LEN + TCP_LEN + PAYLOAD;
	uint8_t *tcp = pkt + IP_LEN;

	memset(pkt, 0, IP_LEN + TCP_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, 0); /* the kernel may leave it for the device */
	put16(pkt + 4, 7);
	pkt[6] = 0x40;
	pkt[8] = 64;
	pkt[9] = 6;
	memcpy(pkt + 12, (uint8_t[]){ 127, 0, 0, 2, 127, 0, 0, 1 }, 8);
	put16(tcp, 40000);
	put16(tcp + 2, 5000);
	memcpy(tcp + 4, (uint8_t[]){ 0, 0, 0x03, 0xe8 }, 4);
	memcpy(tcp + 8, (uint8_t[]){ 0, 0, 0, 1 }, 4);
	tcp[12] = (TCP_LEN / 4) << 4;
	tcp[13] = flags;
	put16(tcp + 14, 512);
	put16(tcp + 16, 0x1234); /* whatever the kernel left: recomputed */
	memcpy(tcp + 20, (uint8_t[]){ 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8 }, 12);
	for (uint32_t i = 0; i < PAYLOAD; i++)
		pkt[IP_LEN + TCP_LEN + i] = (uint8_t)(i * 7 + 3);
	memset(v, 0, sizeof(*v));
	v->flags = WIRE_VNET_NEEDS_CSUM;
	v->gso_type = WIRE_VNET_GSO_TCPV4;
	v->hdr_len = IP_LEN + TCP_LEN;
	v->gso_size = MSS;
	v->csum_start = IP_LEN;
	v->csum_offset = 16;
	return len;
}

static void test_tso_segments(void **state)
{
	static uint8_t pkt[IP_LEN + TCP_LEN + PAYLOAD];
	/* ACK|PSH|FIN|CWR */
	uint32_t len;
	struct wire_vnet v;
	struct wire_gso_seg seg;
	uint32_t expect_len[3] = { MSS, MSS, PAYLOAD - 2 * MSS };
	uint8_t expect_flags[3] = { 0x10 | 0x80, 0x10, 0x10 | 0x08 | 0x01 };

	(void)state;
	len = tso_burst(pkt, 0x10 | 0x08 | 0x01 | 0x80, &v);
	assert_int_equal(wire_gso_count(&v, pkt, len), 3);
	assert_int_equal(wire_gso_max_segment(&v, pkt, len), IP_LEN + TCP_LEN + MSS);
	for (uint32_t i = 0; i < 3; i++) {
		const uint8_t *ip = seg.headers, *tcp = seg.headers + IP_LEN;

		assert_true(wire_gso_segment(&v, pkt, len, i, &seg));
		assert_int_equal(seg.header_len, IP_LEN + TCP_LEN);
		assert_int_equal(seg.payload_len, expect_len[i]);
		assert_int_equal(seg.payload_off, IP_LEN + TCP_LEN + i * MSS);
		assert_int_equal(be16(ip + 2), IP_LEN + TCP_LEN + expect_len[i]);
		assert_int_equal(be16(ip + 4), 7 + i);
		assert_int_equal(be32(tcp + 4), 1000 + i * MSS);
		assert_int_equal(tcp[13], expect_flags[i]);
		/* The options ride on every segment unchanged. */
		assert_memory_equal(tcp + 20, pkt + IP_LEN + 20, 12);
		{
			uint8_t zeroed[IP_LEN];

			memcpy(zeroed, ip, IP_LEN);
			memset(zeroed + 10, 0, 2);
			assert_int_equal(be16(ip + 10), long_way(zeroed, IP_LEN, zeroed, 0));
		}
		assert_int_equal(be16(tcp + 16), tcp_check(ip, IP_LEN, tcp, TCP_LEN,
							   pkt + seg.payload_off, seg.payload_len));
	}
	assert_false(wire_gso_segment(&v, pkt, len, 3, &seg));
}

/* A burst of exactly one segment is one segment, with its checksum filled in. */
static void test_tso_single_segment(void **state)
{
	static uint8_t pkt[IP_LEN + TCP_LEN + PAYLOAD];
	struct wire_vnet v;
	struct wire_gso_seg seg;
	uint32_t len;

	(void)state;
	len = tso_burst(pkt, 0x18, &v);
	v.gso_size = PAYLOAD;
	assert_int_equal(wire_gso_count(&v, pkt, len), 1);
	assert_true(wire_gso_segment(&v, pkt, len, 0, &seg));
	assert_int_equal(seg.payload_len, PAYLOAD);
	assert_int_equal(seg.headers[IP_LEN + 13], 0x18);
	assert_int_equal(be16(seg.headers + IP_LEN + 16),
			 tcp_check(seg.headers, IP_LEN, seg.headers + IP_LEN, TCP_LEN,
				   pkt + seg.payload_off, PAYLOAD));
}

/* What is not a TSO burst of IPv4 TCP is not cut. */
static void test_tso_refused(void **state)
{
	static uint8_t pkt[IP_LEN + TCP_LEN + PAYLOAD];
	struct wire_vnet v;
	struct wire_gso_seg seg;
	uint32_t len;

	(void)state;
	len = tso_burst(pkt, 0x10, &v);
	v.gso_size = 0;
	assert_int_equal(wire_gso_count(&v, pkt, len), 0);
	v.gso_size = MSS;
	pkt[9] = 17; /* UDP */
	assert_int_equal(wire_gso_count(&v, pkt, len), 0);
	assert_false(wire_gso_segment(&v, pkt, len, 0, &seg));
	pkt[9] = 6;
	pkt[0] = 0x60; /* IPv6 */
	assert_int_equal(wire_gso_count(&v, pkt, len), 0);
	pkt[0] = 0x45;
	assert_int_equal(wire_gso_count(&v, pkt, 30), 0); /* shorter than its headers */
	v.gso_type = WIRE_VNET_GSO_NONE;
	assert_int_equal(wire_gso_count(&v, pkt, len), 1);
	assert_int_equal(wire_gso_max_segment(&v, pkt, len), len);
}

/* A UDP datagram whose checksum was left to the device: the field holds the
 * pseudo-header's sum, and finishing gives the datagram's real checksum. */
static void test_finish_csum_udp(void **state)
{
	uint8_t pkt[20 + 8 + 13], out[sizeof(pkt)], pseudo[12];
	struct wire_vnet v = { .flags = WIRE_VNET_NEEDS_CSUM,
			       .gso_type = WIRE_VNET_GSO_NONE,
			       .csum_start = 20,
			       .csum_offset = 6 };
	uint32_t sum = 0;

	(void)state;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	put16(pkt + 2, sizeof(pkt));
	pkt[9] = 17;
	memcpy(pkt + 12, (uint8_t[]){ 127, 0, 0, 2, 127, 0, 0, 1 }, 8);
	put16(pkt + 20, 1234);
	put16(pkt + 22, 53);
	put16(pkt + 24, 8 + 13);
	memcpy(pkt + 28, "hello, world!", 13);
	memcpy(pseudo, pkt + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	put16(pseudo + 10, 8 + 13);
	/* The device's starting point: the pseudo-header's folded sum, not inverted. */
	for (int i = 0; i < 12; i += 2)
		sum += be16(pseudo + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(pkt + 26, (uint16_t)sum);
	assert_true(wire_gso_finish_csum(&v, pkt, sizeof(pkt), out));
	{
		uint8_t zeroed[8 + 13];

		memcpy(zeroed, pkt + 20, sizeof(zeroed));
		memset(zeroed + 6, 0, 2);
		assert_int_equal(be16(out + 26), long_way(pseudo, 12, zeroed, sizeof(zeroed)));
	}
	assert_memory_equal(out, pkt, 26); /* only the checksum changes */
	v.csum_offset = 40;                /* beyond the packet: a plain copy */
	assert_false(wire_gso_finish_csum(&v, pkt, sizeof(pkt), out));
	assert_memory_equal(out, pkt, sizeof(pkt));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_known_header),
		cmocka_unit_test(test_csum_odd_and_pieces),
		cmocka_unit_test(test_tso_segments),
		cmocka_unit_test(test_tso_single_segment),
		cmocka_unit_test(test_tso_refused),
		cmocka_unit_test(test_finish_csum_udp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
