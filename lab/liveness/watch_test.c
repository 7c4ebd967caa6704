/* watch_test: the sock_diag watcher against real sockets on loopback (in the
 * namespace Bazel gives block-network tests), and the detector over synthetic
 * time series. Sockets of one test live in this process; deadlocks are built by
 * filling both directions of a connection with small buffers and reading nothing.
 * Ports are distinct per test so that no test sees another's leftovers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/liveness/watch.h"

/* The scenario default: how long nothing may move before a verdict. */
#define QUIET_US 200000
/* Upper bound on any wait for the kernel; far beyond what loopback needs. */
#define DEADLINE_US 5000000
#define POLL_INTERVAL_NS 1000000

/* ---- helpers ----------------------------------------------------------------- */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The poll interval of the driver: between two samples, not to hide a race. */
static void poll_pause(void)
{
	struct timespec ts = { 0, POLL_INTERVAL_NS };

	nanosleep(&ts, NULL);
}

static struct watch *open_watch(void)
{
	struct lab_err err = { { 0 } };
	struct watch *w = watch_open(&err);

	if (w == NULL)
		fail_msg("watch_open: %s", err.msg);
	return w;
}

static bool listening(struct watch *w, int port)
{
	struct lab_err err = { { 0 } };
	bool yes = true;

	if (watch_listening(w, port, &yes, &err) < 0)
		fail_msg("watch_listening: %s", err.msg);
	return yes;
}

static void sample(struct watch *w, int port, struct watch_sample *s)
{
	struct lab_err err = { { 0 } };

	if (watch_sample(w, port, s, &err) < 0)
		fail_msg("watch_sample: %s", err.msg);
}

static void set_buffers(int fd, int buf_bytes)
{
	if (buf_bytes <= 0)
		return;
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof(buf_bytes)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf_bytes, sizeof(buf_bytes)), 0);
}

/* A listener on 127.0.0.1:port (or [::1]:port); buffers set before listen so
 * that accepted sockets inherit them (and the window scale matches). */
static int listen_on(int family, int port, int buf_bytes)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
	set_buffers(fd, buf_bytes);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		fail_msg("bind port %d: %s", port, strerror(errno));
	assert_int_equal(listen(fd, 64), 0);
	return fd;
}

/* An established IPv4 pair on port; the listener is closed (unless keep_listener
 * gets it). buf_bytes > 0 sets SO_RCVBUF and SO_SNDBUF on both ends. */
static void connect_pair_keep(int port, int buf_bytes, int *client, int *server, int *keep_listener)
{
	struct sockaddr_in sin;
	int lfd = listen_on(AF_INET, port, buf_bytes);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	set_buffers(fd, buf_bytes);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		fail_msg("connect port %d: %s", port, strerror(errno));
	*client = fd;
	*server = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(*server >= 0);
	if (keep_listener != NULL)
		*keep_listener = lfd;
	else
		close(lfd);
}

static void connect_pair(int port, int buf_bytes, int *client, int *server)
{
	connect_pair_keep(port, buf_bytes, client, server, NULL);
}

static void set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	assert_true(flags >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
}

/* Writes until the kernel takes no more (EAGAIN); returns the bytes taken. */
static uint64_t fill(int fd)
{
	static const char chunk[4096];
	uint64_t total = 0;
	ssize_t n;

	set_nonblocking(fd);
	for (;;) {
		n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return total;
		assert_true(n > 0);
		total += (uint64_t)n;
	}
}

static void send_all(int fd, size_t bytes)
{
	char chunk[8192];
	ssize_t n;

	memset(chunk, 'x', sizeof(chunk));
	while (bytes > 0) {
		n = send(fd, chunk, bytes < sizeof(chunk) ? bytes : sizeof(chunk), MSG_NOSIGNAL);
		assert_true(n > 0);
		bytes -= (size_t)n;
	}
}

