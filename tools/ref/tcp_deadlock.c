/* tcp_deadlock: the deadlock demonstration of the TCP chapter of "Foundations of
 * Python Network Programming" (3rd ed., tcp_deadlock.py), written again in C.
 * The server reads up to 1024 bytes at a time, upper-cases them and sends them
 * back. The client sends BYTECOUNT bytes ("capitalize this!" over and over) and
 * only then starts to read the answer. With a small count this completes; with a
 * large one (1 GiB) the server's replies fill the client's receive buffer, the
 * server blocks in send and stops reading, the client's data fills the server's
 * receive buffer, and the client blocks in send too: a deadlock, as the book shows.
 *
 * Differences from the Python program, on purpose (outputs are line-friendly for
 * a harness that reads lines; Python rewrites one terminal line with '\r'):
 * - progress lines are whole lines, "  N bytes sent", "  N bytes processed so far",
 *   "  N bytes received", without the '\r' and the trailing space, and printed
 *   sparsely: each time the count crosses a multiple of 64 KiB and once with the
 *   final count, instead of after every chunk (a 1 GiB run would print 67 million);
 * - the blank line Python prints after each progress run is left out, so the
 *   server's "\n  Socket closed" is simply the line "  Socket closed";
 * - the client ends with "The first message is: b'CAPITALIZE THIS!'" (the first 16
 *   bytes received) where Python prints "  The first data received says b'...'"
 *   with the first 42-byte chunk, right after the first recv;
 * - upper-casing is ASCII-only on raw bytes (Python's decode('ascii') would die on
 *   a non-ASCII byte); IPv6 hosts work; errors print the traceback's last line only.
 *
 * usage: tcp_deadlock [-h] [-p PORT] {client,server} host [bytecount] */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sockio.h"

#define PROG "tcp_deadlock"
#define DEFAULT_PORT 1060
#define DEFAULT_BYTECOUNT 16
#define CHUNK_BYTES 16         /* the client sends the 16-byte message per sendall */
#define SERVER_READ_BYTES 1024 /* the server's recv size, as in the book */
#define CLIENT_READ_BYTES 42   /* the client's recv size, as in the book */
#define REPORT_EVERY_BYTES (64 * 1024)
#define MAX_BYTECOUNT (UINT64_C(1) << 60) /* far beyond any run; keeps rounding safe */

static const char MESSAGE[] = "capitalize this!";
_Static_assert(sizeof(MESSAGE) - 1 == CHUNK_BYTES, "the message is 16 bytes");

enum role { ROLE_CLIENT, ROLE_SERVER };

struct args {
	enum role role;
	const char *host;
	uint16_t port;
	uint64_t bytecount;
};

static const char USAGE[] =
	"usage: " PROG " [-h] [-p PORT] {client,server} host [bytecount]\n";

