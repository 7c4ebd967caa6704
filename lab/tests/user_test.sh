#!/usr/bin/env bash
# An ordinary user runs the lab: tcplab enters a user namespace itself (like
# `unshare -rn`), so uid 65534 can capture and fault its own scenarios. Runs outside
# Bazel's sandbox (tag no-sandbox), whose user namespace maps no uid but root; the
# lab still makes its own network namespace, so no traffic leaves it.
# Usage: user_test.sh TCPLAB
set -uo pipefail

tcplab=$(realpath "$1")
runfiles=$(realpath "${TEST_SRCDIR:-$(dirname "$tcplab")/tcplab.runfiles}/tcplab")
scenarios="$runfiles/scenarios"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/usertest.XXXXXX")
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAILED: $*"; }
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "this test starts as root to become uid 65534; skipped as uid $(id -u)"
	exit 0
fi

echo "== an ordinary user runs the lab"
home=$(mktemp -d /tmp/tcplab-user.XXXXXX)
mkdir -p "$home/tools/ref" "$home/lab/shim" "$home/pcap"
cp "$runfiles/tools/ref/tcp_sixteen" "$runfiles/tools/ref/tcp_deadlock" "$home/tools/ref/"
cp "$runfiles/lab/shim/libtcplab_shim.so" "$home/lab/shim/"
cp "$tcplab" "$home/tcplab"
cp "$scenarios/sixteen.scn" "$scenarios/partial_sends.scn" "$home/"
chmod -R a+rX "$home"
chmod a+rwx "$home/pcap"
(cd "$home" && setpriv --reuid=65534 --regid=65534 --clear-groups \
	env TCPLAB_HOME="$home" ./tcplab run --pcap-dir "$home/pcap" sixteen.scn partial_sends.scn) >"$work/user.out" 2>&1
status=$?
cat "$work/user.out"
if [ "$status" -eq 2 ] && grep -q "user namespace" "$work/user.out"; then
	echo "note: this kernel or sandbox forbids unprivileged user namespaces; the lab said so:"
	check "the message says what is missing" grep -q "unprivileged user namespaces" "$work/user.out"
else
	check "as uid 65534 both scenarios pass" test "$status" -eq 0
	check "the capture belongs to the user" test "$(stat -c %u "$home/pcap/sixteen.pcap" 2>/dev/null)" = 65534
fi
rm -rf "$home"

echo "$checks checks, $failures failed"
rm -rf "$work"
test "$failures" -eq 0
