#!/usr/bin/python3
"""gen_bench: writes a large synthetic capture for bench/flow_bench.sh, fast
(struct packing from templates, not scapy per packet): PACKETS TCP packets on
Ethernet, spread over connections of about 100 packets each, 64 of them open
at a time and interleaved. Anomalies on a fixed schedule: every 25th data
segment is retransmitted 200 ms later, every 10th connection ends in a RST,
every 7th has a zero-window episode. Checksums are left zero (tshark does not
check them by default, tcplab never does).

usage: tools/pcapgen/gen_bench.py OUT.pcap [PACKETS]
"""
import struct
import sys

ETH = b'\0' * 12 + b'\x08\x00'
PAYLOAD = bytes(range(64))
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def ip_tcp(src, dst, sport, dport, seq, ack, flags, win, payload=b''):
    total = 40 + len(payload)
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    tcp = struct.pack('>HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      5 << 4, flags, win, 0, 0)
    return ETH + ip + tcp + payload


def connection(n):
    """The packets of connection n as (offset_us, frame) pairs."""
    c_ip = bytes((10, 1, (n >> 8) & 0xff, n & 0xff))
    s_ip = bytes((10, 0, 0, 1))
    cp, sp = 20000 + n % 40000, 1060
    cseq, sseq = (n * 2654435761) & 0xffffffff, (n * 40503 + 7) & 0xffffffff
    out = []
    t = 0

    def c2s(flags, payload=b'', seq=None, win=512):
        out.append((t, ip_tcp(c_ip, s_ip, cp, sp, cseq if seq is None else seq,
                              sseq, flags, win, payload)))

    def s2c(flags, win=512):
        out.append((t, ip_tcp(s_ip, c_ip, sp, cp, sseq, cseq, flags, win)))

    c2s(SYN, win=65535)
    cseq += 1
    t += 50
    s2c(SYN | ACK, win=65535)
    sseq += 1
    t += 50
    c2s(ACK)
    for i in range(46):
        t += 100
        if n % 7 == 0 and i == 30:
            s2c(ACK, win=0)          # zero window ...
            t += 200000
            s2c(ACK, win=512)        # ... and its window update
            t += 100
        c2s(PSH | ACK, PAYLOAD)
        if (n * 46 + i) % 25 == 0:
            t += 200000
            c2s(PSH | ACK, PAYLOAD)  # retransmission
        cseq += len(PAYLOAD)
        t += 20
        s2c(ACK)
    t += 100
    if n % 10 == 0:
        s2c(RST | ACK)
    else:
        c2s(FIN | ACK)
        cseq += 1
        t += 50
        s2c(FIN | ACK)
        sseq += 1
        t += 50
        c2s(ACK)
    return out


def main():
    path = sys.argv[1]
    want = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    written = 0
    n = 0
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        base = 1700000000 * 1000000
        while written < want:
            # 64 connections at a time, merged in time order
            batch = []
            for k in range(64):
                start = base + k * 37
                batch.extend((start + off, frame) for off, frame in connection(n))
                n += 1
            batch.sort(key=lambda p: p[0])
            for t_us, frame in batch:
                if written >= want:
                    break
                f.write(struct.pack('<IIII', t_us // 1000000, t_us % 1000000,
                                    len(frame), len(frame)))
                f.write(frame)
                written += 1
            base = batch[-1][0] + 1000
    print('%s: %d packets, %d connections' % (path, written, n))


if __name__ == '__main__':
    main()
