/* scenario: parses a scenario file (.scn) into a typed, validated struct.
 * One directive per line; every error is reported as "FILE:LINE:COL: message".
 * This module only reads text: it runs nothing and judges nothing.
 * The language is documented in docs/scenario-language.md; keep the two in step. */
#ifndef TCPLAB_SCENARIO_H
#define TCPLAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"

enum scenario_who { WHO_CLIENT = 0, WHO_SERVER = 1 };

/* Comparison operators of expectations: == != < <= > >= */
enum scenario_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

enum fault_kind {
	FAULT_SEND_MAX,    /* bytes: each send/write moves at most this many */
	FAULT_RECV_MAX,    /* bytes: each recv/read returns at most this many */
	FAULT_SEND_DELAY,  /* delay_us before each send/write */
	FAULT_RECV_DELAY,  /* delay_us before each recv/read */
	FAULT_ERROR,       /* call, errno_value, when, when_n */
	FAULT_BUFFERS,     /* rcvbuf_bytes, sndbuf_bytes (0 = leave alone) */
	FAULT_RESET_AFTER, /* bytes: abortive close once this many have moved */
	FAULT_PAUSE,       /* at_us, for_us: SIGSTOP then SIGCONT of the process group;
			    * when at_us < 0, once WHO's socket has received `bytes` */
	FAULT_KILL,        /* at_us: SIGKILL of the process group; or, when at_us < 0,
			    * once WHO's socket has received `bytes` (sock_diag) */
	FAULT_CLOSE_AFTER, /* bytes: orderly close (FIN) once this many have moved */
};

enum fault_when {
	WHEN_ALWAYS, /* every call */
	WHEN_ONCE,   /* the first call only */
	WHEN_EVERY,  /* every when_n-th call */
	WHEN_AFTER,  /* every call once when_n bytes have moved */
};

struct fault {
	int line;
	enum scenario_who who;
	enum fault_kind kind;
	int64_t bytes;
	int64_t delay_us;
	int64_t at_us;
	int64_t for_us;
	char call[16]; /* "send", "recv", "connect", "accept", "write", "read" ... */
	int errno_value;
	enum fault_when when;
	int64_t when_n;
	bool legal; /* error only: only at calls the kernel could fail so (`legal`) */
	int64_t rcvbuf_bytes;
	int64_t sndbuf_bytes;
};

/* hang: the sockets idle (nothing queued, nothing moving) while every program
 * waits with no time limit (in read, recv, accept, poll without timeout ...). */
enum scenario_outcome { OUTCOME_COMPLETED, OUTCOME_DEADLOCK, OUTCOME_TIMEOUT, OUTCOME_HANG };
enum scenario_handshake {
	HANDSHAKE_COMPLETE,
	HANDSHAKE_REFUSED,
	HANDSHAKE_UNANSWERED,
	HANDSHAKE_NONE
};
enum scenario_teardown { TEARDOWN_FIN, TEARDOWN_RESET, TEARDOWN_NONE };
enum scenario_stream { STREAM_STDOUT = 1, STREAM_STDERR = 2 };

enum expect_kind {
	EXPECT_EXIT,             /* who, op, value: exit code */
	EXPECT_KILLED,           /* who: ended by any signal */
	EXPECT_SIGNAL,           /* who, value: signal number */
	EXPECT_OUTPUT,           /* who, stream, regex (matches) or not (contains), negate, text */
	EXPECT_OUTCOME,          /* value: enum scenario_outcome */
	EXPECT_DEADLOCK_WITHIN,  /* value: microseconds */
	EXPECT_HANDSHAKE,        /* value: enum scenario_handshake */
	EXPECT_TEARDOWN,         /* value: enum scenario_teardown */
	EXPECT_PACKETS,          /* text: BPF filter ($PORT, $HOST expanded), op, value */
	EXPECT_ZERO_WINDOW,      /* who (the sender of the zero window), op, value (default >= 1) */
	EXPECT_WINDOW_PROBES,    /* who (the prober), op, value */
	EXPECT_RETRANSMISSIONS,  /* op, value */
	EXPECT_BYTES,            /* who (the sender), op, value */
	EXPECT_SEGMENTS_PAYLOAD, /* who (the sender), op, value: every data segment's payload */
	EXPECT_DURATION,         /* op, value: microseconds */
	EXPECT_RTT,              /* op, value: the handshake's RTT as the client saw it, us */
	EXPECT_LINK_DROPPED,     /* op, value, link_kind (-1: every kind): packets the wire dropped */
	EXPECT_ANALYSIS,         /* flag, op, value, who when has_who: segments
				    flagged tcp.analysis.<flag> (from who) */
	EXPECT_RESENDS,          /* who (the sender), op, value: segments that brought
				    no new sequence space (retransmission or out-of-order) */
};

