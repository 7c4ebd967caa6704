/* explore_test: schedules are drawn the same from the same seed, respect what a
 * scenario narrows and already sets, print as scenario lines that parse, and
 * shrink to the smallest failing schedule of a known predicate. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lab/explore/explore.h"

#define HEAD "scenario \"a test\"\nserver true\nclient true\n"

static struct scenario *parse(const char *text)
{
	struct scenario *sc = NULL;
	struct lab_err err = { { 0 } };

	if (scenario_parse_text("t.scn", text, &sc, &err) != 0)
		fail_msg("parse error: %s", err.msg);
	return sc;
}

static void test_same_seed_and_run_give_the_same_schedule(void **state)
{
	struct scenario *sc = parse(HEAD);
	struct explore_schedule a, b, c;
	int differ = 0;

	(void)state;
	for (uint64_t run = 0; run < 50; run++) {
		explore_draw(sc, 7, run, &a);
		explore_draw(sc, 7, run, &b);
		assert_int_equal(a.n, b.n);
		assert_memory_equal(a.faults, b.faults, a.n * sizeof(a.faults[0]));
		assert_true(a.n >= 1);
		explore_draw(sc, 8, run, &c);
		differ += c.n != a.n || memcmp(c.faults, a.faults, a.n * sizeof(a.faults[0])) != 0;
	}
	assert_true(differ > 40); /* another seed, other schedules */
	scenario_free(sc);
}

static void test_every_kind_is_drawn_and_errors_are_legal(void **state)
{
	struct scenario *sc = parse(HEAD);
	struct explore_schedule s;
	unsigned seen[2] = { 0, 0 };

	(void)state;
	for (uint64_t run = 0; run < 200; run++) {
		explore_draw(sc, 1, run, &s);
		for (size_t i = 0; i < s.n; i++) {
			const struct fault *f = &s.faults[i];

			seen[f->who] |= explore_fault_kind(f);
			if (f->kind == FAULT_ERROR) {
				assert_true(f->legal);
				assert_true(f->when == WHEN_ONCE ||
					    (f->when == WHEN_EVERY && f->when_n >= 2)); /* never
											   * every
											   * call */
			}
			if (f->kind == FAULT_SEND_MAX || f->kind == FAULT_RECV_MAX)
				assert_true(f->bytes >= 1);
		}
	}
	assert_int_equal(seen[WHO_CLIENT], EXPLORE_ALL);
	assert_int_equal(seen[WHO_SERVER], EXPLORE_ALL);
	scenario_free(sc);
}

static void test_narrowed_and_existing_kinds_are_not_drawn(void **state)
{
	struct scenario *sc = parse(HEAD "explore server off\nexplore client without eintr\n"
					 "fault client recv max 3\n");
	struct explore_schedule s;

	(void)state;
	for (uint64_t run = 0; run < 200; run++) {
		explore_draw(sc, 1, run, &s);
		assert_true(s.n >= 1);
		for (size_t i = 0; i < s.n; i++) {
			assert_int_equal(s.faults[i].who, WHO_CLIENT);
			assert_int_not_equal(explore_fault_kind(&s.faults[i]), EXPLORE_EINTR);
			assert_int_not_equal(explore_fault_kind(&s.faults[i]), EXPLORE_RECV_MAX);
		}
	}
	scenario_free(sc);
	sc = parse(HEAD "explore server off\nexplore client off\n");
	explore_draw(sc, 1, 0, &s);
	assert_int_equal(s.n, 0);
	scenario_free(sc);
}

/* Every drawn fault printed as a line parses back to the same fault. */
static void test_fault_lines_parse_back(void **state)
{
	struct scenario *sc = parse(HEAD);
	struct explore_schedule s;

	(void)state;
	for (uint64_t run = 0; run < 100; run++) {
		char text[1024], line[160];
		struct scenario *back;

		explore_draw(sc, 3, run, &s);
		for (size_t i = 0; i < s.n; i++) {
			explore_fault_line(&s.faults[i], line, sizeof(line));
			snprintf(text, sizeof(text), HEAD "%s\n", line);
			back = parse(text);
			assert_int_equal(back->n_faults, 1);
			back->faults[0].line = 0;
			assert_memory_equal(&back->faults[0], &s.faults[i], sizeof(struct fault));
			scenario_free(back);
		}
	}
	scenario_free(sc);
}

