/* flow_table: the connection table of the flow analysis (see flow_table.h;
 * flow.c analyses the segments).
 *
 * State: a hash table of open connections (struct conn, constant size each),
 * keyed by the 4-tuple in an order-independent form. A SYN with a new ISN on a
 * known 4-tuple retires the old connection and starts a new one. A closed
 * connection lingers for flow_opts.linger_us of capture time so late segments
 * (the last ACK, retransmitted FINs) still find it, then its state is freed and
 * only its struct flow_conn summary stays, in order of first packet. */
#include "lab/analysis/flow_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static uint64_t key_hash(const struct conn_key *k)
{
	/* FNV-1a over the fields that matter */
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *parts[2] = { k->addr[0], k->addr[1] };
	size_t addr_len = k->family == AF_INET6 ? 16 : 4;

	for (int e = 0; e < 2; e++) {
		for (size_t i = 0; i < addr_len; i++)
			h = (h ^ parts[e][i]) * 1099511628211ULL;
		h = (h ^ (k->port[e] & 0xff)) * 1099511628211ULL;
		h = (h ^ (k->port[e] >> 8)) * 1099511628211ULL;
	}
	return h;
}

static bool key_equal(const struct conn_key *a, const struct conn_key *b)
{
	return a->family == b->family && a->port[0] == b->port[0] && a->port[1] == b->port[1] &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Builds the order-independent key; *src_end says which endpoint sent it. */
static void key_from_packet(const struct packet_tcp *t, struct conn_key *k, int *src_end)
{
	size_t addr_len = t->family == AF_INET6 ? 16 : 4;
	int c = memcmp(t->src_addr, t->dst_addr, addr_len);

	if (c == 0)
		c = t->src_port < t->dst_port ? -1 : (t->src_port > t->dst_port ? 1 : 0);
	*src_end = c <= 0 ? 0 : 1;
	memset(k, 0, sizeof(*k));
	k->family = t->family;
	memcpy(k->addr[*src_end], t->src_addr, addr_len);
	memcpy(k->addr[1 - *src_end], t->dst_addr, addr_len);
	k->port[*src_end] = t->src_port;
	k->port[1 - *src_end] = t->dst_port;
}

static struct conn **table_slot(struct flow_analysis *fa, const struct conn_key *k)
{
	struct conn **slot = &fa->table[key_hash(k) & (fa->table_size - 1)];

	while (*slot && !key_equal(&(*slot)->key, k))
		slot = &(*slot)->hash_next;
	return slot;
}

static int table_grow(struct flow_analysis *fa)
{
	size_t new_size = fa->table_size ? fa->table_size * 2 : 1024;
	struct conn **old = fa->table;
	size_t old_size = fa->table_size;
	struct conn **table = calloc(new_size, sizeof(*table));

	if (table == NULL)
		return -1;
	fa->table = table;
	fa->table_size = new_size;
	for (size_t i = 0; i < old_size; i++) {
		struct conn *c = old[i];

		while (c) {
			struct conn *next = c->hash_next;
			size_t b = key_hash(&c->key) & (new_size - 1);

			c->hash_next = table[b];
			table[b] = c;
			c = next;
		}
	}
	free(old);
	return 0;
}

static void linger_unlink(struct flow_analysis *fa, struct conn *c)
{
	if (!c->lingering)
		return;
	if (c->linger_prev)
		c->linger_prev->linger_next = c->linger_next;
	else
		fa->linger_head = c->linger_next;
	if (c->linger_next)
		c->linger_next->linger_prev = c->linger_prev;
	else
		fa->linger_tail = c->linger_prev;
	c->linger_prev = c->linger_next = NULL;
	c->lingering = false;
}

void flow_table_linger(struct flow_analysis *fa, struct conn *c, int64_t now_us)
{
	linger_unlink(fa, c);
	c->closed_time_us = now_us;
	c->linger_prev = fa->linger_tail;
	if (fa->linger_tail)
		fa->linger_tail->linger_next = c;
	else
		fa->linger_head = c;
	fa->linger_tail = c;
	c->lingering = true;
}

/* Drops the analysis state of `c`; its summary stays in fa->conns. */
static void conn_retire(struct flow_analysis *fa, struct conn *c)
{
	struct conn **slot = table_slot(fa, &c->key);

	if (*slot == c)
		*slot = c->hash_next;
	linger_unlink(fa, c);
	fa->open_count--;
	free(c);
}

void flow_table_expire(struct flow_analysis *fa, int64_t now_us)
{
	while (fa->linger_head && now_us - fa->linger_head->closed_time_us > fa->opts.linger_us)
		conn_retire(fa, fa->linger_head);
}

static void endpoint_str(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[48]; /* INET6_ADDRSTRLEN */

	packet_addr_str(family, addr, a, sizeof(a));
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

static void dir_init(struct dir_state *d)
{
	memset(d, 0, sizeof(*d));
	d->win_scale = -1;
	d->window = WINDOW_UNSEEN;
	d->raw_window = RAW_WINDOW_UNSEEN;
}

/* Picks the client (see struct flow_conn) and creates the connection. */
static struct conn *conn_create(struct flow_analysis *fa, const struct conn_key *k, int src_end,
				const struct packet_tcp *t, uint64_t frame, int64_t now_us)
{
	struct conn *c = NULL;
	struct flow_conn *s = NULL;
	size_t addr_len = k->family == AF_INET6 ? 16 : 4;
	int client;

	if ((fa->open_count + 1) * 4 > fa->table_size * 3 && table_grow(fa) < 0)
		return NULL;
	if (fa->conn_count == fa->conn_cap) {
		size_t cap = fa->conn_cap ? fa->conn_cap * 2 : 64;
		struct flow_conn **conns = realloc(fa->conns, cap * sizeof(*conns));

		if (conns == NULL)
			return NULL;
		fa->conns = conns;
		fa->conn_cap = cap;
	}
	c = calloc(1, sizeof(*c));
	s = calloc(1, sizeof(*s));
	if (c == NULL || s == NULL)
		goto fail;
	if ((t->flags & (PACKET_TCP_SYN | PACKET_TCP_ACK)) == PACKET_TCP_SYN)
		client = src_end;
	else if ((t->flags & (PACKET_TCP_SYN | PACKET_TCP_ACK)) ==
		 (PACKET_TCP_SYN | PACKET_TCP_ACK))
		client = 1 - src_end;
	else if (t->src_port != t->dst_port)
		client = t->src_port > t->dst_port ? src_end : 1 - src_end;
	else
		client = src_end;
	c->key = *k;
	c->client_end = client;
	c->sum = s;
	dir_init(&c->d[0]);
	dir_init(&c->d[1]);
	s->id = (unsigned)fa->conn_count + 1;
	s->family = k->family;
	memcpy(s->client_addr, k->addr[client], addr_len);
	memcpy(s->server_addr, k->addr[1 - client], addr_len);
	s->client_port = k->port[client];
	s->server_port = k->port[1 - client];
	endpoint_str(s->family, s->client_addr, s->client_port, s->client_str,
		     sizeof(s->client_str));
	endpoint_str(s->family, s->server_addr, s->server_port, s->server_str,
		     sizeof(s->server_str));
	s->client_from_syn = (t->flags & PACKET_TCP_SYN) != 0;
	s->rtt_us = -1;
	s->handshake_us = -1;
	s->teardown_dir = -1;
	s->first_frame = frame;
	s->first_time_us = now_us;
	s->dir[0].wscale = s->dir[1].wscale = -1;
	fa->conns[fa->conn_count++] = s;
	fa->open_count++;
	return c;
fail:
	free(c);
	free(s);
	return NULL;
}

/* RFC 9293 §3.4.1: a SYN carrying a new ISN on the same 4-tuple starts a new
 * connection (the old one is over, the ports are being reused). Wireshark's
 * rule: a SYN whose seq differs from the base seq of that direction. */
static bool is_new_connection(const struct conn *c, int src_end, const struct packet_tcp *t)
{
	int dir = src_end == c->client_end ? FLOW_DIR_C2S : FLOW_DIR_S2C;
	const struct dir_state *fwd = &c->d[dir];

	if ((t->flags & (PACKET_TCP_SYN | PACKET_TCP_ACK)) != PACKET_TCP_SYN)
		return false;
	return fwd->base_known && t->seq != fwd->base_seq;
}

struct conn *flow_table_conn(struct flow_analysis *fa, const struct packet_tcp *t, uint64_t frame,
			     int64_t now_us, int *dir, bool *reused, struct lab_err *err)
{
	struct conn_key k;
	struct conn **slot;
	struct conn *c;
	int src_end;

	key_from_packet(t, &k, &src_end);
	if (fa->table_size == 0 && table_grow(fa) < 0) {
		lab_err_sys(err, ENOMEM, "flow: connection table");
		return NULL;
	}
	slot = table_slot(fa, &k);
	c = *slot;
	*reused = false;
	if (c && is_new_connection(c, src_end, t)) {
		conn_retire(fa, c);
		c = NULL;
		*reused = true;
	}
	if (c == NULL) {
		c = conn_create(fa, &k, src_end, t, frame, now_us);
		if (c == NULL) {
			lab_err_sys(err, ENOMEM, "flow: new connection");
			return NULL;
		}
		slot = table_slot(fa, &k);
		c->hash_next = NULL;
		*slot = c;
	}
	*dir = src_end == c->client_end ? FLOW_DIR_C2S : FLOW_DIR_S2C;
	return c;
}

void flow_table_free(struct flow_analysis *fa)
{
	for (size_t i = 0; i < fa->table_size; i++) {
		struct conn *c = fa->table[i];

		while (c) {
			struct conn *next = c->hash_next;

			free(c);
			c = next;
		}
	}
	free(fa->table);
	for (size_t i = 0; i < fa->conn_count; i++)
		free(fa->conns[i]);
	free(fa->conns);
}

/* ---- the summaries ------------------------------------------------------- */

uint64_t flow_conn_flag_count(const struct flow_conn *conn, enum flow_flag flag)
{
	if ((unsigned)flag >= FLOW_FLAG_COUNT)
		return 0;
	return conn->dir[0].flags[flag] + conn->dir[1].flags[flag];
}

bool flow_conn_has_port(const struct flow_conn *conn, uint16_t port)
{
	return conn->server_port == port || conn->client_port == port;
}

size_t flow_conn_count(const struct flow_analysis *fa)
{
	return fa->conn_count;
}

const struct flow_conn *flow_conn_at(const struct flow_analysis *fa, size_t index)
{
	return index < fa->conn_count ? fa->conns[index] : NULL;
}
