/* show_test: the ladder diagram of every reference capture equals its golden
 * file lab/tests/pcaps/NAME[.ascii|.all|.absolute|.relative].show byte for byte (regenerate them on
 * purpose with tools/pcapgen/regen_golden.sh), plus folding and ASCII rules. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/report/show.h"

#define PCAPS "lab/tests/pcaps/"

static char *render(const char *pcap, const struct show_opts *opts, int *rc)
{
	struct lab_err err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	*rc = show_file(out, pcap, opts, &err);
	fclose(out);
	return text;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		fputc(c, out);
	fclose(f);
	fclose(out);
	return text;
}

/* Prints the first differing line, so a failure says where. */
static void report_difference(const char *golden, const char *want, const char *got)
{
	unsigned line = 1;
	const char *w = want, *g = got;

	while (*w && *w == *g) {
		if (*w == '\n')
			line++;
		w++;
		g++;
	}
	print_error("%s differs at line %u\n  want: %.*s\n  got:  %.*s\n", golden, line,
		    (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"), g);
}

static void test_every_golden_file_matches(void **state)
{
	glob_t g;
	unsigned compared = 0, differing = 0;

	(void)state;
	assert_int_equal(glob(PCAPS "*.show", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *golden = g.gl_pathv[i];
		struct show_opts opts = { 0 };
		char pcap[512];
		char *want, *got, *dot;
		int rc;

		snprintf(pcap, sizeof(pcap), "%s", golden);
		*strrchr(pcap, '.') = '\0'; /* drop .show */
		dot = strrchr(pcap, '.');
		if (dot && strcmp(dot, ".ascii") == 0) {
			opts.ascii = true;
			*dot = '\0';
		} else if (dot && strcmp(dot, ".all") == 0) {
			opts.all = true;
			*dot = '\0';
		} else if (dot && strcmp(dot, ".absolute") == 0) {
			opts.time = SHOW_TIME_ABSOLUTE;
			*dot = '\0';
		} else if (dot && strcmp(dot, ".relative") == 0) {
			opts.time = SHOW_TIME_RELATIVE;
			*dot = '\0';
		}
		strcat(pcap, ".pcap");
		if (access(pcap, R_OK) != 0)
			strcat(pcap, "ng");
		want = slurp(golden);
		got = render(pcap, &opts, &rc);
		assert_int_equal(rc, 0);
		compared++;
		if (strcmp(want, got) != 0) {
			report_difference(golden, want, got);
			differing++;
		}
		free(want);
		free(got);
	}
	globfree(&g);
	assert_true(compared >= 30);
	assert_int_equal(differing, 0);
}

static unsigned count_lines(const char *text)
{
	unsigned n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void test_long_runs_fold_and_all_unfolds(void **state)
{
	struct show_opts folded = { 0 }, all = { .all = true };
	char *a, *b;
	int rc;

	(void)state;
	a = render(PCAPS "bulk.pcap", &folded, &rc);
	assert_int_equal(rc, 0);
	b = render(PCAPS "bulk.pcap", &all, &rc);
	assert_int_equal(rc, 0);
	/* the handshake's last ACK and the first data stay rows */
	assert_non_null(strstr(a, "    3 0.000100 │── ACK seq=1 ack=1 len=0"));
	assert_non_null(strstr(a, "    4 0.000200 │── ACK seq=1 ack=1 len=200"));
	assert_non_null(strstr(a, "... 40 segments (frames 5-44), 4000 B"));
	assert_null(strstr(b, "segments, "));
	assert_true(count_lines(a) < 20);
	assert_int_equal(count_lines(b), 87 + 4); /* packets + summary, header, blank, totals */
	assert_non_null(strstr(a, "[retransmission]"));
	free(a);
	free(b);
}

static void test_dup_ack_storm_folds_with_a_count(void **state)
{
	struct show_opts folded = { 0 };
	char *a;
	int rc;

	(void)state;
	a = render(PCAPS "dup_ack_storm.pcap", &folded, &rc);
	assert_int_equal(rc, 0);
	assert_true(count_lines(a) < 25);
	assert_non_null(strstr(a, "[dup ack]"));
	assert_non_null(strstr(a, "... 598 segments (frames 11-608), 299.0 kB in 0.029850 s, "
				  "dup ack 299 ..."));
	assert_non_null(strstr(a, "[fast retransmission]"));
	free(a);
}

/* Every row starts at the same column whatever the width of its time. */
static void test_wide_times_keep_the_lanes_aligned(void **state)
{
	struct show_opts opts = { .time = SHOW_TIME_ABSOLUTE };
	char *text, *line;
	int rc;
	long lane = -1;

	(void)state;
	text = render(PCAPS "port_reuse.pcap", &opts, &rc);
	assert_int_equal(rc, 0);
	for (line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *bar = strstr(line, "│");
		const char *end = strchr(line, '\n');

		if (bar == NULL || (end && bar > end))
			continue;
		if (lane < 0)
			lane = bar - line;
		assert_int_equal(bar - line, lane);
	}
	assert_true(lane > (long)strlen("2023-11-14 22:13:20.001000"));
	free(text);
}

static void test_ascii_option_writes_only_ascii(void **state)
{
	struct show_opts opts = { .ascii = true };
	char *text;
	int rc;

	(void)state;
	text = render(PCAPS "zero_window.pcap", &opts, &rc);
	assert_int_equal(rc, 0);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		assert_true(*p < 0x80);
	assert_non_null(strstr(text, "[window probe]"));
	assert_non_null(strstr(text, "[zero window]"));
	assert_non_null(strstr(text, "-->|"));
	free(text);
}

static void test_port_filter_and_missing_file(void **state)
{
	struct show_opts opts = { .port = 9 };
	struct lab_err err = { "" };
	char *text;
	int rc;

	(void)state;
	text = render(PCAPS "basic_echo.pcap", &opts, &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(text, "connection 1"));
	free(text);
	assert_int_equal(show_file(stdout, "/nonexistent.pcap", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent.pcap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_golden_file_matches),
		cmocka_unit_test(test_long_runs_fold_and_all_unfolds),
		cmocka_unit_test(test_dup_ack_storm_folds_with_a_count),
		cmocka_unit_test(test_wide_times_keep_the_lanes_aligned),
		cmocka_unit_test(test_ascii_option_writes_only_ascii),
		cmocka_unit_test(test_port_filter_and_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
