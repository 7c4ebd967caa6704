/* pcapng: the block reader (see pcapng.h). The format is the IETF draft
 * "PCAP Next Generation (pcapng) Capture File Format"
 * (draft-ietf-opsawg-pcapng): a file is a sequence of blocks, each
 * `type, total length, body, total length` in the byte order its section
 * header declares. A section header starts a new set of interfaces.
 *
 * A block is read whole into one buffer and every field is read through
 * rd16/rd32, which check the offset against the block's length: a length
 * field that points beyond its block ends the reading with a message, never
 * a read past the buffer. */
#include "lab/analysis/pcapng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SHB 0x0A0D0D0Au
#define BLOCK_IDB 1u
#define BLOCK_OPB 2u /* obsolete packet block */
#define BLOCK_SPB 3u
#define BLOCK_EPB 6u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_END 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14
/* A block larger than this is taken for corruption (Wireshark's own limit
 * for a packet is 256 KiB; BIG TCP frames stay far below). */
#define BLOCK_MAX_BYTES (64u * 1024 * 1024)

struct iface {
	int linktype;
	uint32_t snaplen;
	uint64_t units_per_s; /* 0: the resolution cannot be represented */
	int64_t offset_s;
};

struct pcapng_reader {
	FILE *fp;
	uint64_t offset; /* of the next block, for messages */
	bool in_section;
	bool swap;
	size_t first_iface; /* index of the current section's interface 0 */
	struct iface *ifaces;
	size_t iface_count, iface_cap;
	uint8_t *buf;
	size_t buf_cap;
};

struct pcapng_reader *pcapng_new(FILE *fp)
{
	struct pcapng_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->fp = fp;
	return r;
}

void pcapng_free(struct pcapng_reader *r)
{
	if (r == NULL)
		return;
	free(r->ifaces);
	free(r->buf);
	free(r);
}

size_t pcapng_interface_count(const struct pcapng_reader *r)
{
	return r->iface_count;
}

int pcapng_interface_linktype(const struct pcapng_reader *r, size_t index)
{
	return index < r->iface_count ? r->ifaces[index].linktype : -1;
}

const char *pcapng_interface_time_note(const struct pcapng_reader *r, size_t index)
{
	if (index >= r->iface_count || r->ifaces[index].units_per_s != 0)
		return NULL;
	return "its time resolution (if_tsresol) is finer than 64 bits hold";
}

static uint32_t get32(const struct pcapng_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const struct pcapng_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

/* Bounds-checked reads within a block body of `len` bytes. */
static bool rd32(const struct pcapng_reader *r, const uint8_t *body, size_t len, size_t off,
		 uint32_t *out)
{
	if (off > len || len - off < 4)
		return false;
	*out = get32(r, body + off);
	return true;
}

static bool rd16(const struct pcapng_reader *r, const uint8_t *body, size_t len, size_t off,
		 uint16_t *out)
{
	if (off > len || len - off < 2)
		return false;
	*out = get16(r, body + off);
	return true;
}

static int damaged(struct pcapng_reader *r, struct lab_err *err, const char *what)
{
	return lab_err_set(err, "pcapng block at byte %llu: %s", (unsigned long long)r->offset,
			   what);
}

static int grow_buf(struct pcapng_reader *r, size_t n)
{
	uint8_t *b;
	size_t cap = r->buf_cap ? r->buf_cap : 65536;

	if (n <= r->buf_cap)
		return 0;
	while (cap < n)
		cap *= 2;
	b = realloc(r->buf, cap);
	if (b == NULL)
		return -1;
	r->buf = b;
	r->buf_cap = cap;
	return 0;
}

/* 10^exp or 2^exp units per second (if_tsresol); 0 when beyond 64 bits. */
static uint64_t units_from_tsresol(uint8_t v)
{
	unsigned exp = v & 0x7f;
	uint64_t units = 1;

	if (v & 0x80)
		return exp < 64 ? (uint64_t)1 << exp : 0;
	if (exp > 19)
		return 0;
	for (unsigned i = 0; i < exp; i++)
		units *= 10;
	return units;
}

static int add_iface(struct pcapng_reader *r, const uint8_t *body, size_t len,
		     struct lab_err *err)
{
	struct iface ifc = { .units_per_s = 1000000 };
	uint16_t linktype;
	size_t off = 8;

	if (!rd16(r, body, len, 0, &linktype) || !rd32(r, body, len, 4, &ifc.snaplen))
		return damaged(r, err, "interface description shorter than 8 bytes");
	ifc.linktype = linktype;
	/* Options: code, length, value padded to 4 bytes; code 0 ends them. */
	while (off + 4 <= len) {
		uint16_t code = 0, opt_len = 0;
		size_t padded;

		rd16(r, body, len, off, &code);
		rd16(r, body, len, off + 2, &opt_len);
		padded = ((size_t)opt_len + 3) & ~(size_t)3;
		if (code == OPT_END)
			break;
		if (padded > len - off - 4)
			return damaged(r, err, "an interface option runs past its block");
		if (code == OPT_IF_TSRESOL && opt_len == 1)
			ifc.units_per_s = units_from_tsresol(body[off + 4]);
		if (code == OPT_IF_TSOFFSET && opt_len == 8) {
			uint64_t lo = get32(r, body + off + 4), hi = get32(r, body + off + 8);

			/* a 64-bit value in the section's byte order */
			ifc.offset_s = (int64_t)(r->swap ? (lo << 32) | hi : (hi << 32) | lo);
		}
		off += 4 + padded;
	}
	if (r->iface_count == r->iface_cap) {
		size_t cap = r->iface_cap ? r->iface_cap * 2 : 8;
		struct iface *n = realloc(r->ifaces, cap * sizeof(*n));

		if (n == NULL)
			return lab_err_sys(err, ENOMEM, "pcapng interfaces");
		r->ifaces = n;
		r->iface_cap = cap;
	}
	r->ifaces[r->iface_count++] = ifc;
	return 0;
}

/* Saturating a + b for the microsecond clock. */
static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t s;

	if (__builtin_add_overflow(a, b, &s))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return s;
}

