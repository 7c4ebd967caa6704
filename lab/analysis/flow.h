/* flow: TCP connections in a capture and what happened on them (handshake, data
 * each way, windows, probes, retransmissions, teardown), per segment in the terms
 * of Wireshark's tcp.analysis.* flags. Streaming: memory grows with open
 * connections, not packets. It reads pcap/pcapng files or takes packets one by
 * one; it does not print (show.c renders, expect.c judges). */
#ifndef TCPLAB_FLOW_H
#define TCPLAB_FLOW_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"

/* Per-segment analysis flags. The first FLOW_FLAG_WIRESHARK_COUNT are Wireshark's
 * tcp.analysis.<name> fields (same name, same meaning: a count of this flag
 * equals `tshark -r F -Y tcp.analysis.<name> | wc -l`). */
enum flow_flag {
	FLOW_RETRANSMISSION,
	FLOW_FAST_RETRANSMISSION,
	FLOW_SPURIOUS_RETRANSMISSION,
	FLOW_OUT_OF_ORDER,
	FLOW_LOST_SEGMENT,
	FLOW_ACK_LOST_SEGMENT,
	FLOW_DUPLICATE_ACK,
	FLOW_ZERO_WINDOW,
	FLOW_ZERO_WINDOW_PROBE,
	FLOW_ZERO_WINDOW_PROBE_ACK,
	FLOW_WINDOW_FULL,
	FLOW_WINDOW_UPDATE,
	FLOW_KEEP_ALIVE,
	FLOW_KEEP_ALIVE_ACK,
	/* a SYN with a new ISN on a 4-tuple seen before: a new connection
	 * (or a SYN/ACK with a new ISN answering it) */
	FLOW_REUSED_PORTS,
	FLOW_FLAG_WIRESHARK_COUNT,
	/* tcplab's own: a zero-window probe in either form. Wireshark's
	 * zero_window_probe is 1 byte of new data; Linux probes a zero window
	 * with a keep-alive-shaped segment (seq = next - 1, no data), which
	 * Wireshark calls keep_alive. Both count here when the peer's last
	 * advertised window was 0 (RFC 9293 §3.8.6.1). */
	FLOW_WINDOW_PROBE = FLOW_FLAG_WIRESHARK_COUNT,
	FLOW_FLAG_COUNT
};

/* "retransmission", "zero_window", ... (Wireshark's field names) */
const char *flow_flag_name(enum flow_flag flag);
/* Human words for show: "retransmission", "zero window", "window probe" */
const char *flow_flag_words(enum flow_flag flag);

enum flow_handshake {
	FLOW_HANDSHAKE_NONE,       /* no SYN seen: capture started mid-connection */
	FLOW_HANDSHAKE_UNANSWERED, /* SYN (maybe retransmitted), no answer */
	FLOW_HANDSHAKE_REFUSED,    /* SYN answered by RST (RFC 9293 §3.5.2) */
	FLOW_HANDSHAKE_INCOMPLETE, /* SYN/ACK seen, no ACK of it from the client */
	FLOW_HANDSHAKE_COMPLETE,   /* SYN, SYN/ACK and the client's ACK */
};
const char *flow_handshake_name(enum flow_handshake hs); /* "complete", ... */

enum flow_teardown {
	FLOW_TEARDOWN_NONE,  /* neither FIN nor RST seen */
	FLOW_TEARDOWN_FIN,   /* the first of FIN/RST seen was a FIN */
	FLOW_TEARDOWN_RESET, /* ... was a RST */
};
const char *flow_teardown_name(enum flow_teardown td); /* "none", "fin", "reset" */

/* Direction index: 0 = client->server, 1 = server->client. */
enum { FLOW_DIR_C2S = 0, FLOW_DIR_S2C = 1 };

struct flow_dir_stats {
	uint64_t packets;
	uint64_t data_bytes;        /* payload bytes, each sequence number once:
				       retransmitted bytes are not counted again
				       (the span from the lowest to the highest
				       sequence number that carried payload, so a
				       gap the capture missed counts as sent) */
	uint64_t payload_bytes;     /* all payload, retransmissions included */
	uint64_t data_segments;     /* segments with payload (keep-alive bytes excluded) */
	uint32_t min_payload_bytes; /* over data segments; 0 when there are none */
	uint32_t max_payload_bytes;
	bool syn, fin, rst;
	int wscale;                      /* window shift applied to this side's windows, -1 none */
	uint16_t mss;                    /* from its SYN, 0 when not seen */
	uint64_t flags[FLOW_FLAG_COUNT]; /* segments sent this way with each flag */
};

/* One connection's summary: small, kept for the whole analysis. */
struct flow_conn {
	unsigned id; /* 1, 2, ... in order of first packet */
	int family;  /* AF_INET or AF_INET6 */
	uint8_t client_addr[16];
	uint8_t server_addr[16];
	uint16_t client_port;
	uint16_t server_port;
	char client_str[64]; /* "127.0.0.1:40000", "[::1]:40000" */
	char server_str[64];
	/* The client sent the first SYN (or received the first SYN/ACK). Without
	 * either, a guess: the side with the lower port is the server (ports
	 * below the ephemeral range are where services listen); equal ports:
	 * the receiver of the first packet is the server. */
	bool client_from_syn;
	enum flow_handshake handshake;
	int64_t rtt_us; /* handshake RTT: last SYN to the ACK of the
				       SYN/ACK (Wireshark's iRTT); -1 unknown */
	int64_t handshake_us; /* the client's FIRST SYN to its ACK of the SYN/ACK: how
				 long connect() took as this capture saw it (with SYN
				 or SYN/ACK retries, longer than rtt_us); -1 unknown */
	enum flow_teardown teardown;
	int teardown_dir; /* direction of the first FIN/RST, -1 none */
	bool closed;      /* RST seen, or FIN both ways */
	uint64_t packets;
	uint64_t first_frame; /* 1-based frame numbers in the capture */
	uint64_t last_frame;
	int64_t first_time_us; /* capture timestamps */
	int64_t last_time_us;
	struct flow_dir_stats dir[2];
};

