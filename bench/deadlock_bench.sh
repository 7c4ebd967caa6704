#!/usr/bin/env bash
# How fast the lab calls a deadlock, against a plain `timeout 5` harness.
# For N runs of scenarios/deadlock.scn prints the medians of:
#   - detection latency: from the last byte of progress the watcher saw to the
#     deadlock verdict (both from the lab's own event times, printed by -v);
#   - the whole scenario's wall time (tcplab start to exit);
# and the wall time of the same two programs under `timeout 5` (how a plain script
# learns of the hang). Targets (issue 4): verdict within 300 ms of the stall, the
# scenario under 1 s in all.
# Usage: bench/deadlock_bench.sh [N]   (as root; builds with Bazel first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}

bazel build //lab:tcplab >/dev/null 2>&1
bin=$(bazel info bazel-bin 2>/dev/null)
tcplab="$bin/lab/cli/tcplab"
ref="$bin/lab/cli/tcplab.runfiles/tcplab/tools/ref"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now_us() { date +%s%6N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

: >"$out/latency"
: >"$out/wall"
for _ in $(seq "$n"); do
	t0=$(now_us)
	"$tcplab" run -v -j 1 --pcap-dir "$out/pcap" scenarios/deadlock.scn >"$out/run.txt" || true
	t1=$(now_us)
	echo $((t1 - t0)) >>"$out/wall"
	# "deadlock seen at 556 ms (last progress at 353 ms)"
	sed -n 's/.*deadlock seen at \([0-9]*\) ms (last progress at \([0-9]*\) ms).*/\1 \2/p' "$out/run.txt" |
		awk '{print ($1 - $2) * 1000}' >>"$out/latency"
done

: >"$out/plain"
for _ in $(seq "$n"); do
	t0=$(now_us)
	unshare -n sh -c "ip link set lo up
		$ref/tcp_deadlock server 127.0.0.1 -p 1060 >/dev/null & s=\$!
		while ! ss -ltnH 'sport = :1060' | grep -q .; do sleep 0.001; done
		timeout 5 $ref/tcp_deadlock client 127.0.0.1 1073741824 -p 1060 >/dev/null
		kill -9 \$s" 2>/dev/null || true
	t1=$(now_us)
	echo $((t1 - t0)) >>"$out/plain"
done

latency=$(median <"$out/latency")
wall=$(median <"$out/wall")
plain=$(median <"$out/plain")
awk -v l="$latency" -v w="$wall" -v p="$plain" -v n="$n" -v k="$(wc -l <"$out/latency")" 'BEGIN {
	printf "medians of %d runs (%d with a deadlock verdict)\n", n, k
	printf "detection latency (last progress -> verdict): %6.0f ms  (target: under 300 ms)\n", l / 1000
	printf "tcplab run deadlock.scn, wall time:           %6.0f ms  (target: under 1000 ms)\n", w / 1000
	printf "plain harness with timeout 5, wall time:      %6.0f ms  (%.1fx the lab)\n", p / 1000, p / w
}'
