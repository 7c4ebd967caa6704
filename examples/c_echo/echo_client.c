/* echo_client: sends one message to echo_server and checks that the same bytes
 * come back. A message on the wire is a 2-byte length (network order) and that
 * many bytes of text; the echo is the same frame.
 *
 * Built with -DECHO_BUG_SINGLE_WRITE it is the first version of this client, with
 * the bug tcplab catches: one write() for the whole frame, its return value taken
 * as "everything went". The kernel may move fewer bytes (a short write); then the
 * server waits for the rest and the client for an echo that never comes.
 *
 * Usage: echo_client HOST PORT [MESSAGE]   exit status 0 echo matches, 1 otherwise */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_MAX_MESSAGE_BYTES 4096

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *found, *ai;
	int fd = -1;
	int rc = getaddrinfo(host, port, &hints, &found);

	if (rc != 0) {
		fprintf(stderr, "echo_client: %s port %s: %s\n", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = found; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		fprintf(stderr, "echo_client: connect: %s\n", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(found);
	return fd;
}

#ifdef ECHO_BUG_SINGLE_WRITE
/* The bug: a single write(), as if the kernel always took the whole buffer. */
static int send_frame(int fd, const char *frame, size_t frame_bytes)
{
	if (write(fd, frame, frame_bytes) < 0) {
		fprintf(stderr, "echo_client: write: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}
#else
/* The fix: write() may move fewer bytes than asked; call it until all have gone. */
static int send_frame(int fd, const char *frame, size_t frame_bytes)
{
	size_t sent_bytes = 0;

	while (sent_bytes < frame_bytes) {
		ssize_t n = write(fd, frame + sent_bytes, frame_bytes - sent_bytes);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "echo_client: write: %s\n", strerror(errno));
			return -1;
		}
		sent_bytes += (size_t)n;
	}
	return 0;
}
#endif

/* Reads exactly want_bytes (read() may return fewer); -1 on EOF or error. */
static int read_exactly(int fd, char *buf, size_t want_bytes, size_t *got_bytes)
{
	*got_bytes = 0;
	while (*got_bytes < want_bytes) {
		ssize_t n = read(fd, buf + *got_bytes, want_bytes - *got_bytes);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "echo_client: read: %s\n", strerror(errno));
			return -1;
		}
		if (n == 0)
			return -1;
		*got_bytes += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *message = argc > 3 ? argv[3] : "Hi there, server";
	size_t message_bytes = strlen(message);
	size_t frame_bytes = 2 + message_bytes;
	char frame[2 + ECHO_MAX_MESSAGE_BYTES];
	char echo[2 + ECHO_MAX_MESSAGE_BYTES];
	uint16_t len_be = htons((uint16_t)message_bytes);
	size_t got_bytes = 0;
	int status = 1;
	int fd;

	if (argc < 3 || argc > 4 || message_bytes > ECHO_MAX_MESSAGE_BYTES) {
		fprintf(stderr, "usage: echo_client HOST PORT [MESSAGE of at most %d bytes]\n",
			ECHO_MAX_MESSAGE_BYTES);
		return 2;
	}
	memcpy(frame, &len_be, 2);
	memcpy(frame + 2, message, message_bytes);
	fd = connect_to(argv[1], argv[2]);
	if (fd < 0)
		return 1;
	if (send_frame(fd, frame, frame_bytes) < 0)
		goto out;
	if (read_exactly(fd, echo, frame_bytes, &got_bytes) < 0) {
		fprintf(stderr, "echo_client: the echo ended after %zu of %zu bytes\n", got_bytes,
			frame_bytes);
		goto out;
	}
	if (memcmp(echo, frame, frame_bytes) != 0) {
		fprintf(stderr, "echo_client: the echo differs from the message\n");
		goto out;
	}
	printf("echo: %.*s\n", (int)message_bytes, echo + 2);
	status = 0;
out:
	close(fd);
	return status;
}
