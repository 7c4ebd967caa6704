/* capture: libpcap live capture of lo into a pcap file (see capture.h). */
#include "lab/run/capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Room for a bulk transfer's burst at loopback speed without drops. Setting the
 * ring up costs about 0.5 ms per MiB, so it is not made larger than needed
 * (bench/capture_bench.sh measures both). */
#define CAPTURE_BUFFER_BYTES (CAPTURE_RING_MIB * 1024 * 1024)
/* Directions of connections whose payload is counted; past this many, packets
 * of further directions are written whole. */
#define CAPTURE_MAX_DIRS 4096
/* Directions the kernel cuts to their headers itself (a socket filter), so that
 * its ring holds headers, not 64 KiB segments, once their budget is spent: an
 * Ethernet, IPv4 and TCP header with options fit in 134 bytes. */
#define CAPTURE_MAX_CUTS 200
#define CAPTURE_HEADERS_SNAP 134
/* A ring block holding any packet is handed to us after this long. */
#define CAPTURE_BLOCK_MS 4
/* How long a stop waits at most for packets the kernel counted to arrive. */
#define CAPTURE_DRAIN_MAX_MS 500

/* One direction of one connection: its addresses and ports, and the payload
 * bytes written whole so far. */
struct capture_dir {
	uint8_t key[37]; /* family, source and destination address, ports */
	bool used;
	uint64_t payload_bytes;
};

struct capture {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	int linktype;
	uint64_t payload_budget_bytes;
	uint64_t packets;
	uint64_t headers_only;
	int64_t cpu_us; /* in capture_dispatch, on the thread's CPU clock */
	struct capture_dir *dirs; /* CAPTURE_MAX_DIRS, open addressing */
	size_t n_dirs;
	uint32_t cuts[CAPTURE_MAX_CUTS]; /* source port << 16 | destination port */
	size_t n_cuts;
	int snaplen;
	char path[PATH_MAX];
	char part_path[PATH_MAX + 8];
	bool anonymous; /* the file has no name until capture_stop (O_TMPFILE) */
};

/* The TCP segment in an Ethernet frame (lo's link type): the bytes up to the end
 * of its TCP header, its payload length and its direction's key. Only the
 * headers are read. false when the frame is not a whole-header TCP segment. */
static bool tcp_headers(const u_char *p, uint32_t caplen, uint32_t *headers_len,
			uint32_t *payload_len, uint8_t key[37])
{
	uint32_t ip_at = 14, tcp_at, ip_end;
	uint16_t ethertype;

	if (caplen < 14)
		return false;
	ethertype = (uint16_t)(p[12] << 8 | p[13]);
	memset(key, 0, 37);
	if (ethertype == 0x0800) {
		uint32_t ihl, total;

		if (caplen < ip_at + 20 || (p[ip_at] >> 4) != 4 || p[ip_at + 9] != 6)
			return false;
		if ((p[ip_at + 6] & 0x1f) != 0 || p[ip_at + 7] != 0)
			return false; /* a fragment past the first */
		ihl = (uint32_t)(p[ip_at] & 0x0f) * 4;
		total = (uint32_t)(p[ip_at + 2] << 8 | p[ip_at + 3]);
		tcp_at = ip_at + ihl;
		ip_end = ip_at + total;
		key[0] = 4;
		memcpy(key + 1, p + ip_at + 12, 4);
		memcpy(key + 17, p + ip_at + 16, 4);
	} else if (ethertype == 0x86dd) {
		if (caplen < ip_at + 40 || (p[ip_at] >> 4) != 6 || p[ip_at + 6] != 6)
			return false; /* extension headers: written whole */
		tcp_at = ip_at + 40;
		ip_end = tcp_at + (uint32_t)(p[ip_at + 4] << 8 | p[ip_at + 5]);
		key[0] = 6;
		memcpy(key + 1, p + ip_at + 8, 16);
		memcpy(key + 17, p + ip_at + 24, 16);
	} else {
		return false;
	}
	if (caplen < tcp_at + 20)
		return false;
	*headers_len = tcp_at + (uint32_t)(p[tcp_at + 12] >> 4) * 4;
	if (*headers_len < tcp_at + 20 || *headers_len > caplen || ip_end < *headers_len)
		return false; /* odd lengths (BIG TCP's 0 ...): written whole */
	*payload_len = ip_end - *headers_len;
	memcpy(key + 33, p + tcp_at, 4);
	return true;
}

