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
 *   shim_probe waitall PORT LEN HOW    connect; one recv (HOW "recv") or recvmsg (HOW
 *                                      "recvmsg") of LEN (<= 65536) with MSG_WAITALL;
 *                                      print its result
 *   shim_probe badargs PORT            connect; readv/writev with iovcnt -1 and
 *                                      IOV_MAX + 1, sendmsg with msg_iovlen IOV_MAX + 1;
 *                                      print each result or errno name
 *   shim_probe peek PORT               connect; recv(10, MSG_PEEK), then recv(10) until
 *                                      10 bytes came; print each result or errno and
 *                                      "fast"/"slow" (more than 100 ms) for the peek
 *   shim_probe nonblocking PORT        connect, O_NONBLOCK; poll + recv until EAGAIN,
 *                                      printing each result ("EAGAIN", "EOF") until EOF
 *   shim_probe dups PORT               five connections: send on a socket and its dup;
 *                                      a socket dup2'ed onto the fd of one that was
 *                                      reset; one dup'ed onto an fd number freed by
 *                                      close_range; print what the sends returned
 *   shim_probe sendfile PORT BYTES OFF a file of BYTES; connect; sendfile it (OFF
 *                                      "offset": with an offset pointer, "position":
 *                                      from the file position) until done or an error;
 *                                      print each result or errno name
 *   shim_probe splice PORT BYTES       BYTES (<= 65536) into a pipe; splice it to the
 *                                      socket until done; print each result
 *   shim_probe mmsg PORT               connect; sendmmsg of 3 messages of 20 bytes; print
 *                                      the count and each msg_len; then recvmmsg into
 *                                      2 buffers of 40: print the count and msg_lens
 *   shim_probe cfr PORT                connect; copy_file_range from a file to the
 *                                      socket; print the result or errno name
 * Built with _FORTIFY_SOURCE=2, so its recv/read calls go through glibc's
 * __recv_chk/__read_chk, which the shim must interpose too.
 * Exit status: 0 when the program ran (whatever the calls returned), 2 on misuse
 * or when the set-up itself (connect, listen) failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <time.h>
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
	case EINVAL:
		return "EINVAL";
	case EMSGSIZE:
		return "EMSGSIZE";
	case EBADF:
		return "EBADF";
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

static void print_result(const char *label, ssize_t n)
{
	if (n < 0)
		printf("%s%s%s\n", label, label[0] ? " " : "", errno_name(errno));
	else
		printf("%s%s%zd\n", label, label[0] ? " " : "", n);
}

static int cmd_waitall(char **argv)
{
	static char buf[65536];
	size_t len = (size_t)atol(argv[1]);
	struct iovec iov[2];
	struct msghdr msg;
	int fd = connect_to(argv[0]);
	ssize_t n;

	if (fd < 0)
		return 2;
	if (strcmp(argv[2], "recvmsg") == 0) {
		iov[0].iov_base = buf;
		iov[0].iov_len = len / 2;
		iov[1].iov_base = buf + len / 2;
		iov[1].iov_len = len - len / 2;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = 2;
		n = recvmsg(fd, &msg, MSG_WAITALL);
	} else {
		n = recv(fd, buf, len, MSG_WAITALL);
	}
	print_result("", n);
	close(fd);
	return 0;
}

static int cmd_badargs(char **argv)
{
	static struct iovec iov[IOV_MAX + 1];
	static char byte;
	struct msghdr msg;
	int fd = connect_to(argv[0]);
	volatile int minus_one = -1; /* hidden from gcc, which refuses a literal -1 */
	int i;

	if (fd < 0)
		return 2;
	for (i = 0; i <= IOV_MAX; i++) {
		iov[i].iov_base = &byte;
		iov[i].iov_len = 1;
	}
	print_result("readv-1", readv(fd, iov, minus_one));
	print_result("readv-big", readv(fd, iov, IOV_MAX + 1));
	print_result("writev-1", writev(fd, iov, minus_one));
	print_result("writev-big", writev(fd, iov, IOV_MAX + 1));
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = IOV_MAX + 1;
	print_result("sendmsg-big", sendmsg(fd, &msg, 0));
	close(fd);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int cmd_peek(char **argv)
{
	char buf[10];
	int fd = connect_to(argv[0]);
	int64_t start_ms;
	ssize_t n;
	long got = 0;

	if (fd < 0)
		return 2;
	start_ms = now_ms();
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_WAITALL);
	printf("peek %s ", now_ms() - start_ms > 100 ? "slow" : "fast");
	print_result("", n);
	while (got < 10) {
		n = recv(fd, buf, sizeof(buf), 0);
		print_result("recv", n);
		if (n == 0)
			break;
		if (n > 0)
			got += n;
	}
	close(fd);
	return 0;
}

static int cmd_nonblocking(char **argv)
{
	char buf[100];
	int fd = connect_to(argv[0]);

	if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return 2;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		poll(&p, 1, -1);
		for (;;) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EAGAIN) {
				printf("EAGAIN\n");
				fflush(stdout);
				break;
			}
			if (n <= 0) {
				printf("%s\n", n == 0 ? "EOF" : errno_name(errno));
				close(fd);
				return 0;
			}
			printf("%zd\n", n);
		}
	}
}

