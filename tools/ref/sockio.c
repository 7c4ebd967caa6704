/* sockio: send-all / receive-exactly loops, listener and connection set-up, and
 * Python-style formatting for the reference programs (see sockio.h). Every loop
 * retries EINTR, as Python does since PEP 475, so a signal (or a fault shim that
 * injects EINTR) never turns into a spurious failure. */
#include "sockio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

ssize_t sockio_sendall(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t sent = 0;

	while (sent < len) {
		ssize_t n = send(fd, p + sent, len - sent, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		sent += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t sockio_recvall(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break; /* the peer closed early: report how much came */
		got += (size_t)n;
	}
	return (ssize_t)got;
}

ssize_t sockio_recv(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

/* After an EALREADY: wait until the background connect ends, then fetch its result. */
static int wait_connected(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int so_error = 0;
	socklen_t so_len = sizeof(so_error);
	int n;

	do
		n = poll(&pfd, 1, -1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) < 0)
		return -1;
	if (so_error != 0) {
		errno = so_error;
		return -1;
	}
	return 0;
}

int sockio_connect(int fd, const struct sockaddr *addr, socklen_t addr_len)
{
	int interrupted = 0;
	int rc;

	for (;;) {
		rc = connect(fd, addr, addr_len);
		if (rc == 0 || errno != EINTR)
			break;
		interrupted = 1;
	}
	if (rc == 0 || !interrupted)
		return rc;
	/* A retry after EINTR may find the first attempt already done or still going. */
	if (errno == EISCONN)
		return 0;
	if (errno == EALREADY)
		return wait_connected(fd);
	return -1;
}

int sockio_accept(int fd, struct sockaddr_storage *peer, socklen_t *peer_len)
{
	int cfd;

	do
		cfd = accept4(fd, (struct sockaddr *)peer, peer_len, SOCK_CLOEXEC);
	while (cfd < 0 && errno == EINTR);
	return cfd;
}

/* Resolves host the way the book's AF_INET programs would, plus IPv6: IPv4 first,
 * IPv6 only when IPv4 has no answer. "" means INADDR_ANY (Python's convention).
 * Returns 0 or an EAI_* code (the IPv4 one when both lookups fail). */
static int resolve(const char *host, uint16_t port, int passive, struct addrinfo **res)
{
	struct addrinfo hints;
	char service[8];
	const char *node = host[0] == '\0' ? NULL : host;
	int rc;

	memset(&hints, 0, sizeof(hints));
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	hints.ai_family = AF_INET;
	rc = getaddrinfo(node, service, &hints, res);
	if (rc == 0 || node == NULL)
		return rc;
	hints.ai_family = AF_INET6;
	if (getaddrinfo(node, service, &hints, res) == 0)
		return 0;
	return rc;
}

/* Turns a getaddrinfo result into the (-1, *gai_error, errno) convention. */
static int resolve_failed(int rc, int *gai_error)
{
	*gai_error = rc == EAI_SYSTEM ? 0 : rc;
	return -1;
}

int sockio_listen_tcp(const char *host, uint16_t port, int backlog, int *gai_error)
{
	struct addrinfo *res = NULL;
	int one = 1;
	int fd = -1;
	int saved;
	int rc;

	*gai_error = 0;
	rc = resolve(host, port, 1, &res);
	if (rc != 0)
		return resolve_failed(rc, gai_error);
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0)
		goto out;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		fd = -1;
	}
out:
	saved = errno;
	freeaddrinfo(res);
	errno = saved;
	return fd;
}

