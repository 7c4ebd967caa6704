/* packet: decoding a captured frame down to TCP (see packet.h).
 *
 * Every read goes through view_u8/view_be16/view_be32, which check the offset
 * against the captured length and fail instead of reading past the end. A frame
 * that ends before the TCP header does is MALFORMED; one whose headers are all
 * there but whose payload the snaplen cut is TCP with `truncated` set. */
#include "lab/analysis/packet.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* LINKTYPE_RAW as written in files; libpcap maps it to DLT_RAW, but accept both. */
#define LINKTYPE_RAW_VALUE 101
#define LINKTYPE_LOOP_VALUE 108
#define LINKTYPE_RAW_OPENBSD 14

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_VLAN_OLD 0x9100

#define ETHERTYPE_TEB 0x6558 /* transparent Ethernet bridging */

#define IPPROTO_IPIP_VALUE 4
#define IPPROTO_TCP_VALUE 6
#define IPPROTO_UDP_VALUE 17
#define IPPROTO_IPV6_VALUE 41
#define IPPROTO_GRE_VALUE 47
#define IPPROTO_MPLS_VALUE 137

/* Tunnels inside tunnels: deeper than this is taken for garbage. */
#define TUNNEL_DEPTH_MAX 4

/* A window on the captured bytes; `len` is what was captured. */
struct view {
	const uint8_t *data;
	size_t len;
};

static bool view_has(const struct view *v, size_t off, size_t n)
{
	return off <= v->len && n <= v->len - off;
}

static bool view_u8(const struct view *v, size_t off, uint8_t *out)
{
	if (!view_has(v, off, 1))
		return false;
	*out = v->data[off];
	return true;
}

static bool view_be16(const struct view *v, size_t off, uint16_t *out)
{
	if (!view_has(v, off, 2))
		return false;
	*out = (uint16_t)((v->data[off] << 8) | v->data[off + 1]);
	return true;
}

static bool view_be32(const struct view *v, size_t off, uint32_t *out)
{
	if (!view_has(v, off, 4))
		return false;
	*out = ((uint32_t)v->data[off] << 24) | ((uint32_t)v->data[off + 1] << 16) |
	       ((uint32_t)v->data[off + 2] << 8) | (uint32_t)v->data[off + 3];
	return true;
}

static bool view_copy(const struct view *v, size_t off, size_t n, uint8_t *out)
{
	if (!view_has(v, off, n))
		return false;
	memcpy(out, v->data + off, n);
	return true;
}

/* The decoder's running state for one frame. */
struct decoder {
	struct view v;
	size_t wire_len; /* bytes on the wire from v.data[0] */
	struct packet_tcp *tcp;
	const char *why;
	int depth; /* tunnels entered */
};

static enum packet_kind malformed(struct decoder *d, const char *why)
{
	d->why = why;
	return PACKET_KIND_MALFORMED;
}

static enum packet_kind other(struct decoder *d, const char *why)
{
	d->why = why;
	return PACKET_KIND_OTHER;
}

static enum packet_kind tunnel_not_opened(struct decoder *d, uint32_t tunnel, const char *why)
{
	d->tcp->tunnels |= tunnel;
	d->why = why;
	return PACKET_KIND_TUNNEL;
}

/* The inner packet ends where the outer payload does: trailing bytes of
 * the outer frame (Ethernet padding) are not part of it. */
static void narrow(struct decoder *d, size_t end)
{
	if (end < d->v.len)
		d->v.len = end;
	if (end < d->wire_len)
		d->wire_len = end;
}

static bool enter_tunnel(struct decoder *d, uint32_t tunnel, size_t end)
{
	if (d->depth >= TUNNEL_DEPTH_MAX)
		return false;
	d->depth++;
	d->tcp->tunnels |= tunnel;
	narrow(d, end);
	return true;
}

static enum packet_kind parse_ipv4(struct decoder *d, size_t off);
static enum packet_kind parse_ipv6(struct decoder *d, size_t off);
static enum packet_kind parse_ethernet_at(struct decoder *d, size_t off);
static enum packet_kind parse_ethertype(struct decoder *d, uint16_t type, size_t off);

