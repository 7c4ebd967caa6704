/* shim: the LD_PRELOAD fault shim; what it does is documented in shim.h.
 * All process-wide state is in one struct (`shim`), set once from the environment.
 * The interposers allocate nothing and take no locks: counters are atomics, so the
 * shim is safe across threads and fork. */
#include "lab/shim/shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lab/shim/shim_config.h"
#include "lab/shim/shim_legal.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Sockets with a smaller fd have a byte count for `reset after`. */
#define SHIM_FD_SLOTS 4096
/* When cutting an iovec array, at most this many non-empty entries are kept. */
#define SHIM_IOV_CUT 64

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
	REAL_COUNT,
};

static const char *const real_names[REAL_COUNT] = {
	[REAL_SEND] = "send",
	[REAL_SENDTO] = "sendto",
	[REAL_SENDMSG] = "sendmsg",
	[REAL_WRITE] = "write",
	[REAL_WRITEV] = "writev",
	[REAL_RECV] = "recv",
	[REAL_RECVFROM] = "recvfrom",
	[REAL_RECVMSG] = "recvmsg",
	[REAL_READ] = "read",
	[REAL_READV] = "readv",
	[REAL_READ_CHK] = "__read_chk",
	[REAL_RECV_CHK] = "__recv_chk",
	[REAL_RECVFROM_CHK] = "__recvfrom_chk",
	[REAL_CONNECT] = "connect",
	[REAL_ACCEPT] = "accept",
	[REAL_ACCEPT4] = "accept4",
	[REAL_SOCKET] = "socket",
	[REAL_CLOSE] = "close",
};

typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*readv_fn)(int, const struct iovec *, int);
typedef ssize_t (*read_chk_fn)(int, void *, size_t, size_t);
typedef ssize_t (*recv_chk_fn)(int, void *, size_t, size_t, int);
typedef ssize_t (*recvfrom_chk_fn)(int, void *, size_t, size_t, int, struct sockaddr *,
				   socklen_t *);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef int (*socket_fn)(int, int, int);
typedef int (*close_fn)(int);

enum init_state { INIT_NOT_YET = 0, INIT_UNDER_WAY = 1, INIT_DONE = 2 };

/* Per socket, for `reset after` and `close after`. */
struct shim_fd {
	int64_t moved_bytes; /* sent + received on this socket */
	int aborted;         /* the RST was sent: later calls fail with ECONNRESET */
	int closed;          /* shut down by close after: the kernel answers later calls */
};

struct shim_state {
	int init;    /* enum init_state */
	bool active; /* some fault configured or a stats file: look at sockets */
	struct shim_config cfg;
	void *real[REAL_COUNT];
	struct shim_stats *stats; /* in the mapped stats file slot, or local_stats */
	struct shim_stats local_stats;
	uint64_t rule_calls[SHIM_MAX_ERRORS]; /* matching calls, for every N */
	int rule_fired[SHIM_MAX_ERRORS];      /* for once */
	int64_t sent_bytes;                   /* this process, for after BYTES */
	int64_t received_bytes;
	struct shim_fd fds[SHIM_FD_SLOTS];
};

static struct shim_state shim;

static void *real(enum real_fn fn)
{
	void *p = __atomic_load_n(&shim.real[fn], __ATOMIC_ACQUIRE);

	if (p == NULL) {
		p = dlsym(RTLD_NEXT, real_names[fn]);
		__atomic_store_n(&shim.real[fn], p, __ATOMIC_RELEASE);
	}
	return p;
}

static void count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* ---- setting up ------------------------------------------------------------ */

static void write_stderr(const char *text)
{
	ssize_t ignored = ((write_fn)real(REAL_WRITE))(2, text, strlen(text));

	(void)ignored;
}

/* Claims one slot of the stats file and maps it; on any failure counting goes to
 * shim.local_stats (nobody reads those). */
