/* wire_pcap: the relay's capture files (see wire_pcap.h). libpcap writes the
 * file's header; the records (the savefile's 16-byte record header, then the
 * bytes kept) are appended to a buffer that a writer thread of the capture's own
 * writes to the file, so the file system's cost (page cache, block allocation)
 * is paid beside the relay, not in its loop. The relay waits only when every
 * buffer is full: then the link is as slow as the disk, and nothing is lost. */
#include "lab/wire/wire_pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The largest packet an offloading device hands over: IPv4's limit. */
#define WIRE_PCAP_MAX_PACKET 65535u

/* Buffers of records per capture, and their size: one write system call per
 * 2 MiB, and up to 8 MiB waiting for the disk before the relay waits. */
#define WIRE_PCAP_BUFFERS 4
#define WIRE_PCAP_BUFFER_BYTES (2u << 20)

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

struct wire_pcap_buf {
	struct wire_pcap_buf *next;
	size_t used;
	uint8_t *data;
};

struct wire_pcap {
	pcap_t *dead;
	pcap_dumper_t *dumper; /* its FILE holds the header only; records go to fd */
	int fd;
	uint8_t *scratch; /* a packet with its checksum filled in */
	char path[512];
	uint32_t snaplen;
	uint64_t payload_budget_bytes;
	uint64_t packets;
	uint64_t headers_only;
	struct wire_pcap_flow flows[WIRE_PCAP_FLOWS];

	/* The relay fills cur; full buffers queue for the writer, which returns
	 * them to free. All under lock except cur. */
	struct wire_pcap_buf bufs[WIRE_PCAP_BUFFERS];
	struct wire_pcap_buf *cur;
	pthread_mutex_t lock;
	pthread_cond_t queued, freed;
	struct wire_pcap_buf *queue_head, *queue_tail, *free_list;
	bool closing;
	bool writer_started;
	int write_errno; /* the first write error, 0 if none */
	pthread_t writer;
};

static void *writer_main(void *arg)
{
	struct wire_pcap *pc = arg;

	pthread_mutex_lock(&pc->lock);
	for (;;) {
		struct wire_pcap_buf *b;
		size_t off = 0;

		while (pc->queue_head == NULL && !pc->closing)
			pthread_cond_wait(&pc->queued, &pc->lock);
		b = pc->queue_head;
		if (b == NULL)
			break;
		pc->queue_head = b->next;
		if (pc->queue_head == NULL)
			pc->queue_tail = NULL;
		pthread_mutex_unlock(&pc->lock);
		while (off < b->used && pc->write_errno == 0) {
			ssize_t n = write(pc->fd, b->data + off, b->used - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				pc->write_errno = n < 0 ? errno : EIO;
				break;
			}
			off += (size_t)n;
		}
		pthread_mutex_lock(&pc->lock);
		b->used = 0;
		b->next = pc->free_list;
		pc->free_list = b;
		pthread_cond_signal(&pc->freed);
	}
	pthread_mutex_unlock(&pc->lock);
	return NULL;
}

/* Hands the current buffer to the writer and takes a free one, waiting for the
 * writer when none is free. */
/* Queues B for the writer and wakes it; pc->lock held. */
static void enqueue_locked(struct wire_pcap *pc, struct wire_pcap_buf *b)
{
	b->next = NULL;
	if (pc->queue_tail)
		pc->queue_tail->next = b;
	else
		pc->queue_head = b;
	pc->queue_tail = b;
	pthread_cond_signal(&pc->queued);
}

static void submit(struct wire_pcap *pc)
{
	pthread_mutex_lock(&pc->lock);
	enqueue_locked(pc, pc->cur);
	while (pc->free_list == NULL)
		pthread_cond_wait(&pc->freed, &pc->lock);
	pc->cur = pc->free_list;
	pc->free_list = pc->cur->next;
	pthread_mutex_unlock(&pc->lock);
}

static void append(struct wire_pcap *pc, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		size_t room = WIRE_PCAP_BUFFER_BYTES - pc->cur->used;
		size_t n = len < room ? len : room;

		memcpy(pc->cur->data + pc->cur->used, p, n);
		pc->cur->used += n;
		p += n;
		len -= n;
		if (pc->cur->used == WIRE_PCAP_BUFFER_BYTES)
			submit(pc);
	}
}

static void free_capture(struct wire_pcap *pc)
{
	for (int i = 0; i < WIRE_PCAP_BUFFERS; i++)
		free(pc->bufs[i].data);
	if (pc->dumper)
		pcap_dump_close(pc->dumper); /* closes its FILE, and so fd */
	if (pc->dead)
		pcap_close(pc->dead);
	pthread_mutex_destroy(&pc->lock);
	pthread_cond_destroy(&pc->queued);
	pthread_cond_destroy(&pc->freed);
	free(pc->scratch);
	free(pc);
}

