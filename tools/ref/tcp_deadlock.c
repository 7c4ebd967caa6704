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
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refcli.h"
#include "sockio.h"

#define PROG "tcp_deadlock"
#define DEFAULT_BYTECOUNT 16
#define CHUNK_BYTES 16         /* the client sends the 16-byte message per sendall */
#define SERVER_READ_BYTES 1024 /* the server's recv size, as in the book */
#define CLIENT_READ_BYTES 42   /* the client's recv size, as in the book */
#define REPORT_EVERY_BYTES (64 * 1024)
#define MAX_BYTECOUNT (UINT64_C(1) << 60) /* far beyond any run; keeps rounding safe */

static const char MESSAGE[] = "capitalize this!";
_Static_assert(sizeof(MESSAGE) - 1 == CHUNK_BYTES, "the message is 16 bytes");

static const struct refcli_spec CLI = {
	.prog = PROG,
	.usage = "usage: " PROG " [-h] [-p PORT] {client,server} host [bytecount]\n",
	.help = "\n"
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
	.takes_bytecount = true,
	.default_bytecount = DEFAULT_BYTECOUNT,
	.max_bytecount = MAX_BYTECOUNT,
};

/* A progress count shown sparsely: the line "  N bytes WHAT" each time the count
 * crosses a multiple of 64 KiB, and once more at the end if the final count was
 * not shown yet. */
struct tally {
	const char *what; /* "sent", "processed so far", "received" */
	uint64_t bytes;
	uint64_t shown; /* the count last printed, 0 before the first line */
};

static void tally_add(struct tally *t, uint64_t bytes)
{
	uint64_t after = t->bytes + bytes;

	if (t->bytes / REPORT_EVERY_BYTES != after / REPORT_EVERY_BYTES) {
		printf("  %" PRIu64 " bytes %s\n", after, t->what);
		t->shown = after;
	}
	t->bytes = after;
}

static void tally_end(const struct tally *t)
{
	if (t->bytes != t->shown)
		printf("  %" PRIu64 " bytes %s\n", t->bytes, t->what);
}

/* Echoes one connection upper-cased until the client's EOF. Returns 0 or exit status. */
static int serve_one(int cfd, const char *peer)
{
	char buf[SERVER_READ_BYTES];
	struct tally processed = { .what = "processed so far" };
	ssize_t got;
	ssize_t i;

	printf("Processing up to %d bytes at a time from %s\n", SERVER_READ_BYTES, peer);
	for (;;) {
		got = sockio_recv(cfd, buf, sizeof(buf));
		if (got < 0)
			return refcli_fail_errno(stderr, errno);
		if (got == 0)
			break;
		for (i = 0; i < got; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (sockio_sendall(cfd, buf, (size_t)got) < 0)
			return refcli_fail_errno(stderr, errno);
		tally_add(&processed, (uint64_t)got);
	}
	tally_end(&processed);
	return 0;
}

/* Sends total bytes as 16-byte messages, with sparse progress lines. */
static int send_all_messages(int fd, uint64_t total)
{
	struct tally sent = { .what = "sent" };

	while (sent.bytes < total) {
		if (sockio_sendall(fd, MESSAGE, CHUNK_BYTES) < 0)
			return refcli_fail_errno(stderr, errno);
		tally_add(&sent, CHUNK_BYTES);
	}
	tally_end(&sent);
	return 0;
}

/* Reads until EOF in 42-byte recv calls; prints the count and the first 16 bytes. */
static int receive_all(int fd)
{
	char buf[CLIENT_READ_BYTES];
	char first[CHUNK_BYTES];
	char text[4 * CHUNK_BYTES + 4];
	size_t first_len = 0;
	struct tally received = { .what = "received" };
	size_t take;
	ssize_t got;

	for (;;) {
		got = sockio_recv(fd, buf, sizeof(buf));
		if (got < 0)
			return refcli_fail_errno(stderr, errno);
		if (got == 0)
			break;
		take = sizeof(first) - first_len;
		if (take > (size_t)got)
			take = (size_t)got;
		memcpy(first + first_len, buf, take);
		first_len += take;
		tally_add(&received, (uint64_t)got);
	}
	tally_end(&received);
	sockio_format_bytes(text, sizeof(text), first, first_len);
	printf("The first message is: %s\n", text);
	return 0;
}

static int run_client(const struct refcli_args *args)
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
		return refcli_fail_open(stderr, gai_error, errno);
	rc = send_all_messages(fd, total);
	if (rc != 0)
		goto out;
	if (shutdown(fd, SHUT_WR) < 0) {
		rc = refcli_fail_errno(stderr, errno);
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
	struct refcli_args args = { 0 };
	struct refcli_error error;
	enum refcli_outcome outcome;

	/* Line-buffered even into a pipe or file: a killed process has shown its lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Like Python: a write to a closed peer is an EPIPE error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	outcome = refcli_parse(&CLI, argc, argv, &args, &error);
	if (outcome != REFCLI_RUN)
		return refcli_report(&CLI, outcome, &error, stdout, stderr);
	if (args.role == REFCLI_SERVER)
		return refcli_serve(&args, serve_one, "  Socket closed");
	return run_client(&args);
}
