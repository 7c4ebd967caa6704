/* Integration test of the fault shim: real programs (shim_probe, and Python 3
 * programs) run with libtcplab_shim.so preloaded, talking TCP over loopback to this
 * test, which plays their peer, checks what each side saw and reads the stats file
 * through shim_stats_read.
 * Usage (from Bazel): shim_test SHIM_SO SHIM_PROBE STATIC_PROGRAM */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/shim/shim_explain.h"
#include "lab/shim/shim_spec.h"

/* Where things are, from argv and the environment; set once in main. */
struct test_paths {
	char shim[PATH_MAX];
	char probe[PATH_MAX];
	char static_program[PATH_MAX]; /* a statically linked program that exits 0 */
	char tmpdir[PATH_MAX];
	char home[PATH_MAX];
	const char *pythons[2]; /* /usr/bin/python3, then the pyenv one if any */
	int n_pythons;
};

static struct test_paths paths;

/* A program started under the shim, its stdout on a pipe. */
struct child {
	pid_t pid;
	int out_fd;
	char stats[PATH_MAX + 32];
};

static int64_t now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Starts argv (argv[0] an absolute path) with the shim, faults and a fresh stats
 * file named after the test. */
static void child_start(struct child *c, const char *name, const char *faults,
			const char *const *argv)
{
	char env_preload[PATH_MAX + 16], env_faults[512], env_stats[PATH_MAX + 64];
	char env_home[PATH_MAX + 8];
	char *envp[] = { env_preload, env_faults, env_stats, env_home, "PATH=/usr/bin:/bin", NULL };
	int out[2];

	memset(c, 0, sizeof(*c));
	snprintf(c->stats, sizeof(c->stats), "%s/%s.stats", paths.tmpdir, name);
	unlink(c->stats);
	snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s", paths.shim);
	snprintf(env_faults, sizeof(env_faults), "TCPLAB_FAULTS=%s", faults);
	snprintf(env_stats, sizeof(env_stats), "TCPLAB_SHIM_STATS=%s", c->stats);
	snprintf(env_home, sizeof(env_home), "HOME=%s", paths.home);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(out[1], 1);
		execve(argv[0], (char *const *)argv, envp);
		_exit(126);
	}
	close(out[1]);
	c->out_fd = out[0];
}

static void probe_start(struct child *c, const char *name, const char *faults, const char *a1,
			const char *a2, const char *a3, const char *a4)
{
	const char *argv[] = { paths.probe, a1, a2, a3, a4, NULL };

	child_start(c, name, faults, argv);
}

/* Reads one line (without '\n') of the child's stdout: an event to wait on. */
static void child_read_line(struct child *c, char *line, size_t len)
{
	size_t used = 0;

	while (used + 1 < len) {
		ssize_t n = read(c->out_fd, line + used, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || line[used] == '\n')
			break;
		used++;
	}
	line[used] = '\0';
}

/* Reads the rest of the child's stdout (to EOF), waits for it; returns the exit
 * status (or 128 + signal). *out is malloc'ed, free it. */
static int child_finish(struct child *c, char **out)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	int status;

	assert_non_null(buf);
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			char *bigger = realloc(buf, cap * 2);

			assert_non_null(bigger);
			buf = bigger;
			cap *= 2;
		}
		n = read(c->out_fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	close(c->out_fd);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	*out = buf;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void stats_of(struct child *c, struct shim_stats *stats)
{
	struct lab_err err;

	if (shim_stats_read(c->stats, stats, &err) < 0)
		fail_msg("%s", err.msg);
}

/* A listener on 127.0.0.1, any port; *port_text gets the port. */
static int listen_any(char *port_text, size_t len)
{
	struct sockaddr_in addr;
	socklen_t addr_len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &addr_len), 0);
	snprintf(port_text, len, "%d", ntohs(addr.sin_port));
	return fd;
}

/* Accepts one connection, failing the test if none comes within 30 s: pyenv's
 * python3 (a bash script that runs several programs) alone takes 3.5 s to start on
 * a machine with a load of 25, and over 10 s during a whole `bazel test //...`. */
static int accept_one(int listen_fd)
{
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, 30000) != 1)
		fail_msg("no connection within 30 s");
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static int connect_to(int port)
{
	struct sockaddr_in addr;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* Reads until EOF or an error; returns the bytes read, *error_value the errno of
 * the error that ended it (0 at EOF). */
static long drain(int fd, int *error_value)
{
	char buf[65536];
	long total = 0;

	*error_value = 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_value = errno;
			return total;
		}
		if (n == 0)
			return total;
		total += n;
	}
}

static void send_all(int fd, long bytes)
{
	char buf[4096];

	memset(buf, 'p', sizeof(buf));
	while (bytes > 0) {
		ssize_t n = send(fd, buf, bytes < (long)sizeof(buf) ? (size_t)bytes : sizeof(buf),
				 MSG_NOSIGNAL);

		assert_true(n > 0);
		bytes -= n;
	}
}

