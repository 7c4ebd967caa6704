/* cmd_run: `tcplab run`: loads every scenario before running any (bad input stops
 * everything with exit status 2), runs them in a pool of workers (pool.h), prints
 * each result in the order given, then the summary and the report files asked
 * for. Exit status: 0 all expectations held, 1 some did not, 2 bad input, the
 * lab could not run, or a verdict is inconclusive, 128 + the signal when
 * interrupted (130 Ctrl-C, 143 SIGTERM). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/cli/commands.h"
#include "lab/cli/home.h"
#include "lab/cli/pool.h"
#include "lab/cli/progress.h"
#include "lab/cli/scenario_files.h"
#include "lab/cli/usage.h"
#include "lab/report/report.h"
#include "lab/report/report_html.h"
#include "lab/report/report_json.h"
#include "lab/report/report_junit.h"
#include "lab/report/report_seqdiag.h"
#include "lab/run/proc.h"
#include "lab/run/run.h"
#include "lab/run/sandbox.h"

/* The report files asked for; each failure is said on stderr. */
static int write_reports(const struct report_item *items, size_t n, double wall_s,
			 const char *junit_path, const char *json_path, const char *html_dir)
{
	struct lab_err err;
	int rc = 0;

	if (junit_path != NULL && report_junit_write(junit_path, items, n, wall_s, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		rc = -1;
	}
	if (json_path != NULL && report_json_write(json_path, items, n, wall_s, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		rc = -1;
	}
	if (html_dir != NULL && report_html_write(html_dir, items, n, wall_s, &err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		rc = -1;
	}
	return rc;
}

/* Can a report be written at path? Found before the suite runs, not after;
 * nothing is left behind (a file made to find out is removed). */
static int check_writable_file(const char *opt, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd >= 0) {
		close(fd);
		unlink(path);
		return 0;
	}
	if (errno == EEXIST && access(path, W_OK) == 0)
		return 0;
	fprintf(stderr, "tcplab: %s %s: cannot write there: %s\n", opt, path,
		strerror(errno == EEXIST ? EACCES : errno));
	return -1;
}

static int check_writable_dir(const char *opt, const char *path)
{
	struct stat st;
	char parent[PATH_MAX];
	char *slash;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode) && access(path, W_OK) == 0)
			return 0;
		fprintf(stderr, "tcplab: %s %s: cannot write there: %s\n", opt, path,
			S_ISDIR(st.st_mode) ? strerror(EACCES) : "not a directory");
		return -1;
	}
	/* It will be made: its nearest existing parent must be writable. */
	snprintf(parent, sizeof(parent), "%s", path);
	while ((slash = strrchr(parent, '/')) != NULL) {
		*slash = '\0';
		if (parent[0] == '\0' || stat(parent, &st) == 0)
			break;
	}
	if (slash == NULL)
		snprintf(parent, sizeof(parent), ".");
	else if (parent[0] == '\0')
		snprintf(parent, sizeof(parent), "/");
	if (stat(parent, &st) == 0 && S_ISDIR(st.st_mode) && access(parent, W_OK) == 0)
		return 0;
	fprintf(stderr, "tcplab: %s %s: cannot make it: %s is not a writable directory\n", opt,
		path, parent);
	return -1;
}

/* Scenarios run more than once (--repeat, or named twice) whose verdicts were
 * not all the same: one line each, "differed: NAME: 3 PASS, 1 FAIL". */
static void print_differences(FILE *out, const struct pool *pool)
{
	for (size_t i = 0; i < pool->n; i++) {
		int counts[3] = { 0, 0, 0 }; /* PASS, FAIL, ERROR */
		bool first = true;

		for (size_t k = 0; k < i && first; k++)
			if (strcmp(pool->jobs[k].sc->path, pool->jobs[i].sc->path) == 0)
				first = false;
		if (!first)
			continue;
		for (size_t k = i; k < pool->n; k++) {
			enum report_status st = pool->jobs[k].item.status;

			if (strcmp(pool->jobs[k].sc->path, pool->jobs[i].sc->path) != 0)
				continue;
			counts[st == REPORT_PASS ? 0 : st == REPORT_FAIL ? 1 : 2]++;
		}
		if ((counts[0] != 0) + (counts[1] != 0) + (counts[2] != 0) > 1)
			fprintf(out, "differed: %s: %d PASS, %d FAIL, %d ERROR\n",
				pool->jobs[i].sc->name, counts[0], counts[1], counts[2]);
	}
}

