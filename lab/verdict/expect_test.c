/* expect_test: `expect analysis FLAG OP N [from WHO]` judged on reference
 * captures (lab/tests/pcaps, made by tools/pcapgen): the flag names are flow.h's,
 * `from` picks the sender of the flagged segments, and a wrong count fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/analysis/facts.h"
#include "lab/analysis/flow.h"
#include "lab/scenario/scenario.h"
#include "lab/verdict/expect.h"

#define PCAPS "lab/tests/pcaps/"

static void test_flag_words_are_flow_names(void **state)
{
	(void)state;
	for (int i = 0; i < SCENARIO_ANALYSIS_FLAGS; i++)
		assert_string_equal(scenario_analysis_flag_words[i],
				    flow_flag_name((enum flow_flag)i));
}

/* Judges `expects` (lines of a scenario) on the capture NAME.pcap; returns the
 * verdicts (free with free) and their scenario in *out. */
static struct verdict *judge(const char *name, const char *expects, struct scenario **out)
{
	char text[2048], path[256];
	struct scenario *sc = NULL;
	struct facts_opts fo;
	struct facts *facts = NULL;
	struct verdict *v = NULL;
	struct lab_err err = { "" };

	snprintf(text, sizeof(text), "scenario \"test\"\nserver :\nclient :\n%s", expects);
	snprintf(path, sizeof(path), PCAPS "%s.pcap", name);
	if (scenario_parse_text("t.scn", text, &sc, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(expect_facts_opts(sc, &fo, &err), 0);
	if (facts_read(path, &fo, &facts, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(expect_evaluate(sc, NULL, facts, &v, &err), 0);
	expect_facts_opts_free(&fo);
	facts_free(facts);
	*out = sc;
	return v;
}

static void test_analysis_flags_from_either_side(void **state)
{
	struct scenario *sc;
	struct verdict *v = judge("fast_retransmission",
				  "expect analysis fast_retransmission == 1 from client\n"
				  "expect analysis retransmission == 1\n"
				  "expect analysis duplicate_ack >= 3 from server\n"
				  "expect analysis duplicate_ack == 0 from client\n"
				  "expect analysis duplicate_ack == 0\n"
				  "expect analysis out_of_order != 0\n",
				  &sc);

	(void)state;
	assert_int_equal(sc->expects[0].kind, EXPECT_ANALYSIS);
	assert_true(v[0].held);
	assert_true(v[1].held);
	assert_true(v[2].held);
	assert_string_equal(v[2].text, "expected at least 3 segments from the server flagged "
				       "tcp.analysis.duplicate_ack; saw 3");
	assert_true(v[3].held);
	/* wrong on purpose: the server sent three */
	assert_false(v[4].held);
	assert_non_null(strstr(v[4].text, "saw 3"));
	assert_false(v[5].held);
	free(v);
	scenario_free(sc);
}

static void test_every_wireshark_flag_is_assertable(void **state)
{
	struct scenario *sc;
	struct verdict *v = judge("zero_window",
				  "expect analysis zero_window == 4 from server\n"
				  "expect analysis zero_window_probe == 3 from client\n"
				  "expect analysis zero_window_probe_ack == 3\n"
				  "expect analysis window_full == 1\n"
				  "expect analysis window_update == 1 from server\n"
				  "expect analysis keep_alive == 0\n",
				  &sc);

	(void)state;
	for (size_t i = 0; i < sc->n_expects; i++)
		assert_true(v[i].held);
	free(v);
	scenario_free(sc);
	v = judge("port_reuse", "expect analysis reused_ports == 1 from client\n", &sc);
	assert_true(v[0].held);
	free(v);
	scenario_free(sc);
	v = judge("keepalive",
		  "expect analysis keep_alive == 3 from client\n"
		  "expect analysis keep_alive_ack == 3 from server\n",
		  &sc);
	assert_true(v[0].held && v[1].held);
	free(v);
	scenario_free(sc);
	v = judge("bulk_drops",
		  "expect analysis lost_segment == 18\nexpect analysis ack_lost_segment == 17\n",
		  &sc);
	assert_true(v[0].held && v[1].held);
	free(v);
	scenario_free(sc);
}

static void test_unknown_flag_is_refused_with_a_suggestion(void **state)
{
	static const struct {
		const char *line, *message;
	} cases[] = {
		{ "expect analysis retransmissions == 0",
		  "t.scn:3:17: unknown analysis flag \"retransmissions\" (did you mean "
		  "\"retransmission\"?)" },
		{ "expect analysis zero-window >= 1",
		  "t.scn:3:17: unknown analysis flag \"zero-window\" (did you mean \"zero_window\"?)" },
		{ "expect analysis dup_ack == 1", NULL },
		{ "expect analysis retransmission == 1 to server", NULL },
		{ "expect analysis retransmission == 1 from nobody", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct scenario *sc = NULL;
		struct lab_err err = { "" };

		snprintf(text, sizeof(text), "scenario \"t\"\nclient :\n%s\n", cases[i].line);
		assert_int_equal(scenario_parse_text("t.scn", text, &sc, &err), -1);
		assert_null(sc);
		assert_non_null(strstr(err.msg, "t.scn:3:"));
		if (cases[i].message != NULL)
			assert_string_equal(err.msg, cases[i].message);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flag_words_are_flow_names),
		cmocka_unit_test(test_analysis_flags_from_either_side),
		cmocka_unit_test(test_every_wireshark_flag_is_assertable),
		cmocka_unit_test(test_unknown_flag_is_refused_with_a_suggestion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
