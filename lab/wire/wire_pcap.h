/* wire_pcap: a capture file the relay writes itself, one per side of the wire, in
 * raw IP (LINKTYPE_RAW). Writes are synchronous through a large stdio buffer: a
 * slow disk makes the relay, and so the link, slower, never loses a packet. */
#ifndef TCPLAB_WIRE_PCAP_H
#define TCPLAB_WIRE_PCAP_H

#include <stdint.h>

#include "lab/common/err.h"

struct wire_pcap;

/* Creates PATH (truncating it) for packets cut to SNAPLEN bytes. */
struct wire_pcap *wire_pcap_open(const char *path, uint32_t snaplen, struct lab_err *err);

/* Appends a packet seen at realtime_ns (nanoseconds since the epoch). */
void wire_pcap_write(struct wire_pcap *pc, uint64_t realtime_ns, const uint8_t *pkt,
		     uint32_t len);

/* Packets written so far. */
uint64_t wire_pcap_packets(const struct wire_pcap *pc);

/* Flushes and closes; -1 (with the reason) if any write failed, e.g. a full disk. */
int wire_pcap_close(struct wire_pcap *pc, struct lab_err *err);

#endif
