#!/usr/bin/env bash
# explore_test.sh TCPLAB CASE SHRUNK: `tcplab explore` on CASE.scn finds the bug of
# the first version (buggy_CASE/ on PATH) within 50 runs from the default seed,
# exits 1 and shrinks it to exactly the lines SHRUNK (separated by " | " when a
# combination needs more than one); replaying the printed command fails again;
# the fixed twin passes a few runs with exit 0. Fails otherwise.
set -uo pipefail
tcplab=$(realpath "$1")
case=$2
shrunk=${3// | /$'\n'}
here=$(dirname "$(realpath "$0")")
# The programs: the runfiles' copies of this package's binaries.
pkg=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
bin=${TEST_SRCDIR:-}/${TEST_WORKSPACE:-tcplab}/examples/explore
[ -x "$bin/sixteen_server" ] || bin=$pkg
buggy=$(ls -d "$bin"/buggy_"$case"*/ 2>/dev/null | head -1)
[ -n "$buggy" ] || { echo "no buggy_$case/ in $bin"; exit 2; }
scn=$bin/$case.scn
out=${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR:-/tmp}}
failed=0

echo "== first version ($buggy) under explore, up to 50 runs"
PATH="$buggy:$bin:$PATH" "$tcplab" explore --runs 50 -j 2 --pcap-dir "$out" \
	--json "$out/$case.json" "$scn" >"$out/buggy.txt" 2>&1
rc=$?
cat "$out/buggy.txt"
if [ $rc -ne 1 ]; then
	echo "FAILED: explore exited $rc on the first version, not 1"
	failed=1
fi
# The shrunk schedule: the lines between "shrunk in N runs to:" and "failed:".
lines=$(sed -n '/^  shrunk in [0-9]* runs to/,/^  failed:/p' "$out/buggy.txt" | sed '1d;$d' |
	sed 's/^ *//')
if [ "$lines" != "$shrunk" ]; then
	echo "FAILED: shrunk to:"
	echo "$lines"
	echo "expected exactly: $shrunk"
	failed=1
fi

echo "== the printed replay of the shrunk run fails the same way"
replay=$(grep -m1 '^  replay the shrunk run:' "$out/buggy.txt" | sed 's/^  replay the shrunk run: *tcplab explore //')
if [ -z "$replay" ]; then
	echo "FAILED: no replay command printed"
	failed=1
else
	eval "set -- $replay"
	PATH="$buggy:$bin:$PATH" "$tcplab" explore --pcap-dir "$out" "$@" >"$out/replay.txt" 2>&1
	rc=$?
	cat "$out/replay.txt"
	if [ $rc -ne 1 ]; then
		echo "FAILED: the replay exited $rc, not 1"
		failed=1
	fi
fi

echo "== what was tried and found, in --json"
if ! /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["scenarios"][0]
assert s["result"] == "fail", s["result"]
assert s["shrunk"] == sys.argv[2].split("\n"), s["shrunk"]
assert s["failing_run"] < 50 and s["runs"] >= 1
assert sum(k["drawn"] for w in s["tried"].values() for k in w.values()) >= 1
' "$out/$case.json" "$shrunk"; then
	echo "FAILED: $out/$case.json does not say what was found"
	failed=1
fi

echo "== bad options are usage errors (exit 2)"
for bad in "--runs 0" "--replay 1" "--time 10" "--seed x"; do
	# shellcheck disable=SC2086
	"$tcplab" explore $bad "$scn" >"$out/bad.txt" 2>&1
	rc=$?
	if [ $rc -ne 2 ] || ! grep -q "^tcplab: " "$out/bad.txt"; then
		echo "FAILED: explore $bad exited $rc:"
		cat "$out/bad.txt"
		failed=1
	fi
done

if [ "$case" = two_reads ]; then
	echo "== a run that reaches the timeout is neither passed nor failed"
	cat >"$out/slow.scn" <<'EOF'
scenario "A client slower than the timeout: slow or stuck, the lab cannot tell"
timeout 1s
client sleep 3
expect outcome completed
EOF
	"$tcplab" explore --runs 2 -j 2 --pcap-dir "$out" "$out/slow.scn" >"$out/slow.txt" 2>&1
	rc=$?
	cat "$out/slow.txt"
	if [ $rc -ne 2 ] || ! grep -q "^INCONCLUSIVE" "$out/slow.txt" ||
		! grep -q "2 of the runs reached the scenario's timeout" "$out/slow.txt"; then
		echo "FAILED: explore exited $rc on runs that all reached the timeout, not 2 (INCONCLUSIVE)"
		failed=1
	fi
fi

echo "== the fixed twin under explore, 10 runs"
PATH="$bin:$PATH" "$tcplab" explore --runs 10 -j 2 --pcap-dir "$out" "$scn" >"$out/fixed.txt" 2>&1
rc=$?
cat "$out/fixed.txt"
if [ $rc -ne 0 ]; then
	echo "FAILED: explore exited $rc on the fixed twin, not 0"
	failed=1
fi
[ $failed -eq 0 ] && echo "ok: $case"
exit $failed
