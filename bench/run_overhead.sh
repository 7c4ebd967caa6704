#!/usr/bin/env bash
# The lab's own cost per scenario, against the bare program it runs.
# Prints medians over N runs of:
#   - the bare client: `unshare -n` + the tcp_sixteen client refused on loopback;
#   - `tcplab run server_down.scn` as one command (start-up and exit included);
#   - per scenario inside one `tcplab run -j 1` of 20 copies of server_down (what a
#     suite pays per scenario), and the overhead = that minus the bare client.
# Target (issue 3): the lab's own overhead per scenario under 20 ms.
# Usage: bench/run_overhead.sh [N]   (as root; builds with Bazel first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}

bazel build //lab:tcplab >/dev/null 2>&1
bin=$(bazel info bazel-bin 2>/dev/null)
tcplab="$bin/lab/cli/tcplab"
client="$bin/lab/cli/tcplab.runfiles/tcplab/tools/ref/tcp_sixteen"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/suite"
for i in $(seq -w 20); do cp scenarios/server_down.scn "$out/suite/server_down_$i.scn"; done

now_us() { date +%s%6N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
time_us() { # time_us COMMAND...: prints the wall time of one run in microseconds
	local t0 t1
	t0=$(now_us)
	"$@" >/dev/null 2>&1 || true
	t1=$(now_us)
	echo $((t1 - t0))
}

bare=$(for _ in $(seq "$n"); do
	time_us unshare -n sh -c "ip link set lo up; $client client 127.0.0.1 -p 1060"
done | median)
single=$(for _ in $(seq "$n"); do
	time_us "$tcplab" run -j 1 --pcap-dir "$out/pcap" scenarios/server_down.scn
done | median)
suite=$(for _ in $(seq "$n"); do
	time_us "$tcplab" run -j 1 --pcap-dir "$out/pcap" "$out/suite"
done | median)

awk -v b="$bare" -v s="$single" -v u="$suite" -v n="$n" 'BEGIN {
	per = u / 20
	printf "medians of %d runs\n", n
	printf "bare client (unshare -n, refused):        %7.1f ms\n", b / 1000
	printf "tcplab run server_down.scn, one command:  %7.1f ms  (%.1fx the bare client)\n", s / 1000, s / b
	printf "per scenario in a suite of 20 (-j 1):     %7.1f ms  (%.1fx the bare client)\n", per / 1000, per / b
	printf "lab overhead per scenario in a suite:     %7.1f ms  (target: under 20 ms)\n", (per - b) / 1000
}'
