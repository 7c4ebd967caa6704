/* watch: socket progress through sock_diag (see watch.h).
 * One netlink socket per watcher; every query is one dump of both address
 * families, filtered in the kernel by a port bytecode (see watch_dump). Messages are read
 * through libmnl's bounds-checked walkers; a reply of the wrong sequence number
 * (left over from an earlier query) is skipped, and every dump is read to its
 * end so the socket stays in step even when a query fails. */
#include "lab/liveness/watch.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

/* Large enough for a few dozen sockets per read; a dump spans reads if needed. */
#define WATCH_RECV_BUF_BYTES 32768

struct watch {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	/* Aligned for struct nlmsghdr. */
	char buf[WATCH_RECV_BUF_BYTES] __attribute__((aligned(8)));
};

/* What a dump callback receives with each socket. */
typedef void (*watch_socket_fn)(const struct watch_socket *sock, void *data);

struct watch *watch_open(struct lab_err *err)
{
	struct watch *w;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		lab_err_sys(err, errno, "watch: allocating the watcher");
		return NULL;
	}
	w->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (w->nl == NULL) {
		lab_err_sys(err, errno, "watch: opening a NETLINK_SOCK_DIAG socket");
		goto fail;
	}
	if (mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		lab_err_sys(err, errno, "watch: binding the sock_diag socket");
		goto fail;
	}
	w->portid = mnl_socket_get_portid(w->nl);
	w->seq = 1;
	return w;
fail:
	watch_close(w);
	return NULL;
}

void watch_close(struct watch *w)
{
	if (w == NULL)
		return;
	if (w->nl != NULL)
		mnl_socket_close(w->nl);
	free(w);
}

const char *watch_tcp_state_name(int state)
{
	static const char *const names[] = {
		[WATCH_TCP_ESTABLISHED] = "ESTABLISHED",
		[WATCH_TCP_SYN_SENT] = "SYN_SENT",
		[WATCH_TCP_SYN_RECV] = "SYN_RECV",
		[WATCH_TCP_FIN_WAIT1] = "FIN_WAIT1",
		[WATCH_TCP_FIN_WAIT2] = "FIN_WAIT2",
		[WATCH_TCP_TIME_WAIT] = "TIME_WAIT",
		[WATCH_TCP_CLOSE] = "CLOSE",
		[WATCH_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[WATCH_TCP_LAST_ACK] = "LAST_ACK",
		[WATCH_TCP_LISTEN] = "LISTEN",
		[WATCH_TCP_CLOSING] = "CLOSING",
		[WATCH_TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
	};

	if (state <= 0 || (size_t)state >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[state];
}

/* Stores a kernel address (idiag_src/idiag_dst, network order) in IPv6 form. */
static void watch_addr_v6(uint8_t out[16], int family, const __be32 in[4])
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, &in[0], 4);
	} else {
		memcpy(out, in, 16);
	}
}

/* Fills *sock from one inet_diag_msg; -1 if the message is too short. */
static int watch_parse_socket(const struct nlmsghdr *nlh, struct watch_socket *sock)
{
	const struct inet_diag_msg *msg;
	const struct nlattr *attr;
	struct tcp_info info;
	size_t info_len;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*msg))
		return -1;
	msg = mnl_nlmsg_get_payload(nlh);
	memset(sock, 0, sizeof(*sock));
	sock->cookie =
		(uint64_t)msg->id.idiag_cookie[0] | ((uint64_t)msg->id.idiag_cookie[1] << 32);
	sock->inode = msg->idiag_inode;
	sock->family = msg->idiag_family;
	watch_addr_v6(sock->local_addr, msg->idiag_family, msg->id.idiag_src);
	watch_addr_v6(sock->remote_addr, msg->idiag_family, msg->id.idiag_dst);
	sock->local_port = ntohs(msg->id.idiag_sport);
	sock->remote_port = ntohs(msg->id.idiag_dport);
	sock->state = msg->idiag_state;
	sock->send_queue_bytes = msg->idiag_wqueue;
	sock->recv_queue_bytes = msg->idiag_rqueue;
	sock->timer = msg->idiag_timer;

	mnl_attr_for_each(attr, nlh, sizeof(*msg))
	{
		if (mnl_attr_get_type(attr) != INET_DIAG_INFO)
			continue;
		/* Older kernels send a shorter struct, newer ones a longer one: take
		 * what both know and say which fields arrived. */
		info_len = mnl_attr_get_payload_len(attr);
		memset(&info, 0, sizeof(info));
		memcpy(&info, mnl_attr_get_payload(attr),
		       info_len < sizeof(info) ? info_len : sizeof(info));
		sock->has_info = info_len >= offsetof(struct tcp_info, tcpi_bytes_received) +
						     sizeof(info.tcpi_bytes_received);
		sock->has_snd_wnd = info_len >= offsetof(struct tcp_info, tcpi_snd_wnd) +
							sizeof(info.tcpi_snd_wnd);
		sock->bytes_acked = info.tcpi_bytes_acked;
		sock->bytes_received = info.tcpi_bytes_received;
		sock->snd_wnd_bytes = info.tcpi_snd_wnd;
		sock->rcv_space_bytes = info.tcpi_rcv_space;
		sock->probes = info.tcpi_probes;
		sock->backoff = info.tcpi_backoff;
	}
	return 0;
}

