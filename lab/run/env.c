/* env: the programs' environments (env.h). */
#include "lab/run/env.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/shim/shim_spec.h"

extern char **environ;

/* Appends "NAME=value" to extra[*n]; -1 when out of memory (extra[*n] stays NULL). */
__attribute__((format(printf, 3, 4))) static int add_env(char **extra, size_t *n, const char *fmt,
							 ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&extra[*n], fmt, ap);
	va_end(ap);
	if (rc < 0) {
		extra[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

/* The environment of one program: the lab's own, plus HOST, PORT, PATH with the
 * reference programs first, unbuffered Python output (a killed program's last
 * lines still reach the report), and the fault shim where faults name it (before
 * any LD_PRELOAD the user set). */
char **run_env_make(struct run_env *e, const struct scenario *sc, const struct run_opts *opts,
		    enum scenario_who who, const char *stats_path, struct lab_err *err)
{
	char faults[2048];
	char **extra = e->strings[who];
	size_t n_extra = 0;
	size_t n_env = 0;
	char **env;
	const char *path = getenv("PATH");
	const char *preload = getenv("LD_PRELOAD");
	const char *asan = getenv("ASAN_OPTIONS");

	if (shim_spec_format(sc->faults, sc->n_faults, who, faults, sizeof(faults), err) < 0)
		return NULL;
	if (add_env(extra, &n_extra, "HOST=%s", sc->host) < 0 ||
	    add_env(extra, &n_extra, "PORT=%d", sc->port) < 0 ||
	    add_env(extra, &n_extra, "PATH=%s:%s", opts->tools_dir, path ? path : "/usr/bin:/bin") <
		    0 ||
	    add_env(extra, &n_extra, "PYTHONUNBUFFERED=1") < 0)
		goto oom;
	if (faults[0] != '\0') {
		if (add_env(extra, &n_extra, "LD_PRELOAD=%s%s%s", opts->shim_path,
			    preload ? ":" : "", preload ? preload : "") < 0 ||
		    add_env(extra, &n_extra, "TCPLAB_FAULTS=%s", faults) < 0 ||
		    add_env(extra, &n_extra, "TCPLAB_SHIM_STATS=%s", stats_path) < 0)
			goto oom;
		/* A program built with ASan refuses a library preloaded before its
		 * runtime unless told not to check; other programs ignore this. */
		if (add_env(extra, &n_extra, "ASAN_OPTIONS=verify_asan_link_order=0%s%s",
			    asan ? ":" : "", asan ? asan : "") < 0)
			goto oom;
	}
	while (environ[n_env] != NULL)
		n_env++;
	env = calloc(n_env + n_extra + 1, sizeof(*env));
	if (env == NULL)
		goto oom;
	n_env = 0;
	for (char **e = environ; *e != NULL; e++) {
		bool replaced = false;

		for (size_t i = 0; i < n_extra; i++) {
			size_t name_len = strcspn(extra[i], "=") + 1;

			if (strncmp(*e, extra[i], name_len) == 0)
				replaced = true;
		}
		if (!replaced)
			env[n_env++] = *e;
	}
	for (size_t i = 0; i < n_extra; i++)
		env[n_env++] = extra[i];
	return env;
oom:
	lab_err_set(err, "out of memory");
	return NULL;
}

bool run_env_faulted(const struct scenario *sc, enum scenario_who who)
{
	char faults[2048];
	struct lab_err ignored;

	return shim_spec_format(sc->faults, sc->n_faults, who, faults, sizeof(faults), &ignored) ==
		       0 &&
	       faults[0] != '\0';
}

void run_env_free(struct run_env *e)
{
	for (int who = 0; who < 2; who++)
		for (size_t i = 0; i < sizeof(e->strings[who]) / sizeof(e->strings[who][0]); i++) {
			free(e->strings[who][i]);
			e->strings[who][i] = NULL;
		}
}
