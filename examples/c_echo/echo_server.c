/* echo_server: accepts one connection, reads one frame (a 2-byte length in
 * network order, then that many bytes), sends the same frame back and exits.
 *
 * Built with -DECHO_BUG_SINGLE_RECV it is the first version of this server, with
 * the bug tcplab catches: one recv() taken as "the whole frame". TCP is a byte
 * stream: a recv() may return any part of what was sent (a short read), and the
 * server then echoes a piece of the message and closes.
 *
 * Usage: echo_server HOST PORT   exit status 0 one frame echoed, 1 otherwise */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_MAX_FRAME_BYTES (2 + 65535)

static int listen_on(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *found;
	int one = 1;
	int fd = -1;
	int rc = getaddrinfo(host, port, &hints, &found);

	if (rc != 0) {
		fprintf(stderr, "echo_server: %s port %s: %s\n", host, port, gai_strerror(rc));
		return -1;
	}
	fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, found->ai_addr, found->ai_addrlen) < 0 || listen(fd, 1) < 0) {
		fprintf(stderr, "echo_server: listen on %s port %s: %s\n", host, port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(found);
	return fd;
}

/* Writes all of buf (write() may move fewer bytes than asked). */
static int write_all(int fd, const char *buf, size_t len_bytes)
{
	size_t sent_bytes = 0;

	while (sent_bytes < len_bytes) {
		ssize_t n = write(fd, buf + sent_bytes, len_bytes - sent_bytes);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		sent_bytes += (size_t)n;
	}
	return 0;
}

#ifdef ECHO_BUG_SINGLE_RECV
/* The bug: one recv(), as if a message arrived in one piece. */
static ssize_t read_frame(int fd, char *frame, size_t cap_bytes)
{
	return recv(fd, frame, cap_bytes, 0);
}
#else
/* Reads exactly want_bytes into buf; -1 on EOF or error. */
static int read_exactly(int fd, char *buf, size_t want_bytes)
{
	size_t got_bytes = 0;

	while (got_bytes < want_bytes) {
		ssize_t n = recv(fd, buf + got_bytes, want_bytes - got_bytes, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got_bytes += (size_t)n;
	}
	return 0;
}

/* The fix: read the 2-byte length, then exactly that many bytes, however many
 * recv() calls it takes. */
static ssize_t read_frame(int fd, char *frame, size_t cap_bytes)
{
	uint16_t len_be;
	size_t message_bytes;

	if (cap_bytes < 2 || read_exactly(fd, frame, 2) < 0)
		return -1;
	memcpy(&len_be, frame, 2);
	message_bytes = ntohs(len_be);
	if (2 + message_bytes > cap_bytes || read_exactly(fd, frame + 2, message_bytes) < 0)
		return -1;
	return (ssize_t)(2 + message_bytes);
}
#endif

int main(int argc, char **argv)
{
	static char frame[ECHO_MAX_FRAME_BYTES];
	int listen_fd = -1, fd = -1;
	ssize_t frame_bytes;
	int status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: echo_server HOST PORT\n");
		return 2;
	}
	listen_fd = listen_on(argv[1], argv[2]);
	if (listen_fd < 0)
		return 1;
	fd = accept(listen_fd, NULL, NULL);
	if (fd < 0) {
		fprintf(stderr, "echo_server: accept: %s\n", strerror(errno));
		goto out;
	}
	frame_bytes = read_frame(fd, frame, sizeof(frame));
	if (frame_bytes <= 0) {
		fprintf(stderr, "echo_server: the connection ended before a whole frame\n");
		goto out;
	}
	/* Said before the echo goes out: once the client has its echo it exits, and
	 * whoever runs us may stop us right then. */
	printf("echo_server: echoing a frame of %zd bytes\n", frame_bytes);
	fflush(stdout);
	if (write_all(fd, frame, (size_t)frame_bytes) < 0) {
		fprintf(stderr, "echo_server: write: %s\n", strerror(errno));
		goto out;
	}
	status = 0;
out:
	if (fd >= 0)
		close(fd);
	close(listen_fd);
	return status;
}
