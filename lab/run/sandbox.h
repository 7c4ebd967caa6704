/* sandbox: the private namespaces a scenario runs in. The calling thread enters a
 * new network namespace (only lo, brought up), a new PID namespace for the
 * processes it starts, whose init reaps orphans and takes every process with it
 * when it dies (nothing outlives a scenario, whatever happens), and a private
 * mount namespace where /proc shows that PID namespace. */
#ifndef TCPLAB_SANDBOX_H
#define TCPLAB_SANDBOX_H

#include <sys/types.h>

#include "lab/common/err.h"
#include "lab/scenario/scenario.h"

struct sandbox {
	pid_t init_pid; /* the PID namespace's init, a child of the calling thread */
	int init_fd;    /* a socket to init, which hands out pidfds (sandbox_pidfd) */
};

/* Once per process, before any thread starts: when not root, enter a user
 * namespace that maps the caller to root (like `unshare -r`), so that network and
 * PID namespaces can be made. Fails with a message saying what is missing. */
int sandbox_prepare_process(struct lab_err *err);

/* Moves the calling thread into fresh network and PID namespaces, brings lo up and
 * applies the scenario's sysctls. The thread stays there: call it from a thread
 * that ends after the scenario (the namespaces vanish with their last user). */
int sandbox_enter(struct sandbox *sb, const struct scenario *sc, struct lab_err *err);

/* Applies the scenario's sysctls in the calling thread's network namespace (the
 * wire's namespaces get them too). */
int sandbox_apply_sysctls(const struct scenario *sc, struct lab_err *err);

/* A pidfd (O_CLOEXEC) for the process whose PID is pid in the scenario's PID
 * namespace (the numbers its /proc shows), made by the namespace's init: the
 * calling thread lives in the parent namespace, where pidfd_open would read pid
 * as another process's. -1 with errno set when there is no such process. */
int sandbox_pidfd(struct sandbox *sb, pid_t pid);

/* Kills the PID namespace's init (and so every process left in it) and reaps it. */
void sandbox_leave(struct sandbox *sb);

#endif
