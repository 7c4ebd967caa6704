/* wire_relay: the relay thread (see wire_relay.h). */
#include "lab/wire/wire_relay.h"

#include "lab/wire/wire_gso.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Packets read from one device before the loop looks at the other and at the
 * clock again: both directions get their turn under load. */
#define RELAY_READ_BATCH 64
/* At most this much memory holds delayed packets; beyond it a packet is dropped as
 * "overflow" (counted, and in the sender's capture), since not reading would let
 * the kernel drop it out of sight. 1 Gbit/s delayed by 1 s fits. With offloads,
 * bursts take buffers of 64 KiB and everything else buffers of the MTU. */
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

/* A packet buffer, big (r->big_bytes) or small (r->small_bytes), from that size's
 * free list or newly allocated while the memory bound allows. */
static struct wire_packet *packet_get(struct wire_relay *r, bool big)
{
	struct wire_packet **list;
	size_t bytes;
	struct wire_packet *pkt;

	big = big && r->big_bytes != r->small_bytes;
	list = big ? &r->free_big : &r->free_small;
	bytes = sizeof(struct wire_packet) + (big ? r->big_bytes : r->small_bytes);
	pkt = *list;
	if (pkt) {
		*list = pkt->next;
		return pkt;
	}
	if (r->bytes_allocated + bytes > RELAY_MAX_BUFFERED_BYTES)
		return NULL;
	pkt = malloc(bytes);
	if (pkt)
		r->bytes_allocated += bytes;
	return pkt;
}

static bool is_big(const struct wire_relay *r, const struct wire_packet *pkt)
{
	return pkt->capacity == r->big_bytes && r->big_bytes != r->small_bytes;
}

static void packet_put(struct wire_relay *r, struct wire_packet *pkt)
{
	struct wire_packet **list;

	if (pkt == r->scratch)
		return;
	list = is_big(r, pkt) ? &r->free_big : &r->free_small;
	pkt->next = *list;
	*list = pkt;
}

static void free_list(struct wire_packet *pkt)
{
	while (pkt) {
		struct wire_packet *next = pkt->next;

		free(pkt);
		pkt = next;
	}
}

static void free_packets(struct wire_relay *r)
{
	free_list(r->free_big);
	free_list(r->free_small);
	r->free_big = r->free_small = NULL;
	free(r->scratch);
	r->scratch = NULL;
}

static enum wire_side receiver_of(enum wire_dir dir)
{
	return dir == WIRE_C2S ? WIRE_SERVER : WIRE_CLIENT;
}

/* Writes one packet to a device; waits while the device cannot take it (the
 * kernel's TUN write does not do that today, but the relay never drops a packet
 * on its own account). With offloads the virtio-net header goes first, as read. */