/* Bytecode run by the kernel on each socket: "source port == port", or with
 * either_end "source port == port or destination port == port". A condition op
 * jumps `yes` bytes when true, `no` when false; landing exactly on the end
 * accepts, jumping past it (by 4) rejects. The port travels in the `no` field of
 * the op that follows the comparison. The kernel's audit walks the `yes` chain,
 * so it must run straight to the end: "or" is written as
 * [S_EQ yes:next no:B] [port] [JMP no:end] B:[D_EQ yes:end no:end+4] [port]. */
static size_t watch_port_bytecode(struct inet_diag_bc_op *bc, int port, bool either_end)
{
	if (!either_end) {
		bc[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_EQ, 8, 12 };
		bc[1] = (struct inet_diag_bc_op){ 0, 0, (unsigned short)port };
		return 2 * sizeof(*bc);
	}
	bc[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_EQ, 8, 12 };
	bc[1] = (struct inet_diag_bc_op){ 0, 0, (unsigned short)port };
	bc[2] = (struct inet_diag_bc_op){ INET_DIAG_BC_JMP, 4, 12 };
	bc[3] = (struct inet_diag_bc_op){ INET_DIAG_BC_D_EQ, 8, 12 };
	bc[4] = (struct inet_diag_bc_op){ 0, 0, (unsigned short)port };
	return 5 * sizeof(*bc);
}

/* Walks one buffer of replies. Returns 1 when the dump goes on, 0 at its end,
 * -1 on a kernel error (errno set). Malformed socket messages are counted in
 * *malformed and skipped, so the dump is still read to its end. */
static int watch_walk(struct watch *w, size_t len, unsigned int seq, watch_socket_fn fn, void *data,
		      unsigned int *malformed)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)w->buf;
	const struct nlmsgerr *nlerr;
	struct watch_socket sock;
	int len_left = (int)len;

	for (; mnl_nlmsg_ok(nlh, len_left); nlh = mnl_nlmsg_next(nlh, &len_left)) {
		if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != w->portid)
			continue; /* left over from an earlier query */
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 0;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			nlerr = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*nlerr))
				errno = EBADMSG;
			else
				errno = nlerr->error < 0 ? -nlerr->error : EPROTO;
			return -1; /* an error ends the dump */
		}
		/* Replies carry the request's type. */
		if (nlh->nlmsg_type != TCPDIAG_GETSOCK && nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		if (watch_parse_socket(nlh, &sock) < 0) {
			(*malformed)++;
			continue;
		}
		fn(&sock, data);
	}
	return 1;
}

/* One dump of the TCP sockets in `states` that pass the bytecode, both address
 * families at once; fn is called for each socket.
 *
 * Why the older request (TCPDIAG_GETSOCK with struct inet_diag_req) and not
 * SOCK_DIAG_BY_FAMILY with inet_diag_req_v2: v2 wants one family per dump, and
 * every dump of connected sockets walks the whole established hash table, which
 * is shared by all namespaces unless net.ipv4.tcp_child_ehash_entries was set
 * when the namespace was made (262144 buckets here, ~190 us a walk). The older
 * request is the kernel's compatibility path for "any family" (it becomes a v2
 * dump with AF_UNSPEC inside the kernel): one walk instead of two. */
