/* verdict_state_test: the verdicts that must never lie, on real captures
 * (lab/tests/pcaps) and run records made by hand: packets lost by the kernel make
 * packet verdicts inconclusive; a capture without the scenario's connection
 * proves nothing about it (only `handshake none` and `teardown none` hold); an
 * expectation over every data segment of a side that sent none fails; packets
 * after the lab's stop are not judged; output beyond what was kept is searched
 * as it flowed (contains) or is inconclusive (matches); a fault line that never
 * took effect fails and says why. Each test shows the verdict both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/verdict/expect.h"

#define PCAPS "lab/tests/pcaps/"

struct judged {
	struct scenario *sc;
	struct facts *facts;
	struct verdict *v;
};

static void judge_text(struct judged *j, const char *text, const char *pcap,
		       const struct run_record *rec, int64_t until_us)
{
	struct lab_err err = { 0 };
	struct facts_opts fo;

	memset(j, 0, sizeof(*j));
	assert_int_equal(scenario_parse_text("t.scn", text, &j->sc, &err), 0);
	assert_int_equal(expect_facts_opts(j->sc, &fo, &err), 0);
	fo.until_us = until_us;
	assert_int_equal(facts_read(pcap, &fo, &j->facts, &err), 0);
	expect_facts_opts_free(&fo);
	assert_int_equal(expect_evaluate(j->sc, rec, j->facts, &j->v, &err), 0);
}

static void judged_free(struct judged *j)
{
	free(j->v);
	facts_free(j->facts);
	scenario_free(j->sc);
}

static struct run_record *record_new(void)
{
	struct run_record *rec = calloc(1, sizeof(*rec));

	assert_non_null(rec);
	rec->stop_us = -1;
	rec->side[WHO_CLIENT].present = true;
	rec->side[WHO_CLIENT].started = true;
	rec->side[WHO_CLIENT].proc.exited = true;
	rec->side[WHO_SERVER].present = true;
	rec->side[WHO_SERVER].started = true;
	rec->side[WHO_SERVER].proc.exited = true;
	return rec;
}

#define ECHO "scenario \"s\"\nserver x\nclient x\n"

static void test_drops_make_packet_verdicts_inconclusive(void **state)
{
	struct run_record *rec = record_new();
	struct judged j;

	(void)state;
	judge_text(&j,
		   ECHO "expect bytes client->server == 16\nexpect client exit 0\n"
			"expect teardown fin\n",
		   PCAPS "basic_echo.pcap", rec, 0);
	assert_true(j.v[0].held); /* no drops: a fact */
	assert_false(j.v[0].inconclusive);
	judged_free(&j);

	rec->capture.kernel_drops = 5;
	judge_text(&j,
		   ECHO "expect bytes client->server == 16\nexpect client exit 0\n"
			"expect teardown fin\n",
		   PCAPS "basic_echo.pcap", rec, 0);
	assert_false(j.v[0].held);
	assert_true(j.v[0].inconclusive);
	assert_non_null(strstr(j.v[0].text, "inconclusive: the capture lost 5 packets"));
	assert_non_null(strstr(j.v[0].text, "saw 16"));
	assert_true(j.v[1].held); /* about the program, not the packets */
	assert_false(j.v[1].inconclusive);
	assert_true(j.v[2].inconclusive);
	judged_free(&j);
	free(rec);
}

static void test_no_connection_proves_nothing(void **state)
{
	struct judged j;

	(void)state;
	/* basic_echo's connection is to 1060: nothing to port 2000. */
	judge_text(&j,
		   "scenario \"s\"\nport 2000\nclient true\n"
		   "expect handshake none\nexpect teardown none\n"
		   "expect segments from client payload > 100000\n"
		   "expect bytes client->server >= 0\nexpect retransmissions == 0\n"
		   "expect packets \"tcp and port 2000\" == 0\nexpect zero-window from client == 0\n",
		   PCAPS "basic_echo.pcap", NULL, 0);
	assert_true(j.v[0].held);
	assert_true(j.v[1].held);
	for (int i = 2; i < 7; i++) {
		assert_false(j.v[i].held);
		assert_false(j.v[i].inconclusive);
		assert_non_null(strstr(j.v[i].text, "the capture has no connection to port 2000"));
	}
	judged_free(&j);

	/* The same counts on the capture of the connection are facts. */
	judge_text(&j,
		   ECHO "expect handshake none\nexpect retransmissions == 0\n"
			"expect packets \"tcp[tcpflags] & tcp-rst != 0\" == 0\n",
		   PCAPS "basic_echo.pcap", NULL, 0);
	assert_false(j.v[0].held);
	assert_true(j.v[1].held);
	assert_true(j.v[2].held);
	judged_free(&j);
}

