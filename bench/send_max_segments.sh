#!/usr/bin/env bash
# What the wire shows under `send max`: runs a C event-loop echo server
# (tools/ref/tcp_evloop: epoll, writev) under `fault server send max N` while the
# reference client sends BYTES, then counts the server's data segments by payload
# size in the capture (tshark). Every short write leaving as a segment of its own
# means: no segment larger than N. Prints one line per payload size ("COUNT x
# SIZE bytes") and a verdict line, for each tcp_autocorking setting.
# For the figure before MSG_EOR, point TCPLAB_HOME at a tree whose
# lab/shim/libtcplab_shim.so is an older shim.
# Usage: bench/send_max_segments.sh [N [BYTES]]   (as root; builds with Bazel first)
set -euo pipefail
cd "$(dirname "$0")/.."
max=${1:-10}
bytes=${2:-20000}

bazel build //lab/cli:tcplab >/dev/null 2>&1
bin=$(bazel info bazel-bin 2>/dev/null)
tcplab="$bin/lab/cli/tcplab"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for autocork in 0 1; do
	cat >"$out/segments.scn" <<EOF
scenario "send max $max on a C echo server, $bytes bytes, tcp_autocorking $autocork"
timeout 8s
sysctl net.ipv4.tcp_autocorking $autocork
server tcp_evloop server \$HOST -p \$PORT
client tcp_deadlock client \$HOST $bytes -p \$PORT
fault server send max $max
expect client exit 0
EOF
	"$tcplab" run -j 1 --pcap-dir "$out/pcap" "$out/segments.scn" >"$out/run.txt" || {
		cat "$out/run.txt"
		exit 1
	}
	echo "tcp_autocorking $autocork, send max $max, $bytes bytes echoed:"
	tshark -r "$out/pcap/segments.pcap" -Y "tcp.srcport == 1060 && tcp.len > 0" \
		-T fields -e tcp.len 2>/dev/null | sort -n | uniq -c |
		awk -v max="$max" '{ printf "  %6d x %d bytes\n", $1, $2; if ($2 > max) big += $1 }
			END { printf "  segments above %d bytes: %d\n", max, big }'
done
