/* scenario_files: which scenario files a command line names (files as given,
 * directories give their *.scn files, sorted) and loading them all before any
 * runs: every error is printed, with FILE:LINE:COL, and bad input stops everything. */
#ifndef TCPLAB_SCENARIO_FILES_H
#define TCPLAB_SCENARIO_FILES_H

#include <stddef.h>

#include "lab/scenario/scenario.h"

struct path_list {
	char **items;
	size_t n;
	size_t cap;
};

void path_list_free(struct path_list *l);

/* Appends the scenario files args name to out. Prints why and returns -1 when an
 * argument cannot be read or memory runs out. */
int scenario_files_collect(char **args, int n_args, struct path_list *out);

/* Parses every file (and checks its packet filters); prints every error. *out
 * gets paths->n entries (NULL where a file was bad). Returns -1 when any was bad. */
int scenario_files_load(const struct path_list *paths, struct scenario ***out);
void scenario_files_free(struct scenario **scs, size_t n);

/* Each program's command, where its first word is a plain program name or path
 * (not a shell word the lab cannot judge: a builtin, a variable, an assignment,
 * quotes): it must be found, as the program's shell will look, in the scenario's
 * directory for a path, else on tools_dir and PATH. Prints "FILE:LINE:COL: client
 * command not found: NAME" for each that is not, and returns -1 then. */
int scenario_files_check_commands(struct scenario **scs, size_t n, const char *tools_dir);

#endif
