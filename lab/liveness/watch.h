/* watch: socket progress through the kernel's sock_diag netlink interface.
 * Asks the kernel (NETLINK_SOCK_DIAG) whether a TCP socket listens on a port, and
 * takes snapshots of the queues and byte counters (struct tcp_info) of the TCP
 * sockets using that port, in the network namespace of the thread that opened the
 * watcher. A pure detector turns a time series of snapshots into a verdict:
 * progress, idle, stall or deadlock. It never touches the sockets themselves. */
#ifndef TCPLAB_WATCH_H
#define TCPLAB_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"

/* Sockets kept per sample; more are counted in overflow_count, never stored. */
#define WATCH_MAX_SOCKETS 64

/* TCP states as the kernel numbers them (include/net/tcp_states.h). */
enum watch_tcp_state {
	WATCH_TCP_ESTABLISHED = 1,
	WATCH_TCP_SYN_SENT = 2,
	WATCH_TCP_SYN_RECV = 3,
	WATCH_TCP_FIN_WAIT1 = 4,
	WATCH_TCP_FIN_WAIT2 = 5,
	WATCH_TCP_TIME_WAIT = 6,
	WATCH_TCP_CLOSE = 7,
	WATCH_TCP_CLOSE_WAIT = 8,
	WATCH_TCP_LAST_ACK = 9,
	WATCH_TCP_LISTEN = 10,
	WATCH_TCP_CLOSING = 11,
	WATCH_TCP_NEW_SYN_RECV = 12,
};

/* One TCP socket as sock_diag reports it. */
struct watch_socket {
	uint64_t cookie;        /* the kernel's socket cookie: identity across samples */
	uint32_t inode;         /* socket inode (0 for request and time-wait sockets) */
	int family;             /* AF_INET or AF_INET6, as the kernel reports it */
	uint8_t local_addr[16]; /* always IPv6 form; IPv4 as ::ffff:a.b.c.d */
	uint8_t remote_addr[16];
	uint16_t local_port;
	uint16_t remote_port;
	int state; /* enum watch_tcp_state */
	uint32_t
		send_queue_bytes; /* idiag_wqueue: written, not yet acknowledged (unsent + unacked) */
	uint32_t recv_queue_bytes; /* idiag_rqueue: received, not yet read by the program */
	bool has_info;             /* the kernel sent struct tcp_info: the fields below are valid */
	bool has_snd_wnd;          /* tcpi_snd_wnd present (Linux 5.4 and later) */
	/* Sequence space as the kernel counts it: SYN and FIN count as one byte each
	 * where they advance the counter (a client's bytes_acked includes its SYN;
	 * bytes_received includes a received FIN). */
	uint64_t bytes_acked;     /* tcpi_bytes_acked: sent and acknowledged by the peer */
	uint64_t bytes_received;  /* tcpi_bytes_received: received in order from the peer */
	uint32_t snd_wnd_bytes;   /* tcpi_snd_wnd: the peer's advertised window, scaled */
	uint32_t rcv_space_bytes; /* tcpi_rcv_space: receive-buffer autotuning estimate */
	uint8_t probes;           /* tcpi_probes: unanswered zero-window probes */
	uint8_t backoff;          /* tcpi_backoff: exponential backoff of the probe timer */
	/* idiag_timer: the timer pending on the socket: 0 none, 1 retransmission,
	 * 2 keep-alive, 3 TIME_WAIT, 4 zero-window probe. */
	uint8_t timer;
};

/* idiag_timer's value for a pending keep-alive timer. */
#define WATCH_TIMER_KEEPALIVE 2

/* One snapshot of the TCP sockets (any state but LISTEN and TIME_WAIT) with `port`
 * as local or remote port. Fixed capacity: no allocation. Totals cover the stored
 * sockets. */
struct watch_sample {
	int port;
	size_t count;
	size_t overflow_count; /* sockets that matched but did not fit */
	uint64_t send_queue_bytes;
	uint64_t recv_queue_bytes;
	uint64_t bytes_acked;
	uint64_t bytes_received;
	struct watch_socket sockets[WATCH_MAX_SOCKETS];
};

struct watch;

/* Opens a sock_diag netlink socket. It sees the sockets of the network namespace
 * of the calling thread at this moment, for its whole life. NULL on error. */
struct watch *watch_open(struct lab_err *err);
void watch_close(struct watch *w);

/* Is any TCP socket (IPv4 or IPv6) in LISTEN on local port `port`? One dump of
 * the listening sockets, filtered by port in the kernel: ~15 us, cheap enough to
 * poll every millisecond. */
int watch_listening(struct watch *w, int port, bool *listening, struct lab_err *err);

