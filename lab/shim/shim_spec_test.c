/* Unit tests of shim_spec (format, stats file) and shim_config (parse). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/shim/shim_spec.h"

static struct fault make_fault(enum scenario_who who, enum fault_kind kind)
{
	struct fault f;

	memset(&f, 0, sizeof(f));
	f.line = 7;
	f.who = who;
	f.kind = kind;
	return f;
}

static struct fault make_error(const char *call, int errno_value, enum fault_when when, int64_t n)
{
	struct fault f = make_fault(WHO_CLIENT, FAULT_ERROR);

	snprintf(f.call, sizeof(f.call), "%s", call);
	f.errno_value = errno_value;
	f.when = when;
	f.when_n = n;
	return f;
}

static void test_format_every_kind_and_parse_it_back(void **state)
{
	struct fault faults[8];
	struct shim_config cfg;
	struct lab_err err;
	char buf[512];

	(void)state;
	faults[0] = make_fault(WHO_CLIENT, FAULT_SEND_MAX);
	faults[0].bytes = 1;
	faults[1] = make_fault(WHO_CLIENT, FAULT_RECV_MAX);
	faults[1].bytes = 3;
	faults[2] = make_fault(WHO_CLIENT, FAULT_SEND_DELAY);
	faults[2].delay_us = 1500;
	faults[3] = make_fault(WHO_CLIENT, FAULT_RECV_DELAY);
	faults[3].delay_us = 200000;
	faults[4] = make_error("send", EINTR, WHEN_EVERY, 3);
	faults[5] = make_fault(WHO_CLIENT, FAULT_BUFFERS);
	faults[5].rcvbuf_bytes = 4096;
	faults[5].sndbuf_bytes = 8192;
	faults[6] = make_fault(WHO_CLIENT, FAULT_RESET_AFTER);
	faults[6].bytes = 1000;
	faults[7] = make_error("connect", ECONNREFUSED, WHEN_ONCE, 0);

	assert_int_equal(shim_spec_format(faults, 8, WHO_CLIENT, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "send_max=1;recv_max=3;send_delay_us=1500;"
				 "recv_delay_us=200000;error=send:4:every:3;rcvbuf=4096;"
				 "sndbuf=8192;reset_after=1000;error=connect:111:once");
	assert_int_equal(shim_spec_parse(buf, &cfg), 0);
	assert_int_equal(cfg.send_max_bytes, 1);
	assert_int_equal(cfg.recv_max_bytes, 3);
	assert_int_equal(cfg.send_delay_us, 1500);
	assert_int_equal(cfg.recv_delay_us, 200000);
	assert_int_equal(cfg.rcvbuf_bytes, 4096);
	assert_int_equal(cfg.sndbuf_bytes, 8192);
	assert_int_equal(cfg.reset_after_bytes, 1000);
	assert_int_equal(cfg.n_errors, 2);
	assert_string_equal(cfg.errors[0].call, "send");
	assert_int_equal(cfg.errors[0].errno_value, EINTR);
	assert_int_equal(cfg.errors[0].when, SHIM_WHEN_EVERY);
	assert_int_equal(cfg.errors[0].n, 3);
	assert_int_equal(cfg.errors[0].calls, SHIM_CALLS_SEND_DIR);
	assert_string_equal(cfg.errors[1].call, "connect");
	assert_int_equal(cfg.errors[1].when, SHIM_WHEN_ONCE);
	assert_int_equal(cfg.errors[1].calls, SHIM_CALL_CONNECT);
}

static void test_format_error_schedules_round_trip(void **state)
{
	struct fault faults[3];
	struct shim_config cfg;
	struct lab_err err;
	char buf[256];

	(void)state;
	faults[0] = make_error("recv", ECONNRESET, WHEN_AFTER, 64);
	faults[1] = make_error("accept", EMFILE, WHEN_ALWAYS, 0);
	faults[2] = make_error("write", EPIPE, WHEN_ONCE, 0);
	assert_int_equal(shim_spec_format(faults, 3, WHO_CLIENT, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "error=recv:104:after:64;error=accept:24:always;"
				 "error=write:32:once");
	assert_int_equal(shim_spec_parse(buf, &cfg), 0);
	assert_int_equal(cfg.n_errors, 3);
	assert_int_equal(cfg.errors[0].when, SHIM_WHEN_AFTER);
	assert_int_equal(cfg.errors[0].n, 64);
	assert_int_equal(cfg.errors[0].calls, SHIM_CALLS_RECV_DIR);
	assert_int_equal(cfg.errors[1].when, SHIM_WHEN_ALWAYS);
	assert_int_equal(cfg.errors[1].calls, SHIM_CALL_ACCEPT | SHIM_CALL_ACCEPT4);
	assert_int_equal(cfg.errors[2].calls, SHIM_CALL_WRITE | SHIM_CALL_WRITEV);
}

static void test_format_keeps_only_the_named_side_and_skips_signals(void **state)
{
	struct fault faults[4];
	struct lab_err err;
	char buf[128];

	(void)state;
	faults[0] = make_fault(WHO_SERVER, FAULT_SEND_MAX);
	faults[0].bytes = 5;
	faults[1] = make_fault(WHO_CLIENT, FAULT_PAUSE);
	faults[1].at_us = 1000;
	faults[1].for_us = 1000;
	faults[2] = make_fault(WHO_CLIENT, FAULT_KILL);
	faults[3] = make_fault(WHO_CLIENT, FAULT_RECV_MAX);
	faults[3].bytes = 9;
	assert_int_equal(shim_spec_format(faults, 4, WHO_CLIENT, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "recv_max=9");
	assert_int_equal(shim_spec_format(faults, 4, WHO_SERVER, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "send_max=5");
	assert_int_equal(shim_spec_format(faults, 0, WHO_SERVER, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "");
}

static void test_format_reports_a_buffer_too_small(void **state)
{
	struct fault f = make_fault(WHO_CLIENT, FAULT_RESET_AFTER);
	struct lab_err err;
	char buf[10];

	(void)state;
	f.bytes = 123456789;
	assert_int_equal(shim_spec_format(&f, 1, WHO_CLIENT, buf, sizeof(buf), &err), -1);
	assert_non_null(strstr(err.msg, "line 7"));
	assert_non_null(strstr(err.msg, "longer than 10 bytes"));
	assert_string_equal(buf, "");
}

static void test_format_rejects_unknown_call_and_bad_values(void **state)
{
	struct fault faults[SHIM_MAX_ERRORS + 1];
	struct lab_err err;
	char buf[1024];
	int i;

	(void)state;
	faults[0] = make_error("fsync", EIO, WHEN_ONCE, 0);
	assert_int_equal(shim_spec_format(faults, 1, WHO_CLIENT, buf, sizeof(buf), &err), -1);
	assert_non_null(strstr(err.msg, "cannot fail call \"fsync\""));

	faults[0] = make_error("send", EINTR, WHEN_EVERY, 0);
	assert_int_equal(shim_spec_format(faults, 1, WHO_CLIENT, buf, sizeof(buf), &err), -1);
	assert_non_null(strstr(err.msg, "every N"));

	faults[0] = make_fault(WHO_CLIENT, FAULT_SEND_MAX);
	faults[0].bytes = -1;
	assert_int_equal(shim_spec_format(faults, 1, WHO_CLIENT, buf, sizeof(buf), &err), -1);
	assert_non_null(strstr(err.msg, "send_max must not be negative"));

	for (i = 0; i < SHIM_MAX_ERRORS + 1; i++)
		faults[i] = make_error("send", EINTR, WHEN_ONCE, 0);
	assert_int_equal(
		shim_spec_format(faults, SHIM_MAX_ERRORS, WHO_CLIENT, buf, sizeof(buf), &err), 0);
	assert_int_equal(
		shim_spec_format(faults, SHIM_MAX_ERRORS + 1, WHO_CLIENT, buf, sizeof(buf), &err),
		-1);
	assert_non_null(strstr(err.msg, "more than 8 error faults for the client"));
}

static void test_parse_accepts_empty_and_stray_separators(void **state)
{
	struct shim_config cfg;

	(void)state;
	assert_int_equal(shim_spec_parse("", &cfg), 0);
	assert_int_equal(cfg.send_max_bytes, 0);
	assert_int_equal(cfg.n_errors, 0);
	assert_int_equal(shim_spec_parse(";send_max=2;;recv_max=4;", &cfg), 0);
	assert_int_equal(cfg.send_max_bytes, 2);
	assert_int_equal(cfg.recv_max_bytes, 4);
	/* A later item overrides an earlier one. */
	assert_int_equal(shim_spec_parse("send_max=2;send_max=7", &cfg), 0);
	assert_int_equal(cfg.send_max_bytes, 7);
	/* No schedule means every call. */
	assert_int_equal(shim_spec_parse("error=close:5", &cfg), 0);
	assert_int_equal(cfg.errors[0].when, SHIM_WHEN_ALWAYS);
	assert_int_equal(cfg.errors[0].calls, SHIM_CALL_CLOSE);
}

