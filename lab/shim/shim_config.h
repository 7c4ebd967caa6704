/* shim_config: what the LD_PRELOAD fault shim is told to do (parsed from the
 * TCPLAB_FAULTS string) and the layout of the stats file it counts into.
 * Depends on libc only, so the preloaded library can use it; the driver's side
 * (formatting a spec from a scenario, summing a stats file) is in shim_spec.h.
 *
 * TCPLAB_FAULTS: items "KEY=VALUE" separated by ';' (no spaces, no newlines; an
 * empty string means no faults; a trailing ';' is allowed; a later item of the same
 * key overrides an earlier one, except error= which adds a rule):
 *   send_max=BYTES        each send-direction call moves at most BYTES
 *   recv_max=BYTES        each receive-direction call returns at most BYTES
 *   send_delay_us=US      sleep US microseconds before each send-direction call
 *   recv_delay_us=US      sleep US microseconds before each receive-direction call
 *   rcvbuf=BYTES          SO_RCVBUF on every new TCP socket (socket, accept)
 *   sndbuf=BYTES          SO_SNDBUF on every new TCP socket
 *   reset_after=BYTES     abortive close once BYTES have moved on one socket
 *   close_after=BYTES     orderly close (shutdown, a FIN) once BYTES have moved
 *   error=CALL:ERRNO:WHEN fail CALL with errno ERRNO (a number) instead of doing it;
 *                         WHEN is "always", "once", "every:N" or "after:BYTES"
 * e.g. "send_max=1;recv_delay_us=200000;error=send:4:every:3;rcvbuf=4096". */
#ifndef TCPLAB_SHIM_CONFIG_H
#define TCPLAB_SHIM_CONFIG_H

#include <stdint.h>

/* The libc calls the shim interposes, one bit each. */
enum shim_call {
	SHIM_CALL_SEND = 1u << 0,
	SHIM_CALL_SENDTO = 1u << 1,
	SHIM_CALL_SENDMSG = 1u << 2,
	SHIM_CALL_WRITE = 1u << 3,
	SHIM_CALL_WRITEV = 1u << 4,
	SHIM_CALL_RECV = 1u << 5,
	SHIM_CALL_RECVFROM = 1u << 6,
	SHIM_CALL_RECVMSG = 1u << 7,
	SHIM_CALL_READ = 1u << 8,
	SHIM_CALL_READV = 1u << 9,
	SHIM_CALL_CONNECT = 1u << 10,
	SHIM_CALL_ACCEPT = 1u << 11,
	SHIM_CALL_ACCEPT4 = 1u << 12,
	SHIM_CALL_SOCKET = 1u << 13,
	SHIM_CALL_CLOSE = 1u << 14,
	SHIM_CALL_SENDFILE = 1u << 15,   /* sendfile, sendfile64 to a TCP socket */
	SHIM_CALL_SPLICE_OUT = 1u << 16, /* splice to a TCP socket */
	SHIM_CALL_SPLICE_IN = 1u << 17,  /* splice from a TCP socket */
	SHIM_CALL_SENDMMSG = 1u << 18,
	SHIM_CALL_RECVMMSG = 1u << 19,
};

/* Every call that moves data out of / into the program counts as a send / a
 * receive: `send` and `recv` in an error fault stand for all of them. */
#define SHIM_CALLS_SEND_DIR                                                                        \
	(SHIM_CALL_SEND | SHIM_CALL_SENDTO | SHIM_CALL_SENDMSG | SHIM_CALL_WRITE |                 \
	 SHIM_CALL_WRITEV | SHIM_CALL_SENDFILE | SHIM_CALL_SPLICE_OUT | SHIM_CALL_SENDMMSG)
#define SHIM_CALLS_RECV_DIR                                                                        \
	(SHIM_CALL_RECV | SHIM_CALL_RECVFROM | SHIM_CALL_RECVMSG | SHIM_CALL_READ |                \
	 SHIM_CALL_READV | SHIM_CALL_SPLICE_IN | SHIM_CALL_RECVMMSG)

/* The call names an `error` fault may use, with the enum shim_call bits each one
 * stands for: the one list of them, used by the shim (shim_call_mask) and by the
 * scenario language's fault grammar (lab/scenario/scenario_fault.c). X(NAME, BITS). */
