/* packet: decodes one captured frame down to its TCP header (link layer, IPv4 or
 * IPv6, the tunnels VXLAN, Geneve, GRE and IP in IP, TCP and its options).
 * Every byte is read through bounds-checked helpers:
 * a frame cut short is reported, never read past its end. It keeps no state and
 * does no flow analysis (that is flow.c). */
#ifndef TCPLAB_PACKET_H
#define TCPLAB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCP header flag bits (RFC 9293 §3.1, RFC 3168 §6.1 for ECE/CWR). */
enum {
	PACKET_TCP_FIN = 0x01,
	PACKET_TCP_SYN = 0x02,
	PACKET_TCP_RST = 0x04,
	PACKET_TCP_PSH = 0x08,
	PACKET_TCP_ACK = 0x10,
	PACKET_TCP_URG = 0x20,
	PACKET_TCP_ECE = 0x40,
	PACKET_TCP_CWR = 0x80,
};

enum packet_kind {
	PACKET_KIND_TCP,       /* decoded: see struct packet_tcp */
	PACKET_KIND_OTHER,     /* well formed but not TCP (ARP, UDP, IP fragment...) */
	PACKET_KIND_MALFORMED, /* cut short before the end of the TCP header, or corrupt */
	PACKET_KIND_TUNNEL,    /* a tunnel the decoder does not open (tunnels says which) */
};

/* Tunnels, as bits of packet_tcp.tunnels: the first four are opened and the
 * TCP inside analysed; the others are recognised but not opened. */
enum packet_tunnel {
	PACKET_TUNNEL_VXLAN = 1u << 0,  /* UDP port 4789, RFC 7348 */
	PACKET_TUNNEL_GENEVE = 1u << 1, /* UDP port 6081, RFC 8926 */
	PACKET_TUNNEL_GRE = 1u << 2,    /* IP protocol 47, RFC 2784/2890 */
	PACKET_TUNNEL_IPIP = 1u << 3,   /* IP protocols 4 and 41, RFC 2003/4213 */
	PACKET_TUNNEL_GRE_OTHER = 1u << 4, /* GRE of another version or payload */
	PACKET_TUNNEL_GTP_U = 1u << 5,     /* UDP port 2152 */
	PACKET_TUNNEL_L2TP = 1u << 6,      /* UDP port 1701 */
	PACKET_TUNNEL_VXLAN_GPE = 1u << 7, /* UDP port 4790 */
	PACKET_TUNNEL_MPLS = 1u << 8,      /* MPLS in IP (137) or in UDP (6635) */
	PACKET_TUNNEL_OTHER_PAYLOAD = 1u << 9, /* an opened tunnel carrying neither
						  Ethernet nor IP */
};

#define PACKET_SACK_MAX 4

struct packet_tcp {
	int family;           /* AF_INET or AF_INET6 */
	uint8_t src_addr[16]; /* IPv4 uses the first 4 bytes */
	uint8_t dst_addr[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;          /* PACKET_TCP_* bits */
	uint16_t window;        /* as on the wire, unscaled */
	uint32_t payload_bytes; /* from the IP length fields, not from caplen */
	uint32_t captured_payload_bytes;
	bool truncated; /* headers complete, payload cut by the snaplen */
	/* options (RFC 9293 §3.2, RFC 7323, RFC 2018) */
	bool has_mss;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale;
	bool sack_permitted;
	unsigned sack_count;
	uint32_t sack_left[PACKET_SACK_MAX];
	uint32_t sack_right[PACKET_SACK_MAX];
	bool has_timestamps;
	uint32_t ts_val;
	uint32_t ts_ecr;
	bool options_malformed; /* an option ran past the header; the rest ignored */
	uint32_t tunnels;       /* packet_tunnel bits of the tunnels around it */
};

/* Decodes one frame of the given pcap link type (DLT_* value as returned by
 * pcap_datalink). caplen bytes are available at data; wire_len is the frame's
 * length on the wire. Fills *tcp for PACKET_KIND_TCP (and its tunnels for
 * PACKET_KIND_TUNNEL). *why (may be NULL) receives a static string saying why
 * a frame is OTHER, TUNNEL or MALFORMED. */
enum packet_kind packet_decode(int linktype, const uint8_t *data, size_t caplen, size_t wire_len,
			       struct packet_tcp *tcp, const char **why);

/* "VXLAN, GRE" for the packet_tunnel bits in `tunnels`. */
void packet_tunnel_names(uint32_t tunnels, char *buf, size_t buf_len);

/* True when packet_decode knows the link type. */
bool packet_linktype_supported(int linktype);

/* "192.0.2.1" or "2001:db8::1" into buf (at least 46 bytes). */
void packet_addr_str(int family, const uint8_t *addr, char *buf, size_t buf_len);

#endif
