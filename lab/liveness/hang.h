/* hang: whether every process of a scenario waits for something that no one will
 * send. It reads /proc as the calling thread sees it, which in a scenario's thread
 * is the scenario's own PID namespace (see sandbox.h), and asks of every task but
 * init: is it asleep in a call that blocks with no time limit (read, recv, accept,
 * wait, pause; poll, select, epoll or futex without a timeout)? Sockets that hold
 * and move nothing (watch.h's idle) plus that answer is a hang: each program waits
 * for the other, as when a client waits for a reply to a request the server has
 * not received in full. It only reads /proc; it signals nothing. */
#ifndef TCPLAB_HANG_H
#define TCPLAB_HANG_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/common/err.h"

/* The syscall a task is blocked in, as /proc/PID/task/TID/syscall shows it. */
struct hang_call {
	long nr; /* syscall number; -1 when not in a syscall */
	long args[6];
	bool running; /* "running": on a CPU, not in a syscall */
};

/* Parses one line of /proc/.../syscall ("7 0x7ffd 0x1 0xffffffff ...",
 * "running", "-1 0x... 0x..."). Returns 0, or -1 when the text is not such a line. */
int hang_parse_syscall(const char *text, struct hang_call *call);

/* True when a task asleep (state S) in this call waits with no time limit. */
bool hang_call_waits_forever(const struct hang_call *call);

/* The name of a syscall number for messages ("recvfrom", "wait4", ...), or NULL. */
const char *hang_call_name(long nr);

/* Whether the program of process pid (a directory of proc_dir) was built for the
 * lab's own ABI, from its ELF class: 1 yes, 0 no (a 32-bit program, whose
 * /proc/.../syscall numbers are another table's), -1 when it cannot be read. */
int hang_native_abi(const char *proc_dir, const char *pid);

/* Looks at every task under proc_dir ("/proc") except PID 1. *hung is true when
 * there is at least one and every one waits forever; why then says where each
 * process waits ("tcp_sixteen (pid 5) in read, python3 (pid 7) in recvfrom"), and
 * otherwise names the first task that does not. Returns -1 when proc_dir cannot
 * be read. */
int hang_check(const char *proc_dir, bool *hung, char *why, size_t why_len, struct lab_err *err);

/* Reads a small /proc file into buf (NUL-terminated, at most len - 1 bytes);
 * -1 when it cannot. Shared with tasks.c, which reads the same files. */
int hang_read_small(const char *path, char *buf, size_t len);

#endif
