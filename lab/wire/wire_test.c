/* wire_test: the wire with real sockets in its two namespaces (a block-network
 * test: it runs as root in a namespace of Bazel's and makes its own). TCP moves
 * across the relay with faults; the relay's counters, the kernel's counters of the
 * TUN devices and tshark's reading of both captures must agree; the same seed
 * drops the same packet indices and another seed others; nothing is left behind. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/wire/wire.h"

static char client_pcap[512], server_pcap[512];

static struct tshark_view {
	char path[512];
	long frames, from_client, from_server, over_1500, syn, synack, bad_checksum,
		bad_ip_checksum;
	long retransmission, retransmission_from_client, out_of_order, duplicate_ack, spurious;
} views[2]; /* tshark's reading of the current captures (see tshark()) */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct socket_job {
	struct wire *w;
	enum wire_side side;
	int fd;
	struct lab_err err;
};

static void *socket_there(void *arg)
{
	struct socket_job *job = arg;

	if (wire_enter(job->w, job->side, &job->err) == 0)
		job->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return NULL;
}

/* A TCP socket in SIDE's namespace, made by a thread that moves there and ends. */
static int socket_in(struct wire *w, enum wire_side side)
{
	struct socket_job job = { .w = w, .side = side, .fd = -1 };
	pthread_t t;
	struct timeval tv = { .tv_sec = 30 };

	assert_int_equal(pthread_create(&t, NULL, socket_there, &job), 0);
	pthread_join(t, NULL);
	if (job.fd < 0)
		fail_msg("socket in namespace: %s", job.err.msg);
	setsockopt(job.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(job.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return job.fd;
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

struct server_job {
	int listen_fd;
	uint64_t received;
	int intact;
};

/* Accepts one connection, reads to EOF checking every byte, answers the count. */
static void *serve(void *arg)
{
	struct server_job *job = arg;
	uint8_t buf[65536];
	int fd = accept(job->listen_fd, NULL, NULL);
	ssize_t n;

	job->intact = fd >= 0;
	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(job->received + (uint64_t)i))
				job->intact = 0;
		job->received += (uint64_t)n;
	}
	if (n < 0)
		job->intact = 0;
	if (write(fd, &job->received, sizeof(job->received)) != sizeof(job->received))
		job->intact = 0;
	close(fd);
	return NULL;
}

struct transfer {
	uint64_t connect_us;
	uint64_t received;
	int intact;
};

/* Client sends BYTES to the server across the wire and reads back the count. */
static void transfer(struct wire *w, uint64_t bytes, struct transfer *out)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t addr_len = sizeof(addr);
	struct server_job job = { 0 };
	int one = 1, client;
	uint8_t buf[65536];
	uint64_t sent = 0, t0, answer = 0;
	pthread_t t;

	job.listen_fd = socket_in(w, WIRE_SERVER);
	setsockopt(job.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(job.listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(job.listen_fd, (struct sockaddr *)&addr, &addr_len), 0);
	assert_int_equal(listen(job.listen_fd, 8), 0);
	assert_int_equal(pthread_create(&t, NULL, serve, &job), 0);
	client = socket_in(w, WIRE_CLIENT);
	t0 = now_us();
	/* Both programs use 127.0.0.1: the client's namespace routes it to the wire. */
	if (connect(client, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail_msg("connect across the wire: %s", strerror(errno));
	out->connect_us = now_us() - t0;
	while (sent < bytes) {
		size_t chunk = bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
		ssize_t n;

		for (size_t i = 0; i < chunk; i++)
			buf[i] = pattern(sent + i);
		n = write(client, buf, chunk);
		if (n <= 0)
			fail_msg("write across the wire: %s", strerror(errno));
		sent += (uint64_t)n;
	}
	shutdown(client, SHUT_WR);
	if (read(client, &answer, sizeof(answer)) != sizeof(answer))
		fail_msg("no answer from the server: %s", strerror(errno));
	pthread_join(t, NULL);
	close(client);
	close(job.listen_fd);
	out->received = job.received;
	out->intact = job.intact && answer == bytes;
}

static const char *tmp_dir;

/* Starts a wire whose captures are named after the test (kept for a look). */
static struct wire *start_named(struct wire_config *cfg, const char *name)
{
	struct lab_err err = { { 0 } };
	struct wire *w;

	memset(views, 0, sizeof(views));
	snprintf(client_pcap, sizeof(client_pcap), "%s/%s.client.pcap", tmp_dir, name);
	snprintf(server_pcap, sizeof(server_pcap), "%s/%s.server.pcap", tmp_dir, name);

	cfg->client_pcap = client_pcap;
	cfg->server_pcap = server_pcap;
	w = wire_new(cfg, &err);
	if (w == NULL)
		fail_msg("wire_new: %s", err.msg);
	if (wire_start(w, &err) < 0)
		fail_msg("wire_start: %s", err.msg);
	return w;
}

#define start(cfg) start_named((cfg), __func__)

static const struct wire_stats *stop(struct wire *w)
{
	struct lab_err err = { { 0 } };

	if (wire_stop(w, &err) < 0)
		fail_msg("wire_stop: %s", err.msg);
	return wire_stats(w);
}

/* What tshark reads in a capture, counted once per capture (tshark takes a second
 * or two to start here). */
static void tshark_read(const char *path, struct tshark_view *v)
{
	char cmd[1024], line[512];
	FILE *p;

	memset(v, 0, sizeof(*v));
	snprintf(v->path, sizeof(v->path), "%s", path);
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -r '%s' "
		 "-T fields -E separator='|' "
		 "-E occurrence=f -e ip.src -e ip.len -e tcp.flags.syn -e tcp.flags.ack "
		 "-e tcp.checksum.status -e tcp.analysis.retransmission "
		 "-e tcp.analysis.out_of_order -e tcp.analysis.duplicate_ack "
		 "-e tcp.analysis.spurious_retransmission -e ip.checksum.status 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *field[10] = { 0 }, *cursor = line;
		int from_client;

		line[strcspn(line, "\n")] = 0;
		for (int i = 0; i < 10; i++)
			field[i] = strsep(&cursor, "|");
		if (field[9] == NULL)
			fail_msg("tshark printed an unexpected line for %s: %s", path, line);
		from_client = strcmp(field[0], "127.0.0.2") == 0;
		v->frames++;
		v->from_client += from_client;
		v->from_server += strcmp(field[0], "127.0.0.1") == 0;
		v->over_1500 += atoi(field[1]) > 1500;
		v->syn += field[2][0] == '1' && field[3][0] == '0';
		v->synack += field[2][0] == '1' && field[3][0] == '1';
		v->bad_checksum += strcmp(field[4], "0") == 0;
		v->retransmission += field[5][0] != 0;
		v->retransmission_from_client += field[5][0] != 0 && from_client;
		v->out_of_order += field[6][0] != 0;
		v->duplicate_ack += field[7][0] != 0;
		v->spurious += field[8][0] != 0;
		v->bad_ip_checksum += strcmp(field[9], "0") == 0;
	}
	if (pclose(p) != 0)
		fail_msg("tshark could not read %s", path);
}

/* tshark's reading of the capture at PATH (read once per run). */
static const struct tshark_view *tshark(const char *path)
{
	struct tshark_view *v = &views[path == server_pcap];

	if (strcmp(v->path, path) != 0)
		tshark_read(path, v);
	return v;
}

/* Every packet is in the capture of the side it left, and in the other's unless the
 * link dropped it; the kernel's device counters agree; tshark reads both. */
static void assert_captures_complete(const struct wire_stats *s)
{
	const struct wire_link_stats *c2s = &s->dir[WIRE_C2S], *s2c = &s->dir[WIRE_S2C];

	assert_int_equal(s->captured[WIRE_CLIENT], c2s->packets_in + s->delivered[WIRE_S2C]);
	assert_int_equal(s->captured[WIRE_SERVER], s2c->packets_in + s->delivered[WIRE_C2S]);
	/* The relay reads what the devices hold when it stops: every packet the
	 * kernel sent into the wire is in the sender's capture (the devices count
	 * an offloaded burst as one packet, the link and the captures its segments). */
	assert_int_equal(s->device[WIRE_CLIENT].tx_packets, s->device_reads[WIRE_C2S]);
	assert_int_equal(s->device[WIRE_SERVER].tx_packets, s->device_reads[WIRE_S2C]);
	assert_int_equal(s->device[WIRE_CLIENT].rx_packets, s->device_writes[WIRE_S2C]);
	assert_int_equal(s->device[WIRE_SERVER].rx_packets, s->device_writes[WIRE_C2S]);
	if (!s->offload) {
		assert_int_equal(s->device_reads[WIRE_C2S], c2s->packets_in);
		assert_int_equal(s->device_reads[WIRE_S2C], s2c->packets_in);
	}
	assert_int_equal(s->device[WIRE_CLIENT].tx_dropped, 0);
	assert_int_equal(s->device[WIRE_SERVER].tx_dropped, 0);
	assert_int_equal(s->write_errors[WIRE_C2S] + s->write_errors[WIRE_S2C], 0);
	assert_int_equal(tshark(client_pcap)->frames, (long)s->captured[WIRE_CLIENT]);
	assert_int_equal(tshark(server_pcap)->frames, (long)s->captured[WIRE_SERVER]);
	/* What left one side and was not dropped reached the other, copies included. */
	assert_int_equal(tshark(client_pcap)->from_client, (long)c2s->packets_in);
	assert_int_equal(tshark(server_pcap)->from_client, (long)s->delivered[WIRE_C2S]);
	assert_int_equal(tshark(server_pcap)->from_server, (long)s2c->packets_in);
	assert_int_equal(tshark(client_pcap)->from_server, (long)s->delivered[WIRE_S2C]);
}

static void test_clean_wire_carries_tcp_and_captures_every_packet(void **state)
{
	struct wire_config cfg = { .seed = 1 };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	w = start(&cfg);
	transfer(w, 8 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_int_equal(tr.received, 8 << 20);
	assert_int_equal(wire_stats_dropped(s, -1, -1), 0);
	assert_true(s->dir[WIRE_C2S].packets_in > (8 << 20) / 1500);
	/* MTU 1500: no packet larger crossed. */
	assert_int_equal(tshark(client_pcap)->over_1500, 0);
	assert_int_equal(tshark(server_pcap)->over_1500, 0);
	/* No fault chooses per segment: the kernel's bursts crossed whole, and the
	 * captures show them as the segments they are, every checksum right. */
	assert_true(s->offload);
	assert_true(s->device_reads[WIRE_C2S] * 4 < s->dir[WIRE_C2S].packets_in);
	assert_int_equal(tshark(client_pcap)->bad_checksum, 0);
	assert_int_equal(tshark(server_pcap)->bad_checksum, 0);
	assert_int_equal(tshark(client_pcap)->bad_ip_checksum, 0);
	assert_captures_complete(s);
	wire_free(w);
}

/* The same transfer carried one segment at a time: the same bytes, the same
 * completeness, and the segments the kernel cut itself. */
static void test_segment_by_segment_wire(void **state)
{
	struct wire_config cfg = { .seed = 1, .no_offload = true };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	w = start(&cfg);
	transfer(w, 2 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_false(s->offload);
	assert_int_equal(tshark(client_pcap)->over_1500, 0);
	assert_int_equal(tshark(client_pcap)->bad_checksum, 0);
	assert_captures_complete(s);
	wire_free(w);
}

/* With a payload budget the captures keep each direction whole up to it, then
 * headers only, as the lab's capture on lo does; every packet is still there. */
static void test_payload_budget_cuts_to_headers(void **state)
{
	struct wire_config cfg = { .seed = 1,
				   .payload_budget_on = true,
				   .payload_budget_bytes = 64 << 10 };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	w = start(&cfg);
	transfer(w, 4 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_true(s->headers_only[WIRE_CLIENT] > 2000);
	assert_true(s->headers_only[WIRE_SERVER] > 2000);
	/* Whole while the budget lasts: about 64 KiB of payload, 45 segments. */
	assert_true(s->captured[WIRE_CLIENT] - s->headers_only[WIRE_CLIENT] > 40);
	assert_true(s->captured[WIRE_CLIENT] - s->headers_only[WIRE_CLIENT] < 200);
	assert_captures_complete(s);
	wire_free(w);
}

static void test_loss_makes_retransmissions_that_tshark_sees(void **state)
{
	struct wire_config cfg = { .seed = 1 };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	cfg.dir[WIRE_C2S].loss_pcm = 5000;
	cfg.dir[WIRE_S2C].loss_pcm = 5000;
	w = start(&cfg);
	transfer(w, 2 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_true(s->dir[WIRE_C2S].dropped[WIRE_DROP_LOSS] > 10);
	assert_true(s->dir[WIRE_S2C].dropped[WIRE_DROP_LOSS] > 0);
	assert_int_equal(wire_stats_dropped(s, WIRE_C2S, -1),
			 s->dir[WIRE_C2S].dropped[WIRE_DROP_LOSS]);
	assert_captures_complete(s);
	/* The client's side saw it resend what the link lost. */
	assert_true(tshark(client_pcap)->retransmission_from_client > 0);
	assert_true(tshark(server_pcap)->duplicate_ack > 0);
	wire_free(w);
}

struct drops {
	uint64_t packets_in;
	uint64_t n;
	uint64_t index[WIRE_RECORDED_DROPS];
};

static void lossy_run(uint64_t seed, struct drops *out)
{
	struct wire_config cfg = { .seed = seed };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	cfg.dir[WIRE_C2S].loss_pcm = 3000;
	w = start(&cfg);
	transfer(w, 1 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact);
	out->packets_in = s->dir[WIRE_C2S].packets_in;
	out->n = s->dir[WIRE_C2S].n_drop_index;
	memcpy(out->index, s->dir[WIRE_C2S].drop_index, sizeof(out->index));
	wire_free(w);
}

/* The drops among the first LIMIT packets. */
static uint64_t drops_below(const struct drops *d, uint64_t limit, uint64_t *out)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < d->n; i++)
		if (d->index[i] < limit)
			out[n++] = d->index[i];
	return n;
}

static void test_same_seed_drops_same_indices_another_seed_others(void **state)
{
	static struct drops a, b, c;
	static uint64_t la[WIRE_RECORDED_DROPS], lb[WIRE_RECORDED_DROPS], lc[WIRE_RECORDED_DROPS];
	uint64_t limit, na, nb, nc;

	(void)state;
	lossy_run(77, &a);
	lossy_run(77, &b);
	lossy_run(78, &c);
	/* The same traffic may differ by an ACK or two at the end: compare the packets
	 * both runs had. */
	limit = a.packets_in < b.packets_in ? a.packets_in : b.packets_in;
	limit = c.packets_in < limit ? c.packets_in : limit;
	na = drops_below(&a, limit, la);
	nb = drops_below(&b, limit, lb);
	nc = drops_below(&c, limit, lc);
	assert_true(na > 5);
	assert_int_equal(na, nb);
	assert_memory_equal(la, lb, na * sizeof(uint64_t));
	assert_false(na == nc && memcmp(la, lc, na * sizeof(uint64_t)) == 0);
}

static void test_drop_filter_once_costs_the_handshake_one_retry(void **state)
{
	struct wire_config cfg = { .seed = 1 };
	struct wire_faults *s2c = &cfg.dir[WIRE_S2C];
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	snprintf(s2c->filters[0].expr, sizeof(s2c->filters[0].expr),
		 "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)");
	s2c->filters[0].mode = WIRE_FILTER_ONCE;
	s2c->n_filters = 1;
	w = start(&cfg);
	transfer(w, 1000, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_int_equal(s->dir[WIRE_S2C].dropped[WIRE_DROP_FILTER], 1);
	assert_int_equal(s->dir[WIRE_S2C].drop_index[0], 0);
	/* The server resends its SYN-ACK after 1 s (or answers the client's SYN,
	 * resent after 1 s too: whichever timer fires first); the second passes. */
	assert_true(tr.connect_us > 900000);
	assert_true(tshark(server_pcap)->synack >= 2 && tshark(server_pcap)->synack <= 3);
	assert_int_equal(tshark(client_pcap)->synack, tshark(server_pcap)->synack - 1);
	assert_true(tshark(client_pcap)->syn >= 1);
	assert_true(tshark(client_pcap)->syn <= 2);
	assert_captures_complete(s);
	wire_free(w);
}

static void test_delay_lengthens_the_handshake(void **state)
{
	struct wire_config cfg = { .seed = 1 };
	struct transfer tr;
	struct wire *w;

	(void)state;
	cfg.dir[WIRE_C2S].delay_us = 20000;
	cfg.dir[WIRE_S2C].delay_us = 20000;
	w = start(&cfg);
	transfer(w, 1000, &tr);
	assert_captures_complete(stop(w));
	assert_true(tr.intact);
	assert_true(tr.connect_us >= 40000);
	assert_true(tr.connect_us < 200000);
	wire_free(w);
}

static void test_corrupt_segments_fail_their_checksum_and_are_resent(void **state)
{
	struct wire_config cfg = { .seed = 3 };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	cfg.dir[WIRE_C2S].corrupt_pcm = 2000;
	w = start(&cfg);
	transfer(w, 2 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact); /* the kernel dropped every corrupted segment */
	assert_true(s->dir[WIRE_C2S].corrupted > 5);
	assert_int_equal(tshark(client_pcap)->bad_checksum, 0);
	assert_int_equal(tshark(server_pcap)->bad_checksum, (long)s->dir[WIRE_C2S].corrupted);
	assert_true(tshark(client_pcap)->retransmission > 0);
	assert_captures_complete(s);
	wire_free(w);
}

static void test_duplicates_arrive_twice(void **state)
{
	struct wire_config cfg = { .seed = 3 };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	cfg.dir[WIRE_C2S].duplicate_pcm = 5000;
	w = start(&cfg);
	transfer(w, 1 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_true(s->dir[WIRE_C2S].duplicated > 5);
	/* What was read at the stop may still be on the link (pending_at_stop). */
	assert_int_equal(s->delivered[WIRE_C2S] + s->pending_at_stop[WIRE_C2S],
			 s->dir[WIRE_C2S].packets_in + s->dir[WIRE_C2S].duplicated);
	assert_true(tshark(server_pcap)->duplicate_ack + tshark(server_pcap)->retransmission +
			    tshark(server_pcap)->spurious >
		    0);
	assert_captures_complete(s);
	wire_free(w);
}

static void test_reordered_segments_show_out_of_order(void **state)
{
	struct wire_config cfg = { .seed = 3 };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	cfg.dir[WIRE_C2S].reorder_pcm = 5000;
	w = start(&cfg);
	transfer(w, 1 << 20, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_true(s->dir[WIRE_C2S].reordered > 5);
	assert_true(tshark(server_pcap)->out_of_order > 0);
	assert_int_equal(tshark(client_pcap)->out_of_order, 0);
	assert_captures_complete(s);
	wire_free(w);
}

static void test_rate_limits_throughput(void **state)
{
	struct wire_config cfg = { .seed = 1 };
	struct transfer tr;
	struct wire *w;
	uint64_t t0;

	(void)state;
	cfg.dir[WIRE_C2S].rate_bps = 8000000; /* 1 MB/s */
	w = start(&cfg);
	t0 = now_us();
	transfer(w, 500000, &tr);
	assert_true(now_us() - t0 > 450000);
	assert_captures_complete(stop(w));
	assert_true(tr.intact);
	wire_free(w);
}

static void test_partition_drops_until_it_heals(void **state)
{
	struct wire_config cfg = { .seed = 1 };
	struct transfer tr;
	struct wire *w;
	const struct wire_stats *s;

	(void)state;
	cfg.dir[WIRE_C2S].downs[0] = (struct wire_down){ .at_us = 0, .for_us = 500000 };
	cfg.dir[WIRE_C2S].n_downs = 1;
	w = start(&cfg);
	transfer(w, 1000, &tr);
	s = stop(w);
	assert_true(tr.intact);
	assert_int_equal(s->dir[WIRE_C2S].dropped[WIRE_DROP_DOWN], 1); /* the first SYN */
	assert_true(tr.connect_us > 900000);
	assert_captures_complete(s);
	wire_free(w);
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Whether any process's namespace or open fd still refers to namespace INODE. */
static int namespace_referenced(ino_t inode)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	char want[64], path[512], link[128];
	int found = 0;

	snprintf(want, sizeof(want), "net:[%lu]", (unsigned long)inode);
	assert_non_null(proc);
	while (!found && (p = readdir(proc)) != NULL) {
		DIR *fds;
		struct dirent *f;
		ssize_t n;

		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", p->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = 0, strcmp(link, want) == 0))
			found = 1;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		while (!found && fds && (f = readdir(fds)) != NULL) {
			char fd_path[600];

			snprintf(fd_path, sizeof(fd_path), "%s/%s", path, f->d_name);
			n = readlink(fd_path, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = 0, strcmp(link, want) == 0))
				found = 1;
		}
		if (fds)
			closedir(fds);
	}
	closedir(proc);
	return found;
}

static void test_nothing_is_left_behind(void **state)
{
	struct wire_config cfg = { .seed = 1 };
	struct transfer tr;
	struct wire *w;
	struct stat st[WIRE_SIDES];
	int fds_before = count_dir("/proc/self/fd"), tasks_before = count_dir("/proc/self/task");

	(void)state;
	cfg.dir[WIRE_C2S].delay_us = 100000; /* packets still on the link at the stop */
	w = start(&cfg);
	for (int s = 0; s < WIRE_SIDES; s++) {
		assert_int_equal(fstat(wire_netns_fd(w, (enum wire_side)s), &st[s]), 0);
		assert_true(namespace_referenced(st[s].st_ino));
	}
	/* The relay, and the writer of each side's capture. */
	assert_int_equal(count_dir("/proc/self/task"), tasks_before + 3);
	transfer(w, 1000, &tr);
	wire_free(w); /* without wire_stop: free stops it */
	assert_int_equal(count_dir("/proc/self/fd"), fds_before);
	assert_int_equal(count_dir("/proc/self/task"), tasks_before);
	for (int s = 0; s < WIRE_SIDES; s++)
		assert_false(namespace_referenced(st[s].st_ino));
}

static void test_bad_config_is_refused_and_leaves_nothing(void **state)
{
	struct wire_config cfg = { .seed = 1, .mtu = 20 };
	struct lab_err err = { { 0 } };
	int fds_before = count_dir("/proc/self/fd");

	(void)state;
	assert_null(wire_new(&cfg, &err));
	assert_non_null(strstr(err.msg, "MTU 20"));
	cfg.mtu = 1500;
	snprintf(cfg.dir[0].filters[0].expr, sizeof(cfg.dir[0].filters[0].expr), "port nonsense");
	cfg.dir[0].n_filters = 1;
	assert_null(wire_new(&cfg, &err));
	assert_non_null(strstr(err.msg, "port nonsense"));
	assert_int_equal(count_dir("/proc/self/fd"), fds_before);
}

int main(void)
{
	const char *dir = getenv("TEST_TMPDIR");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_wire_carries_tcp_and_captures_every_packet),
		cmocka_unit_test(test_segment_by_segment_wire),
		cmocka_unit_test(test_payload_budget_cuts_to_headers),
		cmocka_unit_test(test_loss_makes_retransmissions_that_tshark_sees),
		cmocka_unit_test(test_same_seed_drops_same_indices_another_seed_others),
		cmocka_unit_test(test_drop_filter_once_costs_the_handshake_one_retry),
		cmocka_unit_test(test_delay_lengthens_the_handshake),
		cmocka_unit_test(test_corrupt_segments_fail_their_checksum_and_are_resent),
		cmocka_unit_test(test_duplicates_arrive_twice),
		cmocka_unit_test(test_reordered_segments_show_out_of_order),
		cmocka_unit_test(test_rate_limits_throughput),
		cmocka_unit_test(test_partition_drops_until_it_heals),
		cmocka_unit_test(test_nothing_is_left_behind),
		cmocka_unit_test(test_bad_config_is_refused_and_leaves_nothing),
	};

	tmp_dir = dir ? dir : "/tmp";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
