/* shim_calls: the libc functions the fault shim interposes (see shim.h). Each one
 * passes a call that is not about a TCP socket, or whose arguments are invalid,
 * to libc as it is; otherwise it asks shim.c what to do (fail, delay, cut) and
 * does the call. The byte-moving calls on TCP sockets are all done through
 * sendto/sendmsg/recvfrom/recvmsg/readv, which are what write/read/send/recv do
 * on a socket, so that MSG_EOR and the cuts apply to every one of them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lab/shim/shim_config.h"
#include "lab/shim/shim_core.h"

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
typedef ssize_t (*sendfile_fn)(int, int, off_t *, size_t);
typedef ssize_t (*splice_fn)(int, off_t *, int, off_t *, size_t, unsigned int);
typedef ssize_t (*copy_file_range_fn)(int, off_t *, int, off_t *, size_t, unsigned int);
typedef int (*sendmmsg_fn)(int, struct mmsghdr *, unsigned int, int);
typedef int (*recvmmsg_fn)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
typedef long (*syscall_fn)(long, long, long, long, long, long, long);
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);

#define REAL(type, fn) ((type)shim_real(fn))

/* ---- sending ------------------------------------------------------------------- */

/* send, sendto, write on a TCP socket. */
static ssize_t send_common(uint32_t kind, int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t addr_len)
{
	struct shim_op c;

	if (shim_call_begin(&c, fd, kind, flags, len) < 0)
		return -1;
	len = shim_call_cut(&c, len);
	if (c.mark_eor)
		flags |= MSG_EOR;
	return shim_call_end(&c, REAL(sendto_fn, REAL_SENDTO)(fd, buf, len, flags, addr, addr_len));
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (!shim_on() || !shim_is_tcp(fd))
		return REAL(send_fn, REAL_SEND)(fd, buf, len, flags);
	return send_common(SHIM_CALL_SEND, fd, buf, len, flags, NULL, 0);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t addr_len)
{
	if (!shim_on() || !shim_is_tcp(fd))
		return REAL(sendto_fn, REAL_SENDTO)(fd, buf, len, flags, addr, addr_len);
	return send_common(SHIM_CALL_SENDTO, fd, buf, len, flags, addr, addr_len);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (!shim_on() || !shim_is_tcp(fd))
		return REAL(write_fn, REAL_WRITE)(fd, buf, len);
	return send_common(SHIM_CALL_WRITE, fd, buf, len, 0, NULL, 0);
}

/* sendmsg, writev on a TCP socket: the iovecs cut to the limit, sent by sendmsg. */
static ssize_t sendmsg_common(uint32_t kind, int fd, const struct msghdr *msg, size_t total_bytes,
			      int flags)
{
	struct iovec cut[SHIM_IOV_CUT];
	struct msghdr cut_msg = *msg;
	struct shim_op c;
	size_t len;

	if (shim_call_begin(&c, fd, kind, flags, total_bytes) < 0)
		return -1;
	len = shim_call_cut(&c, total_bytes);
	if (len < total_bytes) {
		cut_msg.msg_iov = cut;
		cut_msg.msg_iovlen =
			(size_t)shim_iov_slice(msg->msg_iov, (int)msg->msg_iovlen, 0, len, cut);
	}
	if (c.mark_eor)
		flags |= MSG_EOR;
	return shim_call_end(&c, REAL(sendmsg_fn, REAL_SENDMSG)(fd, &cut_msg, flags));
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	size_t total_bytes;

	if (!shim_on() || msg == NULL ||
	    !shim_iov_valid(msg->msg_iov, (long)msg->msg_iovlen, &total_bytes) || !shim_is_tcp(fd))
		return REAL(sendmsg_fn, REAL_SENDMSG)(fd, msg, flags);
	return sendmsg_common(SHIM_CALL_SENDMSG, fd, msg, total_bytes, flags);
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg;
	size_t total_bytes;

	if (!shim_on() || !shim_iov_valid(iov, iovcnt, &total_bytes) || !shim_is_tcp(fd))
		return REAL(writev_fn, REAL_WRITEV)(fd, iov, iovcnt);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	return sendmsg_common(SHIM_CALL_WRITEV, fd, &msg, total_bytes, 0);
}

/* ---- receiving ---------------------------------------------------------------- */

