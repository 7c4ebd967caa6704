/* wire_bench: the wire's figures beside lo's, in one run (bench/wire_bench.sh runs
 * it as root in a network namespace of its own, lo up):
 *   1. throughput of one TCP connection, 1 GiB, no faults, MTU 1500, both captures
 *      written in full; then every packet the kernel sent into the wire is counted
 *      in the captures (read back with libpcap) and none was dropped by the kernel;
 *   2. handshake RTT (connect() time, median and p90 of 200) over the wire and lo;
 *   3. with `delay 50ms` client->server: the one-way delay of 2000 UDP datagrams
 *      (each carries its send time; the receiving socket stamps the arrival), p50/p99/max.
 * Usage: wire_bench DIR [GIB]   (DIR for the captures, deleted after) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/wire/wire.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "wire_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

struct socket_job {
	struct wire *w; /* NULL: the bench's own namespace (lo) */
	enum wire_side side;
	int type;
	int fd;
};

static void *socket_there(void *arg)
{
	struct socket_job *job = arg;
	struct lab_err err;

	if (job->w && wire_enter(job->w, job->side, &err) < 0) {
		fprintf(stderr, "wire_bench: %s\n", err.msg);
		return NULL;
	}
	job->fd = socket(AF_INET, job->type | SOCK_CLOEXEC, 0);
	return NULL;
}

static int socket_in(struct wire *w, enum wire_side side, int type)
{
	struct socket_job job = { .w = w, .side = side, .type = type, .fd = -1 };
	pthread_t t;

	pthread_create(&t, NULL, socket_there, &job);
	pthread_join(t, NULL);
	if (job.fd < 0)
		die("socket");
	return job.fd;
}

static int listener(struct wire *w, struct sockaddr_in *addr)
{
	int fd = socket_in(w, WIRE_SERVER, SOCK_STREAM), one = 1;
	socklen_t len = sizeof(*addr);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 256) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		die("listen");
	return fd;
}

static void *discard(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
	static __thread char buf[1 << 18];

	if (fd < 0)
		return NULL;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return NULL;
}

/* Seconds to send BYTES over one connection to a discard server, connect included. */
static double throughput_s(struct wire *w, uint64_t bytes)
{
	static char buf[1 << 18];
	struct sockaddr_in addr;
	int lfd = listener(w, &addr), fd;
	uint64_t sent = 0, t0;
	pthread_t t;

	pthread_create(&t, NULL, discard, &lfd);
	fd = socket_in(w, WIRE_CLIENT, SOCK_STREAM);
	t0 = mono_ns();
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
	while (sent < bytes) {
		ssize_t n = write(fd, buf, bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf));

		if (n <= 0)
			die("write");
		sent += (uint64_t)n;
	}
	close(fd);
	pthread_join(t, NULL);
	close(lfd);
	return (double)(mono_ns() - t0) / 1e9;
}

