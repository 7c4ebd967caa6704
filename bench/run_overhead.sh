#!/usr/bin/env bash
# Prints the wall time of `tcplab run` on server_down next to the bare client's own
# run time (the same tcp_sixteen client refused by a closed port on loopback), as
# medians over N runs, and the lab's overhead per scenario (target: under 20 ms).
# Usage: bench/run_overhead.sh [N]   (as root; builds with Bazel first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-30}

bazel build //lab:tcplab >/dev/null 2>&1
bin=$(bazel info bazel-bin 2>/dev/null)
tcplab="$bin/lab/tcplab"
client="$bin/lab/tcplab.runfiles/tcplab/tools/ref/tcp_sixteen"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now_us() { date +%s%6N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# The bare client, in a namespace of its own so that nothing listens on 1060.
for _ in $(seq "$n"); do
	t0=$(now_us)
	unshare -n sh -c "ip link set lo up; $client client 127.0.0.1 -p 1060 2>/dev/null" || true
	t1=$(now_us)
	echo $((t1 - t0))
done | median >"$out/bare"

for _ in $(seq "$n"); do
	t0=$(now_us)
	"$tcplab" run -j 1 --pcap-dir "$out/pcap" scenarios/server_down.scn >/dev/null
	t1=$(now_us)
	echo $((t1 - t0))
done | median >"$out/lab"


bare=$(cat "$out/bare")
lab=$(cat "$out/lab")
awk -v b="$bare" -v l="$lab" -v n="$n" 'BEGIN {
	printf "runs per figure:                          %d (medians)\n", n
	printf "bare client (unshare -n + refused client): %8.1f ms\n", b / 1000
	printf "tcplab run server_down.scn (whole):        %8.1f ms\n", l / 1000
	printf "lab overhead per scenario:                 %8.1f ms (ratio %.1fx)\n", (l - b) / 1000, l / b
}'