/* MSG_WAITALL under recv max: the kernel promises the whole length unless a
 * signal, an error, end of file or a time limit comes first, so the shim reads in
 * pieces of recv max until it has it. Returns what the kernel would. */
static ssize_t recv_waitall(struct shim_op *c, void *buf, size_t len, int flags,
			    struct sockaddr *addr, socklen_t *addr_len)
{
	size_t goal = len < c->hard_bytes ? len : c->hard_bytes;
	size_t done = 0;

	if (goal < len)
		shim_count(&shim_counters()->short_recvs, 1); /* an after-BYTES boundary */
	if (c->max_bytes < goal)
		shim_count(&shim_counters()->recv_max_cuts, 1);
	while (done < goal) {
		size_t ask = goal - done < c->max_bytes ? goal - done : c->max_bytes;
		ssize_t n = REAL(recvfrom_fn, REAL_RECVFROM)(c->fd, (char *)buf + done, ask, flags,
							     done == 0 ? addr : NULL,
							     done == 0 ? addr_len : NULL);

		if (n < 0 && done == 0)
			return -1;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* recv, recvfrom, read and their _chk forms on a TCP socket. */
static ssize_t recv_common(uint32_t kind, int fd, void *buf, size_t len, int flags,
			   struct sockaddr *addr, socklen_t *addr_len)
{
	recvfrom_fn call = REAL(recvfrom_fn, REAL_RECVFROM);
	struct shim_op c;

	if (shim_call_begin(&c, fd, kind, flags, len) < 0)
		return -1;
	if (c.peek)
		return call(fd, buf, len, flags, addr, addr_len);
	if ((flags & MSG_WAITALL) && len > c.max_bytes)
		return shim_call_end(&c, recv_waitall(&c, buf, len, flags, addr, addr_len));
	len = shim_call_cut(&c, len);
	return shim_call_end(&c, call(fd, buf, len, flags, addr, addr_len));
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (!shim_on() || !shim_is_tcp(fd))
		return REAL(recv_fn, REAL_RECV)(fd, buf, len, flags);
	return recv_common(SHIM_CALL_RECV, fd, buf, len, flags, NULL, NULL);
}

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buf_len, int flags)
{
	if (!shim_on() || len > buf_len || !shim_is_tcp(fd))
		return REAL(recv_chk_fn, REAL_RECV_CHK)(fd, buf, len, buf_len, flags);
	return recv_common(SHIM_CALL_RECV, fd, buf, len, flags, NULL, NULL);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			     socklen_t *addr_len)
{
	if (!shim_on() || !shim_is_tcp(fd))
		return REAL(recvfrom_fn, REAL_RECVFROM)(fd, buf, len, flags, addr, addr_len);
	return recv_common(SHIM_CALL_RECVFROM, fd, buf, len, flags, addr, addr_len);
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buf_len, int flags,
				   struct sockaddr *addr, socklen_t *addr_len)
{
	if (!shim_on() || len > buf_len || !shim_is_tcp(fd))
		return REAL(recvfrom_chk_fn, REAL_RECVFROM_CHK)(fd, buf, len, buf_len, flags, addr,
								addr_len);
	return recv_common(SHIM_CALL_RECVFROM, fd, buf, len, flags, addr, addr_len);
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	if (!shim_on() || !shim_is_tcp(fd))
		return REAL(read_fn, REAL_READ)(fd, buf, len);
	return recv_common(SHIM_CALL_READ, fd, buf, len, 0, NULL, NULL);
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buf_len)
{
	if (!shim_on() || len > buf_len || !shim_is_tcp(fd))
		return REAL(read_chk_fn, REAL_READ_CHK)(fd, buf, len, buf_len);
	return recv_common(SHIM_CALL_READ, fd, buf, len, 0, NULL, NULL);
}

/* One recvmsg of at most len bytes of msg's iovecs, starting skip bytes in; name
 * and control only on the first piece (skip == 0). */
static ssize_t recvmsg_piece(int fd, struct msghdr *msg, size_t skip, size_t len, int flags)
{
	struct iovec cut[SHIM_IOV_CUT];
	struct msghdr cut_msg = *msg;
	ssize_t result;

	cut_msg.msg_iov = cut;
	cut_msg.msg_iovlen =
		(size_t)shim_iov_slice(msg->msg_iov, (int)msg->msg_iovlen, skip, len, cut);
	if (skip > 0) {
		cut_msg.msg_name = NULL;
		cut_msg.msg_namelen = 0;
		cut_msg.msg_control = NULL;
		cut_msg.msg_controllen = 0;
	}
	result = REAL(recvmsg_fn, REAL_RECVMSG)(fd, &cut_msg, flags);
	/* What the kernel writes back into the header. */
	if (skip == 0) {
		msg->msg_namelen = cut_msg.msg_namelen;
		msg->msg_controllen = cut_msg.msg_controllen;
	}
	msg->msg_flags = cut_msg.msg_flags;
	return result;
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	recvmsg_fn call = REAL(recvmsg_fn, REAL_RECVMSG);
	struct shim_op c;
	size_t total_bytes, len, goal, done = 0;

	if (!shim_on() || msg == NULL ||
	    !shim_iov_valid(msg->msg_iov, (long)msg->msg_iovlen, &total_bytes) || !shim_is_tcp(fd))
		return call(fd, msg, flags);
	if (shim_call_begin(&c, fd, SHIM_CALL_RECVMSG, flags, total_bytes) < 0)
		return -1;
	if (c.peek)
		return call(fd, msg, flags);
	if (!(flags & MSG_WAITALL) || total_bytes <= c.max_bytes) {
		len = shim_call_cut(&c, total_bytes);
		if (len == total_bytes)
			return shim_call_end(&c, call(fd, msg, flags));
		return shim_call_end(&c, recvmsg_piece(fd, msg, 0, len, flags));
	}
	/* MSG_WAITALL: pieces of recv max until the whole, as recv_waitall. */
	goal = total_bytes < c.hard_bytes ? total_bytes : c.hard_bytes;
	if (goal < total_bytes)
		shim_count(&shim_counters()->short_recvs, 1);
	shim_count(&shim_counters()->recv_max_cuts, 1);
	while (done < goal) {
		size_t ask = goal - done < c.max_bytes ? goal - done : c.max_bytes;
		ssize_t n = recvmsg_piece(fd, msg, done, ask, flags);

		if (n < 0 && done == 0)
			return shim_call_end(&c, -1);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return shim_call_end(&c, (ssize_t)done);
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	readv_fn call = REAL(readv_fn, REAL_READV);
	struct iovec cut[SHIM_IOV_CUT];
	struct shim_op c;
	size_t total_bytes, len;

	if (!shim_on() || !shim_iov_valid(iov, iovcnt, &total_bytes) || !shim_is_tcp(fd))
		return call(fd, iov, iovcnt);
	if (shim_call_begin(&c, fd, SHIM_CALL_READV, 0, total_bytes) < 0)
		return -1;
	len = shim_call_cut(&c, total_bytes);
	if (len == total_bytes)
		return shim_call_end(&c, call(fd, iov, iovcnt));
	return shim_call_end(&c, call(fd, cut, shim_iov_slice(iov, iovcnt, 0, len, cut)));
}

/* ---- sendfile, splice, copy_file_range ---------------------------------------- */

/* Sends all of buf with MSG_EOR, waiting for room when the socket is full: the
 * bytes were taken from a pipe and cannot be put back. Returns what was sent, or
 * -1 (errno) when nothing was. */
static ssize_t send_all_eor(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n =
			REAL(sendto_fn, REAL_SENDTO)(fd, buf + done, len - done, MSG_EOR, NULL, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, -1);
			continue;
		}
		if (n < 0)
			return done > 0 ? (ssize_t)done : -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* sendfile under send max: at most len bytes from in_fd (at *offset, or at its
 * file position when offset is NULL) to the socket, through a buffer, as one write
 * marked MSG_EOR. The source position moves by what was sent. Returns -2 when
 * in_fd has no position (then the real sendfile, cut, does it), else what
 * sendfile would. */
static ssize_t copy_seekable(int sock_fd, int in_fd, off_t *offset, size_t len)
{
	char buf[SHIM_COPY_BYTES];
	off_t pos = offset != NULL ? *offset : lseek(in_fd, 0, SEEK_CUR);
	ssize_t got, sent;

	if (pos < 0)
		return -2;
	got = pread(in_fd, buf, len, pos);
	if (got <= 0)
		return got;
	sent = REAL(sendto_fn, REAL_SENDTO)(sock_fd, buf, (size_t)got, MSG_EOR, NULL, 0);
	if (sent > 0) {
		if (offset != NULL)
			*offset = pos + sent;
		else
			lseek(in_fd, pos + sent, SEEK_SET);
	}
	return sent;
}

static ssize_t sendfile_common(int out_fd, int in_fd, off_t *offset, size_t count, enum real_fn fn)
{
	sendfile_fn call = REAL(sendfile_fn, fn);
	struct shim_op c;
	ssize_t result = -2;
	size_t len;

	if (!shim_on() || !shim_is_tcp(out_fd))
		return call(out_fd, in_fd, offset, count);
	shim_count(&shim_counters()->sendfile_calls, 1);
	if (shim_call_begin(&c, out_fd, SHIM_CALL_SENDFILE, 0, count) < 0)
		return -1;
	len = shim_call_cut(&c, count);
	if (c.mark_eor && len <= SHIM_COPY_BYTES)
		result = copy_seekable(out_fd, in_fd, offset, len);
	if (result == -2)
		result = call(out_fd, in_fd, offset, len);
	return shim_call_end(&c, result);
}

SHIM_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return sendfile_common(out_fd, in_fd, offset, count, REAL_SENDFILE);
}

SHIM_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return sendfile_common(out_fd, in_fd, offset, count, REAL_SENDFILE64);
}

