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
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "refcli.h"
#include "sockio.h"

#define PROG "tcp_sixteen"
#define MESSAGE_BYTES 16

static const char CLIENT_MESSAGE[] = "Hi there, server";
static const char SERVER_MESSAGE[] = "Farewell, client";
_Static_assert(sizeof(CLIENT_MESSAGE) - 1 == MESSAGE_BYTES, "client message is 16 bytes");
_Static_assert(sizeof(SERVER_MESSAGE) - 1 == MESSAGE_BYTES, "server message is 16 bytes");

static const struct refcli_spec CLI = {
	.prog = PROG,
	.usage = "usage: " PROG " [-h] [-p PORT] {client,server} host\n",
	.help = "\n"
		"Send and receive over TCP\n"
		"\n"
		"positional arguments:\n"
		"  {client,server}  which role to play\n"
		"  host             interface the server listens at; host the client sends to\n"
		"\n"
		"options:\n"
		"  -h, --help       show this help message and exit\n"
		"  -p PORT          TCP port (default 1060)\n",
	.takes_bytecount = false,
};

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
		return refcli_fail_errno(stderr, errno);
	if (got < MESSAGE_BYTES)
		return fail_eof(MESSAGE_BYTES, (size_t)got);
	return 0;
}

/* One accepted connection: show who it is, read 16 bytes, answer 16 bytes, close. */
static int serve_one(int cfd, const char *peer)
{
	char addr[160];
	char message[MESSAGE_BYTES];
	char text[4 * MESSAGE_BYTES + 4];
	int rc;

	printf("We have accepted a connection from %s\n", peer);
	if (sockio_format_local(addr, sizeof(addr), cfd) < 0)
		return refcli_fail_errno(stderr, errno);
	printf("  Socket name: %s\n", addr);
	if (sockio_format_peer(addr, sizeof(addr), cfd) < 0)
		return refcli_fail_errno(stderr, errno);
	printf("  Socket peer: %s\n", addr);
	rc = receive_message(cfd, message);
	if (rc != 0)
		return rc;
	sockio_format_bytes(text, sizeof(text), message, MESSAGE_BYTES);
	printf("  Incoming sixteen-octet message: %s\n", text);
	if (sockio_sendall(cfd, SERVER_MESSAGE, MESSAGE_BYTES) < 0)
		return refcli_fail_errno(stderr, errno);
	return 0;
}

static int run_client(const struct refcli_args *args)
{
	char addr[160];
	char reply[MESSAGE_BYTES];
	char text[4 * MESSAGE_BYTES + 4];
	int gai_error;
	int fd;
	int rc;

	fd = sockio_connect_tcp(args->host, args->port, &gai_error);
	if (fd < 0)
		return refcli_fail_open(stderr, gai_error, errno);
	if (sockio_format_local(addr, sizeof(addr), fd) < 0) {
		rc = refcli_fail_errno(stderr, errno);
		goto out;
	}
	printf("Client has been assigned socket name %s\n", addr);
	if (sockio_sendall(fd, CLIENT_MESSAGE, MESSAGE_BYTES) < 0) {
		rc = refcli_fail_errno(stderr, errno);
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
	struct refcli_args args = { 0 };
	struct refcli_error error;
	enum refcli_outcome outcome;

	/* Line-buffered even into a pipe or file: a killed server has shown its lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Like Python: a write to a closed peer is an EPIPE error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	outcome = refcli_parse(&CLI, argc, argv, &args, &error);
	if (outcome != REFCLI_RUN)
		return refcli_report(&CLI, outcome, &error, stdout, stderr);
	if (args.role == REFCLI_SERVER)
		return refcli_serve(&args, serve_one, "  Reply sent, socket closed");
	return run_client(&args);
}