static int watch_dump(struct watch *w, uint32_t states, uint8_t ext,
		      const struct inet_diag_bc_op *bc, size_t bc_len, watch_socket_fn fn,
		      void *data, struct lab_err *err)
{
	char req[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct inet_diag_req *r;
	unsigned int seq;
	ssize_t n;
	int ret;
	unsigned int malformed = 0;

	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = TCPDIAG_GETSOCK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	seq = w->seq++;
	nlh->nlmsg_seq = seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->idiag_family = AF_UNSPEC;
	r->idiag_states = states;
	r->idiag_ext = ext;
	mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, bc_len, bc);

	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0)
		return lab_err_sys(err, errno, "watch: sending a sock_diag request");
	for (;;) {
		n = mnl_socket_recvfrom(w->nl, w->buf, sizeof(w->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lab_err_sys(err, errno, "watch: reading sock_diag replies");
		if (n == 0)
			return lab_err_set(err, "watch: sock_diag socket closed mid-dump");
		ret = watch_walk(w, (size_t)n, seq, fn, data, &malformed);
		if (ret < 0)
			return lab_err_sys(err, errno, "watch: sock_diag dump of TCP sockets");
		if (ret == 0)
			break;
	}
	if (malformed != 0)
		return lab_err_set(err, "watch: %u malformed sock_diag replies", malformed);
	return 0;
}

static int watch_check_port(int port, struct lab_err *err)
{
	if (port < 1 || port > 65535)
		return lab_err_set(err, "watch: port %d is not in 1..65535", port);
	return 0;
}

struct watch_listen_ctx {
	int port;
	bool found;
};

static void watch_listen_fn(const struct watch_socket *sock, void *data)
{
	struct watch_listen_ctx *ctx = data;

	/* The kernel filtered already; checking again costs nothing. */
	if (sock->state == WATCH_TCP_LISTEN && sock->local_port == ctx->port)
		ctx->found = true;
}

int watch_listening(struct watch *w, int port, bool *listening, struct lab_err *err)
{
	struct inet_diag_bc_op bc[5];
	struct watch_listen_ctx ctx = { .port = port, .found = false };
	size_t bc_len;

	*listening = false;
	if (watch_check_port(port, err) < 0)
		return -1;
	bc_len = watch_port_bytecode(bc, port, false);
	if (watch_dump(w, 1u << WATCH_TCP_LISTEN, 0, bc, bc_len, watch_listen_fn, &ctx, err) < 0)
		return -1;
	*listening = ctx.found;
	return 0;
}

static void watch_sample_fn(const struct watch_socket *sock, void *data)
{
	struct watch_sample *out = data;

	if (sock->local_port != out->port && sock->remote_port != out->port)
		return;
	if (out->count == WATCH_MAX_SOCKETS) {
		out->overflow_count++;
		return;
	}
	out->sockets[out->count++] = *sock;
	out->send_queue_bytes += sock->send_queue_bytes;
	out->recv_queue_bytes += sock->recv_queue_bytes;
	out->bytes_acked += sock->bytes_acked;
	out->bytes_received += sock->bytes_received;
}

int watch_sample(struct watch *w, int port, struct watch_sample *out, struct lab_err *err)
{
	/* Every state but LISTEN (not a connection) and TIME_WAIT (closed: no
	 * queues, no tcp_info, and it lingers for a minute). */
	const uint32_t states = ((1u << (WATCH_TCP_NEW_SYN_RECV + 1)) - 1) &
				~(1u << WATCH_TCP_LISTEN) & ~(1u << WATCH_TCP_TIME_WAIT) & ~1u;
	struct inet_diag_bc_op bc[5];
	size_t bc_len;

	out->port = port;
	out->count = 0;
	out->overflow_count = 0;
	out->send_queue_bytes = 0;
	out->recv_queue_bytes = 0;
	out->bytes_acked = 0;
	out->bytes_received = 0;
	if (watch_check_port(port, err) < 0)
		return -1;
	bc_len = watch_port_bytecode(bc, port, true);
	return watch_dump(w, states, 1u << (INET_DIAG_INFO - 1), bc, bc_len, watch_sample_fn, out,
			  err);
}

/* ---- connections and the detector: pure functions of samples ---------------- */

static bool watch_is_server_end(const struct watch_socket *sock, int port)
{
	return sock->local_port == port;
}

/* Are a (client end) and b (server end) the two ends of one connection? */
static bool watch_ends_match(const struct watch_socket *client, const struct watch_socket *server)
{
	return client->remote_port == server->local_port &&
	       client->local_port == server->remote_port &&
	       memcmp(client->remote_addr, server->local_addr, 16) == 0 &&
	       memcmp(client->local_addr, server->remote_addr, 16) == 0;
}

/* Bytes moved each way. The receiving end's count is the most direct (it includes
 * bytes whose ACK is still on its way); without it, the sender's acked count, less
 * the client's SYN, which the kernel counts as one acknowledged byte. */
static void watch_conn_finish(struct watch_conn *c)
{
	const struct watch_socket *cl = &c->client;
	const struct watch_socket *sv = &c->server;

	if (c->has_server)
		c->client_to_server_bytes = sv->bytes_received;
	else
		c->client_to_server_bytes = cl->bytes_acked > 0 ? cl->bytes_acked - 1 : 0;
	if (c->has_client)
		c->server_to_client_bytes = cl->bytes_received;
	else
		c->server_to_client_bytes = sv->bytes_acked;
	c->queued = cl->send_queue_bytes || cl->recv_queue_bytes || sv->send_queue_bytes ||
		    sv->recv_queue_bytes;
	if (c->has_client && c->has_server)
		c->blocked_both_ways = cl->send_queue_bytes > 0 && sv->send_queue_bytes > 0;
	else if (c->has_client)
		c->blocked_both_ways = cl->send_queue_bytes > 0 && cl->recv_queue_bytes > 0;
	else
		c->blocked_both_ways = sv->send_queue_bytes > 0 && sv->recv_queue_bytes > 0;
}

size_t watch_sample_conns(const struct watch_sample *s, struct watch_conn *out, size_t cap)
{
	bool used[WATCH_MAX_SOCKETS] = { false };
	size_t n = 0;
	size_t i, j;

	/* Client ends first, each with its server end if present ... */
	for (i = 0; i < s->count && n < cap; i++) {
		const struct watch_socket *cl = &s->sockets[i];

		if (watch_is_server_end(cl, s->port))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].has_client = true;
		out[n].client = *cl;
		used[i] = true;
		for (j = 0; j < s->count; j++) {
			if (!used[j] && watch_is_server_end(&s->sockets[j], s->port) &&
			    watch_ends_match(cl, &s->sockets[j])) {
				out[n].has_server = true;
				out[n].server = s->sockets[j];
				used[j] = true;
				break;
			}
		}
		watch_conn_finish(&out[n]);
		n++;
	}
	/* ... then server ends whose client is not in the sample. */
	for (i = 0; i < s->count && n < cap; i++) {
		if (used[i])
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].has_server = true;
		out[n].server = s->sockets[i];
		watch_conn_finish(&out[n]);
		n++;
	}
	return n;
}

