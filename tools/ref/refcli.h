/* refcli: the command line shared by the reference programs tcp_sixteen and
 * tcp_deadlock, the way the book's argparse reads it: [-h] [-p PORT]
 * {client,server} host [bytecount], with argparse's error messages (usage and
 * "PROG: error: ..." on stderr, exit 2) and Python's last traceback line for a
 * failed socket call (exit 1), and the book's accept-serve-close server loop.
 * Parsing prints nothing; the refcli_report and refcli_fail_* calls write to the
 * stream they are given. */
#ifndef TCPLAB_REFCLI_H
#define TCPLAB_REFCLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define REFCLI_DEFAULT_PORT 1060 /* the book's port */

/* What one program accepts and says about itself. */
struct refcli_spec {
	const char *prog;     /* in error lines: "tcp_sixteen: error: ..." */
	const char *usage;    /* the usage line with its '\n': "usage: tcp_sixteen [-h] ...\n" */
	const char *help;     /* what --help prints after the usage line */
	bool takes_bytecount; /* a third, optional positional [bytecount] */
	uint64_t default_bytecount; /* when it is not given */
	uint64_t max_bytecount;     /* larger counts are refused */
};

enum refcli_role { REFCLI_CLIENT, REFCLI_SERVER };

struct refcli_args {
	enum refcli_role role;
	const char *host; /* points into argv */
	uint16_t port;
	uint64_t bytecount; /* default_bytecount if not given; 0 if not taken */
};

enum refcli_outcome {
	REFCLI_RUN,         /* args is filled: play the role */
	REFCLI_HELP,        /* -h or --help: show the help, exit 0 */
	REFCLI_USAGE_ERROR, /* error says why: show usage and message, exit 2 */
};

/* Why the arguments were refused: argparse's message is before, arg and after
 * put together ("argument -p: invalid int value: '" "abc" "'"). arg points into
 * argv or at a constant, so an argument of any length is shown whole. */
struct refcli_error {
	const char *before;
	const char *arg;
	const char *after;
};

/* Reads argv (getopt_long; getopt's state is reset first, so it may be called
 * more than once in a process). Options and positionals may be mixed, "--" ends
 * the options; -h wins as soon as it is met. Prints nothing. */
enum refcli_outcome refcli_parse(const struct refcli_spec *spec, int argc, char **argv,
				 struct refcli_args *args, struct refcli_error *error);

/* Says what a non-RUN outcome means: the usage line and the help on out
 * (returns 0), or the usage line and "PROG: error: MESSAGE" on err (returns 2). */
int refcli_report(const struct refcli_spec *spec, enum refcli_outcome outcome,
		  const struct refcli_error *error, FILE *out, FILE *err);

/* Python's uncaught OSError for errno_value: the traceback's last line on err
 * ("ConnectionRefusedError: [Errno 111] Connection refused"). Returns 1, the
 * exit status. */
int refcli_fail_errno(FILE *err, int errno_value);

/* A failed sockio_listen_tcp/sockio_connect_tcp: the socket.gaierror line when
 * gai_error is not 0, else as refcli_fail_errno. Returns 1. */
int refcli_fail_open(FILE *err, int gai_error, int errno_value);

/* One accepted connection: peer is its address as Python prints it. Returns 0,
 * or the exit status when the server must stop. */
typedef int (*refcli_serve_fn)(int cfd, const char *peer);

/* The book's server loop: listens on args->host:port, prints "Listening at
 * ('HOST', PORT)", then forever accepts one connection, hands it to serve,
 * closes it and prints closed_line. Returns the exit status of the first error. */
int refcli_serve(const struct refcli_args *args, refcli_serve_fn serve, const char *closed_line);

#endif
