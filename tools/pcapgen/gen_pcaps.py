#!/usr/bin/python3
"""gen_pcaps: writes tcplab's reference captures into lab/tests/pcaps/ (or the
directory given as the only argument). Each capture tells one small story with
a known outcome; flow_test.c asserts those outcomes and the tshark cross-check
compares every tcp.analysis flag with Wireshark's. The output is deterministic:
running this again rewrites identical files.

usage: tools/pcapgen/gen_pcaps.py [OUTDIR]
"""
import os
import struct
import sys

from scapy.all import IP, UDP, Raw, TCP  # noqa: F401

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcpgen  # noqa: E402
from tcpgen import Conv  # noqa: E402

S = 1000000  # one second in microseconds


def basic_echo(**kw):
    """Client sends 16 bytes, server echoes them, client closes."""
    c = Conv(**kw)
    c.handshake()
    c.data('c', 16)
    c.ack('s')
    c.data('s', 16)
    c.ack('c')
    c.close('c')
    return c.packets


def refused():
    """A SYN to a port where nothing listens draws RST/ACK."""
    c = Conv()
    c.seg('c', 'S', options=[('MSS', 65495)], dt_us=0)
    c.deliver('c')
    c.seg('s', 'RA', seq=0, win=0)
    return c.packets


def unanswered():
    """A SYN nobody answers, retransmitted after 1 s and 3 s."""
    c = Conv()
    isn = c.seg('c', 'S', options=[('MSS', 65495)], dt_us=0)
    c.seg('c', 'S', seq=isn, options=[('MSS', 65495)], dt_us=1 * S)
    c.seg('c', 'S', seq=isn, options=[('MSS', 65495)], dt_us=2 * S)
    return c.packets


def retransmission():
    """A data segment lost after the capture point, resent after 200 ms."""
    c = Conv()
    c.handshake()
    seq = c.data('c', 100, deliver=False)
    c.data('c', 100, seq=seq, dt_us=200000)
    c.ack('s')
    c.close('c')
    return c.packets


def spurious():
    """The ACK is slow; the sender resends data that was already ACKed."""
    c = Conv()
    c.handshake()
    seq = c.data('c', 100)
    c.ack('s', dt_us=300000)
    c.data('c', 100, seq=seq, dt_us=1000)
    c.ack('s')
    c.close('c')
    return c.packets


def fast_retransmission():
    """One segment lost after the capture point; three duplicate ACKs with SACK
    blocks bring its fast retransmission (RFC 5681 §3.2)."""
    c = Conv()
    c.handshake()
    c.data('c', 100)
    c.ack('s')
    hole = c.data('c', 1000, deliver=False)
    for _ in range(3):
        c.data('c', 1000, deliver=False, dt_us=50)
        c.ack('s', dt_us=50, options=[('SAck', (hole + 1000, c.seq['c']))])
    c.data('c', 1000, seq=hole, dt_us=100)
    c.deliver('c')
    c.ack('s')
    c.close('c')
    return c.packets


def out_of_order():
    """Two segments swapped on the way: the second arrives 1 ms before the
    first (handshake RTT 10 ms, so Wireshark calls it out-of-order)."""
    c = Conv()
    c.handshake(rtt_us=10000)
    first = c.seq['c']
    c.seq['c'] = first + 500
    c.data('c', 500)
    c.data('c', 500, seq=first, dt_us=1000, advance=False)
    c.ack('s')
    c.close('c')
    return c.packets


def lost_segment():
    """A segment the capture missed: the next one starts beyond it, and the
    ACK covers data the capture never saw."""
    c = Conv()
    c.handshake()
    c.seq['c'] += 700
    c.data('c', 300)
    c.ack('s')
    c.close('c')
    return c.packets


def zero_window():
    """The server's application stops reading: zero window, three 1-byte
    probes each answered with a zero window, then a window update."""
    c = Conv(win=(65535, 512))
    c.handshake()
    c.data('c', 4000, dt_us=100)
    c.ack('s', win=32)
    c.data('c', 4096)
    c.ack('s', win=0)
    probe = c.seq['c']
    for i in range(3):
        c.data('c', 1, seq=probe, advance=False, deliver=False, flags='A',
               dt_us=200000 << i)
        c.ack('s', win=0, dt_us=50)
    c.ack('s', win=512, dt_us=1 * S)
    c.data('c', 1000)
    c.ack('s')
    c.close('c')
    return c.packets