/* Fills *out with every TCP socket (not LISTEN, not TIME_WAIT) whose local or
 * remote port is `port`. One dump, filtered in the kernel; its cost is the walk
 * of the established-hash table: ~190 us when the namespace shares the kernel's
 * global table (262144 buckets here), ~7 us when the namespace was created with
 * its own (net.ipv4.tcp_child_ehash_entries = 1024 in its parent). */
int watch_sample(struct watch *w, int port, struct watch_sample *out, struct lab_err *err);

/* "ESTABLISHED", "FIN_WAIT1", ...; "UNKNOWN" for anything else. */
const char *watch_tcp_state_name(int state);

/* One connection of a sample: the client end has `port` as remote port, the server
 * end has it as local port. Either end may be missing (outside the namespace,
 * already closed). */
struct watch_conn {
	bool has_client;
	bool has_server;
	struct watch_socket client;
	struct watch_socket server;
	/* Bytes moved each way: the receiving end's bytes_received, or if that end is
	 * missing the sending end's bytes_acked (less the client's SYN). */
	uint64_t client_to_server_bytes;
	uint64_t server_to_client_bytes;
	bool queued;            /* some data sits in one of its four queues */
	bool blocked_both_ways; /* see WATCH_DEADLOCK */
};

/* Pairs the sample's sockets into connections (by addresses and ports; IPv4 and
 * IPv4-mapped IPv6 addresses compare equal). Returns the number written to out
 * (at most cap). Pure. */
size_t watch_sample_conns(const struct watch_sample *s, struct watch_conn *out, size_t cap);

/* Verdicts of the detector.
 * Progress means: since the previous sample a socket appeared, disappeared,
 * changed state, or changed bytes_acked, bytes_received, send queue or receive
 * queue. The first sample counts as progress.
 * - WATCH_PROGRESS: there was progress less than quiet_us ago.
 * - WATCH_IDLE: no progress for quiet_us and nothing queued in any socket (the
 *   programs wait for input, or there is no connection).
 * - WATCH_STALL: no progress for quiet_us, something queued, but no connection is
 *   blocked both ways (e.g. one side writes, the other never reads).
 * - WATCH_DEADLOCK: no progress for quiet_us and some connection is blocked both
 *   ways: with both ends visible, BOTH ends have a non-empty send queue, i.e. each
 *   end has written bytes its peer has not taken, and none moved for quiet_us
 *   (each program is stuck in send behind a peer stuck in send: the tcp_deadlock
 *   case, where both receive queues are full too). With only one end visible, its
 *   send queue and its receive queue are both non-empty. */
enum watch_state {
	WATCH_PROGRESS = 0,
	WATCH_IDLE,
	WATCH_STALL,
	WATCH_DEADLOCK,
};

const char *watch_state_name(enum watch_state state);

/* True when nothing moved between two samples: the same sockets (by cookie), in
 * the same states, with the same byte counters and queues. */
bool watch_samples_same(const struct watch_sample *a, const struct watch_sample *b);

/* Feed it samples in time order. Fields are for reading; change them only through
 * the functions below. The struct is large (two samples' worth): embed it or
 * allocate it once, do not copy it in a loop. */
struct watch_detector {
	uint64_t quiet_us; /* silence before a verdict other than progress */
	bool started;
	enum watch_state state;    /* verdict of the last feed */
	uint64_t last_progress_us; /* time of the last feed that saw progress */
	uint64_t last_feed_us;
	/* The connections of the last sample (the figures at the verdict). */
	size_t conn_count;
	size_t overflow_count;           /* sockets the last sample could not hold */
	uint64_t client_to_server_bytes; /* sums over conns */
	uint64_t server_to_client_bytes;
	struct watch_conn conns[WATCH_MAX_SOCKETS];
	struct watch_sample last; /* the previous sample, to compare with */
};

void watch_detector_init(struct watch_detector *det, uint64_t quiet_us);

/* Compares *s with the previous sample and returns the verdict (also stored in
 * det->state). now_us is any monotonic clock in microseconds. */
enum watch_state watch_detector_feed(struct watch_detector *det, uint64_t now_us,
				     const struct watch_sample *s);

/* The connection the verdict is about: for a deadlock the first connection blocked
 * both ways, otherwise the first with data queued, otherwise the first. NULL when
 * the last sample had no connection. */
const struct watch_conn *watch_detector_conn(const struct watch_detector *det);

/* One line for reports, e.g. "deadlock: no progress for 200 ms after 13.6 MB
 * client->server and 6.5 MB server->client; queues: client send 2.5 MB recv
 * 1.2 MB, server send 2.5 MB recv 1.0 MB". Always NUL-terminates (truncates). */
void watch_detector_describe(const struct watch_detector *det, char *buf, size_t buf_len);

#endif