/* Each line of out parsed as a number: count, sum, largest; -1 count if a line is
 * not a number. */
struct numbers {
	int count;
	long sum;
	long max;
};

static struct numbers numbers_of(const char *out)
{
	struct numbers nums = { 0, 0, 0 };
	const char *p = out;

	while (*p != '\0') {
		char *end;
		long value = strtol(p, &end, 10);

		if (end == p || (*end != '\n' && *end != '\0')) {
			nums.count = -1;
			return nums;
		}
		nums.count++;
		nums.sum += value;
		if (value > nums.max)
			nums.max = value;
		p = *end == '\n' ? end + 1 : end;
	}
	return nums;
}

/* ---- send max, recv max ---------------------------------------------------------- */

static void test_send_max_1_makes_every_send_move_one_byte(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	struct numbers nums;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "send_max_1", "send_max=1", "send", port, "16", "16");
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 16);
	assert_int_equal(error_value, 0);
	assert_int_equal(child_finish(&c, &out), 0);
	/* sendall-style: asked 16, 15, ... 1; every call moved exactly one byte. */
	nums = numbers_of(out);
	assert_int_equal(nums.count, 16);
	assert_int_equal(nums.max, 1);
	stats_of(&c, &stats);
	assert_int_equal(stats.processes, 1);
	assert_int_equal(stats.short_sends, 15); /* the last asked for 1: not cut */
	assert_int_equal(stats.bytes_sent, 16);
	/* socket, connect, 16 sends, close */
	assert_int_equal(stats.calls_intercepted, 19);
	free(out);
	close(fd);
	close(listen_fd);
}

static void test_send_max_cuts_writev_and_sendmsg(void **state)
{
	static const char *const calls[] = { "writev", "sendmsg" };
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		probe_start(&c, calls[i], "send_max=30", calls[i], port, "100", NULL);
		fd = accept_one(listen_fd);
		/* One call of 4 iovecs x 25 bytes: cut to 30 (one and a bit iovecs). */
		assert_int_equal(drain(fd, &error_value), 30);
		assert_int_equal(child_finish(&c, &out), 0);
		assert_string_equal(out, "30\n");
		stats_of(&c, &stats);
		assert_int_equal(stats.short_sends, 1);
		assert_int_equal(stats.bytes_sent, 30);
		free(out);
		close(fd);
	}
	close(listen_fd);
}

/* recv goes through __recv_chk, read through __read_chk (the probe is fortified),
 * readv is plain: all three are cut. */
static void test_recv_max_3_cuts_every_receive(void **state)
{
	static const char *const calls[] = { "recv", "read", "readv" };
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	struct numbers nums;
	int listen_fd = listen_any(port, sizeof(port));
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < 3; i++) {
		probe_start(&c, calls[i], "recv_max=3", calls[i], port, "1000", NULL);
		fd = accept_one(listen_fd);
		send_all(fd, 100);
		close(fd);
		assert_int_equal(child_finish(&c, &out), 0);
		nums = numbers_of(out);
		assert_int_equal(nums.sum, 100);
		assert_true(nums.max <= 3);
		assert_true(nums.count >= 34);
		stats_of(&c, &stats);
		assert_int_equal(stats.bytes_received, 100);
		assert_int_equal(stats.short_recvs, nums.count + 1); /* + the EOF read */
		free(out);
	}
	close(listen_fd);
}

/* ---- error, delays, buffers, reset ---------------------------------------------- */

static void test_error_send_eintr_every_3_fails_every_third_send(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "eintr_every_3", "error=send:4:every:3", "tries", port, "9", NULL);
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 6);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "1\n1\nEINTR\n1\n1\nEINTR\n1\n1\nEINTR\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.errors_injected, 3);
	assert_int_equal(stats.bytes_sent, 6);
	free(out);
	close(fd);
	close(listen_fd);
}

static void test_error_once_and_after_bytes_schedules(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "eintr_once", "error=send:4:once", "tries", port, "3", NULL);
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 2);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "EINTR\n1\n1\n");
	free(out);
	close(fd);

	/* EPIPE (32) on every send once 5 bytes have been sent. */
	probe_start(&c, "epipe_after_5", "error=send:32:after:5", "tries", port, "8", NULL);
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 5);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "1\n1\n1\n1\n1\nEPIPE\nEPIPE\nEPIPE\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.errors_injected, 3);
	free(out);
	close(fd);
	close(listen_fd);
}

static void test_error_connect_once_refuses_the_connection(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	struct pollfd p;
	int listen_fd = listen_any(port, sizeof(port));

	(void)state;
	probe_start(&c, "connect_once", "error=connect:111:once", "send", port, "1", "1");
	assert_int_equal(child_finish(&c, &out), 2); /* the probe's "connect failed" */
	p.fd = listen_fd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 0), 0); /* the connect never reached the kernel */
	stats_of(&c, &stats);
	assert_int_equal(stats.errors_injected, 1);
	free(out);
	close(listen_fd);
}