static void *accept_loop(void *arg)
{
	int lfd = *(int *)arg;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			return NULL;
		close(fd);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median and p90 of N connect() times, in microseconds. */
static void handshake_us(struct wire *w, int n, double *median, double *p90)
{
	uint64_t *t = calloc((size_t)n, sizeof(*t));
	struct sockaddr_in addr;
	int lfd = listener(w, &addr);
	pthread_t acceptor;

	pthread_create(&acceptor, NULL, accept_loop, &lfd);
	for (int i = 0; i < n; i++) {
		int fd = socket_in(w, WIRE_CLIENT, SOCK_STREAM);
		uint64_t t0 = mono_ns();

		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			die("connect");
		t[i] = mono_ns() - t0;
		close(fd);
	}
	shutdown(lfd, SHUT_RDWR);
	pthread_join(acceptor, NULL);
	close(lfd);
	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	*median = (double)t[n / 2] / 1000.0;
	*p90 = (double)t[n * 9 / 10] / 1000.0;
	free(t);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One-way delays of N UDP datagrams, client to server, in microseconds (sorted):
 * each carries the time it was sent, and the receiving socket stamps its arrival
 * (SO_TIMESTAMPNS), so the figure does not depend on when the bench reads it. */
static void one_way_us(struct wire *w, int n, double *out)
{
	int rx = socket_in(w, WIRE_SERVER, SOCK_DGRAM), tx = socket_in(w, WIRE_CLIENT, SOCK_DGRAM);
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct timeval tv = { .tv_sec = 2 };
	int one = 1;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(rx, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(rx, (struct sockaddr *)&addr, &len) < 0)
		die("bind udp");
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(rx, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &(int){ 1 << 20 }, sizeof(int));
	for (int i = 0; i < n; i++) {
		uint64_t sent_ns = realtime_ns();
		struct timespec gap = { .tv_nsec = 500000 };

		if (sendto(tx, &sent_ns, sizeof(sent_ns), 0, (struct sockaddr *)&addr,
			   sizeof(addr)) < 0)
			die("sendto");
		nanosleep(&gap, NULL); /* pacing the probes */
	}
	for (int got = 0; got < n; got++) {
		uint64_t stamp;
		char control[256];
		struct iovec iov = { .iov_base = &stamp, .iov_len = sizeof(stamp) };
		struct msghdr msg = { .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = control,
				      .msg_controllen = sizeof(control) };
		struct cmsghdr *c;

		if (recvmsg(rx, &msg, 0) != sizeof(stamp))
			die("a probe never arrived");
		out[got] = -1;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec at;

				memcpy(&at, CMSG_DATA(c), sizeof(at));
				out[got] = ((double)at.tv_sec * 1e9 + (double)at.tv_nsec -
					    (double)stamp) /
					   1000.0;
			}
		if (out[got] < 0)
			die("no receive timestamp");
	}
	close(rx);
	close(tx);
	for (int i = 1; i < n; i++) /* insertion sort: n is small */
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			double x = out[j];

			out[j] = out[j - 1];
			out[j - 1] = x;
		}
}

