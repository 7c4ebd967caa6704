/* wire_link: one direction of the wire as a queue in time (see wire_link.h).
 * The checks run in a fixed order: down, MTU, drop filters, loss, rate queue; then
 * a kept packet may be corrupted, duplicated, delayed (with jitter, never earlier
 * than the packet before it) and held back behind the next one (reorder). */
#include "lab/wire/wire_link.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wire_link {
	struct wire_faults f;
	uint64_t seed;
	enum wire_dir dir;
	uint32_t mtu;
	bool any_fault;
	struct bpf_program filters[WIRE_MAX_FILTERS];
	uint64_t matches[WIRE_MAX_FILTERS];
	uint64_t next_index;
	/* Packets queued, in the order they leave (release_ns never decreases). */
	struct wire_packet *head, *tail;
	uint64_t last_release_ns;
	uint64_t pending;
	/* The packet held back to be overtaken by the next one, and its latest leave. */
	struct wire_packet *held;
	uint64_t held_deadline_ns;
	/* The rate queue: when each packet in it is done being sent (a ring). */
	uint64_t busy_until_ns;
	uint64_t *tx_done_ns;
	uint32_t ring_cap, ring_start, ring_count;
	struct wire_link_stats stats;
};

static int compile_filter(const char *expr, struct bpf_program *prog, char *msg, size_t msg_bytes)
{
	pcap_t *dead = pcap_open_dead(DLT_RAW, 65535);
	int rc = 0;

	if (dead == NULL) {
		snprintf(msg, msg_bytes, "libpcap cannot open a raw IP handle");
		return -1;
	}
	if (pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(msg, msg_bytes, "%s", pcap_geterr(dead));
		rc = -1;
	}
	pcap_close(dead);
	return rc;
}

bool wire_filter_compiles(const char *expr, char *msg, size_t msg_bytes)
{
	struct bpf_program prog;

	if (compile_filter(expr, &prog, msg, msg_bytes) < 0)
		return false;
	pcap_freecode(&prog);
	return true;
}

struct wire_link *wire_link_new(const struct wire_faults *f, uint64_t seed, enum wire_dir dir,
				uint32_t mtu, struct lab_err *err)
{
	struct wire_link *l = calloc(1, sizeof(*l));
	char why[PCAP_ERRBUF_SIZE + 64];

	if (l == NULL) {
		lab_err_set(err, "wire: out of memory for a link");
		return NULL;
	}
	l->f = *f;
	l->seed = seed;
	l->dir = dir;
	l->mtu = mtu;
	l->any_fault = wire_faults_any(f);
	for (size_t i = 0; i < f->n_filters; i++) {
		if (compile_filter(f->filters[i].expr, &l->filters[i], why, sizeof(why)) < 0) {
			lab_err_set(err, "wire: drop filter \"%s\": %s", f->filters[i].expr, why);
			l->f.n_filters = i;
			goto fail;
		}
	}
	if (f->rate_bps > 0) {
		l->ring_cap = f->queue_packets ? f->queue_packets : WIRE_DEFAULT_QUEUE_PACKETS;
		l->tx_done_ns = calloc(l->ring_cap, sizeof(*l->tx_done_ns));
		if (l->tx_done_ns == NULL) {
			lab_err_set(err, "wire: out of memory for a rate queue of %u packets",
				    l->ring_cap);
			goto fail;
		}
	}
	return l;
fail:
	wire_link_free(l);
	return NULL;
}

void wire_link_free(struct wire_link *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->f.n_filters; i++)
		pcap_freecode(&l->filters[i]);
	free(l->tx_done_ns);
	free(l);
}

static void append(struct wire_link *l, struct wire_packet *pkt)
{
	pkt->next = NULL;
	if (l->tail)
		l->tail->next = pkt;
	else
		l->head = pkt;
	l->tail = pkt;
	l->last_release_ns = pkt->release_ns;
}

static int drop(struct wire_link *l, struct wire_packet *pkt, enum wire_drop_kind why,
		enum wire_drop_kind *kind)
{
	l->stats.dropped[why] += pkt->segs;
	if (l->stats.n_drop_index < WIRE_RECORDED_DROPS)
		l->stats.drop_index[l->stats.n_drop_index++] = pkt->index;
	*kind = why;
	return 0;
}

static bool filters_drop(struct wire_link *l, const struct wire_packet *pkt)
{
	struct pcap_pkthdr hdr = { .caplen = pkt->len, .len = pkt->len };
	bool dropped = false;

	/* Every rule counts its own matches, whether or not another rule drops. */
	for (size_t i = 0; i < l->f.n_filters; i++) {
		if (pcap_offline_filter(&l->filters[i], &hdr, pkt->data) == 0)
			continue;
		l->matches[i]++;
		if (wire_filter_drops(&l->f.filters[i], l->matches[i]))
			dropped = true;
	}
	return dropped;
}

/* The rate queue: returns when the packet is done being sent, or 0 when the queue
 * is full. Sending takes len * 8 / rate seconds, after the packets before it. */