static void test_parse_rejects_bad_specs(void **state)
{
	static const char *const bad[] = {
		"send_max",                      /* no '=' */
		"send_max=",                     /* no value */
		"send_max=-1",                   /* negative */
		"send_max=1x",                   /* junk after the number */
		"send_max=99999999999999999999", /* overflows int64 */
		"sendmax=1",                     /* unknown key */
		"send_max=1 ",                   /* spaces are not allowed */
		"error=fsync:5:once",            /* unknown call */
		"error=send:0:once",             /* errno 0 */
		"error=send:x:once",             /* errno not a number */
		"error=send:4:every",            /* every without N */
		"error=send:4:every:0",          /* every 0 */
		"error=send:4:after",            /* after without BYTES */
		"error=send:4:sometimes",        /* unknown schedule */
		"error=send:4:once:3",           /* junk after once */
		"error=",                        /* nothing */
		"error=averyveryverylongcallname:4",
	};
	struct shim_config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (shim_spec_parse(bad[i], &cfg) != -1)
			fail_msg("accepted bad spec \"%s\"", bad[i]);
	}
}

static void test_parse_rejects_more_than_max_errors(void **state)
{
	char spec[512] = "";
	struct shim_config cfg;
	int i;

	(void)state;
	for (i = 0; i < SHIM_MAX_ERRORS; i++)
		strcat(spec, "error=send:4:once;");
	assert_int_equal(shim_spec_parse(spec, &cfg), 0);
	assert_int_equal(cfg.n_errors, SHIM_MAX_ERRORS);
	strcat(spec, "error=send:4:once");
	assert_int_equal(shim_spec_parse(spec, &cfg), -1);
}

