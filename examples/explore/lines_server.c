/* lines_server: a line protocol. For each line a client sends ("Hi there,
 * server\n") it answers "ok " and the line; at end of file it closes and waits
 * for the next client. Written by a user. Built with -DBUG_ONE_LINE_PER_READ it
 * is that user's first version: it reads until its buffer holds a newline
 * (short reads are fine), answers that line and empties the buffer, as if a
 * client always waited for an answer before it sent its next line. TCP keeps
 * no message boundaries: when two lines are queued at once, one read returns
 * both and the second is thrown away. On a perfect link the client's second
 * line comes 150 ms after the first, long after the first was read, even on a
 * loaded machine. When the segment with the first line is lost, the client's
 * kernel would probe for it only after about 200 ms; the second line arrives
 * out of order before that, the kernel sends the first again at once, and the
 * two lines reach the server together. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_BYTES 256

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

/* Answers every complete line in buf[0..*len) and keeps the rest; -1 when an
 * answer cannot be sent. */
static int answer_lines(int fd, char *buf, size_t *len)
{
	char *nl;

	while ((nl = memchr(buf, '\n', *len)) != NULL) {
		size_t line = (size_t)(nl - buf) + 1;

		if (send_all(fd, "ok ", 3) < 0 || send_all(fd, buf, line) < 0)
			return -1;
#ifdef BUG_ONE_LINE_PER_READ
		*len = 0; /* the bug: whatever came after the line is dropped */
		return 0;
#else
		memmove(buf, buf + line, *len - line);
		*len -= line;
#endif
	}
	return 0;
}

static void serve(int fd)
{
	char buf[LINE_BYTES];
	size_t len = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		if (answer_lines(fd, buf, &len) < 0 || len == sizeof(buf))
			return;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int one = 1, lfd;

	if (argc != 3) {
		fprintf(stderr, "usage: lines_server HOST PORT\n");
		return 2;
	}
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, 8) < 0) {
		perror("listen");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0) {
			perror("accept");
			return 1;
		}
		serve(fd);
		close(fd);
	}
}
