/* shim_explain: the driver's means to fail a fault line that never took effect
 * and to say why. shim_fault_fired reads, from a program's summed shim counters,
 * how many times one fault line acted; shim_explain puts into words why it did
 * not (the shim never loaded, a statically linked or Go program, no TCP socket,
 * io_uring, no call big enough, no socket reached BYTES ...), looking at the
 * executables the shim saw (shim_exe_inspect). Nothing here starts a process or
 * prints; the verdict is the driver's. */
#ifndef TCPLAB_SHIM_EXPLAIN_H
#define TCPLAB_SHIM_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/scenario/scenario.h"
#include "lab/shim/shim_config.h"
#include "lab/shim/shim_spec.h"

/* What an executable file says about whether LD_PRELOAD can reach its I/O. */
struct shim_exe {
	bool elf;            /* an ELF file for this machine's byte order */
	bool script;         /* starts with "#!": its interpreter is what runs */
	bool has_interp;     /* PT_INTERP: the dynamic loader starts it and preloads */
	bool has_dynamic;    /* PT_DYNAMIC (a static-pie has it without PT_INTERP) */
	bool needs_libc;     /* a DT_NEEDED libc.so.* */
	bool needs_liburing; /* a DT_NEEDED liburing.so.* */
	bool go;             /* a Go program (.go.buildinfo or .note.go.buildid section):
			      * it makes its socket calls itself, without libc */
	bool truncated;      /* a header points beyond the file: the rest is unknown */
};

/* Reads the headers of the executable at path (every read bounds-checked; a file
 * cut short or lying about its sizes is reported as far as it can be read). A
 * path without '/' is looked for in PATH. Returns 0, or -1 with err set when the
 * file cannot be opened or read. */
int shim_exe_inspect(const char *path, struct shim_exe *exe, struct lab_err *err);

/* True when LD_PRELOAD puts the shim in front of the program's socket calls:
 * a script (its interpreter decides), or a complete dynamic ELF that uses libc
 * and is not Go. */
bool shim_exe_preloadable(const struct shim_exe *exe);

/* In the two functions below, sum is the summed counters of the program that
 * faults[index] is about (faults[index].who), and faults the scenario's list.
 *
 * How many times fault faults[index] acted in its program: calls cut (send/recv max), calls delayed, calls failed (error:
 * the k-th error fault of a program is its k-th rule), sockets given buffers,
 * connections reset or closed. -1 when the shim does not do that kind of fault
 * (pause, kill: the driver's signals) or index is out of range. */
int64_t shim_fault_fired(const struct shim_stats *sum, const struct fault *faults, size_t n_faults,
			 size_t index);

/* One sentence into buf (always NUL-terminated) saying why fault faults[index]
 * never acted, from the counters and what the shim saw of the program (seen may
 * be NULL); names the executable when one is to blame. When the counters show it
 * acted, says so. */
void shim_explain(const struct shim_stats *sum, const struct shim_seen *seen,
		  const struct fault *faults, size_t n_faults, size_t index, char *buf, size_t len);

#endif
