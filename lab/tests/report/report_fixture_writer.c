/* report_fixture_writer: writes the report fixture's items (report_fixture.h: a
 * passing, a failing and an erroring scenario, outputs full of hostile bytes) as
 * the three reports, so that report_parsers_test.sh can read them with real
 * parsers. Reports of real runs come from `tcplab run --json/--junit/--html`.
 *
 *   report_fixture_writer PCAP_DIR OUT_DIR
 *       -> OUT_DIR/report.json, OUT_DIR/junit.xml, OUT_DIR/html/
 * Exit status: 0 reports written, 2 otherwise. */
#include <limits.h>
#include <stdio.h>

#include "lab/report_html.h"
#include "lab/report_json.h"
#include "lab/report_junit.h"
#include "lab/tests/report/report_fixture.h"

#define WALL_S 2.75 /* a fixed run time: the reports come out the same every time */

int main(int argc, char **argv)
{
	struct report_fixture fx;
	char json[PATH_MAX], junit[PATH_MAX], html[PATH_MAX];
	struct lab_err err;
	int rc = 2;

	if (argc != 3) {
		fprintf(stderr, "usage: report_fixture_writer PCAP_DIR OUT_DIR\n");
		return 2;
	}
	if (report_fixture_make(&fx, argv[1]) < 0)
		return 2;
	snprintf(json, sizeof(json), "%s/report.json", argv[2]);
	snprintf(junit, sizeof(junit), "%s/junit.xml", argv[2]);
	snprintf(html, sizeof(html), "%s/html", argv[2]);
	if (report_json_write(json, fx.items, fx.n, WALL_S, &err) < 0 ||
	    report_junit_write(junit, fx.items, fx.n, WALL_S, &err) < 0 ||
	    report_html_write(html, fx.items, fx.n, WALL_S, &err) < 0) {
		fprintf(stderr, "report_fixture_writer: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	report_fixture_free(&fx);
	return rc;
}