static void recv_all(int fd, size_t bytes)
{
	char chunk[8192];
	ssize_t n;

	while (bytes > 0) {
		n = recv(fd, chunk, bytes < sizeof(chunk) ? bytes : sizeof(chunk), 0);
		assert_true(n > 0);
		bytes -= (size_t)n;
	}
}

static uint16_t local_port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static const struct watch_socket *find_local_port(const struct watch_sample *s, int port)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		if (s->sockets[i].local_port == port)
			return &s->sockets[i];
	}
	return NULL;
}

/* Samples and feeds every millisecond until the verdict is not PROGRESS (or the
 * deadline passes). Checks on the way that no verdict came before quiet_us of
 * silence; returns the verdict, with the time of the first feed in *start_us. */
static enum watch_state poll_until_verdict(struct watch *w, int port, struct watch_detector *det,
					   struct watch_sample *s, uint64_t *start_us)
{
	uint64_t start = now_us();
	uint64_t t;
	enum watch_state state;

	*start_us = start;
	for (;;) {
		sample(w, port, s);
		t = now_us();
		state = watch_detector_feed(det, t, s);
		if (state != WATCH_PROGRESS) {
			assert_true(t - det->last_progress_us >= det->quiet_us);
			assert_true(t - start >= det->quiet_us);
			return state;
		}
		assert_true(t - det->last_progress_us < det->quiet_us);
		if (t - start > DEADLINE_US)
			return state;
		poll_pause();
	}
}

/* ---- listening ----------------------------------------------------------------- */

static void test_listening_detects_ipv4_listener(void **state)
{
	struct watch *w = open_watch();
	int lfd;

	(void)state;
	assert_false(listening(w, 21060));
	lfd = listen_on(AF_INET, 21060, 0);
	assert_true(listening(w, 21060));
	close(lfd);
	watch_close(w);
}

static void test_listening_detects_ipv6_listener(void **state)
{
	struct watch *w = open_watch();
	int lfd;

	(void)state;
	assert_false(listening(w, 21061));
	lfd = listen_on(AF_INET6, 21061, 0);
	assert_true(listening(w, 21061));
	close(lfd);
	watch_close(w);
}

static void test_listening_ignores_other_port(void **state)
{
	struct watch *w = open_watch();
	int lfd = listen_on(AF_INET, 21062, 0);

	(void)state;
	assert_false(listening(w, 21063));
	assert_false(listening(w, 2106)); /* a prefix of the number is not the port */
	assert_true(listening(w, 21062));
	close(lfd);
	watch_close(w);
}

static void test_listening_false_once_listener_closed(void **state)
{
	struct watch *w = open_watch();
	int lfd = listen_on(AF_INET, 21064, 0);

	(void)state;
	assert_true(listening(w, 21064));
	close(lfd);
	assert_false(listening(w, 21064));
	watch_close(w);
}

/* An accepted socket has the port as its local port but is not listening. */
static void test_listening_ignores_established_socket_on_port(void **state)
{
	struct watch *w = open_watch();
	int client, server;

	(void)state;
	connect_pair(21065, 0, &client, &server);
	assert_false(listening(w, 21065));
	close(client);
	close(server);
	watch_close(w);
}

static void test_listening_rejects_bad_port(void **state)
{
	struct watch *w = open_watch();
	struct lab_err err = { { 0 } };
	bool yes = true;

	(void)state;
	assert_int_equal(watch_listening(w, 0, &yes, &err), -1);
	assert_false(yes);
	assert_non_null(strstr(err.msg, "port 0"));
	assert_int_equal(watch_listening(w, 65536, &yes, &err), -1);
	watch_close(w);
}

struct netns_probe {
	int port;
	int unshare_errno;
	bool outer_seen;
	bool inner_seen;
	char msg[1024];
};

/* Runs in its own thread, which moves to a fresh network namespace, as the
 * driver's sandbox thread does. */