static void parse_tcp_options(struct decoder *d, size_t start, size_t end)
{
	struct packet_tcp *t = d->tcp;
	size_t off = start;

	/* RFC 9293 §3.2: kind 0 ends the list, kind 1 is padding, every other
	 * option carries a length byte that counts kind and length. */
	while (off < end) {
		uint8_t kind, len;

		if (!view_u8(&d->v, off, &kind))
			break;
		if (kind == 0)
			break;
		if (kind == 1) {
			off++;
			continue;
		}
		if (off + 1 >= end || !view_u8(&d->v, off + 1, &len) || len < 2 ||
		    off + len > end) {
			t->options_malformed = true;
			break;
		}
		switch (kind) {
		case 2: /* MSS, RFC 9293 §3.7.1 */
			if (len == 4 && view_be16(&d->v, off + 2, &t->mss))
				t->has_mss = true;
			break;
		case 3: /* window scale, RFC 7323 §2.2 */
			if (len == 3 && view_u8(&d->v, off + 2, &t->wscale))
				t->has_wscale = true;
			break;
		case 4: /* SACK permitted, RFC 2018 §2 */
			if (len == 2)
				t->sack_permitted = true;
			break;
		case 5: /* SACK blocks, RFC 2018 §3 */
			for (size_t b = off + 2;
			     b + 8 <= (size_t)off + len && t->sack_count < PACKET_SACK_MAX;
			     b += 8) {
				if (!view_be32(&d->v, b, &t->sack_left[t->sack_count]) ||
				    !view_be32(&d->v, b + 4, &t->sack_right[t->sack_count]))
					break;
				t->sack_count++;
			}
			break;
		case 8: /* timestamps, RFC 7323 §3.2 */
			if (len == 10 && view_be32(&d->v, off + 2, &t->ts_val) &&
			    view_be32(&d->v, off + 6, &t->ts_ecr))
				t->has_timestamps = true;
			break;
		default:
			break;
		}
		off += len;
	}
}

/* TCP header at `off`; `seg_len` is the TCP length the IP header declares. */
static enum packet_kind parse_tcp(struct decoder *d, size_t off, size_t seg_len)
{
	struct packet_tcp *t = d->tcp;
	uint8_t data_off, flags;
	size_t hdr_len;

	if (!view_be16(&d->v, off, &t->src_port) || !view_be16(&d->v, off + 2, &t->dst_port) ||
	    !view_be32(&d->v, off + 4, &t->seq) || !view_be32(&d->v, off + 8, &t->ack) ||
	    !view_u8(&d->v, off + 12, &data_off) || !view_u8(&d->v, off + 13, &flags) ||
	    !view_be16(&d->v, off + 14, &t->window) || !view_has(&d->v, off, 20))
		return malformed(d, "TCP header cut short");
	hdr_len = (size_t)(data_off >> 4) * 4;
	if (hdr_len < 20)
		return malformed(d, "TCP data offset below 5");
	if (hdr_len > seg_len)
		return malformed(d, "TCP header longer than the IP payload");
	if (!view_has(&d->v, off, hdr_len))
		return malformed(d, "TCP options cut short");
	t->flags = flags;
	parse_tcp_options(d, off + 20, off + hdr_len);
	t->payload_bytes = (uint32_t)(seg_len - hdr_len);
	if (view_has(&d->v, off + hdr_len, t->payload_bytes)) {
		t->captured_payload_bytes = t->payload_bytes;
	} else {
		t->captured_payload_bytes = (uint32_t)(d->v.len - off - hdr_len);
		t->truncated = true;
	}
	return PACKET_KIND_TCP;
}

