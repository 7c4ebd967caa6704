/* record: what one run of a scenario recorded, as plain data: each program's end
 * and output, the lab's timeline of events, the stall/deadlock figures, the
 * capture's statistics and the fault shim's counters. The runner (lab/run) fills
 * it; the verdicts (lab/verdict) and the reports (lab/report) read it. It holds
 * no behaviour, so readers of a record never depend on the code that made it. */
#ifndef TCPLAB_RECORD_H
#define TCPLAB_RECORD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/scenario/scenario.h"
#include "lab/shim/shim_config.h"

/* ---- one program --------------------------------------------------------------- */

/* Output kept per stream; more is counted and searched but not kept. */
#define PROC_OUTPUT_CAP_BYTES (1024 * 1024)

/* A TEXT that `contains` / `not contains` look for in one stream, searched on the
 * whole stream as it flows (not only on what is kept): the last len(TEXT) - 1
 * bytes of what came before are carried over from one read to the next, so a
 * TEXT split across two reads is found and no more than TEXT is held. */
#define PROC_WATCH_MAX_BYTES 4096

struct proc_watch {
	const char *text; /* the expectation's, not owned */
	size_t text_len;
	bool found;
	char *carry; /* text_len - 1 bytes of room */
	size_t carry_len;
};

struct proc_output {
	char *data; /* NUL-terminated */
	size_t len;
	uint64_t total_bytes; /* including what was beyond the cap */
	int fd;               /* read end of the pipe, -1 once at EOF */
	struct proc_watch *watches; /* owned; set before the program starts */
	size_t n_watches;
};

struct proc {
	pid_t pid; /* also the process group id */
	int pidfd;
	struct proc_output out;
	struct proc_output err;
	bool running;
	bool exited; /* ended by exit(): exit_code is valid */
	int exit_code;
	bool signaled; /* ended by a signal: signal is valid */
	int signal;
	int64_t start_us; /* on the caller's clock (proc_now_us) */
	int64_t end_us;
};

/* ---- the capture ----------------------------------------------------------------- */

struct capture_stats {
	uint64_t packets;      /* written to the file */
	uint64_t kernel_drops; /* pcap_stats: dropped because the ring was full */
	uint64_t ifdrops;      /* pcap_stats: dropped by the interface */
	uint64_t headers_only; /* written with their headers only (past the payload budget) */
	uint64_t payload_budget_bytes; /* whole packets per direction of a connection */
	int64_t cpu_us;                /* CPU time the lab spent writing the capture */
};

/* ---- the wire (a scenario with link lines) ---------------------------------------- */

struct run_link {
	bool used;     /* the programs ran in two namespaces joined by the wire */
	uint64_t seed; /* every random choice of the link came from it */
	/* The client side's capture is pcap_path; this is the server side's. */
	char server_pcap_path[PATH_MAX];
	/* Per direction ([0] client->server, [1] server->client). */
	uint64_t packets[2];                    /* entered the wire */
	uint64_t delivered[2];                  /* left it (duplicates counted) */
	uint64_t dropped[2][LINK_DROP_KINDS];   /* by enum scenario_link_drop */
	uint64_t duplicated[2], reordered[2], corrupted[2], delayed[2];
	uint64_t pending_at_stop[2];            /* still on the link when the run ended */
	uint64_t kernel_drops[2];               /* lost before the relay read them (sides) */
};

/* ---- the run ---------------------------------------------------------------------- */

struct capture; /* lab/run/capture.h: the live capture, open until run_finish */

/* The sockets of the scenario's port as one liveness sample saw them (sock_diag,
 * every 5 ms): summed over its connections, per side (enum scenario_who). */
struct run_queue_sample {
	int64_t at_us;                /* since the run started */
	uint32_t send_queue_bytes[2]; /* written, not yet acknowledged */
	uint32_t recv_queue_bytes[2]; /* received, not yet read by the program */
	uint64_t bytes[2];            /* moved client->server, server->client so far */
};

/* Samples kept per run; a longer run keeps every other one each time it fills
 * (run_record.queue_stride says how many samples one kept sample stands for). */
#define RUN_MAX_QUEUE_SAMPLES 4096

enum run_event_kind {
	RUN_EV_SERVER_START,
	RUN_EV_LISTENING,
	RUN_EV_CLIENT_START,
	RUN_EV_EXIT,
	RUN_EV_PAUSE,
	RUN_EV_CONTINUE,
	RUN_EV_KILL,
	RUN_EV_STALL,
	RUN_EV_DEADLOCK,
	RUN_EV_HANG,
	RUN_EV_TIMEOUT,
	RUN_EV_STOP,
};

struct run_event {
	int64_t at_us; /* since the run started */
	enum run_event_kind kind;
	char text[320];
};

#define RUN_MAX_EVENTS 64

struct run_side {
	bool present; /* the scenario has this program */
	bool started;
	struct proc proc;
	bool stopped_by_lab; /* the lab ended it (client done, deadlock, timeout) */
	bool faulted;        /* the shim was preloaded */
	struct shim_stats shim;
};

/* The scenario's faults whose firing the driver itself knows (`pause at`, `kill
 * at`), by index in scenario.faults; past this many, not known. */
#define RUN_MAX_CLOCK_FAULTS 64

struct run_record {
	enum scenario_outcome outcome;
	int64_t duration_us;
	int64_t listening_us;     /* when the server listened; -1 never */
	int64_t last_progress_us; /* deadlock/stall: last byte moved, since start */
	int64_t verdict_us;       /* deadlock: when the watcher concluded */
	uint64_t stall_bytes[2];  /* bytes moved client->server, server->client */
	uint64_t stall_queued[2]; /* bytes queued in the client's, the server's send queue */
	char stall_text[400];
	struct run_side side[2]; /* indexed by enum scenario_who */
	struct capture_stats capture;
	/* The lab's stop: when it decided to end programs still running (a
	 * deadlock, hang, timeout, or a client done and a server left over), -1
	 * when it stopped nothing. stop_us counts since the run started;
	 * stop_wall_us is the same moment on the capture's clock (CLOCK_REALTIME,
	 * microseconds since the epoch): packets stamped later are the lab's doing,
	 * not the programs', and packet verdicts are judged up to it. */
	int64_t stop_us;
	int64_t stop_wall_us;
	bool clock_fault_fired[RUN_MAX_CLOCK_FAULTS]; /* pause/kill done, by fault index */
	char pcap_path[PATH_MAX];
	struct run_event events[RUN_MAX_EVENTS];
	int n_events;
	struct capture *open_capture;           /* open until run_finish */
	struct run_queue_sample *queue_samples; /* the sockets over time (heap) */
	size_t n_queue_samples;
	unsigned queue_stride;
	struct run_link link;
};

#endif
