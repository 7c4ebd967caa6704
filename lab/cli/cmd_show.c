/* cmd_show: `tcplab show`: a ladder diagram per connection of a capture taken
 * anywhere, each row with its Wireshark frame number and a time (--time), or
 * with --json its analysis as JSON (schema tcplab-analysis/1). A damaged
 * capture is drawn as far as it goes, and exits 2. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "lab/cli/commands.h"
#include "lab/cli/usage.h"
#include "lab/analysis/facts.h"
#include "lab/report/report_json.h"
#include "lab/report/show.h"

/* The analysis of the capture as JSON on standard output; a damaged capture is
 * written as far as it goes (flows.note says where it stopped) and exits 2. */
static int show_json(const char *path, int port)
{
	struct facts_opts fo = { .port = (uint16_t)port };
	struct report_item item = { .pcap_path = path };
	struct facts *facts = NULL;
	struct lab_err err;
	int rc = 0;

	if (facts_read(path, &fo, &facts, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		return 2;
	}
	item.facts = facts;
	if (report_json_write_analysis(stdout, &item, port, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		rc = 2;
	} else if (flow_totals(facts_flows(facts))->file_note[0] != '\0') {
		fflush(stdout);
		fprintf(stderr, "tcplab: %s\n", flow_totals(facts_flows(facts))->file_note);
		rc = 2;
	}
	facts_free(facts);
	return rc;
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "ascii", no_argument, NULL, 'A' },
		{ "port", required_argument, NULL, 'p' },
		{ "until", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_opts sopts = { 0 };
	struct lab_err err;
	int port = 0;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			sopts.all = true;
			break;
		case 'A':
			sopts.ascii = true;
			break;
		case 'j':
			json = true;
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
		case 'u': {
			/* The lab's stop as the run report gives it: capture time in
			 * seconds since the epoch (tshark -t e), e.g. 1764260000.123456. */
			char *end = NULL;
			double s = strtod(optarg, &end);

			if (end == optarg || *end != '\0' || !(s > 0))
				return cli_usage_error("--until wants a capture time in seconds "
						       "since the epoch, not \"%s\"",
						       optarg);
			sopts.until_us = (int64_t)(s * 1e6 + 0.5);
			break;
		}
		case 'h':
			fputs(cli_usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("%s", "show wants one capture file");
	if (json)
		return show_json(argv[optind], port);
	sopts.port = (uint16_t)port;
	/* A damaged capture is drawn as far as it goes, and is still bad input. */
	if (show_file(stdout, argv[optind], &sopts, &err) != 0) {
		fflush(stdout);
		fprintf(stderr, "tcplab: %s\n", err.msg);
		return 2;
	}
	return 0;
}