/* What a tunnel carries, by EtherType: Ethernet (transparent bridging) or IP. */
static enum packet_kind parse_tunnel_payload(struct decoder *d, uint16_t type, size_t off,
					     uint32_t tunnel_not_handled)
{
	if (type == ETHERTYPE_TEB)
		return parse_ethernet_at(d, off);
	if (type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6)
		return parse_ethertype(d, type, off);
	return tunnel_not_opened(d, tunnel_not_handled, "tunnel of neither Ethernet nor IP");
}

/* GRE, RFC 2784 with the key and sequence number of RFC 2890. */
static enum packet_kind parse_gre(struct decoder *d, size_t off, size_t end)
{
	uint8_t flags, version;
	uint16_t type;
	size_t hdr_len = 4;

	if (!view_u8(&d->v, off, &flags) || !view_u8(&d->v, off + 1, &version) ||
	    !view_be16(&d->v, off + 2, &type))
		return malformed(d, "GRE header cut short");
	/* version 1 is PPTP's enhanced GRE (PPP inside); the routing bit is
	 * RFC 1701's source routing: neither is opened */
	if ((version & 0x07) != 0 || (flags & 0x40))
		return tunnel_not_opened(d, PACKET_TUNNEL_GRE_OTHER, "GRE of another version");
	if (flags & 0x80) /* checksum and reserved */
		hdr_len += 4;
	if (flags & 0x20) /* key */
		hdr_len += 4;
	if (flags & 0x10) /* sequence number */
		hdr_len += 4;
	if (off + hdr_len > end || !view_has(&d->v, off, hdr_len))
		return malformed(d, "GRE header cut short");
	if (!enter_tunnel(d, PACKET_TUNNEL_GRE, end))
		return other(d, "tunnels nested too deep");
	return parse_tunnel_payload(d, type, off + hdr_len, PACKET_TUNNEL_GRE_OTHER);
}

static uint32_t udp_tunnel_of(uint16_t port)
{
	switch (port) {
	case 4789:
		return PACKET_TUNNEL_VXLAN;
	case 6081:
		return PACKET_TUNNEL_GENEVE;
	case 2152:
		return PACKET_TUNNEL_GTP_U;
	case 1701:
		return PACKET_TUNNEL_L2TP;
	case 4790:
		return PACKET_TUNNEL_VXLAN_GPE;
	case 6635:
		return PACKET_TUNNEL_MPLS;
	default:
		return 0;
	}
}

/* UDP: only as the carrier of a tunnel. Like Wireshark, the lower port is
 * tried first, then the higher. */
static enum packet_kind parse_udp(struct decoder *d, size_t off, size_t end)
{
	uint16_t src, dst, udp_len, lo, hi;
	uint32_t tunnel;
	uint8_t b0;
	uint16_t type;
	size_t hdr_len;

	if (!view_be16(&d->v, off, &src) || !view_be16(&d->v, off + 2, &dst) ||
	    !view_be16(&d->v, off + 4, &udp_len) || !view_has(&d->v, off, 8))
		return malformed(d, "UDP header cut short");
	if (udp_len >= 8 && udp_len <= end - off)
		end = off + udp_len;
	lo = src < dst ? src : dst;
	hi = src < dst ? dst : src;
	tunnel = udp_tunnel_of(lo);
	if (tunnel == 0)
		tunnel = udp_tunnel_of(hi);
	off += 8;
	switch (tunnel) {
	case 0:
		return other(d, "not TCP");
	case PACKET_TUNNEL_VXLAN: /* RFC 7348 §5: 8 bytes, then Ethernet */
		if (off + 8 > end || !view_has(&d->v, off, 8))
			return malformed(d, "VXLAN header cut short");
		if (!enter_tunnel(d, PACKET_TUNNEL_VXLAN, end))
			return other(d, "tunnels nested too deep");
		return parse_ethernet_at(d, off + 8);
	case PACKET_TUNNEL_GENEVE: /* RFC 8926 §3.4: 8 bytes and options */
		if (!view_u8(&d->v, off, &b0) || !view_be16(&d->v, off + 2, &type))
			return malformed(d, "Geneve header cut short");
		if (b0 >> 6 != 0)
			return tunnel_not_opened(d, PACKET_TUNNEL_OTHER_PAYLOAD,
						 "Geneve of another version");
		hdr_len = 8 + (size_t)(b0 & 0x3f) * 4;
		if (off + hdr_len > end || !view_has(&d->v, off, hdr_len))
			return malformed(d, "Geneve header cut short");
		if (!enter_tunnel(d, PACKET_TUNNEL_GENEVE, end))
			return other(d, "tunnels nested too deep");
		return parse_tunnel_payload(d, type, off + hdr_len, PACKET_TUNNEL_OTHER_PAYLOAD);
	default:
		return tunnel_not_opened(d, tunnel, "a tunnel tcplab does not open");
	}
}

