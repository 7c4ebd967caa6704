/* wire_netns: the two network namespaces the wire joins, one per side, each with a
 * TUN device named "wire" and the addressing that lets both programs keep using
 * 127.0.0.1: the client's lo holds 127.0.0.2/32 and 127.0.0.1/32 is routed to its
 * wire; the server's lo holds 127.0.0.1/32 and 127.0.0.2/32 is routed to its wire.
 * Set up through netlink (libmnl) and ioctl, no `ip` command. */
#ifndef TCPLAB_WIRE_NETNS_H
#define TCPLAB_WIRE_NETNS_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/common/err.h"

enum wire_side {
	WIRE_CLIENT = 0,
	WIRE_SERVER = 1,
	WIRE_SIDES = 2,
};

/* The name of the TUN device in each namespace. */
#define WIRE_DEVICE_NAME "wire"

struct mnl_socket;

struct wire_netns {
	int netns_fd;          /* the namespace (setns(fd, CLONE_NEWNET) to enter it) */
	int tun_fd;            /* the TUN device's queue, non-blocking: one IP packet per read/write */
	struct mnl_socket *nl; /* rtnetlink, inside the namespace: for the device's counters */
	unsigned wire_index;   /* the TUN device's interface index there */
};

/* The kernel's own counters of the TUN device. Its tx is what the namespace sent
 * into the wire (the relay's reads), its rx what the relay delivered. */
struct wire_device_stats {
	uint64_t tx_packets, tx_dropped; /* tx_dropped: lost before the relay read them */
	uint64_t rx_packets, rx_dropped;
};

/* Moves the CALLING THREAD into a new network namespace and sets it up as SIDE with
 * a wire of MTU bytes. With OFFLOAD, the TUN device has a virtio-net header before
 * each packet and takes TCP segmentation and checksums off the kernel (wire_gso.h). The thread stays there: call it from a thread that ends
 * afterwards (the namespace lives on through out->netns_fd). On failure nothing is
 * left open. */
int wire_netns_make(enum wire_side side, uint32_t mtu, bool offload, struct wire_netns *out,
		    struct lab_err *err);

/* Reads the TUN device's counters from the kernel. */
int wire_netns_device_stats(const struct wire_netns *ns, struct wire_device_stats *out,
			    struct lab_err *err);

/* Closes the TUN device (which removes it) and the namespace's fd (the namespace
 * goes when nothing else is in it). */
void wire_netns_close(struct wire_netns *ns);

/* The address of SIDE's lo, in network order: 127.0.0.2 (client) or 127.0.0.1. */
uint32_t wire_netns_addr(enum wire_side side);

#endif