/* Has the kernel cut to CAPTURE_HEADERS_SNAP bytes the TCP segments whose ports
 * are one of c->cuts: a classic BPF socket filter on the capture socket, made
 * again as the list grows (the kernel swaps filters atomically). libpcap knows
 * nothing of it (it sets no filter of its own) and reads each packet's caplen
 * from the ring. Ports stand for a direction: two connections of one run that
 * share both ports with other addresses would both be cut, never lost. */
static void kernel_cut(struct capture *c)
{
	struct sock_filter prog[16 + CAPTURE_MAX_CUTS];
	size_t n = 0, check, keep;
	struct sock_fprog fprog;

	/* Offsets are filled in once the block's positions are known. */
	check = 13;
	keep = check + c->n_cuts;
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12);
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 7);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23);
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0,
						 (uint8_t)(keep - 4));
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20);
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff,
						 (uint8_t)(keep - 6), 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_IND, 14);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(check - 9));
	/* 9: IPv6 without extension headers */
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0,
						 (uint8_t)(keep - 10));
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20);
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0,
						 (uint8_t)(keep - 12));
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 54);
	/* 13 = check: A holds source port << 16 | destination port */
	for (size_t i = 0; i < c->n_cuts; i++, n++)
		prog[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, c->cuts[i],
						       (uint8_t)(keep + 1 - n - 1), 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (uint32_t)c->snaplen);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, CAPTURE_HEADERS_SNAP);
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	/* On failure the writer still cuts: only the ring's room is at stake. */
	setsockopt(pcap_fileno(c->pcap), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
}

static void cut_in_kernel(struct capture *c, const uint8_t key[37])
{
	uint32_t ports = (uint32_t)key[33] << 24 | (uint32_t)key[34] << 16 |
			 (uint32_t)key[35] << 8 | key[36];

	if (c->n_cuts >= CAPTURE_MAX_CUTS || c->linktype != DLT_EN10MB)
		return;
	for (size_t i = 0; i < c->n_cuts; i++)
		if (c->cuts[i] == ports)
			return;
	c->cuts[c->n_cuts++] = ports;
	kernel_cut(c);
}

static struct capture_dir *dir_of(struct capture *c, const uint8_t key[37])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 37; i++)
		h = (h ^ key[i]) * 16777619u;
	for (size_t probe = 0; probe < CAPTURE_MAX_DIRS; probe++) {
		struct capture_dir *d = &c->dirs[(h + probe) % CAPTURE_MAX_DIRS];

		if (d->used && memcmp(d->key, key, 37) == 0)
			return d;
		if (!d->used) {
			if (c->n_dirs >= CAPTURE_MAX_DIRS / 2)
				return NULL; /* keep probes short: whole from now on */
			d->used = true;
			memcpy(d->key, key, 37);
			c->n_dirs++;
			return d;
		}
	}
	return NULL;
}

/* Writes a packet whole while its direction's payload budget lasts, then its
 * headers only (caplen < len, as tcpdump -s writes): the packets a person reads
 * stay whole, and a bulk transfer's 64 KiB segments do not have to go to disk. */
/* The capture file: an unnamed file in the directory of path (O_TMPFILE), so that
 * a lab killed by SIGKILL leaves nothing behind; named path.part where the file
 * system cannot do that. */
static pcap_dumper_t *open_dump(struct capture *c)
{
	char dir[PATH_MAX];
	char *slash;
	FILE *f;
	int fd;

	snprintf(dir, sizeof(dir), "%s", c->path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0) {
		f = fdopen(fd, "w");
		if (f != NULL) {
			pcap_dumper_t *d = pcap_dump_fopen(c->pcap, f);

			if (d != NULL) {
				c->anonymous = true;
				return d;
			}
			fclose(f);
		} else {
			close(fd);
		}
	}
	return pcap_dump_open(c->pcap, c->part_path);
}

/* Gives the anonymous file the name path.part (it is complete: the rename to path
 * follows at once). linkat with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH or, from
 * Linux 6.10, only that the file was opened by the caller; without either, the
 * content is copied. */
