/* lines_client: sends two lines to lines_server, the second 150 ms after the
 * first (it has work to do in between) without waiting for the first answer,
 * then reads the two answers and prints them. Exits 1 when the answers are not
 * "ok " and its lines, in order. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const lines[2] = { "Hi there, server\n", "Farewell, server\n" };

static int send_all(int fd, const char *buf, size_t len)
{
	size_t sent = 0;

	while (sent < len) {
		ssize_t n = send(fd, buf + sent, len - sent, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		sent += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct timespec pause = { .tv_nsec = 150 * 1000 * 1000 };
	char want[64], got[256];
	size_t len = 0;
	int fd, newlines = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: lines_client HOST PORT\n");
		return 2;
	}
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
	if (send_all(fd, lines[0], strlen(lines[0])) < 0)
		goto send_failed;
	while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
		;
	if (send_all(fd, lines[1], strlen(lines[1])) < 0)
		goto send_failed;
	while (newlines < 2 && len < sizeof(got) - 1) {
		ssize_t n = recv(fd, got + len, sizeof(got) - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "the server closed after %zu bytes\n", len);
			return 1;
		}
		for (ssize_t i = 0; i < n; i++)
			newlines += got[len + (size_t)i] == '\n';
		len += (size_t)n;
	}
	got[len] = '\0';
	fputs(got, stdout);
	snprintf(want, sizeof(want), "ok %sok %s", lines[0], lines[1]);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "unexpected answers\n");
		return 1;
	}
	close(fd);
	return 0;
send_failed:
	perror("send");
	return 1;
}
