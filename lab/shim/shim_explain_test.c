/* Unit tests of shim_explain: executables of each kind (built by the exe_fixtures
 * genrule), files cut short or lying in their headers, which counter each fault
 * line reads, and the sentence for each reason a fault did nothing.
 * Usage (from Bazel): shim_explain_test FIXTURES/dynamic */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/shim/shim_explain.h"

static char fixtures[PATH_MAX]; /* the directory of the fixtures */
static char tmpdir[PATH_MAX];

static void inspect(const char *name, struct shim_exe *exe)
{
	char path[PATH_MAX * 2];
	struct lab_err err;

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	if (shim_exe_inspect(path, exe, &err) < 0)
		fail_msg("%s", err.msg);
}

/* A file in tmpdir with the given bytes; its path into path. */
static void write_file(const char *name, const void *bytes, size_t len, char *path, size_t path_len)
{
	int fd;

	snprintf(path, path_len, "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* ---- shim_exe_inspect ------------------------------------------------------------ */

static void test_dynamic_program_is_preloadable(void **state)
{
	struct shim_exe exe;

	(void)state;
	inspect("dynamic", &exe);
	assert_true(exe.elf);
	assert_true(exe.has_interp);
	assert_true(exe.has_dynamic);
	assert_true(exe.needs_libc);
	assert_false(exe.go);
	assert_false(exe.truncated);
	assert_true(shim_exe_preloadable(&exe));
}

static void test_static_and_static_pie_are_not(void **state)
{
	struct shim_exe exe;

	(void)state;
	inspect("static", &exe);
	assert_true(exe.elf);
	assert_false(exe.has_interp);
	assert_false(exe.has_dynamic);
	assert_false(shim_exe_preloadable(&exe));
	inspect("static_pie", &exe);
	assert_false(exe.has_interp);
	assert_true(exe.has_dynamic);
	assert_false(shim_exe_preloadable(&exe));
}

static void test_program_without_libc_is_not(void **state)
{
	struct shim_exe exe;

	(void)state;
	inspect("nolibc", &exe);
	assert_true(exe.has_interp);
	assert_false(exe.needs_libc);
	assert_false(shim_exe_preloadable(&exe));
}

static void test_go_program_is_not(void **state)
{
	struct shim_exe exe;

	(void)state;
	inspect("go", &exe);
	assert_true(exe.go);
	assert_true(exe.needs_libc);
	assert_false(shim_exe_preloadable(&exe));
}

static void test_liburing_is_seen(void **state)
{
	struct shim_exe exe;

	(void)state;
	inspect("uring", &exe);
	assert_true(exe.needs_liburing);
	assert_true(exe.needs_libc);
	inspect("dynamic", &exe);
	assert_false(exe.needs_liburing);
}

static void test_script_and_text_file(void **state)
{
	char path[PATH_MAX * 2];
	struct shim_exe exe;
	struct lab_err err;

	(void)state;
	write_file("script", "#!/bin/sh\nexit 0\n", 17, path, sizeof(path));
	assert_int_equal(shim_exe_inspect(path, &exe, &err), 0);
	assert_true(exe.script);
	assert_false(exe.elf);
	assert_true(shim_exe_preloadable(&exe));
	write_file("text", "hello", 5, path, sizeof(path));
	assert_int_equal(shim_exe_inspect(path, &exe, &err), 0);
	assert_false(exe.elf);
	assert_false(exe.script);
	assert_false(shim_exe_preloadable(&exe));
}

static void test_missing_file_is_an_error(void **state)
{
	struct shim_exe exe;
	struct lab_err err;

	(void)state;
	assert_int_equal(shim_exe_inspect("/nonexistent/program", &exe, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/program"));
	assert_int_equal(shim_exe_inspect("no-such-program-in-path", &exe, &err), -1);
	assert_non_null(strstr(err.msg, "not found in PATH"));
}

/* The dynamic fixture cut at every length up to its first 4 KiB: never a crash,
 * never called preloadable unless complete enough to show PT_INTERP and libc. */
static void test_cut_files_are_read_safely(void **state)
{
	char src[PATH_MAX * 2], path[PATH_MAX * 2];
	static char bytes[4096];
	struct shim_exe exe;
	struct lab_err err;
	ssize_t n;
	size_t len;
	int fd;

	(void)state;
	snprintf(src, sizeof(src), "%s/dynamic", fixtures);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, bytes, sizeof(bytes));
	close(fd);
	assert_true(n > 64);
	for (len = 0; len <= (size_t)n; len += 7) {
		write_file("cut", bytes, len, path, sizeof(path));
		assert_int_equal(shim_exe_inspect(path, &exe, &err), 0);
		if (len < 64)
			assert_false(exe.elf);
	}
	/* 4 KiB of a PIE holds its program headers but not its dynamic strings. */
	assert_true(exe.elf);
	assert_true(exe.has_interp);
}

/* A header that claims 65535 program headers far beyond the file. */
static void test_lying_header_is_bounded(void **state)
{
	char src[PATH_MAX * 2], path[PATH_MAX * 2];
	static unsigned char bytes[128];
	struct shim_exe exe;
	struct lab_err err;
	int fd;

	(void)state;
	snprintf(src, sizeof(src), "%s/dynamic", fixtures);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, bytes, sizeof(bytes)), (ssize_t)sizeof(bytes));
	close(fd);
	bytes[56] = 0xff; /* e_phnum (Elf64_Ehdr) */
	bytes[57] = 0xff;
	bytes[32] = 0x40; /* e_phoff = 64 */
	write_file("liar", bytes, sizeof(bytes), path, sizeof(path));
	assert_int_equal(shim_exe_inspect(path, &exe, &err), 0);
	assert_true(exe.elf);
	assert_true(exe.truncated);
	assert_false(shim_exe_preloadable(&exe));
}

/* ---- shim_fault_fired ------------------------------------------------------------- */

static struct fault fault_of(enum scenario_who who, enum fault_kind kind)
{
	struct fault f;

	memset(&f, 0, sizeof(f));
	f.line = 3;
	f.who = who;
	f.kind = kind;
	return f;
}

static void test_each_fault_line_reads_its_counter(void **state)
{
	struct fault faults[7];
	struct shim_stats sum;

	(void)state;
	memset(&sum, 0, sizeof(sum));
	faults[0] = fault_of(WHO_SERVER, FAULT_SEND_MAX);
	faults[1] = fault_of(WHO_SERVER, FAULT_ERROR);
	faults[2] = fault_of(WHO_CLIENT, FAULT_ERROR); /* the client's: not counted below */
	faults[3] = fault_of(WHO_SERVER, FAULT_ERROR); /* the server's second rule */
	faults[4] = fault_of(WHO_SERVER, FAULT_RESET_AFTER);
	faults[5] = fault_of(WHO_SERVER, FAULT_PAUSE);
	faults[6] = fault_of(WHO_SERVER, FAULT_RECV_DELAY);
	sum.send_max_cuts = 5;
	sum.short_sends = 9; /* cuts at a boundary are not send max's */
	sum.error_rule_fired[0] = 2;
	sum.error_rule_fired[1] = 7;
	sum.resets_done = 1;
	sum.recv_delays = 4;
	assert_int_equal(shim_fault_fired(&sum, faults, 7, 0), 5);
	assert_int_equal(shim_fault_fired(&sum, faults, 7, 1), 2);
	assert_int_equal(shim_fault_fired(&sum, faults, 7, 3), 7);
	assert_int_equal(shim_fault_fired(&sum, faults, 7, 4), 1);
	assert_int_equal(shim_fault_fired(&sum, faults, 7, 5), -1);
	assert_int_equal(shim_fault_fired(&sum, faults, 7, 6), 4);
	assert_int_equal(shim_fault_fired(&sum, faults, 7, 7), -1);
}

/* ---- shim_explain ----------------------------------------------------------------- */

static void explain(const struct shim_stats *sum, const struct shim_seen *seen,
		    const struct fault *f, char *buf, size_t len)
{
	shim_explain(sum, seen, f, 1, 0, buf, len);
}

static void test_explains_a_shim_never_loaded(void **state)
{
	struct fault f = fault_of(WHO_SERVER, FAULT_SEND_MAX);
	struct shim_stats sum;
	char why[512];

	(void)state;
	memset(&sum, 0, sizeof(sum));
	explain(&sum, NULL, &f, why, sizeof(why));
	assert_non_null(strstr(why, "no process loaded the shim"));
}

static void test_explains_a_static_program_by_name(void **state)
{
	struct fault f = fault_of(WHO_SERVER, FAULT_RESET_AFTER);
	struct shim_stats sum;
	struct shim_seen seen;
	char why[1024];

	(void)state;
	memset(&sum, 0, sizeof(sum));
	memset(&seen, 0, sizeof(seen));
	sum.processes = 1; /* the shell */
	seen.n_images = 1;
	snprintf(seen.images[0], sizeof(seen.images[0]), "/bin/sh");
	seen.n_execs = 1;
	snprintf(seen.execs[0], sizeof(seen.execs[0]), "%s/static", fixtures);
	explain(&sum, &seen, &f, why, sizeof(why));
	assert_non_null(strstr(why, seen.execs[0]));
	assert_non_null(strstr(why, "statically linked"));

	snprintf(seen.execs[0], sizeof(seen.execs[0]), "%s/go", fixtures);
	explain(&sum, &seen, &f, why, sizeof(why));
	assert_non_null(strstr(why, "is a Go program"));
}

static void test_explains_no_tcp_call_and_io_uring(void **state)
{
	struct fault f = fault_of(WHO_CLIENT, FAULT_SEND_MAX);
	struct shim_stats sum;
	struct shim_seen seen;
	char why[1024];

	(void)state;
	memset(&sum, 0, sizeof(sum));
	memset(&seen, 0, sizeof(seen));
	sum.processes = 2;
	explain(&sum, &seen, &f, why, sizeof(why));
	assert_non_null(strstr(why, "saw no call on a TCP socket"));
	sum.io_uring_setups = 1;
	explain(&sum, &seen, &f, why, sizeof(why));
	assert_non_null(strstr(why, "io_uring"));
	sum.io_uring_setups = 0;
	seen.n_images = 1;
	snprintf(seen.images[0], sizeof(seen.images[0]), "%s/uring", fixtures);
	explain(&sum, &seen, &f, why, sizeof(why));
	assert_non_null(strstr(why, "uses liburing"));
}

static void test_explains_calls_too_small_or_too_few(void **state)
{
	struct fault f = fault_of(WHO_CLIENT, FAULT_SEND_MAX);
	struct shim_stats sum;
	char why[1024];

	(void)state;
	memset(&sum, 0, sizeof(sum));
	sum.processes = 1;
	sum.calls_intercepted = 12;
	sum.tcp_sockets = 1;
	f.bytes = 100;
	sum.send_calls = 10;
	sum.largest_send_bytes = 64;
	explain(&sum, NULL, &f, why, sizeof(why));
	assert_string_equal(why, "no send call asked for more than 100 bytes (10 calls, the "
				 "largest asked for 64)");

	f = fault_of(WHO_CLIENT, FAULT_ERROR);
	snprintf(f.call, sizeof(f.call), "write");
	f.when = WHEN_EVERY;
	f.when_n = 20;
	sum.error_rule_calls[0] = 10;
	explain(&sum, NULL, &f, why, sizeof(why));
	assert_string_equal(why, "only 10 write calls, fewer than the 20 that fire it");

	f.when = WHEN_AFTER;
	f.when_n = 5000;
	sum.most_socket_bytes = 1000;
	explain(&sum, NULL, &f, why, sizeof(why));
	assert_non_null(strstr(why, "no socket reached 5000 bytes"));
	assert_non_null(strstr(why, "1000"));

	f = fault_of(WHO_CLIENT, FAULT_CLOSE_AFTER);
	f.bytes = 2000;
	explain(&sum, NULL, &f, why, sizeof(why));
	assert_string_equal(why, "no socket reached 2000 bytes sent + received (the most on one "
				 "socket: 1000)");
}

static void test_a_fault_that_acted_says_so(void **state)
{
	struct fault f = fault_of(WHO_CLIENT, FAULT_RECV_MAX);
	struct shim_stats sum;
	char why[256];

	(void)state;
	memset(&sum, 0, sizeof(sum));
	sum.processes = 1;
	sum.recv_max_cuts = 3;
	explain(&sum, NULL, &f, why, sizeof(why));
	assert_string_equal(why, "it acted 3 times");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynamic_program_is_preloadable),
		cmocka_unit_test(test_static_and_static_pie_are_not),
		cmocka_unit_test(test_program_without_libc_is_not),
		cmocka_unit_test(test_go_program_is_not),
		cmocka_unit_test(test_liburing_is_seen),
		cmocka_unit_test(test_script_and_text_file),
		cmocka_unit_test(test_missing_file_is_an_error),
		cmocka_unit_test(test_cut_files_are_read_safely),
		cmocka_unit_test(test_lying_header_is_bounded),
		cmocka_unit_test(test_each_fault_line_reads_its_counter),
		cmocka_unit_test(test_explains_a_shim_never_loaded),
		cmocka_unit_test(test_explains_a_static_program_by_name),
		cmocka_unit_test(test_explains_no_tcp_call_and_io_uring),
		cmocka_unit_test(test_explains_calls_too_small_or_too_few),
		cmocka_unit_test(test_a_fault_that_acted_says_so),
	};
	const char *test_tmpdir = getenv("TEST_TMPDIR");
	char *slash;

	if (argc != 2 || realpath(argv[1], fixtures) == NULL) {
		fprintf(stderr, "usage: shim_explain_test FIXTURES/dynamic\n");
		return 2;
	}
	slash = strrchr(fixtures, '/');
	*slash = '\0';
	snprintf(tmpdir, sizeof(tmpdir), "%s", test_tmpdir != NULL ? test_tmpdir : "/tmp");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
