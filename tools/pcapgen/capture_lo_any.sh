#!/bin/sh
# capture_lo_any: records lab/tests/pcaps/lo_any.pcapng the way Wireshark users
# capture, `dumpcap -i lo -i any` (snaplen 256), inside a private network
# namespace: one pcapng file whose interfaces have different link types
# (lo: Ethernet, any: Linux cooked), every packet seen on both. The traffic:
# a 16-byte echo, a 300 000-byte transfer to a reader that drains slowly, and a
# connection refused on port 1061. The timing is the kernel's, so re-recording
# changes the golden output: run tools/pcapgen/regen_golden.sh afterwards.
# Needs root, dumpcap, unshare.
# usage: tools/pcapgen/capture_lo_any.sh [OUT]
set -eu
out=$(realpath -m "${1:-$(dirname "$0")/../../lab/tests/pcaps/lo_any.pcapng}")
rm -f "$out"
exec unshare -n sh -eu -c '
out=$1
ip link set lo up
dumpcap -q -i lo -i any -s 256 -w "$out" 2>/dev/null &
pid=$!
# dumpcap writes the file header once both interfaces are open
i=0
while [ ! -s "$out" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
/usr/bin/python3 - <<PY
import socket, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 1060))
srv.listen(2)
def server():
    conn, _ = srv.accept()
    conn.sendall(conn.recv(16))
    conn.close()
    conn, _ = srv.accept()
    while True:
        b = conn.recv(4096)
        if not b:
            break
        time.sleep(0.001)
    conn.close()
t = threading.Thread(target=server)
t.start()
cl = socket.create_connection(("127.0.0.1", 1060))
cl.sendall(b"0123456789abcdef")
cl.recv(16)
cl.close()
cl = socket.socket()
cl.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
cl.connect(("127.0.0.1", 1060))
cl.sendall(b"x" * 300000)
cl.close()
t.join()
try:
    socket.create_connection(("127.0.0.1", 1061))
except ConnectionRefusedError:
    pass
PY
sleep 0.5
kill $pid
wait $pid || true
' sh "$out"
