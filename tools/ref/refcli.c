/* refcli: the reference programs' argparse-style command line; see refcli.h. */
#include "refcli.h"

#include <getopt.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockio.h"

/* Fills error with argparse's message and returns REFCLI_USAGE_ERROR. */
static enum refcli_outcome refuse(struct refcli_error *error, const char *before, const char *arg,
				  const char *after)
{
	error->before = before;
	error->arg = arg;
	error->after = after;
	return REFCLI_USAGE_ERROR;
}

enum refcli_outcome refcli_parse(const struct refcli_spec *spec, int argc, char **argv,
				 struct refcli_args *args, struct refcli_error *error)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int max_positional = spec->takes_bytecount ? 3 : 2;
	uint64_t port = REFCLI_DEFAULT_PORT;
	int positional;
	int c;

	optind = 0; /* glibc: start afresh, as in a new process */
	opterr = 0; /* our own messages, argparse style */
	while ((c = getopt_long(argc, argv, ":hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return REFCLI_HELP;
		case 'p':
			if (sockio_parse_uint(optarg, UINT64_MAX, &port) < 0)
				return refuse(error, "argument -p: invalid int value: '", optarg,
					      "'");
			if (port > 65535)
				return refuse(error, "argument -p: port must be 0-65535, not ",
					      optarg, "");
			break;
		case ':':
			return refuse(error, "argument ", argv[optind - 1],
				      ": expected one argument");
		default:
			return refuse(error, "unrecognized arguments: ", argv[optind - 1], "");
		}
	}
	positional = argc - optind;
	if (positional < 2)
		return refuse(error, "the following arguments are required: ",
			      positional == 0 ? "role, host" : "host", "");
	if (strcmp(argv[optind], "client") == 0)
		args->role = REFCLI_CLIENT;
	else if (strcmp(argv[optind], "server") == 0)
		args->role = REFCLI_SERVER;
	else
		return refuse(error, "argument role: invalid choice: '", argv[optind],
			      "' (choose from 'client', 'server')");
	if (positional > max_positional)
		return refuse(error, "unrecognized arguments: ", argv[optind + max_positional], "");
	args->host = argv[optind + 1];
	args->port = (uint16_t)port;
	args->bytecount = spec->takes_bytecount ? spec->default_bytecount : 0;
	if (positional == 3 &&
	    sockio_parse_uint(argv[optind + 2], spec->max_bytecount, &args->bytecount) < 0)
		return refuse(error, "argument bytecount: invalid int value: '", argv[optind + 2],
			      "'");
	return REFCLI_RUN;
}

int refcli_report(const struct refcli_spec *spec, enum refcli_outcome outcome,
		  const struct refcli_error *error, FILE *out, FILE *err)
{
	if (outcome == REFCLI_HELP) {
		fputs(spec->usage, out);
		fputs(spec->help, out);
		return 0;
	}
	fputs(spec->usage, err);
	fprintf(err, "%s: error: %s%s%s\n", spec->prog, error->before, error->arg, error->after);
	return 2;
}

int refcli_fail_errno(FILE *err, int errno_value)
{
	char line[256];

	sockio_format_error(line, sizeof(line), errno_value);
	fprintf(err, "%s\n", line);
	return 1;
}

int refcli_fail_open(FILE *err, int gai_error, int errno_value)
{
	char line[256];

	if (gai_error == 0)
		return refcli_fail_errno(err, errno_value);
	sockio_format_gai_error(line, sizeof(line), gai_error);
	fprintf(err, "%s\n", line);
	return 1;
}

int refcli_serve(const struct refcli_args *args, refcli_serve_fn serve, const char *closed_line)
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
		return refcli_fail_open(stderr, gai_error, errno);
	if (sockio_format_local(addr, sizeof(addr), lfd) < 0) {
		rc = refcli_fail_errno(stderr, errno);
		goto out;
	}
	printf("Listening at %s\n", addr);
	for (;;) {
		peer_len = sizeof(peer);
		cfd = sockio_accept(lfd, &peer, &peer_len);
		if (cfd < 0) {
			rc = refcli_fail_errno(stderr, errno);
			goto out;
		}
		sockio_format_addr(addr, sizeof(addr), (struct sockaddr *)&peer, peer_len);
		rc = serve(cfd, addr);
		close(cfd);
		if (rc != 0)
			goto out;
		printf("%s\n", closed_line);
	}
out:
	close(lfd);
	return rc;
}