static void test_send_delay_slows_every_send(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int64_t start_us = now_us(), elapsed_us;
	int fd, error_value;

	(void)state;
	probe_start(&c, "send_delay", "send_delay_us=50000", "tries", port, "4", NULL);
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 4);
	assert_int_equal(child_finish(&c, &out), 0);
	elapsed_us = now_us() - start_us;
	assert_true(elapsed_us >= 4 * 50000);
	stats_of(&c, &stats);
	assert_int_equal(stats.send_delays, 4);
	assert_int_equal(stats.recv_delays, 0);
	free(out);
	close(fd);
	close(listen_fd);
}

static void test_recv_delay_slows_every_receive(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int64_t start_us = now_us(), elapsed_us;
	int fd;

	(void)state;
	probe_start(&c, "recv_delay", "recv_delay_us=40000;recv_max=2", "recv", port, "100", NULL);
	fd = accept_one(listen_fd);
	send_all(fd, 6);
	close(fd);
	assert_int_equal(child_finish(&c, &out), 0);
	elapsed_us = now_us() - start_us;
	stats_of(&c, &stats);
	/* 3 reads of 2 bytes and the EOF read, each 40 ms late. */
	assert_int_equal(stats.recv_delays, 4);
	assert_true(elapsed_us >= 4 * 40000);
	free(out);
	close(listen_fd);
}

static void test_buffers_are_set_on_new_sockets(void **state)
{
	char *out;
	struct child c;
	struct shim_stats stats;

	(void)state;
	probe_start(&c, "buffers", "rcvbuf=4096;sndbuf=8192", "buffers", NULL, NULL, NULL);
	assert_int_equal(child_finish(&c, &out), 0);
	/* Linux doubles the value set (room for its bookkeeping), see socket(7). */
	assert_string_equal(out, "8192 16384\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.buffers_set, 1);
	free(out);
}

/* accept4 and __read_chk in a server: the accepted socket gets the buffer size and
 * its reads are cut. */
static void test_server_side_accepted_socket_gets_faults(void **state)
{
	char line[64], *out;
	struct child c;
	struct shim_stats stats;
	struct numbers nums;
	int fd;

	(void)state;
	probe_start(&c, "accept", "rcvbuf=4096;recv_max=7", "accept", "65536", NULL, NULL);
	child_read_line(&c, line, sizeof(line));
	assert_int_equal(strncmp(line, "port ", 5), 0);
	fd = connect_to(atoi(line + 5));
	send_all(fd, 50);
	close(fd);
	child_read_line(&c, line, sizeof(line));
	assert_string_equal(line, "rcvbuf 8192");
	assert_int_equal(child_finish(&c, &out), 0);
	nums = numbers_of(out);
	assert_int_equal(nums.sum, 50);
	assert_true(nums.max <= 7);
	stats_of(&c, &stats);
	assert_int_equal(stats.buffers_set, 2); /* the listener and the accepted socket */
	assert_int_equal(stats.bytes_received, 50);
	free(out);
}

static void test_reset_after_1000_gives_the_peer_a_reset(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "reset_after", "reset_after=1000", "until_error", port, NULL, NULL);
	fd = accept_one(listen_fd);
	/* The 1000 bytes arrive, then the RST. */
	assert_int_equal(drain(fd, &error_value), 1000);
	assert_int_equal(error_value, ECONNRESET);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "ECONNRESET\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.resets_done, 1);
	assert_int_equal(stats.bytes_sent, 1000);
	free(out);
	close(fd);
	close(listen_fd);
}

/* ---- what must not be touched, and counting ------------------------------------- */

static void test_pipes_unix_sockets_and_stdout_are_untouched(void **state)
{
	char *out;
	struct child c;
	struct shim_stats stats;

	(void)state;
	probe_start(&c, "nontcp", "send_max=1;recv_max=1;error=write:5;error=send:5", "nontcp",
		    "100", NULL, NULL);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_non_null(strstr(out, "pipe 100 unix 100 stdout 100\n"));
	stats_of(&c, &stats);
	assert_int_equal(stats.calls_intercepted, 0);
	assert_int_equal(stats.errors_injected, 0);
	free(out);
}

static void test_two_threads_counters_add_up(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fds[2], error_value;

	(void)state;
	probe_start(&c, "threads", "send_max=100", "threads", port, "2", "5000");
	/* 5000 bytes fit in the receive buffer: no need to read them concurrently. */
	fds[0] = accept_one(listen_fd);
	fds[1] = accept_one(listen_fd);
	assert_int_equal(drain(fds[0], &error_value), 5000);
	assert_int_equal(drain(fds[1], &error_value), 5000);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "10000\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.bytes_sent, 10000);
	assert_int_equal(stats.short_sends, 2 * 49); /* 50 sends each, the last not cut */
	assert_int_equal(stats.calls_intercepted, 2 * (50 + 3)); /* + socket, connect, close */
	free(out);
	close(fds[0]);
	close(fds[1]);
	close(listen_fd);
}