/* splice from a pipe to the socket under send max: read what may be sent, then
 * send it all, marked MSG_EOR. A non-blocking splice that would wait fails with
 * EAGAIN before anything is taken from the pipe. */
static ssize_t splice_from_pipe(struct shim_op *c, int pipe_fd, size_t len)
{
	char buf[SHIM_COPY_BYTES];
	ssize_t got;

	if (c->nonblocking) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLOUT },
				       { .fd = pipe_fd, .events = POLLIN } };

		if (poll(&p[0], 1, 0) != 1 || poll(&p[1], 1, 0) != 1) {
			errno = EAGAIN;
			return -1;
		}
	}
	got = REAL(read_fn, REAL_READ)(pipe_fd, buf, len);
	if (got <= 0)
		return got;
	return send_all_eor(c->fd, buf, (size_t)got);
}

static bool is_pipe(int fd)
{
	int saved_errno = errno;
	struct stat st;
	bool pipe = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);

	errno = saved_errno;
	return pipe;
}

SHIM_EXPORT ssize_t splice(int fd_in, off_t *off_in, int fd_out, off_t *off_out, size_t len,
			   unsigned int flags)
{
	splice_fn call = REAL(splice_fn, REAL_SPLICE);
	bool out_tcp, in_tcp;
	struct shim_op c;
	ssize_t result = -2;
	int msg_flags = (flags & SPLICE_F_NONBLOCK) ? MSG_DONTWAIT : 0;

	if (!shim_on())
		return call(fd_in, off_in, fd_out, off_out, len, flags);
	out_tcp = shim_is_tcp(fd_out);
	in_tcp = !out_tcp && shim_is_tcp(fd_in);
	/* To a socket, splice takes from a pipe (no offset): anything else is the
	 * kernel's error to give. */
	if ((!out_tcp && !in_tcp) || (out_tcp && (off_in != NULL || !is_pipe(fd_in))))
		return call(fd_in, off_in, fd_out, off_out, len, flags);
	shim_count(&shim_counters()->splice_calls, 1);
	if (shim_call_begin(&c, out_tcp ? fd_out : fd_in,
			    out_tcp ? SHIM_CALL_SPLICE_OUT : SHIM_CALL_SPLICE_IN, msg_flags,
			    len) < 0)
		return -1;
	len = shim_call_cut(&c, len);
	if (out_tcp && c.mark_eor && len <= SHIM_COPY_BYTES)
		result = splice_from_pipe(&c, fd_in, len);
	if (result == -2)
		result = call(fd_in, off_in, fd_out, off_out, len, flags);
	return shim_call_end(&c, result);
}

