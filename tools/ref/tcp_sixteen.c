/* tcp_sixteen: the reference client and server of the TCP chapter of "Foundations
 * of Python Network Programming" (3rd ed., tcp_sixteen.py), written again in C.
 * The client sends the 16 bytes "Hi there, server", the server answers with the
 * 16 bytes "Farewell, client"; both read with a receive-exactly loop and write with
 * a send-all loop (sockio), so short reads and short writes are handled.
 *
 * Output follows the Python program line for line (addresses as Python tuples,
 * bytes as b'...'). Where Python would die with a traceback, this prints only the
 * traceback's last line ("ConnectionRefusedError: [Errno 111] Connection refused",
 * "EOFError: was expecting 16 bytes but ...") to stderr and exits 1.
 * Differences on purpose: IPv6 hosts work (the book's socket is AF_INET only), and
 * stdout is line-buffered so a harness that kills the server still sees its lines.
 *
 * usage: tcp_sixteen [-h] [-p PORT] {client,server} host */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sockio.h"

#define PROG "tcp_sixteen"
#define DEFAULT_PORT 1060
#define MESSAGE_BYTES 16

static const char CLIENT_MESSAGE[] = "Hi there, server";
static const char SERVER_MESSAGE[] = "Farewell, client";
_Static_assert(sizeof(CLIENT_MESSAGE) - 1 == MESSAGE_BYTES, "client message is 16 bytes");
_Static_assert(sizeof(SERVER_MESSAGE) - 1 == MESSAGE_BYTES, "server message is 16 bytes");

enum role { ROLE_CLIENT, ROLE_SERVER };

struct args {
	enum role role;
	const char *host;
	uint16_t port;
};

static const char USAGE[] = "usage: " PROG " [-h] [-p PORT] {client,server} host\n";

static void print_help(void)
{
	fputs(USAGE, stdout);
	fputs("\n"
	      "Send and receive over TCP\n"
	      "\n"
	      "positional arguments:\n"
	      "  {client,server}  which role to play\n"
	      "  host             interface the server listens at; host the client sends to\n"
	      "\n"
	      "options:\n"
	      "  -h, --help       show this help message and exit\n"
	      "  -p PORT          TCP port (default 1060)\n",
	      stdout);
}

/* An argument error, the way argparse reports it: usage and message on stderr, exit 2. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(USAGE, stderr);
	fputs(PROG ": error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* Returns -1 when the arguments are good, else the exit status (0 after --help). */
