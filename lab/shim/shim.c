/* shim: the LD_PRELOAD fault shim's state and decisions; what it does is
 * documented in shim.h, the interposed functions are in shim_calls.c.
 * All process-wide state is in one struct (`shim`), set once from the environment.
 * Nothing here allocates or takes a lock: counters are atomics and the socket
 * table is filled with compare-and-swap, so the shim is safe across threads, fork
 * and signal handlers. */
#include "lab/shim/shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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
#include "lab/shim/shim_core.h"

/* Sockets with after-BYTES state, per process image. A power of two. */
#define SHIM_SOCK_SLOTS 65536
/* How far a lookup probes before giving up on a full neighbourhood. */
#define SHIM_SOCK_PROBES 256

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
	[REAL_SENDFILE] = "sendfile",
	[REAL_SENDFILE64] = "sendfile64",
	[REAL_SPLICE] = "splice",
	[REAL_COPY_FILE_RANGE] = "copy_file_range",
	[REAL_SENDMMSG] = "sendmmsg",
	[REAL_RECVMMSG] = "recvmmsg",
	[REAL_SYSCALL] = "syscall",
	[REAL_EXECVE] = "execve",
	[REAL_EXECV] = "execv",
	[REAL_EXECVP] = "execvp",
	[REAL_EXECVPE] = "execvpe",
};

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*close_fn)(int);

enum init_state { INIT_NOT_YET = 0, INIT_UNDER_WAY = 1, INIT_DONE = 2 };

struct shim_state {
	int init;          /* enum init_state */
	bool active;       /* some fault configured or a stats file: look at sockets */
	bool need_sockets; /* an after-BYTES fault: keep per-socket counts */
	struct shim_config cfg;
	void *real[REAL_COUNT];
	struct shim_stats *stats; /* in the mapped stats file slot, or local_stats */
	struct shim_stats local_stats;
	struct shim_stats_slot *slot;         /* the mapped slot, NULL without a stats file */
	uint64_t rule_calls[SHIM_MAX_ERRORS]; /* matching calls, for every N */
	int rule_fired[SHIM_MAX_ERRORS];      /* for once */
	int64_t moved_bytes;                  /* sent + received by this process, for after BYTES
			      * of calls that have no data of their own */
	struct shim_sock socks[SHIM_SOCK_SLOTS];
};

static struct shim_state shim;

void *shim_real(enum real_fn fn)
{
	void *p = __atomic_load_n(&shim.real[fn], __ATOMIC_ACQUIRE);

	if (p == NULL) {
		p = dlsym(RTLD_NEXT, real_names[fn]);
		__atomic_store_n(&shim.real[fn], p, __ATOMIC_RELEASE);
	}
	return p;
}

void shim_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