static void test_stats_survive_sigkill(void **state)
{
	char port[16], line[64], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd;

	(void)state;
	probe_start(&c, "sigkill", "send_max=1000", "hold", port, "3000", NULL);
	fd = accept_one(listen_fd);
	child_read_line(&c, line, sizeof(line));
	assert_string_equal(line, "sent");
	assert_int_equal(kill(c.pid, SIGKILL), 0);
	assert_int_equal(child_finish(&c, &out), 128 + SIGKILL);
	stats_of(&c, &stats);
	assert_int_equal(stats.processes, 1);
	assert_int_equal(stats.bytes_sent, 3000);
	assert_int_equal(stats.short_sends, 2);
	free(out);
	close(fd);
	close(listen_fd);
}

/* As the driver runs programs: /bin/sh -c, so the shell and both programs load the
 * shim, each in its own slot (an exec'ed program claims a new one). */
static void test_programs_under_one_shell_are_summed(void **state)
{
	char port[16], command[PATH_MAX * 2 + 64], *out;
	const char *argv[] = { "/bin/sh", "-c", command, NULL };
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fds[2], error_value;

	(void)state;
	snprintf(command, sizeof(command), "%s send %s 10 10 && %s send %s 10 10", paths.probe,
		 port, paths.probe, port);
	child_start(&c, "shell", "send_max=5", argv);
	fds[0] = accept_one(listen_fd);
	assert_int_equal(drain(fds[0], &error_value), 10);
	fds[1] = accept_one(listen_fd);
	assert_int_equal(drain(fds[1], &error_value), 10);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "5\n5\n5\n5\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.processes, 3);
	assert_int_equal(stats.bytes_sent, 20);
	assert_int_equal(stats.short_sends, 2);
	free(out);
	close(fds[0]);
	close(fds[1]);
	close(listen_fd);
}

static void test_bad_spec_stops_the_program_loudly(void **state)
{
	char *out;
	struct child c;

	(void)state;
	probe_start(&c, "bad_spec", "send_max=lots", "buffers", NULL, NULL, NULL);
	assert_int_equal(child_finish(&c, &out), 127);
	assert_string_equal(out, "");
	free(out);
}

/* ---- Python ------------------------------------------------------------------- */

/* Runs `PYTHON -c SCRIPT PORT` through /bin/sh -c, as the driver would. */
static void python_start(struct child *c, const char *name, const char *python, const char *faults,
			 const char *script, const char *port)
{
	static char command[8192];
	const char *argv[] = { "/bin/sh", "-c", command, NULL };

	snprintf(command, sizeof(command), "%s -c '%s' %s", python, script, port);
	child_start(c, name, faults, argv);
}

/* The "send_not_sendall" case: one sock.send() of 16 bytes under send max 5 sends
 * 5 and says so; the rest is never sent. */
static void test_python_send_once_sends_only_send_max(void **state)
{
	static const char script[] =
		"import socket, sys\n"
		"s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))\n"
		"print(s.send(b\"x\" * 16))\n"
		"s.close()\n";
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value, i;

	(void)state;
	for (i = 0; i < paths.n_pythons; i++) {
		python_start(&c, "python_send", paths.pythons[i], "send_max=5", script, port);
		fd = accept_one(listen_fd);
		assert_int_equal(drain(fd, &error_value), 5);
		assert_int_equal(child_finish(&c, &out), 0);
		assert_string_equal(out, "5\n");
		stats_of(&c, &stats);
		assert_true(stats.processes >= 1);
		assert_int_equal(stats.short_sends, 1);
		assert_int_equal(stats.bytes_sent, 5);
		free(out);
		close(fd);
	}
	close(listen_fd);
}

static void test_python_sendall_delivers_everything_one_byte_at_a_time(void **state)
{
	static const char script[] =
		"import socket, sys\n"
		"s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))\n"
		"s.sendall(b\"y\" * 16)\n"
		"s.close()\n";
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value, i;

	(void)state;
	for (i = 0; i < paths.n_pythons; i++) {
		python_start(&c, "python_sendall", paths.pythons[i], "send_max=1", script, port);
		fd = accept_one(listen_fd);
		assert_int_equal(drain(fd, &error_value), 16);
		assert_int_equal(child_finish(&c, &out), 0);
		stats_of(&c, &stats);
		assert_int_equal(stats.short_sends, 15);
		assert_int_equal(stats.bytes_sent, 16);
		free(out);
		close(fd);
	}
	close(listen_fd);
}

