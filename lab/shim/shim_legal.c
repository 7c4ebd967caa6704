/* shim_legal: when the kernel could return EINTR or EAGAIN (shim_legal.h), and the
 * epoll_ctl interposer that remembers which sockets an epoll set watches
 * edge-triggered. Its only state is that table. */
#include "lab/shim/shim_legal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lab/shim/shim_config.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Sockets with a smaller fd are tracked; a larger one never gets EAGAIN. */
#define LEGAL_FDS 4096

typedef int (*epoll_ctl_fn)(int, int, int, struct epoll_event *);

struct legal_state {
	epoll_ctl_fn real_epoll_ctl;
	unsigned char edge[LEGAL_FDS]; /* 1: some epoll set watches fd with EPOLLET */
};

static struct legal_state legal;

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	epoll_ctl_fn call = __atomic_load_n(&legal.real_epoll_ctl, __ATOMIC_ACQUIRE);
	int result;

	if (call == NULL) {
		call = (epoll_ctl_fn)dlsym(RTLD_NEXT, "epoll_ctl");
		__atomic_store_n(&legal.real_epoll_ctl, call, __ATOMIC_RELEASE);
	}
	result = call(epfd, op, fd, event);
	if (result == 0 && fd >= 0 && fd < LEGAL_FDS) {
		/* EPOLLONESHOT is re-armed with EPOLL_CTL_MOD, and a re-armed fd that
		 * is still ready is reported again: only plain edge-triggered counts.
		 * Once marked, a socket stays marked (a stale mark only means fewer
		 * EAGAINs, never a wrong one). */
		if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && event != NULL &&
		    (event->events & EPOLLET) && !(event->events & EPOLLONESHOT))
			__atomic_store_n(&legal.edge[fd], 1, __ATOMIC_RELAXED);
	}
	return result;
}

static bool fd_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

static bool has_timeout(int fd, bool sending)
{
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, sending ? SO_SNDTIMEO : SO_RCVTIMEO, &tv, &len) < 0)
		return false;
	return tv.tv_sec != 0 || tv.tv_usec != 0;
}

/* A handler that could interrupt the calling thread's blocking call with EINTR. */
static bool interrupting_handler(bool timeout)
{
	sigset_t blocked;

	if (pthread_sigmask(SIG_BLOCK, NULL, &blocked) != 0)
		return false;
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGALRM || sig == SIGVTALRM ||
		    sig == SIGPROF)
			continue;
		if (sigismember(&blocked, sig) == 1)
			continue;
		if (sigaction(sig, NULL, &sa) != 0)
			continue;
		if (!(sa.sa_flags & SA_SIGINFO) &&
		    (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
			continue;
		if (!(sa.sa_flags & SA_RESTART) || timeout)
			return true;
	}
	return false;
}

bool shim_legal_error(int errno_value, int fd, uint32_t call, int nonblocking)
{
	int saved_errno = errno;
	bool sending = (call & SHIM_CALLS_SEND_DIR) != 0;
	bool data = sending || (call & SHIM_CALLS_RECV_DIR) != 0;
	bool legal_now = false;
	bool may_not_block = nonblocking < 0 ? fd_nonblocking(fd) : nonblocking > 0;

	if (errno_value == EAGAIN || errno_value == EWOULDBLOCK) {
		legal_now = data && fd >= 0 && fd < LEGAL_FDS && may_not_block &&
			    !__atomic_load_n(&legal.edge[fd], __ATOMIC_RELAXED);
	} else if (errno_value == EINTR) {
		bool accepting = (call & (SHIM_CALL_ACCEPT | SHIM_CALL_ACCEPT4)) != 0;

		legal_now = (data || accepting) && !may_not_block &&
			    interrupting_handler(has_timeout(fd, sending));
	}
	errno = saved_errno;
	return legal_now;
}
