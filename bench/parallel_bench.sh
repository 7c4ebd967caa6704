#!/usr/bin/env bash
# -j 2 against -j 1 on the built-in scenarios, R times each: prints both median wall
# times and every scenario whose verdict differed between the runs (there should be
# none: each scenario has its own namespaces, so running two at once changes
# nothing they can see but the CPU they share).
# Usage: bench/parallel_bench.sh [R]   (as root; builds with Bazel first)
set -euo pipefail
cd "$(dirname "$0")/.."
r=${1:-20}

bazel build //lab:tcplab >/dev/null 2>&1
tcplab="$(bazel info bazel-bin 2>/dev/null)/lab/cli/tcplab"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

now_us() { date +%s%6N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

for j in 1 2; do
	for i in $(seq "$r"); do
		t0=$(now_us)
		"$tcplab" run -j "$j" --pcap-dir "$out/pcap$j" scenarios/ >"$out/j$j.$i" 2>&1 || true
		t1=$(now_us)
		echo $((t1 - t0)) >>"$out/wall$j"
		# "PASS  name ..." -> "name PASS"
		awk '/^(PASS|FAIL|ERROR) / {print $2, $1}' "$out/j$j.$i" >>"$out/verdicts"
	done
done

w1=$(median <"$out/wall1")
w2=$(median <"$out/wall2")
n=$(ls scenarios/*.scn | wc -l)
printf "%d runs each of %d scenarios\n" "$r" "$n"
awk -v a="$w1" -v b="$w2" 'BEGIN {
	printf "-j 1 median wall time: %7.0f ms\n", a / 1000
	printf "-j 2 median wall time: %7.0f ms  (%.2fx faster)\n", b / 1000, a / b
}'
differ=$(sort "$out/verdicts" | uniq | awk '{print $1}' | uniq -d)
if [ -z "$differ" ]; then
	echo "verdicts that differed between runs: none"
else
	echo "verdicts that differed between runs:"
	for name in $differ; do
		echo "  $name: $(grep "^$name " "$out/verdicts" | sort | uniq -c | awk '{printf "%s %s times; ", $3, $1}')"
	done
fi