def zero_window_linux():
    """Linux probes a zero window with a keep-alive-shaped segment (seq one
    below the next, no data): Wireshark says keep-alive, tcplab window probe."""
    c = Conv(win=(65535, 512))
    c.handshake()
    c.data('c', 4000)
    c.ack('s', win=0)
    for i in range(3):
        c.ack('c', seq=c.seq['c'] - 1, dt_us=200000 << i)
        c.ack('s', win=0, dt_us=50)
    c.ack('s', win=512, dt_us=1 * S)
    c.data('c', 1000)
    c.ack('s')
    c.close('c')
    return c.packets


def window_full(wscale=(None, None)):
    """The client sends exactly up to the right edge of the server's window."""
    c = Conv(win=(65535, 1000), wscale=wscale)
    c.handshake()
    c.ack('s', win=1000)
    c.data('c', 600)
    c.data('c', 400)
    c.ack('s', win=0)
    c.ack('s', win=1000, dt_us=5000)
    c.data('c', 10)
    c.ack('s')
    c.close('c')
    return c.packets


def window_scaled():
    """Scaled windows (RFC 7323): the server's window 125 << 3 = 1000 bytes.
    Window updates compare the raw field, window full the scaled edge."""
    c = Conv(win=(65535, 1000), wscale=(2, 3))
    c.handshake()
    c.ack('s', win=125)
    c.data('c', 600)
    c.data('c', 400)
    c.ack('s', win=0)
    c.ack('s', win=125, dt_us=5000)
    c.data('c', 10)
    c.ack('s', win=125)
    c.close('s')
    return c.packets


def window_scale_one_side():
    """Only the server offers window scaling: neither side scales (RFC 7323
    §2.2), so the SYN/ACK's 1000 bytes is the window the client fills."""
    c = Conv(win=(65535, 1000), wscale=(None, 3))
    c.handshake()
    c.data('c', 1000)
    c.ack('s', win=1000)
    c.close('c')
    return c.packets


def keepalive():
    """An idle connection kept alive by the client: two empty keep-alives and
    one with a garbage byte (RFC 1122 §4.2.3.6), each answered."""
    c = Conv()
    c.handshake()
    c.data('c', 10)
    c.ack('s')
    for i in range(2):
        c.ack('c', seq=c.seq['c'] - 1, dt_us=75 * S)
        c.ack('s', dt_us=50)
    c.data('c', 1, seq=c.seq['c'] - 1, advance=False, deliver=False, flags='A',
           dt_us=75 * S)
    c.ack('s', dt_us=50)
    c.close('s')
    return c.packets


def rst_midstream():
    """The server aborts: RST after the client's data."""
    c = Conv()
    c.handshake()
    c.data('c', 20)
    c.ack('s')
    c.seg('s', 'RA')
    return c.packets


def port_reuse():
    """Two connections on the same four-tuple, one after the other."""
    first = Conv(isn=(1000, 5000))
    first.handshake()
    first.data('c', 5)
    first.ack('s')
    first.close('c')
    second = Conv(isn=(900000, 7000000), t0_us=first.t_us + 2 * S)
    second.handshake()
    second.data('c', 7)
    second.ack('s')
    second.close('s')
    return first.packets + second.packets


def midstream():
    """The capture starts mid-connection: no SYN. The first packet is the
    server's data, so only the ports say who is the client."""
    c = Conv(isn=(123456, 654321))
    c.rcv = {'c': 654321, 's': 123456}
    c.data('s', 50)
    c.ack('c')
    c.data('c', 30)
    c.ack('s')
    c.close('s')
    return c.packets


def seq_wrap():
    """Sequence numbers wrap past 2^32 during the transfer, with a
    retransmission across the wrap."""
    c = Conv(isn=(0xffffff00, 0xfffffff0))
    c.handshake()
    c.data('c', 200)
    c.ack('s')
    seq = c.data('c', 300, deliver=False)
    c.data('c', 300, seq=seq, dt_us=200000)
    c.ack('s')
    c.data('s', 100)
    c.ack('c')
    c.close('c')
    return c.packets


def bulk():
    """A bulk transfer (40 segments of 200 bytes with ACKs) with one retransmission in the
    middle: show folds the ordinary runs around it."""
    c = Conv()
    c.handshake()
    for i in range(40):
        if i == 20:
            seq = c.data('c', 200, deliver=False)
            c.data('c', 200, seq=seq, dt_us=200000)
        else:
            c.data('c', 200, flags='A')
        c.ack('s', dt_us=20)
    c.close('c')
    return c.packets


