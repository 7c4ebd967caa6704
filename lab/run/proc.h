/* proc: the programs of a scenario. Each runs as `/bin/sh -c COMMAND` in its own
 * process group, stdin from /dev/null, stdout and stderr kept (up to a cap) per
 * process. Waiting is by pidfd, so a caller can poll processes beside other fds. */
#ifndef TCPLAB_PROC_H
#define TCPLAB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/common/err.h"
#include "lab/record/record.h"

/* Raises the calling thread's priority by `by` nice steps (when allowed: root),
 * so that the capture it reads is not starved by the programs on a loaded
 * machine (the kernel's ring fills when its reader waits). Programs it spawns
 * afterwards get the priority back. */
void proc_raise_priority(int by);

/* CLOCK_MONOTONIC in microseconds. */
int64_t proc_now_us(void);

/* Starts COMMAND with envp in directory cwd. */
int proc_spawn(struct proc *p, const char *command, const char *cwd, char *const envp[],
	       struct lab_err *err);

/* The same, in the network namespace netns_fd (setns before exec; -1: the caller's). */
int proc_spawn_in(struct proc *p, const char *command, const char *cwd, char *const envp[],
		  int netns_fd, struct lab_err *err);

/* Makes the output streams search, as they flow, for the TEXT of each `WHO
 * stdout/stderr [not] contains "TEXT"` of sc about who (struct proc_watch), so
 * the verdict sees the whole output, not only what is kept. Call right after
 * proc_spawn, before any output is read. A TEXT it cannot watch (out of memory,
 * longer than PROC_WATCH_MAX_BYTES) is judged on the kept output alone. */
void proc_watch_outputs(struct proc *p, const struct scenario *sc, enum scenario_who who);

/* One stream's search for text (proc_watch_outputs does this for a scenario);
 * -1 when it cannot be watched. proc_watch_feed gives it the bytes of one read;
 * proc_output_free frees a stream's kept bytes and searches. */
int proc_output_watch(struct proc_output *o, const char *text);
void proc_watch_feed(struct proc_watch *w, const char *buf, size_t n);
void proc_output_free(struct proc_output *o);

/* Reads what the pipes hold now (non-blocking), at most 1 MiB a stream. */
void proc_read_output(struct proc *p);

/* The same up to 16 MiB a stream: what is left once the process has ended. */
void proc_drain_output(struct proc *p);

/* Reaps the process if it has ended (non-blocking); true when it has. */
bool proc_poll_exit(struct proc *p);

/* Sends sig to the whole process group. */
void proc_signal(struct proc *p, int sig);

/* SIGTERM to the group, then SIGKILL if still running after grace_ms; reaps. */
void proc_stop(struct proc *p, int grace_ms);

/* Closes the pipes and pidfd and frees the output; the process must be reaped. */
void proc_release(struct proc *p);

#endif
