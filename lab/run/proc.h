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

/* CLOCK_MONOTONIC in microseconds. */
int64_t proc_now_us(void);

/* Starts COMMAND with envp in directory cwd. */
int proc_spawn(struct proc *p, const char *command, const char *cwd, char *const envp[],
	       struct lab_err *err);

/* The same, in the network namespace netns_fd (setns before exec; -1: the caller's). */
int proc_spawn_in(struct proc *p, const char *command, const char *cwd, char *const envp[],
		  int netns_fd, struct lab_err *err);

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