static void test_python_recv_is_cut_to_recv_max(void **state)
{
	static const char script[] =
		"import socket, sys\n"
		"s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))\n"
		"while True:\n"
		"    d = s.recv(1000)\n"
		"    if not d:\n"
		"        break\n"
		"    print(len(d))\n";
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	struct numbers nums;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, i;

	(void)state;
	for (i = 0; i < paths.n_pythons; i++) {
		python_start(&c, "python_recv", paths.pythons[i], "recv_max=3", script, port);
		fd = accept_one(listen_fd);
		send_all(fd, 20);
		close(fd);
		assert_int_equal(child_finish(&c, &out), 0);
		nums = numbers_of(out);
		assert_int_equal(nums.sum, 20);
		assert_true(nums.max <= 3);
		stats_of(&c, &stats);
		assert_int_equal(stats.bytes_received, 20);
		free(out);
	}
	close(listen_fd);
}

static void test_python_sees_the_injected_errno(void **state)
{
	static const char script[] =
		"import socket, sys\n"
		"s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))\n"
		"try:\n"
		"    s.send(b\"z\")\n"
		"except ConnectionResetError:\n"
		"    print(\"reset\")\n";
	char port[16], *out;
	struct child c;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value, i;

	(void)state;
	for (i = 0; i < paths.n_pythons; i++) {
		python_start(&c, "python_errno", paths.pythons[i], "error=send:104:once", script,
			     port);
		fd = accept_one(listen_fd);
		assert_int_equal(child_finish(&c, &out), 0);
		assert_string_equal(out, "reset\n");
		assert_int_equal(drain(fd, &error_value), 0);
		free(out);
		close(fd);
	}
	close(listen_fd);
}

/* A forking program: parent and child send on the same connection; the child
 * counts into the parent's slot (shared memory), so the sum is complete. */
static void test_python_forked_child_is_counted(void **state)
{
	static const char script[] =
		"import os, socket, sys\n"
		"s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))\n"
		"pid = os.fork()\n"
		"if pid == 0:\n"
		"    s.sendall(b\"c\" * 7)\n"
		"    os._exit(0)\n"
		"os.waitpid(pid, 0)\n"
		"s.sendall(b\"p\" * 5)\n"
		"s.close()\n";
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value, i;

	(void)state;
	for (i = 0; i < paths.n_pythons; i++) {
		python_start(&c, "python_fork", paths.pythons[i], "send_max=2", script, port);
		fd = accept_one(listen_fd);
		assert_int_equal(drain(fd, &error_value), 12);
		assert_int_equal(child_finish(&c, &out), 0);
		stats_of(&c, &stats);
		assert_int_equal(stats.bytes_sent, 12);
		assert_int_equal(stats.short_sends, 3 + 2); /* 7 = 2+2+2+1, 5 = 2+2+1 */
		free(out);
		close(fd);
	}
	close(listen_fd);
}

/* ---- the kernel's promises ------------------------------------------------------ */

/* recv(MSG_WAITALL) and recvmsg(MSG_WAITALL) under recv max 3: the kernel returns
 * the whole length (or less at end of file), so the shim reads in pieces of 3
 * until it has it. */
static void test_recv_waitall_under_recv_max_gets_the_whole_length(void **state)
{
	static const char *const hows[] = { "recv", "recvmsg" };
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < 2; i++) {
		probe_start(&c, hows[i], "recv_max=3", "waitall", port, "10", hows[i]);
		fd = accept_one(listen_fd);
		send_all(fd, 4);
		usleep(20000); /* the rest later: the kernel call waits for it */
		send_all(fd, 6);
		assert_int_equal(child_finish(&c, &out), 0);
		assert_string_equal(out, "10\n");
		stats_of(&c, &stats);
		assert_int_equal(stats.bytes_received, 10);
		assert_int_equal(stats.recv_max_cuts, 1);
		free(out);
		close(fd);

		/* End of file after 5: WAITALL returns the 5. */
		probe_start(&c, hows[i], "recv_max=3", "waitall", port, "10", hows[i]);
		fd = accept_one(listen_fd);
		send_all(fd, 5);
		close(fd);
		assert_int_equal(child_finish(&c, &out), 0);
		assert_string_equal(out, "5\n");
		free(out);
	}
	close(listen_fd);
}

/* readv/writev with iovcnt -1 or IOV_MAX + 1 and sendmsg with msg_iovlen IOV_MAX + 1
 * get libc's own answer (EINVAL, EMSGSIZE), untouched, counted nowhere. */
static void test_invalid_arguments_get_the_kernels_errno(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "badargs", "recv_max=3;send_max=3;error=send:4:once", "badargs", port,
		    NULL, NULL);
	fd = accept_one(listen_fd);
	send_all(fd, 3); /* something a readv that is not refused would read */
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "readv-1 EINVAL\n"
				 "readv-big EINVAL\n"
				 "writev-1 EINVAL\n"
				 "writev-big EINVAL\n"
				 "sendmsg-big EMSGSIZE\n");
	assert_int_equal(drain(fd, &error_value), 0);
	stats_of(&c, &stats);
	assert_int_equal(stats.errors_injected, 0);
	assert_int_equal(stats.short_recvs + stats.short_sends, 0);
	free(out);
	close(fd);
	close(listen_fd);
}

