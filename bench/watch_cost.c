/* watch_cost: what the sock_diag watcher costs per call (watch_listening,
 * watch_sample) with a listener and 5 connections on loopback, in the namespace it
 * is started in and in one with its own established-hash table. Prints figures;
 * asserts nothing (bench/watch_cost.sh runs it in a namespace of its own). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/liveness/watch.h"

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct bench {
	int port;
	double listen_median_us, listen_p90_us;
	double sample_median_us, sample_p90_us;
	int ehash_entries; /* for the namespace variant: buckets asked for */
	int skip_errno;    /* the namespace variant cannot run here */
	char msg[1024];    /* what went wrong, empty if nothing */
};

#define BENCH_CALLS 1000
#define BENCH_CONNS 5

/* With a listener and 5 connections (10 sockets) on b->port, times 1000 calls of
 * watch_listening and of watch_sample. No cmocka asserts: it also runs in a
 * thread of its own. */
static int bench_run(struct bench *b)
{
	static struct watch_sample s;
	static uint64_t listen_ns[BENCH_CALLS], sample_ns[BENCH_CALLS];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)b->port) };
	struct lab_err err = { { 0 } };
	struct watch *w = NULL;
	int fds[2 * BENCH_CONNS];
	int one = 1;
	int lfd = -1;
	int ret = -1;
	size_t i, open_fds = 0;
	uint64_t t;
	bool yes;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w = watch_open(&err);
	if (w == NULL)
		goto out;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 16) < 0) {
		lab_err_sys(&err, errno, "bench listener");
		goto out;
	}
	for (i = 0; i < BENCH_CONNS; i++) {
		fds[open_fds] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[open_fds] < 0)
			goto sys_fail;
		open_fds++;
		if (connect(fds[open_fds - 1], (struct sockaddr *)&sin, sizeof(sin)) < 0)
			goto sys_fail;
		fds[open_fds] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fds[open_fds] < 0)
			goto sys_fail;
		open_fds++;
	}
	for (i = 0; i < BENCH_CALLS; i++) {
		t = now_ns();
		if (watch_listening(w, b->port, &yes, &err) < 0)
			goto out;
		listen_ns[i] = now_ns() - t;
		t = now_ns();
		if (watch_sample(w, b->port, &s, &err) < 0)
			goto out;
		sample_ns[i] = now_ns() - t;
		if (!yes || s.count != 2 * BENCH_CONNS) {
			lab_err_set(&err, "bench saw listening=%d and %zu sockets", yes, s.count);
			goto out;
		}
	}
	qsort(listen_ns, BENCH_CALLS, sizeof(listen_ns[0]), compare_u64);
	qsort(sample_ns, BENCH_CALLS, sizeof(sample_ns[0]), compare_u64);
	b->listen_median_us = listen_ns[BENCH_CALLS / 2] / 1e3;
	b->listen_p90_us = listen_ns[BENCH_CALLS * 9 / 10] / 1e3;
	b->sample_median_us = sample_ns[BENCH_CALLS / 2] / 1e3;
	b->sample_p90_us = sample_ns[BENCH_CALLS * 9 / 10] / 1e3;
	ret = 0;
	goto out;
sys_fail:
	lab_err_sys(&err, errno, "bench connection");
out:
	if (ret < 0)
		snprintf(b->msg, sizeof(b->msg), "%s", err.msg);
	for (i = 0; i < open_fds; i++)
		close(fds[i]);
	if (lfd >= 0)
		close(lfd);
	watch_close(w);
	return ret;
}

/* Median cost in the namespace we are given (one that shares the kernel's
 * global established-hash table). */
static int cost_of_listening_and_sample(void)
{
	struct bench b = { .port = 21090 };

	if (bench_run(&b) < 0) {
		fprintf(stderr, "watch_cost: %s\n", b.msg);
		return -1;
	}
	printf("watch cost, 10 sockets + 1 listener, shared ehash: watch_listening median "
	       "%.1f us (p90 %.1f us), watch_sample median %.1f us (p90 %.1f us)\n",
	       b.listen_median_us, b.listen_p90_us, b.sample_median_us, b.sample_p90_us);
	return 0;
}

static int write_text_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int saved;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int bring_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/* Namespace A (ours) asks for a small established-hash table for its children
 * (net.ipv4.tcp_child_ehash_entries, Linux 5.19+), then namespace B is made: a
 * dump in B walks B's own table only. */
static void *bench_own_ehash_thread(void *arg)
{
	struct bench *b = arg;
	char text[32];

	if (unshare(CLONE_NEWNET) < 0) {
		b->skip_errno = errno;
		return NULL;
	}
	snprintf(text, sizeof(text), "%d", b->ehash_entries);
	if (write_text_file("/proc/sys/net/ipv4/tcp_child_ehash_entries", text) < 0) {
		b->skip_errno = errno;
		return NULL;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		b->skip_errno = errno;
		return NULL;
	}
	if (bring_lo_up() < 0) {
		snprintf(b->msg, sizeof(b->msg), "bringing lo up: %s", strerror(errno));
		return NULL;
	}
	bench_run(b);
	return NULL;
}

static int cost_in_namespace_with_own_ehash(void)
{
	struct bench b = { .port = 21091, .ehash_entries = 1024 };
	pthread_t thread;

	if (pthread_create(&thread, NULL, bench_own_ehash_thread, &b) != 0 ||
	    pthread_join(thread, NULL) != 0) {
		fprintf(stderr, "watch_cost: cannot start a thread\n");
		return -1;
	}
	if (b.skip_errno != 0) {
		printf("no namespace with its own ehash here: %s\n", strerror(b.skip_errno));
		return 0;
	}
	if (b.msg[0] != '\0') {
		fprintf(stderr, "watch_cost: %s\n", b.msg);
		return -1;
	}
	printf("watch cost, 10 sockets + 1 listener, own ehash of %d buckets: "
	       "watch_listening median %.1f us (p90 %.1f us), watch_sample median %.1f us "
	       "(p90 %.1f us)\n",
	       b.ehash_entries, b.listen_median_us, b.listen_p90_us, b.sample_median_us,
	       b.sample_p90_us);
	return 0;
}

int main(void)
{
	int rc = 0;

	if (cost_of_listening_and_sample() < 0)
		rc = 1;
	if (cost_in_namespace_with_own_ehash() < 0)
		rc = 1;
	return rc;
}
