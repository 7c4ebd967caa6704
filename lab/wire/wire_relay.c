/* wire_relay: the relay thread (see wire_relay.h). */
#include "lab/wire/wire_relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Packets read from one device before the loop looks at the other and at the
 * clock again: both directions get their turn under load. */
#define RELAY_READ_BATCH 64
/* At most this much memory holds delayed packets; beyond it a packet is dropped as
 * "overflow" (counted, and in the sender's capture), since not reading would let
 * the kernel drop it out of sight. 1 Gbit/s delayed by 1 s fits. */
#define RELAY_MAX_BUFFERED_BYTES (256ull << 20)

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t relay_now_ns(const struct wire_relay *r)
{
	return clock_ns(CLOCK_MONOTONIC) - r->start_mono_ns;
}

static uint64_t realtime_ns(const struct wire_relay *r, uint64_t t_ns)
{
	return (uint64_t)((int64_t)(t_ns + r->start_mono_ns) + r->realtime_offset_ns);
}

static struct wire_packet *packet_get(struct wire_relay *r)
{
	struct wire_packet *pkt = r->free_list;

	if (pkt) {
		r->free_list = pkt->next;
		return pkt;
	}
	if (r->packets_allocated >= r->max_packets)
		return NULL;
	pkt = malloc(sizeof(*pkt) + r->mtu);
	if (pkt)
		r->packets_allocated++;
	return pkt;
}

static void packet_put(struct wire_relay *r, struct wire_packet *pkt)
{
	if (pkt == r->scratch)
		return;
	pkt->next = r->free_list;
	r->free_list = pkt;
}

static void free_packets(struct wire_relay *r)
{
	while (r->free_list) {
		struct wire_packet *next = r->free_list->next;

		free(r->free_list);
		r->free_list = next;
	}
	free(r->scratch);
	r->scratch = NULL;
}

static enum wire_side receiver_of(enum wire_dir dir)
{
	return dir == WIRE_C2S ? WIRE_SERVER : WIRE_CLIENT;
}

/* Writes one packet to a device; waits while the device cannot take it (the
 * kernel's TUN write does not do that today, but the relay never drops a packet
 * on its own account). */
static int write_packet(int fd, const struct wire_packet *pkt)
{
	for (;;) {
		ssize_t n = write(fd, pkt->data, pkt->len);

		if (n == (ssize_t)pkt->len)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 1);
			continue;
		}
		return -1;
	}
}

static void deliver_due(struct wire_relay *r, enum wire_dir dir, uint64_t t_ns)
{
	enum wire_side to = receiver_of(dir);
	struct wire_packet *pkt;

	while ((pkt = wire_link_pop(r->link[dir], t_ns)) != NULL) {
		for (unsigned copy = 0; copy < pkt->copies; copy++) {
			if (write_packet(r->tun_fd[to], pkt) < 0) {
				r->write_errors[dir]++;
				continue;
			}
			if (r->pcap[to])
				wire_pcap_write(r->pcap[to], realtime_ns(r, relay_now_ns(r)),
						pkt->data, pkt->len);
			r->delivered[dir]++;
		}
		packet_put(r, pkt);
	}
}

/* Reads what SIDE's device has (up to a batch); returns 1 if it may have more. */
static int read_side(struct wire_relay *r, enum wire_side side)
{
	enum wire_dir dir = side == WIRE_CLIENT ? WIRE_C2S : WIRE_S2C;

	for (int i = 0; i < RELAY_READ_BATCH; i++) {
		struct wire_packet *pkt = packet_get(r);
		enum wire_drop_kind kind;
		uint64_t t_ns;
		ssize_t n;

		if (pkt == NULL)
			pkt = r->scratch;
		n = read(r->tun_fd[side], pkt->data, r->mtu);
		if (n <= 0) {
			packet_put(r, pkt);
			return 0;
		}
		t_ns = relay_now_ns(r);
		pkt->len = (uint32_t)n;
		if (r->pcap[side])
			wire_pcap_write(r->pcap[side], realtime_ns(r, t_ns), pkt->data, pkt->len);
		if (pkt == r->scratch) {
			wire_link_refuse(r->link[dir], pkt, WIRE_DROP_OVERFLOW);
			continue;
		}
		if (wire_link_offer(r->link[dir], pkt, t_ns, &kind) == 0)
			packet_put(r, pkt);
	}
	return 1;
}

