/* main: tcplab's command line: run and list here, check and show in
 * main_capture.c. Parses arguments, loads every scenario before running any (bad
 * input stops everything with exit status 2), runs scenarios in
 * threads of their own (each enters its own namespaces), judges them and decides
 * the exit status: 0 all expectations held, 1 some did not, 2 bad input or the lab
 * could not run. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "expect.h"
#include "main.h"
#include "proc.h"
#include "progress.h"
#include "report.h"
#include "report_html.h"
#include "report_json.h"
#include "report_junit.h"
#include "run.h"
#include "sandbox.h"
#include "scenario.h"

#define TCPLAB_VERSION "0.1.0"

const char main_usage_text[] =
	"usage: tcplab COMMAND [options] ARGS\n"
	"\n"
	"commands:\n"
	"  run [-j N] [--pcap-dir DIR] [--junit FILE] [--json FILE] [--html DIR] [-v] PATH...\n"
	"        run scenario files (.scn), or every .scn in a directory, each in its own\n"
	"        network namespace; capture each run to DIR/<name>.pcap (default pcap/)\n"
	"  check PCAP (--scenario FILE | --expect 'LINE'...) [--port N]\n"
	"        judge expectations about packets on a capture taken anywhere\n"
	"  show PCAP [--all] [--ascii] [--port N] [--time absolute|relative]\n"
	"        a ladder diagram of each TCP connection in a capture; each row starts\n"
	"        with its frame number (Wireshark: frame.number == N) and its time since\n"
	"        the connection began, the capture began (relative) or the UTC clock\n"
	"  list PATH...\n"
	"        the scenarios and their one-line summaries\n"
	"\n"
	"options:\n"
	"  -j, --jobs N       scenarios run at once (default: number of CPUs)\n"
	"      --pcap-dir DIR where captures go (default: pcap)\n"
	"      --junit FILE   JUnit XML for CI (Jenkins, GitLab, GitHub)\n"
	"      --json FILE    everything the run knows (docs/report-formats.md)\n"
	"      --html DIR     index.html and a page per scenario with sequence diagrams\n"
	"  -v, --verbose      show every verdict, not only the failed ones\n"
	"  -h, --help         this text;  --version  the version\n"
	"\n"
	"examples:\n"
	"  tcplab run scenarios/\n"
	"  tcplab run -j 1 scenarios/deadlock.scn\n"
	"  tcplab run --junit report.xml --html report/ scenarios/\n"
	"  tcplab check pcap/server_down.pcap --port 1060 --expect 'handshake refused'\n"
	"  tcplab show pcap/sixteen.pcap\n"
	"  tcplab show --time absolute --port 1060 capture.pcapng\n"
	"\n"
	"exit status: 0 every expectation held; 1 some did not; 2 bad input, or the lab\n"
	"could not run (the message names the file and line).\n";

int main_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "tcplab: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see tcplab --help)\n");
	return 2;
}

/* ---- finding scenario files ------------------------------------------------- */

struct path_list {
	char **items;
	size_t n;
	size_t cap;
};

static int path_list_add(struct path_list *l, const char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **grown = realloc(l->items, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->n] = strdup(path);
	return l->items[l->n++] ? 0 : -1;
}

