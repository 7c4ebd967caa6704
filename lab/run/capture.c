/* capture: libpcap live capture of lo into a pcap file (see capture.h). */
#include "lab/run/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for a bulk transfer's burst at loopback speed without drops. Setting the
 * ring up costs about 0.5 ms per MiB, so it is not made larger than needed. */
#define CAPTURE_BUFFER_BYTES (16 * 1024 * 1024)
/* A ring block holding any packet is handed to us after this long. */
#define CAPTURE_BLOCK_MS 1
/* How long a stop waits at most for packets the kernel counted to arrive. */
#define CAPTURE_DRAIN_MAX_MS 500

struct capture {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	uint64_t packets;
	char path[PATH_MAX];
	char part_path[PATH_MAX + 8];
	bool anonymous; /* the file has no name until capture_stop (O_TMPFILE) */
};

/* The capture file: an unnamed file in the directory of path (O_TMPFILE), so that
 * a lab killed by SIGKILL leaves nothing behind; named path.part where the file
 * system cannot do that. */
static pcap_dumper_t *open_dump(struct capture *c)
{
	char dir[PATH_MAX];
	char *slash;
	FILE *f;
	int fd;

	snprintf(dir, sizeof(dir), "%s", c->path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0) {
		f = fdopen(fd, "w");
		if (f != NULL) {
			pcap_dumper_t *d = pcap_dump_fopen(c->pcap, f);

			if (d != NULL) {
				c->anonymous = true;
				return d;
			}
			fclose(f);
		} else {
			close(fd);
		}
	}
	return pcap_dump_open(c->pcap, c->part_path);
}

/* Gives the anonymous file the name path.part (it is complete: the rename to path
 * follows at once). linkat with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH or, from
 * Linux 6.10, only that the file was opened by the caller; without either, the
 * content is copied. */
static int name_dump(struct capture *c, struct lab_err *err)
{
	int fd = fileno(pcap_dump_file(c->dumper));
	char buf[65536];
	ssize_t n;
	off_t off = 0;
	int out;

	unlink(c->part_path);
	if (linkat(fd, "", AT_FDCWD, c->part_path, AT_EMPTY_PATH) == 0)
		return 0;
	out = open(c->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return lab_err_sys(err, errno, "cannot write %s", c->part_path);
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			close(out);
			unlink(c->part_path);
			return lab_err_sys(err, errno, "cannot write %s", c->part_path);
		}
		off += n;
	}
	if (n < 0 || close(out) < 0) {
		unlink(c->part_path);
		return lab_err_sys(err, errno, "cannot write %s", c->part_path);
	}
	return 0;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;

	pcap_dump((u_char *)c->dumper, h, bytes);
	c->packets++;
}

static void *close_in_background(void *arg)
{
	pcap_close(arg);
	return NULL;
}

/* Closes of several scenarios' sockets in threads share grace periods. */
static void close_pcap(pcap_t *pcap)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	rc = pthread_create(&thread, &attr, close_in_background, pcap);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		pcap_close(pcap);
}

static void capture_free(struct capture *c)
{
	if (c->dumper != NULL)
		pcap_dump_close(c->dumper);
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	free(c);
}

void capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->dumper != NULL)
		pcap_dump_close(c->dumper);
	if (c->pcap != NULL)
		close_pcap(c->pcap);
	free(c);
}

