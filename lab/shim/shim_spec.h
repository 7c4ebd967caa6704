/* shim_spec: the driver's side of the fault shim. Turns a scenario's faults for one
 * program into the TCPLAB_FAULTS string (format in shim_config.h) and sums the
 * stats file the shim's processes counted into. It starts no process; the driver
 * sets LD_PRELOAD, TCPLAB_FAULTS and TCPLAB_SHIM_STATS itself. */
#ifndef TCPLAB_SHIM_SPEC_H
#define TCPLAB_SHIM_SPEC_H

#include <stddef.h>

#include "lab/common/err.h"
#include "lab/scenario/scenario.h"
#include "lab/shim/shim_config.h"

/* Writes the TCPLAB_FAULTS string for the faults of `who` into buf (NUL-terminated;
 * "" when that side has no shim fault). FAULT_PAUSE and FAULT_KILL are skipped: the
 * driver does them with signals. Returns 0, or -1 with err set when buf is too
 * small, a value is negative, a call name is unknown or there are more than
 * SHIM_MAX_ERRORS error faults. */
int shim_spec_format(const struct fault *faults, size_t n_faults, enum scenario_who who, char *buf,
		     size_t len, struct lab_err *err);

/* Makes path name no stats file, so that the next run starts from zero: unlinks it
 * (a process of an earlier run still holding its slot keeps writing to the old,
 * unlinked file and cannot disturb the new one). The shim creates the file when the
 * first process loads it. Returns 0 (also when there was no file), or -1 with err. */
int shim_stats_clear(const char *path, struct lab_err *err);

/* Sums the counters of every slot of the stats file at path into *sum (zeroed
 * first; sum->processes = slots claimed). A missing or empty file means no process
 * loaded the shim: all zero, returns 0. Returns -1 with err set when the file
 * cannot be read or is not a stats file. */
int shim_stats_read(const char *path, struct shim_stats *sum, struct lab_err *err);

/* The programs behind a stats file, for explaining a fault that did nothing
 * (shim_explain.h): the executable of each image that loaded the shim, and the
 * paths those images asked to exec (an exec that failed is not listed). */
#define SHIM_SEEN_MAX 16
struct shim_seen {
	size_t n_images; /* kept in images[], at most SHIM_SEEN_MAX */
	char images[SHIM_SEEN_MAX][SHIM_PATH_BYTES];
	size_t n_execs; /* kept in execs[], at most SHIM_SEEN_MAX */
	char execs[SHIM_SEEN_MAX][SHIM_PATH_BYTES];
};

/* shim_stats_read, and what the slots say of the programs into *seen (zeroed
 * first). The same return values. */
int shim_stats_read_seen(const char *path, struct shim_stats *sum, struct shim_seen *seen,
			 struct lab_err *err);

#endif
