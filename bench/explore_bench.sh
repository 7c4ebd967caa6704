#!/usr/bin/env bash
# tcplab explore: how fast it runs, how fast it finds and shrinks the examples'
# bugs, and whether the perturbations are legal. Prints:
#   - runs per second of `explore --runs R -j 2` on scenarios/sixteen.scn;
#   - for each first version in examples/explore/ (two_reads, eintr, eagain,
#     restart, and lines: a bug only the wire's loss finds): the run that failed,
#     the runs spent shrinking, the shrunk lines, the wall time to find and
#     shrink; and whether replaying the printed command fails the same way,
#     REPLAYS times;
#   - for each fixed twin: FIXED runs, how many failed (the target is 0); for
#     lines, which runs over the wire, the link perturbations drawn;
#   - Python's http.server with curl and redis-server with redis-cli (when
#     installed), both over the wire: OTHERS runs each, how many failed (the
#     target is 0), and what was drawn, program and link.
# Usage: bench/explore_bench.sh [R] [FIXED] [OTHERS] [REPLAYS]
#        (defaults 100 200 100 10; as root; builds with Bazel first)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
fixed_runs=${2:-200}
other_runs=${3:-100}
replays=${4:-10}

bazel build //lab:tcplab //examples/explore/... >/dev/null 2>&1 || {
	echo "bench: build failed" >&2
	exit 2
}
bin=$(bazel info bazel-bin 2>/dev/null)
tcplab="$bin/lab/cli/tcplab"
ex="$bin/examples/explore"
export TCPLAB_HOME="$bin/lab/cli/tcplab.runfiles/tcplab"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now_us() { date +%s%6N; }
secs() { awk -v us="$1" 'BEGIN {printf "%.1f", us / 1e6}'; }

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- speed on a small scenario ----------------------------------------------------
t0=$(now_us)
"$tcplab" explore --runs "$runs" -j 2 --pcap-dir "$out/pcap" scenarios/sixteen.scn >"$out/sixteen.txt" 2>&1
rc=$?
t1=$(now_us)
echo "sixteen: $runs runs with -j 2 in $(secs $((t1 - t0))) s:" \
	"$(awk -v n="$runs" -v us=$((t1 - t0)) 'BEGIN {printf "%.2f", n / (us / 1e6)}') runs/s (exit $rc)"

# ---- the examples' bugs ---------------------------------------------------------------
for case in two_reads eintr eagain restart lines; do
	buggy=$(ls -d "$ex"/buggy_"$case"/)
	t0=$(now_us)
	PATH="$buggy:$ex:$PATH" "$tcplab" explore --runs 200 -j 2 --pcap-dir "$out/pcap" \
		"examples/explore/$case.scn" >"$out/$case.txt" 2>&1
	rc=$?
	t1=$(now_us)
	found=$(sed -n 's/^  found at run \([0-9]*\) .*/\1/p' "$out/$case.txt")
	shrink=$(sed -n 's/^  shrunk in \([0-9]*\) runs.*/\1/p' "$out/$case.txt")
	lines=$(sed -n '/^  shrunk in [0-9]* runs to/,/^  failed:/p' "$out/$case.txt" | sed '1d;$d' |
		sed 's/^ *//' | paste -sd';' | sed 's/;/; /g')
	echo "$case (first version): exit $rc, found at run ${found:-none} (from 0), shrunk in ${shrink:-?} runs" \
		"to [$lines], $(secs $((t1 - t0))) s to find and shrink"
	replay=$(grep -m1 '^  replay the shrunk run:' "$out/$case.txt" | sed 's/^  replay the shrunk run: *tcplab explore //')
	if [ -n "$replay" ]; then
		same=0
		for _ in $(seq "$replays"); do
			eval "set -- $replay"
			PATH="$buggy:$ex:$PATH" "$tcplab" explore --pcap-dir "$out/pcap" "$@" >"$out/replay.txt" 2>&1
			[ $? -eq 1 ] && grep -q "$(sed -n 's/^  failed: [^:]*:\([0-9]*\):.*/:\1:/p' "$out/$case.txt")" "$out/replay.txt" &&
				same=$((same + 1))
		done
		echo "$case: the printed replay failed the same way $same times of $replays"
	fi
	t0=$(now_us)
	PATH="$ex:$PATH" "$tcplab" explore --runs "$fixed_runs" -j 2 --pcap-dir "$out/pcap" \
		"examples/explore/$case.scn" >"$out/$case.fixed.txt" 2>&1
	rc=$?
	t1=$(now_us)
	echo "$case (fixed twin): exit $rc, $(sed -n 's/^\(PASS\|FAIL\)  [^:]*: \(.*\)/\1 \2/p' "$out/$case.fixed.txt" | head -1)," \
		"$(secs $((t1 - t0))) s"
	grep '^  link ' "$out/$case.fixed.txt"
	[ $rc -eq 0 ] || sed -n '/found at/,/failed:/p' "$out/$case.fixed.txt"
done

# ---- programs no one here wrote -------------------------------------------------------
others=(http_server)
command -v redis-server >/dev/null && command -v redis-cli >/dev/null && others+=(redis)
for case in "${others[@]}"; do
	t0=$(now_us)
	"$tcplab" explore --runs "$other_runs" -j 2 --pcap-dir "$out/pcap" --json "$out/$case.json" \
		"examples/explore/$case.scn" >"$out/$case.txt" 2>&1
	rc=$?
	t1=$(now_us)
	echo "$case: exit $rc, $(sed -n 's/^\(PASS\|FAIL\)  [^:]*: \(.*\)/\1 \2/p' "$out/$case.txt" | head -1), $(secs $((t1 - t0))) s"
	sed -n '/perturbations drawn/,$p' "$out/$case.txt"
	[ $rc -eq 0 ] || sed -n '/found at/,/failed:/p' "$out/$case.txt"
done