struct capture *capture_start(const char *path, int snaplen, struct lab_err *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		lab_err_set(err, "out of memory");
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->part_path, sizeof(c->part_path), "%s.part", path);
	c->pcap = pcap_create("lo", errbuf);
	if (c->pcap == NULL) {
		lab_err_set(err, "cannot capture on lo: %s", errbuf);
		goto fail;
	}
	/* Not immediate mode: there libpcap falls back to TPACKET_V2, whose ring has
	 * one snaplen-sized slot per packet, so 600 segments of 7 bytes filled a
	 * 16 MiB ring and were dropped while two scenarios ran at once. TPACKET_V3
	 * packs packets into blocks by their real size and hands a block over when
	 * it is full or CAPTURE_BLOCK_MS has passed: near-immediate delivery. */
	if (pcap_set_snaplen(c->pcap, snaplen) != 0 || pcap_set_immediate_mode(c->pcap, 0) != 0 ||
	    pcap_set_timeout(c->pcap, CAPTURE_BLOCK_MS) != 0 ||
	    pcap_set_buffer_size(c->pcap, CAPTURE_BUFFER_BYTES) != 0) {
		lab_err_set(err, "cannot configure the capture on lo");
		goto fail;
	}
	rc = pcap_activate(c->pcap);
	if (rc < 0) {
		lab_err_set(err, "cannot capture on lo: %s (%s)", pcap_statustostr(rc),
			    pcap_geterr(c->pcap));
		goto fail;
	}
	if (pcap_setnonblock(c->pcap, 1, errbuf) < 0) {
		lab_err_set(err, "cannot make the capture non-blocking: %s", errbuf);
		goto fail;
	}
	c->dumper = open_dump(c);
	if (c->dumper == NULL) {
		lab_err_set(err, "cannot write %s: %s", c->part_path, pcap_geterr(c->pcap));
		goto fail;
	}
	/* libpcap opens both without O_CLOEXEC: a program another thread starts
	 * meanwhile would inherit them (and keep this namespace and ring alive). */
	if (fcntl(pcap_get_selectable_fd(c->pcap), F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fileno(pcap_dump_file(c->dumper)), F_SETFD, FD_CLOEXEC) < 0) {
		lab_err_sys(err, errno, "cannot mark the capture's descriptors close-on-exec");
		goto fail;
	}
	return c;
fail:
	capture_free(c);
	return NULL;
}

int capture_fd(const struct capture *c)
{
	return pcap_get_selectable_fd(c->pcap);
}

int capture_dispatch(struct capture *c, struct lab_err *err)
{
	int n;

	do {
		n = pcap_dispatch(c->pcap, -1, on_packet, (u_char *)c);
	} while (n > 0);
	if (n == PCAP_ERROR)
		return lab_err_set(err, "capture on lo failed: %s", pcap_geterr(c->pcap));
	return 0;
}

int capture_stop(struct capture *c, int grace_ms, struct capture_stats *stats, struct lab_err *err)
{
	struct pcap_stat ps = { 0 };
	struct pollfd pfd = { .fd = capture_fd(c), .events = POLLIN };
	int64_t waited_ms = 0;

	/* Loopback delivers a segment before the sending call returns, so the kernel
	 * has already counted what the processes sent; the grace covers segments it
	 * sends from timers (a delayed ACK, the last ACK of a teardown). */
	for (int rounds = 0; rounds < 100; rounds++) {
		if (capture_dispatch(c, err) < 0)
			goto fail;
		if (poll(&pfd, 1, grace_ms) <= 0)
			break;
	}
	/* Then every packet the kernel counted must be in the file or counted as
	 * dropped: the ring's last block is handed over only when its timer fires,
	 * which takes a few jiffies, not the 1 ms asked for. On lo the tap sees each
	 * packet twice, leaving and arriving, and libpcap keeps the arriving copy;
	 * the kernel's count (PACKET_STATISTICS, added up by libpcap) has both, and
	 * its drops. */
	while (pcap_stats(c->pcap, &ps) == 0 && ps.ps_recv > 2 * c->packets + ps.ps_drop &&
	       waited_ms < CAPTURE_DRAIN_MAX_MS) {
		poll(&pfd, 1, 2);
		waited_ms += 2;
		if (capture_dispatch(c, err) < 0)
			goto fail;
	}
	memset(stats, 0, sizeof(*stats));
	stats->packets = c->packets;
	stats->kernel_drops = ps.ps_drop;
	stats->ifdrops = ps.ps_ifdrop;
	if (ps.ps_recv > 2 * c->packets + ps.ps_drop) /* never handed over */
		stats->kernel_drops += (ps.ps_recv - 2 * c->packets - ps.ps_drop) / 2;
	if (pcap_dump_flush(c->dumper) < 0) {
		lab_err_sys(err, errno, "cannot write %s", c->part_path);
		goto fail;
	}
	if (c->anonymous && name_dump(c, err) < 0)
		goto fail;
	pcap_dump_close(c->dumper);
	c->dumper = NULL;
	if (rename(c->part_path, c->path) < 0) {
		lab_err_sys(err, errno, "cannot rename %s to %s", c->part_path, c->path);
		goto fail;
	}
	return 0;
fail:
	capture_abort(c);
	return -1;
}

void capture_abort(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->dumper != NULL) {
		pcap_dump_close(c->dumper);
		c->dumper = NULL;
	}
	unlink(c->part_path);
	capture_free(c);
}
