/* proc: starting, watching and stopping a scenario's programs (see proc.h). */
#include "lab/run/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How much the calling (scenario) thread raised its priority: its children
 * (the programs) go back to the nice value the lab was started with. */
static __thread int raised_by;

void proc_raise_priority(int by)
{
	int before;

	errno = 0;
	before = getpriority(PRIO_PROCESS, 0); /* Linux: the calling thread */
	if (errno != 0 || setpriority(PRIO_PROCESS, 0, before - by) < 0)
		return; /* not root: the capture runs at the lab's priority */
	raised_by = before - getpriority(PRIO_PROCESS, 0);
}

int64_t proc_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void output_init(struct proc_output *o)
{
	o->data = NULL;
	o->len = 0;
	o->total_bytes = 0;
	o->fd = -1;
	o->watches = NULL;
	o->n_watches = 0;
}

/* Looks for w's text in what came before (the carry) followed by buf, then keeps
 * the last text_len - 1 bytes of both as the next carry: a text that straddles
 * two reads is found, and no more than the text is ever held. */
void proc_watch_feed(struct proc_watch *w, const char *buf, size_t n)
{
	size_t keep = w->text_len - 1;
	char joint[2 * PROC_WATCH_MAX_BYTES];
	size_t head = n < keep ? n : keep;

	if (w->found || n == 0)
		return;
	/* A match that starts in the carry ends within buf's first keep bytes. */
	memcpy(joint, w->carry, w->carry_len);
	memcpy(joint + w->carry_len, buf, head);
	if (memmem(joint, w->carry_len + head, w->text, w->text_len) != NULL ||
	    memmem(buf, n, w->text, w->text_len) != NULL) {
		w->found = true;
		return;
	}
	if (n >= keep) {
		memcpy(w->carry, buf + n - keep, keep);
		w->carry_len = keep;
	} else {
		size_t total = w->carry_len + n;
		size_t drop = total > keep ? total - keep : 0;

		memcpy(joint, w->carry, w->carry_len);
		memcpy(joint + w->carry_len, buf, n);
		memcpy(w->carry, joint + drop, total - drop);
		w->carry_len = total - drop;
	}
}