#define SHIM_CALL_NAMES(X)                                                                         \
	X("send", SHIM_CALLS_SEND_DIR)                                                             \
	X("recv", SHIM_CALLS_RECV_DIR)                                                             \
	X("write", SHIM_CALL_WRITE | SHIM_CALL_WRITEV)                                             \
	X("read", SHIM_CALL_READ | SHIM_CALL_READV)                                                \
	X("connect", SHIM_CALL_CONNECT)                                                            \
	X("accept", SHIM_CALL_ACCEPT | SHIM_CALL_ACCEPT4)                                          \
	X("sendmsg", SHIM_CALL_SENDMSG)                                                            \
	X("recvmsg", SHIM_CALL_RECVMSG)                                                            \
	X("writev", SHIM_CALL_WRITEV)                                                              \
	X("readv", SHIM_CALL_READV)                                                                \
	X("sendto", SHIM_CALL_SENDTO)                                                              \
	X("recvfrom", SHIM_CALL_RECVFROM)                                                          \
	X("accept4", SHIM_CALL_ACCEPT4)                                                            \
	X("socket", SHIM_CALL_SOCKET)                                                              \
	X("close", SHIM_CALL_CLOSE)

/* How often an error rule fires. scenario.h's enum fault_when has the same values
 * (checked at compile time in shim_spec.c). */
enum shim_when {
	SHIM_WHEN_ALWAYS = 0, /* every matching call */
	SHIM_WHEN_ONCE = 1,   /* the first matching call of the process */
	SHIM_WHEN_EVERY = 2,  /* every n-th matching call of the process (n, 2n, ...) */
	SHIM_WHEN_AFTER = 3,  /* every matching call once n bytes have moved on its
			       * socket (sent + received; see shim.h) */
};

#define SHIM_MAX_ERRORS 8

/* One `error CALL ERRNO WHEN` fault. */
struct shim_error_rule {
	char call[16];  /* the name as written: "send", "connect", ... */
	uint32_t calls; /* enum shim_call bits the name matches */
	int errno_value;
	enum shim_when when;
	int64_t n; /* N of every N, BYTES of after BYTES; 0 otherwise */
};

/* 0 in a field means "no such fault". */
struct shim_config {
	int64_t send_max_bytes;
	int64_t recv_max_bytes;
	int64_t send_delay_us;
	int64_t recv_delay_us;
	int64_t rcvbuf_bytes;
	int64_t sndbuf_bytes;
	int64_t reset_after_bytes;
	int64_t close_after_bytes;
	struct shim_error_rule errors[SHIM_MAX_ERRORS];
	int n_errors;
};

/* Parses a TCPLAB_FAULTS string into *cfg (zeroed first). Allocates nothing.
 * Returns 0, or -1 when the text is not a valid spec (cfg then undefined). */
int shim_spec_parse(const char *text, struct shim_config *cfg);

/* The enum shim_call bits a call name of an error fault stands for, 0 if unknown.
 * "send" stands for every send-direction call (send, sendto, sendmsg, write,
 * writev, sendfile, splice to a socket, sendmmsg), "recv" for every
 * receive-direction call (recv, recvfrom, recvmsg, read, readv, splice from a
 * socket, recvmmsg), "write" for write and writev, "read" for read and readv, "accept" for
 * accept and accept4; sendto, sendmsg, writev, recvfrom, recvmsg, readv, connect,
 * accept4, socket and close stand for themselves. */
uint32_t shim_call_mask(const char *name);

/* Counters, summed over the processes that loaded the shim. Only calls on TCP
 * sockets (AF_INET/AF_INET6, SOCK_STREAM) count. Calls with MSG_PEEK and calls
 * with invalid arguments (passed to libc untouched) count in calls_intercepted
 * only. */
