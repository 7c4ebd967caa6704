/* tasks: what every task (thread) of a run waits for, read from the run's /proc,
 * and whether that wait can end on its own. For each task it reads where it is
 * blocked (/proc/PID/task/TID/syscall), what the call's descriptor is
 * (/proc/PID/fd, fdinfo: a socket's inode, a pipe, an armed timerfd, an epoll
 * set), the descriptor's socket options that are a program's own clock
 * (SO_RCVTIMEO, SO_SNDTIMEO, SO_KEEPALIVE, read from a duplicate made with
 * pidfd_getfd) and
 * the process's clocks (POSIX timers in /proc/PID/timers, a SIGALRM handler).
 * From that it sorts the tasks: blocked sending on one of a connection's two
 * sockets, waiting for another task of the run, waiting for input, or anything
 * else (running, sleeping with a deadline, its own clock, or a call the lab
 * cannot read, such as a 32-bit program's). It only reads; it signals nothing. */
#ifndef TCPLAB_TASKS_H
#define TCPLAB_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/liveness/hang.h"

/* A pidfd for a PID of proc_dir's namespace, or -1 (then the socket options of
 * that process cannot be read, and its sends and receives prove nothing). The
 * pidfd stays the caller's: tasks never closes it. */
typedef int (*tasks_pidfd_fn)(void *arg, int pid);

/* How a task waits. */
enum tasks_kind {
	TASKS_SENDING,   /* in a send on a connection's socket, or polling it for
			  * writability only, with no time limit: returns when the
			  * peer reads */
	TASKS_WAITING,   /* waits with no time limit for another task of the run:
			  * futex, wait4, waitid, pause, accept, a pipe */
	TASKS_RECEIVING, /* waits with no time limit for input on a socket */
	TASKS_OTHER,     /* anything else: it may move on its own */
};

/* One task's wait, as tasks_classify judges it. */
struct tasks_wait {
	enum tasks_kind kind;
	int end;       /* TASKS_SENDING: which of the connection's sockets (0 or 1) */
	char text[96]; /* "in sendto on the connection", "sleeps in clock_nanosleep" */
};

/* The descriptors a call names, and what the lab learned of them: filled by the
 * scan, or by a test. */
struct tasks_fd {
	int fd;
	enum {
		TASKS_FD_UNKNOWN,
		TASKS_FD_SOCKET,
		TASKS_FD_PIPE,
		TASKS_FD_TIMERFD,
		TASKS_FD_EPOLL,
		TASKS_FD_OTHER,
	} type;
	uint32_t inode;      /* sockets */
	bool listening;      /* sockets: accepts connections (SO_ACCEPTCONN) */
	bool options_known;  /* sockets: the two below were read */
	int64_t rcvtimeo_us; /* SO_RCVTIMEO, 0 when unset */
	int64_t sndtimeo_us; /* SO_SNDTIMEO, 0 when unset */
	bool keepalive;      /* SO_KEEPALIVE: the kernel may end a wait for input */
	bool armed;          /* timerfds: a pending expiry */
	unsigned int events; /* poll sets: the events asked for (POLLIN, POLLOUT...) */
};

/* Everything tasks_classify needs about one task. */
struct tasks_task {
	char state; /* /proc/.../stat: 'S' asleep, 'R' running, ... */
	bool native_abi;
	bool has_posix_timer; /* /proc/PID/timers lists one */
	bool catches_sigalrm; /* SigCgt: an alarm() could end its wait */
	struct hang_call call;
	struct tasks_fd fds[64]; /* the call's descriptors: one, or a poll set */
	size_t n_fds;
	bool fds_complete; /* every descriptor of the call was read */
};

/* The connection's two socket inodes (0: that end is not in the run). */
struct tasks_conn {
	uint32_t inode[2];
};

/* Pure: how a task waits, relative to conn. */
void tasks_classify(const struct tasks_task *t, const struct tasks_conn *conn,
		    struct tasks_wait *out);

/* All tasks of a run. */
struct tasks_view {
	int n_tasks;
	int sending[2]; /* tasks in TASKS_SENDING on each socket of conn */
	int waiting;
	int receiving;
	int other;
	char where[400]; /* each process and its main thread's wait, for reports */
	char why[200];   /* the first task that is TASKS_OTHER (or receiving) */
};

/* Reads every task under proc_dir ("/proc" of the run's PID namespace) except
 * PID 1 (the lab's init). pidfd_fn may be NULL. With stop_early the scan ends at
 * the first task that is TASKS_OTHER (every proof fails there; the counts are
 * then partial). -1 when proc_dir cannot be read. */
int tasks_look(const char *proc_dir, const struct tasks_conn *conn, tasks_pidfd_fn pidfd_fn,
	       void *pidfd_arg, bool stop_early, struct tasks_view *view, struct lab_err *err);

/* A deadlock's part: every task sends on the connection (both of its sockets)
 * or waits for another task; none can move on its own. */
bool tasks_all_blocked_sending(const struct tasks_view *view);

/* A hang's part: every task waits with no time limit and no clock of its own. */
bool tasks_all_waiting(const struct tasks_view *view);

#endif
