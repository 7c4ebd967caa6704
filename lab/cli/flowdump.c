/* flowdump: a test and development tool around flow.h and show.h. It prints
 * the analysis of a capture as `name count` lines (totals, one line per
 * tcp.analysis flag) and a block per connection, or its ladder diagram.
 * The tshark cross-check test and tools/pcapgen/regen_golden.sh use it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/analysis/flow.h"
#include "lab/report/show.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: flowdump [--port N] [--counts] PCAP     analysis summary\n"
		"       flowdump --show [--all] [--ascii] [--port N] [--time absolute|relative] PCAP\n"
		"  --counts  only the `flag count` lines (for comparing with tshark)\n");
}

static void print_dir(const char *name, const struct flow_dir_stats *d)
{
	printf("  %s packets %llu data_bytes %llu payload_bytes %llu data_segments %llu "
	       "min_payload %u max_payload %u syn %d fin %d rst %d wscale %d mss %u\n",
	       name, (unsigned long long)d->packets, (unsigned long long)d->data_bytes,
	       (unsigned long long)d->payload_bytes, (unsigned long long)d->data_segments,
	       d->min_payload_bytes, d->max_payload_bytes, d->syn, d->fin, d->rst, d->wscale,
	       d->mss);
	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		if (d->flags[f])
			printf("    %s %llu\n", flow_flag_name((enum flow_flag)f),
			       (unsigned long long)d->flags[f]);
}

static void print_analysis(const struct flow_analysis *fa, int counts_only)
{
	const struct flow_totals *t = flow_totals(fa);

	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		printf("%s %llu\n", flow_flag_name((enum flow_flag)f),
		       (unsigned long long)t->flags[f]);
	if (counts_only)
		return;
	printf("packets %llu\ntcp_packets %llu\nnon_tcp %llu\nmalformed %llu\n"
	       "truncated %llu\nfiltered %llu\nconnections %zu\n",
	       (unsigned long long)t->packets, (unsigned long long)t->tcp_packets,
	       (unsigned long long)t->non_tcp, (unsigned long long)t->malformed,
	       (unsigned long long)t->truncated, (unsigned long long)t->filtered,
	       flow_conn_count(fa));
	if (t->file_note[0])
		printf("note %s\n", t->file_note);
	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);

		printf("conn %u %s -> %s handshake %s rtt_us %lld teardown %s%s%s client_from_syn "
		       "%d closed %d packets %llu\n",
		       c->id, c->client_str, c->server_str, flow_handshake_name(c->handshake),
		       (long long)c->rtt_us, flow_teardown_name(c->teardown),
		       c->teardown_dir < 0 ? "" : " by ",
		       c->teardown_dir < 0 ? "" : (c->teardown_dir == 0 ? "client" : "server"),
		       c->client_from_syn, c->closed, (unsigned long long)c->packets);
		print_dir("c2s", &c->dir[0]);
		print_dir("s2c", &c->dir[1]);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' }, { "show", no_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },        { "ascii", no_argument, NULL, 'A' },
		{ "counts", no_argument, NULL, 'c' },     { "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
	};
	struct show_opts so = { 0 };
	struct flow_opts fo = { 0 };
	struct flow_analysis *fa = NULL;
	struct lab_err err = { "" };
	int show = 0, counts = 0, c;

	while ((c = getopt_long(argc, argv, "p:saAct:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			fo.port = so.port = (uint16_t)atoi(optarg);
			break;
		case 's':
			show = 1;
			break;
		case 'a':
			so.all = true;
			break;
		case 'A':
			so.ascii = true;
			break;
		case 'c':
			counts = 1;
			break;
		case 't':
			so.time = strcmp(optarg, "absolute") == 0   ? SHOW_TIME_ABSOLUTE
				  : strcmp(optarg, "relative") == 0 ? SHOW_TIME_RELATIVE
								    : SHOW_TIME_CONN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (show) {
		if (show_file(stdout, argv[optind], &so, &err) < 0) {
			fprintf(stderr, "flowdump: %s\n", err.msg);
			return 2;
		}
		return 0;
	}
	if (flow_analyse_file(argv[optind], &fo, &fa, &err) < 0) {
		fprintf(stderr, "flowdump: %s\n", err.msg);
		return 2;
	}
	print_analysis(fa, counts);
	flow_free(fa);
	return 0;
}
