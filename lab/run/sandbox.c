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
#include <sys/socket.h>
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

static int apply_sysctls(const struct scenario *sc, struct lab_err *err)
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

/* The PID namespace's init: mounts the namespace's own /proc (so that programs
 * and their tools, ps or LeakSanitizer, see their own processes), says so on
 * ready_fd, then reaps whatever is reparented to it until killed. */
static void init_loop(int ready_fd)
{
	sigset_t set;
	int result = 0;

	prctl(PR_SET_NAME, "tcplab-init");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		result = errno;
	if (write(ready_fd, &result, sizeof(result)) < 0)
		_exit(1);
	close(ready_fd);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		sigwaitinfo(&set, NULL);
	}
}

int sandbox_enter(struct sandbox *sb, const struct scenario *sc, struct lab_err *err)
{
	int ready[2];
	int result = 0;
	ssize_t n;
	pid_t pid;

	sb->init_pid = -1;
	/* A mount namespace too, private from the start, for the PID namespace's
	 * /proc (CLONE_FS comes with it: this thread gets its own root and cwd). */
	if (unshare(CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS) < 0)
		return lab_err_sys(err, errno, "cannot make network, PID and mount namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return lab_err_sys(err, errno, "cannot make the mount namespace private");
	if (bring_lo_up(err) < 0 || apply_sysctls(sc, err) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return lab_err_sys(err, errno, "cannot make a pipe");
	pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		return lab_err_sys(err, errno, "cannot start the namespace's init");
	}
	if (pid == 0) {
		/* Dies with the thread that made it, so a crashed lab leaves nothing. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		init_loop(ready[1]);
		_exit(0);
	}
	sb->init_pid = pid;
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
	if (sb->init_pid <= 0)
		return;
	kill(sb->init_pid, SIGKILL);
	while (waitpid(sb->init_pid, NULL, 0) < 0 && errno == EINTR)
		;
	sb->init_pid = -1;
}