/* Linux refuses copy_file_range with a socket (EINVAL); counted so that the driver
 * can say a program tried it, and passed on. */
SHIM_EXPORT ssize_t copy_file_range(int fd_in, off_t *off_in, int fd_out, off_t *off_out,
				    size_t len, unsigned int flags)
{
	if (shim_on() && (shim_is_tcp(fd_out) || shim_is_tcp(fd_in)))
		shim_count(&shim_counters()->copy_file_range_calls, 1);
	return REAL(copy_file_range_fn, REAL_COPY_FILE_RANGE)(fd_in, off_in, fd_out, off_out, len,
							      flags);
}

/* ---- sendmmsg, recvmmsg ------------------------------------------------------- */

/* The iovecs of every message valid; the sum of their totals in *total_bytes. */
static bool mmsg_valid(const struct mmsghdr *vec, unsigned int vlen, size_t *total_bytes)
{
	unsigned int i;

	*total_bytes = 0;
	if (vlen > 0 && vec == NULL)
		return false;
	for (i = 0; i < vlen && i < IOV_MAX; i++) {
		size_t msg_bytes;

		if (!shim_iov_valid(vec[i].msg_hdr.msg_iov, (long)vec[i].msg_hdr.msg_iovlen,
				    &msg_bytes) ||
		    msg_bytes > SIZE_MAX - *total_bytes)
			return false;
		*total_bytes += msg_bytes;
	}
	return true;
}