int proc_output_watch(struct proc_output *o, const char *text)
{
	size_t len = strlen(text);
	struct proc_watch *grown;

	if (len > PROC_WATCH_MAX_BYTES)
		return -1; /* judged on the kept output alone */
	grown = realloc(o->watches, (o->n_watches + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	o->watches = grown;
	grown[o->n_watches] = (struct proc_watch){ .text = text, .text_len = len };
	if (len == 0) {
		grown[o->n_watches].found = true; /* the empty text is in every output */
	} else {
		grown[o->n_watches].carry = malloc(len);
		if (grown[o->n_watches].carry == NULL)
			return -1;
	}
	o->n_watches++;
	return 0;
}

void proc_watch_outputs(struct proc *p, const struct scenario *sc, enum scenario_who who)
{
	for (size_t i = 0; i < sc->n_expects; i++) {
		const struct expectation *e = &sc->expects[i];

		if (e->kind != EXPECT_OUTPUT || e->regex || e->who != who || e->text == NULL)
			continue;
		proc_output_watch(e->stream == STREAM_STDOUT ? &p->out : &p->err, e->text);
	}
}

void proc_output_free(struct proc_output *o)
{
	for (size_t i = 0; i < o->n_watches; i++)
		free(o->watches[i].carry);
	free(o->watches);
	o->watches = NULL;
	o->n_watches = 0;
	free(o->data);
	o->data = NULL;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_child(const char *command, const char *cwd, char *const envp[], int netns_fd,
		       int out_fd, int err_fd, int status_fd)
{
	sigset_t none;
	int null_fd;
	int saved;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (raised_by != 0)
		setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + raised_by);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		goto fail;
	/* With a link: the wire's namespace of this side, before its fd is closed. */
	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
		goto fail;
	/* Nothing of the lab's in the program: other scenarios' captures, pipes and
	 * sockets made by other threads without O_CLOEXEC (libpcap's) would keep
	 * their namespaces alive. Only the status pipe stays, until exec closes it. */
	if (status_fd > 3 && dup2(status_fd, 3) < 0)
		goto fail;
	status_fd = 3;
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
		goto fail;
	fcntl(status_fd, F_SETFD, FD_CLOEXEC);
	if (cwd != NULL && chdir(cwd) < 0)
		goto fail;
	execve("/bin/sh", (char *const[]){ "sh", "-c", (char *)command, NULL }, envp);
fail:
	saved = errno;
	if (write(status_fd, &saved, sizeof(saved)) < 0)
		_exit(127);
	_exit(127);
}

int proc_spawn(struct proc *p, const char *command, const char *cwd, char *const envp[],
	       struct lab_err *err)
{
	return proc_spawn_in(p, command, cwd, envp, -1, err);
}

int proc_spawn_in(struct proc *p, const char *command, const char *cwd, char *const envp[],
		  int netns_fd, struct lab_err *err)
{
	int out_pipe[2] = { -1, -1 };
	int err_pipe[2] = { -1, -1 };
	int status_pipe[2] = { -1, -1 };
	int child_errno = 0;
	ssize_t n;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->pidfd = -1;
	output_init(&p->out);
	output_init(&p->err);
	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
	    pipe2(status_pipe, O_CLOEXEC) < 0) {
		lab_err_sys(err, errno, "cannot make pipes");
		goto fail;
	}
	p->start_us = proc_now_us();
	pid = fork();
	if (pid < 0) {
		lab_err_sys(err, errno, "cannot fork");
		goto fail;
	}
	if (pid == 0)
		exec_child(command, cwd, envp, netns_fd, out_pipe[1], err_pipe[1], status_pipe[1]);
	setpgid(pid, pid); /* also here, so that no signal races the child's own call */
	p->pid = pid;
	p->running = true;
	close(status_pipe[1]);
	status_pipe[1] = -1;
	do {
		n = read(status_pipe[0], &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	if (n == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		p->running = false;
		lab_err_sys(err, child_errno, "cannot run /bin/sh in %s", cwd ? cwd : ".");
		goto fail;
	}
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0) {
		lab_err_sys(err, errno, "pidfd_open");
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		p->running = false;
		goto fail;
	}
	close(out_pipe[1]);
	close(err_pipe[1]);
	close(status_pipe[0]);
	p->out.fd = out_pipe[0];
	p->err.fd = err_pipe[0];
	fcntl(p->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err.fd, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
		if (status_pipe[i] >= 0)
			close(status_pipe[i]);
	}
	p->pid = -1;
	return -1;
}

/* Reads what the pipe holds now, at most max_reads reads of 16 KiB, so that a
 * program writing without pause cannot keep the caller's loop from the rest. */
static void output_read(struct proc_output *o, int max_reads)
{
	char buf[16384];

	for (int reads = 0; o->fd >= 0 && reads < max_reads; reads++) {
		ssize_t n = read(o->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* EAGAIN: nothing more for now */
		if (n == 0) {
			close(o->fd);
			o->fd = -1;
			return;
		}
		o->total_bytes += (uint64_t)n;
		for (size_t i = 0; i < o->n_watches; i++)
			proc_watch_feed(&o->watches[i], buf, (size_t)n);
		if (o->len < PROC_OUTPUT_CAP_BYTES) {
			size_t keep = (size_t)n;
			char *grown;

			if (keep > PROC_OUTPUT_CAP_BYTES - o->len)
				keep = PROC_OUTPUT_CAP_BYTES - o->len;
			grown = realloc(o->data, o->len + keep + 1);
			if (grown == NULL)
				continue;
			o->data = grown;
			memcpy(o->data + o->len, buf, keep);
			o->len += keep;
			o->data[o->len] = '\0';
		}
	}
}

void proc_read_output(struct proc *p)
{
	output_read(&p->out, 64);
	output_read(&p->err, 64);
}

void proc_drain_output(struct proc *p)
{
	output_read(&p->out, 1024);
	output_read(&p->err, 1024);
}

bool proc_poll_exit(struct proc *p)
{
	int status;
	pid_t r;

	if (!p->running)
		return true;
	do {
		r = waitpid(p->pid, &status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	p->running = false;
	p->end_us = proc_now_us();
	if (r < 0)
		return true;
	if (WIFEXITED(status)) {
		p->exited = true;
		p->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		p->signaled = true;
		p->signal = WTERMSIG(status);
	}
	return true;
}

void proc_signal(struct proc *p, int sig)
{
	if (p->pid > 0 && p->running)
		kill(-p->pid, sig);
}

void proc_stop(struct proc *p, int grace_ms)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };

	if (p->pid <= 0 || proc_poll_exit(p))
		return;
	proc_signal(p, SIGTERM);
	if (poll(&pfd, 1, grace_ms) <= 0)
		proc_signal(p, SIGKILL);
	while (!proc_poll_exit(p))
		poll(&pfd, 1, 100);
	/* Whatever else of the group survived its leader goes too. */
	kill(-p->pid, SIGKILL);
}

void proc_release(struct proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->out.fd >= 0)
		close(p->out.fd);
	if (p->err.fd >= 0)
		close(p->err.fd);
	proc_output_free(&p->out);
	proc_output_free(&p->err);
	p->pidfd = p->out.fd = p->err.fd = -1;
}