int sockio_connect_tcp(const char *host, uint16_t port, int *gai_error)
{
	struct addrinfo *res = NULL;
	struct addrinfo *ai;
	int fd = -1;
	int saved = 0;
	int rc;

	*gai_error = 0;
	rc = resolve(host, port, 0, &res);
	if (rc != 0)
		return resolve_failed(rc, gai_error);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (sockio_connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = saved;
	return fd;
}

/* snprintf that reports truncation as -1. */
static int format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int sockio_format_addr(char *buf, size_t size, const struct sockaddr *addr, socklen_t addr_len)
{
	char host[NI_MAXHOST];
	const struct sockaddr_in6 *in6;
	const struct sockaddr_un *un;
	size_t path_offset = offsetof(struct sockaddr_un, sun_path);

	switch (addr->sa_family) {
	case AF_INET:
	case AF_INET6:
		/* Numeric host as CPython's makeipaddr() gets it (with %scope for IPv6). */
		if (getnameinfo(addr, addr_len, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			return format(buf, size, "('?', ?)");
		if (addr->sa_family == AF_INET)
			return format(buf, size, "('%s', %u)", host,
				      ntohs(((const struct sockaddr_in *)addr)->sin_port));
		in6 = (const struct sockaddr_in6 *)addr;
		return format(buf, size, "('%s', %u, %u, %u)", host, ntohs(in6->sin6_port),
			      (unsigned)ntohl(in6->sin6_flowinfo), (unsigned)in6->sin6_scope_id);
	case AF_UNIX:
		un = (const struct sockaddr_un *)addr;
		if ((size_t)addr_len <= path_offset)
			return format(buf, size, "''");
		if (un->sun_path[0] == '\0') /* abstract name: Python gives bytes */
			return sockio_format_bytes(buf, size, un->sun_path,
						   (size_t)addr_len - path_offset);
		return format(buf, size, "'%.*s'",
			      (int)strnlen(un->sun_path, (size_t)addr_len - path_offset),
			      un->sun_path);
	default:
		return format(buf, size, "(%d, b'')", addr->sa_family);
	}
}

int sockio_format_local(char *buf, size_t size, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return sockio_format_addr(buf, size, (struct sockaddr *)&ss, len);
}

int sockio_format_peer(char *buf, size_t size, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return sockio_format_addr(buf, size, (struct sockaddr *)&ss, len);
}

/* Appends text to buf at *used; returns -1 (leaving buf terminated) if it does not fit. */
static int append(char *buf, size_t size, size_t *used, const char *text)
{
	size_t n = strlen(text);

	if (*used + n >= size)
		return -1;
	memcpy(buf + *used, text, n + 1);
	*used += n;
	return 0;
}

int sockio_format_bytes(char *buf, size_t size, const void *data, size_t len)
{
	const unsigned char *p = data;
	char quote = '\'';
	char piece[8];
	size_t used = 0;
	size_t i;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	/* Python's bytes repr picks double quotes when that avoids escaping. */
	if (len > 0 && memchr(p, '\'', len) != NULL && memchr(p, '"', len) == NULL)
		quote = '"';
	snprintf(piece, sizeof(piece), "b%c", quote);
	if (append(buf, size, &used, piece) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c == quote || c == '\\')
			snprintf(piece, sizeof(piece), "\\%c", c);
		else if (c == '\t')
			snprintf(piece, sizeof(piece), "\\t");
		else if (c == '\n')
			snprintf(piece, sizeof(piece), "\\n");
		else if (c == '\r')
			snprintf(piece, sizeof(piece), "\\r");
		else if (c < 0x20 || c >= 0x7f)
			snprintf(piece, sizeof(piece), "\\x%02x", c);
		else
			snprintf(piece, sizeof(piece), "%c", c);
		if (append(buf, size, &used, piece) < 0)
			return -1;
	}
	snprintf(piece, sizeof(piece), "%c", quote);
	return append(buf, size, &used, piece);
}

const char *sockio_exception_name(int errno_value)
{
	/* CPython's errno -> OSError subclass table (PEP 3151). */
	switch (errno_value) {
	case ECONNREFUSED:
		return "ConnectionRefusedError";
	case ECONNRESET:
		return "ConnectionResetError";
	case ECONNABORTED:
		return "ConnectionAbortedError";
	case EPIPE:
	case ESHUTDOWN:
		return "BrokenPipeError";
	case ETIMEDOUT:
		return "TimeoutError";
	case EAGAIN:
	case EALREADY:
	case EINPROGRESS:
		return "BlockingIOError";
	case EINTR:
		return "InterruptedError";
	case EACCES:
	case EPERM:
		return "PermissionError";
	case ENOENT:
		return "FileNotFoundError";
	case EEXIST:
		return "FileExistsError";
	case EISDIR:
		return "IsADirectoryError";
	case ENOTDIR:
		return "NotADirectoryError";
	case ECHILD:
		return "ChildProcessError";
	case ESRCH:
		return "ProcessLookupError";
	default:
		return "OSError";
	}
}

int sockio_format_error(char *buf, size_t size, int errno_value)
{
	return format(buf, size, "%s: [Errno %d] %s", sockio_exception_name(errno_value),
		      errno_value, strerror(errno_value));
}

int sockio_format_gai_error(char *buf, size_t size, int gai_error)
{
	return format(buf, size, "socket.gaierror: [Errno %d] %s", gai_error,
		      gai_strerror(gai_error));
}

int sockio_format_eof(char *buf, size_t size, size_t expected_bytes, size_t received_bytes)
{
	return format(buf, size,
		      "EOFError: was expecting %zu bytes but only received %zu bytes"
		      " before the socket closed",
		      expected_bytes, received_bytes);
}

int sockio_parse_uint(const char *text, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;
	const char *p;

	if (text == NULL || *text == '\0')
		return -1;
	for (p = text; *p != '\0'; p++) {
		unsigned digit;

		if (*p < '0' || *p > '9')
			return -1;
		digit = (unsigned)(*p - '0');
		if (digit > max || value > (max - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}
