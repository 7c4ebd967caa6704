#!/usr/bin/env bash
# The liveness decision on real programs (lab/tests/liveness/):
# - healthy but slow (a reader thread asleep 700 ms with both queues full) is a
#   stall, reported with the reason it is not a deadlock, and completes;
# - clients with their own clocks (SO_RCVTIMEO, alarm with and without a handler)
#   end on their own; without `hang after` the invisible alarm IS called a hang
#   (the control: the hang verdict still works);
# - a program sees only fds 0, 1 and 2 while deadlock.scn captures beside it
#   (-j 2); the control: a program that opens fd 7 is caught;
# - the built-in deadlock is still proven.
# Usage: liveness_test.sh TCPLAB
set -uo pipefail

tcplab=$(realpath "$1")
runfiles=$(realpath "${TEST_SRCDIR:-$(dirname "$tcplab")/tcplab.runfiles}/tcplab")
dir="$runfiles/lab/tests/liveness"
scenarios="$runfiles/scenarios"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/liveness.XXXXXX")
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAILED: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

echo "== the liveness scenarios pass, two at a time, beside the deadlock"
"$tcplab" run -v -j 2 --pcap-dir "$work/pcap" "$dir"/*.scn "$scenarios/deadlock.scn" >"$work/run.out" 2>&1
status=$?
cat "$work/run.out"
check "tcplab run -j 2 exits 0" test "$status" -eq 0
for scn in "$dir"/*.scn "$scenarios/deadlock.scn"; do
	name=$(basename "$scn" .scn)
	check "$name passes" grep -q "^PASS  $name " "$work/run.out"
done
check "sleepy_reader: a stall was reported" grep -q "stall: no progress" "$work/run.out"
check "sleepy_reader: not proven, because of the reader thread (asleep or running)" \
	grep -qE "not proven a deadlock: python3 \(pid [0-9]+, thread [0-9]+\) (sleeps in|running)" "$work/run.out"
check "deadlock: proven, every task blocked sending" \
	grep -q "every task is blocked: .*tcp_deadlock in sendto on the connection" "$work/run.out"

echo "== controls: the same checks fail when they should"
mkdir -p "$work/ctl"
# An alarm without a handler cannot be seen: without `hang after` it is a hang.
grep -v '^hang after' "$dir/alarm_no_handler.scn" |
	sed -e 's/^expect outcome completed/expect outcome hang/' -e 's/^expect client signal SIGALRM/expect client signal SIGKILL/' \
		>"$work/ctl/alarm_hang.scn"
cp "$dir/alarm_client.py" "$work/ctl/"
# A program holding a descriptor of its own beyond 2 is seen.
sed -e "s|^client sh -c 'ls|client sh -c 'exec 7</dev/null; ls|" "$dir/only_std_fds.scn" >"$work/ctl/fd7.scn"
"$tcplab" run -v --pcap-dir "$work/ctl/pcap" "$work/ctl/alarm_hang.scn" >"$work/ctl/alarm.out" 2>&1
check "without hang after, the handler-less alarm client is called hung" test $? -eq 0
check "and the verdict came before its alarm" grep -q "hang: nothing moved" "$work/ctl/alarm.out"
"$tcplab" run --pcap-dir "$work/ctl/pcap" "$work/ctl/fd7.scn" >"$work/ctl/fd7.out" 2>&1
check "a program with fd 7 open fails only_std_fds' expectation" test $? -eq 1
check "and the failure shows the 7" grep -q '7' "$work/ctl/fd7.out"
[ "$failures" -eq 0 ] || cat "$work/ctl/"*.out

echo "$checks checks, $failures failed"
rm -rf "$work"
test "$failures" -eq 0