static void stats_claim_slot(const char *path)
{
	struct shim_stats_header header;
	struct shim_stats_slot *slot;
	struct stat st;
	off_t offset, map_offset;
	size_t map_len;
	long page_bytes = sysconf(_SC_PAGESIZE);
	void *map;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			goto out;
	}
	if (fstat(fd, &st) < 0)
		goto unlock;
	if (st.st_size < SHIM_STATS_SLOT_BYTES) {
		memset(&header, 0, sizeof(header));
		memcpy(header.magic, SHIM_STATS_MAGIC, sizeof(header.magic));
		header.slot_bytes = SHIM_STATS_SLOT_BYTES;
		if (pwrite(fd, &header, sizeof(header), 0) != (ssize_t)sizeof(header))
			goto unlock;
		offset = SHIM_STATS_SLOT_BYTES;
	} else {
		/* Round up, in case a claimer died half-way through growing it. */
		offset = (st.st_size + SHIM_STATS_SLOT_BYTES - 1) / SHIM_STATS_SLOT_BYTES *
			 SHIM_STATS_SLOT_BYTES;
	}
	if (ftruncate(fd, offset + SHIM_STATS_SLOT_BYTES) < 0)
		goto unlock;
	if (page_bytes <= 0)
		page_bytes = 4096;
	map_offset = offset / page_bytes * page_bytes;
	map_len = (size_t)(offset - map_offset) + SHIM_STATS_SLOT_BYTES;
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, map_offset);
	if (map == MAP_FAILED)
		goto unlock;
	slot = (struct shim_stats_slot *)((char *)map + (offset - map_offset));
	slot->pid = getpid();
	__atomic_store_n(&slot->magic, SHIM_STATS_SLOT_MAGIC, __ATOMIC_RELEASE);
	shim.stats = &slot->counters;
unlock:
	flock(fd, LOCK_UN);
out:
	((close_fn)real(REAL_CLOSE))(fd);
}

static bool config_has_faults(const struct shim_config *cfg)
{
	return cfg->send_max_bytes || cfg->recv_max_bytes || cfg->send_delay_us ||
	       cfg->recv_delay_us || cfg->rcvbuf_bytes || cfg->sndbuf_bytes ||
	       cfg->reset_after_bytes || cfg->close_after_bytes || cfg->n_errors;
}

static void shim_init(void)
{
	int expected = INIT_NOT_YET;
	int saved_errno = errno;
	const char *spec, *stats_path;
	int fn;

	if (!__atomic_compare_exchange_n(&shim.init, &expected, INIT_UNDER_WAY, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	for (fn = 0; fn < REAL_COUNT; fn++)
		real((enum real_fn)fn);
	shim.stats = &shim.local_stats;
	spec = getenv(SHIM_ENV_FAULTS);
	if (spec != NULL && shim_spec_parse(spec, &shim.cfg) < 0) {
		write_stderr("tcplab shim: " SHIM_ENV_FAULTS " does not parse: ");
		write_stderr(spec);
		write_stderr("\n");
		_exit(127);
	}
	stats_path = getenv(SHIM_ENV_STATS);
	if (stats_path != NULL && stats_path[0] != '\0')
		stats_claim_slot(stats_path);
	shim.active = config_has_faults(&shim.cfg) || shim.stats != &shim.local_stats;
	__atomic_store_n(&shim.init, INIT_DONE, __ATOMIC_RELEASE);
	errno = saved_errno;
}

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_init();
}

/* True when the shim is set up and has something to do. While it is being set up
 * (calls made by the set-up itself, or another thread racing the constructor),
 * calls pass through untouched. */
static bool shim_on(void)
{
	int state = __atomic_load_n(&shim.init, __ATOMIC_ACQUIRE);

	if (state == INIT_NOT_YET) {
		shim_init();
		state = __atomic_load_n(&shim.init, __ATOMIC_ACQUIRE);
	}
	return state == INIT_DONE && shim.active;
}

/* ---- per call ------------------------------------------------------------------ */

static bool is_tcp(int fd)
{
	int saved_errno = errno;
	int domain = 0, type = 0;
	socklen_t len = sizeof(domain);
	bool tcp = false;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	    (domain == AF_INET || domain == AF_INET6)) {
		len = sizeof(type);
		tcp = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
	}
	errno = saved_errno;
	return tcp;
}

