/* hang: every process of a scenario waiting for ever (see hang.h). */
#include "lab/liveness/hang.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* futex(2) operations that wait; the low bits, without FUTEX_PRIVATE_FLAG. */
#define HANG_FUTEX_WAIT 0
#define HANG_FUTEX_WAIT_BITSET 9
#define HANG_FUTEX_CMD_MASK 0x7f
/* x86-64's x32 ABI marks its system call numbers with this bit. */
#define HANG_X32_BIT 0x40000000L

int hang_parse_syscall(const char *text, struct hang_call *call)
{
	char *end;

	memset(call, 0, sizeof(*call));
	while (isspace((unsigned char)*text))
		text++;
	if (strncmp(text, "running", 7) == 0) {
		call->nr = -1;
		call->running = true;
		return 0;
	}
	call->nr = strtol(text, &end, 10);
	if (end == text)
		return -1;
	for (int i = 0; i < 6 && call->nr >= 0; i++) {
		text = end;
		call->args[i] = (long)strtoul(text, &end, 16);
		if (end == text)
			return -1;
	}
	return 0;
}

bool hang_call_waits_forever(const struct hang_call *call)
{
	long cmd;

	if (call->running || call->nr < 0)
		return false;
	/* Calls that arm64 and riscv lack (they have only the p- and -at forms) are
	 * left out there, by #ifdef: their numbers are not defined. */
	switch (call->nr) {
	case SYS_read:
	case SYS_readv:
	case SYS_recvfrom:
	case SYS_recvmsg:
	case SYS_accept4:
	case SYS_waitid:
	case SYS_rt_sigsuspend:
#ifdef SYS_accept
	case SYS_accept:
#endif
#ifdef SYS_wait4
	case SYS_wait4:
#endif
#ifdef SYS_pause
	case SYS_pause:
#endif
		return true;
#ifdef SYS_poll
	case SYS_poll:
		return (int)call->args[2] < 0; /* timeout in ms; negative: none */
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
	case SYS_epoll_pwait:
		return (int)call->args[3] < 0;
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
		return call->args[3] == 0; /* struct timespec *: NULL means none */
#endif
	case SYS_ppoll:
		return call->args[2] == 0; /* struct timespec *: NULL means none */
#ifdef SYS_select
	case SYS_select:
#endif
	case SYS_pselect6:
		return call->args[4] == 0;
	case SYS_rt_sigtimedwait:
		return call->args[2] == 0;
	case SYS_futex:
		cmd = call->args[1] & HANG_FUTEX_CMD_MASK;
		return (cmd == HANG_FUTEX_WAIT || cmd == HANG_FUTEX_WAIT_BITSET) &&
		       call->args[3] == 0;
	default:
		return false; /* sleeps with a deadline, or anything we cannot judge */
	}
}

