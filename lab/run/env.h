/* env: the environment a program of the scenario starts with: the lab's own,
 * plus HOST, PORT, PATH with the reference programs first, unbuffered Python
 * output, and the fault shim (LD_PRELOAD, TCPLAB_FAULTS, TCPLAB_SHIM_STATS) where
 * the scenario's faults name that program. */
#ifndef TCPLAB_ENV_H
#define TCPLAB_ENV_H

#include "lab/common/err.h"
#include "lab/run/run.h"
#include "lab/scenario/scenario.h"

/* The strings an environment adds, per program (freed by run_env_free). */
struct run_env {
	char *strings[2][10];
};

/* The environment of program `who` (an array to pass to exec; free() the array,
 * not its strings). stats_path: where that program's shim counts, used only when
 * it has faults. NULL with err set on failure. */
char **run_env_make(struct run_env *e, const struct scenario *sc, const struct run_opts *opts,
		    enum scenario_who who, const char *stats_path, struct lab_err *err);

/* True when the scenario's faults preload the shim into `who`. */
bool run_env_faulted(const struct scenario *sc, enum scenario_who who);

void run_env_free(struct run_env *e);

#endif