/* On a TCP socket one sendmmsg is one send-direction call: under a cut the
 * messages are sent one by one with sendmsg, and the first that is cut is the
 * last sent (the kernel reports a short message the same way). */
SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	sendmmsg_fn call = REAL(sendmmsg_fn, REAL_SENDMMSG);
	struct shim_op c;
	size_t total_bytes, limit_bytes, sent = 0;
	unsigned int i = 0;
	int result;

	if (!shim_on() || !mmsg_valid(vec, vlen, &total_bytes) || !shim_is_tcp(fd))
		return call(fd, vec, vlen, flags);
	shim_count(&shim_counters()->mmsg_calls, 1);
	if (shim_call_begin(&c, fd, SHIM_CALL_SENDMMSG, flags, total_bytes) < 0)
		return -1;
	limit_bytes = shim_call_cut(&c, total_bytes);
	if (limit_bytes == total_bytes && !c.mark_eor) {
		result = call(fd, vec, vlen, flags);
		for (i = 0; result > 0 && i < (unsigned int)result; i++)
			sent += vec[i].msg_len;
		shim_call_end(&c, result < 0 ? -1 : (ssize_t)sent);
		return result;
	}
	if (c.mark_eor)
		flags |= MSG_EOR;
	for (i = 0; i < vlen && i < IOV_MAX && sent < limit_bytes; i++) {
		struct iovec cut[SHIM_IOV_CUT];
		struct msghdr msg = vec[i].msg_hdr;
		size_t msg_bytes;
		ssize_t n;

		shim_iov_valid(msg.msg_iov, (long)msg.msg_iovlen, &msg_bytes);
		if (msg_bytes > limit_bytes - sent) {
			msg.msg_iov = cut;
			msg.msg_iovlen = (size_t)shim_iov_slice(vec[i].msg_hdr.msg_iov,
								(int)vec[i].msg_hdr.msg_iovlen, 0,
								limit_bytes - sent, cut);
		}
		n = REAL(sendmsg_fn, REAL_SENDMSG)(fd, &msg, flags);
		if (n < 0) {
			if (i == 0)
				return (int)shim_call_end(&c, -1);
			break;
		}
		vec[i].msg_len = (unsigned int)n;
		sent += (size_t)n;
		if ((size_t)n < msg_bytes) {
			i++;
			break;
		}
	}
	shim_call_end(&c, (ssize_t)sent);
	return (int)i;
}

/* One recvmmsg is one receive-direction call: under a cut it fills the first
 * message only, with one recvmsg, and returns 1 (as the kernel does when no more
 * data is there). */
SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
			 struct timespec *timeout)
{
	recvmmsg_fn call = REAL(recvmmsg_fn, REAL_RECVMMSG);
	struct shim_op c;
	size_t first_bytes, len, received = 0;
	unsigned int i;
	ssize_t n;
	int result;

	if (!shim_on() || vlen == 0 || !mmsg_valid(vec, 1, &first_bytes) || !shim_is_tcp(fd))
		return call(fd, vec, vlen, flags, timeout);
	shim_count(&shim_counters()->mmsg_calls, 1);
	if (shim_call_begin(&c, fd, SHIM_CALL_RECVMMSG, flags, first_bytes) < 0)
		return -1;
	if (c.peek)
		return call(fd, vec, vlen, flags, timeout);
	len = shim_call_cut(&c, first_bytes);
	if (len == first_bytes && c.max_bytes == SIZE_MAX && c.hard_bytes == SIZE_MAX) {
		result = call(fd, vec, vlen, flags, timeout);
		for (i = 0; result > 0 && i < (unsigned int)result; i++)
			received += vec[i].msg_len;
		shim_call_end(&c, result < 0 ? -1 : (ssize_t)received);
		return result;
	}
	n = recvmsg_piece(fd, &vec[0].msg_hdr, 0, len, flags & ~(MSG_WAITFORONE | MSG_WAITALL));
	if (n < 0)
		return (int)shim_call_end(&c, -1);
	vec[0].msg_len = (unsigned int)n;
	shim_call_end(&c, n);
	return 1;
}

