/* refcli_test: the reference programs' command line. Good arguments in each
 * place argparse allows them, each of argparse's error messages, and what
 * refcli_report and refcli_fail_* write (captured with open_memstream). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "refcli.h"

/* Like tcp_sixteen: role and host only. */
static const struct refcli_spec TWO = {
	.prog = "two",
	.usage = "usage: two [-h] [-p PORT] {client,server} host\n",
	.help = "\nthe help of two\n",
};

/* Like tcp_deadlock: an optional bytecount, default 16, at most 1000. */
static const struct refcli_spec THREE = {
	.prog = "three",
	.usage = "usage: three [-h] [-p PORT] {client,server} host [bytecount]\n",
	.help = "\nthe help of three\n",
	.takes_bytecount = true,
	.default_bytecount = 16,
	.max_bytecount = 1000,
};

/* Parses a NULL-terminated argv (argv[0] included). */
static enum refcli_outcome parse(const struct refcli_spec *spec, char **argv,
				 struct refcli_args *args, struct refcli_error *error)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return refcli_parse(spec, argc, argv, args, error);
}

/* Asserts that argv is refused with exactly the message want. */
static void assert_refused(const struct refcli_spec *spec, char **argv, const char *want)
{
	struct refcli_args args = { 0 };
	struct refcli_error error = { 0 };
	char got[512];

	assert_int_equal(parse(spec, argv, &args, &error), REFCLI_USAGE_ERROR);
	snprintf(got, sizeof(got), "%s%s%s", error.before, error.arg, error.after);
	assert_string_equal(got, want);
}

static void test_role_and_host_with_the_default_port(void **state)
{
	char *argv[] = { "two", "client", "127.0.0.1", NULL };
	struct refcli_args args = { 0 };
	struct refcli_error error;

	(void)state;
	assert_int_equal(parse(&TWO, argv, &args, &error), REFCLI_RUN);
	assert_int_equal(args.role, REFCLI_CLIENT);
	assert_string_equal(args.host, "127.0.0.1");
	assert_int_equal(args.port, 1060);
	assert_int_equal(args.bytecount, 0);
}

static void test_port_option_before_or_after_the_positionals(void **state)
{
	char *before[] = { "two", "-p", "2000", "server", "::1", NULL };
	char *after[] = { "two", "server", "", "-p", "0", NULL };
	char *glued[] = { "two", "-p65535", "client", "h", NULL };
	struct refcli_args args = { 0 };
	struct refcli_error error;

	(void)state;
	assert_int_equal(parse(&TWO, before, &args, &error), REFCLI_RUN);
	assert_int_equal(args.role, REFCLI_SERVER);
	assert_string_equal(args.host, "::1");
	assert_int_equal(args.port, 2000);
	assert_int_equal(parse(&TWO, after, &args, &error), REFCLI_RUN);
	assert_string_equal(args.host, "");
	assert_int_equal(args.port, 0);
	assert_int_equal(parse(&TWO, glued, &args, &error), REFCLI_RUN);
	assert_int_equal(args.port, 65535);
}

static void test_bytecount_is_optional_with_its_default(void **state)
{
	char *without[] = { "three", "client", "h", NULL };
	char *with[] = { "three", "client", "h", "1000", NULL };
	char *zero[] = { "three", "-p", "7", "server", "h", "0", NULL };
	struct refcli_args args = { 0 };
	struct refcli_error error;

	(void)state;
	assert_int_equal(parse(&THREE, without, &args, &error), REFCLI_RUN);
	assert_int_equal(args.bytecount, 16);
	assert_int_equal(parse(&THREE, with, &args, &error), REFCLI_RUN);
	assert_int_equal(args.bytecount, 1000);
	assert_int_equal(parse(&THREE, zero, &args, &error), REFCLI_RUN);
	assert_int_equal(args.bytecount, 0);
	assert_int_equal(args.port, 7);
	assert_int_equal(args.role, REFCLI_SERVER);
}

static void test_help_wins_where_it_is_met(void **state)
{
	char *alone[] = { "two", "-h", NULL };
	char *long_form[] = { "two", "--help", NULL };
	char *abbreviated[] = { "two", "--he", NULL };
	char *after_positionals[] = { "three", "bogus", "h", "x", "y", "-h", NULL };
	char *before_a_bad_port[] = { "two", "-h", "-p", "x", NULL };
	struct refcli_args args = { 0 };
	struct refcli_error error;

	(void)state;
	assert_int_equal(parse(&TWO, alone, &args, &error), REFCLI_HELP);
	assert_int_equal(parse(&TWO, long_form, &args, &error), REFCLI_HELP);
	assert_int_equal(parse(&TWO, abbreviated, &args, &error), REFCLI_HELP);
	assert_int_equal(parse(&THREE, after_positionals, &args, &error), REFCLI_HELP);
	assert_int_equal(parse(&TWO, before_a_bad_port, &args, &error), REFCLI_HELP);
}

