/* cmd_explore: `tcplab explore`: runs each scenario many times, each run under a
 * schedule of legal perturbations drawn from a seed (lab/explore), its
 * expectations the property. On the first failing run it shrinks the schedule
 * (re-running each candidate), prints the smallest as fault lines, the failed
 * expectation, the seed and the commands that replay it. `--replay SEED:RUN`
 * runs one drawn run again; `--add LINE` runs the scenario once with fault lines
 * added. Exit status: 0 no run failed, 1 a run failed, 2 bad input or the lab
 * could not run, 130 interrupted. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/cli/commands.h"
#include "lab/cli/explore_runs.h"
#include "lab/cli/home.h"
#include "lab/cli/pool.h"
#include "lab/cli/progress.h"
#include "lab/cli/scenario_files.h"
#include "lab/cli/usage.h"
#include "lab/explore/explore.h"
#include "lab/run/proc.h"
#include "lab/run/sandbox.h"

#define MAX_ADD_LINES 32

struct explore_opts {
	uint64_t runs;
	uint64_t seed;
	int64_t time_us; /* 0: no limit */
	int jobs;
	const char *json_path;
	const char *pcap_dir;
	bool replay;
	uint64_t replay_seed, replay_run;
	const char *add[MAX_ADD_LINES];
	int n_add;
	struct report_opts ropts;
};

/* What one scenario's exploration found, for the summary and --json. */
struct finding {
	const struct scenario *sc;
	uint64_t runs_done;
	double wall_s;
	struct explore_counts counts;
	uint64_t timed_out; /* runs that reached the timeout: neither passed nor failed */
	uint64_t first_timed_out;
	bool failed;
	bool error;
	uint64_t failing_run;
	struct explore_schedule drawn;
	struct explore_schedule shrunk;
	int shrink_runs;
	bool reproduced; /* the shrunk schedule failed again when run last */
	int failed_line;
	char failed_source[512];
	char failed_text[512];
	char error_text[1024];
};

/* "30s", "2m", "500ms": a whole number and a unit. */
static int parse_duration(const char *text, int64_t *us)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || v <= 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		*us = v * 1000;
	else if (strcmp(end, "s") == 0)
		*us = v * 1000000;
	else if (strcmp(end, "m") == 0)
		*us = v * 60000000;
	else if (strcmp(end, "h") == 0)
		*us = v * 3600000000LL;
	else
		return -1;
	return 0;
}

static int parse_u64(const char *text, uint64_t *out)
{
	char *end;

	errno = 0;
	if (text[0] < '0' || text[0] > '9')
		return -1;
	*out = strtoull(text, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Shell-quoted for a command line a user pastes: '...' with ' as '\''. */
static void put_quoted(FILE *out, const char *text)
{
	if (strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:") ==
	    strlen(text)) {
		fputs(text, out);
		return;
	}
	fputc('\'', out);
	for (const char *c = text; *c; c++) {
		if (*c == '\'')
			fputs("'\\''", out);
		else
			fputc(*c, out);
	}
	fputc('\'', out);
}

static void print_schedule(FILE *out, const struct explore_schedule *s, const char *indent)
{
	char line[200];

	for (size_t i = 0; explore_schedule_line(s, i, line, sizeof(line)); i++)
		fprintf(out, "%s%s\n", indent, line);
	if (s->n + s->n_wire == 0)
		fprintf(out, "%s(nothing: the scenario fails as written)\n", indent);
}

static void print_counts(FILE *out, const struct scenario *sc, const struct explore_counts *c)
{
	for (int who = 0; who < 2; who++) {
		bool any = false;

		if (who == WHO_SERVER && sc->server.command == NULL)
			continue;
		fprintf(out, "  %-6s ", scenario_who_name(who));
		for (int k = 0; k < EXPLORE_KINDS; k++) {
			if (c->drawn[who][k] == 0)
				continue;
			fprintf(out, "%s%s %" PRIu64 " (took effect in %" PRIu64 ")",
				any ? ", " : "", scenario_explore_words[k], c->drawn[who][k],
				c->fired[who][k]);
			any = true;
		}
		fprintf(out, "%s\n", any ? "" : "nothing drawn (explore off or every kind set)");
	}
	if (sc->link.line != 0) {
		bool any = false;

		fprintf(out, "  %-6s ", "link");
		for (int k = 0; k < EXPLORE_LINK_KINDS; k++) {
			if (c->link_drawn[k] == 0)
				continue;
			fprintf(out, "%s%s %" PRIu64 " (took effect in %" PRIu64 ")",
				any ? ", " : "", scenario_explore_link_words[k], c->link_drawn[k],
				c->link_fired[k]);
			any = true;
		}
		fprintf(out, "%s\n",
			any ? "" : "nothing drawn (explore link off, every kind set or measured)");
	}
}

static void tick(struct search *s, void *arg)
{
	struct progress *p = arg;
	char names[8][32];
	const char *running[8];
	int n = s->n_running < 8 ? s->n_running : 8;

	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "run %" PRIu64, s->running[i]);
		running[i] = names[i];
	}
	progress_update(p, (size_t)s->done, (size_t)s->runs, running, (size_t)n);
}