static void *netns_probe_thread(void *arg)
{
	struct netns_probe *p = arg;
	struct lab_err err = { { 0 } };
	struct sockaddr_in sin;
	struct watch *w = NULL;
	int one = 1;
	int fd = -1;

	if (unshare(CLONE_NEWNET) < 0) {
		p->unshare_errno = errno;
		return NULL;
	}
	w = watch_open(&err);
	if (w == NULL || watch_listening(w, p->port, &p->outer_seen, &err) < 0)
		goto fail;
	/* lo is down in the new namespace; the wildcard address still binds. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p->port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1) < 0) {
		lab_err_sys(&err, errno, "inner listener");
		goto fail;
	}
	if (watch_listening(w, p->port, &p->inner_seen, &err) < 0)
		goto fail;
	close(fd);
	watch_close(w);
	return NULL;
fail:
	snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
	if (fd >= 0)
		close(fd);
	watch_close(w);
	return NULL;
}

static void test_watcher_sees_only_its_namespace(void **state)
{
	struct netns_probe probe = { .port = 21066 };
	struct watch *outer = open_watch();
	pthread_t thread;
	int lfd = listen_on(AF_INET, 21066, 0);

	(void)state;
	assert_int_equal(pthread_create(&thread, NULL, netns_probe_thread, &probe), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	if (probe.unshare_errno == EPERM) {
		close(lfd);
		watch_close(outer);
		skip();
	}
	assert_int_equal(probe.unshare_errno, 0);
	if (probe.msg[0] != '\0')
		fail_msg("%s", probe.msg);
	assert_false(probe.outer_seen); /* our listener is in the other namespace */
	assert_true(probe.inner_seen);
	/* And the outer watcher still sees ours. */
	assert_true(listening(outer, 21066));
	close(lfd);
	watch_close(outer);
}

/* ---- samples --------------------------------------------------------------------- */

static void test_sample_sees_pair_with_bytes_moved(void **state)
{
	static struct watch_sample s;
	struct watch_conn conns[4];
	struct watch *w = open_watch();
	const struct watch_socket *cl, *sv;
	uint64_t deadline = now_us() + DEADLINE_US;
	int client, server, other_client, other_server;
	uint16_t client_port;

	(void)state;
	connect_pair(21070, 0, &client, &server);
	connect_pair(21071, 0, &other_client, &other_server); /* must not show up */
	client_port = local_port_of(client);
	send_all(client, 100000);
	recv_all(server, 100000);
	send_all(server, 5000);
	recv_all(client, 5000);
	send_all(other_client, 777);

	/* The last ACK may be delayed (up to 40 ms): wait for it, bounded. */
	for (;;) {
		sample(w, 21070, &s);
		cl = find_local_port(&s, client_port);
		sv = find_local_port(&s, 21070);
		/* The client's count includes its SYN. */
		if (cl != NULL && sv != NULL && cl->bytes_acked == 100001 &&
		    sv->bytes_acked == 5000 && cl->send_queue_bytes == 0 &&
		    sv->send_queue_bytes == 0)
			break;
		assert_true(now_us() < deadline);
		poll_pause();
	}
	assert_int_equal(s.count, 2);
	assert_int_equal(s.overflow_count, 0);
	assert_int_equal(s.port, 21070);
	assert_true(cl->has_info);
	assert_true(cl->has_snd_wnd);
	assert_true(cl->snd_wnd_bytes > 0);
	assert_true(cl->rcv_space_bytes > 0);
	assert_int_equal(cl->state, WATCH_TCP_ESTABLISHED);
	assert_int_equal(sv->state, WATCH_TCP_ESTABLISHED);
	assert_int_equal(cl->family, AF_INET);
	assert_int_equal(cl->remote_port, 21070);
	assert_int_equal(sv->remote_port, client_port);
	assert_int_equal(cl->bytes_received, 5000);
	assert_int_equal(sv->bytes_received, 100000);
	assert_int_equal(cl->recv_queue_bytes, 0);
	assert_int_equal(sv->recv_queue_bytes, 0);
	assert_int_equal(cl->probes, 0);
	assert_int_equal(cl->backoff, 0);
	assert_int_equal(cl->local_addr[10], 0xff); /* 127.0.0.1 as ::ffff:127.0.0.1 */
	assert_int_equal(cl->local_addr[12], 127);
	assert_int_equal(cl->remote_addr[15], 1);
	assert_true(cl->cookie != sv->cookie);
	assert_true(cl->inode != 0);
	assert_int_equal(s.bytes_acked, 105001);
	assert_int_equal(s.bytes_received, 105000);
	assert_int_equal(s.send_queue_bytes, 0);

	assert_int_equal(watch_sample_conns(&s, conns, 4), 1);
	assert_true(conns[0].has_client && conns[0].has_server);
	assert_int_equal(conns[0].client.local_port, client_port);
	assert_int_equal(conns[0].client_to_server_bytes, 100000);
	assert_int_equal(conns[0].server_to_client_bytes, 5000);
	assert_false(conns[0].queued);

	close(client);
	close(server);
	close(other_client);
	close(other_server);
	watch_close(w);
}

