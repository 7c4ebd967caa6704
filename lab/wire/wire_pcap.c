/* wire_pcap: the relay's capture files (see wire_pcap.h). */
#include "lab/wire/wire_pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The largest packet an offloading device hands over: IPv4's limit. */
#define WIRE_PCAP_MAX_PACKET 65535u

/* One write system call per 4 MiB of packets at full speed. */
#define WIRE_PCAP_BUFFER_BYTES (4u << 20)

/* Connections whose payload is counted; past that many at once, a new one's
 * packets are kept whole (more kept, never less). */
#define WIRE_PCAP_FLOWS 1024u

/* One direction of a TCP connection: addresses and ports as in the IPv4 and TCP
 * headers, and the payload bytes written whole so far. */
struct wire_pcap_flow {
	uint8_t key[12];
	bool used;
	uint64_t payload_bytes;
};

struct wire_pcap {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	char *buffer;
	uint8_t *scratch; /* a packet with its checksum filled in */
	char path[512];
	uint32_t snaplen;
	uint64_t payload_budget_bytes;
	uint64_t packets;
	uint64_t headers_only;
	struct wire_pcap_flow flows[WIRE_PCAP_FLOWS];
};

struct wire_pcap *wire_pcap_open(const char *path, uint32_t snaplen, uint64_t payload_budget_bytes,
				 struct lab_err *err)
{
	struct wire_pcap *pc = calloc(1, sizeof(*pc));
	FILE *f = NULL;

	if (pc == NULL) {
		lab_err_set(err, "wire: out of memory for a capture");
		return NULL;
	}
	snprintf(pc->path, sizeof(pc->path), "%s", path);
	pc->snaplen = snaplen;
	pc->payload_budget_bytes = payload_budget_bytes;
	pc->buffer = malloc(WIRE_PCAP_BUFFER_BYTES);
	pc->scratch = malloc(WIRE_PCAP_MAX_PACKET);
	pc->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, (int)snaplen,
							PCAP_TSTAMP_PRECISION_NANO);
	if (pc->buffer == NULL || pc->scratch == NULL || pc->dead == NULL) {
		lab_err_set(err, "wire: out of memory for the capture %s", path);
		goto fail;
	}
	f = fopen(path, "wbe");
	if (f == NULL) {
		lab_err_sys(err, errno, "wire: cannot create the capture %s", path);
		goto fail;
	}
	setvbuf(f, pc->buffer, _IOFBF, WIRE_PCAP_BUFFER_BYTES);
	pc->dumper = pcap_dump_fopen(pc->dead, f);
	if (pc->dumper == NULL) {
		lab_err_set(err, "wire: cannot start the capture %s: %s", path,
			    pcap_geterr(pc->dead));
		fclose(f);
		goto fail;
	}
	return pc;
fail:
	if (pc->dead)
		pcap_close(pc->dead);
	free(pc->buffer);
	free(pc->scratch);
	free(pc);
	return NULL;
}

static struct wire_pcap_flow *flow_of(struct wire_pcap *pc, const uint8_t *ip, uint32_t ip_len)
{
	uint8_t key[12];
	uint32_t h = 2166136261u;

	memcpy(key, ip + 12, 8);
	memcpy(key + 8, ip + ip_len, 4);
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	for (uint32_t probe = 0; probe < WIRE_PCAP_FLOWS; probe++) {
		struct wire_pcap_flow *f = &pc->flows[(h + probe) % WIRE_PCAP_FLOWS];

		if (!f->used) {
			f->used = true;
			memcpy(f->key, key, sizeof(key));
			return f;
		}
		if (memcmp(f->key, key, sizeof(key)) == 0)
			return f;
	}
	return NULL;
}

/* The bytes of a packet to write: all of them (up to the snaplen) while its
 * direction's budget lasts, else its IPv4 and TCP headers. HEADERS is the packet's
 * start (at least its IP and TCP headers), LEN its whole length. */
