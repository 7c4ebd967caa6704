/* shim_legal: may the kernel itself fail this call with this errno? The answer for
 * an error rule marked `legal` (TCPLAB_FAULTS "error=...:legal", the scenario
 * language's `fault WHO error CALL ERRNO [WHEN] legal`), which `tcplab explore`
 * uses so that it only perturbs a program in ways a correct program must survive.
 * Part of the preloaded shim: libc only, allocates nothing, prints nothing. The
 * reasons are in docs/explore.md. */
#ifndef TCPLAB_SHIM_LEGAL_H
#define TCPLAB_SHIM_LEGAL_H

#include <stdbool.h>
#include <stdint.h>

/* True when the call (one enum shim_call bit) on the TCP socket fd could fail with
 * errno_value. nonblocking: whether the call may not block (O_NONBLOCK on the
 * socket, MSG_DONTWAIT, SPLICE_F_NONBLOCK), as the caller worked it out; < 0:
 * look at the socket's O_NONBLOCK.
 *   EAGAIN/EWOULDBLOCK: a send- or receive-direction call that does not block,
 *     on a socket that no epoll set
 *     watches edge-triggered (an edge-triggered loop would wait for an edge that
 *     never comes: the kernel only says EAGAIN when nothing is there);
 *   EINTR: a send- or receive-direction call or accept that blocks, in a process
 *     with a handler installed without SA_RESTART for a signal the calling thread
 *     does not block (SIGALRM, SIGVTALRM and SIGPROF do not count: a program arms
 *     those itself and may read their EINTR as "time is up"), or with a handler
 *     with SA_RESTART when the socket has SO_RCVTIMEO/SO_SNDTIMEO (signal(7):
 *     such calls are never restarted);
 *   anything else: false. errno is kept. */
bool shim_legal_error(int errno_value, int fd, uint32_t call, int nonblocking);

#endif