static struct shim_fd *fd_slot(int fd)
{
	if (fd < 0 || fd >= SHIM_FD_SLOTS)
		return NULL;
	return &shim.fds[fd];
}

static void fd_forget(int fd)
{
	struct shim_fd *slot = fd_slot(fd);

	if (slot == NULL)
		return;
	__atomic_store_n(&slot->moved_bytes, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->aborted, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->closed, 0, __ATOMIC_RELAXED);
}

static void sleep_us(int64_t delay_us)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += delay_us / 1000000;
	until.tv_nsec += (delay_us % 1000000) * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	/* Returns the error number (errno untouched); EINTR: a signal came, go on. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

/* Sends a RST and leaves the fd open but dead: connect(AF_UNSPEC) disconnects a TCP
 * socket, and the kernel resets a connection it disconnects. The reset throws away
 * what is still queued, so first TCP_NODELAY pushes out what Nagle holds back: the
 * peer then gets every byte the program sent (unless its window is closed). */
static void abort_connection(int fd, struct shim_fd *slot)
{
	int saved_errno = errno;
	struct linger linger = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr unspec;
	int on = 1;

	if (__atomic_exchange_n(&slot->aborted, 1, __ATOMIC_ACQ_REL))
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
	memset(&unspec, 0, sizeof(unspec));
	unspec.sa_family = AF_UNSPEC;
	((connect_fn)real(REAL_CONNECT))(fd, &unspec, sizeof(unspec));
	count(&shim.stats->resets_done, 1);
	errno = saved_errno;
}

/* An orderly close in both directions, once: shutdown(SHUT_RDWR) sends a FIN
 * after what is queued (TCP_NODELAY first, so that Nagle holds nothing back).
 * The fd stays open: later receives get end of file, later sends EPIPE, from the
 * kernel itself, as after a peer's or the program's own shutdown. */
static void close_early(int fd, struct shim_fd *slot)
{
	int saved_errno = errno;
	int on = 1;

	if (__atomic_exchange_n(&slot->closed, 1, __ATOMIC_ACQ_REL))
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	shutdown(fd, SHUT_RDWR);
	count(&shim.stats->early_closes, 1);
	errno = saved_errno;
}

/* True (errno set) when an error rule fails this call (on fd, with MSG_* flags;
 * a rule marked legal skips, without counting, the calls the kernel could not
 * fail that way). */
static bool inject_error(uint32_t call, int fd, int flags)
{
	const struct shim_config *cfg = &shim.cfg;
	int i;

	for (i = 0; i < cfg->n_errors; i++) {
		const struct shim_error_rule *rule = &cfg->errors[i];
		int64_t moved_bytes;
		bool fire = false;

		if ((rule->calls & call) == 0)
			continue;
		if (rule->legal && !shim_legal_error(rule->errno_value, fd, call, flags))
			continue;
		switch (rule->when) {
		case SHIM_WHEN_ALWAYS:
			fire = true;
			break;
		case SHIM_WHEN_ONCE:
			fire = __atomic_exchange_n(&shim.rule_fired[i], 1, __ATOMIC_ACQ_REL) == 0;
			break;
		case SHIM_WHEN_EVERY:
			fire = __atomic_add_fetch(&shim.rule_calls[i], 1, __ATOMIC_RELAXED) %
				       (uint64_t)rule->n ==
			       0;
			break;
		case SHIM_WHEN_AFTER:
			moved_bytes = 0;
			if ((call & SHIM_CALLS_RECV_DIR) == 0)
				moved_bytes += __atomic_load_n(&shim.sent_bytes, __ATOMIC_RELAXED);
			if ((call & SHIM_CALLS_SEND_DIR) == 0)
				moved_bytes +=
					__atomic_load_n(&shim.received_bytes, __ATOMIC_RELAXED);
			fire = moved_bytes >= rule->n;
			break;
		}
		if (fire) {
			count(&shim.stats->errors_injected, 1);
			errno = rule->errno_value;
			return true;
		}
	}
	return false;
}