static void print_help(void)
{
	fputs(USAGE, stdout);
	fputs("\n"
	      "Get deadlocked over TCP\n"
	      "\n"
	      "positional arguments:\n"
	      "  {client,server}  which role to play\n"
	      "  host             interface the server listens at; host the client sends to\n"
	      "  bytecount        number of bytes for client to send (default 16)\n"
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
	int positional;
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
	positional = argc - optind;
	if (positional < 2)
		return usage_error("the following arguments are required: %s",
				   positional == 0 ? "role, host" : "host");
	if (strcmp(argv[optind], "client") == 0)
		args->role = ROLE_CLIENT;
	else if (strcmp(argv[optind], "server") == 0)
		args->role = ROLE_SERVER;
	else
		return usage_error("argument role: invalid choice: '%s' (choose from 'client', 'server')",
				   argv[optind]);
	if (positional > 3)
		return usage_error("unrecognized arguments: %s", argv[optind + 3]);
	args->host = argv[optind + 1];
	args->port = (uint16_t)port;
	args->bytecount = DEFAULT_BYTECOUNT;
	if (positional == 3 &&
	    sockio_parse_uint(argv[optind + 2], MAX_BYTECOUNT, &args->bytecount) < 0)
		return usage_error("argument bytecount: invalid int value: '%s'", argv[optind + 2]);
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

/* True when a progress count moving from before to after crosses a 64 KiB mark. */
static int report_due(uint64_t before, uint64_t after)
{
	return before / REPORT_EVERY_BYTES != after / REPORT_EVERY_BYTES;
}

/* Echoes one connection upper-cased until the client's EOF. Returns 0 or exit status. */
static int serve_one(int cfd)
{
	char buf[SERVER_READ_BYTES];
	uint64_t processed = 0;
	uint64_t reported = 0;
	ssize_t got;
	ssize_t i;

	for (;;) {
		got = sockio_recv(cfd, buf, sizeof(buf));
		if (got < 0)
			return fail_errno(errno);
		if (got == 0)
			break;
		for (i = 0; i < got; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (sockio_sendall(cfd, buf, (size_t)got) < 0)
			return fail_errno(errno);
		if (report_due(processed, processed + (uint64_t)got)) {
			printf("  %" PRIu64 " bytes processed so far\n", processed + (uint64_t)got);
			reported = processed + (uint64_t)got;
		}
		processed += (uint64_t)got;
	}
	if (processed != reported)
		printf("  %" PRIu64 " bytes processed so far\n", processed);
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
		sockio_format_addr(addr, sizeof(addr), (struct sockaddr *)&peer, peer_len);
		printf("Processing up to %d bytes at a time from %s\n", SERVER_READ_BYTES, addr);
		rc = serve_one(cfd);
		close(cfd);
		if (rc != 0)
			goto out;
		printf("  Socket closed\n");
	}
out:
	close(lfd);
	return rc;
}

/* Sends total bytes as 16-byte messages, with sparse progress lines. */
static int send_all_messages(int fd, uint64_t total)
{
	uint64_t sent = 0;
	uint64_t reported = 0;

	while (sent < total) {
		if (sockio_sendall(fd, MESSAGE, CHUNK_BYTES) < 0)
			return fail_errno(errno);
		if (report_due(sent, sent + CHUNK_BYTES)) {
			printf("  %" PRIu64 " bytes sent\n", sent + CHUNK_BYTES);
			reported = sent + CHUNK_BYTES;
		}
		sent += CHUNK_BYTES;
	}
	if (sent != reported)
		printf("  %" PRIu64 " bytes sent\n", sent);
	return 0;
}

/* Reads until EOF in 42-byte recv calls; prints the count and the first 16 bytes. */
static int receive_all(int fd)
{
	char buf[CLIENT_READ_BYTES];
	char first[CHUNK_BYTES];
	char text[4 * CHUNK_BYTES + 4];
	size_t first_len = 0;
	uint64_t received = 0;
	uint64_t reported = 0;
	size_t take;
	ssize_t got;

	for (;;) {
		got = sockio_recv(fd, buf, sizeof(buf));
		if (got < 0)
			return fail_errno(errno);
		if (got == 0)
			break;
		take = sizeof(first) - first_len;
		if (take > (size_t)got)
			take = (size_t)got;
		memcpy(first + first_len, buf, take);
		first_len += take;
		if (report_due(received, received + (uint64_t)got)) {
			printf("  %" PRIu64 " bytes received\n", received + (uint64_t)got);
			reported = received + (uint64_t)got;
		}
		received += (uint64_t)got;
	}
	if (received != reported)
		printf("  %" PRIu64 " bytes received\n", received);
	sockio_format_bytes(text, sizeof(text), first, first_len);
	printf("The first message is: %s\n", text);
	return 0;
}

static int run_client(const struct args *args)
{
	/* Round up to a multiple of 16, as the book does. */
	uint64_t total = (args->bytecount + CHUNK_BYTES - 1) / CHUNK_BYTES * CHUNK_BYTES;
	int gai_error;
	int fd;
	int rc;

	/* The book prints this before it connects, so it shows even when connect fails. */
	printf("Sending %" PRIu64 " bytes of data, in chunks of %d bytes\n", total, CHUNK_BYTES);
	fd = sockio_connect_tcp(args->host, args->port, &gai_error);
	if (fd < 0)
		return fail_open(gai_error, errno);
	rc = send_all_messages(fd, total);
	if (rc != 0)
		goto out;
	if (shutdown(fd, SHUT_WR) < 0) {
		rc = fail_errno(errno);
		goto out;
	}
	printf("Receiving all the data the server sends back\n");
	rc = receive_all(fd);
out:
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct args args = { 0 };
	int rc;

	/* Line-buffered even into a pipe or file: a killed process has shown its lines. */
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
