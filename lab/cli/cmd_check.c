/* cmd_check: `tcplab check`: expectations about packets judged on a capture taken
 * anywhere (--scenario FILE or --expect LINE...). Prints and picks the exit status;
 * --json FILE (or - for standard output) also writes the analysis and the
 * verdicts as JSON (schema tcplab-analysis/1). */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/cli/commands.h"
#include "lab/cli/judge.h"
#include "lab/cli/usage.h"
#include "lab/report/report.h"
#include "lab/report/report_fmt.h"
#include "lab/report/report_json.h"
#include "lab/scenario/scenario.h"
#include "lab/verdict/expect.h"

/* A scenario made of --expect lines: each parsed alone, so that an error names
 * the option it came from. */
static int scenario_from_expects(char **lines, size_t n, int port, struct scenario **out)
{
	size_t len = 0;
	FILE *stream;
	char *text;
	struct lab_err err;

	for (size_t i = 0; i < n; i++) {
		char one[4096];
		struct scenario *probe;
		const char *prefix = strncmp(lines[i], "expect ", 7) == 0 ? "" : "expect ";

		snprintf(one, sizeof(one),
			 "scenario \"--expect\"\nport %d\nserver :\nclient :\n%s%s\n",
			 port ? port : 1060, prefix, lines[i]);
		if (scenario_parse_text("--expect", one, &probe, &err) < 0) {
			const char *why = strstr(err.msg, ": ");

			fprintf(stderr, "tcplab: --expect '%s'%s\n", lines[i], why ? why : err.msg);
			return -1;
		}
		scenario_free(probe);
	}
	stream = open_memstream(&text, &len);
	if (stream == NULL)
		return -1;
	fprintf(stream, "scenario \"--expect\"\nport %d\nserver :\nclient :\n", port ? port : 1060);
	for (size_t i = 0; i < n; i++)
		fprintf(stream, "%s%s\n", strncmp(lines[i], "expect ", 7) == 0 ? "" : "expect ",
			lines[i]);
	if (fclose(stream) != 0) {
		free(text);
		return -1;
	}
	if (scenario_parse_text("--expect", text, out, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		free(text);
		return -1;
	}
	free(text);
	(*out)->port = port; /* 0: every connection */
	for (size_t i = 0; i < (*out)->n_expects; i++)
		(*out)->expects[i].line = (int)i + 1; /* the N-th --expect */
	return 0;
}

/* The analysis and verdicts as JSON into path ("-": standard output); a file is
 * written whole or not at all. */
static int write_json(const char *path, const struct report_item *item, int port)
{
	struct report_file f;
	struct lab_err err;

	if (strcmp(path, "-") == 0) {
		if (report_json_write_analysis(stdout, item, port, &err) == 0 &&
		    fflush(stdout) == 0)
			return 0;
		fprintf(stderr, "tcplab: %s\n", err.msg);
		return -1;
	}
	if (report_fmt_open(&f, path, &err) < 0 ||
	    (report_json_write_analysis(f.out, item, port, &err) < 0 &&
	     (report_fmt_abort(&f), 1)) ||
	    report_fmt_commit(&f, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		return -1;
	}
	return 0;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "port", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts ropts = { .color = isatty(1) && getenv("NO_COLOR") == NULL };
	const char *scenario_path = NULL;
	const char *json_path = NULL;
	char **lines = calloc((size_t)argc, sizeof(*lines));
	size_t n_lines = 0;
	int port = 0;
	struct scenario *sc = NULL;
	struct report_item item = { 0 };
	struct facts *facts = NULL;
	struct lab_err err;
	int status = 2;
	int c;

	if (lines == NULL) {
		fprintf(stderr, "tcplab: out of memory\n");
		return 2;
	}
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			scenario_path = optarg;
			break;
		case 'e':
			lines[n_lines++] = optarg;
			break;
		case 'p':
			if (cli_parse_port(optarg, &port) < 0) {
				free(lines);
				return cli_usage_error("--port wants 1 to 65535, not \"%s\"",
						       optarg);
			}
			break;
		case 'v':
			ropts.verbose = true;
			break;
		case 'j':
			json_path = optarg;
			break;
		case 'h':
			free(lines);
			fputs(cli_usage_text, stdout);
			return 0;
		default:
			free(lines);
			return 2;
		}
	}
	if (optind != argc - 1 || (scenario_path == NULL) == (n_lines == 0)) {
		free(lines);
		return cli_usage_error("%s",
				       "check PCAP wants one capture and either --scenario FILE "
				       "or --expect 'LINE'");
	}
	if (scenario_path != NULL) {
		if (scenario_parse_file(scenario_path, &sc, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
		if (port != 0)
			sc->port = port;
	} else if (scenario_from_expects(lines, n_lines, port, &sc) < 0) {
		goto out;
	}
	if (expect_validate(sc, &err) < 0 ||
	    judge_item(sc, NULL, argv[optind], NULL, false, &item, &facts, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		goto out;
	}
	if (scenario_path == NULL) {
		/* Name the verdict line after the capture, not after "--expect". */
		char *name = strdup(argv[optind]);
		char *base = name != NULL ? strdup(basename(name)) : NULL;

		free(name);
		if (base == NULL) {
			fprintf(stderr, "tcplab: out of memory\n");
			goto out;
		}
		free(sc->name);
		sc->name = base;
	}
	item.sc = sc;
	item.pcap_path = argv[optind];
	if (json_path != NULL && write_json(json_path, &item, sc->port) < 0)
		goto out;
	/* --json -: standard output is the JSON document alone */
	if (json_path == NULL || strcmp(json_path, "-") != 0)
		report_item(stdout, &item, &ropts);
	status = item.status == REPORT_PASS ? 0 : item.status == REPORT_FAIL ? 1 : 2;
out:
	free(item.verdicts);
	free(item.fault_verdicts);
	facts_free(facts);
	scenario_free(sc);
	free(lines);
	return status;
}