static void test_every_segment_of_none_fails(void **state)
{
	struct judged j;

	(void)state;
	/* refused.pcap: a SYN and a RST, no data either way. */
	judge_text(&j, ECHO "expect segments from client payload <= 5\n", PCAPS "refused.pcap",
		   NULL, 0);
	assert_false(j.v[0].held);
	assert_non_null(strstr(j.v[0].text, "no data segment from the client"));
	judged_free(&j);
	judge_text(&j, ECHO "expect segments from client payload <= 16\n",
		   PCAPS "basic_echo.pcap", NULL, 0);
	assert_true(j.v[0].held);
	judged_free(&j);
}

static void test_packets_after_the_lab_stop_are_not_judged(void **state)
{
	struct run_record *rec = record_new();
	struct lab_err err;
	struct facts *all;
	int64_t first_us;
	struct judged j;

	(void)state;
	assert_int_equal(facts_read(PCAPS "basic_echo.pcap", NULL, &all, &err), 0);
	first_us = flow_conn_at(facts_flows(all), 0)->first_time_us;
	facts_free(all);
	/* The data is at +200 and +400 us, the first FIN at +600 us. */
	rec->stop_us = 5000;
	rec->stop_wall_us = first_us + 500;
	judge_text(&j,
		   ECHO "expect teardown none\nexpect bytes server->client == 16\n"
			"expect packets \"tcp[tcpflags] & tcp-fin != 0\" == 0\n",
		   PCAPS "basic_echo.pcap", rec, rec->stop_wall_us);
	assert_true(j.v[0].held);
	assert_non_null(strstr(j.v[0].text, "judged up to the lab's stop at 0.005 s"));
	assert_non_null(strstr(j.v[0].text, "the 3 packets after it are the lab's doing"));
	assert_true(j.v[1].held);
	assert_true(j.v[2].held);
	assert_int_equal(facts_after_until(j.facts), 3);
	judged_free(&j);
	/* Without the cut the FINs count. */
	judge_text(&j, ECHO "expect teardown none\n", PCAPS "basic_echo.pcap", rec, 0);
	assert_false(j.v[0].held);
	judged_free(&j);
	free(rec);
}

/* A stream as proc.c leaves it: kept holds the first bytes, total counts all. */
static void set_output(struct proc_output *o, const char *kept, uint64_t total)
{
	o->data = strdup(kept);
	o->len = strlen(kept);
	o->total_bytes = total;
}

static void test_output_beyond_what_is_kept(void **state)
{
	struct run_record *rec = record_new();
	struct proc_output *o = &rec->side[WHO_CLIENT].proc.out;
	struct proc_watch w = { .text = "ERROR", .text_len = 5, .found = true };
	struct judged j;
	const char *text = ECHO "expect client stdout not contains \"ERROR\"\n"
				"expect client stdout matches \"ERR\"\n"
				"expect client stdout matches \"x$\"\n"
				"expect client stdout matches \"^x\"\n"
				"expect client stdout contains \"yy\"\n";

	(void)state;
	set_output(o, "xxxx", 5000006);
	/* Searched as it flowed: ERROR came after what was kept. */
	o->watches = &w;
	o->n_watches = 1;
	judge_text(&j, text, PCAPS "basic_echo.pcap", rec, 0);
	assert_false(j.v[0].held);
	assert_false(j.v[0].inconclusive);
	assert_non_null(strstr(j.v[0].text, "it does (all 5000006 bytes searched as they came)"));
	/* A pattern is matched on the kept part only. */
	assert_true(j.v[1].inconclusive);
	assert_non_null(strstr(j.v[1].text, "the rest was not kept"));
	assert_true(j.v[2].inconclusive); /* `$` is not the end of a cut output */
	assert_true(j.v[3].held);         /* a match in the kept part is a match */
	assert_true(j.v[4].inconclusive); /* no watch for "yy", not in the kept part */
	judged_free(&j);

	/* Without the stream search, a text not in the kept part is unknown. */
	o->watches = NULL;
	o->n_watches = 0;
	judge_text(&j, text, PCAPS "basic_echo.pcap", rec, 0);
	assert_true(j.v[0].inconclusive);
	judged_free(&j);

	/* All of it kept: facts. */
	o->total_bytes = o->len;
	judge_text(&j, text, PCAPS "basic_echo.pcap", rec, 0);
	assert_true(j.v[0].held);
	assert_false(j.v[1].held);
	assert_false(j.v[1].inconclusive);
	assert_true(j.v[2].held);
	judged_free(&j);
	free(o->data);
	free(rec);
}