static int cmd_dups(char **argv)
{
	char buf[6] = "dupdup";
	int fd, copy, reused, other;

	/* A socket and its dup share one count: reset after 10 cuts the second send. */
	fd = connect_to(argv[0]);
	copy = dup(fd);
	if (fd < 0 || copy < 0)
		return 2;
	printf("dup ");
	print_result("", send(fd, buf, 6, 0));
	print_result("", send(copy, buf, 6, 0));
	print_result("", send(fd, buf, 6, 0));
	close(copy);
	close(fd);

	/* A reset socket's fd number given to a new socket by dup2. */
	reused = connect_to(argv[0]);
	if (reused < 0)
		return 2;
	send(reused, "0123456789", 10, 0); /* reset after 10: this one is reset */
	other = connect_to(argv[0]);
	if (other < 0 || dup2(other, reused) < 0)
		return 2;
	close(other);
	print_result("dup2", send(reused, buf, 5, 0));
	close(reused);

	/* An fd number freed by close_range (which the shim does not see), then
	 * taken by dup of a new socket. */
	reused = connect_to(argv[0]);
	if (reused < 0)
		return 2;
	send(reused, "0123456789", 10, 0);
	if (close_range((unsigned int)reused, (unsigned int)reused, 0) < 0)
		return 2;
	other = connect_to(argv[0]);
	if (other < 0)
		return 2;
	if (dup2(other, reused) < 0)
		return 2;
	print_result("close_range", send(reused, buf, 5, 0));
	close(reused);
	close(other);
	return 0;
}

/* A temporary file of len bytes ('f'), opened for reading, already unlinked. */
static int temp_file(long len)
{
	char path[] = "/tmp/shim_probe_XXXXXX";
	char block[4096];
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	memset(block, 'f', sizeof(block));
	while (len > 0) {
		ssize_t n = write(fd, block, len < (long)sizeof(block) ? (size_t)len : sizeof(block));

		if (n <= 0)
			return -1;
		len -= n;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int cmd_sendfile(char **argv)
{
	long total = atol(argv[1]), done = 0;
	int use_offset = strcmp(argv[2], "offset") == 0;
	int file = temp_file(total);
	int fd = connect_to(argv[0]);
	off_t offset = 0;

	if (fd < 0 || file < 0)
		return 2;
	while (done < total) {
		ssize_t n = sendfile(fd, file, use_offset ? &offset : NULL, (size_t)(total - done));

		print_result("", n);
		if (n <= 0)
			break;
		done += n;
	}
	/* The source position must have moved by exactly what was sent. */
	printf("position %lld\n",
	       (long long)(use_offset ? offset : lseek(file, 0, SEEK_CUR)));
	close(fd);
	close(file);
	return 0;
}

static int cmd_splice(char **argv)
{
	long total = atol(argv[1]), done = 0;
	char *buf = calloc(1, (size_t)total + 1);
	int fd = connect_to(argv[0]);
	int p[2];

	if (fd < 0 || buf == NULL || pipe(p) < 0)
		return 2;
	fcntl(p[1], F_SETPIPE_SZ, 65536);
	memset(buf, 's', (size_t)total);
	if (write(p[1], buf, (size_t)total) != total)
		return 2;
	while (done < total) {
		ssize_t n = splice(p[0], NULL, fd, NULL, (size_t)(total - done), 0);

		print_result("", n);
		if (n <= 0)
			break;
		done += n;
	}
	close(fd);
	free(buf);
	return 0;
}

static int cmd_mmsg(char **argv)
{
	static char out[60], in[2][40];
	struct mmsghdr vec[3];
	struct iovec iov[3];
	int fd = connect_to(argv[0]);
	int n, i;

	if (fd < 0)
		return 2;
	memset(out, 'm', sizeof(out));
	memset(vec, 0, sizeof(vec));
	for (i = 0; i < 3; i++) {
		iov[i].iov_base = out + 20 * i;
		iov[i].iov_len = 20;
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
	}
	n = sendmmsg(fd, vec, 3, 0);
	printf("sendmmsg %d", n);
	for (i = 0; i < n; i++)
		printf(" %u", vec[i].msg_len);
	printf("\n");
	fflush(stdout);
	memset(vec, 0, sizeof(vec));
	for (i = 0; i < 2; i++) {
		iov[i].iov_base = in[i];
		iov[i].iov_len = 40;
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(fd, vec, 2, MSG_WAITFORONE, NULL);
	printf("recvmmsg %d", n);
	for (i = 0; i < n; i++)
		printf(" %u", vec[i].msg_len);
	printf("\n");
	close(fd);
	return 0;
}

static int cmd_cfr(char **argv)
{
	int file = temp_file(100);
	int fd = connect_to(argv[0]);

	if (fd < 0 || file < 0)
		return 2;
	print_result("copy_file_range", copy_file_range(file, NULL, fd, NULL, 100, 0));
	close(fd);
	close(file);
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
		{ "accept", 1 },  { "waitall", 3 }, { "badargs", 1 },  { "peek", 1 },
		{ "nonblocking", 1 }, { "dups", 1 }, { "sendfile", 3 }, { "splice", 2 },
		{ "mmsg", 1 },    { "cfr", 1 },
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
	else if (strcmp(cmd, "waitall") == 0)
		ret = cmd_waitall(args);
	else if (strcmp(cmd, "badargs") == 0)
		ret = cmd_badargs(args);
	else if (strcmp(cmd, "peek") == 0)
		ret = cmd_peek(args);
	else if (strcmp(cmd, "nonblocking") == 0)
		ret = cmd_nonblocking(args);
	else if (strcmp(cmd, "dups") == 0)
		ret = cmd_dups(args);
	else if (strcmp(cmd, "sendfile") == 0)
		ret = cmd_sendfile(args);
	else if (strcmp(cmd, "splice") == 0)
		ret = cmd_splice(args);
	else if (strcmp(cmd, "mmsg") == 0)
		ret = cmd_mmsg(args);
	else if (strcmp(cmd, "cfr") == 0)
		ret = cmd_cfr(args);
	fflush(stdout);
	return ret;
}