/* Before a send- or receive-direction call on a TCP socket. Returns -1 (errno set)
 * when the call must fail without being done; else 0 and *limit_bytes, the most
 * the call may move. */
static int data_begin(int fd, uint32_t call, int flags, size_t *limit_bytes)
{
	const struct shim_config *cfg = &shim.cfg;
	bool sending = (call & SHIM_CALLS_SEND_DIR) != 0;
	struct shim_fd *slot = fd_slot(fd);
	int64_t max_bytes = sending ? cfg->send_max_bytes : cfg->recv_max_bytes;
	int64_t delay_us = sending ? cfg->send_delay_us : cfg->recv_delay_us;

	*limit_bytes = SIZE_MAX;
	count(&shim.stats->calls_intercepted, 1);
	if (cfg->reset_after_bytes > 0 && slot != NULL) {
		int64_t moved_bytes = __atomic_load_n(&slot->moved_bytes, __ATOMIC_RELAXED);

		if (__atomic_load_n(&slot->aborted, __ATOMIC_ACQUIRE) ||
		    moved_bytes >= cfg->reset_after_bytes) {
			abort_connection(fd, slot);
			errno = ECONNRESET;
			return -1;
		}
		*limit_bytes = (size_t)(cfg->reset_after_bytes - moved_bytes);
	}
	if (cfg->close_after_bytes > 0 && slot != NULL) {
		int64_t moved_bytes = __atomic_load_n(&slot->moved_bytes, __ATOMIC_RELAXED);

		if (__atomic_load_n(&slot->closed, __ATOMIC_ACQUIRE) ||
		    moved_bytes >= cfg->close_after_bytes)
			close_early(fd, slot); /* the call goes on: the kernel answers it */
		else if ((uint64_t)(cfg->close_after_bytes - moved_bytes) < *limit_bytes)
			*limit_bytes = (size_t)(cfg->close_after_bytes - moved_bytes);
	}
	if (inject_error(call, fd, flags))
		return -1;
	if (delay_us > 0) {
		sleep_us(delay_us);
		count(sending ? &shim.stats->send_delays : &shim.stats->recv_delays, 1);
	}
	if (max_bytes > 0 && (uint64_t)max_bytes < *limit_bytes)
		*limit_bytes = (size_t)max_bytes;
	if (sending && max_bytes > 0) {
		/* Each short write leaves as a segment of its own: Nagle's algorithm
		 * would otherwise hold the small writes that follow an unacknowledged
		 * one and join them, and the capture would not show the fault. */
		int on = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	return 0;
}

/* The length to pass on: len cut to limit_bytes, counting a cut. */
static size_t data_cut(uint32_t call, size_t len, size_t limit_bytes)
{
	if (len <= limit_bytes)
		return len;
	count((call & SHIM_CALLS_SEND_DIR) ? &shim.stats->short_sends : &shim.stats->short_recvs,
	      1);
	return limit_bytes;
}

/* After the real call: counts what moved; returns its result with errno intact.
 * flags: the call's MSG_* flags (0 for read/write); what MSG_PEEK returns stays
 * in the socket, so it is not counted as moved. */
static ssize_t data_end(int fd, uint32_t call, ssize_t result, int flags)
{
	struct shim_fd *slot = fd_slot(fd);
	int64_t moved_bytes;

	if (result <= 0 || (flags & MSG_PEEK))
		return result;
	if (call & SHIM_CALLS_SEND_DIR) {
		count(&shim.stats->bytes_sent, (uint64_t)result);
		__atomic_fetch_add(&shim.sent_bytes, result, __ATOMIC_RELAXED);
	} else {
		count(&shim.stats->bytes_received, (uint64_t)result);
		__atomic_fetch_add(&shim.received_bytes, result, __ATOMIC_RELAXED);
	}
	if ((shim.cfg.reset_after_bytes > 0 || shim.cfg.close_after_bytes > 0) && slot != NULL) {
		moved_bytes = __atomic_add_fetch(&slot->moved_bytes, result, __ATOMIC_RELAXED);
		if (shim.cfg.reset_after_bytes > 0 && moved_bytes >= shim.cfg.reset_after_bytes)
			abort_connection(fd, slot);
		if (shim.cfg.close_after_bytes > 0 && moved_bytes >= shim.cfg.close_after_bytes)
			close_early(fd, slot);
	}
	return result;
}

/* The iovecs to pass on when their total is cut to limit_bytes; returns how many
 * were written to out (at most SHIM_IOV_CUT), or -1 when no cut is needed. */
static int iov_cut(uint32_t call, const struct iovec *iov, int iovcnt, size_t limit_bytes,
		   struct iovec *out)
{
	size_t total = 0, left = limit_bytes;
	int i, n = 0;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > limit_bytes - total)
			break;
		total += iov[i].iov_len;
	}
	if (i == iovcnt)
		return -1;
	count((call & SHIM_CALLS_SEND_DIR) ? &shim.stats->short_sends : &shim.stats->short_recvs,
	      1);
	for (i = 0; i < iovcnt && left > 0 && n < SHIM_IOV_CUT; i++) {
		if (iov[i].iov_len == 0)
			continue;
		out[n] = iov[i];
		if (out[n].iov_len > left)
			out[n].iov_len = left;
		left -= out[n].iov_len;
		n++;
	}
	return n;
}