/* The unread bytes of a reader show as its receive queue, exactly. */
static void test_sample_reports_queues(void **state)
{
	static struct watch_sample s;
	struct watch *w = open_watch();
	const struct watch_socket *sv;
	uint64_t deadline = now_us() + DEADLINE_US;
	int client, server;

	(void)state;
	connect_pair(21072, 0, &client, &server);
	send_all(client, 3000);
	for (;;) {
		sample(w, 21072, &s);
		sv = find_local_port(&s, 21072);
		if (sv != NULL && sv->recv_queue_bytes == 3000)
			break;
		assert_true(now_us() < deadline);
		poll_pause();
	}
	assert_int_equal(sv->bytes_received, 3000);
	assert_int_equal(s.recv_queue_bytes, 3000);
	close(client);
	close(server);
	watch_close(w);
}

static void test_sample_sees_ipv6_pair(void **state)
{
	static struct watch_sample s;
	struct sockaddr_in6 sin6;
	struct watch *w = open_watch();
	int lfd = listen_on(AF_INET6, 21073, 0);
	int client, server;

	(void)state;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(21073);
	sin6.sin6_addr = in6addr_loopback;
	client = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(client >= 0);
	assert_int_equal(connect(client, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	server = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(server >= 0);
	sample(w, 21073, &s);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.sockets[0].family, AF_INET6);
	assert_int_equal(s.sockets[0].local_addr[15], 1); /* ::1 */
	assert_int_equal(s.sockets[0].local_addr[10], 0);
	close(client);
	close(server);
	close(lfd);
	watch_close(w);
}

/* 33 connections = 66 sockets: 64 stored, 2 counted. */
static void test_sample_counts_overflow(void **state)
{
	static struct watch_sample s;
	struct watch *w = open_watch();
	int fds[2 * 33];
	int lfd;
	size_t i;

	(void)state;
	lfd = listen_on(AF_INET, 21074, 0);
	for (i = 0; i < 33; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(21074) };

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[2 * i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fds[2 * i] >= 0);
		assert_int_equal(connect(fds[2 * i], (struct sockaddr *)&sin, sizeof(sin)), 0);
		fds[2 * i + 1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		assert_true(fds[2 * i + 1] >= 0);
	}
	sample(w, 21074, &s);
	assert_int_equal(s.count, WATCH_MAX_SOCKETS);
	assert_int_equal(s.overflow_count, 66 - WATCH_MAX_SOCKETS);
	for (i = 0; i < 66; i++)
		close(fds[i]);
	close(lfd);
	watch_close(w);
}

/* ---- the detector on real sockets -------------------------------------------------- */

/* Both ends fill their send queue and the peer's receive queue, and read nothing:
 * the tcp_deadlock case in one process. */
static void check_real_deadlock(int port, int buf_bytes)
{
	static struct watch_detector det;
	static struct watch_sample s;
	struct watch *w = open_watch();
	const struct watch_conn *c;
	uint64_t client_written, server_written, start;
	char text[512];
	int client, server;

	connect_pair(port, buf_bytes, &client, &server);
	client_written = fill(client);
	server_written = fill(server);
	assert_true(client_written > 0 && server_written > 0);

	watch_detector_init(&det, QUIET_US);
	assert_int_equal(poll_until_verdict(w, port, &det, &s, &start), WATCH_DEADLOCK);

	c = watch_detector_conn(&det);
	assert_non_null(c);
	assert_true(c->has_client && c->has_server && c->blocked_both_ways);
	assert_int_equal(det.conn_count, 1);
	/* Every byte written is either across (acknowledged) or still queued. */
	assert_int_equal(c->client_to_server_bytes + c->client.send_queue_bytes, client_written);
	assert_int_equal(c->server_to_client_bytes + c->server.send_queue_bytes, server_written);
	/* Nobody read: all that arrived waits in the receive queues. */
	assert_int_equal(c->server.recv_queue_bytes, c->client_to_server_bytes);
	assert_int_equal(c->client.recv_queue_bytes, c->server_to_client_bytes);
	assert_true(c->client.send_queue_bytes > 0 && c->server.send_queue_bytes > 0);

	watch_detector_describe(&det, text, sizeof(text));
	assert_non_null(strstr(text, "deadlock: no progress for "));
	assert_non_null(strstr(text, "client->server"));
	print_message("buffers %d: verdict after %llu ms: %s\n", buf_bytes,
		      (unsigned long long)((now_us() - start) / 1000), text);
	close(client);
	close(server);
	watch_close(w);
}

static void test_real_deadlock_small_buffers_is_deadlock_after_quiet(void **state)
{
	(void)state;
	check_real_deadlock(21080, 4096);
}

/* Default (autotuned) buffers: the queues hold megabytes, as with tcp_deadlock.py. */
static void test_real_deadlock_default_buffers_is_deadlock_after_quiet(void **state)
{
	(void)state;
	check_real_deadlock(21084, 0);
}

static void test_real_idle_connection_is_idle(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;
	struct watch *w = open_watch();
	uint64_t start;
	int client, server;

	(void)state;
	connect_pair(21081, 0, &client, &server);
	watch_detector_init(&det, QUIET_US);
	assert_int_equal(poll_until_verdict(w, 21081, &det, &s, &start), WATCH_IDLE);
	assert_int_equal(det.conn_count, 1);
	close(client);
	close(server);
	watch_close(w);
}

/* One side writes until full; the other never reads and never writes. */
static void test_real_one_way_stall_is_stall(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;
	struct watch *w = open_watch();
	const struct watch_conn *c;
	uint64_t start, written;
	int client, server;

	(void)state;
	connect_pair(21082, 4096, &client, &server);
	written = fill(client);
	watch_detector_init(&det, QUIET_US);
	assert_int_equal(poll_until_verdict(w, 21082, &det, &s, &start), WATCH_STALL);
	c = watch_detector_conn(&det);
	assert_non_null(c);
	assert_false(c->blocked_both_ways);
	assert_true(c->client.send_queue_bytes > 0);
	assert_int_equal(c->server.send_queue_bytes, 0);
	assert_int_equal(c->client_to_server_bytes + c->client.send_queue_bytes, written);
	close(client);
	close(server);
	watch_close(w);
}

/* A transfer that keeps moving is progress on every sample. */
static void test_real_flowing_transfer_is_progress(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;
	static char buf[65536];
	struct watch *w = open_watch();
	uint64_t read_total = 0, t, start;
	unsigned int feeds = 0;
	ssize_t n;
	int client, server;

	(void)state;
	connect_pair(21083, 0, &client, &server);
	set_nonblocking(client);
	set_nonblocking(server);
	/* Short quiet time: the transfer must never look quiet even then. */
	watch_detector_init(&det, 20000);
	start = now_us();
	/* At least 20 samples over at least three quiet times, however slow the
	 * machine: counted, not timed. */
	while (feeds < 20 || now_us() - start < 3 * 20000) {
		n = send(client, buf, 16384, MSG_NOSIGNAL);
		assert_true(n > 0 || errno == EAGAIN);
		while ((n = recv(server, buf, sizeof(buf), 0)) > 0)
			read_total += (uint64_t)n;
		sample(w, 21083, &s);
		t = now_us();
		assert_int_equal(watch_detector_feed(&det, t, &s), WATCH_PROGRESS);
		feeds++;
		poll_pause();
	}
	assert_true(read_total > 0);
	assert_true(det.client_to_server_bytes >= read_total);
	close(client);
	close(server);
	watch_close(w);
}

/* ---- the detector on synthetic samples ------------------------------------------- */

static struct watch_socket fake_socket(uint64_t cookie, uint16_t local_port, uint16_t remote_port)
{
	struct watch_socket s;

	memset(&s, 0, sizeof(s));
	s.cookie = cookie;
	s.family = AF_INET;
	s.local_addr[10] = s.local_addr[11] = 0xff;
	s.local_addr[12] = 127;
	s.local_addr[15] = 1;
	memcpy(s.remote_addr, s.local_addr, 16);
	s.local_port = local_port;
	s.remote_port = remote_port;
	s.state = WATCH_TCP_ESTABLISHED;
	s.has_info = true;
	return s;
}

/* A client (port 40000) and server (1060) pair with the given queues and counts. */
static void fake_pair(struct watch_sample *s, uint32_t client_sq, uint32_t client_rq,
		      uint32_t server_sq, uint32_t server_rq, uint64_t c2s_bytes,
		      uint64_t s2c_bytes)
{
	memset(s, 0, sizeof(*s));
	s->port = 1060;
	s->count = 2;
	s->sockets[0] = fake_socket(11, 40000, 1060);
	s->sockets[0].send_queue_bytes = client_sq;
	s->sockets[0].recv_queue_bytes = client_rq;
	s->sockets[0].bytes_acked = c2s_bytes;
	s->sockets[0].bytes_received = s2c_bytes;
	s->sockets[1] = fake_socket(22, 1060, 40000);
	s->sockets[1].send_queue_bytes = server_sq;
	s->sockets[1].recv_queue_bytes = server_rq;
	s->sockets[1].bytes_acked = s2c_bytes;
	s->sockets[1].bytes_received = c2s_bytes;
}

static void test_detector_deadlock_only_after_quiet(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;

	(void)state;
	fake_pair(&s, 2500000, 1200000, 2500000, 1000000, 13600000, 6500000);
	watch_detector_init(&det, 200000);
	assert_int_equal(watch_detector_feed(&det, 1000000, &s), WATCH_PROGRESS);
	assert_int_equal(watch_detector_feed(&det, 1100000, &s), WATCH_PROGRESS);
	assert_int_equal(watch_detector_feed(&det, 1199999, &s), WATCH_PROGRESS);
	assert_int_equal(watch_detector_feed(&det, 1200000, &s), WATCH_DEADLOCK);
	assert_int_equal(det.last_progress_us, 1000000);
	assert_int_equal(det.client_to_server_bytes, 13600000);
	assert_int_equal(det.server_to_client_bytes, 6500000);
}

static void test_detector_progress_restarts_quiet_time(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;

	(void)state;
	watch_detector_init(&det, 200000);
	fake_pair(&s, 100, 100, 100, 100, 1000, 1000);
	assert_int_equal(watch_detector_feed(&det, 0, &s), WATCH_PROGRESS);
	fake_pair(&s, 100, 100, 100, 100, 1001, 1000); /* one byte acked */
	assert_int_equal(watch_detector_feed(&det, 150000, &s), WATCH_PROGRESS);
	assert_int_equal(watch_detector_feed(&det, 300000, &s), WATCH_PROGRESS);
	fake_pair(&s, 100, 101, 100, 100, 1001, 1000); /* a queue grew */
	assert_int_equal(watch_detector_feed(&det, 340000, &s), WATCH_PROGRESS);
	assert_int_equal(watch_detector_feed(&det, 539999, &s), WATCH_PROGRESS);
	assert_int_equal(watch_detector_feed(&det, 540000, &s), WATCH_DEADLOCK);
}

static void test_detector_nothing_queued_is_idle(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;

	(void)state;
	fake_pair(&s, 0, 0, 0, 0, 16, 16);
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 0, &s);
	assert_int_equal(watch_detector_feed(&det, 250000, &s), WATCH_IDLE);
}

