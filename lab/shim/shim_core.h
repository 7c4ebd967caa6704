/* shim_core: the inside of the fault shim, shared by shim.c (state, set-up, the
 * decision for each call: cut, delay, fail, abort) and shim_calls.c (the libc
 * functions it interposes). Not a public header: nothing outside lab/shim/
 * includes it. Everything here allocates nothing and takes no lock. */
#ifndef TCPLAB_SHIM_CORE_H
#define TCPLAB_SHIM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lab/shim/shim_config.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* When cutting an iovec array, at most this many non-empty entries are kept. */
#define SHIM_IOV_CUT 64
/* sendfile/splice under send max copy through a buffer of this size on the stack
 * (so that each write can be marked MSG_EOR); above it they are cut only. */
#define SHIM_COPY_BYTES 16384

enum real_fn {
	REAL_SEND,
	REAL_SENDTO,
	REAL_SENDMSG,
	REAL_WRITE,
	REAL_WRITEV,
	REAL_RECV,
	REAL_RECVFROM,
	REAL_RECVMSG,
	REAL_READ,
	REAL_READV,
	REAL_READ_CHK,
	REAL_RECV_CHK,
	REAL_RECVFROM_CHK,
	REAL_CONNECT,
	REAL_ACCEPT,
	REAL_ACCEPT4,
	REAL_SOCKET,
	REAL_CLOSE,
	REAL_SENDFILE,
	REAL_SENDFILE64,
	REAL_SPLICE,
	REAL_COPY_FILE_RANGE,
	REAL_SENDMMSG,
	REAL_RECVMMSG,
	REAL_SYSCALL,
	REAL_EXECVE,
	REAL_EXECV,
	REAL_EXECVP,
	REAL_EXECVPE,
	REAL_COUNT,
};

/* The libc function the shim stands in front of (dlsym RTLD_NEXT, cached). */
void *shim_real(enum real_fn fn);

/* True when the shim is set up and has something to do; false while it is being
 * set up (calls made by the set-up itself pass through). */
bool shim_on(void);

/* True when fd is a TCP socket (AF_INET/AF_INET6, SOCK_STREAM); errno kept. */
bool shim_is_tcp(int fd);

/* Counters of this process's slot (or a private copy nobody reads). */
struct shim_stats *shim_counters(void);
void shim_count(uint64_t *counter, uint64_t n);
void shim_count_max(uint64_t *counter, uint64_t value);
const struct shim_config *shim_cfg(void);

/* Per socket (not per fd: found by SO_COOKIE, so dup'ed fds share it and a reused
 * fd number never inherits it), for the after-BYTES faults. */
struct shim_sock {
	uint64_t cookie;     /* 0: free */
	int64_t moved_bytes; /* sent + received on this socket */
	int aborted;         /* reset after sent the RST: later calls fail ECONNRESET */
	int closed;          /* close after shut it down: the kernel answers later calls */
};

/* One interposed call on a TCP socket, from shim_call_begin to shim_call_end. */
struct shim_op {
	int fd;
	uint32_t kind;          /* one enum shim_call bit */
	bool sending;           /* a send-direction call */
	bool nonblocking;       /* MSG_DONTWAIT, SPLICE_F_NONBLOCK or O_NONBLOCK */
	bool peek;              /* MSG_PEEK: passed on untouched, counts for nothing */
	bool mark_eor;          /* send max: each write its own skb (MSG_EOR) */
	struct shim_sock *sock; /* NULL when no after-BYTES fault is set */
	size_t hard_bytes;      /* the most it may move before an after-BYTES boundary */
	size_t max_bytes;       /* send/recv max: the most one kernel call moves */
};

/* Before a data call asking to move asked_bytes. Returns -1 (errno set) when the
 * call fails without being done; else 0 with the limits in *c. flags: the call's
 * MSG_* flags. */
int shim_call_begin(struct shim_op *c, int fd, uint32_t kind, int flags, size_t asked_bytes);

/* The length to pass on: len cut to the call's limits, counting the cut. */
size_t shim_call_cut(struct shim_op *c, size_t len);

/* After the real call: counts what moved, acts at a boundary; returns result with
 * errno intact. */
ssize_t shim_call_end(struct shim_op *c, ssize_t result);

/* For calls that move no data (socket, connect, accept, close): counts the call
 * and returns true (errno set) when an error rule fails it. */
bool shim_other_call(int fd, uint32_t kind);

/* A new TCP socket (socket, accept): counts it, sets the buffers. */
void shim_new_socket(int fd);

/* close(): a socket past reset after is aborted before the close. */
void shim_before_close(int fd);

/* An exec is about to happen (execve & co.): path is kept in the slot; returns
 * the entry to blank if the exec fails, or -1. */
int shim_exec_begin(const char *path);
void shim_exec_failed(int entry);

/* iovecs: the total in *total_bytes; false when iovcnt or the total is invalid
 * (the call then goes to libc as it is, which gives the errno). */
bool shim_iov_valid(const struct iovec *iov, long iovcnt, size_t *total_bytes);

/* Writes to out the bytes [skip, skip + max_bytes) of iov as at most SHIM_IOV_CUT
 * non-empty entries; returns how many. */
int shim_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t max_bytes,
		   struct iovec *out);

#endif
