#!/usr/bin/env bash
# Shows that a tcp_scenario target (lab/defs.bzl) is cached until one of its inputs
# changes, and then only the targets that use that input run again. Works on a
# copy of the tree in a temporary directory (the real tree is never touched) with
# an output base of its own, and prints the figures:
#   1. bazel test //examples/...        cold: builds and runs every target
#   2. the same again                    every target "(cached) PASSED", none runs
#   3. edit buggy/quote_client.py        only the one target that runs it re-runs
#   4. edit examples/c_echo/short_writes.scn   only the two targets of that scenario
#   5. a comment in echo_server.c        recompiled, but the binary is the same:
#                                        Bazel compares contents, nothing re-runs
# Exit status 0 when every step did what it says, 1 otherwise.
# Usage: bench/scenario_cache.sh [--keep]   (--keep leaves the copy for a look)
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/scenario_cache.XXXXXX)
tree=$work/tree
output_base=$work/ob
keep=0
[ "${1:-}" = --keep ] && keep=1
failures=0

cleanup() {
	bazel --output_base="$output_base" shutdown >/dev/null 2>&1
	if [ $keep -eq 1 ]; then
		echo "kept: $tree (output base $output_base)"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

mkdir -p "$tree"
(cd "$src" && tar --exclude='./bazel-*' --exclude=./.git --exclude='./pcap/*.pcap' -cf - .) |
	tar -C "$tree" -xf -

# run_step NAME: bazel test //examples/... in the copy; sets ran (targets that
# ran), cached (targets served from the cache), failed, secs; keeps the output.
run_step() {
	local name=$1 start end
	start=$(date +%s.%N)
	(cd "$tree" && bazel --output_base="$output_base" test //examples/... \
		--test_summary=short --color=no --curses=no) >"$work/$name.out" 2>&1
	end=$(date +%s.%N)
	secs=$(echo "$end - $start" | bc)
	cached=$(grep -cE '^//[^ ]+ +\(cached\) PASSED' "$work/$name.out")
	ran=$(grep -E '^//[^ ]+ +(PASSED|FAILED)' "$work/$name.out" | grep -vc '(cached)')
	failed=$(grep -cE '^//[^ ]+ .*(FAILED|NO STATUS)' "$work/$name.out")
	# Actions Bazel executed (compiles, links, tests), not counting its own bookkeeping.
	actions=$(sed -n 's/^INFO: [0-9]* processes*: \(.*\)\.$/\1/p' "$work/$name.out" | tail -1 |
		grep -oE '[0-9]+ (linux-sandbox|processwrapper-sandbox|local|remote)' |
		awk '{s += $1} END {print s + 0}')
	printf '%-38s %6.1f s   ran %2d   cached %2d   failed %d   actions %3d\n' "$name" "$secs" "$ran" \
		"$cached" "$failed" "$actions"
}

# expect_ran TARGET...: exactly these targets ran in the last step, nothing failed.
expect_ran() {
	local want got
	want=$(printf '%s\n' "$@" | sort)
	got=$(grep -E '^//[^ ]+ +(PASSED|FAILED)' "$work/$step.out" | grep -v '(cached)' |
		awk '{print $1}' | sort)
	if [ "$got" = "$want" ] && [ "$failed" -eq 0 ]; then
		echo "    ok: ran exactly: ${*:-nothing}"
	else
		echo "    FAILED: wanted to run: ${*:-nothing}; ran: $(echo $got); failed: $failed"
		tail -30 "$work/$step.out" | sed 's/^/    | /'
		failures=$((failures + 1))
	fi
}

echo "copy: $tree"
total=$(cd "$tree" && bazel --output_base="$output_base" query 'tests(//examples/...)' 2>/dev/null | wc -l)
echo "test targets in //examples/...: $total"
echo

step=1-cold
run_step "$step"
if [ "$ran" -eq "$total" ] && [ "$failed" -eq 0 ]; then
	echo "    ok: all $total ran and passed"
else
	echo "    FAILED: $ran of $total ran, $failed failed"
	tail -30 "$work/$step.out" | sed 's/^/    | /'
	failures=$((failures + 1))
fi

step=2-again-unchanged
run_step "$step"
expect_ran

step=3-edit-buggy-quote_client.py
sed -i 's/^import socket$/import socket  # edited by bench\/scenario_cache.sh/' \
	"$tree/examples/python_client/buggy/quote_client.py"
run_step "$step"
expect_ran //examples/python_client:short_reads_single_recv

step=4-edit-c_echo-short_writes.scn
echo '# edited by bench/scenario_cache.sh' >>"$tree/examples/c_echo/short_writes.scn"
run_step "$step"
expect_ran //examples/c_echo:short_writes //examples/c_echo:short_writes_single_write

step=5-comment-in-echo_server.c
sed -i '1i /* edited by bench/scenario_cache.sh */' "$tree/examples/c_echo/echo_server.c"
run_step "$step"
expect_ran
if [ "$actions" -ge 2 ]; then
	echo "    ok: the two echo_server binaries were compiled again ($actions actions), to the same bytes"
else
	echo "    FAILED: expected the edited source to be compiled again; $actions actions ran"
	failures=$((failures + 1))
fi

echo
if [ $failures -eq 0 ]; then
	echo "scenario_cache: every step as expected"
else
	echo "scenario_cache: $failures step(s) not as expected"
fi
[ $failures -eq 0 ]