def nextseq_minus_one():
    """Wireshark's exception: a segment of more than one byte starting one
    below the next expected seq brings new data (the byte before it was
    likely a zero-window probe's), so it is neither out-of-order (the first,
    1 ms after, within the 10 ms RTT) nor a retransmission (the second, 50 ms
    after)."""
    c = Conv()
    c.handshake(rtt_us=10000)
    c.data('c', 100)
    c.ack('s')
    c.data('c', 100, seq=c.seq['c'] - 1, dt_us=1000)
    c.ack('s')
    c.data('c', 100, seq=c.seq['c'] - 1, dt_us=50000)
    c.ack('s')
    c.close('c')
    return c.packets


def dup_ack_storm():
    """A request, then a segment lost after the capture point while the client
    keeps sending: 300 duplicate ACKs (with SACK) before the fast retransmission
    repairs the hole. show keeps the turns and the first dup ack as rows and
    folds the rest with a count per note."""
    c = Conv()
    c.handshake()
    c.data('c', 100)
    c.ack('s')
    c.data('s', 50)
    c.ack('c')
    hole = c.data('c', 1000, deliver=False)
    for _ in range(300):
        c.data('c', 1000, deliver=False, dt_us=50)
        c.ack('s', dt_us=50, options=[('SAck', (hole + 1000, c.seq['c']))])
    c.data('c', 1000, seq=hole, dt_us=100)
    c.deliver('c')
    c.ack('s')
    c.close('c')
    return c.packets


def big_tcp():
    """BIG TCP (or TSO seen before segmentation): 80 000-byte segments whose
    IPv4 total length is 0, so only the frame says how long they are; the
    capture keeps the first 200 bytes of each frame."""
    c = Conv()
    c.handshake()
    for _ in range(3):
        c.data('c', 80000, flags='A', ip_kw={'len': 0})
    c.ack('s')
    c.close('c')
    return c.packets


def ip_len_beyond_frame():
    """IPv4 total lengths larger than the frame: the 100 bytes the frame
    holds are analysed (tshark notes the length and dissects what is there);
    the second data segment repeats the first."""
    c = Conv()
    c.handshake()
    seq = c.data('c', 100, ip_kw={'len': 1500})
    c.data('c', 100, seq=seq, dt_us=200000, ip_kw={'len': 1500})
    c.ack('s')
    c.close('c')
    return c.packets


def _wrap_tunnel(kind, inner_ip, sport):
    """inner IPv4 bytes inside `kind`, between 10.0.0.1 and 10.0.0.2."""
    eth = b'\x02' + b'\0' * 5 + b'\x02' + b'\0' * 4 + b'\x01' + b'\x08\x00'
    outer = dict(src='10.0.0.1', dst='10.0.0.2')
    if kind == 'vxlan':  # RFC 7348: I flag, VNI 42, then Ethernet
        head = struct.pack('>II', 0x08000000, 42 << 8)
        return bytes(IP(**outer) / UDP(sport=sport, dport=4789, chksum=0) /
                     Raw(head + eth + inner_ip))
    if kind == 'geneve':  # RFC 8926: one 4-byte option, Ethernet inside
        head = struct.pack('>BBHI', 1, 0, 0x6558, 42 << 8) + struct.pack('>HBB', 0x0102, 3, 0)
        return bytes(IP(**outer) / UDP(sport=sport, dport=6081, chksum=0) /
                     Raw(head + eth + inner_ip))
    if kind == 'gre_teb':  # RFC 2890 key, transparent Ethernet bridging
        head = struct.pack('>HHI', 0x2000, 0x6558, 7)
        return bytes(IP(proto=47, **outer) / Raw(head + eth + inner_ip))
    if kind == 'gre_ip':  # RFC 2784, IPv4 inside
        return bytes(IP(proto=47, **outer) / Raw(struct.pack('>HH', 0, 0x0800) + inner_ip))
    if kind == 'ipip':  # RFC 2003
        return bytes(IP(proto=4, **outer) / Raw(inner_ip))
    if kind == 'gtpu':  # GTP-U (not opened by tcplab): G-PDU, TEID 1
        head = struct.pack('>BBHI', 0x30, 0xff, len(inner_ip), 1)
        return bytes(IP(**outer) / UDP(sport=2152, dport=2152, chksum=0) / Raw(head + inner_ip))
    raise ValueError(kind)


