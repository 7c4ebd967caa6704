/* wire_gso: what an offloaded packet stands for on a wire of a given MTU. With
 * offloads on (wire_netns.h), the kernel hands the relay a TCP packet of up to 64 KiB
 * with a virtio-net header that says how to cut it into segments of gso_size
 * payload bytes (TSO), and packets whose checksum is left for the "device" to fill
 * in. On an Ethernet cable such a packet is the segments a NIC cuts it into, each
 * with its own checksum. These functions give those segments, byte for byte as the
 * kernel's own segmentation makes them (sequence numbers, IP ids, lengths, flags
 * only where they belong, checksums), so the wire's captures show what a tap on the
 * cable would. Pure functions: no I/O, no state. IPv4 only, as the wire. */
#ifndef TCPLAB_WIRE_GSO_H
#define TCPLAB_WIRE_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The virtio-net header the TUN device puts before each packet (host byte order,
 * as the TUN device uses it unless told otherwise). */
struct wire_vnet {
	uint8_t flags;    /* WIRE_VNET_NEEDS_CSUM */
	uint8_t gso_type; /* WIRE_VNET_GSO_NONE or WIRE_VNET_GSO_TCPV4 */
	uint16_t hdr_len;
	uint16_t gso_size; /* payload bytes per segment */
	uint16_t csum_start;
	uint16_t csum_offset;
};

_Static_assert(sizeof(struct wire_vnet) == 10, "the virtio-net header is 10 bytes");

#define WIRE_VNET_NEEDS_CSUM 1u
#define WIRE_VNET_GSO_NONE 0u
#define WIRE_VNET_GSO_TCPV4 1u

/* IPv4 header (60) and TCP header (60) at most. */
#define WIRE_GSO_MAX_HEADERS 120u

/* The Internet checksum's running sum over LEN bytes, added to SUM (not folded). */
uint64_t wire_csum_add(uint64_t sum, const uint8_t *data, size_t len);

/* SUM folded to 16 bits and complemented: the value a checksum field holds. */
uint16_t wire_csum_fold(uint64_t sum);

/* The headers and payload of one segment of an offloaded TCP packet. */
struct wire_gso_seg {
	uint8_t headers[WIRE_GSO_MAX_HEADERS]; /* IPv4 + TCP, finished */
	uint32_t header_len;
	uint32_t payload_off; /* the segment's payload is pkt[payload_off, +payload_len) */
	uint32_t payload_len;
};

/* How many segments PKT (LEN bytes, IP first) is on the wire: 1 for a packet that
 * is not a TSO packet, else its payload over gso_size, rounded up. 0 when the
 * header makes no sense (then treat it as one plain packet). */
uint32_t wire_gso_count(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len);

/* The length of the largest segment (the whole packet when it is not TSO). */
uint32_t wire_gso_max_segment(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len);

/* Segment I (from 0) of the TSO packet PKT. Returns false if I is out of range or
 * the packet is not a valid TSO packet. */
bool wire_gso_segment(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len, uint32_t i,
		      struct wire_gso_seg *out);

/* For a packet that is not TSO but whose checksum is left to the device
 * (WIRE_VNET_NEEDS_CSUM): writes into OUT (room for LEN bytes) the packet with the
 * checksum filled in as the device would. Returns false if the header's offsets
 * do not fit the packet (OUT is then a plain copy). */
bool wire_gso_finish_csum(const struct wire_vnet *v, const uint8_t *pkt, uint32_t len,
			  uint8_t *out);

#endif