/* What an IP packet carries, between off and end: TCP, or a tunnel. */
static enum packet_kind parse_ip_payload(struct decoder *d, uint8_t proto, size_t off, size_t end)
{
	switch (proto) {
	case IPPROTO_TCP_VALUE:
		return parse_tcp(d, off, end - off);
	case IPPROTO_UDP_VALUE:
		return parse_udp(d, off, end);
	case IPPROTO_GRE_VALUE:
		return parse_gre(d, off, end);
	case IPPROTO_IPIP_VALUE:
		if (!enter_tunnel(d, PACKET_TUNNEL_IPIP, end))
			return other(d, "tunnels nested too deep");
		return parse_ipv4(d, off);
	case IPPROTO_IPV6_VALUE:
		if (!enter_tunnel(d, PACKET_TUNNEL_IPIP, end))
			return other(d, "tunnels nested too deep");
		return parse_ipv6(d, off);
	case IPPROTO_MPLS_VALUE:
		return tunnel_not_opened(d, PACKET_TUNNEL_MPLS, "MPLS in IP");
	default:
		return other(d, "not TCP");
	}
}

static enum packet_kind parse_ipv4(struct decoder *d, size_t off)
{
	uint8_t ver_ihl, proto;
	uint16_t total_len, frag;
	size_t hdr_len, ip_len, avail;

	if (!view_u8(&d->v, off, &ver_ihl) || !view_be16(&d->v, off + 2, &total_len) ||
	    !view_be16(&d->v, off + 6, &frag) || !view_u8(&d->v, off + 9, &proto) ||
	    !view_has(&d->v, off, 20))
		return malformed(d, "IPv4 header cut short");
	if (ver_ihl >> 4 != 4)
		return malformed(d, "IPv4 version is not 4");
	hdr_len = (size_t)(ver_ihl & 0x0f) * 4;
	if (hdr_len < 20)
		return malformed(d, "IPv4 header length below 5");
	if (!view_has(&d->v, off, hdr_len))
		return malformed(d, "IPv4 options cut short");
	avail = d->wire_len > off ? d->wire_len - off : 0;
	/* A total length of 0 is what segmentation offload (TSO, BIG TCP
	 * beyond 64 KiB) leaves in captures: the frame says how long the
	 * packet is, however long (Wireshark does the same). */
	ip_len = total_len == 0 ? avail : total_len;
	if (ip_len < hdr_len)
		return malformed(d, "IPv4 total length below header length");
	/* Longer than the frame: what the frame holds is analysed, as tshark
	 * does (it notes the bad length and dissects the rest). */
	if (ip_len > avail)
		ip_len = avail;
	/* RFC 791 §3.1: a non-zero fragment offset means no TCP header here.
	 * A first fragment (MF set, offset 0) holds the header: decode it with
	 * the payload this fragment carries (we do not reassemble). */
	if ((frag & 0x1fff) != 0)
		return other(d, "IPv4 non-first fragment");
	if ((frag & 0x2000) != 0 && proto != IPPROTO_TCP_VALUE)
		return other(d, "IPv4 first fragment of a tunnel or not TCP");
	d->tcp->family = AF_INET;
	if (!view_copy(&d->v, off + 12, 4, d->tcp->src_addr) ||
	    !view_copy(&d->v, off + 16, 4, d->tcp->dst_addr))
		return malformed(d, "IPv4 header cut short");
	memset(d->tcp->src_addr + 4, 0, 12);
	memset(d->tcp->dst_addr + 4, 0, 12);
	return parse_ip_payload(d, proto, off + hdr_len, off + ip_len);
}