/* A MSG_PEEK neither uses up `error recv ... once` nor waits for recv delay; the
 * receive that follows does both. */
static void test_peek_neither_counts_nor_waits(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd;

	(void)state;
	probe_start(&c, "peek", "error=recv:4:once;recv_delay_us=300000", "peek", port, NULL,
		    NULL);
	fd = accept_one(listen_fd);
	send_all(fd, 10);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "peek fast 10\nrecv EINTR\nrecv 10\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.errors_injected, 1);
	assert_int_equal(stats.recv_delays, 1);
	assert_int_equal(stats.bytes_received, 10);
	free(out);
	close(fd);
	close(listen_fd);
}

/* An event loop: a non-blocking recv that will fail with EAGAIN does not wait; the
 * delay is paid by the call that gets the data (and the one that gets EOF). */
static void test_nonblocking_eagain_pays_no_delay(void **state)
{
	char port[16], line[64], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd;

	(void)state;
	probe_start(&c, "nonblocking", "recv_delay_us=100000", "nonblocking", port, NULL, NULL);
	fd = accept_one(listen_fd);
	send_all(fd, 5);
	child_read_line(&c, line, sizeof(line));
	assert_string_equal(line, "5");
	child_read_line(&c, line, sizeof(line));
	assert_string_equal(line, "EAGAIN");
	close(fd);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "EOF\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.recv_calls, 3);
	assert_int_equal(stats.recv_delays, 2);
	free(out);
	close(listen_fd);
}

/* State is the socket's, not the fd number's: a dup shares the count of reset
 * after 10; a new socket on the fd number of a reset one (by dup2, or after
 * close_range, which the shim never sees) starts afresh. */
static void test_socket_state_follows_dup_dup2_and_close_range(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value, i;
	long drained[5];

	(void)state;
	probe_start(&c, "dups", "reset_after=10", "dups", port, NULL, NULL);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "dup 6\n4\nECONNRESET\ndup2 5\nclose_range 5\n");
	for (i = 0; i < 5; i++) {
		fd = accept_one(listen_fd);
		drained[i] = drain(fd, &error_value);
		close(fd);
	}
	assert_int_equal(drained[0], 10);
	assert_int_equal(drained[1], 10);
	assert_int_equal(drained[2], 5);
	assert_int_equal(drained[3], 10);
	assert_int_equal(drained[4], 5);
	stats_of(&c, &stats);
	assert_int_equal(stats.resets_done, 3);
	free(out);
	close(listen_fd);
}

/* ---- after BYTES ---------------------------------------------------------------- */

/* error write ECONNRESET after 100 on one 1000-byte write: the write is cut at
 * 100, the next one fails. Counted per socket, like reset after. */
static void test_error_after_cuts_the_crossing_call(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "error_after", "error=send:104:after:100", "send", port, "1000", "1000");
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 100);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "100\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.short_sends, 1);
	assert_int_equal(stats.error_rule_fired[0], 1);
	assert_int_equal(stats.error_rule_calls[0], 2);
	free(out);
	close(fd);
	close(listen_fd);
}

/* ---- sendfile, splice, sendmmsg, recvmmsg, copy_file_range ----------------------- */

static void test_sendfile_is_cut_by_send_max(void **state)
{
	static const char *const modes[] = { "offset", "position" };
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	struct numbers nums;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		probe_start(&c, modes[i], "send_max=10", "sendfile", port, "100", modes[i]);
		fd = accept_one(listen_fd);
		assert_int_equal(drain(fd, &error_value), 100);
		assert_int_equal(child_finish(&c, &out), 0);
		/* Ten calls of 10, then where the source stands: 100. */
		assert_non_null(strstr(out, "position 100\n"));
		*strstr(out, "position") = '\0';
		nums = numbers_of(out);
		assert_int_equal(nums.count, 10);
		assert_int_equal(nums.max, 10);
		stats_of(&c, &stats);
		assert_int_equal(stats.sendfile_calls, 10);
		assert_int_equal(stats.send_max_cuts, 9);
		assert_int_equal(stats.bytes_sent, 100);
		free(out);
		close(fd);
	}
	close(listen_fd);
}

static void test_sendfile_is_reset_after_100(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "sendfile_reset", "reset_after=100", "sendfile", port, "1000", "offset");
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 100);
	assert_int_equal(error_value, ECONNRESET);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "100\nECONNRESET\nposition 100\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.resets_done, 1);
	free(out);
	close(fd);
	close(listen_fd);
}

