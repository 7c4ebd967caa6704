#!/usr/bin/python3
"""tcpgen: build small TCP conversations packet by packet, with exact control of
sequence numbers, windows and timestamps, and write them as pcap files of any
link type. Scapy builds the IP/TCP bytes (checksums included); the link-layer
headers and the pcap records are written here so that every link type tcplab
reads (Ethernet, VLAN, SLL, SLL2, raw, IPv4/IPv6, BSD null/loop) is covered.

A conversation tracks, per side ('c' client, 's' server), the next sequence
number it sends and the next it expects, so a story reads like packetdrill:

    conv = Conv()
    conv.handshake()
    conv.data('c', 16)          # client sends 16 bytes
    conv.ack('s')               # server acknowledges them
"""
import struct

from scapy.all import IP, IPv6, TCP, IPv6ExtHdrDestOpt  # noqa: F401

DLT_NULL = 0
DLT_EN10MB = 1
DLT_RAW = 101          # LINKTYPE_RAW as stored in files
DLT_LOOP = 108
DLT_LINUX_SLL = 113
DLT_IPV4 = 228
DLT_IPV6 = 229
DLT_LINUX_SLL2 = 276

MASK32 = 0xffffffff


class Conv:
    """One TCP connection between a client and a server."""

    def __init__(self, client=('127.0.0.1', 40000), server=('127.0.0.1', 1060),
                 isn=(1000, 5000), t0_us=1700000000 * 1000000, win=(65535, 65535),
                 wscale=(7, 7), mss=(65495, 65495), v6=False, dest_opts=False):
        self.addr = {'c': client, 's': server}
        self.seq = {'c': isn[0], 's': isn[1]}     # next seq each side sends
        self.rcv = {'c': 0, 's': 0}               # next seq each side expects
        self.win = {'c': win[0], 's': win[1]}     # raw window each side advertises
        self.wscale = {'c': wscale[0], 's': wscale[1]}
        self.mss = {'c': mss[0], 's': mss[1]}
        self.t_us = t0_us
        self.v6 = v6
        self.dest_opts = dest_opts
        self.packets = []                         # (time_us, ip bytes)

    def other(self, side):
        return 's' if side == 'c' else 'c'

    def seg(self, side, flags, payload_len=0, seq=None, ack=None, win=None,
            options=None, dt_us=100, advance=True, payload=None, ip_kw=None):
        """Emit one segment from `side`; returns its seq. With advance, the
        sender's next seq moves past the payload (and SYN/FIN)."""
        self.t_us += dt_us
        src, dst = self.addr[side], self.addr[self.other(side)]
        if seq is None:
            seq = self.seq[side]
        if ack is None:
            ack = self.rcv[side] if 'A' in flags else 0
        if win is None:
            win = self.win[side]
        if payload is None:
            payload = bytes((i * 7 + 1) & 0xff for i in range(payload_len))
        tcp = TCP(sport=src[1], dport=dst[1], seq=seq & MASK32, ack=ack & MASK32,
                  flags=flags, window=win, options=options or [])
        if self.v6:
            ip = IPv6(src=src[0], dst=dst[0])
            if self.dest_opts:
                ip = ip / IPv6ExtHdrDestOpt()
        else:
            ip = IP(src=src[0], dst=dst[0], id=len(self.packets) + 1, **(ip_kw or {}))
        self.packets.append((self.t_us, bytes(ip / tcp / payload)))
        if advance:
            end = seq + len(payload) + (1 if ('S' in flags or 'F' in flags) else 0)
            if ((end - self.seq[side]) & MASK32) < 0x80000000:
                self.seq[side] = end & MASK32
        return seq

    def deliver(self, side):
        """The peer of `side` has received everything `side` sent."""
        self.rcv[self.other(side)] = self.seq[side]

    def handshake(self, rtt_us=100, opts=True):
        c_opts = s_opts = []
        if opts:
            c_opts = [('MSS', self.mss['c']), ('SAckOK', b''),
                      ('Timestamp', (1, 0)), ('NOP', None),
                      ('WScale', self.wscale['c'])]
            s_opts = [('MSS', self.mss['s']), ('SAckOK', b''),
                      ('Timestamp', (2, 1)), ('NOP', None),
                      ('WScale', self.wscale['s'])]
        if not opts or self.wscale['c'] is None:
            c_opts = [o for o in c_opts if o[0] != 'WScale']
        if not opts or self.wscale['s'] is None:
            s_opts = [o for o in s_opts if o[0] != 'WScale']
        self.seg('c', 'S', options=c_opts, win=self.win['c'], dt_us=0)
        self.deliver('c')
        self.seg('s', 'SA', options=s_opts, win=self.win['s'], dt_us=rtt_us // 2)
        self.deliver('s')
        self.seg('c', 'A', dt_us=rtt_us // 2)

    def data(self, side, n, dt_us=100, flags='PA', deliver=True, **kw):
        seq = self.seg(side, flags, payload_len=n, dt_us=dt_us, **kw)
        if deliver:
            self.deliver(side)
        return seq

    def ack(self, side, dt_us=100, **kw):
        return self.seg(side, 'A', dt_us=dt_us, **kw)

    def fin(self, side, dt_us=100):
        self.seg(side, 'FA', dt_us=dt_us)
        self.deliver(side)

    def close(self, first='c', dt_us=100):
        """FIN from `first`, FIN/ACK back, last ACK."""
        self.fin(first, dt_us)
        self.fin(self.other(first), dt_us)
        self.ack(first, dt_us)


# ---- link layers and the pcap file -------------------------------------------

AF_INET = 2


def link_frame(linktype, ip, v6, outgoing=False, vlan=None, af6=30, null_order='<'):
    ethertype = 0x86dd if v6 else 0x0800
    if linktype == DLT_EN10MB:
        head = b'\0' * 12
        if vlan is not None:
            head += struct.pack('>HH', 0x8100, vlan)
        return head + struct.pack('>H', ethertype) + ip
    if linktype == DLT_LINUX_SLL:
        # packet type, ARPHRD_LOOPBACK, address length, address, protocol
        return struct.pack('>HHH8sH', 4 if outgoing else 0, 772, 6, b'\0' * 8,
                           ethertype) + ip
    if linktype == DLT_LINUX_SLL2:
        # protocol, reserved, ifindex, ARPHRD_LOOPBACK, packet type, addr len, addr
        return struct.pack('>HHIHBB8s', ethertype, 0, 1, 772,
                           4 if outgoing else 0, 6, b'\0' * 8) + ip
    if linktype in (DLT_RAW, DLT_IPV4, DLT_IPV6):
        return ip
    if linktype in (DLT_NULL, DLT_LOOP):
        af = af6 if v6 else AF_INET
        order = '>' if linktype == DLT_LOOP else null_order
        return struct.pack(order + 'I', af) + ip
    raise ValueError('link type %d' % linktype)


def write_pcap(path, packets, linktype=DLT_EN10MB, snaplen=262144, v6=False,
               **link_kw):
    """packets: list of (time_us, ip bytes), written in time order."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype))
        for t_us, ip in sorted(packets, key=lambda p: p[0]):
            frame = link_frame(linktype, ip, v6, **link_kw)
            cap = frame[:snaplen]
            f.write(struct.pack('<IIII', t_us // 1000000, t_us % 1000000,
                                len(cap), len(frame)))
            f.write(cap)


# ---- pcapng: several interfaces, both byte orders, odd time resolutions ----

def _pad4(b):
    return b + b'\0' * (-len(b) % 4)


def _block(order, btype, body):
    body = _pad4(body)
    total = 12 + len(body)
    return struct.pack(order + 'II', btype, total) + body + struct.pack(order + 'I', total)


def _option(order, code, value):
    return struct.pack(order + 'HH', code, len(value)) + _pad4(value)


def units_per_s(tsresol):
    if tsresol is None:
        return 1000000
    if tsresol & 0x80:
        return 1 << (tsresol & 0x7f)
    return 10 ** tsresol


def write_pcapng(path, sections):
    """sections: list of dicts with
         order: '<' or '>' (the section's byte order)
         ifaces: list of (linktype, tsresol or None, tsoffset_s or None, snaplen)
         records: list of (kind, iface, time_us, frame[, caplen]) with kind
                  'epb', 'spb' (interface 0, no time) or 'opb' (obsolete).
    Times are written in each interface's resolution, minus its offset."""
    with open(path, 'wb') as f:
        for sec in sections:
            o = sec['order']
            shb = struct.pack(o + 'IHHq', 0x1A2B3C4D, 1, 0, -1)
            f.write(_block(o, 0x0A0D0D0A, shb))
            for linktype, tsresol, tsoffset, snaplen in sec['ifaces']:
                opts = b''
                if tsresol is not None:
                    opts += _option(o, 9, bytes([tsresol]))
                if tsoffset is not None:
                    opts += _option(o, 14, struct.pack(o + 'q', tsoffset))
                if opts:
                    opts += _option(o, 0, b'')
                f.write(_block(o, 1, struct.pack(o + 'HHI', linktype, 0, snaplen) + opts))
            for rec in sec['records']:
                kind, iface, t_us, frame = rec[:4]
                cap = rec[4] if len(rec) > 4 else len(frame)
                linktype, tsresol, tsoffset, snaplen = sec['ifaces'][iface]
                ts = (t_us - (tsoffset or 0) * 1000000) * units_per_s(tsresol) // 1000000
                if kind == 'epb':
                    body = struct.pack(o + 'IIIII', iface, ts >> 32, ts & MASK32, cap,
                                       len(frame)) + frame[:cap]
                    f.write(_block(o, 6, body))
                elif kind == 'opb':
                    body = struct.pack(o + 'HHIIII', iface, 0, ts >> 32, ts & MASK32, cap,
                                       len(frame)) + frame[:cap]
                    f.write(_block(o, 2, body))
                elif kind == 'spb':
                    f.write(_block(o, 3, struct.pack(o + 'I', len(frame)) + frame))
                else:
                    raise ValueError(kind)