static void test_call_names_cover_their_families(void **state)
{
	(void)state;
	assert_true(shim_call_mask("send") & SHIM_CALL_WRITE);
	assert_true(shim_call_mask("send") & SHIM_CALL_SENDMSG);
	assert_false(shim_call_mask("send") & SHIM_CALL_RECV);
	assert_true(shim_call_mask("recv") & SHIM_CALL_READV);
	assert_int_equal(shim_call_mask("read"), SHIM_CALL_READ | SHIM_CALL_READV);
	assert_int_equal(shim_call_mask("sendto"), SHIM_CALL_SENDTO);
	assert_int_equal(shim_call_mask("socket"), SHIM_CALL_SOCKET);
	assert_int_equal(shim_call_mask("Send"), 0);
	assert_int_equal(shim_call_mask(""), 0);
}

/* ---- stats file ------------------------------------------------------------- */

static void temp_path(char *path, size_t len)
{
	const char *dir = getenv("TEST_TMPDIR");
	int fd;

	snprintf(path, len, "%s/stats.XXXXXX", dir != NULL ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

static void write_at(const char *path, const void *data, size_t len, off_t offset)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, offset), (ssize_t)len);
	close(fd);
}

static void test_stats_read_sums_claimed_slots(void **state)
{
	struct shim_stats_header header;
	struct shim_stats_slot slot;
	struct shim_stats sum;
	struct lab_err err;
	char path[512];

	(void)state;
	temp_path(path, sizeof(path));
	memset(&header, 0, sizeof(header));
	memcpy(header.magic, SHIM_STATS_MAGIC, sizeof(header.magic));
	header.slot_bytes = SHIM_STATS_SLOT_BYTES;
	write_at(path, &header, sizeof(header), 0);
	memset(&slot, 0, sizeof(slot));
	slot.magic = SHIM_STATS_SLOT_MAGIC;
	slot.pid = 11;
	slot.counters.short_sends = 3;
	slot.counters.bytes_sent = 100;
	write_at(path, &slot, sizeof(slot), SHIM_STATS_SLOT_BYTES);
	slot.pid = 12;
	slot.counters.short_sends = 4;
	slot.counters.bytes_sent = 1;
	slot.counters.resets_done = 1;
	write_at(path, &slot, sizeof(slot), 2 * SHIM_STATS_SLOT_BYTES);
	/* A slot grown but never claimed (its process died first) does not count. */
	slot.magic = 0;
	slot.counters.bytes_sent = 1000;
	write_at(path, &slot, sizeof(slot), 3 * SHIM_STATS_SLOT_BYTES);

	assert_int_equal(shim_stats_read(path, &sum, &err), 0);
	assert_int_equal(sum.processes, 2);
	assert_int_equal(sum.short_sends, 7);
	assert_int_equal(sum.bytes_sent, 101);
	assert_int_equal(sum.resets_done, 1);
	assert_int_equal(sum.bytes_received, 0);
	unlink(path);
}

