#!/bin/sh
# capture_linux_lo: records lab/tests/pcaps/linux_lo_zero_window.pcapng, a real
# Linux loopback capture (pcapng, snaplen 128) inside a private network
# namespace: a server with a 4 KiB receive buffer that waits 1.5 s before
# reading, a client sending 200 000 bytes (zero window, Linux's keep-alive
# shaped window probes, window full), then a connection refused on port 1061.
# The timing is the kernel's, so re-recording changes the golden output:
# run tools/pcapgen/regen_golden.sh afterwards. Needs root, dumpcap, unshare.
# usage: tools/pcapgen/capture_linux_lo.sh [OUT]
set -eu
out=$(realpath -m "${1:-$(dirname "$0")/../../lab/tests/pcaps/linux_lo_zero_window.pcapng}")
rm -f "$out"
exec unshare -n sh -eu -c '
out=$1
ip link set lo up
dumpcap -q -i lo -s 128 -w "$out" 2>/dev/null &
pid=$!
# dumpcap writes the file header once the interface is open
i=0
while [ ! -s "$out" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
/usr/bin/python3 - <<PY
import socket, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 1060))
srv.listen(1)
def server():
    conn, _ = srv.accept()
    time.sleep(1.5)   # the slow reader: the window closes meanwhile
    while conn.recv(65536):
        pass
    conn.close()
t = threading.Thread(target=server)
t.start()
cl = socket.socket()
cl.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
cl.connect(("127.0.0.1", 1060))
cl.sendall(b"x" * 200000)
cl.close()
t.join()
try:
    socket.create_connection(("127.0.0.1", 1061))
except ConnectionRefusedError:
    pass
PY
# let dumpcap write the last packets before stopping it
sleep 0.5
kill $pid
wait $pid || true
' sh "$out"