static void test_detector_no_sockets_is_idle(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;
	char text[128];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.port = 1060;
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 0, &s);
	assert_int_equal(watch_detector_feed(&det, 200000, &s), WATCH_IDLE);
	assert_null(watch_detector_conn(&det));
	watch_detector_describe(&det, text, sizeof(text));
	assert_string_equal(text, "idle: no connection on port 1060");
}

static void test_detector_one_way_queue_is_stall(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;

	(void)state;
	/* Client's send queue and server's receive queue full; nothing the other way. */
	fake_pair(&s, 2500000, 0, 0, 1000000, 13600000, 0);
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 0, &s);
	assert_int_equal(watch_detector_feed(&det, 200000, &s), WATCH_STALL);
	/* Unread data both ways but nobody stuck sending: a stall, not a deadlock. */
	fake_pair(&s, 0, 10, 0, 10, 10, 10);
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 0, &s);
	assert_int_equal(watch_detector_feed(&det, 200000, &s), WATCH_STALL);
}

static void test_detector_ignores_dump_order(void **state)
{
	static struct watch_detector det;
	static struct watch_sample a, b;

	(void)state;
	fake_pair(&a, 5, 5, 5, 5, 100, 100);
	b = a;
	b.sockets[0] = a.sockets[1];
	b.sockets[1] = a.sockets[0];
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 0, &a);
	watch_detector_feed(&det, 100000, &b);
	assert_int_equal(watch_detector_feed(&det, 200000, &a), WATCH_DEADLOCK);
}

