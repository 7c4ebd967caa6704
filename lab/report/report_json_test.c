/* report_json_test: the JSON report parses with a real JSON parser (Python's
 * json module, strict), holds what the items hold, survives hostile output and
 * is written all at once or not at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/analysis/facts.h"
#include "lab/report/report_json.h"
#include "lab/report/tests/fixture/report_fixture.h"

static char pcap_dir[4096];

static char *write_to_memory(const struct report_item *items, size_t n, size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);
	struct lab_err err;

	assert_non_null(out);
	assert_int_equal(report_json_write_stream(out, items, n, 1.5, &err), 0);
	fclose(out);
	return buf;
}

static void make_tmp_dir(char *buf, size_t len)
{
	const char *base = getenv("TEST_TMPDIR");

	snprintf(buf, len, "%s/jsonXXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(buf));
}

/* Python's json module (strict: raw control characters in strings are errors),
 * reading the file as UTF-8 (invalid bytes are errors), runs the checks. */
static int python_check(const char *json_path, const char *checks)
{
	char script[4096], cmd[8192 + 64];
	FILE *f;
	int status;

	snprintf(script, sizeof(script), "%s.py", json_path);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f,
		"import json, sys\n"
		"with open(sys.argv[1], encoding='utf-8', errors='strict') as f:\n"
		"    d = json.load(f)\n"
		"%s\n",
		checks);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", script, json_path);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_report_parses_and_holds_every_item(void **state)
{
	struct report_fixture fx;
	struct lab_err err;
	char dir[4096], path[4200];

	(void)state;
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	make_tmp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	assert_int_equal(report_json_write(path, fx.items, fx.n, 2.25, &err), 0);
	assert_int_equal(
		python_check(
			path,
			"assert d['schema'] == 'tcplab-report/1'\n"
			"assert d['wall_s'] == 2.25\n"
			"t = d['totals']\n"
			"assert (t['scenarios'], t['passed'], t['failed'], t['errors']) == (3, 1, 1, 1), t\n"
			"s = d['scenarios']\n"
			"assert [x['name'] for x in s] == ['echo', 'stuck', 'nolab']\n"
			"assert [x['status'] for x in s] == ['pass', 'fail', 'error']\n"
			"e = s[0]\n"
			"assert e['path'] == 'scenarios/echo.scn'\n"
			"assert e['summary'] == 'Client and server swap 16 bytes & close <cleanly>'\n"
			"assert e['duration_us'] == 41234 and e['outcome'] == 'completed'\n"
			"assert e['pcap'].endswith('/basic_echo.pcap')\n"
			"assert e['capture'] == {'packets': 10, 'kernel_drops': 0, 'ifdrops': 0, 'headers_only': 0, 'payload_budget_bytes': 0, 'cpu_us': 0, 'lab_stop_us': None, 'after_lab_stop': 0}\n"
			"assert [v['kind'] for v in e['events']] == ['server_start', 'listening', 'client_start', 'exit', 'exit']\n"
			"assert e['events'][1]['at_us'] == 9000\n"
			"srv = e['programs']['server']\n"
			"assert srv['command'] == 'tcp_sixteen server $HOST -p $PORT' and srv['exit_code'] == 0\n"
			"txt = srv['stdout']['text']\n"
			"assert '\\ufffd' in txt and 'caf\\u00e9 \\u20ac \\U0001f40d' in txt, txt\n"
			"assert '\\x1b[31mred' in txt and '\\x00:after the NUL' in txt and '\\x01\\x02' in txt\n"
			"assert '<b>bold</b> & &amp; \"quoted\"' in txt\n"
			"assert srv['stdout']['truncated'] is False and srv['shim'] is None\n"
			"assert e['programs']['client']['stdout']['text'] == \"The server said b'Farewell, client'\\n\"\n"
			"assert e['watch']['listening_us'] == 9000 and e['watch']['verdict_us'] is None\n"
			"assert [v['held'] for v in e['verdicts']] == [True, True, True]\n"
			"assert e['verdicts'][2] == {'file': 'scenarios/echo.scn', 'line': 8, 'col': 1, 'source': 'expect bytes client->server == 16', 'held': True, 'state': 'held', 'text': '16 bytes client->server'}, e['verdicts'][2]\n"
			"assert e['faults'] == []\n"
			"f = e['flows']\n"
			"assert f['error'] is None and f['port'] == 1060 and f['packets'] == 10\n"
			"c = f['connections']\n"
			"assert len(c) == 1\n"
			"c = c[0]\n"
			"assert c['client'] == '127.0.0.1:40000' and c['server'] == '127.0.0.1:1060'\n"
			"assert c['handshake'] == 'complete' and c['rtt_us'] == 100 and c['teardown'] == 'fin'\n"
			"assert c['client_to_server']['data_bytes'] == 16 and c['server_to_client']['data_bytes'] == 16\n"
			"assert c['client_to_server']['data_segments'] == 1 and c['client_to_server']['mss'] == 65495\n"
			"assert sum(c['analysis'].values()) == 0\n"
			"st = s[1]\n"
			"assert st['outcome'] == 'deadlock' and st['capture']['kernel_drops'] == 2\n"
			"assert [v['held'] for v in st['verdicts']] == [True, False, False]\n"
			"assert st['verdicts'][1]['line'] == 7 and st['verdicts'][2]['text'].endswith(\"<- \\\"not\\\" & 'that'\")\n"
			"cl = st['programs']['client']\n"
			"assert cl['signal'] == 9 and cl['signal_name'] == 'SIGKILL' and cl['exit_code'] is None\n"
			"assert cl['stopped_by_lab'] is True and cl['duration_us'] == 2500200 - 8100\n"
			"assert cl['shim']['short_sends'] == 4 and cl['shim']['bytes_sent'] == 5000\n"
			"assert cl['stderr']['truncated'] is True and cl['stderr']['total_bytes'] == 3000000\n"
			"w = st['watch']\n"
			"assert w['bytes'] == {'client_to_server': 5000, 'server_to_client': 0}\n"
			"assert w['send_queue_bytes']['client'] == 1000 and w['text'].startswith('no byte moved')\n"
			"assert st['flows']['analysis']['zero_window'] == 4, st['flows']['analysis']\n"
			"assert st['flows']['analysis']['window_probe'] == 3\n"
			"assert st['flows']['connections'][0]['server_to_client']['analysis']['zero_window'] == 4\n"
			"n = s[2]\n"
			"assert n['error'].startswith('cannot enter a network namespace') and '\\x01' in n['error']\n"
			"assert n['flows'] is None and n['capture'] is None and n['verdicts'] == [] and n['events'] == []\n"
			"assert n['programs']['server'] is None and n['programs']['client']['started'] is False\n"
			"assert e['link'] is None and n['link'] is None\n"),
		0);
	report_fixture_free(&fx);
}