static void path_list_free(struct path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Files as given; directories give their *.scn files, sorted. */
static int collect_paths(char **args, int n_args, struct path_list *out)
{
	for (int i = 0; i < n_args; i++) {
		struct stat st;

		if (stat(args[i], &st) < 0) {
			fprintf(stderr, "tcplab: %s: %s\n", args[i], strerror(errno));
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			struct path_list found = { 0 };
			DIR *dir = opendir(args[i]);
			struct dirent *de;

			if (dir == NULL) {
				fprintf(stderr, "tcplab: %s: %s\n", args[i], strerror(errno));
				return -1;
			}
			while ((de = readdir(dir)) != NULL) {
				char path[PATH_MAX];
				const char *sep = ends_with(args[i], "/") ? "" : "/";

				if (!ends_with(de->d_name, ".scn") || de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s%s%s", args[i], sep, de->d_name);
				path_list_add(&found, path);
			}
			closedir(dir);
			if (found.n == 0)
				fprintf(stderr, "tcplab: %s: no .scn files\n", args[i]);
			if (found.n > 0)
				qsort(found.items, found.n, sizeof(*found.items), compare_strings);
			for (size_t k = 0; k < found.n; k++)
				path_list_add(out, found.items[k]);
			path_list_free(&found);
		} else {
			path_list_add(out, args[i]);
		}
	}
	return 0;
}

/* Parses every file; prints every error. Returns -1 when any was bad. */
static int load_scenarios(const struct path_list *paths, struct scenario ***out)
{
	struct scenario **scs = calloc(paths->n + 1, sizeof(*scs));
	int bad = 0;

	if (scs == NULL)
		return -1;
	for (size_t i = 0; i < paths->n; i++) {
		struct lab_err err;

		if (scenario_parse_file(paths->items[i], &scs[i], &err) < 0 ||
		    expect_validate(scs[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		for (size_t k = 0; k < i; k++) {
			if (scs[k] != NULL && strcmp(scs[k]->name, scs[i]->name) == 0) {
				fprintf(stderr,
					"%s:1:1: another scenario is named \"%s\" (%s): their captures "
					"would overwrite each other\n",
					scs[i]->path, scs[i]->name, scs[k]->path);
				bad = 1;
			}
		}
	}
	*out = scs;
	return bad ? -1 : 0;
}

static void free_scenarios(struct scenario **scs, size_t n)
{
	for (size_t i = 0; scs != NULL && i < n; i++)
		scenario_free(scs[i]);
	free(scs);
}

/* ---- where the reference programs and the shim are ----------------------------- */

static bool is_home(const char *dir)
{
	char probe[2 * PATH_MAX];

	snprintf(probe, sizeof(probe), "%s/tools/ref/tcp_sixteen", dir);
	return access(probe, X_OK) == 0;
}

/* Where the reference programs and the shim are: $TCPLAB_HOME when set; an
 * installed tcplab's PREFIX/lib/tcplab (PREFIX/bin/tcplab is this binary, so an
 * installed tree can move as a whole); else this binary's runfiles tree under
 * `bazel run`, `bazel test`, or in bazel-bin. */
static int find_home(char *home, size_t len)
{
	const char *env_dirs[] = { "RUNFILES_DIR", "TEST_SRCDIR" };
	const char *v = getenv("TCPLAB_HOME");
	char exe[PATH_MAX];
	char candidate[PATH_MAX + 64];
	ssize_t n;

	if (v != NULL)
		return is_home(v) && realpath(v, home) != NULL ? 0 : -1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		snprintf(candidate, sizeof(candidate), "%.*s/../lib/tcplab",
			 slash ? (int)(slash - exe) : 0, exe);
		if (slash && is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	for (size_t i = 0; i < sizeof(env_dirs) / sizeof(env_dirs[0]); i++) {
		v = getenv(env_dirs[i]);
		if (v == NULL)
			continue;
		snprintf(candidate, sizeof(candidate), "%s/tcplab", v);
		if (is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	if (n > 0) {
		snprintf(candidate, sizeof(candidate), "%s.runfiles/tcplab", exe);
		if (is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	(void)len;
	return -1;
}

/* ---- run ------------------------------------------------------------------------ */

struct job {
	struct scenario *sc;
	const struct run_opts *run_opts;
	struct report_item item;
	struct run_record rec;
	bool started;
	bool done;
};

struct pool {
	struct job *jobs;
	size_t n;
	atomic_size_t next;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

static void *scenario_thread(void *arg)
{
	struct job *job = arg;
	struct report_item *item = &job->item;
	struct lab_err err;

	item->sc = job->sc;
	item->pcap_path = job->rec.pcap_path;
	if (run_scenario(job->sc, job->run_opts, &job->rec, &err) < 0) {
		item->status = REPORT_ERROR;
		item->rec = &job->rec;
		item->pcap_path = NULL;
		snprintf(item->error, sizeof(item->error), "%s", err.msg);
		return NULL;
	}
	item->rec = &job->rec;
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

/* A worker of -j N: takes the next scenario and runs it in a fresh thread, since
 * a thread that entered a scenario's namespaces cannot leave them. */
static void *pool_worker(void *arg)
{
	struct pool *pool = arg;
	size_t i;

	while ((i = atomic_fetch_add(&pool->next, 1)) < pool->n) {
		struct job *job = &pool->jobs[i];
		pthread_t t;

		pthread_mutex_lock(&pool->lock);
		job->started = true;
		pthread_cond_broadcast(&pool->changed);
		pthread_mutex_unlock(&pool->lock);
		if (pthread_create(&t, NULL, scenario_thread, job) == 0) {
			pthread_join(t, NULL);
			run_finish(&job->rec);
		} else {
			job->item.sc = job->sc;
			job->item.status = REPORT_ERROR;
			snprintf(job->item.error, sizeof(job->item.error), "cannot start a thread");
		}
		pthread_mutex_lock(&pool->lock);
		job->done = true;
		pthread_cond_broadcast(&pool->changed);
		pthread_mutex_unlock(&pool->lock);
	}
	return NULL;
}

/* Ctrl-C, SIGTERM and SIGHUP are taken by this thread alone (the others block
 * them), which asks every running scenario to stop: the scenarios kill their
 * programs and delete their partial captures, and the run ends with status 130. */
struct interrupter {
	sigset_t signals;
	atomic_bool stop;
	atomic_int signal;
};

static void *interrupt_thread(void *arg)
{
	struct interrupter *in = arg;
	int sig;

	if (sigwait(&in->signals, &sig) == 0) {
		atomic_store(&in->signal, sig);
		atomic_store(&in->stop, true);
	}
	return NULL;
}

/* Under pool->lock: the progress line with the scenarios running now. */
static void show_progress(struct pool *pool, struct progress *progress)
{
	const char *running[256];
	size_t n_running = 0, done = 0;

	if (!progress->enabled)
		return;
	for (size_t i = 0; i < pool->n; i++) {
		if (pool->jobs[i].done)
			done++;
		else if (pool->jobs[i].started && n_running < 256)
			running[n_running++] = pool->jobs[i].sc->name;
	}
	progress_update(progress, done, pool->n, running, n_running);
}

/* Under pool->lock: until a scenario starts or ends, or a quarter second passes
 * (so that the progress line's clock ticks). */
static void wait_a_little(struct pool *pool)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 250 * 1000 * 1000;
	if (until.tv_nsec >= 1000 * 1000 * 1000) {
		until.tv_sec++;
		until.tv_nsec -= 1000 * 1000 * 1000;
	}
	pthread_cond_timedwait(&pool->changed, &pool->lock, &until);
}

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

static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "pcap-dir", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "junit", required_argument, NULL, 'J' },
		{ "json", required_argument, NULL, 'O' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts ropts = { .color = isatty(1) && getenv("NO_COLOR") == NULL };
	struct run_opts opts = { .pcap_dir = "pcap", .snaplen = 65550 };
	const char *junit_path = NULL, *json_path = NULL, *html_dir = NULL;
	struct progress progress;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	struct path_list paths = { 0 };
	struct scenario **scs = NULL;
	char home[PATH_MAX], tools_dir[PATH_MAX + 16], shim_path[PATH_MAX + 64];
	struct pool pool = { .lock = PTHREAD_MUTEX_INITIALIZER,
			     .changed = PTHREAD_COND_INITIALIZER };
	pthread_t *workers = NULL;
	struct interrupter interrupter = { .stop = false, .signal = 0 };
	pthread_t interrupt_tid;
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
				return main_usage_error(
					"-j wants a number from 1 to 256, not \"%s\"", optarg);
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
		case 'h':
			fputs(main_usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return main_usage_error("%s", "run: which scenarios? (a file or a directory)");
	if (collect_paths(argv + optind, argc - optind, &paths) < 0)
		goto out;
	if (paths.n == 0) {
		fprintf(stderr, "tcplab: no scenario to run\n");
		goto out;
	}
	if (load_scenarios(&paths, &scs) < 0)
		goto out;
	if (find_home(home, sizeof(home)) < 0) {
		fprintf(stderr,
			"tcplab: cannot find the reference programs and the fault shim: "
			"not in $TCPLAB_HOME, nor in PREFIX/lib/tcplab beside an installed "
			"PREFIX/bin/tcplab, nor in Bazel's runfiles (run it with `bazel run "
			"//lab:tcplab -- ...`, or install it: docs in README)\n");
		goto out;
	}
	snprintf(tools_dir, sizeof(tools_dir), "%s/tools/ref", home);
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
	sigemptyset(&interrupter.signals);
	sigaddset(&interrupter.signals, SIGINT);
	sigaddset(&interrupter.signals, SIGTERM);
	sigaddset(&interrupter.signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &interrupter.signals, NULL);
	if (pthread_create(&interrupt_tid, NULL, interrupt_thread, &interrupter) == 0)
		pthread_detach(interrupt_tid);
	opts.interrupted = &interrupter.stop;
	pool.n = paths.n;
	pool.jobs = calloc(paths.n, sizeof(*pool.jobs));
	if ((size_t)jobs > paths.n)
		jobs = (long)paths.n;
	workers = calloc((size_t)jobs, sizeof(*workers));
	if (pool.jobs == NULL || workers == NULL)
		goto out;
	for (size_t i = 0; i < paths.n; i++) {
		pool.jobs[i].sc = scs[i];
		pool.jobs[i].run_opts = &opts;
	}
	progress_start(&progress, stdout);
	for (long w = 0; w < jobs; w++)
		pthread_create(&workers[w], NULL, pool_worker, &pool);
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
			show_progress(&pool, &progress);
			wait_a_little(&pool);
		}
	}
	pthread_mutex_unlock(&pool.lock);
	progress_clear(&progress);
	for (long w = 0; w < jobs; w++)
		pthread_join(workers[w], NULL);
	{
		struct report_item *items = calloc(pool.n, sizeof(*items));

		status = 0;
		for (size_t i = 0; i < pool.n; i++) {
			if (items != NULL)
				items[i] = pool.jobs[i].item;
			if (pool.jobs[i].item.status == REPORT_ERROR)
				status = 2;
			else if (pool.jobs[i].item.status == REPORT_FAIL && status == 0)
				status = 1;
		}
		if (items != NULL) {
			double wall_s = (double)(proc_now_us() - start_us) / 1e6;

			report_summary(stdout, items, pool.n, wall_s, &ropts);
			if (write_reports(items, pool.n, wall_s, junit_path, json_path, html_dir) <
			    0)
				status = 2;
		}
		free(items);
		if (atomic_load(&interrupter.stop)) {
			fprintf(stderr, "tcplab: interrupted by %s\n",
				strsignal(atomic_load(&interrupter.signal)));
			status = 130;
		}
	}
out:
	for (size_t i = 0; pool.jobs != NULL && i < pool.n; i++) {
		free(pool.jobs[i].item.verdicts);
		run_record_release(&pool.jobs[i].rec);
	}
	free(pool.jobs);
	free(workers);
	free_scenarios(scs, paths.n);
	path_list_free(&paths);
	return status;
}

/* ---- list ------------------------------------------------------------------------ */

static int cmd_list(int argc, char **argv)
{
	struct path_list paths = { 0 };
	struct scenario **scs = NULL;
	int status = 2;

	if (argc < 2)
		return main_usage_error("%s", "list: which scenarios? (a file or a directory)");
	if (collect_paths(argv + 1, argc - 1, &paths) < 0 || load_scenarios(&paths, &scs) < 0)
		goto out;
	for (size_t i = 0; i < paths.n; i++)
		printf("%-28s %s\n", scs[i]->name, scs[i]->summary);
	status = 0;
out:
	free_scenarios(scs, paths.n);
	path_list_free(&paths);
	return status;
}

int main(int argc, char **argv)
{
	const char *workdir = getenv("BUILD_WORKING_DIRECTORY");

	/* Under `bazel run`, paths on the command line are the user's, not runfiles'. */
	if (workdir != NULL && chdir(workdir) < 0) {
		fprintf(stderr, "tcplab: cannot enter %s: %s\n", workdir, strerror(errno));
		return 2;
	}
	if (argc < 2)
		return main_usage_error("%s", "which command? run, check, show or list");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(main_usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tcplab %s\n", TCPLAB_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return main_cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return main_cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	return main_usage_error("unknown command \"%s\" (run, check, show or list)", argv[1]);
}