static enum packet_kind parse_ipv6(struct decoder *d, size_t off)
{
	uint8_t ver, next;
	uint16_t payload_len;
	size_t pos, end;

	if (!view_u8(&d->v, off, &ver) || !view_be16(&d->v, off + 4, &payload_len) ||
	    !view_u8(&d->v, off + 6, &next) || !view_has(&d->v, off, 40))
		return malformed(d, "IPv6 header cut short");
	if (ver >> 4 != 6)
		return malformed(d, "IPv6 version is not 6");
	/* Payload length 0 with a hop-by-hop jumbo option (RFC 2675): use the frame. */
	if (payload_len == 0 && d->wire_len > off + 40)
		end = d->wire_len;
	else
		end = off + 40 + payload_len;
	/* Beyond the frame: analyse what the frame holds, as for IPv4. */
	if (end > d->wire_len)
		end = d->wire_len;
	if (end < off + 40)
		return malformed(d, "IPv6 header cut short");
	d->tcp->family = AF_INET6;
	view_copy(&d->v, off + 8, 16, d->tcp->src_addr);
	view_copy(&d->v, off + 24, 16, d->tcp->dst_addr);
	pos = off + 40;
	/* RFC 8200 §4: walk the extension headers to the upper-layer header. */
	for (int hops = 0; hops < 16; hops++) {
		uint8_t ext_next, ext_len;
		uint16_t frag;

		switch (next) {
		case IPPROTO_TCP_VALUE:
			if (pos > end)
				return malformed(d, "IPv6 extension headers beyond the payload");
			return parse_tcp(d, pos, end - pos);
		case 0:  /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
			if (!view_u8(&d->v, pos, &ext_next) || !view_u8(&d->v, pos + 1, &ext_len))
				return malformed(d, "IPv6 extension header cut short");
			next = ext_next;
			pos += ((size_t)ext_len + 1) * 8;
			break;
		case 51: /* authentication header, RFC 4302 §2.2 */
			if (!view_u8(&d->v, pos, &ext_next) || !view_u8(&d->v, pos + 1, &ext_len))
				return malformed(d, "IPv6 extension header cut short");
			next = ext_next;
			pos += ((size_t)ext_len + 2) * 4;
			break;
		case 44: /* fragment, RFC 8200 §4.5 */
			if (!view_u8(&d->v, pos, &ext_next) || !view_be16(&d->v, pos + 2, &frag))
				return malformed(d, "IPv6 fragment header cut short");
			if ((frag & 0xfff8) != 0)
				return other(d, "IPv6 non-first fragment");
			next = ext_next;
			pos += 8;
			break;
		default:
			if (pos > end)
				return malformed(d, "IPv6 extension headers beyond the payload");
			return parse_ip_payload(d, next, pos, end);
		}
		if (pos > end)
			return malformed(d, "IPv6 extension headers beyond the payload");
	}
	return other(d, "too many IPv6 extension headers");
}

static enum packet_kind parse_ip(struct decoder *d, size_t off)
{
	uint8_t ver;

	if (!view_u8(&d->v, off, &ver))
		return malformed(d, "IP header cut short");
	if (ver >> 4 == 4)
		return parse_ipv4(d, off);
	if (ver >> 4 == 6)
		return parse_ipv6(d, off);
	return other(d, "IP version neither 4 nor 6");
}

static enum packet_kind parse_ethertype(struct decoder *d, uint16_t type, size_t off)
{
	if (type == ETHERTYPE_IPV4)
		return parse_ipv4(d, off);
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(d, off);
	return other(d, "not IP");
}

static enum packet_kind parse_ethernet_at(struct decoder *d, size_t start)
{
	uint16_t type;
	size_t off = start + 12;

