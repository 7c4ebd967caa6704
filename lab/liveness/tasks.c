/* tasks: what every task of a run waits for (see tasks.h). */
#include "lab/liveness/tasks.h"

#include "lab/liveness/hang.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define TASKS_X32_BIT 0x40000000L
#define TASKS_FUTEX_CMD_MASK 0x7f
#define TASKS_FUTEX_WAIT 0
#define TASKS_FUTEX_WAIT_BITSET 9
/* poll and epoll events that mean "tell me when there is input". */
#define TASKS_INPUT_EVENTS (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | EPOLLRDHUP)
#define TASKS_OUTPUT_EVENTS (POLLOUT | POLLWRNORM | POLLWRBAND)
#define TASKS_SIGALRM_BIT (1ULL << (14 - 1))
/* select's fd_set: at most this many descriptors are read. */
#define TASKS_SELECT_MAX_FDS 1024

/* ---- the judgement: pure ----------------------------------------------------- */

static const char *call_name(long nr, char *buf, size_t len)
{
	const char *name = hang_call_name(nr);

	if (name != NULL)
		return name;
	snprintf(buf, len, "system call %ld", nr);
	return buf;
}

static int conn_end(const struct tasks_conn *conn, const struct tasks_fd *f)
{
	if (f->type != TASKS_FD_SOCKET || f->inode == 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (conn != NULL && conn->inode[i] == f->inode)
			return i;
	return -1;
}

static bool is_send_call(long nr)
{
	switch (nr) {
	case SYS_write:
	case SYS_writev:
	case SYS_sendto:
	case SYS_sendmsg:
	case SYS_sendmmsg:
	case SYS_splice:
#ifdef SYS_sendfile
	case SYS_sendfile:
#endif
		return true;
	default:
		return false;
	}
}

static bool is_receive_call(const struct hang_call *call)
{
	switch (call->nr) {
	case SYS_read:
	case SYS_readv:
	case SYS_recvfrom:
	case SYS_recvmsg:
		return true;
	case SYS_recvmmsg:
		return call->args[4] == 0; /* no timeout */
	default:
		return false;
	}
}

static bool is_accept_call(long nr)
{
#ifdef SYS_accept
	if (nr == SYS_accept)
		return true;
#endif
	return nr == SYS_accept4;
}

static bool is_poll_call(long nr)
{
	switch (nr) {
	case SYS_ppoll:
	case SYS_pselect6:
	case SYS_epoll_pwait:
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
		return true;
	default:
		return false;
	}
}

static bool is_waiting_for_the_run(const struct hang_call *call)
{
	long cmd;

	switch (call->nr) {
	case SYS_rt_sigsuspend:
#ifdef SYS_pause
	case SYS_pause:
#endif
		return true;
	case SYS_rt_sigtimedwait:
		return call->args[2] == 0;
#ifdef SYS_wait4
	case SYS_wait4:
		return (call->args[2] & WNOHANG) == 0;
#endif
	case SYS_waitid:
		return (call->args[3] & WNOHANG) == 0;
	case SYS_futex:
		cmd = call->args[1] & TASKS_FUTEX_CMD_MASK;
		return (cmd == TASKS_FUTEX_WAIT || cmd == TASKS_FUTEX_WAIT_BITSET) &&
		       call->args[3] == 0;
	default:
		return false;
	}
}

static int set(struct tasks_wait *out, enum tasks_kind kind, const char *fmt, const char *a)
{
	out->kind = kind;
	snprintf(out->text, sizeof(out->text), fmt, a);
	return 0;
}

/* A poll set (poll, select or epoll with no time limit). */
static int classify_poll(const struct tasks_task *t, const struct tasks_conn *conn,
			 const char *name, struct tasks_wait *out)
{
	int write_end = -1;
	bool receiving = false;

	for (size_t i = 0; i < t->n_fds; i++) {
		const struct tasks_fd *f = &t->fds[i];
		bool input = (f->events & TASKS_INPUT_EVENTS) != 0;
		bool output = (f->events & TASKS_OUTPUT_EVENTS) != 0;
		int end = conn_end(conn, f);

		if (output) {
			if (end < 0)
				return set(out, TASKS_OTHER,
					   "in %s for a descriptor that can become "
					   "writable",
					   name);
			if (write_end < 0)
				write_end = end;
		}
		if (!input)
			continue;
		if (f->type == TASKS_FD_TIMERFD && f->armed)
			return set(out, TASKS_OTHER, "in %s with a timerfd armed: its own clock",
				   name);
		if (f->type == TASKS_FD_SOCKET && f->keepalive)
			return set(out, TASKS_OTHER,
				   "in %s on a socket with SO_KEEPALIVE: keep-alive may end it",
				   name);
		if (f->type == TASKS_FD_SOCKET)
			receiving = true;
		else if (f->type != TASKS_FD_PIPE && f->type != TASKS_FD_TIMERFD)
			return set(out, TASKS_OTHER, "in %s on a descriptor the lab cannot judge",
				   name);
	}
	if (receiving)
		return set(out, TASKS_RECEIVING, "in %s waiting for input", name);
	if (write_end >= 0) {
		out->end = write_end;
		return set(out, TASKS_SENDING, "in %s waiting to write to the connection", name);
	}
	return set(out, TASKS_WAITING, "in %s waiting for another task", name);
}

static int classify(const struct tasks_task *t, const struct tasks_conn *conn,
		    struct tasks_wait *out)
{
	const struct hang_call *call = &t->call;
	const struct tasks_fd *f = t->n_fds > 0 ? &t->fds[0] : NULL;
	char buf[32];
	const char *name;
	int end;

	memset(out, 0, sizeof(*out));
	out->end = -1;
	if (!t->native_abi)
		return set(out, TASKS_OTHER, "%s",
			   "a program of another ABI (32-bit?): its "
			   "system calls cannot be read");
	if (call->running || t->state == 'R')
		return set(out, TASKS_OTHER, "%s", "running");
	if (t->state != 'S') {
		snprintf(buf, sizeof(buf), "%c", t->state);
		return set(out, TASKS_OTHER, "in state %s (not asleep)", buf);
	}
	if (call->nr < 0 || call->nr >= TASKS_X32_BIT)
		return set(out, TASKS_OTHER, "%s", "in a call the lab cannot read");
	name = call_name(call->nr, buf, sizeof(buf));
	if (t->has_posix_timer)
		return set(out, TASKS_OTHER, "in %s, with a POSIX timer of its own", name);
	if (t->catches_sigalrm)
		return set(out, TASKS_OTHER, "in %s, with a SIGALRM handler (an alarm may end it)",
			   name);
	if (is_waiting_for_the_run(call))
		return set(out, TASKS_WAITING, "in %s", name);
	if (call->nr == SYS_nanosleep || call->nr == SYS_clock_nanosleep)
		return set(out, TASKS_OTHER, "sleeps in %s, with a deadline", name);
	if (!is_send_call(call->nr) && !is_receive_call(call) && !is_poll_call(call->nr) &&
	    !is_accept_call(call->nr))
		return set(out, TASKS_OTHER, "in %s", name);
	if (!t->fds_complete || (f == NULL && !is_poll_call(call->nr)))
		return set(out, TASKS_OTHER, "in %s on a descriptor the lab could not read", name);
	if (is_send_call(call->nr)) {
		end = conn_end(conn, f);
		if (end < 0)
			return set(out, TASKS_OTHER, "in %s to something else than the connection",
				   name);
		if (!f->options_known)
			return set(out, TASKS_OTHER, "in %s, its SO_SNDTIMEO unknown", name);
		if (f->sndtimeo_us > 0)
			return set(out, TASKS_OTHER, "in %s with SO_SNDTIMEO set: its own clock",
				   name);
		out->end = end;
		return set(out, TASKS_SENDING, "in %s on the connection", name);
	}
	if (is_receive_call(call) || is_accept_call(call->nr)) {
		bool accepting = !is_receive_call(call);

		switch (f->type) {
		case TASKS_FD_SOCKET:
			if (!f->options_known)
				return set(out, TASKS_OTHER, "in %s, its SO_RCVTIMEO unknown",
					   name);
			if (f->rcvtimeo_us > 0)
				return set(out, TASKS_OTHER,
					   "in %s with SO_RCVTIMEO set: its own clock", name);
			if (!accepting && f->keepalive)
				return set(out, TASKS_OTHER,
					   "in %s with SO_KEEPALIVE: keep-alive may end it", name);
			if (accepting)
				return set(out, TASKS_WAITING, "in %s", name);
			return set(out, TASKS_RECEIVING, "in %s", name);
		case TASKS_FD_PIPE:
			return set(out, TASKS_WAITING, "in %s on a pipe", name);
		case TASKS_FD_TIMERFD:
			if (f->armed)
				return set(out, TASKS_OTHER, "in %s on an armed timerfd", name);
			return set(out, TASKS_WAITING, "in %s on a timerfd never armed", name);
		default:
			return set(out, TASKS_OTHER, "in %s on a descriptor the lab cannot judge",
				   name);
		}
	}
	if (!hang_call_waits_forever(call))
		return set(out, TASKS_OTHER, "in %s with a time limit", name);
	return classify_poll(t, conn, name, out);
}

void tasks_classify(const struct tasks_task *t, const struct tasks_conn *conn,
		    struct tasks_wait *out)
{
	classify(t, conn, out);
}

bool tasks_all_blocked_sending(const struct tasks_view *v)
{
	return v->n_tasks > 0 && v->other == 0 && v->receiving == 0 && v->sending[0] > 0 &&
	       v->sending[1] > 0;
}

bool tasks_all_waiting(const struct tasks_view *v)
{
	return v->n_tasks > 0 && v->other == 0 && v->sending[0] == 0 && v->sending[1] == 0;
}

/* ---- reading /proc ------------------------------------------------------------ */

static bool is_number(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* What one scan knows of one process. */
struct proc_ctx {
	const char *proc_dir;
	const char *pid;
	tasks_pidfd_fn pidfd_fn;
	void *pidfd_arg;
	int pidfd; /* -1: not asked yet; -2: could not be had */
	int mem_fd;
};

static int64_t timeval_us(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* SO_RCVTIMEO, SO_SNDTIMEO, SO_KEEPALIVE and SO_ACCEPTCONN of the process's
 * socket fd, on a duplicate (pidfd_getfd) that is closed at once. SO_KEEPALIVE
 * is read here rather than from sock_diag's timer: the timer is not pending
 * while its handler runs (sends a probe), and a sample can fall in that gap. */
static void read_socket_options(struct proc_ctx *p, struct tasks_fd *f)
{
	struct timeval rcv = { 0 }, snd = { 0 };
	socklen_t len;
	int listening = 0;
	int keepalive = 0;
	int dup;

	if (p->pidfd == -1) {
		p->pidfd = p->pidfd_fn != NULL ? p->pidfd_fn(p->pidfd_arg, atoi(p->pid)) : -1;
		if (p->pidfd < 0)
			p->pidfd = -2;
	}
	if (p->pidfd < 0)
		return;
	dup = (int)syscall(SYS_pidfd_getfd, p->pidfd, f->fd, 0);
	if (dup < 0)
		return;
	len = sizeof(rcv);
	if (getsockopt(dup, SOL_SOCKET, SO_RCVTIMEO, &rcv, &len) == 0) {
		len = sizeof(snd);
		if (getsockopt(dup, SOL_SOCKET, SO_SNDTIMEO, &snd, &len) == 0) {
			len = sizeof(listening);
			getsockopt(dup, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
			len = sizeof(keepalive);
			if (getsockopt(dup, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &len) < 0)
				keepalive = 1; /* cannot tell: its timer may run */
			f->options_known = true;
			f->keepalive = keepalive != 0;
			f->rcvtimeo_us = timeval_us(&rcv);
			f->sndtimeo_us = timeval_us(&snd);
			f->listening = listening != 0;
		}
	}
	close(dup);
}

/* it_value of a timerfd's fdinfo: "it_value: (0, 0)" when disarmed. */
static bool timerfd_armed(const char *fdinfo)
{
	const char *p = strstr(fdinfo, "it_value:");
	long long sec = 0, nsec = 0;

	if (p == NULL || sscanf(p, "it_value: (%lld, %lld)", &sec, &nsec) != 2)
		return true; /* cannot tell: assume the program's clock runs */
	return sec != 0 || nsec != 0;
}

/* What descriptor fd of the process is. */
static void read_fd(struct proc_ctx *p, struct tasks_fd *f)
{
	char path[PATH_MAX];
	char link[128];
	char info[1024];
	ssize_t n;
	unsigned long inode;

	f->type = TASKS_FD_UNKNOWN;
	snprintf(path, sizeof(path), "%s/%s/fd/%d", p->proc_dir, p->pid, f->fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return;
	link[n] = '\0';
	if (sscanf(link, "socket:[%lu]", &inode) == 1) {
		f->type = TASKS_FD_SOCKET;
		f->inode = (uint32_t)inode;
		read_socket_options(p, f);
	} else if (strncmp(link, "pipe:", 5) == 0) {
		f->type = TASKS_FD_PIPE;
	} else if (strcmp(link, "anon_inode:[timerfd]") == 0) {
		f->type = TASKS_FD_TIMERFD;
		snprintf(path, sizeof(path), "%s/%s/fdinfo/%d", p->proc_dir, p->pid, f->fd);
		f->armed = hang_read_small(path, info, sizeof(info)) < 0 || timerfd_armed(info);
	} else if (strcmp(link, "anon_inode:[eventpoll]") == 0) {
		f->type = TASKS_FD_EPOLL;
	} else {
		f->type = TASKS_FD_OTHER;
	}
}

/* Reads len bytes at addr of the process's memory. */
static int read_mem(struct proc_ctx *p, unsigned long addr, void *buf, size_t len)
{
	char path[PATH_MAX];

	if (p->mem_fd < 0) {
		snprintf(path, sizeof(path), "%s/%s/mem", p->proc_dir, p->pid);
		p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->mem_fd < 0)
			return -1;
	}
	return pread(p->mem_fd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1;
}

static bool add_fd(struct tasks_task *t, int fd, unsigned int events)
{
	if (t->n_fds == sizeof(t->fds) / sizeof(t->fds[0]))
		return false;
	memset(&t->fds[t->n_fds], 0, sizeof(t->fds[0]));
	t->fds[t->n_fds].fd = fd;
	t->fds[t->n_fds].events = events;
	t->n_fds++;
	return true;
}

static bool read_poll_set(struct proc_ctx *p, struct tasks_task *t)
{
	struct pollfd pfds[64];
	unsigned long nfds = (unsigned long)t->call.args[1];

	if (nfds > sizeof(pfds) / sizeof(pfds[0]))
		return false;
	if (nfds > 0 && read_mem(p, (unsigned long)t->call.args[0], pfds, nfds * sizeof(*pfds)) < 0)
		return false;
	for (unsigned long i = 0; i < nfds; i++)
		if (pfds[i].fd >= 0 && pfds[i].events != 0 &&
		    !add_fd(t, pfds[i].fd, (unsigned short)pfds[i].events))
			return false;
	return true;
}

static bool read_select_sets(struct proc_ctx *p, struct tasks_task *t)
{
	unsigned long sets[3][TASKS_SELECT_MAX_FDS / (8 * sizeof(unsigned long))];
	const unsigned int events[3] = { POLLIN, POLLOUT, POLLPRI };
	long nfds = t->call.args[0];
	size_t bytes;

	if (nfds < 0 || nfds > TASKS_SELECT_MAX_FDS)
		return false;
	bytes = ((size_t)nfds + 8 * sizeof(unsigned long) - 1) / (8 * sizeof(unsigned long)) *
		sizeof(unsigned long);
	memset(sets, 0, sizeof(sets));
	for (int s = 0; s < 3; s++)
		if (t->call.args[1 + s] != 0 && bytes > 0 &&
		    read_mem(p, (unsigned long)t->call.args[1 + s], sets[s], bytes) < 0)
			return false;
	for (long fd = 0; fd < nfds; fd++) {
		unsigned int ev = 0;

		for (int s = 0; s < 3; s++)
			if (sets[s][fd / (8 * sizeof(unsigned long))] &
			    (1UL << (fd % (8 * sizeof(unsigned long)))))
				ev |= events[s];
		if (ev != 0 && !add_fd(t, (int)fd, ev))
			return false;
	}
	return true;
}

/* The epoll set from the epoll fd's fdinfo: "tfd: 5 events: 19 data: ... ino:4a5". */
static bool read_epoll_set(struct proc_ctx *p, struct tasks_task *t)
{
	char path[PATH_MAX];
	char info[8192];
	char *line;
	char *save = NULL;

	snprintf(path, sizeof(path), "%s/%s/fdinfo/%ld", p->proc_dir, p->pid, t->call.args[0]);
	if (hang_read_small(path, info, sizeof(info)) < 0 || strlen(info) >= sizeof(info) - 1)
		return false;
	for (line = strtok_r(info, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		int fd;
		unsigned int events;

		if (strncmp(line, "tfd:", 4) != 0)
			continue;
		if (sscanf(line, "tfd: %d events: %x", &fd, &events) != 2)
			return false;
		/* A one-shot entry that fired keeps only epoll's private bits. */
		if ((events & (TASKS_INPUT_EVENTS | TASKS_OUTPUT_EVENTS)) == 0)
			continue;
		if (!add_fd(t, fd, events))
			return false;
	}
	return true;
}

/* The descriptors the task's call names. */
static void read_call_fds(struct proc_ctx *p, struct tasks_task *t)
{
	const struct hang_call *c = &t->call;
	bool ok = true;

	t->n_fds = 0;
	if (is_send_call(c->nr) || is_receive_call(c) || is_accept_call(c->nr)) {
		add_fd(t, (int)(c->nr == SYS_splice ? c->args[2] : c->args[0]), 0);
	} else if (c->nr == SYS_ppoll
#ifdef SYS_poll
		   || c->nr == SYS_poll
#endif
	) {
		ok = read_poll_set(p, t);
	} else if (c->nr == SYS_pselect6
#ifdef SYS_select
		   || c->nr == SYS_select
#endif
	) {
		ok = read_select_sets(p, t);
	} else if (is_poll_call(c->nr)) {
		ok = read_epoll_set(p, t);
	} else {
		t->fds_complete = true;
		return;
	}
	for (size_t i = 0; ok && i < t->n_fds; i++) {
		read_fd(p, &t->fds[i]);
		if (t->fds[i].type == TASKS_FD_UNKNOWN)
			ok = false;
	}
	t->fds_complete = ok;
}

static char task_state(const char *stat_text)
{
	const char *p = strrchr(stat_text, ')');

	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

/* The process-wide part of a task: its ABI and clocks. */
static void read_process(struct proc_ctx *p, struct tasks_task *proto)
{
	char path[PATH_MAX];
	char text[4096];
	const char *sig;

	memset(proto, 0, sizeof(*proto));
	proto->native_abi = hang_native_abi(p->proc_dir, p->pid) == 1;
	snprintf(path, sizeof(path), "%s/%s/timers", p->proc_dir, p->pid);
	/* Unreadable: the lab cannot see its timers, so it assumes there are some. */
	proto->has_posix_timer = hang_read_small(path, text, sizeof(text)) < 0 || text[0] != '\0';
	snprintf(path, sizeof(path), "%s/%s/status", p->proc_dir, p->pid);
	if (hang_read_small(path, text, sizeof(text)) < 0 ||
	    (sig = strstr(text, "SigCgt:")) == NULL)
		proto->catches_sigalrm = true;
	else
		proto->catches_sigalrm = (strtoull(sig + 7, NULL, 16) & TASKS_SIGALRM_BIT) != 0;
}

static void append(char *buf, size_t len, const char *fmt, const char *a, const char *b,
		   const char *c)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, fmt, a, b, c);
}

int tasks_look(const char *proc_dir, const struct tasks_conn *conn, tasks_pidfd_fn pidfd_fn,
	       void *pidfd_arg, bool stop_early, struct tasks_view *view, struct lab_err *err)
{
	DIR *dir = opendir(proc_dir);
	struct dirent *de;
	struct tasks_task *task = malloc(sizeof(*task));
	struct tasks_task proto;

	memset(view, 0, sizeof(*view));
	if (dir == NULL || task == NULL) {
		int saved = errno;

		if (dir != NULL)
			closedir(dir);
		free(task);
		return lab_err_sys(err, saved, "cannot read %s", proc_dir);
	}
	while ((de = readdir(dir)) != NULL && !(stop_early && view->other > 0)) {
		struct proc_ctx p = { .proc_dir = proc_dir,
				      .pid = de->d_name,
				      .pidfd_fn = pidfd_fn,
				      .pidfd_arg = pidfd_arg,
				      .pidfd = -1,
				      .mem_fd = -1 };
		char path[PATH_MAX];
		char comm[64] = "?";
		char text[512];
		DIR *tasks;
		struct dirent *te;
		bool described = false;

		if (!is_number(de->d_name) || strcmp(de->d_name, "1") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", proc_dir, de->d_name);
		if (hang_read_small(path, comm, sizeof(comm)) == 0)
			comm[strcspn(comm, "\n")] = '\0';
		read_process(&p, &proto);
		snprintf(path, sizeof(path), "%s/%s/task", proc_dir, de->d_name);
		tasks = opendir(path);
		while (tasks != NULL && (te = readdir(tasks)) != NULL &&
		       !(stop_early && view->other > 0)) {
			struct tasks_wait wait;
			char tpath[PATH_MAX + 300];

			if (!is_number(te->d_name))
				continue;
			*task = proto;
			snprintf(tpath, sizeof(tpath), "%s/%s/stat", path, te->d_name);
			if (hang_read_small(tpath, text, sizeof(text)) < 0)
				continue; /* gone meanwhile */
			task->state = task_state(text);
			snprintf(tpath, sizeof(tpath), "%s/%s/syscall", path, te->d_name);
			if (hang_read_small(tpath, text, sizeof(text)) < 0 ||
			    hang_parse_syscall(text, &task->call) < 0)
				task->call.nr = -1;
			else if (task->state == 'S' && task->native_abi)
				read_call_fds(&p, task);
			tasks_classify(task, conn, &wait);
			view->n_tasks++;
			switch (wait.kind) {
			case TASKS_SENDING:
				view->sending[wait.end]++;
				break;
			case TASKS_WAITING:
				view->waiting++;
				break;
			case TASKS_RECEIVING:
				view->receiving++;
				break;
			case TASKS_OTHER:
				view->other++;
				break;
			}
			if (wait.kind == TASKS_OTHER && view->why[0] == '\0')
				snprintf(view->why, sizeof(view->why), "%s (pid %s, thread %s) %s",
					 comm, de->d_name, te->d_name, wait.text);
			if (!described) {
				append(view->where, sizeof(view->where), "%s%s %s",
				       view->where[0] ? ", " : "", comm, wait.text);
				described = true;
			}
		}
		if (tasks != NULL)
			closedir(tasks);
		if (p.mem_fd >= 0)
			close(p.mem_fd);
	}
	closedir(dir);
	free(task);
	if (view->n_tasks == 0)
		snprintf(view->why, sizeof(view->why), "no process left");
	return 0;
}