static void judge_faults(const char *text, const char *pcap, const struct run_record *rec,
			 struct judged *j, size_t *n)
{
	struct lab_err err;

	judge_text(j, text, pcap, rec, 0);
	free(j->v);
	assert_int_equal(expect_faults(j->sc, rec, j->facts, &j->v, n, &err), 0);
}

static void test_a_fault_that_never_took_effect_fails(void **state)
{
	struct run_record *rec = record_new();
	struct shim_stats *st = &rec->side[WHO_SERVER].shim;
	struct judged j;
	size_t n;

	(void)state;
	rec->side[WHO_SERVER].faulted = true;
	/* The shell loaded the shim, the static server did not: no call seen,
	 * while the capture shows the server's 16 bytes. */
	st->processes = 1;
	judge_faults(ECHO "fault server send max 10\n", PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_int_equal(n, 1);
	assert_false(j.v[0].held);
	assert_int_equal(j.v[0].line, 4);
	assert_string_equal(j.v[0].source, "fault server send max 10");
	assert_non_null(strstr(j.v[0].text, "yet the capture shows 16 bytes from the server"));
	assert_non_null(strstr(j.v[0].text, "statically linked"));
	judged_free(&j);

	st->processes = 0;
	judge_faults(ECHO "fault server send max 10\n", PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_non_null(strstr(j.v[0].text, "never loaded the fault shim"));
	judged_free(&j);

	/* Every write was small: in force, but nothing to cut. */
	st->processes = 2;
	st->calls_intercepted = 4;
	st->bytes_sent = 16;
	judge_faults(ECHO "fault server send max 100\n", PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_false(j.v[0].held);
	assert_non_null(strstr(j.v[0].text, "asked for more than 100 bytes"));
	judged_free(&j);

	st->short_sends = 2;
	judge_faults(ECHO "fault server send max 10\n", PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_true(j.v[0].held);
	judged_free(&j);

	/* Two lines share one counter: which one acted is not known. */
	st->errors_injected = 1;
	judge_faults(ECHO "fault server error send EAGAIN once\nfault server error recv EINTR once\n",
		     PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_int_equal(n, 2);
	assert_true(j.v[0].inconclusive);
	assert_true(j.v[1].inconclusive);
	judged_free(&j);
	free(rec);
}

static void test_a_pause_after_the_end_fails(void **state)
{
	struct run_record *rec = record_new();
	struct judged j;
	size_t n;

	(void)state;
	rec->side[WHO_CLIENT].proc.start_us = 1000000;
	rec->side[WHO_CLIENT].proc.end_us = 1268000;
	judge_faults(ECHO "timeout 5s\nfault client pause at 300ms for 100ms\n",
		     PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_false(j.v[0].held);
	assert_non_null(
		strstr(j.v[0].text, "the client ended after 268 ms, before the pause at 300 ms"));
	judged_free(&j);

	/* Ended by itself just after the time, before the lab got round to it: not
	 * "the lab stopped it". */
	rec->side[WHO_CLIENT].proc.end_us = 1320000;
	judge_faults(ECHO "timeout 5s\nfault client pause at 300ms for 100ms\n",
		     PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_false(j.v[0].held);
	assert_non_null(strstr(j.v[0].text, "the client ended by itself after 320 ms, before "
					    "the lab carried out the pause due at 300 ms"));
	assert_null(strstr(j.v[0].text, "stopped"));
	judged_free(&j);

	rec->clock_fault_fired[0] = true;
	judge_faults(ECHO "timeout 5s\nfault client pause at 300ms for 100ms\n",
		     PCAPS "basic_echo.pcap", rec, &j, &n);
	assert_true(j.v[0].held);
	judged_free(&j);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drops_make_packet_verdicts_inconclusive),
		cmocka_unit_test(test_no_connection_proves_nothing),
		cmocka_unit_test(test_every_segment_of_none_fails),
		cmocka_unit_test(test_packets_after_the_lab_stop_are_not_judged),
		cmocka_unit_test(test_output_beyond_what_is_kept),
		cmocka_unit_test(test_a_fault_that_never_took_effect_fails),
		cmocka_unit_test(test_a_pause_after_the_end_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