def tunnels():
    """TCP inside VXLAN, Geneve, GRE (Ethernet and IPv4 inside) and IP in IP,
    each connection with a retransmission; and inside GTP-U, which tcplab
    counts as a tunnel it does not open (its connection has no flag, so the
    counts still equal tshark's, which opens it)."""
    packets = []
    kinds = ['vxlan', 'geneve', 'gre_teb', 'gre_ip', 'ipip', 'gtpu']
    for i, kind in enumerate(kinds):
        c = Conv(client=('127.0.0.1', 40001 + i), t0_us=1700000000 * S + i * 10 * S)
        c.handshake()
        if kind == 'gtpu':
            c.data('c', 16)
        else:
            seq = c.data('c', 100, deliver=False)
            c.data('c', 100, seq=seq, dt_us=200000)
        c.ack('s')
        c.close('c')
        packets += [(t, _wrap_tunnel(kind, ip, 50000 + i)) for t, ip in c.packets]
    return packets


def write_multi_link(path):
    """A pcapng as `dumpcap -i lo -i any` writes it, and more: section 1
    (little-endian) has lo (Ethernet, microseconds), any (Linux cooked,
    nanoseconds; every packet again, as on a real host) and an interface of
    a link type tcplab does not decode (USER0); section 2 (big-endian) has
    one Ethernet interface with a binary time resolution (2^-20 s) and a
    time offset, and holds a simple and an obsolete packet block."""
    first = Conv()
    first.handshake()
    first.data('c', 16)
    first.ack('s')
    first.close('c')
    recs1 = []
    for t_us, ip in first.packets:
        recs1.append(('epb', 0, t_us, tcpgen.link_frame(tcpgen.DLT_EN10MB, ip, False)))
        recs1.append(('epb', 1, t_us + 3,
                      tcpgen.link_frame(tcpgen.DLT_LINUX_SLL, ip, False, outgoing=True)))
    recs1.append(('epb', 2, first.t_us + 10, b'\x01\x02\x03\x04 opaque record'))
    second = Conv(client=('127.0.0.1', 40002), t0_us=first.t_us + 5 * S)
    second.handshake()
    second.data('c', 30)
    second.ack('s')
    second.data('s', 30)
    second.ack('c')
    second.close('s')
    recs2 = []
    for n, (t_us, ip) in enumerate(second.packets):
        frame = tcpgen.link_frame(tcpgen.DLT_EN10MB, ip, False)
        kind = 'opb' if n == 3 else ('spb' if n == 4 else 'epb')
        recs2.append((kind, 0, t_us, frame))
    tcpgen.write_pcapng(path, [
        {'order': '<', 'ifaces': [(tcpgen.DLT_EN10MB, None, None, 262144),
                                  (tcpgen.DLT_LINUX_SLL, 9, None, 262144),
                                  (147, None, None, 65535)],
         'records': sorted(recs1, key=lambda r: r[2])},
        {'order': '>', 'ifaces': [(tcpgen.DLT_EN10MB, 0x94, 1700000000, 262144)],
         'records': recs2},
    ])


