/* rcvtimeo_client: a client that fixed the classic bug of waiting for ever for a
 * reply: it sends a request, then waits at most 1 s for the answer (SO_RCVTIMEO)
 * and gives up with its own status, 3, saying why.
 * usage: rcvtimeo_client HOST PORT */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct timeval limit = { .tv_sec = 1 };
	char reply[16];
	ssize_t n;
	int fd;

	if (argc != 3 || getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
		fprintf(stderr, "usage: rcvtimeo_client HOST PORT\n");
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("connect");
		return 1;
	}
	freeaddrinfo(ai);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) < 0) {
		perror("setsockopt");
		return 1;
	}
	/* Half of the 16 bytes the server waits for: it never answers. */
	if (send(fd, "GET half", 8, 0) != 8) {
		perror("send");
		return 1;
	}
	n = recv(fd, reply, sizeof(reply), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		printf("no reply within 1 s: giving up\n");
		return 3;
	}
	printf("reply of %zd bytes\n", n);
	return 0;
}