struct wire_pcap *wire_pcap_open(const char *path, uint32_t snaplen, uint64_t payload_budget_bytes,
				 struct lab_err *err)
{
	struct wire_pcap *pc = calloc(1, sizeof(*pc));
	sigset_t all, old;
	FILE *f = NULL;
	int rc;

	if (pc == NULL) {
		lab_err_set(err, "wire: out of memory for a capture");
		return NULL;
	}
	pthread_mutex_init(&pc->lock, NULL);
	pthread_cond_init(&pc->queued, NULL);
	pthread_cond_init(&pc->freed, NULL);
	snprintf(pc->path, sizeof(pc->path), "%s", path);
	pc->snaplen = snaplen;
	pc->payload_budget_bytes = payload_budget_bytes;
	pc->scratch = malloc(WIRE_PCAP_MAX_PACKET);
	for (int i = 0; i < WIRE_PCAP_BUFFERS; i++) {
		pc->bufs[i].data = malloc(WIRE_PCAP_BUFFER_BYTES);
		if (pc->bufs[i].data == NULL)
			break;
		if (i > 0) {
			pc->bufs[i].next = pc->free_list;
			pc->free_list = &pc->bufs[i];
		}
	}
	pc->cur = &pc->bufs[0];
	pc->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, (int)snaplen,
							PCAP_TSTAMP_PRECISION_NANO);
	if (pc->scratch == NULL || pc->bufs[WIRE_PCAP_BUFFERS - 1].data == NULL ||
	    pc->dead == NULL) {
		lab_err_set(err, "wire: out of memory for the capture %s", path);
		goto fail;
	}
	f = fopen(path, "wbe");
	if (f == NULL) {
		lab_err_sys(err, errno, "wire: cannot create the capture %s", path);
		goto fail;
	}
	pc->dumper = pcap_dump_fopen(pc->dead, f);
	if (pc->dumper == NULL) {
		lab_err_set(err, "wire: cannot start the capture %s: %s", path,
			    pcap_geterr(pc->dead));
		fclose(f);
		goto fail;
	}
	/* The header goes out now; from here on the records go straight to the fd. */
	if (pcap_dump_flush(pc->dumper) != 0) {
		lab_err_sys(err, errno, "wire: cannot write the capture %s", path);
		goto fail;
	}
	pc->fd = fileno(f);
	/* The writer takes no signal: they are the caller's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&pc->writer, NULL, writer_main, pc);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		lab_err_sys(err, rc, "wire: cannot start the writer of the capture %s", path);
		goto fail;
	}
	pc->writer_started = true;
	return pc;
fail:
	free_capture(pc);
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

/* A record whose headers and payload may lie apart (a segment of a burst). The
 * record header is the savefile's (seconds, nanoseconds in a nanosecond file,
 * caplen, len: 32 bits each, host order), as pcap_dump writes it. */
static void write_split(struct wire_pcap *pc, uint64_t realtime_ns, const uint8_t *head,
			uint32_t head_len, const uint8_t *body, uint32_t body_len)
{
	uint32_t len = head_len + body_len;
	uint32_t caplen = kept_len(pc, head, head_len, len);
	uint32_t rec[4];

	if (caplen > pc->snaplen)
		caplen = pc->snaplen;
	rec[0] = (uint32_t)(realtime_ns / 1000000000ULL);
	rec[1] = (uint32_t)(realtime_ns % 1000000000ULL);
	rec[2] = caplen;
	rec[3] = len;
	append(pc, rec, sizeof(rec));
	if (caplen <= head_len) {
		append(pc, head, caplen);
	} else {
		append(pc, head, head_len);
		append(pc, body, caplen - head_len);
	}
	pc->packets++;
}

void wire_pcap_write(struct wire_pcap *pc, uint64_t realtime_ns, const uint8_t *pkt, uint32_t len)
{
	write_split(pc, realtime_ns, pkt, len, pkt + len, 0);
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
	int rc = 0;

	if (pc == NULL)
		return 0;
	if (pc->writer_started) {
		pthread_mutex_lock(&pc->lock);
		if (pc->cur->used > 0)
			enqueue_locked(pc, pc->cur);
		pc->closing = true;
		pthread_cond_signal(&pc->queued);
		pthread_mutex_unlock(&pc->lock);
		pthread_join(pc->writer, NULL);
	}
	if (pc->write_errno != 0)
		rc = lab_err_sys(err, pc->write_errno, "wire: writing the capture %s failed",
				 pc->path);
	free_capture(pc);
	return rc;
}
