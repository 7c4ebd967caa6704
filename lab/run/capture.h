/* capture: a libpcap live capture of the namespace's lo into a pcap file.
 * Started before any process; a TPACKET_V3 ring hands packets over in blocks
 * (1 ms block timeout, a few ms in practice), and a stop waits until every packet
 * the kernel counted is written or counted as dropped. The file is written
 * without a name (O_TMPFILE) in NAME's directory, named NAME.part and renamed to
 * NAME only when the capture stops cleanly: no half-written capture is ever left
 * under the final name, and a lab killed by SIGKILL leaves none at all (where the
 * file system has no O_TMPFILE, NAME.part is written from the start). */
#ifndef TCPLAB_CAPTURE_H
#define TCPLAB_CAPTURE_H

#include <stdint.h>

#include "lab/common/err.h"
#include "lab/record/record.h"

struct capture;

/* Opens lo in the calling thread's network namespace and the file for path. */
struct capture *capture_start(const char *path, int snaplen, struct lab_err *err);

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
