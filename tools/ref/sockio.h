/* sockio: the socket helpers shared by the reference programs tcp_sixteen and
 * tcp_deadlock: send-all / receive-exactly loops that survive EINTR, opening a
 * listener or a connection from a HOST string, and formatting addresses, bytes and
 * errors the way Python prints them. It never prints and never exits: functions
 * return -1 with errno set (or a getaddrinfo code), the programs decide the rest. */
#ifndef TCPLAB_SOCKIO_H
#define TCPLAB_SOCKIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Sends all len bytes, looping over short sends and EINTR (Python's sendall).
 * Returns len, or -1 with errno set (bytes may have been sent before the error).
 * Uses MSG_NOSIGNAL, so a closed peer gives EPIPE rather than SIGPIPE. */
ssize_t sockio_sendall(int fd, const void *buf, size_t len);

/* Receives exactly len bytes, looping over short reads and EINTR (the book's
 * recvall). Returns len, or the smaller count received when the peer closed
 * early (0 if it closed at once), or -1 with errno set on an error (bytes already
 * received are then in buf but their count is lost). */
ssize_t sockio_recvall(int fd, void *buf, size_t len);

/* One recv of at most len bytes, retried on EINTR. 0 means end of stream. */
ssize_t sockio_recv(int fd, void *buf, size_t len);

/* connect() that survives EINTR: Linux keeps connecting in the background, so the
 * call is retried (a blocking retry waits for the outcome; EISCONN after a retry
 * means success). Returns 0 or -1 with errno set. */
int sockio_connect(int fd, const struct sockaddr *addr, socklen_t addr_len);

/* accept() retried on EINTR. peer/peer_len may be NULL. Returns the new fd or -1. */
int sockio_accept(int fd, struct sockaddr_storage *peer, socklen_t *peer_len);

/* Opens a TCP listener on host:port with SO_REUSEADDR and the given backlog.
 * host is an IPv4 or IPv6 literal, a name, or "" for every IPv4 interface (as in
 * Python). Names resolve to IPv4 first, as the book's AF_INET sockets do, and to
 * IPv6 only when there is no IPv4 address. Returns the fd, or -1: then
 * *gai_error is a getaddrinfo code (EAI_*) if resolution failed, else 0 and
 * errno says why. */
int sockio_listen_tcp(const char *host, uint16_t port, int backlog, int *gai_error);

/* Connects a TCP socket to host:port (same resolution as sockio_listen_tcp; each
 * address is tried in turn, the last error is kept). Returns the fd, or -1 with
 * *gai_error / errno as above. */
int sockio_connect_tcp(const char *host, uint16_t port, int *gai_error);

/* The formatting helpers below write a NUL-terminated string into buf (size
 * bytes, truncating if needed) and return 0, or -1 if the result was truncated. */

/* An address as Python's socket module shows it: ('127.0.0.1', 1060) for IPv4,
 * ('::1', 1060, 0, 0) for IPv6 (host, port, flowinfo, scope_id), 'path' for
 * AF_UNIX (the empty string for an unnamed socket). */
int sockio_format_addr(char *buf, size_t size, const struct sockaddr *addr, socklen_t addr_len);

/* The local (getsockname) or remote (getpeername) address of fd, formatted as
 * above. Return -1 with errno set if the system call fails. */
int sockio_format_local(char *buf, size_t size, int fd);
int sockio_format_peer(char *buf, size_t size, int fd);

/* Python's repr() of a bytes object: b'Hi there, server', with \t \n \r \\ \'
 * and \xNN escapes, and double quotes when the data holds ' but no ". */
int sockio_format_bytes(char *buf, size_t size, const void *data, size_t len);

/* The class Python raises for an errno value: ConnectionRefusedError for
 * ECONNREFUSED, ConnectionResetError, BrokenPipeError, TimeoutError, ...,
 * OSError when no subclass fits. Never NULL. */
const char *sockio_exception_name(int errno_value);

/* The last line of Python's traceback for a failed socket call:
 * "ConnectionRefusedError: [Errno 111] Connection refused". */
int sockio_format_error(char *buf, size_t size, int errno_value);

/* The same for a failed name lookup:
 * "socket.gaierror: [Errno -2] Name or service not known". */
int sockio_format_gai_error(char *buf, size_t size, int gai_error);

/* The book's recvall failure:
 * "EOFError: was expecting 16 bytes but only received 5 bytes before the socket closed". */
int sockio_format_eof(char *buf, size_t size, size_t expected_bytes, size_t received_bytes);

/* Parses a plain non-negative decimal integer (digits only, no sign, no spaces)
 * that is at most max. Returns 0, or -1 if text is not such a number. */
int sockio_parse_uint(const char *text, uint64_t max, uint64_t *out);

#endif