static int write_packet(const struct wire_relay *r, int fd, struct wire_packet *pkt)
{
	struct iovec iov[2] = {
		{ .iov_base = &pkt->vnet, .iov_len = sizeof(pkt->vnet) },
		{ .iov_base = pkt->data, .iov_len = pkt->len },
	};
	int first = r->offload ? 0 : 1;
	size_t want = pkt->len + (r->offload ? sizeof(pkt->vnet) : 0);

	for (;;) {
		ssize_t n = writev(fd, iov + first, 2 - first);

		if (n == (ssize_t)want)
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

/* Writes PKT to SIDE's capture, as the segments it is on the wire. */
static void capture(struct wire_relay *r, enum wire_side side, uint64_t t_ns,
		    const struct wire_packet *pkt)
{
	if (r->pcap[side] == NULL)
		return;
	if (r->offload)
		wire_pcap_write_vnet(r->pcap[side], realtime_ns(r, t_ns), &pkt->vnet, pkt->data,
				     pkt->len);
	else
		wire_pcap_write(r->pcap[side], realtime_ns(r, t_ns), pkt->data, pkt->len);
}

static void deliver_due(struct wire_relay *r, enum wire_dir dir, uint64_t t_ns)
{
	enum wire_side to = receiver_of(dir);
	struct wire_packet *pkt;

	while ((pkt = wire_link_pop(r->link[dir], t_ns)) != NULL) {
		for (unsigned copy = 0; copy < pkt->copies; copy++) {
			if (write_packet(r, r->tun_fd[to], pkt) < 0) {
				r->write_errors[dir] += pkt->segs;
				continue;
			}
			capture(r, to, relay_now_ns(r), pkt);
			r->delivered[dir] += pkt->segs;
			r->device_writes[dir]++;
		}
		packet_put(r, pkt);
	}
}

/* Reads one packet from FD into a buffer of the pool (the scratch buffer when the
 * memory bound is reached); with offloads a small packet moves to a small buffer.
 * Returns NULL when the device has nothing. */
static struct wire_packet *read_packet(struct wire_relay *r, int fd)
{
	struct wire_packet *pkt = packet_get(r, true), *small;
	struct iovec iov[2];
	int first = r->offload ? 0 : 1;
	ssize_t n;

	if (pkt == NULL)
		pkt = r->scratch;
	pkt->capacity = r->big_bytes;
	iov[0].iov_base = &pkt->vnet;
	iov[0].iov_len = sizeof(pkt->vnet);
	iov[1].iov_base = pkt->data;
	iov[1].iov_len = r->big_bytes;
	n = readv(fd, iov + first, 2 - first);
	if (r->offload)
		n -= (ssize_t)sizeof(pkt->vnet);
	else
		memset(&pkt->vnet, 0, sizeof(pkt->vnet));
	if (n <= 0) {
		packet_put(r, pkt);
		return NULL;
	}
	pkt->len = (uint32_t)n;
	if (r->offload && pkt != r->scratch && pkt->len <= r->small_bytes &&
	    (small = packet_get(r, false)) != NULL) {
		small->capacity = r->small_bytes;
		small->vnet = pkt->vnet;
		small->len = pkt->len;
		memcpy(small->data, pkt->data, pkt->len);
		packet_put(r, pkt);
		pkt = small;
	}
	pkt->segs = 1;
	pkt->seg_len = pkt->len;
	if (r->offload && pkt->vnet.gso_type != WIRE_VNET_GSO_NONE) {
		uint32_t segs = wire_gso_count(&pkt->vnet, pkt->data, pkt->len);

		if (segs > 0) {
			pkt->segs = segs;
			pkt->seg_len = wire_gso_max_segment(&pkt->vnet, pkt->data, pkt->len);
		}
	}
	return pkt;
}

/* Reads what SIDE's device has (up to a batch); returns 1 if it may have more. */
static int read_side(struct wire_relay *r, enum wire_side side)
{
	enum wire_dir dir = side == WIRE_CLIENT ? WIRE_C2S : WIRE_S2C;

	for (int i = 0; i < RELAY_READ_BATCH; i++) {
		struct wire_packet *pkt = read_packet(r, r->tun_fd[side]);
		enum wire_drop_kind kind;
		uint64_t t_ns;

		if (pkt == NULL)
			return 0;
		r->device_reads[dir]++;
		t_ns = relay_now_ns(r);
		capture(r, side, t_ns, pkt);
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
	 * busy machine's other work): a delayed packet leaves when it is due, not
	 * when the scheduler gets round to the relay. So the relay runs under the
	 * real-time policy at its lowest priority when allowed (root): it wakes at
	 * once, and it sleeps whenever nothing is due, so it takes only the CPU the
	 * packets need (the kernel keeps 5% of each second for others regardless).
	 * Otherwise the highest nice value, otherwise as it is. */
	if (pthread_setschedparam(pthread_self(), SCHED_FIFO,
				  &(struct sched_param){ .sched_priority = 1 }) != 0 &&
	    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -20) < 0) {
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

	r->small_bytes = r->mtu;
	r->big_bytes = r->offload ? WIRE_RELAY_MAX_PACKET : r->mtu;
	r->bytes_allocated = 0;
	r->scratch = malloc(sizeof(*r->scratch) + r->big_bytes);
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

			r->pending_at_stop[d] += (uint64_t)pkt->copies * pkt->segs;
			packet_put(r, pkt);
			pkt = next;
		}
	}
	free_packets(r);
}