/* A new TCP socket (socket, accept): forget the old fd's count, set buffers. */
static void new_socket(int fd)
{
	const struct shim_config *cfg = &shim.cfg;
	int saved_errno = errno;
	bool set = false;
	int value;

	fd_forget(fd);
	if (cfg->rcvbuf_bytes > 0) {
		value = (int)cfg->rcvbuf_bytes;
		set |= setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(value)) == 0;
	}
	if (cfg->sndbuf_bytes > 0) {
		value = (int)cfg->sndbuf_bytes;
		set |= setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof(value)) == 0;
	}
	if (set)
		count(&shim.stats->buffers_set, 1);
	errno = saved_errno;
}

/* ---- the interposers: sending ------------------------------------------------ */

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	send_fn call = (send_fn)real(REAL_SEND);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len, flags);
	if (data_begin(fd, SHIM_CALL_SEND, flags, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_SEND, len, limit_bytes);
	return data_end(fd, SHIM_CALL_SEND, call(fd, buf, len, flags), flags);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t addr_len)
{
	sendto_fn call = (sendto_fn)real(REAL_SENDTO);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len, flags, addr, addr_len);
	if (data_begin(fd, SHIM_CALL_SENDTO, flags, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_SENDTO, len, limit_bytes);
	return data_end(fd, SHIM_CALL_SENDTO, call(fd, buf, len, flags, addr, addr_len), flags);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	sendmsg_fn call = (sendmsg_fn)real(REAL_SENDMSG);
	struct iovec cut[SHIM_IOV_CUT];
	struct msghdr cut_msg;
	size_t limit_bytes;
	int n;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, msg, flags);
	if (data_begin(fd, SHIM_CALL_SENDMSG, flags, &limit_bytes) < 0)
		return -1;
	n = iov_cut(SHIM_CALL_SENDMSG, msg->msg_iov, (int)msg->msg_iovlen, limit_bytes, cut);
	if (n < 0)
		return data_end(fd, SHIM_CALL_SENDMSG, call(fd, msg, flags), flags);
	cut_msg = *msg;
	cut_msg.msg_iov = cut;
	cut_msg.msg_iovlen = (size_t)n;
	return data_end(fd, SHIM_CALL_SENDMSG, call(fd, &cut_msg, flags), flags);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	write_fn call = (write_fn)real(REAL_WRITE);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len);
	if (data_begin(fd, SHIM_CALL_WRITE, 0, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_WRITE, len, limit_bytes);
	return data_end(fd, SHIM_CALL_WRITE, call(fd, buf, len), 0);
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	writev_fn call = (writev_fn)real(REAL_WRITEV);
	struct iovec cut[SHIM_IOV_CUT];
	size_t limit_bytes;
	int n;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, iov, iovcnt);
	if (data_begin(fd, SHIM_CALL_WRITEV, 0, &limit_bytes) < 0)
		return -1;
	n = iov_cut(SHIM_CALL_WRITEV, iov, iovcnt, limit_bytes, cut);
	if (n < 0)
		return data_end(fd, SHIM_CALL_WRITEV, call(fd, iov, iovcnt), 0);
	return data_end(fd, SHIM_CALL_WRITEV, call(fd, cut, n), 0);
}