static void test_detector_socket_gone_is_progress(void **state)
{
	static struct watch_detector det;
	static struct watch_sample a, b;

	(void)state;
	fake_pair(&a, 5, 5, 5, 5, 100, 100);
	b = a;
	b.sockets[1] = fake_socket(33, 1060, 40001); /* same count, another socket */
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 0, &a);
	assert_int_equal(watch_detector_feed(&det, 300000, &b), WATCH_PROGRESS);
	assert_int_equal(det.last_progress_us, 300000);
	assert_int_equal(det.conn_count, 2); /* the client lost its peer */
	b.count = 1;
	assert_int_equal(watch_detector_feed(&det, 350000, &b), WATCH_PROGRESS);
	assert_int_equal(det.last_progress_us, 350000);
}

static void test_detector_state_change_is_progress(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;

	(void)state;
	fake_pair(&s, 0, 0, 0, 0, 100, 100);
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 0, &s);
	s.sockets[0].state = WATCH_TCP_FIN_WAIT2;
	assert_int_equal(watch_detector_feed(&det, 250000, &s), WATCH_PROGRESS);
}

static void test_conns_pair_ipv4_client_with_mapped_server(void **state)
{
	static struct watch_sample s;
	struct watch_conn conns[4];

	(void)state;
	fake_pair(&s, 0, 0, 0, 0, 7, 9);
	s.sockets[1].family = AF_INET6;              /* a dual-stack listener's accepted socket */
	s.sockets[2] = fake_socket(44, 1060, 40002); /* server end, client unseen */
	s.count = 3;
	assert_int_equal(watch_sample_conns(&s, conns, 4), 2);
	assert_true(conns[0].has_client && conns[0].has_server);
	assert_int_equal(conns[0].server.cookie, 22);
	assert_int_equal(conns[0].client_to_server_bytes, 7);
	assert_int_equal(conns[0].server_to_client_bytes, 9);
	assert_false(conns[1].has_client);
	assert_int_equal(conns[1].server.cookie, 44);
	/* Capacity is respected. */
	assert_int_equal(watch_sample_conns(&s, conns, 1), 1);
}