static int make_dirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* "1MiB", "64KiB", "500KB", "4096", "0", "all" (INT64_MAX): --snap-payload. */
static int parse_payload(const char *text, int64_t *bytes)
{
	static const struct {
		const char *unit;
		int64_t factor;
	} units[] = { { "", 1 },	       { "B", 1 },	     { "KiB", 1024 },
		      { "MiB", 1024 * 1024 }, { "GiB", 1 << 30 }, { "KB", 1000 },
		      { "MB", 1000000 },      { "GB", 1000000000 } };
	char *end;
	unsigned long long n;

	if (strcmp(text, "all") == 0) {
		*bytes = INT64_MAX;
		return 0;
	}
	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (n > (unsigned long long)(INT64_MAX / units[i].factor))
			return -1;
		*bytes = (int64_t)n * units[i].factor;
		return 0;
	}
	return -1;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "pcap-dir", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "junit", required_argument, NULL, 'J' },
		{ "json", required_argument, NULL, 'O' },
		{ "html", required_argument, NULL, 'H' },
		{ "snap-payload", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts ropts = { .color = isatty(1) && getenv("NO_COLOR") == NULL };
	struct run_opts opts = { .pcap_dir = "pcap", .snaplen = 65550, .snap_payload_bytes = -1 };
	const char *junit_path = NULL, *json_path = NULL, *html_dir = NULL;
	struct progress progress;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	struct path_list paths = { 0 };
	struct scenario **scs = NULL;
	char home[PATH_MAX], tools_dir[PATH_MAX + 16], shim_path[PATH_MAX + 64];
	struct pool pool = { .lock = PTHREAD_MUTEX_INITIALIZER,
			     .changed = PTHREAD_COND_INITIALIZER };
	pthread_t *workers = NULL;
	struct run_opts *job_opts = NULL;
	long repeat = 1;
	long n_workers = 0;
	static struct run_leftovers leftovers = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct interrupter interrupter = { .stop = false, .signal = 0, .leftovers = &leftovers };
	size_t printed = 0;
	int64_t start_us = proc_now_us();
	int status = 2;
	int c;
	struct lab_err err;

	while ((c = getopt_long(argc, argv, "j:vh", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*end != '\0' || jobs < 1 || jobs > 256)
				return cli_usage_error(
					"-j wants a number from 1 to 256, not \"%s\"", optarg);
			break;
		case 'R':
			repeat = strtol(optarg, &end, 10);
			if (*end != '\0' || repeat < 1 || repeat > 10000)
				return cli_usage_error(
					"--repeat wants a number from 1 to 10000, not \"%s\"",
					optarg);
			break;
		case 'p':
			opts.pcap_dir = optarg;
			break;
		case 'v':
			ropts.verbose = true;
			break;
		case 'J':
			junit_path = optarg;
			break;
		case 'O':
			json_path = optarg;
			break;
		case 'H':
			html_dir = optarg;
			break;
		case 'S':
			if (parse_payload(optarg, &opts.snap_payload_bytes) < 0)
				return cli_usage_error("--snap-payload wants a size such as 1MiB, 64KiB, "
						       "0 or all, not \"%s\"",
						       optarg);
			break;
		case 'h':
			fputs(cli_usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return cli_usage_error("%s", "run: which scenarios? (a file or a directory)");
	if (scenario_files_collect(argv + optind, argc - optind, &paths) < 0)
		goto out;
	if (paths.n == 0) {
		fprintf(stderr, "tcplab: no scenario to run\n");
		goto out;
	}
	if (scenario_files_load(&paths, &scs) < 0)
		goto out;
	if (cli_find_home(home, sizeof(home)) < 0) {
		fprintf(stderr,
			"tcplab: cannot find the reference programs and the fault shim: "
			"not in $TCPLAB_HOME, nor in PREFIX/lib/tcplab beside an installed "
			"PREFIX/bin/tcplab, nor in Bazel's runfiles (run it with `bazel run "
			"//lab:tcplab -- ...`, or install it: docs in README)\n");
		goto out;
	}
	snprintf(tools_dir, sizeof(tools_dir), "%s/tools/ref", home);
	/* Found before anything runs: a missing program, a report that cannot be
	 * written (not after the whole suite). */
	if (scenario_files_check_commands(scs, paths.n, tools_dir) < 0)
		goto out;
	if ((junit_path != NULL && check_writable_file("--junit", junit_path) < 0) ||
	    (json_path != NULL && check_writable_file("--json", json_path) < 0) ||
	    (html_dir != NULL && check_writable_dir("--html", html_dir) < 0))
		goto out;
	snprintf(shim_path, sizeof(shim_path), "%s/lab/shim/libtcplab_shim.so", home);
	opts.tools_dir = tools_dir;
	opts.shim_path = shim_path;
	if (make_dirs(opts.pcap_dir) < 0) {
		fprintf(stderr, "tcplab: cannot make %s: %s\n", opts.pcap_dir, strerror(errno));
		goto out;
	}
	if (sandbox_prepare_process(&err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		goto out;
	}
	if (interrupter_start(&interrupter) < 0) {
		fprintf(stderr, "tcplab: cannot start the thread that takes Ctrl-C\n");
		goto out;
	}
	opts.interrupted = &interrupter.stop;
	opts.leftovers = &leftovers;
	pool.n = paths.n * (size_t)repeat;
	pool.jobs = calloc(pool.n, sizeof(*pool.jobs));
	job_opts = calloc(pool.n, sizeof(*job_opts));
	if ((size_t)jobs > pool.n)
		jobs = (long)pool.n;
	workers = calloc((size_t)jobs, sizeof(*workers));
	if (pool.jobs == NULL || workers == NULL || job_opts == NULL) {
		fprintf(stderr, "tcplab: out of memory\n");
		goto out;
	}
	/* Each scenario in the order given, then again for each repeat; a run of a
	 * file already run gets the next capture name. */
	for (size_t i = 0; i < pool.n; i++) {
		struct scenario *sc = scs[i % paths.n];

		job_opts[i] = opts;
		for (size_t k = 0; k < i; k++)
			if (pool.jobs[k].sc == sc || strcmp(pool.jobs[k].sc->name, sc->name) == 0)
				job_opts[i].copy++;
		pool.jobs[i].sc = sc;
		pool.jobs[i].run_opts = &job_opts[i];
		pool.jobs[i].ladder = html_dir != NULL ? &report_seqdiag_ladder_opts : NULL;
	}
	progress_start(&progress, stdout);
	for (long w = 0; w < jobs; w++) {
		int rc = pthread_create(&workers[n_workers], NULL, pool_worker, &pool);

		if (rc != 0) {
			fprintf(stderr, "tcplab: cannot start worker %ld: %s\n", w, strerror(rc));
			break;
		}
		n_workers++;
	}
	if (n_workers == 0) {
		/* Nobody would take the jobs: stop before waiting for them. */
		atomic_store(&pool.next, pool.n);
		goto out;
	}
	/* Print in the order given, as soon as each prefix is done; between results,
	 * a progress line on a terminal. */
	pthread_mutex_lock(&pool.lock);
	while (printed < pool.n) {
		while (printed < pool.n && pool.jobs[printed].done) {
			pthread_mutex_unlock(&pool.lock);
			progress_clear(&progress);
			report_item(stdout, &pool.jobs[printed].item, &ropts);
			fflush(stdout);
			pthread_mutex_lock(&pool.lock);
			printed++;
		}
		if (printed < pool.n) {
			pool_show_progress(&pool, &progress);
			pool_wait_a_little(&pool);
		}
	}
	pthread_mutex_unlock(&pool.lock);
	progress_clear(&progress);
	for (long w = 0; w < n_workers; w++)
		pthread_join(workers[w], NULL);
	{
		struct report_item *items = calloc(pool.n, sizeof(*items));

		status = 0;
		for (size_t i = 0; i < pool.n; i++) {
			if (items != NULL)
				items[i] = pool.jobs[i].item;
			if (pool.jobs[i].item.status == REPORT_ERROR ||
			    pool.jobs[i].item.status == REPORT_INCONCLUSIVE)
				status = 2;
			else if (pool.jobs[i].item.status == REPORT_FAIL && status == 0)
				status = 1;
		}
		if (items != NULL) {
			double wall_s = (double)(proc_now_us() - start_us) / 1e6;

			report_summary(stdout, items, pool.n, wall_s, &ropts);
			print_differences(stdout, &pool);
			if (write_reports(items, pool.n, wall_s, junit_path, json_path, html_dir) <
			    0)
				status = 2;
		}
		free(items);
		if (atomic_load(&interrupter.stop)) {
			int sig = atomic_load(&interrupter.signal);

			fprintf(stderr, "tcplab: interrupted by SIG%s\n",
				sigabbrev_np(sig) != NULL ? sigabbrev_np(sig) : "?");
			status = 128 + sig;
		}
	}
out:
	pool_release(&pool);
	free(workers);
	free(job_opts);
	scenario_files_free(scs, paths.n);
	path_list_free(&paths);
	return status;
}