const char *watch_state_name(enum watch_state state)
{
	switch (state) {
	case WATCH_PROGRESS:
		return "progress";
	case WATCH_IDLE:
		return "idle";
	case WATCH_STALL:
		return "stall";
	case WATCH_DEADLOCK:
		return "deadlock";
	}
	return "unknown";
}

void watch_detector_init(struct watch_detector *det, uint64_t quiet_us)
{
	memset(det, 0, sizeof(*det));
	det->quiet_us = quiet_us;
	det->state = WATCH_PROGRESS;
}

static bool watch_socket_moved(const struct watch_socket *a, const struct watch_socket *b)
{
	return a->state != b->state || a->bytes_acked != b->bytes_acked ||
	       a->bytes_received != b->bytes_received ||
	       a->send_queue_bytes != b->send_queue_bytes ||
	       a->recv_queue_bytes != b->recv_queue_bytes;
}

static bool watch_same_socket(const struct watch_socket *a, const struct watch_socket *b)
{
	return a->cookie == b->cookie && a->local_port == b->local_port &&
	       a->remote_port == b->remote_port;
}

/* Did anything move between two samples? Sockets are matched by cookie, so the
 * order of the dump does not matter. */
static bool watch_samples_differ(const struct watch_sample *old, const struct watch_sample *cur)
{
	size_t i, j;

	if (old->count != cur->count || old->overflow_count != cur->overflow_count ||
	    old->port != cur->port)
		return true;
	for (i = 0; i < cur->count; i++) {
		for (j = 0; j < old->count; j++) {
			if (watch_same_socket(&cur->sockets[i], &old->sockets[j]))
				break;
		}
		if (j == old->count)
			return true; /* a new socket (and, counts being equal, one gone) */
		if (watch_socket_moved(&cur->sockets[i], &old->sockets[j]))
			return true;
	}
	return false;
}

bool watch_samples_same(const struct watch_sample *a, const struct watch_sample *b)
{
	return !watch_samples_differ(a, b);
}