static void test_port_that_is_not_a_plain_int_is_refused(void **state)
{
	char *word[] = { "two", "-p", "abc", "client", "h", NULL };
	char *negative[] = { "two", "-p", "-5", "client", "h", NULL };
	char *empty[] = { "two", "-p", "", "client", "h", NULL };
	char *hex[] = { "two", "-p0x10", "client", "h", NULL };
	char *before_help[] = { "two", "-p", "x", "-h", NULL };

	(void)state;
	assert_refused(&TWO, word, "argument -p: invalid int value: 'abc'");
	assert_refused(&TWO, negative, "argument -p: invalid int value: '-5'");
	assert_refused(&TWO, empty, "argument -p: invalid int value: ''");
	assert_refused(&TWO, hex, "argument -p: invalid int value: '0x10'");
	assert_refused(&TWO, before_help, "argument -p: invalid int value: 'x'");
}

static void test_port_above_65535_is_refused(void **state)
{
	char *argv[] = { "two", "-p", "65536", "client", "h", NULL };
	char *huge[] = { "two", "-p", "99999999999999999999999", "client", "h", NULL };

	(void)state;
	assert_refused(&TWO, argv, "argument -p: port must be 0-65535, not 65536");
	/* Beyond uint64_t: not an int for sockio_parse_uint, as before. */
	assert_refused(&TWO, huge, "argument -p: invalid int value: '99999999999999999999999'");
}

static void test_port_option_without_its_value(void **state)
{
	char *argv[] = { "two", "client", "h", "-p", NULL };

	(void)state;
	assert_refused(&TWO, argv, "argument -p: expected one argument");
}

static void test_unknown_options_are_unrecognized(void **state)
{
	char *short_opt[] = { "two", "-x", "client", "h", NULL };
	char *long_opt[] = { "two", "--bogus", "client", "h", NULL };
	char *help_with_value[] = { "two", "--help=x", NULL };

	(void)state;
	assert_refused(&TWO, short_opt, "unrecognized arguments: -x");
	assert_refused(&TWO, long_opt, "unrecognized arguments: --bogus");
	assert_refused(&TWO, help_with_value, "unrecognized arguments: --help=x");
}

static void test_missing_positionals_are_named(void **state)
{
	char *none[] = { "three", NULL };
	char *role_only[] = { "three", "server", NULL };
	char *bad_role_only[] = { "two", "bogus", NULL };

	(void)state;
	assert_refused(&THREE, none, "the following arguments are required: role, host");
	assert_refused(&THREE, role_only, "the following arguments are required: host");
	/* argparse counts before it checks the choice. */
	assert_refused(&TWO, bad_role_only, "the following arguments are required: host");
}

static void test_role_must_be_client_or_server(void **state)
{
	char *upper[] = { "two", "CLIENT", "h", NULL };
	char *after_dashes[] = { "two", "--", "-h", "client", NULL };
	char *with_extra[] = { "two", "bogus", "h", "extra", NULL };
	const char *want = "argument role: invalid choice: '%s' (choose from 'client', 'server')";
	char line[128];

	(void)state;
	snprintf(line, sizeof(line), want, "CLIENT");
	assert_refused(&TWO, upper, line);
	snprintf(line, sizeof(line), want, "-h");
	assert_refused(&TWO, after_dashes, line);
	/* The choice is checked before the count of extra arguments. */
	snprintf(line, sizeof(line), want, "bogus");
	assert_refused(&TWO, with_extra, line);
}

static void test_extra_positionals_are_unrecognized(void **state)
{
	char *two_plus_one[] = { "two", "client", "h", "16", "17", NULL };
	char *three_plus_two[] = { "three", "server", "h", "16", "x", "y", NULL };
	char *bad_count_and_extra[] = { "three", "client", "h", "abc", "x", NULL };

	(void)state;
	assert_refused(&TWO, two_plus_one, "unrecognized arguments: 16");
	assert_refused(&THREE, three_plus_two, "unrecognized arguments: x");
	/* The count of arguments is checked before the bytecount's value. */
	assert_refused(&THREE, bad_count_and_extra, "unrecognized arguments: x");
}

static void test_bytecount_must_be_a_plain_int_up_to_the_max(void **state)
{
	char *word[] = { "three", "client", "h", "abc", NULL };
	char *too_big[] = { "three", "client", "h", "1001", NULL };
	char *negative[] = { "three", "client", "h", "-1", NULL };

	(void)state;
	assert_refused(&THREE, word, "argument bytecount: invalid int value: 'abc'");
	assert_refused(&THREE, too_big, "argument bytecount: invalid int value: '1001'");
	/* getopt takes "-1" for an option, as argparse does. */
	assert_refused(&THREE, negative, "unrecognized arguments: -1");
}