static void test_splice_to_a_socket_is_cut_by_send_max(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	struct numbers nums;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "splice", "send_max=10", "splice", port, "95", NULL);
	fd = accept_one(listen_fd);
	assert_int_equal(drain(fd, &error_value), 95);
	assert_int_equal(child_finish(&c, &out), 0);
	nums = numbers_of(out);
	assert_int_equal(nums.count, 10);
	assert_int_equal(nums.max, 10);
	assert_int_equal(nums.sum, 95);
	stats_of(&c, &stats);
	assert_int_equal(stats.splice_calls, 10);
	assert_int_equal(stats.send_max_cuts, 9);
	free(out);
	close(fd);
	close(listen_fd);
}

/* sendmmsg of 3 x 20 under send max 30: 20 and 10 sent, 2 messages reported.
 * recvmmsg of 2 x 40 under recv max 7: one message of 7. */
static void test_sendmmsg_and_recvmmsg_are_cut(void **state)
{
	char port[16], line[64], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd;
	char buf[64];

	(void)state;
	probe_start(&c, "mmsg", "send_max=30;recv_max=7", "mmsg", port, NULL, NULL);
	fd = accept_one(listen_fd);
	child_read_line(&c, line, sizeof(line));
	assert_string_equal(line, "sendmmsg 2 20 10");
	assert_int_equal(recv(fd, buf, 30, MSG_WAITALL), 30);
	send_all(fd, 50);
	close(fd);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "recvmmsg 1 7\n");
	stats_of(&c, &stats);
	assert_int_equal(stats.mmsg_calls, 2);
	assert_int_equal(stats.bytes_sent, 30);
	assert_int_equal(stats.bytes_received, 7);
	free(out);
	close(listen_fd);
}

/* Linux refuses copy_file_range to a socket; the shim passes it on and counts it. */
static void test_copy_file_range_to_a_socket_is_counted(void **state)
{
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value;

	(void)state;
	probe_start(&c, "cfr", "send_max=10", "cfr", port, NULL, NULL);
	fd = accept_one(listen_fd);
	assert_int_equal(child_finish(&c, &out), 0);
	assert_string_equal(out, "copy_file_range EINVAL\n");
	assert_int_equal(drain(fd, &error_value), 0);
	stats_of(&c, &stats);
	assert_int_equal(stats.copy_file_range_calls, 1);
	free(out);
	close(fd);
	close(listen_fd);
}

/* Python's socket.sendfile (os.sendfile underneath): cut by send max 10, and reset
 * after 100. */
static void test_python_sendfile_is_cut_and_reset(void **state)
{
	static const char script[] =
		"import socket, sys, tempfile\n"
		"f = tempfile.TemporaryFile()\n"
		"f.write(b\"q\" * 1000)\n"
		"f.seek(0)\n"
		"s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))\n"
		"try:\n"
		"    print(s.sendfile(f))\n"
		"except ConnectionResetError:\n"
		"    print(\"reset\")\n";
	char port[16], *out;
	struct child c;
	struct shim_stats stats;
	int listen_fd = listen_any(port, sizeof(port));
	int fd, error_value, i;

	(void)state;
	for (i = 0; i < paths.n_pythons; i++) {
		python_start(&c, "python_sendfile", paths.pythons[i], "send_max=10", script, port);
		fd = accept_one(listen_fd);
		assert_int_equal(drain(fd, &error_value), 1000);
		assert_int_equal(child_finish(&c, &out), 0);
		assert_string_equal(out, "1000\n");
		stats_of(&c, &stats);
		/* 100 calls of 10 bytes, then the one that finds end of file. */
		assert_int_equal(stats.sendfile_calls, 101);
		assert_int_equal(stats.bytes_sent, 1000);
		free(out);
		close(fd);

		python_start(&c, "python_sendfile_reset", paths.pythons[i], "reset_after=100",
			     script, port);
		fd = accept_one(listen_fd);
		assert_int_equal(drain(fd, &error_value), 100);
		assert_int_equal(error_value, ECONNRESET);
		assert_int_equal(child_finish(&c, &out), 0);
		assert_string_equal(out, "reset\n");
		stats_of(&c, &stats);
		assert_int_equal(stats.resets_done, 1);
		free(out);
		close(fd);
	}
	close(listen_fd);
}

/* ---- a fault that could not act, and why ------------------------------------------- */

/* As the driver runs a statically linked server: the shell loads the shim and
 * execs the program, which never does. The stats file says the shell exec'ed it,
 * and shim_explain names it as statically linked. */