static void test_fault_line_words(void **state)
{
	struct fault f = { .who = WHO_SERVER, .kind = FAULT_RECV_MAX, .bytes = 7 };
	char line[160];

	(void)state;
	explore_fault_line(&f, line, sizeof(line));
	assert_string_equal(line, "fault server recv max 7");
	f = (struct fault){ .who = WHO_CLIENT,
			    .kind = FAULT_ERROR,
			    .errno_value = EINTR,
			    .when = WHEN_EVERY,
			    .when_n = 3,
			    .legal = true };
	snprintf(f.call, sizeof(f.call), "recv");
	explore_fault_line(&f, line, sizeof(line));
	assert_string_equal(line, "fault client error recv EINTR every 3 legal");
	f = (struct fault){ .who = WHO_CLIENT, .kind = FAULT_SEND_DELAY, .delay_us = 2000 };
	explore_fault_line(&f, line, sizeof(line));
	assert_string_equal(line, "fault client send delay 2ms");
}

/* A made-up bug: fails when the server's reads are cut to at most 7 bytes (a
 * 16-byte message in three reads or more), whatever else happens. */
static bool fails_two_reads(const struct explore_schedule *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->faults[i].who == WHO_SERVER && s->faults[i].kind == FAULT_RECV_MAX &&
		    s->faults[i].bytes <= 7)
			return true;
	return false;
}

static void test_shrink_finds_the_one_line_and_the_largest_size(void **state)
{
	struct scenario *sc = parse(HEAD);
	struct explore_schedule s, cand;
	struct explore_shrink sh;
	char line[160];
	uint64_t run;

	(void)state;
	for (run = 0; run < 1000; run++) {
		explore_draw(sc, 1, run, &s);
		if (fails_two_reads(&s) && s.n >= 3)
			break;
	}
	assert_true(run < 1000);
	explore_shrink_start(&sh, &s);
	while (explore_shrink_next(&sh, &cand))
		explore_shrink_result(&sh, fails_two_reads(&cand));
	assert_int_equal(sh.best.n, 1);
	explore_fault_line(&sh.best.faults[0], line, sizeof(line));
	assert_string_equal(line, "fault server recv max 7");
	scenario_free(sc);
}

/* A made-up bug that needs two perturbations at once: both stay. An error rule is
 * made as rare as it gets (once) when that still fails. */
static bool fails_short_write_and_eintr(const struct explore_schedule *s)
{
	bool cut = false, eintr = false;

	for (size_t i = 0; i < s->n; i++) {
		cut |= s->faults[i].who == WHO_CLIENT && s->faults[i].kind == FAULT_SEND_MAX;
		eintr |= s->faults[i].who == WHO_CLIENT && s->faults[i].kind == FAULT_ERROR &&
			 s->faults[i].errno_value == EINTR;
	}
	return cut && eintr;
}

static void test_shrink_keeps_a_combination_and_makes_it_mild(void **state)
{
	struct scenario *sc = parse(HEAD);
	struct explore_schedule s, cand;
	struct explore_shrink sh;
	char a[160], b[160];
	uint64_t run;

	(void)state;
	for (run = 0; run < 1000; run++) {
		explore_draw(sc, 1, run, &s);
		if (fails_short_write_and_eintr(&s) && s.n >= 3)
			break;
	}
	assert_true(run < 1000);
	explore_shrink_start(&sh, &s);
	while (explore_shrink_next(&sh, &cand))
		explore_shrink_result(&sh, fails_short_write_and_eintr(&cand));
	assert_int_equal(sh.best.n, 2);
	explore_fault_line(&sh.best.faults[0], a, sizeof(a));
	explore_fault_line(&sh.best.faults[1], b, sizeof(b));
	assert_string_equal(a, "fault client send max 65535");
	assert_true(strncmp(b, "fault client error ", 19) == 0);
	assert_non_null(strstr(b, "EINTR once legal"));
	scenario_free(sc);
}

static void test_replay_parses_seed_and_run(void **state)
{
	uint64_t seed = 0, run = 0;
	struct lab_err err;

	(void)state;
	assert_int_equal(explore_parse_replay("42:17", &seed, &run, &err), 0);
	assert_int_equal(seed, 42);
	assert_int_equal(run, 17);
	assert_int_equal(explore_parse_replay("42", &seed, &run, &err), -1);
	assert_string_equal(err.msg, "--replay wants SEED:RUN (two decimal numbers), not \"42\"");
	assert_int_equal(explore_parse_replay("4:x", &seed, &run, &err), -1);
	assert_int_equal(explore_parse_replay("-1:2", &seed, &run, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_and_run_give_the_same_schedule),
		cmocka_unit_test(test_every_kind_is_drawn_and_errors_are_legal),
		cmocka_unit_test(test_narrowed_and_existing_kinds_are_not_drawn),
		cmocka_unit_test(test_fault_lines_parse_back),
		cmocka_unit_test(test_fault_line_words),
		cmocka_unit_test(test_shrink_finds_the_one_line_and_the_largest_size),
		cmocka_unit_test(test_shrink_keeps_a_combination_and_makes_it_mild),
		cmocka_unit_test(test_replay_parses_seed_and_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
