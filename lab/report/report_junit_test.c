/* report_junit_test: the JUnit report is well-formed XML for a real parser
 * (xmllint, Python's ElementTree), with the counts, failures, errors, outputs and
 * attachments that CI readers look for, whatever bytes the programs printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/report/report_junit.h"
#include "lab/report/tests/fixture/report_fixture.h"

static char pcap_dir[4096];

static void make_path(char *buf, size_t len, const char *name)
{
	const char *base = getenv("TEST_TMPDIR");
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/junitXXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(buf, len, "%s/%s", dir, name);
}

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int python_check(const char *xml_path, const char *checks)
{
	char script[4200], cmd[9000];
	FILE *f;

	snprintf(script, sizeof(script), "%s.py", xml_path);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f,
		"import sys, xml.etree.ElementTree as ET\n"
		"root = ET.parse(sys.argv[1]).getroot()\n"
		"%s\n",
		checks);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", script, xml_path);
	return run(cmd);
}

static void test_report_is_well_formed_with_counts(void **state)
{
	struct report_fixture fx;
	struct lab_err err;
	char path[4200], cmd[4400];

	(void)state;
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	make_path(path, sizeof(path), "junit.xml");
	assert_int_equal(report_junit_write(path, fx.items, fx.n, 3.5, &err), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	assert_int_equal(run(cmd), 0);
	assert_int_equal(
		python_check(
			path,
			"assert root.tag == 'testsuites'\n"
			"assert (root.get('tests'), root.get('failures'), root.get('errors')) == ('3', '1', '1')\n"
			"suites = root.findall('testsuite')\n"
			"assert len(suites) == 1\n"
			"s = suites[0]\n"
			"assert s.get('name') == 'tcplab' and s.get('tests') == '3' and s.get('failures') == '1'\n"
			"assert s.get('errors') == '1' and s.get('time') == '3.500'\n"
			"cases = s.findall('testcase')\n"
			"assert [c.get('name') for c in cases] == ['echo', 'stuck', 'nolab']\n"
			"assert [c.get('classname') for c in cases] == ['tcplab.scenarios', 'tcplab.failing', 'tcplab']\n"
			"assert [c.get('time') for c in cases] == ['0.041', '2.600', '0.000']\n"
			"echo, stuck, nolab = cases\n"
			"assert echo.find('failure') is None and echo.find('error') is None\n"
			"props = {p.get('name'): p.get('value') for p in echo.find('properties')}\n"
			"assert props['pcap'].endswith('/basic_echo.pcap') and props['pcap'].startswith('/'), props\n"
			"assert props['summary'] == 'Client and server swap 16 bytes & close <cleanly>'\n"
			"out = echo.find('system-out').text\n"
			"assert '[[ATTACHMENT|' + props['pcap'] + ']]' in out.splitlines(), out\n"
			"assert 'caf\\u00e9 \\u20ac \\U0001f40d' in out and '<b>bold</b> & &amp;' in out\n"
			"assert '\\ufffd[31mred' in out and ']]> </system-out> </script>' in out\n"
			"assert 'The server said' in out and 'warning: <stderr> & more' in out\n"
			"assert 'tcp_sixteen server $HOST -p $PORT (exit 0)' in out\n"
			"f = stuck.find('failure')\n"
			"assert f.get('type') == 'expectation'\n"
			"assert f.get('message').startswith('scenarios/failing/stuck.scn:7: expect client exit 0: expected the client')\n"
			"assert f.get('message').endswith('(and more)')\n"
			"assert '2 of 3 expectations failed' in f.text\n"
			"assert 'scenarios/failing/stuck.scn:8: expect bytes client->server == 16' in f.text\n"
			"assert \"saw 5000 <- \\\"not\\\" & 'that'\" in f.text\n"
			"assert 'zero-window' not in f.text\n"
			"out = stuck.find('system-out').text\n"
			"assert 'killed by SIGKILL, stopped by the lab' in out and 'outcome: deadlock after 2.600 s' in out\n"
			"assert '(3000000 bytes, the last 55 shown)' in out\n"
			"e = nolab.find('error')\n"
			"assert e.get('type') == 'lab' and e.get('message').startswith('cannot enter a network namespace')\n"
			"assert e.get('message').endswith('<EPERM> & \\ufffd')\n"
			"assert nolab.find('failure') is None and nolab.find('properties').find(\"property[@name='pcap']\") is None\n"),
		0);
	report_fixture_free(&fx);
}

/* No byte that XML 1.0 forbids reaches the file. */
static void test_forbidden_characters_are_replaced(void **state)
{
	struct report_fixture fx;
	struct lab_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	out = open_memstream(&buf, &len);
	assert_int_equal(report_junit_write_stream(out, fx.items, fx.n, 1.0, &err), 0);
	fclose(out);
	assert_int_equal(strlen(buf), len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 && c != '\n' && c != '\t')
			fail_msg("byte 0x%02x at %zu", c, i);
		assert_true(c != 0xff && c != 0xfe && c != 0xc0);
	}
	assert_non_null(strstr(buf, "cr&#13;\n"));
	assert_non_null(strstr(buf, "&lt;b&gt;bold&lt;/b&gt; &amp; &amp;amp;"));
	assert_null(strstr(buf, "]]> </system-out>"));
	free(buf);
	report_fixture_free(&fx);
}

static void test_classname_is_tcplab_dot_directory(void **state)
{
	char buf[128];

	(void)state;
	report_junit_classname("scenarios/deadlock.scn", buf, sizeof(buf));
	assert_string_equal(buf, "tcplab.scenarios");
	report_junit_classname("/home/u/my tests/v1.2/x.scn", buf, sizeof(buf));
	assert_string_equal(buf, "tcplab.v1_2");
	report_junit_classname("x.scn", buf, sizeof(buf));
	assert_string_equal(buf, "tcplab");
	report_junit_classname("./x.scn", buf, sizeof(buf));
	assert_string_equal(buf, "tcplab");
	report_junit_classname("a//b//x.scn", buf, sizeof(buf));
	assert_string_equal(buf, "tcplab.b");
}

static void test_unwritable_path_is_an_error(void **state)
{
	struct lab_err err = { { 0 } };

	(void)state;
	assert_int_equal(report_junit_write("/nonexistent-dir/j.xml", NULL, 0, 0.0, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/j.xml.tmp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_is_well_formed_with_counts),
		cmocka_unit_test(test_forbidden_characters_are_replaced),
		cmocka_unit_test(test_classname_is_tcplab_dot_directory),
		cmocka_unit_test(test_unwritable_path_is_an_error),
	};

	if (report_fixture_pcap_dir(pcap_dir, sizeof(pcap_dir)) == NULL) {
		fprintf(stderr, "cannot find lab/tests/pcaps\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
