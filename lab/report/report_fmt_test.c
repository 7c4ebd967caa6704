/* report_fmt_test: the UTF-8 decoder every report escapes through, names, and
 * report files that appear whole or not at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/report/report_fmt.h"

/* Decodes all of s into cps; returns how many code points. */
static size_t decode(const char *s, size_t len, uint32_t *cps)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t used =
			report_fmt_utf8_next((const unsigned char *)s + i, len - i, &cps[n++]);

		assert_true(used >= 1 && used <= 4);
		i += used;
	}
	return n;
}

static void test_valid_utf8_decodes_to_code_points(void **state)
{
	static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\x8d\xef\xbf\xbd\xf4\x8f\xbf\xbf";
	uint32_t cps[16];

	(void)state;
	assert_int_equal(decode(s, sizeof(s) - 1, cps), 6);
	assert_int_equal(cps[0], 'a');
	assert_int_equal(cps[1], 0xE9);
	assert_int_equal(cps[2], 0x20AC);
	assert_int_equal(cps[3], 0x1F40D);
	assert_int_equal(cps[4], 0xFFFD);
	assert_int_equal(cps[5], 0x10FFFF);
}

/* Each byte that is not part of a well-formed sequence is one U+FFFD, and
 * decoding resumes at the next byte (so valid text after it survives). */
static void test_ill_formed_bytes_become_replacement_one_each(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		size_t n;
		uint32_t last;
	} cases[] = {
		{ "\x80", 1, 1, 0xFFFD },             /* stray continuation */
		{ "\xc0\xaf", 2, 2, 0xFFFD },         /* overlong '/' */
		{ "\xe0\x80\xaf", 3, 3, 0xFFFD },     /* overlong, 3 bytes */
		{ "\xed\xa0\x80", 3, 3, 0xFFFD },     /* UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", 4, 4, 0xFFFD }, /* beyond U+10FFFF */
		{ "\xf5\x80", 2, 2, 0xFFFD },         /* never a lead byte */
		{ "\xe2\x82", 2, 2, 0xFFFD },         /* cut short at the end */
		{ "\xe2\x82x", 3, 3, 'x' },           /* cut short, then ASCII */
		{ "\xff\xfeok", 4, 4, 'k' },
	};
	uint32_t cps[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = decode(cases[i].bytes, cases[i].len, cps);

		assert_int_equal(n, cases[i].n);
		assert_int_equal(cps[0], 0xFFFD);
		assert_int_equal(cps[n - 1], cases[i].last);
	}
}

static void test_encoder_round_trips(void **state)
{
	static const uint32_t cps[] = { 0x24, 0xA2, 0x939, 0x20AC, 0xD55C, 0x10348, 0x10FFFF };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	uint32_t back[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++)
		report_fmt_put_utf8(out, cps[i]);
	fclose(out);
	assert_int_equal(len, 1 + 2 + 3 + 3 + 3 + 4 + 4);
	assert_int_equal(decode(buf, len, back), 7);
	assert_memory_equal(back, cps, sizeof(cps));
	free(buf);
}

static void test_names(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(report_fmt_status_name(REPORT_PASS), "pass");
	assert_string_equal(report_fmt_status_name(REPORT_FAIL), "fail");
	assert_string_equal(report_fmt_status_name(REPORT_ERROR), "error");
	assert_string_equal(report_fmt_event_name(RUN_EV_SERVER_START), "server_start");
	assert_string_equal(report_fmt_event_name(RUN_EV_DEADLOCK), "deadlock");
	assert_string_equal(report_fmt_event_name(RUN_EV_STOP), "stop");
	assert_string_equal(report_fmt_signal_name(SIGKILL, buf, sizeof(buf)), "SIGKILL");
	assert_string_equal(report_fmt_signal_name(SIGTERM, buf, sizeof(buf)), "SIGTERM");
	assert_string_equal(report_fmt_signal_name(1000, buf, sizeof(buf)), "SIG1000");
}

static void test_file_appears_only_when_committed(void **state)
{
	const char *base = getenv("TEST_TMPDIR");
	char dir[4096], path[4200], tmp[4300];
	struct report_file f;
	struct lab_err err;
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/fmtXXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.txt", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(report_fmt_open(&f, path, &err), 0);
	fputs("half", f.out);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(tmp, &st), 0);
	report_fmt_abort(&f);
	assert_int_equal(stat(tmp, &st), -1);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(report_fmt_open(&f, path, &err), 0);
	fputs("whole", f.out);
	assert_int_equal(report_fmt_commit(&f, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(stat(tmp, &st), -1);
}

/* A full disk is an error, and the partial file goes. */
static void test_write_error_is_reported_and_cleaned_up(void **state)
{
	struct report_file f;
	struct lab_err err = { { 0 } };
	char big[8192];

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	memset(big, 'x', sizeof(big));
	/* /dev/full: every write fails with ENOSPC; rename then is never reached */
	memset(&f, 0, sizeof(f));
	f.out = fopen("/dev/full", "w");
	assert_non_null(f.out);
	snprintf(f.path, sizeof(f.path), "/nonexistent/never");
	snprintf(f.tmp_path, sizeof(f.tmp_path), "/nonexistent/never.tmp");
	fwrite(big, 1, sizeof(big), f.out);
	assert_int_equal(report_fmt_commit(&f, &err), -1);
	assert_non_null(strstr(err.msg, "No space left on device"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_utf8_decodes_to_code_points),
		cmocka_unit_test(test_ill_formed_bytes_become_replacement_one_each),
		cmocka_unit_test(test_encoder_round_trips),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_file_appears_only_when_committed),
		cmocka_unit_test(test_write_error_is_reported_and_cleaned_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
