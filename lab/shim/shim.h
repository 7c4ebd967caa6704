/* shim: the LD_PRELOAD fault shim (libtcplab_shim.so). It interposes the libc socket
 * and I/O calls of the program it is preloaded into and, on TCP sockets only
 * (AF_INET/AF_INET6 + SOCK_STREAM; never files, pipes, terminals or unix sockets),
 * injects the faults named in TCPLAB_FAULTS (format in shim_config.h), counting
 * what it did into the stats file TCPLAB_SHIM_STATS (layout in shim_config.h).
 *
 * Environment (read once, when the library is loaded; left as it is so that the
 * programs a shell starts inherit it):
 *   LD_PRELOAD=/abs/path/libtcplab_shim.so
 *   TCPLAB_FAULTS=SPEC         unset or empty: no faults (the shim only counts)
 *   TCPLAB_SHIM_STATS=/abs/path  unset or empty: no stats; created if missing
 * A TCPLAB_FAULTS that does not parse is a driver bug: the shim writes one line to
 * stderr and the process exits with status 127.
 *
 * Interposed: send sendto sendmsg write writev recv recvfrom recvmsg read readv
 * __read_chk __recv_chk __recvfrom_chk connect accept accept4 socket close
 * epoll_ctl (observed only).
 * Not interposed (never faulted): sendfile, splice, sendmmsg/recvmmsg, and stdio
 * on an fdopen'ed socket (glibc calls its internal read/write there).
 *
 * Behaviour of each fault, per call on a TCP socket:
 *   send max N / recv max N: the length (iovec total for *msg and *v calls; at most
 *     the first 64 non-empty iovecs are kept when cutting) is cut to N: a real short
 *     send or read; the caller deals with the rest.
 *     Under send max the socket also gets TCP_NODELAY, so that every short write
 *     leaves as its own segment (Nagle would join the small writes that wait for
 *     an ACK, and the capture would hide the fault).
 *   send/recv delay: sleep (CLOCK_MONOTONIC, resumed after signals) before the call.
 *   error CALL ERRNO WHEN: the call is not done and returns -1 with errno = ERRNO.
 *     Schedules count per process: once = first matching call; every N = the N-th,
 *     2N-th ... matching call; after BYTES = every matching call once the process
 *     has sent (send-direction calls) / received (receive-direction calls) / sent +
 *     received (other calls) BYTES on TCP sockets. Rules are tried in order; the
 *     first that fires wins. `close` is the exception: the fd is closed anyway (as
 *     Linux does on EINTR) and then -1/ERRNO is returned.
 *     A rule marked legal (EINTR, EAGAIN only) skips, without counting them, the
 *     calls the kernel itself could not fail that way (shim_legal.h); for that
 *     the shim also interposes epoll_ctl, only to note which sockets an epoll set
 *     watches edge-triggered (the call itself is passed on untouched).
 *   buffers: SO_RCVBUF/SO_SNDBUF set on every TCP socket made by socket() and
 *     accept()/accept4() (the kernel doubles the value it reports).
 *   close after N: counted like reset after; once N bytes have moved the shim
 *     shuts the connection down in both directions (shutdown(SHUT_RDWR): a FIN,
 *     an orderly close, after TCP_NODELAY). The fd stays open and later calls go
 *     to the kernel as they are: receives get end of file, sends fail with EPIPE.
 *   reset after N: bytes sent + received on one socket are counted; a call never
 *     moves past N; the moment the N-th byte has moved, the shim aborts the
 *     connection (SO_LINGER {1,0} and connect(AF_UNSPEC), which makes the kernel
 *     send a RST: the peer sees ECONNRESET). The call that moved the N-th byte
 *     succeeds; every later send/recv on that fd returns -1 ECONNRESET, and the fd
 *     stays valid until the program closes it. A socket closed after N bytes
 *     without the reset having happened is aborted before the close. Sockets with
 *     fd >= 4096 are not tracked for reset after. */
#ifndef TCPLAB_SHIM_H
#define TCPLAB_SHIM_H

#define SHIM_ENV_FAULTS "TCPLAB_FAULTS"
#define SHIM_ENV_STATS "TCPLAB_SHIM_STATS"

#endif