/* ---- the interposers: receiving ---------------------------------------------- */

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	recv_fn call = (recv_fn)real(REAL_RECV);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len, flags);
	if (data_begin(fd, SHIM_CALL_RECV, flags, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_RECV, len, limit_bytes);
	return data_end(fd, SHIM_CALL_RECV, call(fd, buf, len, flags), flags);
}

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buf_len, int flags)
{
	recv_chk_fn call = (recv_chk_fn)real(REAL_RECV_CHK);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len, buf_len, flags);
	if (data_begin(fd, SHIM_CALL_RECV, flags, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_RECV, len, limit_bytes);
	return data_end(fd, SHIM_CALL_RECV, call(fd, buf, len, buf_len, flags), flags);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			     socklen_t *addr_len)
{
	recvfrom_fn call = (recvfrom_fn)real(REAL_RECVFROM);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len, flags, addr, addr_len);
	if (data_begin(fd, SHIM_CALL_RECVFROM, flags, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_RECVFROM, len, limit_bytes);
	return data_end(fd, SHIM_CALL_RECVFROM, call(fd, buf, len, flags, addr, addr_len), flags);
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buf_len, int flags,
				   struct sockaddr *addr, socklen_t *addr_len)
{
	recvfrom_chk_fn call = (recvfrom_chk_fn)real(REAL_RECVFROM_CHK);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len, buf_len, flags, addr, addr_len);
	if (data_begin(fd, SHIM_CALL_RECVFROM, flags, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_RECVFROM, len, limit_bytes);
	return data_end(fd, SHIM_CALL_RECVFROM, call(fd, buf, len, buf_len, flags, addr, addr_len),
			flags);
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	recvmsg_fn call = (recvmsg_fn)real(REAL_RECVMSG);
	struct iovec cut[SHIM_IOV_CUT];
	struct msghdr cut_msg;
	size_t limit_bytes;
	ssize_t result;
	int n;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, msg, flags);
	if (data_begin(fd, SHIM_CALL_RECVMSG, flags, &limit_bytes) < 0)
		return -1;
	n = iov_cut(SHIM_CALL_RECVMSG, msg->msg_iov, (int)msg->msg_iovlen, limit_bytes, cut);
	if (n < 0)
		return data_end(fd, SHIM_CALL_RECVMSG, call(fd, msg, flags), flags);
	cut_msg = *msg;
	cut_msg.msg_iov = cut;
	cut_msg.msg_iovlen = (size_t)n;
	result = call(fd, &cut_msg, flags);
	/* What the kernel writes back into the header. */
	msg->msg_namelen = cut_msg.msg_namelen;
	msg->msg_controllen = cut_msg.msg_controllen;
	msg->msg_flags = cut_msg.msg_flags;
	return data_end(fd, SHIM_CALL_RECVMSG, result, flags);
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	read_fn call = (read_fn)real(REAL_READ);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len);
	if (data_begin(fd, SHIM_CALL_READ, 0, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_READ, len, limit_bytes);
	return data_end(fd, SHIM_CALL_READ, call(fd, buf, len), 0);
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buf_len)
{
	read_chk_fn call = (read_chk_fn)real(REAL_READ_CHK);
	size_t limit_bytes;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, buf, len, buf_len);
	if (data_begin(fd, SHIM_CALL_READ, 0, &limit_bytes) < 0)
		return -1;
	len = data_cut(SHIM_CALL_READ, len, limit_bytes);
	return data_end(fd, SHIM_CALL_READ, call(fd, buf, len, buf_len), 0);
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	readv_fn call = (readv_fn)real(REAL_READV);
	struct iovec cut[SHIM_IOV_CUT];
	size_t limit_bytes;
	int n;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, iov, iovcnt);
	if (data_begin(fd, SHIM_CALL_READV, 0, &limit_bytes) < 0)
		return -1;
	n = iov_cut(SHIM_CALL_READV, iov, iovcnt, limit_bytes, cut);
	if (n < 0)
		return data_end(fd, SHIM_CALL_READV, call(fd, iov, iovcnt), 0);
	return data_end(fd, SHIM_CALL_READV, call(fd, cut, n), 0);
}