def write_mixed(path):
    """Not only TCP: UDP, ARP, an IPv4 non-first fragment, a frame cut inside
    the TCP header (malformed), plus a normal connection."""
    base = 1700000000 * S
    recs = []
    tcp = Conv(t0_us=base + 1000)
    tcp.handshake()
    tcp.data('c', 16)
    tcp.ack('s')
    tcp.close('c')
    for t_us, ip in tcp.packets:
        recs.append((t_us, b'\0' * 12 + b'\x08\x00' + ip, None))
    udp = bytes(IP(src='127.0.0.1', dst='127.0.0.1') / UDP(sport=5353, dport=5353) /
                Raw(b'hello'))
    recs.append((base + 10, b'\0' * 12 + b'\x08\x00' + udp, None))
    arp = b'\xff' * 6 + b'\0' * 6 + b'\x08\x06' + bytes(28)
    recs.append((base + 20, arp, None))
    frag = bytes(IP(src='127.0.0.1', dst='127.0.0.1', proto=6, frag=100) / Raw(b'x' * 40))
    recs.append((base + 30, b'\0' * 12 + b'\x08\x00' + frag, None))
    cut = bytes(IP(src='127.0.0.1', dst='127.0.0.1') / TCP(sport=1, dport=2) / Raw(b'y'))
    recs.append((base + 40, b'\0' * 12 + b'\x08\x00' + cut, 14 + 20 + 10))
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, tcpgen.DLT_EN10MB))
        for t_us, frame, cap in sorted(recs, key=lambda r: r[0]):
            data = frame[:cap] if cap else frame
            f.write(struct.pack('<IIII', t_us // S, t_us % S, len(data), len(frame)))
            f.write(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', '..', 'lab',
                                                              'tests', 'pcaps')
    os.makedirs(out, exist_ok=True)
    v6 = dict(client=('::1', 40000), server=('::1', 1060), v6=True)
    L = tcpgen
    captures = [
        ('basic_echo', basic_echo(), L.DLT_EN10MB, {}),
        ('refused', refused(), L.DLT_EN10MB, {}),
        ('unanswered', unanswered(), L.DLT_EN10MB, {}),
        ('retransmission', retransmission(), L.DLT_EN10MB, {}),
        ('spurious', spurious(), L.DLT_EN10MB, {}),
        ('fast_retransmission', fast_retransmission(), L.DLT_EN10MB, {}),
        ('out_of_order', out_of_order(), L.DLT_EN10MB, {}),
        ('lost_segment', lost_segment(), L.DLT_EN10MB, {}),
        ('zero_window', zero_window(), L.DLT_EN10MB, {}),
        ('zero_window_linux', zero_window_linux(), L.DLT_EN10MB, {}),
        ('window_full', window_full(), L.DLT_EN10MB, {}),
        ('window_full_scaled', window_full(wscale=(2, 3)), L.DLT_EN10MB, {}),
        ('window_scaled', window_scaled(), L.DLT_EN10MB, {}),
        ('window_scale_one_side', window_scale_one_side(), L.DLT_EN10MB, {}),
        ('keepalive', keepalive(), L.DLT_EN10MB, {}),
        ('rst_midstream', rst_midstream(), L.DLT_EN10MB, {}),
        ('port_reuse', port_reuse(), L.DLT_EN10MB, {}),
        ('midstream', midstream(), L.DLT_EN10MB, {}),
        ('seq_wrap', seq_wrap(), L.DLT_EN10MB, {}),
        ('bulk', bulk(), L.DLT_EN10MB, {}),
        ('dup_ack_storm', dup_ack_storm(), L.DLT_EN10MB, {}),
        ('link_vlan', basic_echo(), L.DLT_EN10MB, {'vlan': 42}),
        ('link_sll', basic_echo(), L.DLT_LINUX_SLL, {}),
        ('link_sll2', basic_echo(), L.DLT_LINUX_SLL2, {}),
        ('link_raw', basic_echo(), L.DLT_RAW, {}),
        ('link_raw6', basic_echo(**v6), L.DLT_RAW, {'v6': True}),
        ('link_ipv4', basic_echo(), L.DLT_IPV4, {}),
        ('link_ipv6', basic_echo(**v6), L.DLT_IPV6, {'v6': True}),
        ('link_null', basic_echo(), L.DLT_NULL, {}),
        ('link_null6', basic_echo(**v6), L.DLT_NULL, {'v6': True, 'af6': 28}),
        ('link_loop6', basic_echo(**v6), L.DLT_LOOP, {'v6': True, 'af6': 24}),
        ('ipv6_destopts', basic_echo(dest_opts=True, **v6), L.DLT_EN10MB, {'v6': True}),
        ('snaplen', bulk(), L.DLT_EN10MB, {'snaplen': 96}),
        ('nextseq_minus_one', nextseq_minus_one(), L.DLT_EN10MB, {}),
        ('big_tcp', big_tcp(), L.DLT_EN10MB, {'snaplen': 200}),
        ('ip_len_beyond_frame', ip_len_beyond_frame(), L.DLT_EN10MB, {}),
        ('tunnels', tunnels(), L.DLT_EN10MB, {}),
    ]
    for name, packets, linktype, kw in captures:
        tcpgen.write_pcap(os.path.join(out, name + '.pcap'), packets, linktype, **kw)
    write_mixed(os.path.join(out, 'mixed.pcap'))
    write_multi_link(os.path.join(out, 'multi_link.pcapng'))


if __name__ == '__main__':
    main()