/* The counters of layout 2: per-rule counts add up, the largest call and the
 * busiest socket are the maximum over slots; each slot's executable and the
 * programs it exec'ed (a blanked, failed exec left out) are read back. */
static void test_stats_read_seen_gives_maxima_and_programs(void **state)
{
	struct shim_stats_header header;
	struct shim_stats_slot slot;
	struct shim_stats sum;
	struct shim_seen seen;
	struct lab_err err;
	char path[512];

	(void)state;
	temp_path(path, sizeof(path));
	memset(&header, 0, sizeof(header));
	memcpy(header.magic, SHIM_STATS_MAGIC, sizeof(header.magic));
	header.slot_bytes = SHIM_STATS_SLOT_BYTES;
	write_at(path, &header, sizeof(header), 0);
	memset(&slot, 0, sizeof(slot));
	slot.magic = SHIM_STATS_SLOT_MAGIC;
	snprintf(slot.exe, sizeof(slot.exe), "/bin/sh");
	slot.n_execs = SHIM_EXEC_PATHS + 3; /* more than kept */
	snprintf(slot.exec_paths[0], sizeof(slot.exec_paths[0]), "/nowhere/prog");
	slot.exec_paths[1][0] = '\0'; /* failed: blanked */
	snprintf(slot.exec_paths[2], sizeof(slot.exec_paths[2]), "/usr/bin/prog");
	slot.counters.error_rule_fired[1] = 2;
	slot.counters.largest_send_bytes = 500;
	slot.counters.most_socket_bytes = 70;
	write_at(path, &slot, sizeof(slot), SHIM_STATS_SLOT_BYTES);
	memset(&slot, 0, sizeof(slot));
	slot.magic = SHIM_STATS_SLOT_MAGIC;
	snprintf(slot.exe, sizeof(slot.exe), "/usr/bin/prog");
	slot.counters.error_rule_fired[1] = 3;
	slot.counters.largest_send_bytes = 40;
	slot.counters.most_socket_bytes = 90;
	slot.counters.sendfile_calls = 4;
	write_at(path, &slot, sizeof(slot), 2 * SHIM_STATS_SLOT_BYTES);

	assert_int_equal(shim_stats_read_seen(path, &sum, &seen, &err), 0);
	assert_int_equal(sum.processes, 2);
	assert_int_equal(sum.error_rule_fired[1], 5);
	assert_int_equal(sum.largest_send_bytes, 500);
	assert_int_equal(sum.most_socket_bytes, 90);
	assert_int_equal(sum.sendfile_calls, 4);
	assert_int_equal(seen.n_images, 2);
	assert_string_equal(seen.images[0], "/bin/sh");
	assert_string_equal(seen.images[1], "/usr/bin/prog");
	assert_int_equal(seen.n_execs, 2);
	assert_string_equal(seen.execs[0], "/nowhere/prog");
	assert_string_equal(seen.execs[1], "/usr/bin/prog");
	unlink(path);
}