/* ---- the interposers: connections -------------------------------------------- */

static bool is_tcp_request(int domain, int type)
{
	return (domain == AF_INET || domain == AF_INET6) &&
	       (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM;
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	socket_fn call = (socket_fn)real(REAL_SOCKET);
	int fd;

	if (!shim_on() || !is_tcp_request(domain, type))
		return call(domain, type, protocol);
	count(&shim.stats->calls_intercepted, 1);
	if (inject_error(SHIM_CALL_SOCKET, -1, 0))
		return -1;
	fd = call(domain, type, protocol);
	if (fd >= 0)
		new_socket(fd);
	return fd;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t addr_len)
{
	connect_fn call = (connect_fn)real(REAL_CONNECT);

	if (!shim_on() || !is_tcp(fd))
		return call(fd, addr, addr_len);
	count(&shim.stats->calls_intercepted, 1);
	if (inject_error(SHIM_CALL_CONNECT, fd, 0))
		return -1;
	return call(fd, addr, addr_len);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *addr_len)
{
	accept_fn call = (accept_fn)real(REAL_ACCEPT);
	int new_fd;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, addr, addr_len);
	count(&shim.stats->calls_intercepted, 1);
	if (inject_error(SHIM_CALL_ACCEPT, fd, 0))
		return -1;
	new_fd = call(fd, addr, addr_len);
	if (new_fd >= 0)
		new_socket(new_fd);
	return new_fd;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *addr_len, int flags)
{
	accept4_fn call = (accept4_fn)real(REAL_ACCEPT4);
	int new_fd;

	if (!shim_on() || !is_tcp(fd))
		return call(fd, addr, addr_len, flags);
	count(&shim.stats->calls_intercepted, 1);
	if (inject_error(SHIM_CALL_ACCEPT4, fd, 0))
		return -1;
	new_fd = call(fd, addr, addr_len, flags);
	if (new_fd >= 0)
		new_socket(new_fd);
	return new_fd;
}

SHIM_EXPORT int close(int fd)
{
	close_fn call = (close_fn)real(REAL_CLOSE);
	struct shim_fd *slot = fd_slot(fd);
	bool failed;
	int error_value;
	int result;

	if (!shim_on() || !is_tcp(fd))
		return call(fd);
	count(&shim.stats->calls_intercepted, 1);
	failed = inject_error(SHIM_CALL_CLOSE, fd, 0);
	error_value = errno;
	if (shim.cfg.reset_after_bytes > 0 && slot != NULL &&
	    __atomic_load_n(&slot->moved_bytes, __ATOMIC_RELAXED) >= shim.cfg.reset_after_bytes)
		abort_connection(fd, slot);
	result = call(fd);
	fd_forget(fd);
	if (failed) {
		errno = error_value;
		return -1;
	}
	return result;
}
