/* Tests of hang: reading /proc/.../syscall lines and judging which calls wait for
 * ever, and hang_check on a real /proc-shaped tree of tasks written by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/liveness/hang.h"

static struct hang_call parse(const char *text)
{
	struct hang_call call;

	assert_int_equal(hang_parse_syscall(text, &call), 0);
	return call;
}

static void test_parses_a_blocked_read(void **state)
{
	struct hang_call call = parse("0 0x3 0x7ffd1234 0x10 0x0 0x0 0x0 0x7ffd0000 0x7f00\n");

	(void)state;
	assert_int_equal(call.nr, SYS_read);
	assert_int_equal(call.args[0], 3);
	assert_int_equal(call.args[2], 16);
	assert_false(call.running);
}

static void test_parses_running_and_rejects_garbage(void **state)
{
	struct hang_call call;

	(void)state;
	call = parse("running\n");
	assert_true(call.running);
	assert_false(hang_call_waits_forever(&call));
	assert_int_equal(hang_parse_syscall("", &call), -1);
	assert_int_equal(hang_parse_syscall("read 0x3", &call), -1);
	assert_int_equal(hang_parse_syscall("0 0x3 zz", &call), -1);
}

static void test_reads_and_accepts_wait_forever(void **state)
{
	char line[128];
	const long calls[] = { SYS_read, SYS_recvfrom, SYS_recvmsg, SYS_accept4, SYS_wait4 };

	(void)state;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct hang_call call;

		snprintf(line, sizeof(line), "%ld 0x3 0x0 0x0 0x0 0x0 0x0 0x0 0x0", calls[i]);
		call = parse(line);
		assert_true(hang_call_waits_forever(&call));
	}
}

static void test_poll_waits_forever_only_without_timeout(void **state)
{
	char line[128];
	struct hang_call call;

	(void)state;
	snprintf(line, sizeof(line), "%d 0x7ffd 0x1 0xffffffff 0x0 0x0 0x0 0x0 0x0", SYS_poll);
	call = parse(line);
	assert_true(hang_call_waits_forever(&call)); /* timeout -1 */
	snprintf(line, sizeof(line), "%d 0x7ffd 0x1 0x3e8 0x0 0x0 0x0 0x0 0x0", SYS_poll);
	call = parse(line);
	assert_false(hang_call_waits_forever(&call)); /* 1000 ms */
	snprintf(line, sizeof(line), "%d 0x4 0x7ffd 0x10 0xffffffff 0x0 0x0 0x0 0x0",
		 SYS_epoll_wait);
	call = parse(line);
	assert_true(hang_call_waits_forever(&call));
	snprintf(line, sizeof(line), "%d 0x4 0x7ffd 0x10 0x5 0x0 0x0 0x0 0x0", SYS_epoll_wait);
	call = parse(line);
	assert_false(hang_call_waits_forever(&call));
	snprintf(line, sizeof(line), "%d 0x7 0x7ffd 0x0 0x0 0x7ffe 0x0 0x0 0x0", SYS_select);
	call = parse(line);
	assert_false(hang_call_waits_forever(&call)); /* a timeval */
}

static void test_sleeps_and_timed_futexes_do_not_wait_forever(void **state)
{
	char line[128];
	struct hang_call call;

	(void)state;
	snprintf(line, sizeof(line), "%d 0x7ffd 0x0 0x0 0x0 0x0 0x0 0x0 0x0", SYS_nanosleep);
	call = parse(line);
	assert_false(hang_call_waits_forever(&call));
	snprintf(line, sizeof(line), "%d 0x7f00 0x80 0x0 0x0 0x0 0x0 0x0 0x0", SYS_futex);
	call = parse(line);
	assert_true(hang_call_waits_forever(&call)); /* FUTEX_WAIT_PRIVATE, no timeout */
	snprintf(line, sizeof(line), "%d 0x7f00 0x80 0x0 0x7ffd 0x0 0x0 0x0 0x0", SYS_futex);
	call = parse(line);
	assert_false(hang_call_waits_forever(&call));
	snprintf(line, sizeof(line), "%d 0x7f00 0x81 0x1 0x0 0x0 0x0 0x0 0x0", SYS_futex);
	call = parse(line);
	assert_false(hang_call_waits_forever(&call)); /* FUTEX_WAKE */
}