/* Wireshark's tcp.analysis field names that `expect analysis FLAG` takes, in
 * the order of lab/analysis/flow.h's enum flow_flag (lab/verdict checks the
 * two tables against each other). */
enum { SCENARIO_ANALYSIS_FLAGS = 15 };
extern const char *const scenario_analysis_flag_words[SCENARIO_ANALYSIS_FLAGS];

struct expectation {
	int line;
	int col;
	char *source; /* the directive as written, trimmed, for verdicts */
	enum expect_kind kind;
	enum scenario_who who;
	enum scenario_op op;
	int64_t value;
	enum scenario_stream stream;
	bool regex;
	bool negate;
	char *text; /* output text or ERE, or BPF filter after $PORT/$HOST expansion */
	int flag;     /* EXPECT_ANALYSIS: index in scenario_analysis_flag_words */
	bool has_who; /* EXPECT_ANALYSIS: `from WHO` given (else both directions) */
	int link_kind; /* EXPECT_LINK_DROPPED: enum scenario_link_drop, or -1 for all */
};

/* ---- the wire (`link` lines) -------------------------------------------------
 * A scenario with a link line runs its client and server in two network
 * namespaces joined by the lab's wire (lab/wire), which applies these faults per
 * direction. Percentages are in pcm: 100% = 100000, "0.125%" = 125. */
enum scenario_link_dir { LINK_C2S = 0, LINK_S2C = 1 };

/* Why the wire dropped a packet, as `expect link dropped ... KIND` names it; the
 * order is lab/wire's enum wire_drop_kind. */
enum scenario_link_drop {
	LINK_DROP_DOWN,     /* "down" */
	LINK_DROP_MTU,      /* "mtu" */
	LINK_DROP_FILTER,   /* "drop": a `link drop "FILTER"` rule */
	LINK_DROP_LOSS,     /* "loss" */
	LINK_DROP_QUEUE,    /* "queue": the rate's queue was full */
	LINK_DROP_OVERFLOW, /* "overflow": the relay's memory bound */
	LINK_DROP_KINDS,
};

enum scenario_link_filter_mode { LINK_FILTER_ALL, LINK_FILTER_ONCE, LINK_FILTER_EVERY, LINK_FILTER_FIRST };

enum { SCENARIO_LINK_MAX_FILTERS = 8, SCENARIO_LINK_MAX_DOWNS = 8 };

struct scenario_link_filter {
	int line;
	char *filter; /* tcpdump syntax, $PORT and $HOST expanded, compiled for raw IP */
	enum scenario_link_filter_mode mode;
	int64_t n;
};

struct scenario_link_down {
	int line;
	int64_t at_us;
	int64_t for_us; /* 0: until the end */
};

struct scenario_link_dir_faults {
	int64_t delay_us, jitter_us;
	int64_t loss_pcm, duplicate_pcm, reorder_pcm, corrupt_pcm;
	int64_t rate_bps;      /* 0: unlimited */
	int64_t queue_packets; /* 0: the wire's default */
	struct scenario_link_filter filters[SCENARIO_LINK_MAX_FILTERS];
	size_t n_filters;
	struct scenario_link_down downs[SCENARIO_LINK_MAX_DOWNS];
	size_t n_downs;
};

struct scenario_link {
	int line;           /* the first link line; 0: no link, the run uses lo */
	uint64_t seed;      /* `link seed`, default 1 */
	int64_t mtu_bytes;  /* `link mtu`, default 1500 */
	struct scenario_link_dir_faults dir[2]; /* [LINK_C2S], [LINK_S2C] */
};

struct scenario_sysctl {
	int line;
	char *name;  /* e.g. "net.ipv4.tcp_rmem" */
	char *value; /* e.g. "4096 4096 4096" */
};

struct scenario_program {
	int line;      /* 0 when absent */
	char *command; /* NULL when absent; run by /bin/sh -c */
};

#define SCENARIO_HANG_OFF (-1)

/* What `tcplab explore` may perturb in a program, one bit each; a scenario's
 * `explore WHO off` or `explore WHO without KIND...` takes bits away. */
