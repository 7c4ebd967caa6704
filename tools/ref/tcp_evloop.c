/* tcp_evloop: the echo server of tcp_deadlock.py written the way event-loop
 * servers are: one thread, non-blocking sockets, epoll, readv into and writev
 * out of a ring buffer per connection. It upper-cases what it reads and writes it
 * back; a short write keeps the rest for later, EAGAIN waits for EPOLLOUT, a full
 * ring stops reading until the peer takes some. When the peer shuts down its
 * side and the ring is empty, it shuts down its own and closes.
 *
 *   tcp_evloop server HOST [-p PORT]
 *
 * Only the server role exists: tcp_deadlock's client talks to it. It is the
 * lab's example of a program whose socket calls are writev/readv on
 * non-blocking sockets, for the fault shim to cut short and fail with EAGAIN. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "refcli.h"
#include "sockio.h"

#define PROG "tcp_evloop"
#define RING_BYTES 65536
#define MAX_EVENTS 16

static const char usage_line[] = "usage: " PROG " [-h] [-p PORT] {server} host\n";

static const char help_text[] =
	"\n"
	"An event-loop echo server: upper-cases what it reads, writes it back\n"
	"\n"
	"positional arguments:\n"
	"  {server}    the role (only the server exists; tcp_deadlock's client talks to it)\n"
	"  host        interface the server listens at\n"
	"\n"
	"options:\n"
	"  -h, --help  show this help message and exit\n"
	"  -p PORT     TCP port (default 1060)\n";

/* One connection: bytes read and upper-cased wait in the ring until written. */
struct conn {
	int fd;
	char peer[128];
	char ring[RING_BYTES];
	size_t head;    /* first byte not yet written back */
	size_t len;     /* bytes waiting */
	bool peer_done; /* the peer shut down its side */
	uint64_t echoed_bytes;
};

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* The ring's waiting bytes (up to two pieces) or its free room (up to two). */
static int ring_iov(const struct conn *c, bool room, struct iovec iov[2])
{
	size_t start = room ? (c->head + c->len) % RING_BYTES : c->head;
	size_t count = room ? RING_BYTES - c->len : c->len;
	size_t first = count < RING_BYTES - start ? count : RING_BYTES - start;

	if (count == 0)
		return 0;
	iov[0] = (struct iovec){ .iov_base = (char *)c->ring + start, .iov_len = first };
	if (first == count)
		return 1;
	iov[1] = (struct iovec){ .iov_base = (char *)c->ring, .iov_len = count - first };
	return 2;
}

/* Reads what is there; 0 when more may come later, -1 on an error. */
static int conn_read(struct conn *c)
{
	while (c->len < RING_BYTES && !c->peer_done) {
		struct iovec iov[2];
		int n_iov = ring_iov(c, true, iov);
		ssize_t n = readv(c->fd, iov, n_iov);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0) {
			c->peer_done = true;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			char *p = &c->ring[(c->head + c->len + (size_t)i) % RING_BYTES];

			*p = (char)toupper((unsigned char)*p);
		}
		c->len += (size_t)n;
	}
	return 0;
}

/* Writes what it can; 0 when the rest must wait for EPOLLOUT, -1 on an error. */
static int conn_write(struct conn *c)
{
	while (c->len > 0) {
		struct iovec iov[2];
		int n_iov = ring_iov(c, false, iov);
		ssize_t n = writev(c->fd, iov, n_iov);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->head = (c->head + (size_t)n) % RING_BYTES;
		c->len -= (size_t)n;
		c->echoed_bytes += (uint64_t)n;
	}
	return 0;
}

/* What the connection waits for now: input while there is room, output while
 * bytes wait. */
static int conn_watch(int epfd, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	if (c->len < RING_BYTES && !c->peer_done)
		ev.events |= EPOLLIN;
	if (c->len > 0)
		ev.events |= EPOLLOUT;
	return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct conn *c, const char *why)
{
	printf("  %s: %llu bytes echoed to %s\n", why, (unsigned long long)c->echoed_bytes,
	       c->peer);
	close(c->fd);
	free(c);
}

static void accept_all(int epfd, int listen_fd)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		int fd = accept4(listen_fd, (struct sockaddr *)&peer, &peer_len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		if (fd < 0)
			return; /* EAGAIN: all taken; other errors: the next event retries */
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		sockio_format_addr(c->peer, sizeof(c->peer), (struct sockaddr *)&peer, peer_len);
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		printf("Accepted a connection from %s\n", c->peer);
	}
}

/* One readiness event of a connection: read, write, and close when done. */
static void conn_event(int epfd, struct conn *c, uint32_t events)
{
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && conn_read(c) < 0) {
		conn_close(c, "Reset");
		return;
	}
	if (conn_write(c) < 0) {
		conn_close(c, "Reset");
		return;
	}
	if (c->peer_done && c->len == 0) {
		shutdown(c->fd, SHUT_WR);
		conn_close(c, "Socket closed");
		return;
	}
	if (conn_watch(epfd, c) < 0)
		conn_close(c, "Lost");
}

static int run_server(const struct refcli_spec *spec, const struct refcli_args *args)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct epoll_event events[MAX_EVENTS];
	int gai_error = 0;
	int listen_fd = sockio_listen_tcp(args->host, args->port, 128, &gai_error);
	int epfd;
	char name[128];

	(void)spec;
	if (listen_fd < 0)
		return refcli_fail_open(stderr, gai_error, errno);
	if (set_nonblocking(listen_fd) < 0 || (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		return refcli_fail_errno(stderr, errno);
	sockio_format_local(name, sizeof(name), listen_fd);
	printf("Listening at %s\n", name);
	for (;;) {
		int n = epoll_wait(epfd, events, MAX_EVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return refcli_fail_errno(stderr, errno);
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				accept_all(epfd, listen_fd);
			else
				conn_event(epfd, events[i].data.ptr, events[i].events);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct refcli_spec spec = {
		.prog = PROG,
		.usage = usage_line,
		.help = help_text,
	};
	struct refcli_args args;
	struct refcli_error error;
	enum refcli_outcome outcome;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	outcome = refcli_parse(&spec, argc, argv, &args, &error);
	if (outcome == REFCLI_RUN && args.role != REFCLI_SERVER) {
		fputs(usage_line, stderr);
		fputs(PROG
		      ": error: only the server role exists (run tcp_deadlock client against it)\n",
		      stderr);
		return 2;
	}
	if (outcome != REFCLI_RUN)
		return refcli_report(&spec, outcome, &error, stdout, stderr);
	return run_server(&spec, &args);
}
