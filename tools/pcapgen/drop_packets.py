#!/usr/bin/python3
"""drop_packets: copies a capture leaving out a random share of its packets
(a fixed seed, so the same packets every time), as a capture that missed them
would look: lost segments, ACKed unseen segments. The first three packets
(the handshake) are always kept.

usage: tools/pcapgen/drop_packets.py IN OUT SEED SHARE     (SHARE: 0.05 = 5%)
"""
import random
import sys

from scapy.all import rdpcap, wrpcap


def main():
    src, dst, seed, share = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    packets = rdpcap(src)
    rnd = random.Random(seed)
    kept = [p for i, p in enumerate(packets) if i < 3 or rnd.random() >= share]
    wrpcap(dst, kept)
    print('%s: %d of %d packets kept' % (dst, len(kept), len(packets)))


if __name__ == '__main__':
    main()
