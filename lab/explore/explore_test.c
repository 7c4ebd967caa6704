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

/* Leaving a kind out takes its lines away and changes nothing else. */
static void test_leaving_a_kind_out_changes_nothing_else(void **state)
{
	struct scenario *all = parse(HEAD), *narrow = parse(HEAD "explore client without eintr\n");
	struct explore_schedule a, b;

	(void)state;
	for (uint64_t run = 0; run < 300; run++) {
		struct explore_schedule want = { .n = 0 };

		explore_draw(all, 1, run, &a);
		explore_draw(narrow, 1, run, &b);
		for (size_t i = 0; i < a.n; i++)
			if (!(a.faults[i].who == WHO_CLIENT &&
			      explore_fault_kind(&a.faults[i]) == EXPLORE_EINTR))
				want.faults[want.n++] = a.faults[i];
		if (want.n == 0) /* the narrowed schedule is empty and drawn again */
			continue;
		assert_int_equal(b.n, want.n);
		assert_memory_equal(b.faults, want.faults, b.n * sizeof(b.faults[0]));
	}
	scenario_free(all);
	scenario_free(narrow);
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

/* ---- the wire ---- */

#define LINK HEAD "link mtu 1500\n"

/* Link lines are drawn only for a scenario with a link, each kind in each
 * direction, never one the scenario sets or measures or leaves out; the
 * programs' draws do not change with a link. */
static void test_wire_is_drawn_only_with_a_link(void **state)
{
	struct scenario *plain = parse(HEAD), *link = parse(LINK);
	struct scenario *own = parse(LINK "link client->server loss 1%\nlink seed 9\n");
	struct scenario *timed = parse(LINK "expect duration < 2s\n");
	struct scenario *off = parse(LINK "explore link without loss reorder\n");
	struct scenario *counted = parse(LINK "expect retransmissions == 0\n");
	struct explore_schedule a, b;
	unsigned seen[2] = { 0, 0 };
	bool seed_drawn = false;

	(void)state;
	for (uint64_t run = 0; run < 300; run++) {
		explore_draw(plain, 1, run, &a);
		assert_int_equal(a.n_wire, 0);
		assert_int_equal(a.link_seed, 0);
		explore_draw(link, 1, run, &b);
		if (b.n > 0) { /* the same program draws, with or without the wire */
			assert_int_equal(a.n, b.n);
			assert_memory_equal(a.faults, b.faults, a.n * sizeof(a.faults[0]));
		}
		for (size_t i = 0; i < b.n_wire; i++) {
			seen[b.wire[i].dir] |= explore_wire_kind(&b.wire[i]);
			if (b.wire[i].shape == WIRE_DELAY)
				assert_true(b.wire[i].delay_us >= 1000 &&
					    b.wire[i].delay_us <= 20000);
		}
		seed_drawn |= b.link_seed != 0;
		explore_draw(own, 1, run, &b);
		assert_int_equal(b.link_seed, 0); /* the scenario's own seed stays */
		for (size_t i = 0; i < b.n_wire; i++)
			assert_false(b.wire[i].dir == LINK_C2S &&
				     explore_wire_kind(&b.wire[i]) == EXPLORE_LINK_LOSS);
		explore_draw(timed, 1, run, &b);
		for (size_t i = 0; i < b.n_wire; i++)
			assert_int_equal(b.wire[i].shape, WIRE_DUPLICATE);
		explore_draw(counted, 1, run, &b);
		for (size_t i = 0; i < b.n_wire; i++)
			assert_int_equal(b.wire[i].shape, WIRE_DELAY);
		explore_draw(off, 1, run, &b);
		for (size_t i = 0; i < b.n_wire; i++)
			assert_int_equal(explore_wire_kind(&b.wire[i]) &
						 (EXPLORE_LINK_LOSS | EXPLORE_LINK_REORDER),
					 0);
	}
	assert_int_equal(seen[LINK_C2S], EXPLORE_LINK_ALL);
	assert_int_equal(seen[LINK_S2C], EXPLORE_LINK_ALL);
	assert_true(seed_drawn);
	scenario_free(plain);
	scenario_free(link);
	scenario_free(own);
	scenario_free(timed);
	scenario_free(off);
	scenario_free(counted);
}

/* A schedule's lines pasted into the scenario give the link explore_apply
 * gives it: what is printed is what ran. */
static void test_wire_lines_parse_back(void **state)
{
	struct scenario *sc = parse(LINK);
	struct explore_schedule s;
	int lines_seen = 0;

	(void)state;
	for (uint64_t run = 0; run < 100; run++) {
		char text[4096] = LINK, line[200];
		struct fault faults[EXPLORE_MAX_FAULTS];
		struct scenario view, *back;

		explore_draw(sc, 5, run, &s);
		if (s.n_wire == 0)
			continue;
		for (size_t i = 0; explore_schedule_line(&s, i, line, sizeof(line)); i++) {
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\n", line);
			lines_seen++;
		}
		back = parse(text);
		explore_apply(sc, &s, faults, &view);
		/* without a link line that draws at random the seed is not printed:
		 * no choice of the link depends on it */
		if (strstr(text, "link seed") != NULL)
			assert_int_equal(back->link.seed, view.link.seed);
		for (int d = 0; d < 2; d++) {
			const struct scenario_link_dir_faults *x = &back->link.dir[d],
							      *y = &view.link.dir[d];

			assert_int_equal(x->loss_pcm, y->loss_pcm);
			assert_int_equal(x->reorder_pcm, y->reorder_pcm);
			assert_int_equal(x->duplicate_pcm, y->duplicate_pcm);
			assert_int_equal(x->delay_us, y->delay_us);
			assert_int_equal(x->n_filters, y->n_filters);
			for (size_t f = 0; f < x->n_filters; f++) {
				assert_string_equal(x->filters[f].filter, y->filters[f].filter);
				assert_int_equal(x->filters[f].mode, y->filters[f].mode);
				if (x->filters[f].mode != LINK_FILTER_ONCE)
					assert_int_equal(x->filters[f].n, y->filters[f].n);
			}
		}
		scenario_free(back);
	}
	assert_true(lines_seen > 50);
	scenario_free(sc);
}

/* Made-up bugs of the wire: the first segment with data from the client lost;
 * loss from the client of 1.5% or more. */
static bool fails_first_segment_lost(const struct explore_schedule *s)
{
	for (size_t i = 0; i < s->n_wire; i++)
		if (s->wire[i].dir == LINK_C2S && s->wire[i].shape == WIRE_DROP_DATA)
			return true;
	return false;
}

static bool fails_loss(const struct explore_schedule *s)
{
	for (size_t i = 0; i < s->n_wire; i++)
		if (s->wire[i].dir == LINK_C2S && s->wire[i].shape == WIRE_LOSS &&
		    s->wire[i].pcm >= 1500)
			return true;
	return false;
}

static void shrink_wire(const struct scenario *sc, bool (*fails)(const struct explore_schedule *),
			const char *want, bool seed_line)
{
	struct explore_schedule s, cand;
	struct explore_shrink sh;
	char line[200];
	uint64_t run;

	for (run = 0; run < 2000; run++) {
		explore_draw(sc, 1, run, &s);
		if (fails(&s) && s.n + s.n_wire >= 3)
			break;
	}
	assert_true(run < 2000);
	if (fails == fails_loss) /* the largest drawn: bisection has work to do */
		for (size_t i = 0; i < s.n_wire; i++)
			if (s.wire[i].shape == WIRE_LOSS && s.wire[i].dir == LINK_C2S)
				s.wire[i].pcm = 3000;
	explore_shrink_start(&sh, &s);
	while (explore_shrink_next(&sh, &cand))
		explore_shrink_result(&sh, fails(&cand));
	assert_int_equal(sh.best.n, 0);
	assert_int_equal(sh.best.n_wire, 1);
	assert_true(explore_schedule_line(&sh.best, 0, line, sizeof(line)));
	assert_string_equal(line, want);
	assert_int_equal(explore_schedule_line(&sh.best, 1, line, sizeof(line)), seed_line);
	if (seed_line)
		assert_true(strncmp(line, "link seed ", 10) == 0);
}

static void test_shrink_wire_to_one_link_line(void **state)
{
	struct scenario *sc = parse(LINK);

	(void)state;
	shrink_wire(sc, fails_first_segment_lost,
		    "link client->server drop \"" EXPLORE_DATA_FILTER "\" once", false);
	shrink_wire(sc, fails_loss, "link client->server loss 1.5%", true);
	scenario_free(sc);
}

static void test_wire_line_words(void **state)
{
	struct explore_wire w = { .dir = LINK_S2C, .shape = WIRE_REORDER, .pcm = 12500 };
	char line[200];

	(void)state;
	explore_wire_line(&w, line, sizeof(line));
	assert_string_equal(line, "link server->client reorder 12.5%");
	w = (struct explore_wire){ .dir = LINK_C2S, .shape = WIRE_DUPLICATE, .pcm = 125 };
	explore_wire_line(&w, line, sizeof(line));
	assert_string_equal(line, "link client->server duplicate 0.125%");
	w = (struct explore_wire){ .dir = LINK_C2S, .shape = WIRE_DELAY, .delay_us = 5000 };
	explore_wire_line(&w, line, sizeof(line));
	assert_string_equal(line, "link client->server delay 5ms");
	w = (struct explore_wire){ .dir = LINK_S2C, .shape = WIRE_DROP_DATA, .first_n = 3 };
	explore_wire_line(&w, line, sizeof(line));
	assert_string_equal(line, "link server->client drop \"" EXPLORE_DATA_FILTER "\" first 3");
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
		cmocka_unit_test(test_leaving_a_kind_out_changes_nothing_else),
		cmocka_unit_test(test_fault_lines_parse_back),
		cmocka_unit_test(test_fault_line_words),
		cmocka_unit_test(test_shrink_finds_the_one_line_and_the_largest_size),
		cmocka_unit_test(test_shrink_keeps_a_combination_and_makes_it_mild),
		cmocka_unit_test(test_wire_is_drawn_only_with_a_link),
		cmocka_unit_test(test_wire_lines_parse_back),
		cmocka_unit_test(test_shrink_wire_to_one_link_line),
		cmocka_unit_test(test_wire_line_words),
		cmocka_unit_test(test_replay_parses_seed_and_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