/* The same failure: a run the lab could do, whose first failed expectation is on
 * the same line. */
static bool same_failure(const struct attempt *a, int line)
{
	return !a->error && a->failed && a->failed_line == line;
}

/* Runs the schedule once; true when it failed the same way. */
static bool try_schedule(const struct scenario *sc, const struct explore_schedule *s,
			 const struct run_opts *opts, int line, int step)
{
	struct attempt a;
	char name[300];
	bool failed;

	snprintf(name, sizeof(name), "%s.shrink-%d", sc->name, step);
	if (attempt_run(&a, sc, s, name, opts, false) < 0) {
		attempt_release(&a);
		return false;
	}
	failed = same_failure(&a, line);
	attempt_release(&a);
	return failed;
}

/* Shrinks the failing attempt, runs the result once more (its capture kept as
 * NAME.explore.pcap) and prints what was found. */
static void shrink_and_report(const struct scenario *sc, const struct run_opts *opts,
			      const struct explore_opts *eo, struct attempt *failing,
			      struct finding *f, struct progress *progress)
{
	struct explore_shrink sh;
	struct explore_schedule cand;
	struct attempt last;
	char name[300], line[200];
	int step = 0;

	f->failed = true;
	f->drawn = failing->sched;
	f->failed_line = failing->failed_line;
	snprintf(f->failed_source, sizeof(f->failed_source), "%s",
		 failing->failed_source ? failing->failed_source : "");
	snprintf(f->failed_text, sizeof(f->failed_text), "%s",
		 failing->failed_text ? failing->failed_text : "");
	explore_shrink_start(&sh, &failing->sched);
	while (explore_shrink_next(&sh, &cand)) {
		bool failed;

		if (opts->interrupted != NULL && atomic_load(opts->interrupted))
			break;
		{
			const char *what[1] = { "shrinking" };

			progress_update(progress, (size_t)step, (size_t)step + 1, what, 1);
		}
		failed = try_schedule(sc, &cand, opts, f->failed_line, step++);
		explore_shrink_result(&sh, failed);
	}
	progress_clear(progress);
	f->shrunk = sh.best;
	f->shrink_runs = step;
	snprintf(name, sizeof(name), "%s.explore", sc->name);
	if (attempt_run(&last, sc, &f->shrunk, name, opts, true) == 0 &&
	    same_failure(&last, f->failed_line)) {
		f->reproduced = true;
		snprintf(f->failed_text, sizeof(f->failed_text), "%s", last.failed_text);
		report_item(stdout, &last.item, &eo->ropts);
	} else {
		f->reproduced = false;
		report_item(stdout, &failing->item, &eo->ropts);
	}
	attempt_release(&last);
	printf("  found at run %" PRIu64 " of seed %" PRIu64 " (%" PRIu64 " runs done), "
	       "drawn:\n",
	       f->failing_run, eo->seed, f->runs_done);
	print_schedule(stdout, &f->drawn, "    ");
	printf("  shrunk in %d runs to%s:\n", f->shrink_runs,
	       f->reproduced ? "" : " (but it did not fail again when run last: flaky?)");
	print_schedule(stdout, &f->shrunk, "    ");
	printf("  failed: %s:%d: %s\n          %s\n", sc->path, f->failed_line, f->failed_source,
	       f->failed_text);
	printf("  replay the run as drawn:  tcplab explore --replay %" PRIu64 ":%" PRIu64 " ",
	       eo->seed, f->failing_run);
	put_quoted(stdout, sc->path);
	printf("\n  replay the shrunk run:    tcplab explore");
	for (size_t i = 0; explore_schedule_line(&f->shrunk, i, line, sizeof(line)); i++) {
		printf(" --add ");
		put_quoted(stdout, line);
	}
	printf(" ");
	put_quoted(stdout, sc->path);
	printf("\n  or paste the lines above into the scenario; its capture: %s/%s.explore.pcap\n",
	       opts->pcap_dir, sc->name);
}