	if (!view_be16(&d->v, off, &type))
		return malformed(d, "Ethernet header cut short");
	off += 2;
	/* IEEE 802.1Q tags (and stacked 802.1ad ones): 2 bytes TCI, then the type. */
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_VLAN_OLD) {
		if (!view_be16(&d->v, off + 2, &type))
			return malformed(d, "VLAN tag cut short");
		off += 4;
	}
	return parse_ethertype(d, type, off);
}

/* BSD loopback: a 4-byte address family, host order (DLT_NULL) or network
 * order (DLT_LOOP); files travel between machines, so accept either order. */
static enum packet_kind parse_null(struct decoder *d)
{
	uint32_t be, le, af;

	if (!view_be32(&d->v, 0, &be))
		return malformed(d, "loopback header cut short");
	le = __builtin_bswap32(be);
	af = be < le ? be : le;
	if (af == AF_INET)
		return parse_ipv4(d, 4);
	/* AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS) */
	if (af == 24 || af == 28 || af == 30 || af == AF_INET6)
		return parse_ipv6(d, 4);
	return other(d, "loopback frame of another address family");
}

enum packet_kind packet_decode(int linktype, const uint8_t *data, size_t caplen, size_t wire_len,
			       struct packet_tcp *tcp, const char **why)
{
	struct decoder d = { .v = { data, data ? caplen : 0 }, .wire_len = wire_len, .tcp = tcp };
	enum packet_kind kind;
	uint16_t type;

	memset(tcp, 0, sizeof(*tcp));
	if (d.wire_len < d.v.len)
		d.wire_len = d.v.len;
	switch (linktype) {
	case DLT_EN10MB:
		kind = parse_ethernet_at(&d, 0);
		break;
	case DLT_LINUX_SLL: /* 16 bytes; protocol type at offset 14 */
		kind = view_be16(&d.v, 14, &type) ? parse_ethertype(&d, type, 16)
						  : malformed(&d, "SLL header cut short");
		break;
	case DLT_LINUX_SLL2: /* 20 bytes; protocol type at offset 0 */
		kind = view_be16(&d.v, 0, &type) && view_has(&d.v, 0, 20)
			       ? parse_ethertype(&d, type, 20)
			       : malformed(&d, "SLL2 header cut short");
		break;
	case DLT_RAW:
	case LINKTYPE_RAW_VALUE:
	case LINKTYPE_RAW_OPENBSD:
		kind = parse_ip(&d, 0);
		break;
	case DLT_IPV4:
		kind = parse_ipv4(&d, 0);
		break;
	case DLT_IPV6:
		kind = parse_ipv6(&d, 0);
		break;
	case DLT_NULL:
	case LINKTYPE_LOOP_VALUE:
		kind = parse_null(&d);
		break;
	default:
		kind = other(&d, "unsupported link type");
		break;
	}
	if (why)
		*why = kind == PACKET_KIND_TCP ? "" : d.why;
	return kind;
}

void packet_tunnel_names(uint32_t tunnels, char *buf, size_t buf_len)
{
	static const char *const names[] = { "VXLAN", "Geneve",	   "GRE",	"IP in IP",
					     "GRE",   "GTP-U",	   "L2TP",	"VXLAN-GPE",
					     "MPLS",  "other payload" };
	size_t used = 0;

	if (buf_len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(tunnels & (1u << i)) || used >= buf_len)
			continue;
		/* GRE of another kind reads "GRE" too: name it once */
		if (i == 4 && (tunnels & PACKET_TUNNEL_GRE))
			continue;
		n = snprintf(buf + used, buf_len - used, "%s%s", used ? ", " : "", names[i]);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

bool packet_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case LINKTYPE_RAW_VALUE:
	case LINKTYPE_RAW_OPENBSD:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case LINKTYPE_LOOP_VALUE:
		return true;
	default:
		return false;
	}
}

void packet_addr_str(int family, const uint8_t *addr, char *buf, size_t buf_len)
{
	if (inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)buf_len) ==
	    NULL)
		snprintf(buf, buf_len, "?");
}