static uint32_t kept_len(struct wire_pcap *pc, const uint8_t *headers, uint32_t avail, uint32_t len)
{
	uint32_t ip_len, tcp_len, total, payload;
	struct wire_pcap_flow *f;

	if (pc->payload_budget_bytes == UINT64_MAX || avail < 40 || (headers[0] >> 4) != 4 ||
	    headers[9] != 6)
		return len;
	ip_len = (headers[0] & 0x0fu) * 4u;
	if (ip_len < 20 || ip_len + 20 > avail)
		return len;
	tcp_len = (headers[ip_len + 12] >> 4) * 4u;
	total = ((uint32_t)headers[2] << 8) | headers[3];
	if (total > len)
		total = len;
	if (tcp_len < 20 || ip_len + tcp_len > total)
		return len;
	payload = total - ip_len - tcp_len;
	if (payload == 0 || (f = flow_of(pc, headers, ip_len)) == NULL)
		return len;
	if (f->payload_bytes < pc->payload_budget_bytes) {
		f->payload_bytes += payload;
		return len;
	}
	pc->headers_only++;
	return ip_len + tcp_len;
}

void wire_pcap_write(struct wire_pcap *pc, uint64_t realtime_ns, const uint8_t *pkt, uint32_t len)
{
	struct pcap_pkthdr hdr;
	uint32_t keep = kept_len(pc, pkt, len, len);

	hdr.ts.tv_sec = (time_t)(realtime_ns / 1000000000ULL);
	/* A nanosecond capture: tv_usec holds nanoseconds. */
	hdr.ts.tv_usec = (suseconds_t)(realtime_ns % 1000000000ULL);
	hdr.len = len;
	hdr.caplen = keep < pc->snaplen ? keep : pc->snaplen;
	pcap_dump((u_char *)pc->dumper, &hdr, pkt);
	pc->packets++;
}

/* A record of a segment whose headers and payload lie apart. The record header is
 * the savefile's own (two 32-bit time fields, caplen, len, in host order), which
 * pcap_dump writes the same way to the same FILE. */
static void write_split(struct wire_pcap *pc, uint64_t realtime_ns, const uint8_t *head,
			uint32_t head_len, const uint8_t *body, uint32_t body_len)
{
	FILE *f = pcap_dump_file(pc->dumper);
	uint32_t len = head_len + body_len;
	uint32_t caplen = kept_len(pc, head, head_len, len);
	uint32_t rec[4];

	if (caplen > pc->snaplen)
		caplen = pc->snaplen;
	rec[0] = (uint32_t)(realtime_ns / 1000000000ULL);
	rec[1] = (uint32_t)(realtime_ns % 1000000000ULL);
	rec[2] = caplen;
	rec[3] = len;
	fwrite(rec, sizeof(rec), 1, f);
	if (caplen <= head_len) {
		fwrite(head, caplen, 1, f);
	} else {
		fwrite(head, head_len, 1, f);
		fwrite(body, caplen - head_len, 1, f);
	}
	pc->packets++;
}

uint32_t wire_pcap_write_vnet(struct wire_pcap *pc, uint64_t realtime_ns, const struct wire_vnet *v,
			      const uint8_t *pkt, uint32_t len)
{
	uint32_t n = v->gso_type == WIRE_VNET_GSO_NONE ? 1 : wire_gso_count(v, pkt, len);
	struct wire_gso_seg seg;

	if (v->gso_type != WIRE_VNET_GSO_NONE && n > 0) {
		for (uint32_t i = 0; i < n; i++) {
			if (!wire_gso_segment(v, pkt, len, i, &seg))
				break;
			write_split(pc, realtime_ns, seg.headers, seg.header_len,
				    pkt + seg.payload_off, seg.payload_len);
		}
		return n;
	}
	if ((v->flags & WIRE_VNET_NEEDS_CSUM) && len <= WIRE_PCAP_MAX_PACKET) {
		wire_gso_finish_csum(v, pkt, len, pc->scratch);
		wire_pcap_write(pc, realtime_ns, pc->scratch, len);
		return 1;
	}
	wire_pcap_write(pc, realtime_ns, pkt, len);
	return 1;
}

uint64_t wire_pcap_packets(const struct wire_pcap *pc)
{
	return pc->packets;
}

uint64_t wire_pcap_headers_only(const struct wire_pcap *pc)
{
	return pc->headers_only;
}

int wire_pcap_close(struct wire_pcap *pc, struct lab_err *err)
{
	FILE *f;
	int rc = 0;

	if (pc == NULL)
		return 0;
	f = pcap_dump_file(pc->dumper);
	if (fflush(f) != 0 || ferror(f))
		rc = lab_err_sys(err, errno, "wire: writing the capture %s failed", pc->path);
	pcap_dump_close(pc->dumper); /* closes f */
	pcap_close(pc->dead);
	free(pc->buffer);
	free(pc->scratch);
	free(pc);
	return rc;
}
