/* wire_pcap: a capture file the relay writes itself, one per side of the wire, in
 * raw IP (LINKTYPE_RAW). Writes are synchronous through a large stdio buffer: a
 * slow disk makes the relay, and so the link, slower, never loses a packet. As the
 * lab's own capture on lo (lab/run/capture.h), each direction of each TCP
 * connection is written whole until a payload budget is spent (the packet that
 * crosses it is whole too), then with its headers only (caplen < len). */
#ifndef TCPLAB_WIRE_PCAP_H
#define TCPLAB_WIRE_PCAP_H

#include <stdint.h>

#include "lab/common/err.h"
#include "lab/wire/wire_gso.h"

struct wire_pcap;

/* Creates PATH (truncating it) for packets cut to SNAPLEN bytes, with
 * PAYLOAD_BUDGET_BYTES of payload whole per direction of a connection (UINT64_MAX:
 * every packet whole). */
struct wire_pcap *wire_pcap_open(const char *path, uint32_t snaplen,
				 uint64_t payload_budget_bytes, struct lab_err *err);

/* Appends a packet seen at realtime_ns (nanoseconds since the epoch). */
void wire_pcap_write(struct wire_pcap *pc, uint64_t realtime_ns, const uint8_t *pkt,
		     uint32_t len);

/* Appends a packet read with its virtio-net header V (offloads on): a TSO packet
 * as the segments it is on the wire, a packet whose checksum was left to the
 * device with that checksum filled in (wire_gso.h), any other as it is. Returns
 * the packets written. */
uint32_t wire_pcap_write_vnet(struct wire_pcap *pc, uint64_t realtime_ns,
			      const struct wire_vnet *v, const uint8_t *pkt, uint32_t len);

/* Packets written so far. */
uint64_t wire_pcap_packets(const struct wire_pcap *pc);

/* Of those, the ones written with their headers only (past the budget). */
uint64_t wire_pcap_headers_only(const struct wire_pcap *pc);

/* Flushes and closes; -1 (with the reason) if any write failed, e.g. a full disk. */
int wire_pcap_close(struct wire_pcap *pc, struct lab_err *err);

#endif
