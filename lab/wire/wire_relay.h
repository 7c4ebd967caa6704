/* wire_relay: the thread that carries packets between the two TUN devices. One poll
 * loop over both non-blocking devices and a stop event: each packet read is written
 * to the sender side's capture, offered to its direction's link (wire_link.h), and
 * when the link lets it go, written to the receiver side's capture and device.
 * With offloads a TCP burst of up to 64 KiB is carried whole, and captured as the
 * MTU-sized segments it stands for. The
 * poll's timeout is the next packet's release time, to the nanosecond (timer slack
 * 1 ns). Internal to the wire (wire.c). */
#ifndef TCPLAB_WIRE_RELAY_H
#define TCPLAB_WIRE_RELAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/wire/wire.h"
#include "lab/wire/wire_pcap.h"

/* The largest packet an offloading TUN device hands over. */
#define WIRE_RELAY_MAX_PACKET 65535u

struct wire_relay {
	/* Set by the wire before wire_relay_start, read by the thread. */
	int tun_fd[WIRE_SIDES];
	struct wire_link *link[WIRE_DIRS];
	struct wire_pcap *pcap[WIRE_SIDES]; /* NULL: no capture of that side */
	uint32_t mtu;
	bool offload; /* the devices have virtio-net headers and offloads (wire_gso.h) */
	/* The thread's. */
	int stop_fd;
	pthread_t thread;
	int running;
	uint64_t start_mono_ns;
	int64_t realtime_offset_ns;
	uint32_t small_bytes, big_bytes; /* the two buffer sizes: the MTU, and 64 KiB with offloads */
	struct wire_packet *free_small, *free_big;
	uint64_t bytes_allocated;
	struct wire_packet *scratch; /* for a packet read when the memory bound is reached */
	uint64_t delivered[WIRE_DIRS]; /* in segments */
	uint64_t device_reads[WIRE_DIRS];  /* packets read from the sender's device */
	uint64_t device_writes[WIRE_DIRS]; /* packets written to the receiver's device */
	uint64_t write_errors[WIRE_DIRS];
	uint64_t pending_at_stop[WIRE_DIRS];
};

/* Starts the thread. */
int wire_relay_start(struct wire_relay *r, struct lab_err *err);

/* Stops and joins the thread, drops what is still on the links (counted in
 * pending_at_stop) and frees the packet buffers. Safe to call twice. */
void wire_relay_stop(struct wire_relay *r);

#endif
