/* report_html_test: the sequence diagrams have one arrow per segment with the
 * right flags and notes (reference captures through the real analyser), long
 * runs fold without losing a segment, and the site is self-contained: pages,
 * links and copied captures, hostile output shown and not interpreted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/analysis/facts.h"
#include "lab/analysis/flow.h"
#include "lab/report/report_html.h"
#include "lab/report/report_seqdiag.h"
#include "lab/report/tests/fixture/report_fixture.h"

static char pcap_dir[4096];

static char *diagrams_of(const char *name, uint16_t port)
{
	char path[4300];
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct lab_err err;

	struct facts_opts fo = { .port = port, .ladder = &report_seqdiag_ladder_opts };
	struct facts *facts = NULL;

	snprintf(path, sizeof(path), "%s/%s", pcap_dir, name);
	assert_non_null(out);
	if (facts_read(path, &fo, &facts, &err) < 0 || report_seqdiag_write(out, facts, &err) < 0)
		fail_msg("%s", err.msg);
	facts_free(facts);
	fclose(out);
	return buf;
}

static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The arrows of one class list: <g class="seg ..."> whose classes include all
 * words of `classes` (space separated). */
static size_t count_segs(const char *html, const char *classes)
{
	size_t n = 0;

	for (const char *p = strstr(html, "<g class=\"seg"); p;
	     p = strstr(p + 1, "<g class=\"seg")) {
		const char *start = p + strlen("<g class=\"");
		const char *end = strchr(start, '"');
		char list[512], want[256], *save = NULL;
		bool all = true;

		snprintf(list, sizeof(list), " %.*s ", (int)(end - start), start);
		snprintf(want, sizeof(want), "%s", classes);
		for (char *w = strtok_r(want, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			char word[64];

			snprintf(word, sizeof(word), " %s ", w);
			if (strstr(list, word) == NULL)
				all = false;
		}
		n += all;
	}
	return n;
}

/* The sixteen exchange: SYN, SYN/ACK, ACK, 16 bytes each way with their ACKs,
 * a FIN each way and the last ACK: ten arrows, nothing folded. */
static void test_echo_has_one_arrow_per_segment(void **state)
{
	char *html = diagrams_of("basic_echo.pcap", 1060);

	(void)state;
	assert_int_equal(count(html, "<svg class=\"seqdiag\""), 1);
	assert_int_equal(count_segs(html, "seg"), 10);
	assert_int_equal(count(html, "data-flags=\"SYN\""), 1);
	assert_int_equal(count(html, "data-flags=\"SYN/ACK\""), 1);
	assert_int_equal(count(html, "data-flags=\"ACK\""), 4);
	assert_int_equal(count(html, "data-flags=\"PSH/ACK\""), 2);
	assert_int_equal(count(html, "data-flags=\"FIN/ACK\""), 2);
	assert_int_equal(count_segs(html, "syn"), 2);
	assert_int_equal(count_segs(html, "fin"), 2);
	assert_int_equal(count_segs(html, "rst"), 0);
	assert_int_equal(count_segs(html, "data"), 2);
	assert_non_null(strstr(html, "data-flags=\"PSH/ACK\" data-dir=\"c2s\" data-seq=\"1\" "
				     "data-ack=\"1\" data-len=\"16\""));
	assert_non_null(strstr(html, "data-flags=\"PSH/ACK\" data-dir=\"s2c\" data-seq=\"1\" "
				     "data-ack=\"17\" data-len=\"16\""));
	assert_non_null(strstr(html, ">PSH/ACK seq=1 ack=1 len=16 win=8388480</text>"));
	assert_non_null(strstr(html, ">SYN seq=0 len=0 win=65535</text>"));
	assert_int_equal(count(html, "class=\"fold"), 0);
	assert_int_equal(count_segs(html, "noted"), 0);
	assert_non_null(strstr(html, "127.0.0.1:40000"));
	assert_non_null(strstr(html, "<td>complete</td>"));
	free(html);
}

/* Linux probes the closed window with keep-alive-shaped segments: the zero
 * windows and the probes are marked and named. */
static void test_zero_window_and_probes_are_highlighted(void **state)
{
	char *html = diagrams_of("zero_window_linux.pcap", 0);

	(void)state;
	assert_int_equal(count_segs(html, "seg"), 17);
	assert_int_equal(count_segs(html, "zero-window"), 4);
	assert_int_equal(count_segs(html, "window-probe"), 3);
	assert_int_equal(count_segs(html, "window-update"), 1);
	assert_int_equal(count_segs(html, "noted"), 8);
	assert_int_equal(count(html, "data-notes=\"zero window\""), 4);
	assert_int_equal(count(html, "data-notes=\"window probe\""), 3);
	assert_int_equal(count(html, "<rect class=\"hl\""), 8);
	free(html);
}

static void test_refused_and_retransmission_are_marked(void **state)
{
	char *html = diagrams_of("refused.pcap", 0);

	(void)state;
	assert_int_equal(count_segs(html, "rst"), 1);
	assert_int_equal(count_segs(html, "rst noted"), 1);
	assert_int_equal(count_segs(html, "syn"), 1);
	free(html);
	html = diagrams_of("retransmission.pcap", 0);
	assert_true(count_segs(html, "retransmission") >= 1);
	free(html);
}

/* Long runs of ordinary segments fold; every segment is still accounted for. */
static void test_bulk_folds_and_counts_every_segment(void **state)
{
	char path[4300];
	char *html = diagrams_of("bulk.pcap", 0);
	struct flow_analysis *fa;
	struct lab_err err;
	uint64_t drawn, folded = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/bulk.pcap", pcap_dir);
	assert_int_equal(flow_analyse_file(path, NULL, &fa, &err), 0);
	assert_true(count(html, "<g class=\"fold\"") >= 1);
	drawn = count_segs(html, "seg");
	for (const char *p = strstr(html, "<g class=\"fold\" data-segments=\""); p;
	     p = strstr(p + 1, "<g class=\"fold\" data-segments=\"")) {
		uint64_t n = strtoull(p + strlen("<g class=\"fold\" data-segments=\""), NULL, 10);

		assert_true(n > REPORT_SEQDIAG_FOLD_SEGMENTS);
		folded += n;
	}
	assert_int_equal(drawn + folded, flow_totals(fa)->tcp_packets);
	assert_true(drawn < flow_totals(fa)->tcp_packets);
	assert_non_null(strstr(html, " segments, "));
	flow_free(fa);
	free(html);
}

/* Facts read without ladder rows cannot be drawn: an error, not an empty page. */
static void test_facts_without_rows_are_an_error(void **state)
{
	char path[4300];
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct lab_err err = { { 0 } };
	struct facts *facts = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/basic_echo.pcap", pcap_dir);
	assert_int_equal(facts_read(path, NULL, &facts, &err), 0);
	assert_int_equal(report_seqdiag_write(out, facts, &err), -1);
	assert_non_null(strstr(err.msg, "basic_echo.pcap"));
	facts_free(facts);
	fclose(out);
	free(buf);
}

static char *slurp(const char *dir, const char *name)
{
	char path[4400];
	FILE *f;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("%s missing", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void assert_self_contained(const char *html)
{
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "@import"));
	assert_null(strstr(html, "url("));
	/* the only absolute URL is the SVG namespace name, which is never fetched */
	assert_int_equal(count(html, "http"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
}

static void test_site_has_index_pages_and_captures(void **state)
{
	const char *base = getenv("TEST_TMPDIR");
	struct report_fixture fx;
	struct lab_err err;
	char dir[4096], site[4200], path[4400];
	char *index, *echo, *stuck, *nolab;
	struct stat a, b;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/htmlXXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(site, sizeof(site), "%s/a/b/site", dir);
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	assert_int_equal(report_html_write(site, fx.items, fx.n, 4.5, &err), 0);
	index = slurp(site, "index.html");
	echo = slurp(site, "echo.html");
	stuck = slurp(site, "stuck.html");
	nolab = slurp(site, "nolab.html");

	assert_non_null(strstr(index, "3 scenarios: 1 passed, 1 failed, 1 error (4.50 s)"));
	assert_non_null(strstr(index, "<a href=\"echo.html\">echo</a>"));
	assert_non_null(strstr(index, "<a href=\"stuck.html\">stuck</a>"));
	assert_non_null(strstr(index, "<a href=\"nolab.html\">nolab</a>"));
	assert_non_null(strstr(index, "<a href=\"basic_echo.pcap\">"));
	assert_non_null(strstr(index, "<span class=\"badge fail\">FAIL</span>"));
	assert_non_null(strstr(index, "swap 16 bytes &amp; close &lt;cleanly&gt;"));

	/* the captures are copied beside the pages, byte for byte */
	snprintf(path, sizeof(path), "%s/basic_echo.pcap", pcap_dir);
	assert_int_equal(stat(path, &a), 0);
	snprintf(path, sizeof(path), "%s/basic_echo.pcap", site);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_size, b.st_size);
	assert_non_null(strstr(echo, "<a class=\"pcap\" href=\"basic_echo.pcap\">"));
	assert_non_null(strstr(stuck, "<a class=\"pcap\" href=\"zero_window_linux.pcap\">"));

	/* verdicts, outputs shown as text, the diagram */
	assert_int_equal(count(stuck, "<tr class=\"failed\">"), 2);
	assert_int_equal(count(stuck, "<tr class=\"held\">"), 1);
	assert_non_null(strstr(stuck, "Expectations: 1 of 3 held"));
	assert_non_null(strstr(stuck, "saw 5000 &lt;- &quot;not&quot; &amp; &#39;that&#39;"));
	assert_non_null(strstr(stuck, "killed by <b>SIGKILL</b> (stopped by the lab)"));
	assert_non_null(strstr(stuck, "no byte moved for 2.2 s"));
	assert_non_null(strstr(stuck, "4 short sends"));
	assert_int_equal(count_segs(stuck, "zero-window"), 4);
	assert_non_null(strstr(echo, "&lt;b&gt;bold&lt;/b&gt; &amp; &amp;amp; &quot;quoted&quot;"));
	assert_null(strstr(echo, "<b>bold</b>"));
	assert_null(strstr(echo, "</script>"));
	assert_non_null(strstr(echo, "\xe2\x90\x9b[31mred")); /* ␛ */
	assert_non_null(strstr(echo, "caf\xc3\xa9"));
	assert_non_null(strstr(echo, "a NUL here:\xe2\x90\x80:after"));
	assert_int_equal(count_segs(echo, "seg"), 10);
	assert_non_null(strstr(nolab, "The lab could not run this scenario"));
	assert_non_null(strstr(nolab, "Operation not permitted &lt;EPERM&gt; &amp; \xe2\x90\x81"));
	assert_null(strstr(nolab, "<svg"));

	assert_self_contained(index);
	assert_self_contained(echo);
	assert_self_contained(stuck);
	assert_self_contained(nolab);
	/* no temporary file is left */
	snprintf(path, sizeof(path), "%s/index.html.tmp", site);
	assert_int_equal(stat(path, &a), -1);
	snprintf(path, sizeof(path), "%s/basic_echo.pcap.tmp", site);
	assert_int_equal(stat(path, &a), -1);
	free(index);
	free(echo);
	free(stuck);
	free(nolab);
	report_fixture_free(&fx);
}

static void test_page_names(void **state)
{
	char buf[64];

	(void)state;
	report_html_page_name("deadlock", buf, sizeof(buf));
	assert_string_equal(buf, "deadlock.html");
	report_html_page_name("index", buf, sizeof(buf));
	assert_string_equal(buf, "index_.html");
	report_html_page_name("a b/c<d>", buf, sizeof(buf));
	assert_string_equal(buf, "a_b_c_d_.html");
	report_html_page_name(".hidden", buf, sizeof(buf));
	assert_string_equal(buf, "_hidden.html");
	report_html_page_name("", buf, sizeof(buf));
	assert_string_equal(buf, "_.html");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_has_one_arrow_per_segment),
		cmocka_unit_test(test_zero_window_and_probes_are_highlighted),
		cmocka_unit_test(test_refused_and_retransmission_are_marked),
		cmocka_unit_test(test_bulk_folds_and_counts_every_segment),
		cmocka_unit_test(test_facts_without_rows_are_an_error),
		cmocka_unit_test(test_site_has_index_pages_and_captures),
		cmocka_unit_test(test_page_names),
	};

	if (report_fixture_pcap_dir(pcap_dir, sizeof(pcap_dir)) == NULL) {
		fprintf(stderr, "cannot find lab/tests/pcaps\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
