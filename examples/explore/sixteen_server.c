/* sixteen_server: reads one 16-byte message, answers "Farewell, client" and
 * closes; then waits for the next client. The book's server, in C, written by a
 * user. Built with -DBUG_TWO_READS it is that user's first version: it reads the
 * message with at most two recv() calls, which is true on loopback almost always
 * and false whenever the kernel hands it over in three pieces or more. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MESSAGE_BYTES 16

/* Reads exactly len bytes; 0, or -1 at end of file or on an error. */
static int recv_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
#ifdef BUG_TWO_READS
	for (int calls = 0; calls < 2 && got < len; calls++) {
#else
	while (got < len) {
#endif
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return got == len ? 0 : -1;
}

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
	int one = 1, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: sixteen_server HOST PORT\n");
		return 2;
	}
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		perror("listen");
		return 1;
	}
	for (;;) {
		char message[MESSAGE_BYTES + 1] = { 0 };
		int conn = accept(fd, NULL, NULL);

		if (conn < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		if (recv_all(conn, message, MESSAGE_BYTES) < 0) {
			printf("incomplete message: %s\n", message);
			fflush(stdout);
			close(conn);
			continue;
		}
		printf("received: %s\n", message);
		fflush(stdout);
		if (send_all(conn, "Farewell, client", MESSAGE_BYTES) < 0)
			perror("send");
		close(conn);
	}
}