static void test_conns_one_end_visible_deadlock_rule(void **state)
{
	static struct watch_sample s;
	struct watch_conn conns[2];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.port = 1060;
	s.count = 1;
	s.sockets[0] = fake_socket(11, 40000, 1060);
	s.sockets[0].send_queue_bytes = 100;
	assert_int_equal(watch_sample_conns(&s, conns, 2), 1);
	assert_false(conns[0].blocked_both_ways);
	s.sockets[0].recv_queue_bytes = 100;
	watch_sample_conns(&s, conns, 2);
	assert_true(conns[0].blocked_both_ways);
}

static void test_describe_deadlock_in_words(void **state)
{
	static struct watch_detector det;
	static struct watch_sample s;
	char text[512];
	char small[16];

	(void)state;
	fake_pair(&s, 2500000, 1200000, 2500000, 1000000, 13600000, 6500000);
	watch_detector_init(&det, 200000);
	watch_detector_feed(&det, 1000000, &s);
	watch_detector_feed(&det, 1250000, &s);
	watch_detector_describe(&det, text, sizeof(text));
	assert_string_equal(text, "deadlock: no progress for 250 ms after 13.6 MB client->server "
				  "and 6.5 MB server->client; queues: client send 2.5 MB "
				  "recv 1.2 MB, server send 2.5 MB recv 1.0 MB");
	watch_detector_describe(&det, small, sizeof(small));
	assert_string_equal(small, "deadlock: no pr");
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(watch_state_name(WATCH_DEADLOCK), "deadlock");
	assert_string_equal(watch_state_name(WATCH_IDLE), "idle");
	assert_string_equal(watch_tcp_state_name(WATCH_TCP_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(watch_tcp_state_name(WATCH_TCP_LISTEN), "LISTEN");
	assert_string_equal(watch_tcp_state_name(99), "UNKNOWN");
	assert_string_equal(watch_tcp_state_name(0), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listening_detects_ipv4_listener),
		cmocka_unit_test(test_listening_detects_ipv6_listener),
		cmocka_unit_test(test_listening_ignores_other_port),
		cmocka_unit_test(test_listening_false_once_listener_closed),
		cmocka_unit_test(test_listening_ignores_established_socket_on_port),
		cmocka_unit_test(test_listening_rejects_bad_port),
		cmocka_unit_test(test_watcher_sees_only_its_namespace),
		cmocka_unit_test(test_sample_sees_pair_with_bytes_moved),
		cmocka_unit_test(test_sample_reports_queues),
		cmocka_unit_test(test_sample_sees_ipv6_pair),
		cmocka_unit_test(test_sample_counts_overflow),
		cmocka_unit_test(test_real_deadlock_small_buffers_is_deadlock_after_quiet),
		cmocka_unit_test(test_real_deadlock_default_buffers_is_deadlock_after_quiet),
		cmocka_unit_test(test_real_idle_connection_is_idle),
		cmocka_unit_test(test_real_one_way_stall_is_stall),
		cmocka_unit_test(test_real_flowing_transfer_is_progress),
		cmocka_unit_test(test_detector_deadlock_only_after_quiet),
		cmocka_unit_test(test_detector_progress_restarts_quiet_time),
		cmocka_unit_test(test_detector_nothing_queued_is_idle),
		cmocka_unit_test(test_detector_no_sockets_is_idle),
		cmocka_unit_test(test_detector_one_way_queue_is_stall),
		cmocka_unit_test(test_detector_ignores_dump_order),
		cmocka_unit_test(test_detector_socket_gone_is_progress),
		cmocka_unit_test(test_detector_state_change_is_progress),
		cmocka_unit_test(test_conns_pair_ipv4_client_with_mapped_server),
		cmocka_unit_test(test_conns_one_end_visible_deadlock_rule),
		cmocka_unit_test(test_describe_deadlock_in_words),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