void shim_count_max(uint64_t *counter, uint64_t value)
{
	uint64_t old = __atomic_load_n(counter, __ATOMIC_RELAXED);

	while (value > old && !__atomic_compare_exchange_n(counter, &old, value, true,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

struct shim_stats *shim_counters(void)
{
	return shim.stats;
}

const struct shim_config *shim_cfg(void)
{
	return &shim.cfg;
}

/* ---- setting up ------------------------------------------------------------ */

static void write_stderr(const char *text)
{
	ssize_t ignored = ((write_fn)shim_real(REAL_WRITE))(2, text, strlen(text));

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
	ssize_t exe_len;
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
	exe_len = readlink("/proc/self/exe", slot->exe, sizeof(slot->exe) - 1);
	slot->exe[exe_len > 0 ? exe_len : 0] = '\0';
	__atomic_store_n(&slot->magic, SHIM_STATS_SLOT_MAGIC, __ATOMIC_RELEASE);
	shim.stats = &slot->counters;
	shim.slot = slot;
unlock:
	flock(fd, LOCK_UN);
out:
	((close_fn)shim_real(REAL_CLOSE))(fd);
}

static bool config_has_faults(const struct shim_config *cfg)
{
	return cfg->send_max_bytes || cfg->recv_max_bytes || cfg->send_delay_us ||
	       cfg->recv_delay_us || cfg->rcvbuf_bytes || cfg->sndbuf_bytes ||
	       cfg->reset_after_bytes || cfg->close_after_bytes || cfg->n_errors;
}

static bool config_needs_sockets(const struct shim_config *cfg)
{
	int i;

	if (cfg->reset_after_bytes > 0 || cfg->close_after_bytes > 0)
		return true;
	for (i = 0; i < cfg->n_errors; i++) {
		if (cfg->errors[i].when == SHIM_WHEN_AFTER)
			return true;
	}
	return false;
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
		shim_real((enum real_fn)fn);
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
	shim.need_sockets = config_needs_sockets(&shim.cfg);
	__atomic_store_n(&shim.init, INIT_DONE, __ATOMIC_RELEASE);
	errno = saved_errno;
}

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_init();
}

bool shim_on(void)
{
	int state = __atomic_load_n(&shim.init, __ATOMIC_ACQUIRE);

	if (state == INIT_NOT_YET) {
		shim_init();
		state = __atomic_load_n(&shim.init, __ATOMIC_ACQUIRE);
	}
	return state == INIT_DONE && shim.active;
}

/* ---- sockets ------------------------------------------------------------------ */

bool shim_is_tcp(int fd)
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

/* The state of fd's socket, found (or added) by its SO_COOKIE: a number the kernel
 * gives each socket once and never reuses while it runs. dup/dup2/dup3 give the
 * same socket, hence the same entry; a new socket on a reused fd number gets a
 * new one, whatever close_range or fclose did to the old fd behind the shim's
 * back. Entries are never freed (the table is per program image). NULL when no
 * after-BYTES fault is set, or the table has no room (counted). */
static struct shim_sock *sock_of(int fd)
{
	int saved_errno = errno;
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	size_t i, at;

	if (!shim.need_sockets)
		return NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0 || cookie == 0) {
		errno = saved_errno;
		shim_count(&shim.stats->untracked_calls, 1);
		return NULL;
	}
	errno = saved_errno;
	at = (size_t)(cookie * 0x9e3779b97f4a7c15ull >> 32);
	for (i = 0; i < SHIM_SOCK_PROBES; i++) {
		struct shim_sock *s = &shim.socks[(at + i) & (SHIM_SOCK_SLOTS - 1)];
		uint64_t seen = __atomic_load_n(&s->cookie, __ATOMIC_ACQUIRE);

		if (seen == cookie)
			return s;
		if (seen == 0) {
			if (__atomic_compare_exchange_n(&s->cookie, &seen, cookie, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
			    seen == cookie)
				return s;
		}
	}
	shim_count(&shim.stats->untracked_calls, 1);
	return NULL;
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
static void abort_connection(int fd, struct shim_sock *sock)
{
	int saved_errno = errno;
	struct linger linger = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr unspec;
	int on = 1;

	if (__atomic_exchange_n(&sock->aborted, 1, __ATOMIC_ACQ_REL))
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
	memset(&unspec, 0, sizeof(unspec));
	unspec.sa_family = AF_UNSPEC;
	((connect_fn)shim_real(REAL_CONNECT))(fd, &unspec, sizeof(unspec));
	shim_count(&shim.stats->resets_done, 1);
	errno = saved_errno;
}

/* An orderly close in both directions, once: shutdown(SHUT_RDWR) sends a FIN
 * after what is queued (TCP_NODELAY first, so that Nagle holds nothing back).
 * The fd stays open: later receives get end of file, later sends EPIPE, from the
 * kernel itself, as after a peer's or the program's own shutdown. */
static void close_early(int fd, struct shim_sock *sock)
{
	int saved_errno = errno;
	int on = 1;

	if (__atomic_exchange_n(&sock->closed, 1, __ATOMIC_ACQ_REL))
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	shutdown(fd, SHUT_RDWR);
	shim_count(&shim.stats->early_closes, 1);
	errno = saved_errno;
}

/* ---- the decision for one call -------------------------------------------------- */

/* True (errno set) when an error rule fails this call. A data call that an
 * `after BYTES` rule will fail once its socket reaches BYTES gets *hard_bytes
 * lowered to that boundary, so the call that crosses it is cut there. sock: the
 * call's socket; NULL for calls that make a connection (socket, connect, accept),
 * whose after BYTES counts the bytes of the whole process. */
static bool inject_error(uint32_t kind, struct shim_sock *sock, size_t *hard_bytes)
{
	const struct shim_config *cfg = &shim.cfg;
	int i;

	for (i = 0; i < cfg->n_errors; i++) {
		const struct shim_error_rule *rule = &cfg->errors[i];
		int64_t moved_bytes;
		bool fire = false;

		if ((rule->calls & kind) == 0)
			continue;
		shim_count(&shim.stats->error_rule_calls[i], 1);
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
			moved_bytes =
				sock != NULL ? __atomic_load_n(&sock->moved_bytes, __ATOMIC_RELAXED)
					     : __atomic_load_n(&shim.moved_bytes, __ATOMIC_RELAXED);
			fire = moved_bytes >= rule->n;
			if (!fire && hard_bytes != NULL &&
			    (uint64_t)(rule->n - moved_bytes) < *hard_bytes)
				*hard_bytes = (size_t)(rule->n - moved_bytes);
			break;
		}
		if (fire) {
			shim_count(&shim.stats->errors_injected, 1);
			shim_count(&shim.stats->error_rule_fired[i], 1);
			errno = rule->errno_value;
			return true;
		}
	}
	return false;
}

/* The delay of a call that is about to move data. A non-blocking call whose socket
 * is not ready will fail with EAGAIN: it does not wait, so that an event loop pays
 * each delay once, on the call that moves data. */
static void delay_call(const struct shim_op *c)
{
	int64_t delay_us = c->sending ? shim.cfg.send_delay_us : shim.cfg.recv_delay_us;
	int saved_errno = errno;

	if (delay_us <= 0)
		return;
	if (c->nonblocking) {
		struct pollfd p = { .fd = c->fd, .events = c->sending ? POLLOUT : POLLIN };

		if (poll(&p, 1, 0) != 1)
			return;
	}
	sleep_us(delay_us);
	shim_count(c->sending ? &shim.stats->send_delays : &shim.stats->recv_delays, 1);
	errno = saved_errno;
}

int shim_call_begin(struct shim_op *c, int fd, uint32_t kind, int flags, size_t asked_bytes)
{
	const struct shim_config *cfg = &shim.cfg;
	struct shim_sock *sock;
	int64_t max_bytes, moved_bytes;
	int saved_errno = errno;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->kind = kind;
	c->sending = (kind & SHIM_CALLS_SEND_DIR) != 0;
	c->hard_bytes = SIZE_MAX;
	c->max_bytes = SIZE_MAX;
	c->nonblocking = (flags & MSG_DONTWAIT) || (fcntl(fd, F_GETFL) & O_NONBLOCK);
	errno = saved_errno;
	shim_count(&shim.stats->calls_intercepted, 1);
	sock = c->sock = sock_of(fd);
	if (sock != NULL && __atomic_load_n(&sock->aborted, __ATOMIC_ACQUIRE)) {
		errno = ECONNRESET;
		return -1;
	}
	if (!c->sending && (flags & MSG_PEEK)) {
		/* What a peek returns stays in the socket: no fault, nothing counted. */
		c->peek = true;
		return 0;
	}
	shim_count(c->sending ? &shim.stats->send_calls : &shim.stats->recv_calls, 1);
	shim_count_max(c->sending ? &shim.stats->largest_send_bytes
				  : &shim.stats->largest_recv_bytes,
		       asked_bytes);
	moved_bytes = sock != NULL ? __atomic_load_n(&sock->moved_bytes, __ATOMIC_RELAXED) : 0;
	if (cfg->reset_after_bytes > 0 && sock != NULL) {
		if (moved_bytes >= cfg->reset_after_bytes) {
			abort_connection(fd, sock);
			errno = ECONNRESET;
			return -1;
		}
		c->hard_bytes = (size_t)(cfg->reset_after_bytes - moved_bytes);
	}
	if (cfg->close_after_bytes > 0 && sock != NULL) {
		if (moved_bytes >= cfg->close_after_bytes)
			close_early(fd, sock); /* the call goes on: the kernel answers it */
		else if ((uint64_t)(cfg->close_after_bytes - moved_bytes) < c->hard_bytes)
			c->hard_bytes = (size_t)(cfg->close_after_bytes - moved_bytes);
	}
	if (inject_error(kind, sock, &c->hard_bytes))
		return -1;
	delay_call(c);
	max_bytes = c->sending ? cfg->send_max_bytes : cfg->recv_max_bytes;
	if (max_bytes > 0)
		c->max_bytes = (size_t)max_bytes;
	if (c->sending && max_bytes > 0) {
		/* Each short write leaves as a segment of its own: TCP_NODELAY stops
		 * Nagle from holding small writes back, and MSG_EOR (set by the caller
		 * on the real call) stops the kernel from appending the next write to
		 * this one while it waits in the send queue (for the congestion
		 * window, the peer's window, or the device). */
		int on = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		errno = saved_errno;
		c->mark_eor = !(flags & MSG_MORE);
	}
	return 0;
}

size_t shim_call_cut(struct shim_op *c, size_t len)
{
	size_t limit_bytes = c->hard_bytes < c->max_bytes ? c->hard_bytes : c->max_bytes;

	if (c->peek || len <= limit_bytes)
		return len;
	shim_count(c->sending ? &shim.stats->short_sends : &shim.stats->short_recvs, 1);
	if (c->max_bytes <= c->hard_bytes)
		shim_count(c->sending ? &shim.stats->send_max_cuts : &shim.stats->recv_max_cuts, 1);
	return limit_bytes;
}

ssize_t shim_call_end(struct shim_op *c, ssize_t result)
{
	const struct shim_config *cfg = &shim.cfg;
	int64_t moved_bytes;

	if (result <= 0 || c->peek)
		return result;
	shim_count(c->sending ? &shim.stats->bytes_sent : &shim.stats->bytes_received,
		   (uint64_t)result);
	__atomic_fetch_add(&shim.moved_bytes, result, __ATOMIC_RELAXED);
	if (c->sock == NULL)
		return result;
	moved_bytes = __atomic_add_fetch(&c->sock->moved_bytes, result, __ATOMIC_RELAXED);
	shim_count_max(&shim.stats->most_socket_bytes, (uint64_t)moved_bytes);
	if (cfg->reset_after_bytes > 0 && moved_bytes >= cfg->reset_after_bytes)
		abort_connection(c->fd, c->sock);
	if (cfg->close_after_bytes > 0 && moved_bytes >= cfg->close_after_bytes)
		close_early(c->fd, c->sock);
	return result;
}

bool shim_other_call(int fd, uint32_t kind)
{
	struct shim_sock *sock = NULL;

	shim_count(&shim.stats->calls_intercepted, 1);
	if (kind == SHIM_CALL_CLOSE)
		sock = sock_of(fd);
	return inject_error(kind, sock, NULL);
}

void shim_new_socket(int fd)
{
	const struct shim_config *cfg = &shim.cfg;
	int saved_errno = errno;
	bool set = false;
	int value;

	shim_count(&shim.stats->tcp_sockets, 1);
	if (cfg->rcvbuf_bytes > 0) {
		value = (int)cfg->rcvbuf_bytes;
		set |= setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(value)) == 0;
	}
	if (cfg->sndbuf_bytes > 0) {
		value = (int)cfg->sndbuf_bytes;
		set |= setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof(value)) == 0;
	}
	if (set)
		shim_count(&shim.stats->buffers_set, 1);
	errno = saved_errno;
}