static void *relay_main(void *arg)
{
	struct wire_relay *r = arg;
	struct pollfd fds[3] = {
		{ .fd = r->tun_fd[WIRE_CLIENT], .events = POLLIN },
		{ .fd = r->tun_fd[WIRE_SERVER], .events = POLLIN },
		{ .fd = r->stop_fd, .events = POLLIN },
	};
	int more[WIRE_SIDES] = { 0, 0 };

	/* Wake-ups to the nanosecond: a delay of 50 ms is 50 ms, not 50.05. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	/* The link should not wait for the CPU behind the programs it carries (or a
	 * busy machine's other work): the highest nice value, when allowed (root);
	 * otherwise it runs as it is. It sleeps whenever nothing is due. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -20) < 0) {
		/* not permitted: the wire works, with more variation in its delays */
	}
	prctl(PR_SET_NAME, "tcplab-wire");
	for (;;) {
		uint64_t now_ns = relay_now_ns(r);
		uint64_t next_ns = UINT64_MAX;
		struct timespec timeout, *tp = NULL;

		for (int d = 0; d < WIRE_DIRS; d++) {
			uint64_t due_ns;

			deliver_due(r, (enum wire_dir)d, now_ns);
			due_ns = wire_link_next_ns(r->link[d]);
			if (due_ns < next_ns)
				next_ns = due_ns;
		}
		if (more[WIRE_CLIENT] || more[WIRE_SERVER])
			next_ns = 0;
		if (next_ns != UINT64_MAX) {
			now_ns = relay_now_ns(r);
			uint64_t wait_ns = next_ns > now_ns ? next_ns - now_ns : 0;

			timeout.tv_sec = (time_t)(wait_ns / 1000000000ULL);
			timeout.tv_nsec = (long)(wait_ns % 1000000000ULL);
			tp = &timeout;
		}
		if (ppoll(fds, 3, tp, NULL) < 0 && errno != EINTR)
			break;
		if (fds[2].revents) {
			/* What the devices hold now goes into the senders' captures and
			 * onto the links, so the captures miss nothing the kernel sent. */
			while (read_side(r, WIRE_CLIENT) | read_side(r, WIRE_SERVER))
				;
			break;
		}
		for (int s = 0; s < WIRE_SIDES; s++) {
			if ((fds[s].revents & POLLIN) || more[s])
				more[s] = read_side(r, (enum wire_side)s);
			else
				more[s] = 0;
		}
	}
	return NULL;
}

int wire_relay_start(struct wire_relay *r, struct lab_err *err)
{
	sigset_t all, old;
	int rc;

	r->max_packets = RELAY_MAX_BUFFERED_BYTES / (sizeof(struct wire_packet) + r->mtu);
	r->scratch = malloc(sizeof(*r->scratch) + r->mtu);
	if (r->scratch == NULL)
		return lab_err_set(err, "wire: out of memory for the relay");
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0) {
		free_packets(r);
		return lab_err_sys(err, errno, "wire: cannot make the relay's stop event");
	}
	r->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
	r->realtime_offset_ns = (int64_t)clock_ns(CLOCK_REALTIME) - (int64_t)r->start_mono_ns;
	/* The relay takes no signal: they are the caller's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, relay_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(r->stop_fd);
		r->stop_fd = -1;
		free_packets(r);
		return lab_err_sys(err, rc, "wire: cannot start the relay thread");
	}
	r->running = 1;
	return 0;
}

void wire_relay_stop(struct wire_relay *r)
{
	uint64_t one = 1;

	if (!r->running)
		return;
	if (write(r->stop_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write fails only on overflow, which one write cannot cause. */
	}
	pthread_join(r->thread, NULL);
	r->running = 0;
	close(r->stop_fd);
	r->stop_fd = -1;
	for (int d = 0; d < WIRE_DIRS; d++) {
		struct wire_packet *pkt = wire_link_take_all(r->link[d]);

		while (pkt) {
			struct wire_packet *next = pkt->next;

			r->pending_at_stop[d]++;
			packet_put(r, pkt);
			pkt = next;
		}
	}
	free_packets(r);
}