static int name_dump(struct capture *c, struct lab_err *err)
{
	int fd = fileno(pcap_dump_file(c->dumper));
	char buf[65536];
	ssize_t n;
	off_t off = 0;
	int out;

	unlink(c->part_path);
	if (linkat(fd, "", AT_FDCWD, c->part_path, AT_EMPTY_PATH) == 0)
		return 0;
	out = open(c->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return lab_err_sys(err, errno, "cannot write %s", c->part_path);
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			close(out);
			unlink(c->part_path);
			return lab_err_sys(err, errno, "cannot write %s", c->part_path);
		}
		off += n;
	}
	if (n < 0 || close(out) < 0) {
		unlink(c->part_path);
		return lab_err_sys(err, errno, "cannot write %s", c->part_path);
	}
	return 0;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	uint32_t headers_len, payload_len;
	uint8_t key[37];
	struct capture_dir *d;

	c->packets++;
	if (c->payload_budget_bytes == UINT64_MAX || c->linktype != DLT_EN10MB ||
	    !tcp_headers(bytes, h->caplen, &headers_len, &payload_len, key) || payload_len == 0 ||
	    (d = dir_of(c, key)) == NULL) {
		pcap_dump((u_char *)c->dumper, h, bytes);
		return;
	}
	if (d->payload_bytes < c->payload_budget_bytes || headers_len >= h->caplen) {
		if (d->payload_bytes < c->payload_budget_bytes &&
		    d->payload_bytes + payload_len >= c->payload_budget_bytes)
			cut_in_kernel(c, key); /* the budget is spent with this one */
		d->payload_bytes += payload_len;
		pcap_dump((u_char *)c->dumper, h, bytes);
		return;
	}
	{
		struct pcap_pkthdr cut = *h;

		cut.caplen = headers_len;
		pcap_dump((u_char *)c->dumper, &cut, bytes);
		c->headers_only++;
	}
}

static void *close_in_background(void *arg)
{
	pcap_close(arg);
	return NULL;
}

/* Closes of several scenarios' sockets in threads share grace periods. */
static void close_pcap(pcap_t *pcap)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	rc = pthread_create(&thread, &attr, close_in_background, pcap);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		pcap_close(pcap);
}

static void capture_free(struct capture *c)
{
	if (c->dumper != NULL)
		pcap_dump_close(c->dumper);
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	free(c->dirs);
	free(c);
}

void capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->dumper != NULL)
		pcap_dump_close(c->dumper);
	if (c->pcap != NULL)
		close_pcap(c->pcap);
	free(c->dirs);
	free(c);
}

struct capture *capture_start(const char *path, int snaplen, uint64_t payload_budget_bytes,
			      struct lab_err *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		lab_err_set(err, "out of memory");
		return NULL;
	}
	c->payload_budget_bytes = payload_budget_bytes;
	c->snaplen = snaplen;
	if (payload_budget_bytes != UINT64_MAX) {
		c->dirs = calloc(CAPTURE_MAX_DIRS, sizeof(*c->dirs));
		if (c->dirs == NULL) {
			lab_err_set(err, "out of memory");
			goto fail;
		}
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->part_path, sizeof(c->part_path), "%s.part", path);
	c->pcap = pcap_create("lo", errbuf);
	if (c->pcap == NULL) {
		lab_err_set(err, "cannot capture on lo: %s", errbuf);
		goto fail;
	}
	/* Not immediate mode: there libpcap falls back to TPACKET_V2, whose ring has
	 * one snaplen-sized slot per packet, so 600 segments of 7 bytes filled a
	 * 16 MiB ring and were dropped while two scenarios ran at once. TPACKET_V3
	 * packs packets into blocks by their real size and hands a block over when
	 * it is full or CAPTURE_BLOCK_MS has passed. libpcap makes the blocks 256 KiB
	 * (its largest snaplen), so a 32 MiB ring has 128 of them: with 1 ms blocks a
	 * reader starved for 128 ms on a loaded machine lost packets of a trickle of
	 * small segments (each block handed over nearly empty); 4 ms blocks last
	 * four times longer, and a stop waits for the last one (capture_stop). */
	if (pcap_set_snaplen(c->pcap, snaplen) != 0 || pcap_set_immediate_mode(c->pcap, 0) != 0 ||
	    pcap_set_timeout(c->pcap, CAPTURE_BLOCK_MS) != 0 ||
	    pcap_set_buffer_size(c->pcap, CAPTURE_BUFFER_BYTES) != 0) {
		lab_err_set(err, "cannot configure the capture on lo");
		goto fail;
	}
	rc = pcap_activate(c->pcap);
	if (rc < 0) {
		lab_err_set(err, "cannot capture on lo: %s (%s)", pcap_statustostr(rc),
			    pcap_geterr(c->pcap));
		goto fail;
	}
	c->linktype = pcap_datalink(c->pcap);
	if (pcap_setnonblock(c->pcap, 1, errbuf) < 0) {
		lab_err_set(err, "cannot make the capture non-blocking: %s", errbuf);
		goto fail;
	}
	c->dumper = open_dump(c);
	if (c->dumper == NULL) {
		lab_err_set(err, "cannot write %s: %s", c->part_path, pcap_geterr(c->pcap));
		goto fail;
	}
	/* libpcap opens both without O_CLOEXEC: a program another thread starts
	 * meanwhile would inherit them (and keep this namespace and ring alive). */
	if (fcntl(pcap_get_selectable_fd(c->pcap), F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fileno(pcap_dump_file(c->dumper)), F_SETFD, FD_CLOEXEC) < 0) {
		lab_err_sys(err, errno, "cannot mark the capture's descriptors close-on-exec");
		goto fail;
	}
	return c;
