/* wire_gso: an offloaded packet's segments on the wire (see wire_gso.h). */
#include "lab/wire/wire_gso.h"

#include <arpa/inet.h>
#include <string.h>

#define IP_PROTO_TCP 6u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

/* The sum is kept over words in host order: the one's complement sum does not
 * depend on the order of the bytes in a word as long as every word is read and the
 * result stored the same way (RFC 1071, "byte order independence"). */
uint64_t wire_csum_add(uint64_t sum, const uint8_t *data, size_t len)
{
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, data, 4);
		sum += w;
		data += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, data, 2);
		sum += w;
		data += 2;
		len -= 2;
	}
	if (len == 1) {
		uint16_t w = 0;

		/* A last odd byte counts as the high byte of a word padded with zero. */
		memcpy(&w, data, 1);
		sum += w;
	}
	return sum;
}

uint16_t wire_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

struct tso_shape {
	uint32_t ip_len;  /* IPv4 header bytes */
	uint32_t tcp_len; /* TCP header bytes */
	uint32_t payload; /* payload bytes of the whole packet */
	uint32_t count;   /* segments */
};

static bool tso_shape(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len,
		      struct tso_shape *s)
{
	if (v->gso_type != WIRE_VNET_GSO_TCPV4 || v->gso_size == 0 || len < 40)
		return false;
	if ((pkt[0] >> 4) != 4 || pkt[9] != IP_PROTO_TCP)
		return false;
	s->ip_len = (pkt[0] & 0x0fu) * 4u;
	if (s->ip_len < 20 || s->ip_len + 20 > len)
		return false;
	s->tcp_len = (pkt[s->ip_len + 12] >> 4) * 4u;
	if (s->tcp_len < 20 || s->ip_len + s->tcp_len > len)
		return false;
	s->payload = len - s->ip_len - s->tcp_len;
	s->count = s->payload == 0 ? 1 : (s->payload + v->gso_size - 1) / v->gso_size;
	return true;
}

uint32_t wire_gso_count(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len)
{
	struct tso_shape s;

	if (v->gso_type == WIRE_VNET_GSO_NONE)
		return 1;
	return tso_shape(v, pkt, len, &s) ? s.count : 0;
}

uint32_t wire_gso_max_segment(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len)
{
	struct tso_shape s;

	if (!tso_shape(v, pkt, len, &s) || s.count <= 1)
		return len;
	return s.ip_len + s.tcp_len + v->gso_size;
}

bool wire_gso_segment(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len, uint32_t i,
		      struct wire_gso_seg *out)
{
	struct tso_shape s;
	uint8_t *ip = out->headers, *tcp;
	uint8_t pseudo[12];
	uint32_t seq;
	uint16_t field;
	uint64_t sum;

	if (!tso_shape(v, pkt, len, &s) || i >= s.count)
		return false;
	out->header_len = s.ip_len + s.tcp_len;
	out->payload_off = out->header_len + i * v->gso_size;
	out->payload_len = len - out->payload_off;
	if (out->payload_len > v->gso_size)
		out->payload_len = v->gso_size;
	memcpy(ip, pkt, out->header_len);
	tcp = ip + s.ip_len;

	/* IPv4: this segment's length, the next id, a fresh header checksum. */
	field = htons((uint16_t)(out->header_len + out->payload_len));
	memcpy(ip + 2, &field, 2);
	memcpy(&field, pkt + 4, 2);
	field = htons((uint16_t)(ntohs(field) + i));
	memcpy(ip + 4, &field, 2);
	memset(ip + 10, 0, 2);
	field = wire_csum_fold(wire_csum_add(0, ip, s.ip_len));
	memcpy(ip + 10, &field, 2);

	/* TCP: the sequence number of this segment's first byte; CWR on the first
	 * segment only, FIN and PSH on the last only; the checksum over the
	 * pseudo-header, this header and this payload. */
	memcpy(&seq, pkt + s.ip_len + 4, 4);
	seq = htonl(ntohl(seq) + i * v->gso_size);
	memcpy(tcp + 4, &seq, 4);
	if (i > 0)
		tcp[13] &= (uint8_t)~TCP_CWR;
	if (i + 1 < s.count)
		tcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	memset(tcp + 16, 0, 2);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IP_PROTO_TCP;
	field = htons((uint16_t)(s.tcp_len + out->payload_len));
	memcpy(pseudo + 10, &field, 2);
	sum = wire_csum_add(0, pseudo, sizeof(pseudo));
	sum = wire_csum_add(sum, tcp, s.tcp_len);
	sum = wire_csum_add(sum, pkt + out->payload_off, out->payload_len);
	field = wire_csum_fold(sum);
	memcpy(tcp + 16, &field, 2);
	return true;
}

bool wire_gso_finish_csum(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len, uint8_t *out)
{
	uint32_t start = v->csum_start, at = (uint32_t)v->csum_start + v->csum_offset;
	uint16_t field;

	memcpy(out, pkt, len);
	if (!(v->flags & WIRE_VNET_NEEDS_CSUM) || at + 2 > len || start >= len ||
	    (v->csum_offset & 1))
		return false;
	/* The field holds the pseudo-header's sum; the device sums from csum_start to
	 * the end, that field included, and stores the result there. */
	field = wire_csum_fold(wire_csum_add(0, out + start, len - start));
	memcpy(out + at, &field, 2);
	return true;
}