static uint64_t rate_queue(struct wire_link *l, uint32_t len, uint64_t t_ns)
{
	uint64_t start_ns, tx_ns;

	while (l->ring_count > 0 && l->tx_done_ns[l->ring_start] <= t_ns) {
		l->ring_start = (l->ring_start + 1) % l->ring_cap;
		l->ring_count--;
	}
	if (l->ring_count >= l->ring_cap)
		return 0;
	start_ns = l->busy_until_ns > t_ns ? l->busy_until_ns : t_ns;
	tx_ns = (uint64_t)len * 8 * 1000000000ULL / l->f.rate_bps;
	l->busy_until_ns = start_ns + (tx_ns ? tx_ns : 1);
	l->tx_done_ns[(l->ring_start + l->ring_count) % l->ring_cap] = l->busy_until_ns;
	l->ring_count++;
	return l->busy_until_ns;
}

/* A held packet that nothing overtook in time leaves alone, at its deadline. */
static void release_overdue_held(struct wire_link *l, uint64_t t_ns)
{
	if (l->held == NULL || t_ns < l->held_deadline_ns)
		return;
	l->held->release_ns = l->held_deadline_ns;
	append(l, l->held);
	l->held = NULL;
}

int wire_link_offer(struct wire_link *l, struct wire_packet *pkt, uint64_t t_ns,
		    enum wire_drop_kind *kind)
{
	struct wire_choice c;
	uint64_t depart_ns = t_ns, release_ns;
	int64_t delay_ns;

	release_overdue_held(l, t_ns);
	if (pkt->segs == 0) {
		pkt->segs = 1;
		pkt->seg_len = pkt->len;
	}
	pkt->index = l->next_index;
	l->next_index += pkt->segs;
	pkt->copies = 1;
	l->stats.packets_in += pkt->segs;
	l->stats.bytes_in += pkt->len;
	if (pkt->seg_len > l->mtu)
		return drop(l, pkt, WIRE_DROP_MTU, kind);
	if (!l->any_fault) {
		pkt->release_ns = t_ns > l->last_release_ns ? t_ns : l->last_release_ns;
		append(l, pkt);
		l->pending++;
		return 1;
	}
	if (wire_is_down(&l->f, t_ns / 1000))
		return drop(l, pkt, WIRE_DROP_DOWN, kind);
	if (filters_drop(l, pkt))
		return drop(l, pkt, WIRE_DROP_FILTER, kind);
	wire_choose(&l->f, l->seed, l->dir, pkt->index, &c);
	if (c.lose)
		return drop(l, pkt, WIRE_DROP_LOSS, kind);
	if (l->f.rate_bps > 0) {
		depart_ns = rate_queue(l, pkt->len, t_ns);
		if (depart_ns == 0)
			return drop(l, pkt, WIRE_DROP_QUEUE, kind);
	}
	if (c.corrupt && wire_corrupt(pkt->data, pkt->len, c.corrupt_draw) >= 0)
		l->stats.corrupted++;
	if (c.duplicate) {
		pkt->copies = 2;
		l->stats.duplicated++;
	}
	delay_ns = ((int64_t)l->f.delay_us + c.jitter_us) * 1000;
	release_ns = depart_ns + (delay_ns > 0 ? (uint64_t)delay_ns : 0);
	/* Jitter never reorders: no packet leaves before the one ahead of it. */
	if (release_ns < l->last_release_ns)
		release_ns = l->last_release_ns;
	if (release_ns > t_ns)
		l->stats.delayed += pkt->segs;
	pkt->release_ns = release_ns;
	l->pending++;
	if (c.reorder && l->held == NULL) {
		l->held = pkt;
		l->held_deadline_ns = release_ns + WIRE_REORDER_HOLD_MAX_US * 1000ULL;
		return 1;
	}
	append(l, pkt);
	if (l->held) {
		struct wire_packet *held = l->held;

		/* Overtaken: it leaves right behind this one. */
		if (held->release_ns < release_ns)
			held->release_ns = release_ns;
		append(l, held);
		l->held = NULL;
		l->stats.reordered++;
	}
	return 1;
}

void wire_link_refuse(struct wire_link *l, struct wire_packet *pkt, enum wire_drop_kind kind)
{
	enum wire_drop_kind ignored;

	if (pkt->segs == 0) {
		pkt->segs = 1;
		pkt->seg_len = pkt->len;
	}
	pkt->index = l->next_index;
	l->next_index += pkt->segs;
	l->stats.packets_in += pkt->segs;
	l->stats.bytes_in += pkt->len;
	drop(l, pkt, kind, &ignored);
}

struct wire_packet *wire_link_pop(struct wire_link *l, uint64_t t_ns)
{
	struct wire_packet *pkt;

	release_overdue_held(l, t_ns);
	pkt = l->head;
	if (pkt == NULL || pkt->release_ns > t_ns)
		return NULL;
	l->head = pkt->next;
	if (l->head == NULL)
		l->tail = NULL;
	pkt->next = NULL;
	l->pending--;
	return pkt;
}

uint64_t wire_link_next_ns(const struct wire_link *l)
{
	uint64_t next_ns = UINT64_MAX;

	if (l->head)
		next_ns = l->head->release_ns;
	if (l->held && l->held_deadline_ns < next_ns)
		next_ns = l->held_deadline_ns;
	return next_ns;
}

struct wire_packet *wire_link_take_all(struct wire_link *l)
{
	struct wire_packet *list;

	if (l->held) {
		append(l, l->held);
		l->held = NULL;
	}
	list = l->head;
	l->head = l->tail = NULL;
	l->pending = 0;
	return list;
}

uint64_t wire_link_pending(const struct wire_link *l)
{
	return l->pending;
}

const struct wire_link_stats *wire_link_stats(const struct wire_link *l)
{
	return &l->stats;
}
