#!/bin/sh
# capture_bulk_drops: records lab/tests/pcaps/bulk_drops.pcap, a real bulk
# transfer on loopback (20 MB from a sendall client to a draining server,
# dumpcap -s 128 inside a private network namespace) with 5% of its packets
# then left out by tools/pcapgen/drop_packets.py (seed 1): many lost segments
# and ACKed unseen segments, where tshark 4.0 says "ACKed unseen segment" only
# once per gap. The timing is the kernel's, so re-recording changes the golden
# output: run tools/pcapgen/regen_golden.sh afterwards. Needs root, dumpcap,
# unshare, scapy.
# usage: tools/pcapgen/capture_bulk_drops.sh [OUT]
set -eu
here=$(dirname "$0")
out=$(realpath -m "${1:-$here/../../lab/tests/pcaps/bulk_drops.pcap}")
whole=$(mktemp /tmp/bulk_whole.XXXXXX.pcapng)
trap 'rm -f "$whole"' EXIT
unshare -n sh -eu -c '
out=$1
ip link set lo up
dumpcap -q -i lo -s 128 -w "$out" 2>/dev/null &
pid=$!
i=0
while [ ! -s "$out" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
/usr/bin/python3 - <<PY
import socket, threading
srv = socket.socket()
srv.bind(("127.0.0.1", 1060))
srv.listen(1)
def server():
    c, _ = srv.accept()
    while c.recv(1 << 20):
        pass
    c.close()
t = threading.Thread(target=server)
t.start()
cl = socket.create_connection(("127.0.0.1", 1060))
cl.sendall(b"x" * 20000000)
cl.close()
t.join()
PY
sleep 0.5
kill $pid
wait $pid || true
' sh "$whole"
/usr/bin/python3 "$here/drop_packets.py" "$whole" "$out" 1 0.05
