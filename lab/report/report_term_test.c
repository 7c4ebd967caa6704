/* report_term_test: the terminal report and the third state. A program's output
 * reaches the terminal with its control bytes escaped (an ESC of the program must
 * not drive the reader's terminal) and its lines cut; an inconclusive verdict is
 * printed as such, makes its scenario INCONCLUSIVE (not PASS, not FAIL), is
 * counted in the summary line, and is an <error type="inconclusive"> in JUnit and
 * "state": "inconclusive" in JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/report/report.h"
#include "lab/report/report_json.h"
#include "lab/report/report_junit.h"
#include "lab/report/tests/fixture/report_fixture.h"

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

static char *mem_close(struct mem *m)
{
	fclose(m->f);
	return m->buf;
}

static int setup(void **state)
{
	static struct report_fixture fx;
	char dir[4096];

	if (report_fixture_pcap_dir(dir, sizeof(dir)) == NULL || report_fixture_make(&fx, dir) < 0)
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	report_fixture_free(*state);
	return 0;
}

static void test_control_bytes_escaped_lines_cut(void **state)
{
	struct report_fixture *fx = *state;
	struct report_item item = fx->items[0];
	struct proc_output *o = &item.rec->side[WHO_SERVER].proc.out;
	struct proc_output saved = *o;
	struct report_opts opts = { .verbose = true };
	static char long_line[2000];
	struct mem m;
	char *text;

	item.status = REPORT_FAIL; /* a failed scenario shows the outputs */
	report_item(mem_open(&m), &item, &opts);
	text = mem_close(&m);
	assert_null(strchr(text, '\033'));
	assert_non_null(strstr(text, "\\x1b[31mred\\x1b[0m\\x7f tab\\there cr\\r"));
	free(text);

	memset(long_line, 'z', sizeof(long_line) - 1);
	o->data = long_line;
	o->len = sizeof(long_line) - 1;
	o->total_bytes = 5000000;
	report_item(mem_open(&m), &item, &opts);
	text = mem_close(&m);
	assert_non_null(strstr(text, " ... (1839 more bytes)"));
	assert_non_null(strstr(text, "the end of the first 1999 of 5000000 bytes"));
	free(text);
	*o = saved;
}

static void test_inconclusive_is_a_state_of_its_own(void **state)
{
	struct report_fixture *fx = *state;
	struct report_item items[REPORT_FIXTURE_ITEMS];
	struct report_opts opts = { 0 };
	struct verdict *v = &fx->items[0].verdicts[2]; /* echo: bytes client->server */
	struct verdict saved = *v;
	struct lab_err err;
	struct mem m;
	char *text;

	v->held = false;
	v->inconclusive = true;
	snprintf(v->text, sizeof(v->text), "inconclusive: the capture lost 7 packets");
	assert_int_equal(report_status_of(&fx->items[0]), REPORT_INCONCLUSIVE);
	/* A failed verdict outranks an inconclusive one. */
	assert_int_equal(report_status_of(&fx->items[1]), REPORT_FAIL);
	memcpy(items, fx->items, sizeof(items));
	items[0].status = REPORT_INCONCLUSIVE;

	report_item(mem_open(&m), &items[0], &opts);
	text = mem_close(&m);
	assert_memory_equal(text, "INCONCLUSIVE echo", 17);
	assert_non_null(strstr(text, "INCONCLUSIVE scenarios/echo.scn:8: expect bytes client->server == 16"));
	free(text);

	report_summary(mem_open(&m), items, REPORT_FIXTURE_ITEMS, 1.0, &opts);
	text = mem_close(&m);
	assert_string_equal(text,
			    "3 scenarios: 0 passed, 1 failed, 1 inconclusive, 1 errors (1.00 s)\n");
	free(text);

	assert_int_equal(report_junit_write_stream(mem_open(&m), items, 3, 1.0, &err), 0);
	text = mem_close(&m);
	assert_non_null(strstr(text, "type=\"inconclusive\""));
	assert_non_null(strstr(text, "errors=\"2\""));
	free(text);

	assert_int_equal(report_json_write_stream(mem_open(&m), items, 3, 1.0, &err), 0);
	text = mem_close(&m);
	assert_non_null(strstr(text, "\"state\": \"inconclusive\""));
	assert_non_null(strstr(text, "\"inconclusive\": 1"));
	free(text);
	*v = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_bytes_escaped_lines_cut),
		cmocka_unit_test(test_inconclusive_is_a_state_of_its_own),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