static long pcap_packets(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline(path, errbuf);
	long n = 0;

	if (p == NULL) {
		fprintf(stderr, "wire_bench: %s\n", errbuf);
		return -1;
	}
	while (pcap_next_ex(p, &h, &data) == 1)
		n++;
	pcap_close(p);
	return n;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static struct wire *wire_up(struct wire_config *cfg)
{
	struct lab_err err;
	struct wire *w = wire_new(cfg, &err);

	if (w == NULL || wire_start(w, &err) < 0) {
		fprintf(stderr, "wire_bench: %s\n", err.msg);
		exit(1);
	}
	return w;
}

int main(int argc, char **argv)
{
	char client_pcap[512], server_pcap[512];
	struct wire_config cfg = { .seed = 1 };
	double gib = argc > 2 ? atof(argv[2]) : 1.0;
	uint64_t bytes = (uint64_t)(gib * (1 << 30));
	double lo_s, wire_s, lo_med, lo_p90, w_med, w_p90, delays[2000];
	const struct wire_stats *s;
	struct lab_err err;
	struct wire *w;
	long in_pcap[WIRE_SIDES];
	uint64_t missing = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: wire_bench DIR [GIB]\n");
		return 2;
	}
	snprintf(client_pcap, sizeof(client_pcap), "%s/bench.client.pcap", argv[1]);
	snprintf(server_pcap, sizeof(server_pcap), "%s/bench.server.pcap", argv[1]);

	/* 1. Throughput and completeness, with the offloads the wire uses when no
	 * fault chooses per segment, and carrying one segment at a time (as with
	 * loss, reordering, rate...). */
	lo_s = throughput_s(NULL, bytes);
	printf("throughput, %.2f GiB, one connection, MTU 1500, no faults:\n", gib);
	printf("  lo:                      %6.2f s  %7.2f Gbit/s\n", lo_s,
	       (double)bytes * 8 / lo_s / 1e9);
	static const char *const modes[] = {
		"bursts, captures with the lab's default budget (1 MiB whole per direction):",
		"bursts, both captures written in full:",
		"segment by segment (as with per-segment faults), both captures in full:",
	};
	for (int mode = 0; mode < 3; mode++) {
		cfg.no_offload = mode == 2;
		cfg.payload_budget_on = mode == 0;
		cfg.payload_budget_bytes = 1u << 20;
		cfg.client_pcap = client_pcap;
		cfg.server_pcap = server_pcap;
		w = wire_up(&cfg);
		wire_s = throughput_s(w, bytes);
		if (wire_stop(w, &err) < 0)
			fprintf(stderr, "wire_bench: %s\n", err.msg);
		s = wire_stats(w);
		in_pcap[WIRE_CLIENT] = pcap_packets(client_pcap);
		in_pcap[WIRE_SERVER] = pcap_packets(server_pcap);
		printf("  wire, %s\n                           %6.2f s  %7.2f Gbit/s\n",
		       modes[mode], wire_s, (double)bytes * 8 / wire_s / 1e9);
		for (int side = 0; side < WIRE_SIDES; side++) {
			enum wire_dir out = side == WIRE_CLIENT ? WIRE_C2S : WIRE_S2C;
			enum wire_dir in = side == WIRE_CLIENT ? WIRE_S2C : WIRE_C2S;
			const struct wire_device_stats *d = &s->device[side];
			/* The kernel's own counters against the relay's reads and writes;
			 * the capture against the segments read and delivered. */
			uint64_t segs = s->dir[out].packets_in + s->delivered[in];
			uint64_t lost = d->tx_dropped + d->rx_dropped +
					absdiff(d->tx_packets, s->device_reads[out]) +
					absdiff(d->rx_packets, s->device_writes[in]) +
					absdiff(segs, (uint64_t)in_pcap[side]);

			missing += lost;
			printf("    %s side: kernel sent %lu packets into the wire and took %lu "
			       "(dropped %lu/%lu); relay read %lu, wrote %lu; %lu segments "
			       "in, %lu out; capture %ld: missing %lu\n",
			       side == WIRE_CLIENT ? "client" : "server",
			       (unsigned long)d->tx_packets, (unsigned long)d->rx_packets,
			       (unsigned long)d->tx_dropped, (unsigned long)d->rx_dropped,
			       (unsigned long)s->device_reads[out],
			       (unsigned long)s->device_writes[in],
			       (unsigned long)s->dir[out].packets_in,
			       (unsigned long)s->delivered[in], in_pcap[side], (unsigned long)lost);
		}
		wire_free(w);
		unlink(client_pcap);
		unlink(server_pcap);
	}
	cfg.no_offload = false;
	cfg.payload_budget_on = false;
	printf("  packets missing from the captures: %lu\n", (unsigned long)missing);

	/* 2. Handshake RTT. */
	handshake_us(NULL, 200, &lo_med, &lo_p90);
	cfg.client_pcap = client_pcap;
	cfg.server_pcap = server_pcap;
	w = wire_up(&cfg);
	handshake_us(w, 200, &w_med, &w_p90);
	wire_free(w);
	printf("handshake (connect() time, 200 connections):\n");
	printf("  lo:   median %7.1f us  p90 %7.1f us\n", lo_med, lo_p90);
	printf("  wire: median %7.1f us  p90 %7.1f us  (+%.1f us median)\n", w_med, w_p90,
	       w_med - lo_med);

	/* 3. One-way delay with `delay 50ms`. */
	cfg.dir[WIRE_C2S].delay_us = 50000;
	w = wire_up(&cfg);
	one_way_us(w, 2000, delays);
	wire_free(w);
	printf("delay 50ms client->server, one-way delay of 2000 UDP datagrams:\n");
	printf("  p50 %.1f us  p99 %.1f us  max %.1f us  (p99 - 50 ms = %.1f us)\n", delays[1000],
	       delays[1979], delays[1999], delays[1979] - 50000.0);
	unlink(client_pcap);
	unlink(server_pcap);
	return missing == 0 ? 0 : 1;
}