fail:
	capture_free(c);
	return NULL;
}

int capture_fd(const struct capture *c)
{
	return pcap_get_selectable_fd(c->pcap);
}

static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int capture_dispatch(struct capture *c, struct lab_err *err)
{
	int64_t start_us = thread_cpu_us();
	int n;

	do {
		n = pcap_dispatch(c->pcap, -1, on_packet, (u_char *)c);
	} while (n > 0);
	c->cpu_us += thread_cpu_us() - start_us;
	if (n == PCAP_ERROR)
		return lab_err_set(err, "capture on lo failed: %s", pcap_geterr(c->pcap));
	return 0;
}

int capture_stop(struct capture *c, int grace_ms, struct capture_stats *stats, struct lab_err *err)
{
	struct pcap_stat ps = { 0 };
	struct pollfd pfd = { .fd = capture_fd(c), .events = POLLIN };
	int64_t waited_ms = 0;

	/* Loopback delivers a segment before the sending call returns, so the kernel
	 * has already counted what the processes sent; the grace covers segments it
	 * sends from timers (a delayed ACK, the last ACK of a teardown). */
	for (int rounds = 0; rounds < 100; rounds++) {
		if (capture_dispatch(c, err) < 0)
			goto fail;
		if (poll(&pfd, 1, grace_ms > CAPTURE_BLOCK_MS ? grace_ms : CAPTURE_BLOCK_MS + 1) <= 0)
			break;
	}
	/* Then every packet the kernel counted must be in the file or counted as
	 * dropped: the ring's last block is handed over only when its timer fires,
	 * which takes a few jiffies, not the 1 ms asked for. On lo the tap sees each
	 * packet twice, leaving and arriving, and libpcap keeps the arriving copy;
	 * the kernel's count (PACKET_STATISTICS, added up by libpcap) has both, and
	 * its drops. */
	while (pcap_stats(c->pcap, &ps) == 0 && ps.ps_recv > 2 * c->packets + ps.ps_drop &&
	       waited_ms < CAPTURE_DRAIN_MAX_MS) {
		poll(&pfd, 1, 2);
		waited_ms += 2;
		if (capture_dispatch(c, err) < 0)
			goto fail;
	}
	memset(stats, 0, sizeof(*stats));
	stats->packets = c->packets;
	stats->headers_only = c->headers_only;
	stats->cpu_us = c->cpu_us;
	stats->payload_budget_bytes = c->payload_budget_bytes;
	stats->kernel_drops = ps.ps_drop;
	stats->ifdrops = ps.ps_ifdrop;
	if (ps.ps_recv > 2 * c->packets + ps.ps_drop) /* never handed over */
		stats->kernel_drops += (ps.ps_recv - 2 * c->packets - ps.ps_drop) / 2;
	if (pcap_dump_flush(c->dumper) < 0) {
		lab_err_sys(err, errno, "cannot write %s", c->part_path);
		goto fail;
	}
	if (c->anonymous && name_dump(c, err) < 0)
		goto fail;
	pcap_dump_close(c->dumper);
	c->dumper = NULL;
	if (rename(c->part_path, c->path) < 0) {
		lab_err_sys(err, errno, "cannot rename %s to %s", c->part_path, c->path);
		goto fail;
	}
	return 0;
fail:
	capture_abort(c);
	return -1;
}

void capture_abort(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->dumper != NULL) {
		pcap_dump_close(c->dumper);
		c->dumper = NULL;
	}
	unlink(c->part_path);
	capture_free(c);
}