/* One run, as --replay or --add ask; prints it like `tcplab run`. */
static int run_once(const struct scenario *sc, const struct run_opts *opts,
		    const struct explore_opts *eo)
{
	struct explore_schedule s;
	struct attempt a;
	char name[300];
	int status;

	memset(&s, 0, sizeof(s));
	if (eo->replay)
		explore_draw(sc, eo->replay_seed, eo->replay_run, &s);
	snprintf(name, sizeof(name), "%s.explore", sc->name);
	if (attempt_run(&a, sc, &s, name, opts, true) < 0) {
		fprintf(stderr, "tcplab: out of memory\n");
		attempt_release(&a);
		return 2;
	}
	if (eo->replay) {
		printf("replay of run %" PRIu64 " of seed %" PRIu64 ":\n", eo->replay_run,
		       eo->replay_seed);
		print_schedule(stdout, &s, "  ");
	}
	report_item(stdout, &a.item, &eo->ropts);
	status = a.error ? 2 : a.failed || a.timed_out ? 1 : 0;
	attempt_release(&a);
	return status;
}

static int explore_one(const struct scenario *sc, const struct run_opts *opts,
		       const struct explore_opts *eo, struct finding *f)
{
	struct search s = { .sc = sc,
			    .opts = opts,
			    .seed = eo->seed,
			    .runs = eo->runs,
			    .interrupted = opts->interrupted,
			    .lock = PTHREAD_MUTEX_INITIALIZER,
			    .changed = PTHREAD_COND_INITIALIZER };
	struct progress progress;
	int64_t start_us = proc_now_us();

	memset(f, 0, sizeof(*f));
	f->sc = sc;
	if (eo->time_us > 0)
		s.deadline_us = start_us + eo->time_us;
	progress_start(&progress, stdout);
	search_run(&s, eo->jobs, tick, &progress);
	progress_clear(&progress);
	f->runs_done = s.done;
	f->counts = s.counts;
	f->timed_out = s.timed_out;
	f->first_timed_out = s.first_timed_out;
	f->wall_s = (double)(proc_now_us() - start_us) / 1e6;
	if (s.errored != NULL) {
		f->error = true;
		snprintf(f->error_text, sizeof(f->error_text), "%s", s.errored->item.error);
		printf("ERROR %s: the lab could not run it: %s\n", sc->path, f->error_text);
		attempt_release(s.errored);
		free(s.errored);
	}
	if (s.failing != NULL) {
		f->failing_run = s.failing_run;
		printf("FAIL  %s: run %" PRIu64 " of seed %" PRIu64 " failed; shrinking\n",
		       sc->path, s.failing_run, eo->seed);
		fflush(stdout);
		if (!f->error)
			shrink_and_report(sc, opts, eo, s.failing, f, &progress);
		attempt_release(s.failing);
		free(s.failing);
	} else if (!f->error && f->runs_done > 0 && f->timed_out == f->runs_done) {
		printf("INCONCLUSIVE  %s: every one of the %" PRIu64 " runs reached the timeout "
		       "(%.1f s)\n",
		       sc->path, f->runs_done, f->wall_s);
	} else if (!f->error) {
		printf("PASS  %s: %" PRIu64 " runs of seed %" PRIu64 ", none failed (%.1f s, %.1f "
		       "runs/s)\n",
		       sc->path, f->runs_done, eo->seed, f->wall_s,
		       f->wall_s > 0 ? (double)f->runs_done / f->wall_s : 0.0);
	}
	if (f->timed_out > 0) {
		printf("  %" PRIu64 " of the runs reached the scenario's timeout: slowed down by "
		       "their schedule or stuck, the lab cannot tell which, so they count as "
		       "neither passed nor failed; the first: tcplab explore --replay %" PRIu64
		       ":%" PRIu64 " ",
		       f->timed_out, eo->seed, f->first_timed_out);
		put_quoted(stdout, sc->path);
		printf("\n");
	}
	printf("  perturbations drawn, in runs:\n");
	print_counts(stdout, sc, &f->counts);
	fflush(stdout);
	return f->error || (!f->failed && f->runs_done > 0 && f->timed_out == f->runs_done) ? 2
	       : f->failed                                                                  ? 1
											    : 0;
}