void shim_before_close(int fd)
{
	struct shim_sock *sock;

	if (shim.cfg.reset_after_bytes <= 0)
		return;
	sock = sock_of(fd);
	if (sock != NULL &&
	    __atomic_load_n(&sock->moved_bytes, __ATOMIC_RELAXED) >= shim.cfg.reset_after_bytes)
		abort_connection(fd, sock);
}

/* ---- exec ------------------------------------------------------------------------ */

int shim_exec_begin(const char *path)
{
	struct shim_stats_slot *slot = shim.slot;
	uint32_t entry;
	size_t len;

	if (!shim_on())
		return -1;
	shim_count(&shim.stats->execs, 1);
	if (slot == NULL || path == NULL)
		return -1;
	entry = __atomic_fetch_add(&slot->n_execs, 1, __ATOMIC_RELAXED);
	if (entry >= SHIM_EXEC_PATHS)
		return -1;
	len = strnlen(path, SHIM_PATH_BYTES - 1);
	memcpy(slot->exec_paths[entry], path, len);
	slot->exec_paths[entry][len] = '\0';
	return (int)entry;
}

void shim_exec_failed(int entry)
{
	if (entry >= 0 && shim.slot != NULL)
		shim.slot->exec_paths[entry][0] = '\0';
}

/* ---- iovecs ----------------------------------------------------------------------- */

bool shim_iov_valid(const struct iovec *iov, long iovcnt, size_t *total_bytes)
{
	size_t total = 0;
	long i;

	if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt > 0 && iov == NULL))
		return false;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - total)
			return false;
		total += iov[i].iov_len;
	}
	*total_bytes = total;
	return true;
}

int shim_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t max_bytes,
		   struct iovec *out)
{
	int i, n = 0;

	for (i = 0; i < iovcnt && max_bytes > 0 && n < SHIM_IOV_CUT; i++) {
		size_t len = iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = len - skip < max_bytes ? len - skip : max_bytes;
		skip = 0;
		max_bytes -= out[n].iov_len;
		n++;
	}
	return n;
}