/* Sum of a flag over both directions. */
uint64_t flow_conn_flag_count(const struct flow_conn *conn, enum flow_flag flag);

struct flow_totals {
	uint64_t packets;     /* frames read */
	int64_t first_time_us; /* capture timestamp of frame 1 (any protocol) */
	uint64_t tcp_packets; /* decoded TCP segments (truncated ones included) */
	uint64_t non_tcp;     /* other protocols, IP fragments past the first */
	uint64_t malformed;   /* cut short before the TCP header ended, or corrupt */
	uint64_t truncated;   /* TCP headers complete, payload cut by the snaplen */
	uint64_t filtered;    /* TCP segments left out by flow_opts.port */
	uint64_t after_until; /* frames left out by flow_opts.until_us */
	uint64_t decapsulated; /* TCP segments found inside a tunnel (VXLAN,
				  Geneve, GRE, IP in IP) and analysed */
	uint64_t tunnelled;    /* packets of a tunnel tcplab does not open
				  (counted in non_tcp, not analysed) */
	uint64_t undecoded;    /* frames of a link type tcplab cannot decode
				  (counted in non_tcp, not analysed) */
	uint64_t flags[FLOW_FLAG_COUNT];
	/* Set when reading stopped early (a truncated or corrupt file) or no
	 * frame had a link type tcplab decodes; what was read before is still
	 * analysed. */
	char file_note[256];
	/* What the analysis left out although the file is sound: frames on an
	 * interface of a link type it cannot decode, tunnels it does not open.
	 * Empty when nothing was left out. */
	char decode_note[256];
};

/* What the per-segment callback sees. */
struct flow_segment {
	const struct flow_conn *conn;
	int dir;           /* FLOW_DIR_C2S or FLOW_DIR_S2C */
	uint64_t frame;    /* 1-based frame number */
	int64_t time_us;   /* capture timestamp */
	uint8_t tcp_flags; /* PACKET_TCP_* bits */
	uint32_t seq_rel;  /* relative to the ISN (SYN = 0), or to the
				       first seq seen minus 1 when no SYN was */
	uint32_t ack_rel;  /* relative likewise; 0 when ACK is not set */
	uint32_t payload_bytes;
	uint64_t window_bytes; /* advertised window, scaled when known */
	uint32_t analysis;     /* bit (1u << enum flow_flag) for each flag */
	bool truncated;
};

typedef void (*flow_segment_fn)(const struct flow_segment *seg, void *arg);

/* What the per-frame callback sees: every frame of the file as read, before any
 * decoding or port filter (for BPF filters over the whole capture). */
typedef void (*flow_frame_fn)(const struct pcap_pkthdr *hdr, const u_char *data, int linktype,
			      void *arg);

struct flow_opts {
	uint16_t port;              /* non-zero: only segments from or to this port */
	flow_segment_fn on_segment; /* optional, called once per analysed segment */
	void *arg;
	flow_frame_fn on_frame; /* optional, flow_analyse_file: once per frame read */
	void *frame_arg;
	/* Capture time a closed connection (RST, or FIN both ways) keeps its
	 * analysis state for late segments before only its summary remains;
	 * 0 means the default, 60 s (about 2 MSL, RFC 9293 §3.4.2). */
	int64_t linger_us;
	/* Non-zero: frames stamped later than this (capture time, microseconds
	 * since the epoch) are read and counted (totals.after_until) but not
	 * analysed: the lab's stop (record.h), after which packets are the lab's
	 * doing. */
	int64_t until_us;
};

struct flow_analysis;

/* opts may be NULL (all ports, no callback). NULL when out of memory. */
struct flow_analysis *flow_new(const struct flow_opts *opts);
void flow_free(struct flow_analysis *fa);

/* Analyses one captured frame of link type `linktype` (pcap_datalink()).
 * Returns 0, or -1 only when out of memory. */
int flow_add_packet(struct flow_analysis *fa, const struct pcap_pkthdr *hdr, const u_char *data,
		    int linktype, struct lab_err *err);

/* Analyses one frame whose capture time is time_us (microseconds since the
 * epoch); the pcapng reader's entry, which has no struct timeval. */
int flow_add_frame(struct flow_analysis *fa, int64_t time_us, const uint8_t *data, size_t caplen,
		   size_t wire_len, int linktype, struct lab_err *err);

/* Reads a pcap or pcapng file ("-": standard input) and analyses every frame.
 * pcapng is read block by block here (pcapng.h), so its interfaces may have
 * different link types; plain pcap through libpcap. Returns 0 and sets *out
 * (free with flow_free) also when the file ends in a truncated or corrupt
 * record: then flow_totals()->file_note says so and what came before counts.
 * Returns -1 with a message naming the file when it cannot be opened or is
 * not a capture. */
int flow_analyse_file(const char *path, const struct flow_opts *opts, struct flow_analysis **out,
		      struct lab_err *err);

const struct flow_totals *flow_totals(const struct flow_analysis *fa);
size_t flow_conn_count(const struct flow_analysis *fa);
/* Connections in order of their first packet; index < flow_conn_count(). */
const struct flow_conn *flow_conn_at(const struct flow_analysis *fa, size_t index);
/* True when the connection's server or client port is `port`. */
bool flow_conn_has_port(const struct flow_conn *conn, uint16_t port);

#endif