/* What refcli_report writes to out and to err, and its return value. */
struct written {
	char *out;
	char *err;
	int rc;
};

static void report(const struct refcli_spec *spec, enum refcli_outcome outcome,
		   const struct refcli_error *error, struct written *w)
{
	size_t out_len, err_len;
	FILE *out = open_memstream(&w->out, &out_len);
	FILE *err = open_memstream(&w->err, &err_len);

	assert_non_null(out);
	assert_non_null(err);
	w->rc = refcli_report(spec, outcome, error, out, err);
	fclose(out);
	fclose(err);
}

static void test_report_shows_help_on_out_and_returns_0(void **state)
{
	struct written w;

	(void)state;
	report(&THREE, REFCLI_HELP, NULL, &w);
	assert_int_equal(w.rc, 0);
	assert_string_equal(w.out, "usage: three [-h] [-p PORT] {client,server} host [bytecount]\n"
				   "\nthe help of three\n");
	assert_string_equal(w.err, "");
	free(w.out);
	free(w.err);
}

static void test_report_shows_usage_and_error_on_err_and_returns_2(void **state)
{
	char *argv[] = { "two", "-p", "70000", "client", "h", NULL };
	struct refcli_args args = { 0 };
	struct refcli_error error;
	struct written w;

	(void)state;
	assert_int_equal(parse(&TWO, argv, &args, &error), REFCLI_USAGE_ERROR);
	report(&TWO, REFCLI_USAGE_ERROR, &error, &w);
	assert_int_equal(w.rc, 2);
	assert_string_equal(w.out, "");
	assert_string_equal(w.err, "usage: two [-h] [-p PORT] {client,server} host\n"
				   "two: error: argument -p: port must be 0-65535, not 70000\n");
	free(w.out);
	free(w.err);
}

static void test_report_shows_a_long_argument_whole(void **state)
{
	char role[8192];
	char *argv[] = { "two", role, "h", NULL };
	struct refcli_args args = { 0 };
	struct refcli_error error;
	struct written w;

	(void)state;
	memset(role, 'r', sizeof(role) - 1);
	role[sizeof(role) - 1] = '\0';
	assert_int_equal(parse(&TWO, argv, &args, &error), REFCLI_USAGE_ERROR);
	report(&TWO, REFCLI_USAGE_ERROR, &error, &w);
	assert_int_equal(w.rc, 2);
	assert_non_null(strstr(w.err, role));
	assert_int_equal(strlen(w.err),
			 strlen(TWO.usage) +
				 strlen("two: error: argument role: "
					"invalid choice: '' (choose from 'client', 'server')\n") +
				 strlen(role));
	free(w.out);
	free(w.err);
}

static void test_failures_print_the_traceback_line_and_return_1(void **state)
{
	char *text = NULL;
	size_t len;
	FILE *err;

	(void)state;
	err = open_memstream(&text, &len);
	assert_non_null(err);
	assert_int_equal(refcli_fail_errno(err, ECONNREFUSED), 1);
	assert_int_equal(refcli_fail_open(err, 0, ECONNRESET), 1);
	assert_int_equal(refcli_fail_open(err, EAI_NONAME, ECONNREFUSED), 1);
	fclose(err);
	assert_string_equal(text, "ConnectionRefusedError: [Errno 111] Connection refused\n"
				  "ConnectionResetError: [Errno 104] Connection reset by peer\n"
				  "socket.gaierror: [Errno -2] Name or service not known\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_and_host_with_the_default_port),
		cmocka_unit_test(test_port_option_before_or_after_the_positionals),
		cmocka_unit_test(test_bytecount_is_optional_with_its_default),
		cmocka_unit_test(test_help_wins_where_it_is_met),
		cmocka_unit_test(test_port_that_is_not_a_plain_int_is_refused),
		cmocka_unit_test(test_port_above_65535_is_refused),
		cmocka_unit_test(test_port_option_without_its_value),
		cmocka_unit_test(test_unknown_options_are_unrecognized),
		cmocka_unit_test(test_missing_positionals_are_named),
		cmocka_unit_test(test_role_must_be_client_or_server),
		cmocka_unit_test(test_extra_positionals_are_unrecognized),
		cmocka_unit_test(test_bytecount_must_be_a_plain_int_up_to_the_max),
		cmocka_unit_test(test_report_shows_help_on_out_and_returns_0),
		cmocka_unit_test(test_report_shows_usage_and_error_on_err_and_returns_2),
		cmocka_unit_test(test_report_shows_a_long_argument_whole),
		cmocka_unit_test(test_failures_print_the_traceback_line_and_return_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
