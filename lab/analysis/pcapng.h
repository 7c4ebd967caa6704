/* pcapng: reads a pcapng file block by block (section headers, interface
 * descriptions, enhanced, simple and obsolete packet blocks; either byte order;
 * each interface's time resolution and offset), so that one file may hold
 * interfaces of different link types, which libpcap's reader refuses. Every
 * length is checked against the block that holds it. It decodes no packet
 * (packet.h does) and skips the blocks it has no use for. */
#ifndef TCPLAB_PCAPNG_H
#define TCPLAB_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/common/err.h"

/* The first four bytes of every pcapng file (the section header's type). */
#define PCAPNG_MAGIC 0x0A0D0D0Au

struct pcapng_packet {
	uint32_t interface_id; /* within the file, counting over every section */
	int linktype;          /* LINKTYPE_* of its interface */
	int64_t time_us;       /* since the epoch; 0 when the block has none (SPB) */
	const uint8_t *data;   /* valid until the next pcapng_next */
	uint32_t caplen;
	uint32_t wire_len;
};

struct pcapng_reader;

/* Reads from fp, positioned at the file's first byte (the caller keeps fp and
 * closes it after pcapng_free). NULL when out of memory. */
struct pcapng_reader *pcapng_new(FILE *fp);
void pcapng_free(struct pcapng_reader *r);

/* The next packet: 1 and *pkt filled; 0 at the end of the file; -1 when the
 * file is damaged or not pcapng (err says what, at which byte offset): what
 * came before stays valid. */
int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *pkt, struct lab_err *err);

/* Interfaces described so far, over every section. */
size_t pcapng_interface_count(const struct pcapng_reader *r);
int pcapng_interface_linktype(const struct pcapng_reader *r, size_t index);
/* Why an interface's times could not be read (a time resolution beyond 64
 * bits), NULL when they could: its packets then carry time 0. */
const char *pcapng_interface_time_note(const struct pcapng_reader *r, size_t index);

#endif