struct shim_stats {
	uint64_t processes;         /* slots claimed: one per program image that loaded the
				     * shim (`sh -c` then exec = 2; a fork without exec
				     * shares its parent's slot). 0: the shim never ran */
	uint64_t calls_intercepted; /* interposed calls that were about a TCP socket */
	uint64_t short_sends;       /* send-direction calls cut (by send max, or at an
				     * after BYTES boundary) */
	uint64_t short_recvs;       /* receive-direction calls cut (the same) */
	uint64_t send_delays;       /* send-direction calls delayed */
	uint64_t recv_delays;       /* receive-direction calls delayed */
	uint64_t errors_injected;   /* calls failed by an error fault (all rules) */
	uint64_t resets_done;       /* connections aborted by reset after */
	uint64_t early_closes;      /* connections shut down by close after */
	uint64_t buffers_set;       /* sockets given SO_RCVBUF/SO_SNDBUF */
	uint64_t bytes_sent;        /* bytes moved by successful send-direction calls */
	uint64_t bytes_received;    /* bytes returned by successful receive-direction calls */
	/* Since layout 2: what the driver needs to tell a fault that did nothing
	 * from one that could not (shim_spec.h: shim_fault_fired, shim_explain). */
	uint64_t send_max_cuts;     /* send-direction calls cut by send max itself */
	uint64_t recv_max_cuts;     /* receive-direction calls cut by recv max itself */
	uint64_t error_rule_fired[SHIM_MAX_ERRORS]; /* per error= item, in spec order */
	uint64_t error_rule_calls[SHIM_MAX_ERRORS]; /* calls that matched it */
	uint64_t tcp_sockets;       /* TCP sockets made by socket/accept/accept4 */
	uint64_t send_calls;        /* send-direction calls (not invalid, not peeks) */
	uint64_t recv_calls;        /* receive-direction calls (the same) */
	uint64_t largest_send_bytes; /* the most one send-direction call asked to move */
	uint64_t largest_recv_bytes; /* the most one receive-direction call asked for */
	uint64_t most_socket_bytes; /* the most bytes sent + received on one socket (kept
				     * when reset/close after or an after rule is set) */
	uint64_t untracked_calls;   /* calls on a socket the after-BYTES table had no room
				     * for (their bytes count for no after BYTES) */
	uint64_t sendfile_calls;    /* sendfile/sendfile64 to a TCP socket */
	uint64_t splice_calls;      /* splice to or from a TCP socket */
	uint64_t copy_file_range_calls; /* copy_file_range with a TCP socket (refused by Linux) */
	uint64_t mmsg_calls;        /* sendmmsg/recvmmsg on a TCP socket */
	uint64_t io_uring_setups;   /* syscall(SYS_io_uring_setup) through libc: I/O the
				     * shim cannot see may follow */
	uint64_t execs;             /* execve/execv/execvp/execvpe calls (see the slot) */
};

/* Stats file: a header of SHIM_STATS_SLOT_BYTES, then one slot of that size per
 * process that loaded the shim (claimed under flock by growing the file). Each
 * process maps its slot MAP_SHARED and updates it with atomics, so the counts
 * survive SIGKILL; a forked child keeps counting in its parent's slot. */
#define SHIM_STATS_MAGIC "TCPLABS2"
#define SHIM_STATS_SLOT_BYTES 4096
#define SHIM_STATS_SLOT_MAGIC 0x544c53484d534c54ull /* "TLSMHSLT": slot in use */
#define SHIM_PATH_BYTES 256 /* a path kept in a slot; longer ones are cut */
#define SHIM_EXEC_PATHS 6   /* exec'ed paths kept per slot; later ones are counted */

struct shim_stats_header {
	char magic[8];       /* SHIM_STATS_MAGIC, no NUL */
	uint32_t slot_bytes; /* SHIM_STATS_SLOT_BYTES */
	uint32_t reserved;
};

struct shim_stats_slot {
	uint64_t magic;             /* SHIM_STATS_SLOT_MAGIC once claimed */
	int64_t pid;                /* the process that claimed it */
	struct shim_stats counters; /* counters.processes stays 0 in a slot */
	char exe[SHIM_PATH_BYTES];  /* /proc/self/exe of the program image, "" if unknown */
	/* Programs this image (or a child forked from it) asked to exec, as given
	 * (execvp: the name before the PATH search); an exec that failed is blanked. */
	uint32_t n_execs; /* entries used (may exceed SHIM_EXEC_PATHS: not kept) */
	uint32_t reserved;
	char exec_paths[SHIM_EXEC_PATHS][SHIM_PATH_BYTES];
};

_Static_assert(sizeof(struct shim_stats_slot) <= SHIM_STATS_SLOT_BYTES, "slot too big");

#endif