/* A 64-bit count of the interface's units into microseconds since the epoch,
 * saturating instead of overflowing whatever the resolution and offset. */
static int64_t time_us_of(const struct iface *ifc, uint64_t ts)
{
	uint64_t s, frac_us;
	int64_t us, off_us;

	if (ifc->units_per_s == 0)
		return 0;
	s = ts / ifc->units_per_s;
	frac_us = (uint64_t)((unsigned __int128)(ts % ifc->units_per_s) * 1000000 /
			     ifc->units_per_s);
	us = s >= (uint64_t)(INT64_MAX / 1000000) ? INT64_MAX : (int64_t)(s * 1000000 + frac_us);
	if (__builtin_mul_overflow(ifc->offset_s, (int64_t)1000000, &off_us))
		off_us = ifc->offset_s > 0 ? INT64_MAX : INT64_MIN;
	return add_sat(us, off_us);
}

/* Reads the rest of a block whose 8-byte head is already read; the whole
 * block (head included) ends up in r->buf. */
static int read_block(struct pcapng_reader *r, uint32_t total, struct lab_err *err)
{
	uint32_t trailer;

	if (total < 12 || total % 4 != 0)
		return damaged(r, err, "block length not a multiple of 4 of at least 12");
	if (total > BLOCK_MAX_BYTES)
		return damaged(r, err, "block longer than 64 MiB");
	if (grow_buf(r, total) < 0)
		return lab_err_sys(err, ENOMEM, "pcapng block");
	if (fread(r->buf + 8, 1, total - 8, r->fp) != total - 8)
		return damaged(r, err, "file ends inside the block");
	trailer = get32(r, r->buf + total - 4);
	if (trailer != total)
		return damaged(r, err, "the block's two length fields differ");
	return 0;
}

static int section_header(struct pcapng_reader *r, struct lab_err *err)
{
	uint32_t raw_len, magic;
	uint16_t major;

	memcpy(&raw_len, r->buf + 4, 4);
	if (fread(r->buf + 8, 1, 4, r->fp) != 4)
		return damaged(r, err, "file ends inside the section header");
	memcpy(&magic, r->buf + 8, 4);
	if (magic == BYTE_ORDER_MAGIC)
		r->swap = false;
	else if (magic == __builtin_bswap32(BYTE_ORDER_MAGIC))
		r->swap = true;
	else
		return damaged(r, err, "section header without the byte-order magic");
	/* The length is in the byte order the magic just told. */
	raw_len = r->swap ? __builtin_bswap32(raw_len) : raw_len;
	if (raw_len < 28)
		return damaged(r, err, "section header shorter than 28 bytes");
	if (raw_len % 4 != 0 || raw_len > BLOCK_MAX_BYTES)
		return damaged(r, err, "section header length not a multiple of 4");
	if (grow_buf(r, raw_len) < 0)
		return lab_err_sys(err, ENOMEM, "pcapng block");
	if (fread(r->buf + 12, 1, raw_len - 12, r->fp) != raw_len - 12)
		return damaged(r, err, "file ends inside the section header");
	if (get32(r, r->buf + raw_len - 4) != raw_len)
		return damaged(r, err, "the section header's two length fields differ");
	major = get16(r, r->buf + 12);
	if (major != 1)
		return damaged(r, err, "section of a pcapng major version other than 1");
	r->in_section = true;
	r->first_iface = r->iface_count;
	r->offset += raw_len;
	return 0;
}