/* A run on the wire: what the link did, per direction and kind. */
static void test_link_counters(void **state)
{
	struct report_fixture fx;
	struct lab_err err;
	char dir[4096], path[4200];
	struct run_link *l;

	(void)state;
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	l = &fx.rec[1]->link;
	l->used = true;
	l->seed = 7;
	snprintf(l->server_pcap_path, sizeof(l->server_pcap_path), "pcap/stuck.server.pcap");
	l->packets[0] = 1288;
	l->delivered[0] = 1221;
	l->dropped[0][LINK_DROP_LOSS] = 67;
	l->packets[1] = 1359;
	l->dropped[1][LINK_DROP_FILTER] = 1;
	l->duplicated[1] = 3;
	l->kernel_drops[1] = 2;
	make_tmp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	assert_int_equal(report_json_write(path, fx.items, fx.n, 1.0, &err), 0);
	assert_int_equal(
		python_check(
			path,
			"l = d['scenarios'][1]['link']\n"
			"assert l['seed'] == 7 and l['server_pcap'] == 'pcap/stuck.server.pcap'\n"
			"c, s = l['client_to_server'], l['server_to_client']\n"
			"assert c['packets'] == 1288 and c['delivered'] == 1221, c\n"
			"assert c['dropped'] == {'down': 0, 'mtu': 0, 'drop': 0, 'loss': 67, "
			"'queue': 0, 'overflow': 0}, c\n"
			"assert s['dropped']['drop'] == 1 and s['duplicated'] == 3\n"
			"assert s['kernel_drops'] == 2 and c['kernel_drops'] == 0\n"
			"assert d['scenarios'][0]['link'] is None\n"),
		0);
	report_fixture_free(&fx);
}

