/* sandbox: private network and PID namespaces per scenario (see sandbox.h). */
#include "lab/run/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_file(const char *path, const char *text, struct lab_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);

	if (fd < 0)
		return lab_err_sys(err, errno, "cannot open %s", path);
	if (write(fd, text, (size_t)len) != len) {
		int saved = errno;

		close(fd);
		return lab_err_sys(err, saved, "cannot write \"%s\" to %s", text, path);
	}
	close(fd);
	return 0;
}

int sandbox_prepare_process(struct lab_err *err)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (uid == 0)
		return 0;
	if (unshare(CLONE_NEWUSER) < 0)
		return lab_err_sys(
			err, errno,
			"cannot make a user namespace as uid %u (tcplab needs root, or "
			"unprivileged user namespaces: sysctl user.max_user_namespaces > 0 "
			"and kernel.unprivileged_userns_clone=1)",
			(unsigned)uid);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map, err) < 0)
		return -1;
	if (write_file("/proc/self/setgroups", "deny", err) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	return write_file("/proc/self/gid_map", map, err);
}

static int bring_lo_up(struct lab_err *err)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return lab_err_sys(err, errno, "cannot open a socket in the new namespace");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		int saved = errno;

		close(fd);
		return lab_err_sys(err, saved, "cannot read the flags of lo");
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		int saved = errno;

		close(fd);
		return lab_err_sys(err, saved, "cannot bring lo up");
	}
	close(fd);
	return 0;
}

int sandbox_apply_sysctls(const struct scenario *sc, struct lab_err *err)
{
	for (size_t i = 0; i < sc->n_sysctls; i++) {
		const struct scenario_sysctl *s = &sc->sysctls[i];
		char path[512];
		struct lab_err why;

		snprintf(path, sizeof(path), "/proc/sys/%s", s->name);
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		if (write_file(path, s->value, &why) < 0)
			return lab_err_set(err, "%s:%d:1: sysctl %s: %s", sc->path, s->line,
					   s->name, why.msg);
	}
	return 0;
}

/* In init: answers one request on fd, a PID of this namespace, with a pidfd for
 * it (SCM_RIGHTS) or an errno. */
static void serve_pidfd(int fd)
{
	char control[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8)));
	struct msghdr msg = { 0 };
	struct iovec iov;
	struct cmsghdr *cmsg;
	int pid;
	int answer = 0;
	int pidfd;

	if (recv(fd, &pid, sizeof(pid), 0) != sizeof(pid))
		_exit(0); /* the lab closed its end */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		answer = errno;
	iov = (struct iovec){ .iov_base = &answer, .iov_len = sizeof(answer) };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pidfd >= 0) {
		memset(control, 0, sizeof(control));
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &pidfd, sizeof(int));
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		_exit(0);
	if (pidfd >= 0)
		close(pidfd);
}

/* Closes every descriptor from 3 up but keep_a and keep_b. */
static void close_all_but(int keep_a, int keep_b)
{
	int lo = keep_a < keep_b ? keep_a : keep_b;
	int hi = keep_a < keep_b ? keep_b : keep_a;

	if (lo > 3)
		syscall(SYS_close_range, 3U, (unsigned)lo - 1, 0U);
	if (hi > lo + 1)
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0U);
	syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
}

/* The PID namespace's init: mounts the namespace's own /proc (so that programs
 * and their tools, ps or LeakSanitizer, see their own processes), says so on
 * ready_fd, then reaps whatever is reparented to it and hands out pidfds on
 * helper_fd (sandbox_pidfd) until killed. It holds nothing else of the lab's:
 * other scenarios' capture sockets, inherited from the fork, would live on. */
static void init_loop(int ready_fd, int helper_fd)
{
	sigset_t set;
	int result = 0;
	struct pollfd pfd[2];

	prctl(PR_SET_NAME, "tcplab-init");
	close_all_but(ready_fd, helper_fd);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		result = errno;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pfd[0] = (struct pollfd){ .fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK),
				  .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = helper_fd, .events = POLLIN };
	if (pfd[0].fd < 0 && result == 0)
		result = errno;
	if (write(ready_fd, &result, sizeof(result)) < 0)
		_exit(1);
	close(ready_fd);
	for (;;) {
		struct signalfd_siginfo info;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (poll(pfd, 2, -1) < 0)
			continue;
		while (read(pfd[0].fd, &info, sizeof(info)) > 0)
			;
		if (pfd[1].revents != 0)
			serve_pidfd(helper_fd);
	}
}

int sandbox_pidfd(struct sandbox *sb, pid_t pid)
{
	char control[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8)));
	struct msghdr msg = { 0 };
	struct iovec iov;
	struct cmsghdr *cmsg;
	int request = (int)pid;
	int answer = 0;
	int fd = -1;
	ssize_t n;

	if (sb->init_fd < 0) {
		errno = ESRCH;
		return -1;
	}
	if (send(sb->init_fd, &request, sizeof(request), MSG_NOSIGNAL) != sizeof(request))
		return -1;
	iov = (struct iovec){ .iov_base = &answer, .iov_len = sizeof(answer) };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	do {
		n = recvmsg(sb->init_fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(answer)) {
		if (n >= 0)
			errno = EPROTO;
		return -1;
	}
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	if (fd < 0)
		errno = answer != 0 ? answer : EPROTO;
	return fd;
}

int sandbox_enter(struct sandbox *sb, const struct scenario *sc, struct lab_err *err)
{
	int ready[2];
	int helper[2];
	int result = 0;
	ssize_t n;
	pid_t pid;

	sb->init_pid = -1;
	sb->init_fd = -1;
	/* A mount namespace too, private from the start, for the PID namespace's
	 * /proc (CLONE_FS comes with it: this thread gets its own root and cwd). */
	if (unshare(CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS) < 0)
		return lab_err_sys(err, errno, "cannot make network, PID and mount namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return lab_err_sys(err, errno, "cannot make the mount namespace private");
	if (bring_lo_up(err) < 0 || sandbox_apply_sysctls(sc, err) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return lab_err_sys(err, errno, "cannot make a pipe");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, helper) < 0) {
		close(ready[0]);
		close(ready[1]);
		return lab_err_sys(err, errno, "cannot make a socket pair");
	}
	pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		close(helper[0]);
		close(helper[1]);
		return lab_err_sys(err, errno, "cannot start the namespace's init");
	}
	if (pid == 0) {
		/* Dies with the thread that made it, so a crashed lab leaves nothing. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		init_loop(ready[1], helper[1]);
		_exit(0);
	}
	sb->init_pid = pid;
	sb->init_fd = helper[0];
	close(helper[1]);
	close(ready[1]);
	do {
		n = read(ready[0], &result, sizeof(result));
	} while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != sizeof(result))
		return lab_err_set(err, "the namespace's init died before it was ready");
	if (result != 0)
		return lab_err_sys(err, result, "cannot mount /proc for the PID namespace");
	return 0;
}

void sandbox_leave(struct sandbox *sb)
{
	if (sb->init_fd >= 0)
		close(sb->init_fd);
	sb->init_fd = -1;
	if (sb->init_pid <= 0)
		return;
	kill(sb->init_pid, SIGKILL);
	while (waitpid(sb->init_pid, NULL, 0) < 0 && errno == EINTR)
		;
	sb->init_pid = -1;
}
