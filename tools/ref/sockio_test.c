/* sockio_test: the send-all / receive-exactly loops over real sockets
 * (socketpair(AF_UNIX, SOCK_STREAM)): whole transfers, data that arrives in
 * pieces, a peer that closes early, a small send buffer drained by a concurrent
 * reader, EINTR in the middle of a receive; and the Python-style formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "sockio.h"

#define WAIT_LIMIT_MS 5000

/* A connected pair: fd[0] is "ours", fd[1] the peer's. Closed by teardown. */
static int setup_pair(void **state)
{
	int *fd = malloc(2 * sizeof(int));

	if (fd == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, fd) < 0)
		return -1;
	*state = fd;
	return 0;
}

static int teardown_pair(void **state)
{
	int *fd = *state;

	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	free(fd);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits (with a deadline) until the reader end has no unread bytes left, i.e. the
 * code under test has consumed what was written so far. */
static int wait_consumed(int reader_fd)
{
	long deadline = now_ms() + WAIT_LIMIT_MS;
	int queued = 0;

	for (;;) {
		if (ioctl(reader_fd, FIONREAD, &queued) < 0)
			return -1;
		if (queued == 0)
			return 0;
		if (now_ms() > deadline)
			return -1;
		sched_yield();
	}
}

/* Waits (with a deadline) until thread tid sleeps in the kernel (state 'S'). */
static int wait_sleeping(pid_t tid)
{
	long deadline = now_ms() + WAIT_LIMIT_MS;
	char path[64];
	char stat[512];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (;;) {
		FILE *f = fopen(path, "r");
		char *close_paren;
		size_t n;

		if (f == NULL)
			return -1;
		n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = '\0';
		close_paren = strrchr(stat, ')');
		if (close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'S')
			return 0;
		if (now_ms() > deadline)
			return -1;
		sched_yield();
	}
}

/* ---- sendall / recvall -------------------------------------------------------- */

static void test_sendall_moves_the_whole_buffer(void **state)
{
	int *fd = *state;
	char got[16];

	assert_int_equal(sockio_sendall(fd[0], "Hi there, server", 16), 16);
	assert_int_equal(read(fd[1], got, sizeof(got)), 16);
	assert_memory_equal(got, "Hi there, server", 16);
}

static void test_sendall_of_nothing_returns_zero(void **state)
{
	int *fd = *state;

	assert_int_equal(sockio_sendall(fd[0], "", 0), 0);
}

static void test_recvall_gathers_several_writes(void **state)
{
	int *fd = *state;
	char got[16];

	assert_int_equal(write(fd[1], "Farew", 5), 5);
	assert_int_equal(write(fd[1], "ell, ", 5), 5);
	assert_int_equal(write(fd[1], "client", 6), 6);
	assert_int_equal(sockio_recvall(fd[0], got, sizeof(got)), 16);
	assert_memory_equal(got, "Farewell, client", 16);
}

static void test_recvall_leaves_later_bytes_unread(void **state)
{
	int *fd = *state;
	char got[4];
	char rest[4];

	assert_int_equal(write(fd[1], "abcdefgh", 8), 8);
	assert_int_equal(sockio_recvall(fd[0], got, sizeof(got)), 4);
	assert_memory_equal(got, "abcd", 4);
	assert_int_equal(read(fd[0], rest, sizeof(rest)), 4);
	assert_memory_equal(rest, "efgh", 4);
}

struct piece_writer {
	int writer_fd;
	int reader_fd;
	const char *data;
	size_t piece_bytes;
	size_t total_bytes;
	int ok;
};

/* Writes data one piece at a time, each only after the reader took the last one,
 * so the receive loop must see several short reads. */
static void *write_pieces(void *arg)
{
	struct piece_writer *w = arg;
	size_t off;

	w->ok = 1;
	for (off = 0; off < w->total_bytes; off += w->piece_bytes) {
		size_t n = w->total_bytes - off < w->piece_bytes ? w->total_bytes - off
								 : w->piece_bytes;

		if (write(w->writer_fd, w->data + off, n) != (ssize_t)n ||
		    wait_consumed(w->reader_fd) < 0) {
			w->ok = 0;
			break;
		}
	}
	return NULL;
}

static void test_recvall_waits_for_pieces_from_a_writer_thread(void **state)
{
	int *fd = *state;
	struct piece_writer w = {
		.writer_fd = fd[1],
		.reader_fd = fd[0],
		.data = "Hi there, server",
		.piece_bytes = 3,
		.total_bytes = 16,
	};
	pthread_t thread;
	char got[16];

	assert_int_equal(pthread_create(&thread, NULL, write_pieces, &w), 0);
	assert_int_equal(sockio_recvall(fd[0], got, sizeof(got)), 16);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_true(w.ok);
	assert_memory_equal(got, "Hi there, server", 16);
}

static void test_recvall_returns_the_short_count_when_the_peer_closes_early(void **state)
{
	int *fd = *state;
	char got[16];

	assert_int_equal(write(fd[1], "Hi th", 5), 5);
	close(fd[1]);
	fd[1] = -1;
	assert_int_equal(sockio_recvall(fd[0], got, sizeof(got)), 5);
	assert_memory_equal(got, "Hi th", 5);
}

static void test_recvall_returns_zero_when_the_peer_closes_at_once(void **state)
{
	int *fd = *state;
	char got[16];

	close(fd[1]);
	fd[1] = -1;
	assert_int_equal(sockio_recvall(fd[0], got, sizeof(got)), 0);
}

static void test_recvall_reports_errors_with_errno(void **state)
{
	char got[16];
	int pipe_fd[2];

	(void)state;
	assert_int_equal(pipe(pipe_fd), 0);
	errno = 0;
	assert_int_equal(sockio_recvall(pipe_fd[0], got, sizeof(got)), -1);
	assert_int_equal(errno, ENOTSOCK);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
}

static void test_sendall_reports_epipe_without_a_signal(void **state)
{
	int *fd = *state;

	close(fd[1]);
	fd[1] = -1;
	/* SIGPIPE is left at its default here: only MSG_NOSIGNAL keeps us alive. */
	errno = 0;
	assert_int_equal(sockio_sendall(fd[0], "Farewell, client", 16), -1);
	assert_int_equal(errno, EPIPE);
}

struct drain {
	int fd;
	size_t got_bytes;
	int pattern_ok;
};

/* Reads until EOF and checks byte i == (i * 7) % 251. */
static void *drain_reader(void *arg)
{
	struct drain *d = arg;
	unsigned char buf[1000];
	ssize_t n;
	ssize_t i;

	d->pattern_ok = 1;
	while ((n = read(d->fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != (unsigned char)(((d->got_bytes + (size_t)i) * 7) % 251))
				d->pattern_ok = 0;
		d->got_bytes += (size_t)n;
	}
	return NULL;
}

static void test_sendall_moves_a_large_buffer_through_a_small_sndbuf(void **state)
{
	int *fd = *state;
	size_t len = 4 * 1024 * 1024;
	unsigned char *data = malloc(len);
	struct drain d = { .fd = fd[1] };
	int sndbuf = 4096;
	pthread_t thread;
	size_t i;

	assert_non_null(data);
	for (i = 0; i < len; i++)
		data[i] = (unsigned char)((i * 7) % 251);
	assert_int_equal(setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	assert_int_equal(pthread_create(&thread, NULL, drain_reader, &d), 0);
	assert_int_equal(sockio_sendall(fd[0], data, len), (ssize_t)len);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(d.got_bytes, len);
	assert_true(d.pattern_ok);
	free(data);
}

static volatile sig_atomic_t signals_seen;

static void count_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

struct interrupter {
	pthread_t target;
	pid_t target_tid;
	int writer_fd;
	int reader_fd;
	int ok;
};

/* Half the message, then a signal while the receiver sleeps, then the rest. */
static void *interrupt_receiver(void *arg)
{
	struct interrupter *it = arg;

	it->ok = write(it->writer_fd, "Hi there", 8) == 8 && wait_consumed(it->reader_fd) == 0 &&
		 wait_sleeping(it->target_tid) == 0 && pthread_kill(it->target, SIGUSR1) == 0;
	/* The handler has run once the signal is no longer pending for the target. */
	while (it->ok && signals_seen == 0)
		sched_yield();
	if (it->ok)
		it->ok = write(it->writer_fd, ", server", 8) == 8;
	return NULL;
}

static void test_recvall_continues_after_eintr(void **state)
{
	int *fd = *state;
	struct sigaction sa;
	struct sigaction old;
	struct interrupter it = {
		.target = pthread_self(),
		.target_tid = (pid_t)syscall(SYS_gettid),
		.writer_fd = fd[1],
		.reader_fd = fd[0],
	};
	pthread_t thread;
	char got[16];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal; /* no SA_RESTART: recv fails with EINTR */
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	signals_seen = 0;
	assert_int_equal(pthread_create(&thread, NULL, interrupt_receiver, &it), 0);
	assert_int_equal(sockio_recvall(fd[0], got, sizeof(got)), 16);
	assert_int_equal(pthread_join(thread, NULL), 0);
	sigaction(SIGUSR1, &old, NULL);
	assert_true(it.ok);
	assert_int_equal(signals_seen, 1);
	assert_memory_equal(got, "Hi there, server", 16);
}

struct cutter {
	pthread_t target;
	pid_t target_tid;
	struct drain drain;
	int ok;
};

/* Waits until the sender is blocked with a full send buffer, signals it (its send
 * then returns a short count), then drains the socket. */
static void *cut_send_short(void *arg)
{
	struct cutter *c = arg;
	long deadline = now_ms() + WAIT_LIMIT_MS;
	int queued = 0;

	c->ok = 0;
	while (queued == 0 && now_ms() < deadline) {
		if (ioctl(c->drain.fd, FIONREAD, &queued) < 0)
			return NULL;
		sched_yield();
	}
	if (queued == 0 || wait_sleeping(c->target_tid) < 0 ||
	    pthread_kill(c->target, SIGUSR1) != 0)
		return NULL;
	while (signals_seen == 0)
		sched_yield();
	c->ok = 1;
	return drain_reader(&c->drain);
}

static void test_sendall_continues_after_a_signal_cuts_a_send_short(void **state)
{
	int *fd = *state;
	size_t len = 1024 * 1024;
	unsigned char *data = malloc(len);
	struct cutter c = {
		.target = pthread_self(),
		.target_tid = (pid_t)syscall(SYS_gettid),
		.drain = { .fd = fd[1] },
	};
	struct sigaction sa;
	struct sigaction old;
	int sndbuf = 4096;
	pthread_t thread;
	size_t i;

	assert_non_null(data);
	for (i = 0; i < len; i++)
		data[i] = (unsigned char)((i * 7) % 251);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal; /* no SA_RESTART: the blocked send returns early */
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	signals_seen = 0;
	assert_int_equal(setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	assert_int_equal(pthread_create(&thread, NULL, cut_send_short, &c), 0);
	assert_int_equal(sockio_sendall(fd[0], data, len), (ssize_t)len);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	sigaction(SIGUSR1, &old, NULL);
	assert_true(c.ok);
	assert_int_equal(signals_seen, 1);
	assert_int_equal(c.drain.got_bytes, len);
	assert_true(c.drain.pattern_ok);
	free(data);
}

/* ---- formatting ------------------------------------------------------------- */

static void test_ipv4_address_prints_as_a_python_tuple(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1060) };
	char buf[128];

	(void)state;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(sockio_format_addr(buf, sizeof(buf), (struct sockaddr *)&sin, sizeof(sin)),
			 0);
	assert_string_equal(buf, "('127.0.0.1', 1060)");
}

static void test_ipv6_address_prints_with_flowinfo_and_scope(void **state)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(54321) };
	char buf[128];

	(void)state;
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	assert_int_equal(
		sockio_format_addr(buf, sizeof(buf), (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	assert_string_equal(buf, "('::1', 54321, 0, 0)");
}

static void test_unnamed_unix_socket_prints_as_empty_string(void **state)
{
	int *fd = *state;
	char buf[128];

	assert_int_equal(sockio_format_local(buf, sizeof(buf), fd[0]), 0);
	assert_string_equal(buf, "''");
	assert_int_equal(sockio_format_peer(buf, sizeof(buf), fd[0]), 0);
	assert_string_equal(buf, "''");
}

static void test_format_local_of_a_bad_fd_fails_with_errno(void **state)
{
	char buf[128];

	(void)state;
	errno = 0;
	assert_int_equal(sockio_format_local(buf, sizeof(buf), -1), -1);
	assert_int_equal(errno, EBADF);
}

static void test_bytes_print_like_python_repr(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(sockio_format_bytes(buf, sizeof(buf), "Hi there, server", 16), 0);
	assert_string_equal(buf, "b'Hi there, server'");
	assert_int_equal(sockio_format_bytes(buf, sizeof(buf), "a\tb\nc\rd\\e\x01\xff", 11), 0);
	assert_string_equal(buf, "b'a\\tb\\nc\\rd\\\\e\\x01\\xff'");
	assert_int_equal(sockio_format_bytes(buf, sizeof(buf), "it's", 4), 0);
	assert_string_equal(buf, "b\"it's\"");
	assert_int_equal(sockio_format_bytes(buf, sizeof(buf), "'\"", 2), 0);
	assert_string_equal(buf, "b'\\'\"'");
	assert_int_equal(sockio_format_bytes(buf, sizeof(buf), NULL, 0), 0);
	assert_string_equal(buf, "b''");
}

static void test_bytes_truncation_is_reported(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(sockio_format_bytes(buf, sizeof(buf), "Hi there, server", 16), -1);
	assert_true(strlen(buf) < sizeof(buf));
}

static void test_errors_print_as_the_last_traceback_line(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(sockio_format_error(buf, sizeof(buf), ECONNREFUSED), 0);
	assert_string_equal(buf, "ConnectionRefusedError: [Errno 111] Connection refused");
	assert_int_equal(sockio_format_error(buf, sizeof(buf), ECONNRESET), 0);
	assert_string_equal(buf, "ConnectionResetError: [Errno 104] Connection reset by peer");
	assert_int_equal(sockio_format_error(buf, sizeof(buf), EPIPE), 0);
	assert_string_equal(buf, "BrokenPipeError: [Errno 32] Broken pipe");
	assert_int_equal(sockio_format_error(buf, sizeof(buf), ETIMEDOUT), 0);
	assert_string_equal(buf, "TimeoutError: [Errno 110] Connection timed out");
	assert_int_equal(sockio_format_error(buf, sizeof(buf), EADDRINUSE), 0);
	assert_string_equal(buf, "OSError: [Errno 98] Address already in use");
}

static void test_eof_prints_the_books_message(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(sockio_format_eof(buf, sizeof(buf), 16, 5), 0);
	assert_string_equal(buf, "EOFError: was expecting 16 bytes but only received 5 bytes"
				 " before the socket closed");
}

static void test_lookup_errors_print_as_gaierror(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(sockio_format_gai_error(buf, sizeof(buf), -2), 0);
	assert_string_equal(buf, "socket.gaierror: [Errno -2] Name or service not known");
}

static void test_parse_uint_takes_plain_integers_only(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(sockio_parse_uint("1073741824", UINT64_MAX, &v), 0);
	assert_int_equal(v, 1073741824);
	assert_int_equal(sockio_parse_uint("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sockio_parse_uint("65535", 65535, &v), 0);
	assert_int_equal(sockio_parse_uint("65536", 65535, &v), -1);
	assert_int_equal(sockio_parse_uint("18446744073709551616", UINT64_MAX, &v), -1);
	assert_int_equal(sockio_parse_uint("", 100, &v), -1);
	assert_int_equal(sockio_parse_uint("-5", 100, &v), -1);
	assert_int_equal(sockio_parse_uint("1e3", 10000, &v), -1);
	assert_int_equal(sockio_parse_uint(" 16", 100, &v), -1);
	assert_int_equal(sockio_parse_uint("16x", 100, &v), -1);
	assert_int_equal(sockio_parse_uint("5", 3, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sendall_moves_the_whole_buffer, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(test_sendall_of_nothing_returns_zero, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(test_recvall_gathers_several_writes, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(test_recvall_leaves_later_bytes_unread, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(test_recvall_waits_for_pieces_from_a_writer_thread,
						setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(
			test_recvall_returns_the_short_count_when_the_peer_closes_early, setup_pair,
			teardown_pair),
		cmocka_unit_test_setup_teardown(
			test_recvall_returns_zero_when_the_peer_closes_at_once, setup_pair,
			teardown_pair),
		cmocka_unit_test(test_recvall_reports_errors_with_errno),
		cmocka_unit_test_setup_teardown(test_sendall_reports_epipe_without_a_signal,
						setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(
			test_sendall_moves_a_large_buffer_through_a_small_sndbuf, setup_pair,
			teardown_pair),
		cmocka_unit_test_setup_teardown(test_recvall_continues_after_eintr, setup_pair,
						teardown_pair),
		cmocka_unit_test_setup_teardown(
			test_sendall_continues_after_a_signal_cuts_a_send_short, setup_pair,
			teardown_pair),
		cmocka_unit_test(test_ipv4_address_prints_as_a_python_tuple),
		cmocka_unit_test(test_ipv6_address_prints_with_flowinfo_and_scope),
		cmocka_unit_test_setup_teardown(test_unnamed_unix_socket_prints_as_empty_string,
						setup_pair, teardown_pair),
		cmocka_unit_test(test_format_local_of_a_bad_fd_fails_with_errno),
		cmocka_unit_test(test_bytes_print_like_python_repr),
		cmocka_unit_test(test_bytes_truncation_is_reported),
		cmocka_unit_test(test_errors_print_as_the_last_traceback_line),
		cmocka_unit_test(test_eof_prints_the_books_message),
		cmocka_unit_test(test_lookup_errors_print_as_gaierror),
		cmocka_unit_test(test_parse_uint_takes_plain_integers_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