const char *hang_call_name(long nr)
{
	static const struct {
		long nr;
		const char *name;
	} names[] = {
		{ SYS_read, "read" },
		{ SYS_readv, "readv" },
		{ SYS_recvfrom, "recvfrom" },
		{ SYS_recvmsg, "recvmsg" },
		{ SYS_accept4, "accept4" },
		{ SYS_waitid, "waitid" },
		{ SYS_rt_sigsuspend, "sigsuspend" },
		{ SYS_ppoll, "ppoll" },
		{ SYS_pselect6, "pselect6" },
		{ SYS_epoll_pwait, "epoll_pwait" },
		{ SYS_futex, "futex" },
		{ SYS_rt_sigtimedwait, "sigtimedwait" },
		{ SYS_nanosleep, "nanosleep" },
		{ SYS_clock_nanosleep, "clock_nanosleep" },
		{ SYS_write, "write" },
		{ SYS_writev, "writev" },
		{ SYS_sendto, "sendto" },
		{ SYS_sendmsg, "sendmsg" },
		{ SYS_sendmmsg, "sendmmsg" },
		{ SYS_recvmmsg, "recvmmsg" },
		{ SYS_connect, "connect" },
		{ SYS_splice, "splice" },
#ifdef SYS_sendfile
		{ SYS_sendfile, "sendfile" },
#endif
#ifdef SYS_accept
		{ SYS_accept, "accept" },
#endif
#ifdef SYS_wait4
		{ SYS_wait4, "wait4" },
#endif
#ifdef SYS_pause
		{ SYS_pause, "pause" },
#endif
#ifdef SYS_poll
		{ SYS_poll, "poll" },
#endif
#ifdef SYS_select
		{ SYS_select, "select" },
#endif
#ifdef SYS_epoll_wait
		{ SYS_epoll_wait, "epoll_wait" },
#endif
#ifdef SYS_epoll_pwait2
		{ SYS_epoll_pwait2, "epoll_pwait2" },
#endif
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

int hang_native_abi(const char *proc_dir, const char *pid)
{
	char path[PATH_MAX];
	unsigned char ident[5];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/exe", proc_dir, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, ident, sizeof(ident));
	close(fd);
	if (n != (ssize_t)sizeof(ident) || memcmp(ident,
						  "\x7f"
						  "ELF",
						  4) != 0)
		return -1;
	/* EI_CLASS: 1 for 32-bit, 2 for 64-bit programs. */
	return ident[4] == (sizeof(long) == 8 ? 2 : 1) ? 1 : 0;
}

int hang_read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The state letter of /proc/.../stat: after the last ')' of the command name. */
static char task_state(const char *stat_text)
{
	const char *p = strrchr(stat_text, ')');

	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

static bool is_number(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* One task: does it wait for ever? Describes its call in call_text. A task that
 * vanished meanwhile counts as waiting (it is not running). */
static bool task_waits_forever(const char *task_dir, char *call_text, size_t len)
{
	char path[PATH_MAX];
	char text[512];
	struct hang_call call;
	const char *name;
	char state;

	snprintf(path, sizeof(path), "%s/stat", task_dir);
	if (hang_read_small(path, text, sizeof(text)) < 0)
		return true;
	state = task_state(text);
	snprintf(path, sizeof(path), "%s/syscall", task_dir);
	if (hang_read_small(path, text, sizeof(text)) < 0 || hang_parse_syscall(text, &call) < 0) {
		snprintf(call_text, len, "state %c", state);
		return false;
	}
	if (call.nr >= HANG_X32_BIT) {
		snprintf(call_text, len, "in an x32 system call, which the lab cannot read");
		return false;
	}
	name = hang_call_name(call.nr);
	if (call.running)
		snprintf(call_text, len, "running");
	else if (name != NULL)
		snprintf(call_text, len, "in %s", name);
	else
		snprintf(call_text, len, "in syscall %ld", call.nr);
	return state == 'S' && hang_call_waits_forever(&call);
}

/* All tasks of one process; the main thread's call describes it. */
static bool process_waits_forever(const char *proc_dir, const char *pid, char *call_text,
				  size_t len)
{
	char path[PATH_MAX];
	DIR *tasks;
	struct dirent *de;
	bool all = true;

	snprintf(path, sizeof(path), "%s/%s/task", proc_dir, pid);
	tasks = opendir(path);
	if (tasks == NULL)
		return true; /* gone */
	/* A 32-bit program's system calls have other numbers: refuse to judge. */
	if (hang_native_abi(proc_dir, pid) == 0) {
		snprintf(call_text, len, "a 32-bit program, whose calls the lab cannot read");
		closedir(tasks);
		return false;
	}
	call_text[0] = '\0';
	while (all && (de = readdir(tasks)) != NULL) {
		char task_dir[PATH_MAX + 300];
		char text[64];

		if (!is_number(de->d_name))
			continue;
		snprintf(task_dir, sizeof(task_dir), "%s/%s", path, de->d_name);
		all = task_waits_forever(task_dir, text, sizeof(text));
		if (strcmp(de->d_name, pid) == 0 || call_text[0] == '\0' || !all)
			snprintf(call_text, len, "%s", text);
	}
	closedir(tasks);
	return all;
}

int hang_check(const char *proc_dir, bool *hung, char *why, size_t why_len, struct lab_err *err)
{
	DIR *dir = opendir(proc_dir);
	struct dirent *de;
	size_t used = 0;
	int processes = 0;

	*hung = false;
	why[0] = '\0';
	if (dir == NULL)
		return lab_err_sys(err, errno, "cannot read %s", proc_dir);
	*hung = true;
	while ((de = readdir(dir)) != NULL) {
		char path[PATH_MAX];
		char comm[64] = "?";
		char call_text[64];
		bool waits;

		if (!is_number(de->d_name) || strcmp(de->d_name, "1") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", proc_dir, de->d_name);
		if (hang_read_small(path, comm, sizeof(comm)) == 0)
			comm[strcspn(comm, "\n")] = '\0';
		waits = process_waits_forever(proc_dir, de->d_name, call_text, sizeof(call_text));
		processes++;
		if (!waits) {
			*hung = false;
			snprintf(why, why_len, "%s (pid %s) is not waiting for ever: %s", comm,
				 de->d_name, call_text);
			break;
		}
		if (used < why_len)
			used += (size_t)snprintf(why + used, why_len - used, "%s%s (pid %s) %s",
						 used ? ", " : "", comm, de->d_name, call_text);
	}
	closedir(dir);
	if (processes == 0) {
		*hung = false;
		snprintf(why, why_len, "no process left");
	}
	return 0;
}
