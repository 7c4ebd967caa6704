/* cmd_show: `tcplab show`: a ladder diagram per connection of a capture taken
 * anywhere, each row with its Wireshark frame number and a time (--time).
 * A damaged capture is drawn as far as it goes, and exits 2. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lab/cli/commands.h"
#include "lab/cli/usage.h"
#include "lab/report/show.h"

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },        { "ascii", no_argument, NULL, 'A' },
		{ "port", required_argument, NULL, 'p' }, { "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
	};
	struct show_opts sopts = { 0 };
	struct lab_err err;
	int port = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			sopts.all = true;
			break;
		case 'A':
			sopts.ascii = true;
			break;
		case 'p':
			if (cli_parse_port(optarg, &port) < 0)
				return cli_usage_error("--port wants 1 to 65535, not \"%s\"",
						       optarg);
			break;
		case 't':
			if (strcmp(optarg, "absolute") == 0)
				sopts.time = SHOW_TIME_ABSOLUTE;
			else if (strcmp(optarg, "relative") == 0)
				sopts.time = SHOW_TIME_RELATIVE;
			else
				return cli_usage_error(
					"--time wants absolute or relative, not \"%s\"", optarg);
			break;
		case 'h':
			fputs(cli_usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("%s", "show wants one capture file");
	sopts.port = (uint16_t)port;
	/* A damaged capture is drawn as far as it goes, and is still bad input. */
	if (show_file(stdout, argv[optind], &sopts, &err) != 0) {
		fflush(stdout);
		fprintf(stderr, "tcplab: %s\n", err.msg);
		return 2;
	}
	return 0;
}
