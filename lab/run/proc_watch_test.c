/* proc_watch_test: `contains` searched on a program's whole output as it flows:
 * a text split across reads in every way is found, one that never came is not,
 * and the search holds no more than the text (the carry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lab/run/proc.h"

/* Feeds data to a fresh watch for text in reads of `step` bytes. */
static bool found_in_reads(const char *text, const char *data, size_t step)
{
	struct proc_output o = { .fd = -1 };
	size_t len = strlen(data);
	bool found;

	assert_int_equal(proc_output_watch(&o, text), 0);
	for (size_t at = 0; at < len; at += step)
		proc_watch_feed(&o.watches[0], data + at, len - at < step ? len - at : step);
	assert_true(o.watches[0].carry_len < o.watches[0].text_len || o.watches[0].found);
	found = o.watches[0].found;
	proc_output_free(&o);
	return found;
}

static void test_split_across_reads(void **state)
{
	const char *data = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxERRORyyyyyyyy";

	(void)state;
	for (size_t step = 1; step <= strlen(data); step++) {
		assert_true(found_in_reads("ERROR", data, step));
		assert_true(found_in_reads("xERRORy", data, step));
		assert_false(found_in_reads("ERRORS", data, step));
		assert_false(found_in_reads("yx", data, step));
	}
}

static void test_text_at_the_edges(void **state)
{
	(void)state;
	for (size_t step = 1; step <= 6; step++) {
		assert_true(found_in_reads("ab", "ab", step));
		assert_true(found_in_reads("ab", "zzzzab", step));
		assert_true(found_in_reads("ab", "abzzzz", step));
		assert_false(found_in_reads("ab", "a", step));
		assert_false(found_in_reads("ab", "ba", step));
		assert_true(found_in_reads("a", "zzza", step));
	}
}

static void test_too_long_a_text_is_not_watched(void **state)
{
	struct proc_output o = { .fd = -1 };
	static char text[PROC_WATCH_MAX_BYTES + 2];

	(void)state;
	memset(text, 'a', sizeof(text) - 1);
	assert_int_equal(proc_output_watch(&o, text), -1);
	assert_int_equal(o.n_watches, 0);
	proc_output_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_across_reads),
		cmocka_unit_test(test_text_at_the_edges),
		cmocka_unit_test(test_too_long_a_text_is_not_watched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
