#!/usr/bin/env bash
# Is the built-in suite load-proof? Runs `tcplab run -j 2 scenarios/` R times
# while two CPU hogs (busy shell loops at the lab's own priority) run, and
# prints how many suite runs passed, and which scenarios failed how often.
# Target (issue 13): 50 of 50. The hogs are started here and killed on exit.
# A failed run's output and captures are kept under KEEP (default: a new
# directory under /tmp, printed at the end; removed when every run passed).
# TCPLAB=PATH runs an installed tcplab (`bazel run //:install -- PREFIX`)
# instead of building one, so that a rebuild cannot change it mid-bench.
# Usage: bench/load_bench.sh [R]   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
r=${1:-50}

if [ -n "${TCPLAB:-}" ]; then
	tcplab=$TCPLAB
else
	bazel build //lab:tcplab >/dev/null 2>&1
	tcplab="$(bazel info bazel-bin 2>/dev/null)/lab/cli/tcplab"
fi
out=$(mktemp -d)
keep=${KEEP:-$(mktemp -d /tmp/load_bench.XXXXXX)}
mkdir -p "$keep"
hogs=()
stop() {
	for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$out"
}
trap stop EXIT

for _ in 1 2; do
	sh -c 'while :; do :; done' &
	hogs+=("$!")
done

passed=0
for i in $(seq "$r"); do
	if "$tcplab" run -j 2 --pcap-dir "$out/pcap" scenarios/ >"$out/run.$i" 2>&1; then
		passed=$((passed + 1))
	else
		awk '/^(FAIL|ERROR) / {print $2}' "$out/run.$i" >>"$out/failed"
		grep -E "^(FAIL|ERROR) |^      FAIL " "$out/run.$i" | sed "s/^/  run $i: /" >>"$out/why"
		mkdir -p "$keep/run.$i"
		cp "$out/run.$i" "$keep/run.$i/output"
		# The failed scenarios' captures (NAME.pcap and NAME.server.pcap).
		for name in $(awk '/^(FAIL|ERROR) / {print $2}' "$out/run.$i"); do
			cp "$out/pcap/$name".*pcap "$keep/run.$i/" 2>/dev/null || true
		done
	fi
	rm -rf "$out/pcap"
done

echo "suite runs passed with two CPU hogs: $passed of $r  (target: $r of $r)"
if [ -s "$out/failed" ]; then
	echo "failed scenarios (count):"
	sort "$out/failed" | uniq -c | sort -rn | sed 's/^/  /'
	echo "why:"
	cat "$out/why"
	echo "failed runs' output and captures: $keep"
else
	rmdir "$keep" 2>/dev/null || true
fi
