/* report_demo: writes the JSON, JUnit and HTML reports, for tests and for looking
 * at the reports before `tcplab run --json/--junit/--html` exists.
 *
 *   report_demo fixture PCAP_DIR OUT_DIR
 *       the report fixture's items -> OUT_DIR/report.json, junit.xml, html/
 *   report_demo run [--pcap-dir D] [--json F] [--junit F] [--html D] SCENARIO...
 *       runs each scenario like `tcplab run -j 1` (same modules: run, expect),
 *       prints one line per scenario and writes the reports asked for.
 * Exit status: 0 reports written (whatever the verdicts), 2 otherwise. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/expect.h"
#include "lab/proc.h"
#include "lab/report.h"
#include "lab/report_html.h"
#include "lab/report_json.h"
#include "lab/report_junit.h"
#include "lab/run.h"
#include "lab/sandbox.h"
#include "lab/tests/report/report_fixture.h"

static int write_reports(const char *json, const char *junit, const char *html,
			 const struct report_item *items, size_t n, double wall_s)
{
	struct lab_err err;

	if (json != NULL && report_json_write(json, items, n, wall_s, &err) < 0)
		goto fail;
	if (junit != NULL && report_junit_write(junit, items, n, wall_s, &err) < 0)
		goto fail;
	if (html != NULL && report_html_write(html, items, n, wall_s, &err) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "report_demo: %s\n", err.msg);
	return 2;
}

static int cmd_fixture(int argc, char **argv)
{
	struct report_fixture fx;
	char json[PATH_MAX], junit[PATH_MAX], html[PATH_MAX];
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: report_demo fixture PCAP_DIR OUT_DIR\n");
		return 2;
	}
	if (report_fixture_make(&fx, argv[1]) < 0)
		return 2;
	snprintf(json, sizeof(json), "%s/report.json", argv[2]);
	snprintf(junit, sizeof(junit), "%s/junit.xml", argv[2]);
	snprintf(html, sizeof(html), "%s/html", argv[2]);
	rc = write_reports(json, junit, html, fx.items, fx.n, 2.75);
	report_fixture_free(&fx);
	return rc;
}

static int find_home(char *home)
{
	const char *srcdir = getenv("TEST_SRCDIR");
	char exe[PATH_MAX], candidate[PATH_MAX + 64], probe[PATH_MAX + 128];
	ssize_t n;

	if (srcdir != NULL) {
		snprintf(candidate, sizeof(candidate), "%s/tcplab", srcdir);
		snprintf(probe, sizeof(probe), "%s/tools/ref/tcp_sixteen", candidate);
		if (access(probe, X_OK) == 0 && realpath(candidate, home) != NULL)
			return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(candidate, sizeof(candidate), "%s.runfiles/tcplab", exe);
	snprintf(probe, sizeof(probe), "%s/tools/ref/tcp_sixteen", candidate);
	if (access(probe, X_OK) == 0 && realpath(candidate, home) != NULL)
		return 0;
	return -1;
}

struct job {
	const struct run_opts *opts;
	struct scenario *sc;
	struct run_record rec;
	struct report_item item;
};

/* As main.c's scenario_thread: a thread of its own enters the namespaces. */
static void *scenario_thread(void *arg)
{
	struct job *job = arg;
	struct report_item *item = &job->item;
	struct lab_err err;

	item->sc = job->sc;
	item->rec = &job->rec;
	item->pcap_path = job->rec.pcap_path;
	if (run_scenario(job->sc, job->opts, &job->rec, &err) < 0) {
		item->status = REPORT_ERROR;
		item->pcap_path = NULL;
		snprintf(item->error, sizeof(item->error), "%s", err.msg);
		return NULL;
	}
	if (expect_evaluate(job->sc, &job->rec, job->rec.pcap_path, &item->verdicts, &err) < 0) {
		item->status = REPORT_ERROR;
		snprintf(item->error, sizeof(item->error), "%s", err.msg);
		return NULL;
	}
	item->status = REPORT_PASS;
	for (size_t i = 0; i < job->sc->n_expects; i++)
		if (!item->verdicts[i].held)
			item->status = REPORT_FAIL;
	return NULL;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pcap-dir", required_argument, NULL, 'p' },
		{ "json", required_argument, NULL, 'J' },
		{ "junit", required_argument, NULL, 'U' },
		{ "html", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *json = NULL, *junit = NULL, *html = NULL;
	struct run_opts opts = { .pcap_dir = "pcap", .snaplen = 262144 };
	struct report_opts ropts = { .color = false };
	char home[PATH_MAX], tools_dir[PATH_MAX + 16], shim_path[PATH_MAX + 64];
	struct job *jobs = NULL;
	struct report_item *items = NULL;
	size_t n = 0;
	int64_t start_us = proc_now_us();
	struct lab_err err;
	int status = 2, c;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opts.pcap_dir = optarg;
			break;
		case 'J':
			json = optarg;
			break;
		case 'U':
			junit = optarg;
			break;
		case 'H':
			html = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc || find_home(home) < 0) {
		fprintf(stderr, "usage: report_demo run [--pcap-dir D] [--json F] [--junit F] "
				"[--html D] SCENARIO... (from bazel run or bazel test)\n");
		return 2;
	}
	snprintf(tools_dir, sizeof(tools_dir), "%s/tools/ref", home);
	snprintf(shim_path, sizeof(shim_path), "%s/lab/shim/libtcplab_shim.so", home);
	opts.tools_dir = tools_dir;
	opts.shim_path = shim_path;
	if (mkdir(opts.pcap_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "report_demo: %s: %s\n", opts.pcap_dir, strerror(errno));
		return 2;
	}
	if (sandbox_prepare_process(&err) < 0) {
		fprintf(stderr, "report_demo: %s\n", err.msg);
		return 2;
	}
	n = (size_t)(argc - optind);
	jobs = calloc(n, sizeof(*jobs));
	items = calloc(n, sizeof(*items));
	if (jobs == NULL || items == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		pthread_t t;

		jobs[i].opts = &opts;
		if (scenario_parse_file(argv[optind + (int)i], &jobs[i].sc, &err) < 0 ||
		    expect_validate(jobs[i].sc, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
		if (pthread_create(&t, NULL, scenario_thread, &jobs[i]) != 0)
			goto out;
		pthread_join(t, NULL);
		report_item(stdout, &jobs[i].item, &ropts);
		items[i] = jobs[i].item;
	}
	status = write_reports(json, junit, html, items, n, (double)(proc_now_us() - start_us) / 1e6);
out:
	for (size_t i = 0; jobs != NULL && i < n; i++) {
		free(jobs[i].item.verdicts);
		run_record_release(&jobs[i].rec);
		scenario_free(jobs[i].sc);
	}
	free(jobs);
	free(items);
	return status;
}

int main(int argc, char **argv)
{
	const char *workdir = getenv("BUILD_WORKING_DIRECTORY");

	if (workdir != NULL && chdir(workdir) < 0) {
		fprintf(stderr, "report_demo: cannot enter %s: %s\n", workdir, strerror(errno));
		return 2;
	}
	if (argc >= 2 && strcmp(argv[1], "fixture") == 0)
		return cmd_fixture(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	fprintf(stderr, "usage: report_demo fixture PCAP_DIR OUT_DIR\n"
			"       report_demo run [--pcap-dir D] [--json F] [--junit F] [--html D] "
			"SCENARIO...\n");
	return 2;
}
