/* sixteen_client: sends "Hi there, server" and reads the 16-byte answer. It
 * installs a SIGUSR1 handler without SA_RESTART (it prints its progress when
 * asked, as `dd` does), so its blocking calls may fail with EINTR; with
 * --nonblocking it uses a non-blocking socket and poll(), so its calls may fail
 * with EAGAIN. Written by a user; each of its first versions has one bug:
 *   -DBUG_EINTR    a recv() that fails with EINTR ends the program;
 *   -DBUG_EAGAIN   a recv() that fails with EAGAIN after poll() said "readable"
 *                  is taken for the server going away;
 *   -DBUG_RESTART  the send loop starts the message again from its first byte
 *                  after EINTR, as if nothing had been sent: harmless unless a
 *                  short write came first (two perturbations at once). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MESSAGE_BYTES 16

static volatile sig_atomic_t progress_asked;

static void on_usr1(int sig)
{
	(void)sig;
	progress_asked = 1;
}

static void wait_for(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

static int send_all(int fd, const char *buf, size_t len, bool nonblocking)
{
	size_t sent = 0;

	while (sent < len) {
		ssize_t n = send(fd, buf + sent, len - sent, 0);

		if (n < 0 && errno == EINTR) {
#ifdef BUG_RESTART
			sent = 0; /* the bug: as if the interrupted loop had sent nothing */
#endif
			continue;
		}
		if (n < 0 && nonblocking && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			wait_for(fd, POLLOUT);
			continue;
		}
		if (n < 0)
			return -1;
		sent += (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, char *buf, size_t len, bool nonblocking)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;

		if (nonblocking)
			wait_for(fd, POLLIN);
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR) {
#ifdef BUG_EINTR
			perror("recv");
			return -1;
#else
			continue;
#endif
		}
		if (n < 0 && nonblocking && (errno == EAGAIN || errno == EWOULDBLOCK)) {
#ifdef BUG_EAGAIN
			fprintf(stderr, "the server went away\n");
			return -1;
#else
			continue;
#endif
		}
		if (n < 0) {
			perror("recv");
			return -1;
		}
		if (n == 0) {
			fprintf(stderr, "end of file after %zu bytes\n", got);
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */
	char answer[MESSAGE_BYTES + 1] = { 0 };
	bool nonblocking = argc == 4 && strcmp(argv[3], "--nonblocking") == 0;
	int fd;

	if (argc != 3 && !nonblocking) {
		fprintf(stderr, "usage: sixteen_client HOST PORT [--nonblocking]\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("connect");
		return 1;
	}
	if (nonblocking)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (send_all(fd, "Hi there, server", MESSAGE_BYTES, nonblocking) < 0) {
		perror("send");
		return 1;
	}
	if (recv_all(fd, answer, MESSAGE_BYTES, nonblocking) < 0)
		return 1;
	printf("The server said %s\n", answer);
	if (progress_asked)
		printf("(progress was asked for)\n");
	close(fd);
	return 0;
}