static int parse_args(int argc, char **argv, struct args *args)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t port = DEFAULT_PORT;
	int c;

	opterr = 0; /* our own messages, argparse style */
	while ((c = getopt_long(argc, argv, ":hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help();
			return 0;
		case 'p':
			if (sockio_parse_uint(optarg, UINT64_MAX, &port) < 0)
				return usage_error("argument -p: invalid int value: '%s'", optarg);
			if (port > 65535)
				return usage_error("argument -p: port must be 0-65535, not %s", optarg);
			break;
		case ':':
			return usage_error("argument %s: expected one argument", argv[optind - 1]);
		default:
			return usage_error("unrecognized arguments: %s", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return usage_error("the following arguments are required: %s",
				   argc - optind == 0 ? "role, host" : "host");
	if (strcmp(argv[optind], "client") == 0)
		args->role = ROLE_CLIENT;
	else if (strcmp(argv[optind], "server") == 0)
		args->role = ROLE_SERVER;
	else
		return usage_error("argument role: invalid choice: '%s' (choose from 'client', 'server')",
				   argv[optind]);
	if (argc - optind > 2)
		return usage_error("unrecognized arguments: %s", argv[optind + 2]);
	args->host = argv[optind + 1];
	args->port = (uint16_t)port;
	return -1;
}

/* Python's uncaught OSError: the traceback's last line on stderr, exit status 1. */
static int fail_errno(int errno_value)
{
	char line[256];

	sockio_format_error(line, sizeof(line), errno_value);
	fprintf(stderr, "%s\n", line);
	return 1;
}

/* A failed sockio_listen_tcp/sockio_connect_tcp: a lookup error or an errno. */
static int fail_open(int gai_error, int errno_value)
{
	char line[256];

	if (gai_error == 0)
		return fail_errno(errno_value);
	sockio_format_gai_error(line, sizeof(line), gai_error);
	fprintf(stderr, "%s\n", line);
	return 1;
}

/* The book's recvall raising EOFError. */
static int fail_eof(size_t expected_bytes, size_t received_bytes)
{
	char line[256];

	sockio_format_eof(line, sizeof(line), expected_bytes, received_bytes);
	fprintf(stderr, "%s\n", line);
	return 1;
}

/* Receives the 16-byte message into buf; returns 0 or the exit status of the failure. */
static int receive_message(int fd, char *buf)
{
	ssize_t got = sockio_recvall(fd, buf, MESSAGE_BYTES);

	if (got < 0)
		return fail_errno(errno);
	if (got < MESSAGE_BYTES)
		return fail_eof(MESSAGE_BYTES, (size_t)got);
	return 0;
}

/* One accepted connection: show who it is, read 16 bytes, answer 16 bytes, close. */
static int serve_one(int cfd, const struct sockaddr_storage *peer, socklen_t peer_len)
{
	char addr[160];
	char message[MESSAGE_BYTES];
	char text[4 * MESSAGE_BYTES + 4];
	int rc;

	sockio_format_addr(addr, sizeof(addr), (const struct sockaddr *)peer, peer_len);
	printf("We have accepted a connection from %s\n", addr);
	if (sockio_format_local(addr, sizeof(addr), cfd) < 0)
		return fail_errno(errno);
	printf("  Socket name: %s\n", addr);
	if (sockio_format_peer(addr, sizeof(addr), cfd) < 0)
		return fail_errno(errno);
	printf("  Socket peer: %s\n", addr);
	rc = receive_message(cfd, message);
	if (rc != 0)
		return rc;
	sockio_format_bytes(text, sizeof(text), message, MESSAGE_BYTES);
	printf("  Incoming sixteen-octet message: %s\n", text);
	if (sockio_sendall(cfd, SERVER_MESSAGE, MESSAGE_BYTES) < 0)
		return fail_errno(errno);
	return 0;
}

/* Serves one connection after another, forever (like the book), or until an error. */
static int run_server(const struct args *args)
{
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char addr[160];
	int gai_error;
	int lfd;
	int cfd;
	int rc;

	lfd = sockio_listen_tcp(args->host, args->port, 1, &gai_error);
	if (lfd < 0)
		return fail_open(gai_error, errno);
	if (sockio_format_local(addr, sizeof(addr), lfd) < 0) {
		rc = fail_errno(errno);
		goto out;
	}
	printf("Listening at %s\n", addr);
	for (;;) {
		peer_len = sizeof(peer);
		cfd = sockio_accept(lfd, &peer, &peer_len);
		if (cfd < 0) {
			rc = fail_errno(errno);
			goto out;
		}
		rc = serve_one(cfd, &peer, peer_len);
		close(cfd);
		if (rc != 0)
			goto out;
		printf("  Reply sent, socket closed\n");
	}
out:
	close(lfd);
	return rc;
}

static int run_client(const struct args *args)
{
	char addr[160];
	char reply[MESSAGE_BYTES];
	char text[4 * MESSAGE_BYTES + 4];
	int gai_error;
	int fd;
	int rc;

	fd = sockio_connect_tcp(args->host, args->port, &gai_error);
	if (fd < 0)
		return fail_open(gai_error, errno);
	if (sockio_format_local(addr, sizeof(addr), fd) < 0) {
		rc = fail_errno(errno);
		goto out;
	}
	printf("Client has been assigned socket name %s\n", addr);
	if (sockio_sendall(fd, CLIENT_MESSAGE, MESSAGE_BYTES) < 0) {
		rc = fail_errno(errno);
		goto out;
	}
	rc = receive_message(fd, reply);
	if (rc != 0)
		goto out;
	sockio_format_bytes(text, sizeof(text), reply, MESSAGE_BYTES);
	printf("The server said %s\n", text);
out:
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct args args = { 0 };
	int rc;

	/* Line-buffered even into a pipe or file: a killed server has shown its lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Like Python: a write to a closed peer is an EPIPE error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	if (args.role == ROLE_SERVER)
		return run_server(&args);
	return run_client(&args);
}