/* Every byte that is not printable ASCII or valid UTF-8 is escaped. */
static void test_output_bytes_are_escaped(void **state)
{
	struct report_fixture fx;
	size_t len;
	char *json;

	(void)state;
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	json = write_to_memory(fx.items, 1, &len);
	assert_int_equal(strlen(json), len); /* the NUL did not get through */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)json[i];

		if (c < 0x20 && c != '\n')
			fail_msg("raw control byte 0x%02x at offset %zu", c, i);
		assert_true(c != 0x7f && c != 0xff && c != 0xfe && c != 0xc0);
	}
	assert_non_null(strstr(json,
			       "invalid UTF-8: \\ufffd\\ufffd and a lone continuation \\ufffd "
			       "and cut short \\ufffd\\ufffd\\n"));
	assert_non_null(strstr(json, "surrogate \\ufffd\\ufffd\\ufffd, overlong \\ufffd\\ufffd"));
	assert_non_null(strstr(json, "controls: \\u0001\\u0002\\u0007\\b\\u000b\\f\\u001b[31mred"));
	assert_non_null(strstr(json, "\\u007f tab\\there cr\\r\\n"));
	assert_non_null(strstr(json, "a NUL here:\\u0000:after the NUL"));
	assert_non_null(strstr(json, "\\\"quoted\\\" 'single'"));
	free(json);
	report_fixture_free(&fx);
}

static void test_no_scenarios_is_a_valid_report(void **state)
{
	char dir[4096], path[4200];
	struct lab_err err;

	(void)state;
	make_tmp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/empty.json", dir);
	assert_int_equal(report_json_write(path, NULL, 0, 0.0, &err), 0);
	assert_int_equal(
		python_check(path,
			     "assert d['scenarios'] == [] and d['totals']['scenarios'] == 0\n"),
		0);
}

/* Written as PATH.tmp and renamed: nothing else is left in the directory. */
static void test_written_through_a_temporary_file(void **state)
{
	struct report_fixture fx;
	char dir[4096], path[4200], tmp[4300];
	struct lab_err err;
	struct stat st;

	(void)state;
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	make_tmp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/r.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(report_json_write(path, fx.items, fx.n, 1.0, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 1000);
	assert_int_equal(stat(tmp, &st), -1);
	report_fixture_free(&fx);
}

static void test_unwritable_path_is_an_error_naming_it(void **state)
{
	struct lab_err err = { { 0 } };

	(void)state;
	assert_int_equal(report_json_write("/nonexistent-dir/r.json", NULL, 0, 0.0, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/r.json.tmp"));
	assert_non_null(strstr(err.msg, "No such file or directory"));
}

/* An unreadable capture is noted in the report, not fatal. */
static void test_unreadable_capture_is_noted(void **state)
{
	struct facts *unread = NULL;
	struct lab_err ferr;
	struct report_fixture fx;
	char dir[4096], path[4200];
	struct lab_err err;

	(void)state;
	assert_int_equal(report_fixture_make(&fx, pcap_dir), 0);
	fx.items[0].pcap_path = "/nonexistent.pcap";
	assert_int_equal(facts_read("/nonexistent.pcap", NULL, &unread, &ferr), -1);
	fx.items[0].facts = NULL;
	fx.items[0].facts_error = ferr.msg;
	make_tmp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/r.json", dir);
	assert_int_equal(report_json_write(path, fx.items, 1, 1.0, &err), 0);
	assert_int_equal(
		python_check(path, "f = d['scenarios'][0]['flows']\n"
				   "assert f['error'] and '/nonexistent.pcap' in f['error'], f\n"),
		0);
	report_fixture_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_parses_and_holds_every_item),
		cmocka_unit_test(test_link_counters),
		cmocka_unit_test(test_output_bytes_are_escaped),
		cmocka_unit_test(test_no_scenarios_is_a_valid_report),
		cmocka_unit_test(test_written_through_a_temporary_file),
		cmocka_unit_test(test_unwritable_path_is_an_error_naming_it),
		cmocka_unit_test(test_unreadable_capture_is_noted),
	};

	if (report_fixture_pcap_dir(pcap_dir, sizeof(pcap_dir)) == NULL) {
		fprintf(stderr, "cannot find lab/tests/pcaps\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