/* ---- --json ------------------------------------------------------------------ */

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", out);
		else if (*c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

static void json_schedule(FILE *out, const struct explore_schedule *s)
{
	char line[200];

	fputc('[', out);
	for (size_t i = 0; explore_schedule_line(s, i, line, sizeof(line)); i++) {
		if (i > 0)
			fputs(", ", out);
		json_string(out, line);
	}
	fputc(']', out);
}

static int write_json(const char *path, const struct explore_opts *eo, const struct finding *fs,
		      size_t n)
{
	FILE *out = fopen(path, "w");

	if (out == NULL) {
		fprintf(stderr, "tcplab: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(out, "{\n  \"tool\": \"tcplab explore\",\n  \"seed\": %" PRIu64 ",\n", eo->seed);
	fprintf(out, "  \"runs_asked\": %" PRIu64 ",\n  \"scenarios\": [\n", eo->runs);
	for (size_t i = 0; i < n; i++) {
		const struct finding *f = &fs[i];

		fputs("    {\"path\": ", out);
		json_string(out, f->sc->path);
		fprintf(out, ", \"runs\": %" PRIu64 ", \"seconds\": %.3f, ", f->runs_done,
			f->wall_s);
		fprintf(out, "\"timed_out\": %" PRIu64 ", ", f->timed_out);
		fprintf(out, "\"result\": \"%s\",\n     \"tried\": {",
			f->error                                           ? "error"
			: f->failed                                        ? "fail"
			: f->runs_done > 0 && f->timed_out == f->runs_done ? "inconclusive"
									   : "pass");
		for (int who = 0; who < 2; who++) {
			fprintf(out, "%s\"%s\": {", who ? ", " : "", scenario_who_name(who));
			for (int k = 0; k < EXPLORE_KINDS; k++)
				fprintf(out,
					"%s\"%s\": {\"drawn\": %" PRIu64
					", \"took_effect\": %" PRIu64 "}",
					k ? ", " : "", scenario_explore_words[k],
					f->counts.drawn[who][k], f->counts.fired[who][k]);
			fputc('}', out);
		}
		if (f->sc->link.line != 0) {
			fputs(", \"link\": {", out);
			for (int k = 0; k < EXPLORE_LINK_KINDS; k++)
				fprintf(out,
					"%s\"%s\": {\"drawn\": %" PRIu64
					", \"took_effect\": %" PRIu64 "}",
					k ? ", " : "", scenario_explore_link_words[k],
					f->counts.link_drawn[k], f->counts.link_fired[k]);
			fputc('}', out);
		}
		fputc('}', out);
		if (f->error) {
			fputs(",\n     \"error\": ", out);
			json_string(out, f->error_text);
		}
		if (f->failed) {
			fprintf(out, ",\n     \"failing_run\": %" PRIu64 ", \"drawn\": ",
				f->failing_run);
			json_schedule(out, &f->drawn);
			fprintf(out, ",\n     \"shrink_runs\": %d, \"shrunk\": ", f->shrink_runs);
			json_schedule(out, &f->shrunk);
			fprintf(out, ", \"reproduced\": %s,\n     \"expectation\": {\"line\": %d, ",
				f->reproduced ? "true" : "false", f->failed_line);
			fputs("\"source\": ", out);
			json_string(out, f->failed_source);
			fputs(", \"verdict\": ", out);
			json_string(out, f->failed_text);
			fprintf(out, "},\n     \"replay\": \"--replay %" PRIu64 ":%" PRIu64 "\"",
				eo->seed, f->failing_run);
		}
		fprintf(out, "}%s\n", i + 1 < n ? "," : "");
	}
	fputs("  ]\n}\n", out);
	if (fclose(out) != 0) {
		fprintf(stderr, "tcplab: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- options and the loop over scenarios ------------------------------------- */

static int parse_options(int argc, char **argv, struct explore_opts *eo)
{
	static const struct option longopts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", required_argument, NULL, 'O' },
		{ "replay", required_argument, NULL, 'R' },
		{ "add", required_argument, NULL, 'a' },
		{ "pcap-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lab_err err;
	int c;

	while ((c = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
		char *end;
		long jobs;

		switch (c) {
		case 'r':
			if (parse_u64(optarg, &eo->runs) < 0 || eo->runs == 0 ||
			    eo->runs > 100000000)
				return cli_usage_error(
					"--runs wants a number from 1 up, not \"%s\"", optarg);
			break;
		case 's':
			if (parse_u64(optarg, &eo->seed) < 0)
				return cli_usage_error("--seed wants a number, not \"%s\"", optarg);
			break;
		case 't':
			if (parse_duration(optarg, &eo->time_us) < 0)
				return cli_usage_error(
					"--time wants a duration such as 30s, 5m or 500ms, not \"%s\"",
					optarg);
			break;
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*end != '\0' || jobs < 1 || jobs > 256)
				return cli_usage_error(
					"-j wants a number from 1 to 256, not \"%s\"", optarg);
			eo->jobs = (int)jobs;
			break;
		case 'O':
			eo->json_path = optarg;
			break;
		case 'R':
			if (explore_parse_replay(optarg, &eo->replay_seed, &eo->replay_run, &err) <
			    0)
				return cli_usage_error("%s", err.msg);
			eo->replay = true;
			break;
		case 'a':
			if (eo->n_add >= MAX_ADD_LINES)
				return cli_usage_error("%s", "at most 32 --add lines");
			eo->add[eo->n_add++] = optarg;
			break;
		case 'p':
			eo->pcap_dir = optarg;
			break;
		case 'h':
			fputs(cli_usage_text, stdout);
			return 0;
		default:
			return 2;
		}
	}
	return -1; /* go on */
}

/* The scenario at path with lines added at its end (--add). Prints the error. */
static struct scenario *load_with_lines(const char *path, const char *const *lines, int n)
{
	struct scenario *sc = NULL;
	struct lab_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	FILE *in = fopen(path, "r");
	char buf[4096];
	size_t got;

	if (mem == NULL || in == NULL) {
		fprintf(stderr, "tcplab: %s: cannot read: %s\n", path, strerror(errno));
		goto out;
	}
	while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, got, mem);
	fputs("\n", mem);
	for (int i = 0; i < n; i++)
		fprintf(mem, "%s\n", lines[i]);
	fclose(mem);
	mem = NULL;
	if (scenario_parse_text(path, text, &sc, &err) < 0) {
		fprintf(stderr, "%s (a line given with --add is after the file's last line)\n",
			err.msg);
		sc = NULL;
	}
out:
	if (mem != NULL)
		fclose(mem);
	if (in != NULL)
		fclose(in);
	free(text);
	return sc;
}

int cmd_explore(int argc, char **argv)
{
	struct explore_opts eo = { .runs = 100,
				   .seed = EXPLORE_DEFAULT_SEED,
				   .jobs = (int)sysconf(_SC_NPROCESSORS_ONLN),
				   .ropts = { .color = isatty(1) && getenv("NO_COLOR") == NULL } };
	struct run_opts opts = { .pcap_dir = "pcap", .snaplen = 65550 };
	struct interrupter interrupter = { .stop = false, .signal = 0 };
	char home[PATH_MAX], tools_dir[PATH_MAX + 16], shim_path[PATH_MAX + 64];
	struct path_list paths = { 0 };
	struct scenario **scs = NULL;
	struct finding *findings = NULL;
	struct lab_err err;
	int status = 2, rc;

	rc = parse_options(argc, argv, &eo);
	if (rc >= 0)
		return rc;
	if (eo.pcap_dir != NULL)
		opts.pcap_dir = eo.pcap_dir;
	if (eo.jobs < 1)
		eo.jobs = 1;
	if (optind >= argc)
		return cli_usage_error("%s", "explore: which scenarios? (a file or a directory)");
	if (scenario_files_collect(argv + optind, argc - optind, &paths) < 0)
		goto out;
	if (paths.n == 0) {
		fprintf(stderr, "tcplab: no scenario to explore\n");
		goto out;
	}
	if (eo.n_add > 0) {
		scs = calloc(paths.n, sizeof(*scs));
		if (scs == NULL)
			goto out;
		for (size_t i = 0; i < paths.n; i++)
			if ((scs[i] = load_with_lines(paths.items[i], eo.add, eo.n_add)) == NULL)
				goto out;
	} else if (scenario_files_load(&paths, &scs) < 0) {
		goto out;
	}
	if (cli_find_home(home, sizeof(home)) < 0) {
		fprintf(stderr,
			"tcplab: cannot find the reference programs and the fault shim "
			"(run it with `bazel run //lab:tcplab -- ...`, or set TCPLAB_HOME)\n");
		goto out;
	}
	snprintf(tools_dir, sizeof(tools_dir), "%s/tools/ref", home);
	snprintf(shim_path, sizeof(shim_path), "%s/lab/shim/libtcplab_shim.so", home);
	opts.tools_dir = tools_dir;
	opts.shim_path = shim_path;
	if (mkdir(opts.pcap_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "tcplab: cannot make %s: %s\n", opts.pcap_dir, strerror(errno));
		goto out;
	}
	if (sandbox_prepare_process(&err) < 0) {
		fprintf(stderr, "tcplab: %s\n", err.msg);
		goto out;
	}
	interrupter_start(&interrupter);
	opts.interrupted = &interrupter.stop;
	status = 0;
	if (eo.replay || eo.n_add > 0) {
		for (size_t i = 0; i < paths.n; i++) {
			rc = run_once(scs[i], &opts, &eo);
			if (rc > status)
				status = rc;
		}
		goto interrupted;
	}
	findings = calloc(paths.n, sizeof(*findings));
	if (findings == NULL) {
		status = 2;
		goto out;
	}
	for (size_t i = 0; i < paths.n && !atomic_load(&interrupter.stop); i++) {
		rc = explore_one(scs[i], &opts, &eo, &findings[i]);
		if (rc > status)
			status = rc;
	}
	if (eo.json_path != NULL && write_json(eo.json_path, &eo, findings, paths.n) < 0)
		status = 2;
interrupted:
	if (atomic_load(&interrupter.stop)) {
		fprintf(stderr, "tcplab: interrupted by %s\n",
			strsignal(atomic_load(&interrupter.signal)));
		status = 130;
	}
out:
	free(findings);
	scenario_files_free(scs, paths.n);
	path_list_free(&paths);
	return status;
}
