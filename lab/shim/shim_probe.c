/* shim_probe: a small TCP program for the shim's integration test. The test runs
 * it with the shim preloaded and plays its peer; the probe reports on stdout what
 * its calls returned, one word per call, so the test can check each one.
 *
 *   shim_probe send PORT TOTAL CHUNK   connect; send() TOTAL bytes, asking CHUNK
 *                                      per call, sendall-style; print each result
 *   shim_probe writev PORT TOTAL       connect; one writev of TOTAL bytes in 4 iovecs
 *   shim_probe sendmsg PORT TOTAL      connect; one sendmsg of TOTAL bytes, 4 iovecs
 *   shim_probe recv PORT LEN           connect; recv(LEN) until EOF; print results
 *                                      (LEN <= 65536 for recv, read and readv)
 *   shim_probe read PORT LEN           the same with read()
 *   shim_probe readv PORT LEN          the same with readv() of 2 iovecs of LEN each
 *   shim_probe tries PORT N            connect; N send() calls of 1 byte; print each
 *                                      result or the errno name
 *   shim_probe buffers                 a TCP socket; print SO_RCVBUF SO_SNDBUF
 *   shim_probe nontcp BYTES            write BYTES to a pipe, a unix socketpair and
 *                                      stdout; print what each write returned
 *   shim_probe threads PORT N BYTES    N threads, each its own connection, send
 *                                      BYTES sendall-style; print the total sent
 *   shim_probe hold PORT BYTES         connect, send BYTES, print "sent", then
 *                                      wait forever (the test kills it)
 *   shim_probe until_error PORT        connect; send 100-byte chunks until a call
 *                                      fails; print the errno name ("none" if
 *                                      1 MiB went without error)
 *   shim_probe accept LEN              listen on 127.0.0.1:0, print "port N", accept
 *                                      one (accept4); print "rcvbuf N"; then read(LEN)
 *                                      (LEN <= 65536) until EOF, printing each result
 * Built with _FORTIFY_SOURCE=2, so its recv/read calls go through glibc's
 * __recv_chk/__read_chk, which the shim must interpose too.
 * Exit status: 0 when the program ran (whatever the calls returned), 2 on misuse
 * or when the set-up itself (connect, listen) failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *errno_name(int errno_value)
{
	switch (errno_value) {
	case EINTR:
		return "EINTR";
	case ECONNRESET:
		return "ECONNRESET";
	case EPIPE:
		return "EPIPE";
	case EAGAIN:
		return "EAGAIN";
	case ENOTCONN:
		return "ENOTCONN";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	default:
		return "OTHER";
	}
}

static int connect_to(const char *port_text)
{
	struct sockaddr_in addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(port_text));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "connect: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* sendall: returns bytes sent; prints each call's result when verbose. */
static long send_all(int fd, const char *buf, long total, long chunk, int verbose)
{
	long done = 0;

	while (done < total) {
		long ask = total - done < chunk ? total - done : chunk;
		ssize_t n = send(fd, buf + done, (size_t)ask, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (verbose)
			printf("%zd\n", n);
		done += n;
	}
	return done;
}

static int cmd_send(char **argv)
{
	long total = atol(argv[1]), chunk = atol(argv[2]);
	char *buf = calloc(1, (size_t)total + 1);
	int fd = connect_to(argv[0]);

	if (fd < 0 || buf == NULL)
		return 2;
	memset(buf, 'x', (size_t)total);
	send_all(fd, buf, total, chunk, 1);
	close(fd);
	free(buf);
	return 0;
}

static int cmd_vector(char **argv, int use_sendmsg)
{
	long total = atol(argv[1]);
	char *buf = calloc(1, (size_t)total + 1);
	struct iovec iov[4];
	struct msghdr msg;
	ssize_t n;
	int fd = connect_to(argv[0]);
	int i;

	if (fd < 0 || buf == NULL)
		return 2;
	memset(buf, 'v', (size_t)total);
	for (i = 0; i < 4; i++) {
		iov[i].iov_base = buf + i * (total / 4);
		iov[i].iov_len = (size_t)(i < 3 ? total / 4 : total - 3 * (total / 4));
	}
	if (use_sendmsg) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = 4;
		n = sendmsg(fd, &msg, 0);
	} else {
		n = writev(fd, iov, 4);
	}
	printf("%zd\n", n);
	close(fd);
	free(buf);
	return 0;
}

static int cmd_receive(char **argv, const char *how)
{
	static char buf[2 * 65536]; /* known size: fortified recv/read are *_chk */
	size_t len = (size_t)atol(argv[1]);
	struct iovec iov[2];
	int fd = connect_to(argv[0]);

	/* No check of len here: a bound the compiler can see would let it prove the
	 * call safe and skip the *_chk variant. The test passes len <= 65536. */
	if (fd < 0)
		return 2;
	for (;;) {
		ssize_t n;

		if (strcmp(how, "recv") == 0) {
			n = recv(fd, buf, len, 0);
		} else if (strcmp(how, "read") == 0) {
			n = read(fd, buf, len);
		} else {
			iov[0].iov_base = buf;
			iov[0].iov_len = len;
			iov[1].iov_base = buf + len;
			iov[1].iov_len = len;
			n = readv(fd, iov, 2);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		printf("%zd\n", n);
	}
	close(fd);
	return 0;
}

static int cmd_tries(char **argv)
{
	int n = atoi(argv[1]);
	int fd = connect_to(argv[0]);
	int i;

	if (fd < 0)
		return 2;
	for (i = 0; i < n; i++) {
		ssize_t sent = send(fd, "t", 1, 0);

		if (sent < 0)
			printf("%s\n", errno_name(errno));
		else
			printf("%zd\n", sent);
	}
	close(fd);
	return 0;
}

static int cmd_buffers(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int rcv = 0, snd = 0;
	socklen_t len = sizeof(int);

	if (fd < 0)
		return 2;
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len);
	len = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &len);
	printf("%d %d\n", rcv, snd);
	close(fd);
	return 0;
}

