#!/usr/bin/env bash
# Integration tests of `tcplab run` with real namespaces, processes and captures:
# - the built-in scenarios pass, and every capture opens in tshark and holds the
#   packets the verdicts claim;
# - scenarios wrong on purpose FAIL, each with the words its `# want:` lines give;
# - a listener on the host's port 1060 does not matter;
# - a run killed by its timeout leaves no process, namespace or partial capture;
# - bad input ends with FILE:LINE:COL, exit status 2 and nothing written;
# (An ordinary user's run is lab/tests/user_test.sh: Bazel's sandbox maps no other uid.)
# Usage: lab_test.sh TCPLAB (Bazel passes the path of //lab:tcplab).
set -uo pipefail

tcplab=$(realpath "$1")
runfiles=$(realpath "${TEST_SRCDIR:-$(dirname "$tcplab")/tcplab.runfiles}/tcplab")
scenarios="$runfiles/scenarios"
failing="$runfiles/lab/tests/failing"
bulk="$runfiles/lab/tests/bulk"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/labtest.XXXXXX")
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAILED: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

tshark_count() { # tshark_count PCAP DISPLAY_FILTER
	tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

# Processes (host-wide /proc) whose network namespace is ns ("net:[4026...]"):
# a namespace of our own run, so nothing else on the host can match.
in_namespace() { for p in /proc/[0-9]*; do readlink "$p/ns/net" 2>/dev/null; done | grep -cxF "$1"; }
host_listener_up() { ss -ltnH 'sport = :1060' | grep -q .; }
# No process whose command line matches $1 within 2 s (a SIGKILL lands late).
gone() { for _ in $(seq 200); do pgrep -f "$1" >/dev/null || return 0; sleep 0.01; done; return 1; }

echo "== the built-in scenarios pass"
"$tcplab" run --pcap-dir "$work/pcap" --html "$work/html" "$scenarios" >"$work/run.out" 2>&1
status=$?
cat "$work/run.out"
check "tcplab run scenarios/ exits 0" test "$status" -eq 0
for scn in "$scenarios"/*.scn; do
	name=$(basename "$scn" .scn)
	check "$name passes" grep -q "^PASS  $name " "$work/run.out"
	check "$name.pcap opens in tshark" tshark -r "$work/pcap/$name.pcap" -q 2>/dev/null
done
check "no partial capture is left" test -z "$(find "$work/pcap" -name '*.part')"
check "deadlock: the HTML diagram marks the lab's stop" grep -q 'class="fold labstop"' "$work/html/deadlock.html"
check "deadlock: the HTML timeline marks the lab's stop" grep -q '<tr class="labstop">' "$work/html/deadlock.html"

echo "== the captures hold what the verdicts claim (counted by tshark)"
p="$work/pcap/server_down.pcap"
check "server_down: one SYN" test "$(tshark_count "$p" 'tcp.flags.syn==1 && tcp.flags.ack==0')" -eq 1
check "server_down: one RST from port 1060" test "$(tshark_count "$p" 'tcp.flags.reset==1 && tcp.srcport==1060')" -eq 1
p="$work/pcap/sixteen.pcap"
check "sixteen: SYN" test "$(tshark_count "$p" 'tcp.flags.syn==1 && tcp.flags.ack==0')" -eq 1
check "sixteen: SYN/ACK" test "$(tshark_count "$p" 'tcp.flags.syn==1 && tcp.flags.ack==1')" -eq 1
check "sixteen: the handshake's ACK" test "$(tshark_count "$p" 'tcp.seq==1 && tcp.ack==1 && tcp.len==0 && tcp.flags.syn==0')" -ge 1
check "sixteen: two FINs" test "$(tshark_count "$p" 'tcp.flags.fin==1')" -eq 2
check "sixteen: no RST" test "$(tshark_count "$p" 'tcp.flags.reset==1')" -eq 0
check "sixteen: 16 bytes each way" test "$(tshark -r "$p" -Y 'tcp.len>0' -T fields -e tcp.len 2>/dev/null | awk '{s+=$1} END {print s+0}')" -eq 32
p="$work/pcap/partial_sends.pcap"
check "partial_sends: 16 one-byte segments to the server" test "$(tshark_count "$p" 'tcp.dstport==1060 && tcp.len==1')" -eq 16
p="$work/pcap/deadlock.pcap"
check "deadlock: zero windows from both ends" test "$(tshark_count "$p" 'tcp.analysis.zero_window && tcp.srcport==1060')" -ge 1 -a "$(tshark_count "$p" 'tcp.analysis.zero_window && tcp.dstport==1060')" -ge 1
p="$work/pcap/reset_midstream.pcap"
check "reset_midstream: a RST from the server" test "$(tshark_count "$p" 'tcp.flags.reset==1 && tcp.srcport==1060')" -ge 1

echo "== faults really happened (the shim's counters)"
"$tcplab" run -v --pcap-dir "$work/pcap" "$scenarios/short_reads.scn" "$scenarios/partial_sends.scn" \
	"$scenarios/slow_reader.scn" "$scenarios/early_close.scn" >"$work/faults.out" 2>&1
check "short_reads: the server's reads were cut" grep -qE "server faults: [1-9][0-9]* short reads" "$work/faults.out"
check "partial_sends: 15 of the client's sends were cut" grep -q "client faults: 15 short sends" "$work/faults.out"
check "slow_reader: the server's reads were delayed" grep -qE "server faults: [1-9][0-9]* delayed reads" "$work/faults.out"
check "early_close: the client's socket was shut down once" grep -qE "client faults: .*1 early closes" "$work/faults.out"

echo "== expectations that are wrong on purpose fail, in words"
for scn in "$failing"/*.scn; do
	name=$(basename "$scn" .scn)
	"$tcplab" run --pcap-dir "$work/failing" "$scn" >"$work/$name.out" 2>&1
	status=$?
	check "$name exits 1" test "$status" -eq 1
	before=$failures
	while IFS= read -r want; do
		check "$name says: $want" grep -qF -- "$want" "$work/$name.out"
	done < <(sed -n 's/^# want: //p' "$scn")
	[ "$failures" -eq "$before" ] || cat "$work/$name.out"
done

echo "== a bulk transfer: every packet captured, the first part whole"
"$tcplab" run -j 1 -v --pcap-dir "$work/bulk" "$bulk/bulk_500mb.scn" >"$work/bulk.out" 2>&1
status=$?
cat "$work/bulk.out"
p="$work/bulk/bulk_500mb.pcap"
check "bulk_500mb: passes, no packet lost" test "$status" -eq 0
check "bulk_500mb: bytes client->server == 500000000 held" grep -q "saw 500000000" "$work/bulk.out"
check "bulk_500mb.pcap opens in tshark" tshark -r "$p" -q
check "bulk_500mb: both FINs" test "$(tshark_count "$p" 'tcp.flags.fin==1 && !tcp.analysis.retransmission')" -eq 2
for port_field in tcp.dstport tcp.srcport; do
	# Whole payload bytes among the segments that start in the first 16 KiB.
	whole=$(tshark -r "$p" -Y "tcp.len>0 && tcp.seq<16385 && $port_field==1060" -T fields \
		-e tcp.len -e frame.cap_len -e frame.len 2>/dev/null | awk '$2 == $3 {w += $1} END {print w + 0}')
	check "bulk_500mb: the first 16 KiB of payload is whole ($port_field==1060)" test "$whole" -ge 16384
done
check "bulk_500mb: the rest is headers only" test "$(tshark_count "$p" 'frame.cap_len < frame.len')" -gt 5000

echo "== a capture that lost packets judges none of them"
"$tcplab" run -v --snap-payload all --pcap-dir "$work/lossy" "$bulk/bulk_500mb.scn" >"$work/lossy.out" 2>&1
status=$?
cat "$work/lossy.out" | head -20
if grep -q "the capture lost [0-9]* packets" "$work/lossy.out"; then
	check "packets lost: the scenario is INCONCLUSIVE" grep -q "^INCONCLUSIVE bulk_500mb " "$work/lossy.out"
	check "packets lost: exit status 2" test "$status" -eq 2
	check "packets lost: the bytes verdict is inconclusive" grep -q "INCONCLUSIVE .*expect bytes client->server == 500000000" "$work/lossy.out"
	check "packets lost: counted in the summary" grep -q "1 inconclusive" "$work/lossy.out"
else
	check "no packet lost with whole packets: a pass" test "$status" -eq 0
fi

echo "== a listener on the host's port 1060 does not matter"
"$runfiles/tools/ref/tcp_sixteen" server 127.0.0.1 -p 1060 >/dev/null 2>&1 &
host_server=$!
for _ in $(seq 200); do
	ss -ltnH 'sport = :1060' | grep -q . && break
	sleep 0.01
done
check "the host listener is up" host_listener_up
"$tcplab" run --pcap-dir "$work/host" "$scenarios/server_down.scn" "$scenarios/sixteen.scn" >"$work/host.out" 2>&1
check "server_down and sixteen still pass" test $? -eq 0
kill "$host_server"
wait "$host_server" 2>/dev/null

echo "== a run stopped by its timeout leaves nothing behind"
mkdir -p "$work/hang"
# Durations no other process on the host uses: what survives is ours.
daemon_s=97$$$RANDOM
client_s=98$$$RANDOM
cat >"$work/hang/hang.scn" <<SCN
scenario "A server that also starts a daemon, and a client that hangs"
timeout 500ms
server setsid sleep $daemon_s & tcp_sixteen server \$HOST -p \$PORT
client readlink /proc/self/ns/net >$work/hang/netns; exec sleep $client_s
expect outcome timeout
SCN
"$tcplab" run --pcap-dir "$work/hang" "$work/hang/hang.scn" >"$work/hang.out" 2>&1
check "the timed-out run passes (outcome timeout)" test $? -eq 0
check "no sleep survives, not even the daemon" gone "sleep ($daemon_s|$client_s)"
check "the run's namespace was seen" grep -q '^net:\[' "$work/hang/netns"
check "no process is left in the run's network namespace" test "$(in_namespace "$(cat "$work/hang/netns")")" -eq 0
check "the capture is complete, not partial" test -f "$work/hang/hang.pcap" -a ! -e "$work/hang/hang.pcap.part"

echo "== SIGKILL of the lab leaves no partial capture"
mkdir -p "$work/kill9"
kill_s=94$$$RANDOM
printf 'scenario "A client that waits"\ntimeout 30s\nclient sleep %s\n' "$kill_s" >"$work/kill9/waits.scn"
"$tcplab" run --pcap-dir "$work/kill9/pcap" "$work/kill9/waits.scn" >/dev/null 2>&1 &
lab=$!
for _ in $(seq 500); do
	pgrep -f "sleep $kill_s" >/dev/null && break
	sleep 0.01
done
kill -KILL "$lab"
wait "$lab" 2>/dev/null
check "the capture was being written (the run had started)" test -d "$work/kill9/pcap"
check "nothing is left in the capture directory" test -z "$(ls -A "$work/kill9/pcap")"
check "the program went with the lab" gone "sleep $kill_s"

echo "== Ctrl-C: programs killed, partial captures deleted, status 130"
mkdir -p "$work/int"
int_s=96$$$RANDOM
printf 'scenario "A client that waits"\ntimeout 30s\nclient sleep %s\n' "$int_s" >"$work/int/waits.scn"
"$tcplab" run -j 2 --pcap-dir "$work/int" "$scenarios/deadlock.scn" "$work/int/waits.scn" >"$work/int.out" 2>&1 &
lab=$!
# Wait until the waiting client runs (the deadlock started beside it).
for _ in $(seq 500); do
	pgrep -f "sleep $int_s" >/dev/null && break
	sleep 0.01
done
kill -INT "$lab"
wait "$lab"
status=$?
cat "$work/int.out"
check "interrupted run exits 130" test "$status" -eq 130
check "it says so" grep -q "interrupted" "$work/int.out"
check "no partial capture is left" test -z "$(find "$work/int" -name '*.part')"
check "no program survives" gone "sleep $int_s"

echo "== a second signal during the teardown ends the lab at once, nothing left"
rm -rf "$work/int2" && mkdir -p "$work/int2"
int2_s=95$$$RANDOM
printf 'scenario "A client that waits"\ntimeout 30s\nclient sleep %s\n' "$int2_s" >"$work/int2/waits.scn"
"$tcplab" run --pcap-dir "$work/int2" "$work/int2/waits.scn" >"$work/int2.out" 2>&1 &
lab=$!
for _ in $(seq 500); do
	pgrep -f "sleep $int2_s" >/dev/null && break
	sleep 0.01
done
kill -INT "$lab"
kill -TERM "$lab"
wait "$lab"
status=$?
cat "$work/int2.out"
check "the lab ended with 128 + a signal it got (130 or 143)" test "$status" -eq 130 -o "$status" -eq 143
check "no partial capture is left" test -z "$(find "$work/int2" -name '*.part')"
check "no program survives" gone "sleep $int2_s"

echo "== bad input: FILE:LINE:COL, exit 2, nothing written"
mkdir -p "$work/bad"
printf 'scenario "bad"\nclient true\nexpect packets "tcp and and" == 1\n' >"$work/bad/badfilter.scn"
printf 'scenario "bad"\nsever tcp_sixteen server\nclient true\n' >"$work/bad/typo.scn"
for scn in badfilter typo; do
	"$tcplab" run --pcap-dir "$work/bad/pcap" "$work/bad/$scn.scn" >"$work/bad/$scn.out" 2>&1
	check "$scn: exit status 2" test $? -eq 2
	check "$scn: message names FILE:LINE:COL" grep -qE "$scn.scn:[23]:[0-9]+: " "$work/bad/$scn.out"
	check "$scn: no capture written" test ! -e "$work/bad/pcap"
done
cat "$work/bad/badfilter.out" "$work/bad/typo.out"

echo "$checks checks, $failures failed"
rm -rf "$work"
test "$failures" -eq 0