static void test_static_program_is_named_as_the_reason(void **state)
{
	char command[PATH_MAX + 16], why[1024], *out;
	const char *argv[] = { "/bin/sh", "-c", command, NULL };
	struct child c;
	struct shim_stats stats;
	struct shim_seen seen;
	struct lab_err err;
	struct fault f;
	size_t i;
	bool found = false;

	(void)state;
	/* "; exit": without it, sh may exec the program itself; either way it execs. */
	snprintf(command, sizeof(command), "%s; exit $?", paths.static_program);
	child_start(&c, "static", "send_max=10", argv);
	assert_int_equal(child_finish(&c, &out), 0);
	if (shim_stats_read_seen(c.stats, &stats, &seen, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(stats.processes, 1); /* the shell only */
	assert_int_equal(stats.execs, 1);
	for (i = 0; i < seen.n_execs; i++)
		found |= strcmp(seen.execs[i], paths.static_program) == 0;
	assert_true(found);
	memset(&f, 0, sizeof(f));
	f.kind = FAULT_SEND_MAX;
	f.bytes = 10;
	assert_int_equal(shim_fault_fired(&stats, &f, 1, 0), 0);
	shim_explain(&stats, &seen, &f, 1, 0, why, sizeof(why));
	assert_non_null(strstr(why, paths.static_program));
	assert_non_null(strstr(why, "statically linked"));
	free(out);
}

static void find_paths(int argc, char **argv)
{
	static char pyenv_python[PATH_MAX + 32];
	const struct passwd *pw = getpwuid(getuid());
	const char *tmpdir = getenv("TEST_TMPDIR");

	if (argc != 4 || realpath(argv[1], paths.shim) == NULL ||
	    realpath(argv[2], paths.probe) == NULL ||
	    realpath(argv[3], paths.static_program) == NULL) {
		fprintf(stderr, "usage: shim_test SHIM_SO SHIM_PROBE STATIC_PROGRAM\n");
		exit(2);
	}
	snprintf(paths.tmpdir, sizeof(paths.tmpdir), "%s", tmpdir != NULL ? tmpdir : "/tmp");
	snprintf(paths.home, sizeof(paths.home), "%s", pw != NULL ? pw->pw_dir : "/");
	paths.pythons[paths.n_pythons++] = "/usr/bin/python3";
	/* The python3 first on PATH in this project is pyenv's (not the system's). */
	snprintf(pyenv_python, sizeof(pyenv_python), "%s/.pyenv/shims/python3", paths.home);
	if (access(pyenv_python, X_OK) == 0)
		paths.pythons[paths.n_pythons++] = pyenv_python;
	else
		fprintf(stderr, "note: no %s, testing /usr/bin/python3 only\n", pyenv_python);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_max_1_makes_every_send_move_one_byte),
		cmocka_unit_test(test_send_max_cuts_writev_and_sendmsg),
		cmocka_unit_test(test_recv_max_3_cuts_every_receive),
		cmocka_unit_test(test_error_send_eintr_every_3_fails_every_third_send),
		cmocka_unit_test(test_error_once_and_after_bytes_schedules),
		cmocka_unit_test(test_error_connect_once_refuses_the_connection),
		cmocka_unit_test(test_send_delay_slows_every_send),
		cmocka_unit_test(test_recv_delay_slows_every_receive),
		cmocka_unit_test(test_buffers_are_set_on_new_sockets),
		cmocka_unit_test(test_server_side_accepted_socket_gets_faults),
		cmocka_unit_test(test_reset_after_1000_gives_the_peer_a_reset),
		cmocka_unit_test(test_pipes_unix_sockets_and_stdout_are_untouched),
		cmocka_unit_test(test_two_threads_counters_add_up),
		cmocka_unit_test(test_stats_survive_sigkill),
		cmocka_unit_test(test_programs_under_one_shell_are_summed),
		cmocka_unit_test(test_bad_spec_stops_the_program_loudly),
		cmocka_unit_test(test_python_send_once_sends_only_send_max),
		cmocka_unit_test(test_python_sendall_delivers_everything_one_byte_at_a_time),
		cmocka_unit_test(test_python_recv_is_cut_to_recv_max),
		cmocka_unit_test(test_python_sees_the_injected_errno),
		cmocka_unit_test(test_python_forked_child_is_counted),
		cmocka_unit_test(test_recv_waitall_under_recv_max_gets_the_whole_length),
		cmocka_unit_test(test_invalid_arguments_get_the_kernels_errno),
		cmocka_unit_test(test_peek_neither_counts_nor_waits),
		cmocka_unit_test(test_nonblocking_eagain_pays_no_delay),
		cmocka_unit_test(test_socket_state_follows_dup_dup2_and_close_range),
		cmocka_unit_test(test_error_after_cuts_the_crossing_call),
		cmocka_unit_test(test_sendfile_is_cut_by_send_max),
		cmocka_unit_test(test_sendfile_is_reset_after_100),
		cmocka_unit_test(test_splice_to_a_socket_is_cut_by_send_max),
		cmocka_unit_test(test_sendmmsg_and_recvmmsg_are_cut),
		cmocka_unit_test(test_copy_file_range_to_a_socket_is_counted),
		cmocka_unit_test(test_python_sendfile_is_cut_and_reset),
		cmocka_unit_test(test_static_program_is_named_as_the_reason),
	};

	signal(SIGPIPE, SIG_IGN);
	find_paths(argc, argv);
	/* SHIM_TEST_FILTER=PATTERN runs the matching tests only (e.g. against an older
	 * shim, one test at a time). */
	if (getenv("SHIM_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("SHIM_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