/* Fills pkt from a packet block's fields; the interface must exist. */
static int packet_of(struct pcapng_reader *r, struct pcapng_packet *pkt, uint32_t if_id,
		     uint64_t ts, bool has_ts, const uint8_t *data, uint32_t caplen,
		     uint32_t wire_len, struct lab_err *err)
{
	const struct iface *ifc;

	if (if_id >= r->iface_count - r->first_iface || r->iface_count == r->first_iface)
		return damaged(r, err, "packet of an interface no description announced");
	ifc = &r->ifaces[r->first_iface + if_id];
	pkt->interface_id = (uint32_t)(r->first_iface + if_id);
	pkt->linktype = ifc->linktype;
	pkt->time_us = has_ts ? time_us_of(ifc, ts) : 0;
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->wire_len = wire_len < caplen ? caplen : wire_len;
	return 1;
}

int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *pkt, struct lab_err *err)
{
	for (;;) {
		uint32_t type, total, if_id, ts_hi, ts_lo, caplen, wire_len;
		const uint8_t *body;
		size_t body_len;
		size_t got;
		int rc = 0;

		if (grow_buf(r, 64) < 0)
			return lab_err_sys(err, ENOMEM, "pcapng block");
		got = fread(r->buf, 1, 8, r->fp);
		if (got == 0 && r->in_section)
			return 0;
		if (got != 8)
			return damaged(r, err, r->in_section ? "file ends inside a block header"
							     : "not a pcapng file");
		memcpy(&type, r->buf, 4);
		if (type == BLOCK_SHB) {
			if (section_header(r, err) < 0)
				return -1;
			continue;
		}
		if (!r->in_section)
			return damaged(r, err, "not a pcapng file (no section header first)");
		type = get32(r, r->buf);
		total = get32(r, r->buf + 4);
		if (read_block(r, total, err) < 0)
			return -1;
		body = r->buf + 8;
		body_len = total - 12;
		switch (type) {
		case BLOCK_IDB:
			if (add_iface(r, body, body_len, err) < 0)
				return -1;
			break;
		case BLOCK_EPB:
			if (!rd32(r, body, body_len, 0, &if_id) ||
			    !rd32(r, body, body_len, 4, &ts_hi) ||
			    !rd32(r, body, body_len, 8, &ts_lo) ||
			    !rd32(r, body, body_len, 12, &caplen) ||
			    !rd32(r, body, body_len, 16, &wire_len))
				return damaged(r, err, "enhanced packet block shorter than 20 bytes");
			if (caplen > body_len - 20)
				return damaged(r, err, "captured length beyond its block");
			rc = packet_of(r, pkt, if_id, ((uint64_t)ts_hi << 32) | ts_lo, true,
				       body + 20, caplen, wire_len, err);
			break;
		case BLOCK_OPB: {
			uint16_t if16;

			if (!rd16(r, body, body_len, 0, &if16) ||
			    !rd32(r, body, body_len, 4, &ts_hi) ||
			    !rd32(r, body, body_len, 8, &ts_lo) ||
			    !rd32(r, body, body_len, 12, &caplen) ||
			    !rd32(r, body, body_len, 16, &wire_len))
				return damaged(r, err, "packet block shorter than 20 bytes");
			if (caplen > body_len - 20)
				return damaged(r, err, "captured length beyond its block");
			rc = packet_of(r, pkt, if16, ((uint64_t)ts_hi << 32) | ts_lo, true,
				       body + 20, caplen, wire_len, err);
			break;
		}
		case BLOCK_SPB: {
			uint32_t snaplen;

			if (!rd32(r, body, body_len, 0, &wire_len))
				return damaged(r, err, "simple packet block shorter than 4 bytes");
			if (r->iface_count == r->first_iface)
				return damaged(r, err, "simple packet before any interface");
			/* no captured length: the packet up to the interface's
			 * snaplen and the block's end */
			caplen = wire_len;
			snaplen = r->ifaces[r->first_iface].snaplen;
			if (snaplen != 0 && caplen > snaplen)
				caplen = snaplen;
			if (caplen > body_len - 4)
				caplen = (uint32_t)(body_len - 4);
			rc = packet_of(r, pkt, 0, 0, false, body + 4, caplen, wire_len, err);
			break;
		}
		default:
			break; /* statistics, name resolution, secrets...: not needed */
		}
		r->offset += total;
		if (rc != 0)
			return rc;
	}
}