/* A /proc-shaped tree: pid/comm, pid/task/tid/{stat,syscall}. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void add_task(const char *root, int pid, const char *comm, char state, const char *syscall)
{
	char path[512];
	char text[256];

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/comm", root, pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/%d/task", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/task/%d", root, pid, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/task/%d/stat", root, pid, pid);
	snprintf(text, sizeof(text), "%d (%s) %c 1 2 3\n", pid, comm, state);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/%d/task/%d/syscall", root, pid, pid);
	write_file(path, syscall);
}

static void test_check_sees_every_process_waiting(void **state)
{
	char root[] = "/tmp/hang_test.XXXXXX";
	char why[256];
	char line[128];
	struct lab_err err;
	bool hung;

	(void)state;
	assert_non_null(mkdtemp(root));
	add_task(root, 1, "tcplab-init", 'S', "running"); /* init is never judged */
	snprintf(line, sizeof(line), "%d 0x3 0x0 0x10 0x0 0x0 0x0 0x0 0x0\n", SYS_recvfrom);
	add_task(root, 3, "tcp_sixteen", 'S', line);
	snprintf(line, sizeof(line), "%d 0x3 0x0 0x10 0x0 0x0 0x0 0x0 0x0\n", SYS_read);
	add_task(root, 5, "python3", 'S', line);
	assert_int_equal(hang_check(root, &hung, why, sizeof(why), &err), 0);
	assert_true(hung);
	assert_non_null(strstr(why, "tcp_sixteen (pid 3) in recvfrom"));
	assert_non_null(strstr(why, "python3 (pid 5) in read"));

	/* One process that computes: no hang, and it is named. */
	add_task(root, 7, "busy", 'R', "running\n");
	assert_int_equal(hang_check(root, &hung, why, sizeof(why), &err), 0);
	assert_false(hung);
	assert_non_null(strstr(why, "busy (pid 7) is not waiting for ever: running"));
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_check_without_processes_is_no_hang(void **state)
{
	char root[] = "/tmp/hang_test.XXXXXX";
	char why[128];
	struct lab_err err;
	bool hung = true;

	(void)state;
	assert_non_null(mkdtemp(root));
	add_task(root, 1, "tcplab-init", 'S', "running");
	assert_int_equal(hang_check(root, &hung, why, sizeof(why), &err), 0);
	assert_false(hung);
	assert_int_equal(hang_check("/nonexistent/proc", &hung, why, sizeof(why), &err), -1);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		assert_int_equal(system(cmd), 0);
	}
}

/* A 32-bit program's /proc/.../syscall numbers are another table's (its 3 is
 * read, not close): the lab refuses to judge it rather than misread it. */
static void test_a_32_bit_program_is_never_judged(void **state)
{
	char root[] = "/tmp/hang_test.XXXXXX";
	char why[256];
	char line[128];
	char path[600];
	struct lab_err err;
	bool hung = true;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	add_task(root, 1, "tcplab-init", 'S', "running");
	snprintf(line, sizeof(line), "%d 0x3 0x0 0x10 0x0 0x0 0x0 0x0 0x0\n", SYS_recvfrom);
	add_task(root, 3, "old_client", 'S', line);
	snprintf(path, sizeof(path), "%s/3/exe", root);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("\x7f"
	       "ELF\x01",
	       1, 5, f); /* ELFCLASS32 */
	fclose(f);
	assert_int_equal(hang_native_abi(root, "3"), sizeof(long) == 8 ? 0 : 1);
	assert_int_equal(hang_check(root, &hung, why, sizeof(why), &err), 0);
	if (sizeof(long) == 8) {
		assert_false(hung);
		assert_non_null(strstr(why, "32-bit"));
	}
	/* The control: the same task in a 64-bit program is judged. */
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("\x7f"
	       "ELF\x02",
	       1, 5, f); /* ELFCLASS64 */
	fclose(f);
	assert_int_equal(hang_check(root, &hung, why, sizeof(why), &err), 0);
	if (sizeof(long) == 8)
		assert_true(hung);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_a_blocked_read),
		cmocka_unit_test(test_parses_running_and_rejects_garbage),
		cmocka_unit_test(test_reads_and_accepts_wait_forever),
		cmocka_unit_test(test_poll_waits_forever_only_without_timeout),
		cmocka_unit_test(test_sleeps_and_timed_futexes_do_not_wait_forever),
		cmocka_unit_test(test_check_sees_every_process_waiting),
		cmocka_unit_test(test_check_without_processes_is_no_hang),
		cmocka_unit_test(test_a_32_bit_program_is_never_judged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