/* ---- connections ---------------------------------------------------------------- */

static bool is_tcp_request(int domain, int type)
{
	return (domain == AF_INET || domain == AF_INET6) &&
	       (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM;
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	socket_fn call = REAL(socket_fn, REAL_SOCKET);
	int fd;

	if (!shim_on() || !is_tcp_request(domain, type))
		return call(domain, type, protocol);
	if (shim_other_call(-1, SHIM_CALL_SOCKET))
		return -1;
	fd = call(domain, type, protocol);
	if (fd >= 0)
		shim_new_socket(fd);
	return fd;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t addr_len)
{
	connect_fn call = REAL(connect_fn, REAL_CONNECT);

	if (!shim_on() || !shim_is_tcp(fd))
		return call(fd, addr, addr_len);
	if (shim_other_call(fd, SHIM_CALL_CONNECT))
		return -1;
	return call(fd, addr, addr_len);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *addr_len)
{
	accept_fn call = REAL(accept_fn, REAL_ACCEPT);
	int new_fd;

	if (!shim_on() || !shim_is_tcp(fd))
		return call(fd, addr, addr_len);
	if (shim_other_call(fd, SHIM_CALL_ACCEPT))
		return -1;
	new_fd = call(fd, addr, addr_len);
	if (new_fd >= 0)
		shim_new_socket(new_fd);
	return new_fd;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *addr_len, int flags)
{
	accept4_fn call = REAL(accept4_fn, REAL_ACCEPT4);
	int new_fd;

	if (!shim_on() || !shim_is_tcp(fd))
		return call(fd, addr, addr_len, flags);
	if (shim_other_call(fd, SHIM_CALL_ACCEPT4))
		return -1;
	new_fd = call(fd, addr, addr_len, flags);
	if (new_fd >= 0)
		shim_new_socket(new_fd);
	return new_fd;
}

SHIM_EXPORT int close(int fd)
{
	close_fn call = REAL(close_fn, REAL_CLOSE);
	bool failed;
	int error_value;
	int result;

	if (!shim_on() || !shim_is_tcp(fd))
		return call(fd);
	failed = shim_other_call(fd, SHIM_CALL_CLOSE);
	error_value = errno;
	shim_before_close(fd);
	result = call(fd);
	if (failed) {
		/* The fd is closed anyway, as Linux does when close fails with EINTR. */
		errno = error_value;
		return -1;
	}
	return result;
}

/* ---- what the driver needs to explain a fault that did nothing ------------------ */

/* syscall(2) is forwarded with six arguments, as glibc's own takes them; only
 * io_uring_setup is counted (I/O through io_uring never reaches the shim). */
SHIM_EXPORT long syscall(long number, ...)
{
	long args[6];
	va_list ap;
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		args[i] = va_arg(ap, long);
	va_end(ap);
#ifdef SYS_io_uring_setup
	if (number == SYS_io_uring_setup && shim_on())
		shim_count(&shim_counters()->io_uring_setups, 1);
#endif
	return REAL(syscall_fn, REAL_SYSCALL)(number, args[0], args[1], args[2], args[3], args[4],
					      args[5]);
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	int entry = shim_exec_begin(path);
	int result = REAL(execve_fn, REAL_EXECVE)(path, argv, envp);

	shim_exec_failed(entry);
	return result;
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	int entry = shim_exec_begin(path);
	int result = REAL(execv_fn, REAL_EXECV)(path, argv);

	shim_exec_failed(entry);
	return result;
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	int entry = shim_exec_begin(file);
	int result = REAL(execv_fn, REAL_EXECVP)(file, argv);

	shim_exec_failed(entry);
	return result;
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	int entry = shim_exec_begin(file);
	int result = REAL(execve_fn, REAL_EXECVPE)(file, argv, envp);

	shim_exec_failed(entry);
	return result;
}