enum watch_state watch_detector_feed(struct watch_detector *det, uint64_t now_us,
				     const struct watch_sample *s)
{
	bool any_queued = false;
	bool any_blocked = false;
	size_t i;

	if (!det->started || watch_samples_differ(&det->last, s))
		det->last_progress_us = now_us;
	det->started = true;
	det->last_feed_us = now_us;
	if (&det->last != s)
		det->last = *s;

	det->conn_count = watch_sample_conns(s, det->conns, WATCH_MAX_SOCKETS);
	det->overflow_count = s->overflow_count;
	det->client_to_server_bytes = 0;
	det->server_to_client_bytes = 0;
	for (i = 0; i < det->conn_count; i++) {
		det->client_to_server_bytes += det->conns[i].client_to_server_bytes;
		det->server_to_client_bytes += det->conns[i].server_to_client_bytes;
		any_queued |= det->conns[i].queued;
		any_blocked |= det->conns[i].blocked_both_ways;
	}

	if (now_us < det->last_progress_us || now_us - det->last_progress_us < det->quiet_us)
		det->state = WATCH_PROGRESS;
	else if (any_blocked)
		det->state = WATCH_DEADLOCK;
	else if (any_queued)
		det->state = WATCH_STALL;
	else
		det->state = WATCH_IDLE;
	return det->state;
}

const struct watch_conn *watch_detector_conn(const struct watch_detector *det)
{
	size_t i;

	if (det->conn_count == 0)
		return NULL;
	for (i = 0; i < det->conn_count; i++) {
		if (det->conns[i].blocked_both_ways)
			return &det->conns[i];
	}
	for (i = 0; i < det->conn_count; i++) {
		if (det->conns[i].queued)
			return &det->conns[i];
	}
	return &det->conns[0];
}

/* "13.6 MB", "512.0 kB", "42 bytes" (decimal units, as the report uses). */
static void watch_fmt_bytes(char *buf, size_t buf_len, uint64_t bytes)
{
	if (bytes >= 1000000)
		snprintf(buf, buf_len, "%.1f MB", (double)bytes / 1e6);
	else if (bytes >= 1000)
		snprintf(buf, buf_len, "%.1f kB", (double)bytes / 1e3);
	else
		snprintf(buf, buf_len, "%llu bytes", (unsigned long long)bytes);
}

void watch_detector_describe(const struct watch_detector *det, char *buf, size_t buf_len)
{
	const struct watch_conn *c = watch_detector_conn(det);
	char c2s[32], s2c[32], csq[32], crq[32], ssq[32], srq[32];
	const char *name = watch_state_name(det->state);
	uint64_t quiet_us = det->last_feed_us - det->last_progress_us;
	int used;

	if (buf_len == 0)
		return;
	if (c == NULL) {
		snprintf(buf, buf_len, "%s: no connection on port %d", name, det->last.port);
		return;
	}
	watch_fmt_bytes(c2s, sizeof(c2s), c->client_to_server_bytes);
	watch_fmt_bytes(s2c, sizeof(s2c), c->server_to_client_bytes);
	watch_fmt_bytes(csq, sizeof(csq), c->client.send_queue_bytes);
	watch_fmt_bytes(crq, sizeof(crq), c->client.recv_queue_bytes);
	watch_fmt_bytes(ssq, sizeof(ssq), c->server.send_queue_bytes);
	watch_fmt_bytes(srq, sizeof(srq), c->server.recv_queue_bytes);
	if (det->state == WATCH_PROGRESS)
		used = snprintf(buf, buf_len, "%s: %s client->server and %s server->client so far",
				name, c2s, s2c);
	else
		used = snprintf(
			buf, buf_len,
			"%s: no progress for %llu ms after %s client->server and %s server->client",
			name, (unsigned long long)(quiet_us / 1000), c2s, s2c);
	if (used < 0 || (size_t)used >= buf_len)
		return;
	buf += used;
	buf_len -= (size_t)used;
	used = snprintf(buf, buf_len, "; queues:");
	if (used < 0 || (size_t)used >= buf_len)
		return;
	buf += used;
	buf_len -= (size_t)used;
	if (c->has_client)
		used = snprintf(buf, buf_len, " client send %s recv %s%s", csq, crq,
				c->has_server ? "," : "");
	else
		used = 0;
	if (used < 0 || (size_t)used >= buf_len)
		return;
	buf += used;
	buf_len -= (size_t)used;
	if (c->has_server)
		snprintf(buf, buf_len, " server send %s recv %s", ssq, srq);
}
