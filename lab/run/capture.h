/* capture: a libpcap live capture of the namespace's lo into a pcap file.
 * Every packet is kept, up to transfers of gigabytes at loopback speed: each
 * direction of each TCP connection is written whole for its first payload
 * budget (1 MiB by default), then with its headers only, and the kernel is told
 * (a socket filter) to hand over only those headers, so its ring does not fill
 * with 64 KiB segments nobody will read.
 * Started before any process; a TPACKET_V3 ring hands packets over in blocks
 * (1 ms block timeout, a few ms in practice), and a stop waits until every packet
 * the kernel counted is written or counted as dropped. The file is written
 * without a name (O_TMPFILE) in NAME's directory, named NAME.part and renamed to
 * NAME only when the capture stops cleanly: no half-written capture is ever left
 * under the final name, and a lab killed by SIGKILL leaves none at all (where the
 * file system has no O_TMPFILE, NAME.part is written from the start). */
#ifndef TCPLAB_CAPTURE_H
#define TCPLAB_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/record/record.h"

struct capture;

/* The kernel's ring, in MiB. With the payload budget (the kernel itself cuts a
 * direction to its headers once its budget is spent) 16 MiB kept every packet of
 * 1 GiB transfers on a machine at load 25; without it, a 64 MiB ring lost 62% of a
 * 500 MB transfer's packets (bench/capture_bench.sh). 32 MiB: room for a
 * reader starved on a loaded machine (see CAPTURE_BLOCK_MS in capture.c); each
 * MiB costs every scenario about 0.5 ms to set up. */
#define CAPTURE_RING_MIB 32
/* Whole packets per direction of each connection by default: then headers only. */
#define CAPTURE_PAYLOAD_BUDGET_BYTES (1024 * 1024)

/* Opens lo in the calling thread's network namespace and the file for path.
 * Each direction of each TCP connection has its packets written whole until
 * payload_budget_bytes of payload have been written so (the packet that crosses
 * the budget is whole too), then with their headers only (Ethernet, IP, TCP with
 * options: caplen < len, as `tcpdump -s` writes; the analysis counts a cut
 * segment's payload from its IP length). UINT64_MAX: every packet whole. Other
 * packets are always whole. */
struct capture *capture_start(const char *path, int snaplen, uint64_t payload_budget_bytes,
			      struct lab_err *err);

/* The descriptor to poll for readability; then call capture_dispatch. */
int capture_fd(const struct capture *c);

/* Writes every packet waiting in the ring to the file; never blocks. */
int capture_dispatch(struct capture *c, struct lab_err *err);

/* Drains the ring (until it has been quiet for grace_ms, which must be longer
 * than the ring's 1 ms block timeout), records the kernel's
 * statistics, closes the file and renames it into place. The capture socket stays
 * open until capture_close. On error c is freed (as by capture_abort). */
int capture_stop(struct capture *c, int grace_ms, struct capture_stats *stats, struct lab_err *err);

/* Closes the capture socket and frees c. The kernel makes that close wait for an
 * RCU grace period (tens of ms); nothing depends on it, so it happens in a
 * detached thread when one can be made (not from a thread that entered a new PID
 * namespace: those cannot make threads). NULL is allowed. */
void capture_close(struct capture *c);

/* Closes and deletes the partial file. Frees c. NULL is allowed. */
void capture_abort(struct capture *c);

#endif
