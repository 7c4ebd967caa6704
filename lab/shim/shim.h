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
 * __read_chk __recv_chk __recvfrom_chk sendfile sendfile64 splice sendmmsg recvmmsg
 * connect accept accept4 socket close; copy_file_range, syscall (io_uring_setup)
 * and execve execv execvp execvpe are counted only. Not interposed (never faulted,
 * never counted): stdio on an fdopen'ed socket (glibc calls its internal
 * read/write there), io_uring, and programs LD_PRELOAD cannot reach (statically
 * linked, Go): shim_explain.h says which when a fault did nothing.
 *
 * The kernel's promises are kept:
 *   - A call with invalid arguments (iovcnt < 0 or > IOV_MAX, a NULL msghdr, an
 *     iovec total above SSIZE_MAX, a _chk length beyond the buffer, splice to a
 *     socket from anything but a pipe, a bad fd, a fd that is not a TCP socket)
 *     goes to libc untouched and gets libc's own result and errno.
 *   - MSG_PEEK: passed on untouched; it is not cut, not delayed, not failed and
 *     counts toward no schedule (once, every N, after BYTES), since what it
 *     returns stays in the socket. Only a socket reset by `reset after` fails it.
 *   - MSG_WAITALL under recv max N: the shim reads pieces of at most N until the
 *     whole length has come, or end of file, an error, a signal or a time limit
 *     stops it, and returns what the kernel would (the bytes so far, or -1).
 *   - State is per socket, not per fd number: found by SO_COOKIE, so dup, dup2,
 *     dup3 share it, and a new socket given a reused fd number (after close,
 *     close_range, fclose, or as the target of dup2) never inherits it. The table
 *     holds 65536 sockets per program image; calls on sockets beyond that are
 *     counted (untracked_calls) and count for no after BYTES.
 *
 * Behaviour of each fault, per call on a TCP socket:
 *   send max N / recv max N: the length (iovec total for *msg, *v and *mmsg calls;
 *     at most the first 64 non-empty iovecs are kept when cutting) is cut to N: a
 *     real short send or read; the caller deals with the rest.
 *     Under send max each short write leaves as a segment of its own: the socket
 *     gets TCP_NODELAY (Nagle would hold a small write back while one is
 *     unacknowledged), and every send is made with MSG_EOR (unless the program
 *     asked MSG_MORE), so the kernel never appends the next write to one still
 *     waiting in the send queue. Without MSG_EOR a write loop that outruns the
 *     congestion window merges: measured with a C echo server, `send max 10`,
 *     1000 bytes and tcp_autocorking 0, the capture showed 34 segments of 10 and
 *     then one of 660: cwnd 18 segments, all 18 unacknowledged, and the later
 *     writes appended to the unsent tail (SIOCOUTQNSD grew 10, 20, ... 660) until
 *     an ACK opened the window. With MSG_EOR: 100 segments of 10, autocorking on
 *     or off. So no segment carries more than N, except from sends the shim does not
 *     see and sendfile/splice under a send max above 16 KiB (below).
 *     sendfile and splice to a TCP socket under send max of at most 16 KiB copy
 *     through a buffer so that the write can be marked MSG_EOR (sendfile reads at
 *     the offset and moves the file position by what was sent; splice reads at
 *     most N from the pipe and sends all of it, waiting for room if it must). Above
 *     16 KiB, and for the other faults, the real sendfile/splice is made with the
 *     length cut. sendmmsg: the messages are sent one by one with sendmsg until the
 *     call's N bytes are used up; the message cut short is the last one reported.
 *     recvmmsg: one recvmsg into the first message, cut; returns 1.
 *   send/recv delay: sleep (CLOCK_MONOTONIC, resumed after signals) before a call
 *     that may move data: a blocking call always; a non-blocking one (O_NONBLOCK,
 *     MSG_DONTWAIT, SPLICE_F_NONBLOCK) only when poll says the socket is ready,
 *     so a call that fails with EAGAIN pays nothing and an event loop pays each
 *     delay once. A MSG_WAITALL call pays it once.
 *   error CALL ERRNO WHEN: the call is not done and returns -1 with errno = ERRNO.
 *     once = the first matching call of the process; every N = the N-th, 2N-th ...
 *     matching call of the process; after BYTES = see below. Rules are tried in
 *     order; the first that fires wins. `close` is the exception: the fd is closed
 *     anyway (as Linux does on EINTR) and then -1/ERRNO is returned.
 *   buffers: SO_RCVBUF/SO_SNDBUF set on every TCP socket made by socket() and
 *     accept()/accept4() (the kernel doubles the value it reports).
 *   reset after N: once N bytes have moved on the socket, the shim aborts the
 *     connection (SO_LINGER {1,0} and connect(AF_UNSPEC), which makes the kernel
 *     send a RST: the peer sees ECONNRESET). The call that moved the N-th byte
 *     succeeds; every later call on that socket (any fd of it) returns -1
 *     ECONNRESET, and the fd stays valid until the program closes it. A socket
 *     closed after N bytes without the reset having happened is aborted first.
 *   close after N: once N bytes have moved on the socket the shim shuts the
 *     connection down in both directions (shutdown(SHUT_RDWR): a FIN, an orderly
 *     close, after TCP_NODELAY). The fd stays open and later calls go to the
 *     kernel as they are: receives get end of file, sends fail with EPIPE.
 *
 * after BYTES means the same for all three (`reset after`, `close after`, `error
 * CALL ERRNO after BYTES`): BYTES counts what was sent plus what was received on
 * one socket (all fds of it, in this program image; a forked child counts apart
 * from its parent), and no call moves past the boundary: the call that would
 * cross it is cut there (a short send or read ending exactly at BYTES), and the
 * fault acts from the next call on (reset after and close after act as soon as the
 * boundary is reached). For error, only the calls the rule names are cut and
 * failed. For calls that make a connection and have no bytes of their own
 * (socket, connect, accept), error ... after BYTES counts the bytes of every TCP
 * socket of the process.
 *
 * Counters for the driver (shim_config.h struct shim_stats): whether the shim was
 * loaded (processes), the TCP sockets it saw, the calls per direction and the
 * largest asked, how often each fault acted (send_max_cuts, error_rule_fired[i],
 * ...), the most bytes one socket moved, and the calls that bypass or might
 * bypass it (sendfile, splice, copy_file_range, mmsg, io_uring_setup, execs). Each
 * slot also keeps its program's executable and the paths it exec'ed. */
#ifndef TCPLAB_SHIM_H
#define TCPLAB_SHIM_H

#define SHIM_ENV_FAULTS "TCPLAB_FAULTS"
#define SHIM_ENV_STATS "TCPLAB_SHIM_STATS"

#endif