static int cmd_nontcp(char **argv)
{
	size_t len = (size_t)atol(argv[0]);
	char *buf = malloc(len);
	int pipe_fds[2], unix_fds[2];
	ssize_t to_pipe, to_unix, to_stdout;
	char line[128];

	if (buf == NULL || pipe(pipe_fds) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, unix_fds) < 0)
		return 2;
	memset(buf, 'n', len);
	to_pipe = write(pipe_fds[1], buf, len);
	to_unix = send(unix_fds[0], buf, len, 0);
	fflush(stdout);
	to_stdout = write(1, buf, len);
	snprintf(line, sizeof(line), "\npipe %zd unix %zd stdout %zd\n", to_pipe, to_unix,
		 to_stdout);
	fputs(line, stdout);
	free(buf);
	return 0;
}

struct thread_job {
	const char *port_text;
	long bytes;
	long sent;
};

static void *thread_main(void *arg)
{
	struct thread_job *job = arg;
	char *buf = calloc(1, (size_t)job->bytes + 1);
	int fd = connect_to(job->port_text);

	if (fd >= 0 && buf != NULL)
		job->sent = send_all(fd, buf, job->bytes, job->bytes, 0);
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int cmd_threads(char **argv)
{
	int n = atoi(argv[1]);
	struct thread_job jobs[16];
	pthread_t threads[16];
	long total = 0;
	int i;

	if (n < 1 || n > 16)
		return 2;
	for (i = 0; i < n; i++) {
		jobs[i].port_text = argv[0];
		jobs[i].bytes = atol(argv[2]);
		jobs[i].sent = 0;
		if (pthread_create(&threads[i], NULL, thread_main, &jobs[i]) != 0)
			return 2;
	}
	for (i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		total += jobs[i].sent;
	}
	printf("%ld\n", total);
	return 0;
}

static int cmd_hold(char **argv)
{
	long total = atol(argv[1]);
	char *buf = calloc(1, (size_t)total + 1);
	int fd = connect_to(argv[0]);

	if (fd < 0 || buf == NULL)
		return 2;
	send_all(fd, buf, total, total, 0);
	printf("sent\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int cmd_until_error(char **argv)
{
	char buf[100];
	long sent = 0;
	int fd = connect_to(argv[0]);

	if (fd < 0)
		return 2;
	memset(buf, 'r', sizeof(buf));
	/* Without the shim no error comes: give up after 1 MiB and say so. */
	while (sent < 1024 * 1024) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);

		if (n < 0) {
			printf("%s\n", errno_name(errno));
			break;
		}
		sent += n;
	}
	if (sent >= 1024 * 1024)
		printf("none\n");
	close(fd);
	return 0;
}

static int cmd_accept(char **argv)
{
	size_t read_len = (size_t)atol(argv[0]); /* <= sizeof(buf), unknown to gcc */
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int rcv = 0;
	static char buf[65536]; /* known size: with _FORTIFY_SOURCE, read() is __read_chk */
	int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	int fd;

	if (listen_fd < 0)
		return 2;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(listen_fd, 1) < 0 || getsockname(listen_fd, (struct sockaddr *)&addr, &len) < 0)
		return 2;
	printf("port %d\n", ntohs(addr.sin_port));
	fflush(stdout);
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return 2;
	len = sizeof(rcv);
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len);
	printf("rcvbuf %d\n", rcv);
	for (;;) {
		ssize_t n = read(fd, buf, read_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		printf("%zd\n", n);
	}
	close(fd);
	close(listen_fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int n_args;
	} commands[] = {
		{ "send", 3 },   { "writev", 2 },  { "sendmsg", 2 }, { "recv", 2 },
		{ "read", 2 },   { "readv", 2 },   { "tries", 2 },   { "buffers", 0 },
		{ "nontcp", 1 }, { "threads", 3 }, { "hold", 2 },    { "until_error", 1 },
		{ "accept", 1 },
	};
	const char *cmd = argc > 1 ? argv[1] : "";
	char **args = argv + 2;
	size_t i;
	int ret = 2;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) == 0 && argc - 2 == commands[i].n_args)
			break;
	}
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "usage: shim_probe COMMAND ARGS (see shim_probe.c)\n");
		return 2;
	}
	if (strcmp(cmd, "send") == 0)
		ret = cmd_send(args);
	else if (strcmp(cmd, "writev") == 0)
		ret = cmd_vector(args, 0);
	else if (strcmp(cmd, "sendmsg") == 0)
		ret = cmd_vector(args, 1);
	else if (strcmp(cmd, "recv") == 0 || strcmp(cmd, "read") == 0 || strcmp(cmd, "readv") == 0)
		ret = cmd_receive(args, cmd);
	else if (strcmp(cmd, "tries") == 0)
		ret = cmd_tries(args);
	else if (strcmp(cmd, "buffers") == 0)
		ret = cmd_buffers();
	else if (strcmp(cmd, "nontcp") == 0)
		ret = cmd_nontcp(args);
	else if (strcmp(cmd, "threads") == 0)
		ret = cmd_threads(args);
	else if (strcmp(cmd, "hold") == 0)
		ret = cmd_hold(args);
	else if (strcmp(cmd, "until_error") == 0)
		ret = cmd_until_error(args);
	else if (strcmp(cmd, "accept") == 0)
		ret = cmd_accept(args);
	fflush(stdout);
	return ret;
}