enum scenario_explore_kind {
	EXPLORE_SEND_MAX = 1u << 0,   /* short writes ("send-max") */
	EXPLORE_RECV_MAX = 1u << 1,   /* short reads ("recv-max") */
	EXPLORE_EINTR = 1u << 2,      /* EINTR where legal ("eintr") */
	EXPLORE_EAGAIN = 1u << 3,     /* EAGAIN where legal ("eagain") */
	EXPLORE_SEND_DELAY = 1u << 4, /* delays before sends ("send-delay") */
	EXPLORE_RECV_DELAY = 1u << 5, /* delays before receives ("recv-delay") */
};
#define EXPLORE_KINDS 6
#define EXPLORE_ALL ((1u << EXPLORE_KINDS) - 1)

/* The words of the kinds, in bit order: "send-max", "recv-max", "eintr", ... */
extern const char *const scenario_explore_words[EXPLORE_KINDS];

/* What `tcplab explore` may perturb on the wire of a scenario with link lines,
 * one bit each; `explore link off` or `explore link without KIND...` takes bits
 * away. */
enum scenario_explore_link_kind {
	EXPLORE_LINK_LOSS = 1u << 0,      /* lost packets ("loss") */
	EXPLORE_LINK_REORDER = 1u << 1,   /* packets held behind the next ("reorder") */
	EXPLORE_LINK_DUPLICATE = 1u << 2, /* packets delivered twice ("duplicate") */
	EXPLORE_LINK_DELAY = 1u << 3,     /* one-way delay ("delay") */
};
#define EXPLORE_LINK_KINDS 4
#define EXPLORE_LINK_ALL ((1u << EXPLORE_LINK_KINDS) - 1)

/* The words of the link kinds, in bit order: "loss", "reorder", ... */
extern const char *const scenario_explore_link_words[EXPLORE_LINK_KINDS];

struct scenario {
	char *path;         /* as given */
	char *name;         /* base name without ".scn": names the pcap */
	char *summary;      /* from `scenario "..."`; required */
	int64_t timeout_us; /* `timeout`, default 10 s */
	int64_t quiet_us;   /* `quiet`: no progress this long = stall, default 200 ms */
	/* `hang after DURATION`: the silence before the lab may call a hang (0: the
	 * default, quiet); SCENARIO_HANG_OFF for `hang off`: never. */
	int64_t hang_after_us;
	int port;           /* `port`, default 1060 */
	char host[64];      /* `host`, default "127.0.0.1"; "::1" for IPv6 */
	/* `capture payload SIZE|all`: whole packets per direction of each
	 * connection, then headers only; -1 not set (the lab's default), INT64_MAX
	 * all. */
	int64_t capture_payload_bytes;
	struct scenario_sysctl *sysctls;
	size_t n_sysctls;
	struct scenario_program server;
	struct scenario_program client; /* required */
	struct fault *faults;
	size_t n_faults;
	struct expectation *expects;
	size_t n_expects;
	struct scenario_link link;
	unsigned explore_kinds[2]; /* per enum scenario_who: EXPLORE_ALL unless narrowed */
	int explore_line[2];       /* the `explore` line, 0 when none */
	/* The same for the wire (enum scenario_explore_link_kind bits): EXPLORE_LINK_ALL
	 * unless an `explore link` line narrows it, on line explore_link_line (0: none). */
	unsigned explore_link_kinds;
	int explore_link_line;
};

/* Reads and parses the file at path. On success *out is a new scenario (free with
 * scenario_free) and 0 is returned; on error -1 with err holding
 * "PATH:LINE:COL: message" (or "PATH: message" when the file cannot be read). */
int scenario_parse_file(const char *path, struct scenario **out, struct lab_err *err);

/* Parses text as if it were the contents of the file at path. */
int scenario_parse_text(const char *path, const char *text, struct scenario **out,
			struct lab_err *err);

void scenario_free(struct scenario *sc);

/* Names for messages: "client", "==", "deadlock", "refused", ... */
const char *scenario_who_name(enum scenario_who who);
const char *scenario_op_text(enum scenario_op op);
const char *scenario_outcome_name(enum scenario_outcome outcome);
const char *scenario_handshake_name(enum scenario_handshake handshake);
const char *scenario_teardown_name(enum scenario_teardown teardown);
const char *scenario_link_drop_name(enum scenario_link_drop kind); /* "loss", "drop" ... */

/* True when `seen OP expected` holds. */
bool scenario_op_holds(enum scenario_op op, int64_t seen, int64_t expected);

#endif