static void test_stats_read_of_missing_or_empty_file_is_zero(void **state)
{
	struct shim_stats sum;
	struct lab_err err;
	char path[512];

	(void)state;
	temp_path(path, sizeof(path));
	memset(&sum, 0xff, sizeof(sum));
	assert_int_equal(shim_stats_read(path, &sum, &err), 0);
	assert_int_equal(sum.processes, 0);
	assert_int_equal(sum.calls_intercepted, 0);
	unlink(path);
	memset(&sum, 0xff, sizeof(sum));
	assert_int_equal(shim_stats_read(path, &sum, &err), 0);
	assert_int_equal(sum.processes, 0);
}

static void test_stats_clear_removes_the_counts(void **state)
{
	struct shim_stats_header header;
	struct shim_stats_slot slot;
	struct shim_stats sum;
	struct lab_err err;
	char path[512];

	(void)state;
	temp_path(path, sizeof(path));
	memset(&header, 0, sizeof(header));
	memcpy(header.magic, SHIM_STATS_MAGIC, sizeof(header.magic));
	header.slot_bytes = SHIM_STATS_SLOT_BYTES;
	write_at(path, &header, sizeof(header), 0);
	memset(&slot, 0, sizeof(slot));
	slot.magic = SHIM_STATS_SLOT_MAGIC;
	slot.counters.bytes_received = 5;
	write_at(path, &slot, sizeof(slot), SHIM_STATS_SLOT_BYTES);
	assert_int_equal(shim_stats_read(path, &sum, &err), 0);
	assert_int_equal(sum.bytes_received, 5);
	assert_int_equal(shim_stats_clear(path, &err), 0);
	assert_int_equal(shim_stats_read(path, &sum, &err), 0);
	assert_int_equal(sum.processes, 0);
	assert_int_equal(sum.bytes_received, 0);
	assert_int_equal(shim_stats_clear(path, &err), 0); /* no file: fine too */
}

static void test_stats_read_rejects_a_foreign_file(void **state)
{
	struct shim_stats sum;
	struct lab_err err;
	char path[512];

	(void)state;
	temp_path(path, sizeof(path));
	write_at(path, "hello, this is not a stats file", 31, 0);
	assert_int_equal(shim_stats_read(path, &sum, &err), -1);
	assert_non_null(strstr(err.msg, "not a tcplab shim stats file"));
	unlink(path);
}

static void test_close_after_round_trips(void **state)
{
	struct fault f = make_fault(WHO_SERVER, FAULT_CLOSE_AFTER);
	struct shim_config cfg;
	struct lab_err err;
	char buf[256];

	(void)state;
	f.bytes = 5;
	assert_int_equal(shim_spec_format(&f, 1, WHO_SERVER, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "close_after=5");
	assert_int_equal(shim_spec_parse(buf, &cfg), 0);
	assert_int_equal(cfg.close_after_bytes, 5);
	assert_int_equal(cfg.reset_after_bytes, 0);
	/* The other side gets nothing. */
	assert_int_equal(shim_spec_format(&f, 1, WHO_CLIENT, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_after_round_trips),
		cmocka_unit_test(test_format_every_kind_and_parse_it_back),
		cmocka_unit_test(test_format_error_schedules_round_trip),
		cmocka_unit_test(test_format_keeps_only_the_named_side_and_skips_signals),
		cmocka_unit_test(test_format_reports_a_buffer_too_small),
		cmocka_unit_test(test_format_rejects_unknown_call_and_bad_values),
		cmocka_unit_test(test_parse_accepts_empty_and_stray_separators),
		cmocka_unit_test(test_parse_rejects_bad_specs),
		cmocka_unit_test(test_parse_rejects_more_than_max_errors),
		cmocka_unit_test(test_call_names_cover_their_families),
		cmocka_unit_test(test_stats_read_sums_claimed_slots),
		cmocka_unit_test(test_stats_read_seen_gives_maxima_and_programs),
		cmocka_unit_test(test_stats_read_of_missing_or_empty_file_is_zero),
		cmocka_unit_test(test_stats_clear_removes_the_counts),
		cmocka_unit_test(test_stats_read_rejects_a_foreign_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
