#!/usr/bin/env bash
# The scenarios with a link (the wire between two namespaces), end to end, with
# tshark as the judge of what their captures hold:
# - each passes, and both sides' captures open in tshark;
# - what each scenario's story says is in the captures, counted by tshark (SYN
#   back-off, the lost SYN-ACK, retransmissions and duplicate ACKs under loss,
#   out-of-order segments, bad checksums, keep-alive probes, the rate);
# - a packet the link dropped is in the sender's side's capture and not the
#   other's, as many as the link says it dropped;
# - the same seed drops the same packets (by their place in their direction),
#   another seed others;
# - bad link lines end with FILE:LINE:COL and exit status 2;
# - nothing is left behind: no network namespace, no process.
# Usage: link_test.sh TCPLAB (Bazel passes the path of //lab/cli:tcplab).
set -uo pipefail

tcplab=$(realpath "$1")
runfiles=$(realpath "${TEST_SRCDIR:-$(dirname "$tcplab")/tcplab.runfiles}/tcplab")
scenarios="$runfiles/scenarios"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/linktest.XXXXXX")
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAILED: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
count() { # count PCAP DISPLAY_FILTER: frames tshark shows
	tshark -n -o tcp.check_checksum:TRUE -r "$1" -Y "$2" 2>/dev/null | wc -l
}
# The number N in "DIR N packets" / ", N dropped (KIND)" of a scenario's link line.
link_figure() { # link_figure OUT NAME DIR WHAT  (WHAT: packets, loss, drop, down, corrupted ...)
	local line
	line=$(grep -A1 "^[A-Z]*  $2 " "$1" | grep "link (seed" | sed "s/.*$3 //; s/;.*//")
	case $4 in
	packets) echo "$line" | sed -n 's/^\([0-9]*\) packets.*/\1/p' ;;
	corrupted | duplicated | reordered) echo "$line" | grep -o "[0-9]* $4" | cut -d' ' -f1 ;;
	*) echo "$line" | grep -o "[0-9]* dropped ($4)" | cut -d' ' -f1 ;;
	esac
}
# The places (from 0) in its direction of the client's packets that the client
# side saw leave and the server side never saw (IP IDs identify them: Linux
# numbers each connected socket's packets).
lost_places() { # lost_places CLIENT_PCAP SERVER_PCAP
	tshark -n -r "$2" -Y 'ip.src==127.0.0.2' -T fields -e ip.id 2>/dev/null | sort -u >"$work/seen"
	tshark -n -r "$1" -Y 'ip.src==127.0.0.2' -T fields -e ip.id 2>/dev/null |
		awk 'NR==FNR { seen[$1] = 1; next } !($1 in seen) { print FNR - 1 }' "$work/seen" -
}

net_namespaces() { lsns -t net -n -o NS 2>/dev/null | sort -u | wc -l; }
namespaces_before=$(net_namespaces)

link_scenarios="server_unreachable lost_synack lossy_bulk lost_reply lost_reply_timeout
partition_keepalive slow_link reorder duplicate corrupt"
echo "== the scenarios with a link pass"
files=()
for name in $link_scenarios; do files+=("$scenarios/$name.scn"); done
"$tcplab" run -j 2 --pcap-dir "$work/pcap" "${files[@]}" >"$work/run.out" 2>&1
status=$?
cat "$work/run.out"
check "tcplab run exits 0" test "$status" -eq 0
for name in $link_scenarios; do
	check "$name passes" grep -q "^PASS  $name " "$work/run.out"
	check "$name: the report prints the link's seed" grep -A1 "^[A-Z]*  $name " "$work/run.out" | grep -q "link (seed [0-9]*)"
	check "$name: the client side's capture opens in tshark" tshark -r "$work/pcap/$name.pcap" -q 2>/dev/null
	check "$name: the server side's capture opens in tshark" tshark -r "$work/pcap/$name.server.pcap" -q 2>/dev/null
done

echo "== what the captures hold (counted by tshark)"
c=$work/pcap/server_unreachable.pcap
s=$work/pcap/server_unreachable.server.pcap
check "server_unreachable: three SYNs left the client" test "$(count "$c" 'tcp.flags.syn==1')" -eq 3
check "server_unreachable: none reached the server" test "$(count "$s" 'tcp')" -eq 0
times=$(tshark -r "$c" -T fields -e frame.time_relative 2>/dev/null | tr '\n' ' ')
check "server_unreachable: the retries back off, at about 1 s and 3 s ($times)" \
	awk -v t="$times" 'BEGIN { split(t, a, " "); exit !(a[2] >= 0.9 && a[2] < 1.5 && a[3] >= 2.8 && a[3] < 3.8) }'

c=$work/pcap/lost_synack.pcap
s=$work/pcap/lost_synack.server.pcap
check "lost_synack: the server sent one SYN-ACK more than reached the client" \
	test "$(count "$s" 'tcp.flags.syn==1 && tcp.flags.ack==1')" -eq "$(($(count "$c" 'tcp.flags.syn==1 && tcp.flags.ack==1') + 1))"
check "lost_synack: the client's connect took a retry (tshark's iRTT of the resent handshake is short, the first SYN is 1 s before the ACK)" \
	awk -v t="$(tshark -r "$c" -Y 'tcp.flags.ack==1 && tcp.flags.syn==0' -T fields -e frame.time_relative 2>/dev/null | head -1)" 'BEGIN { exit !(t >= 0.9) }'

c=$work/pcap/lossy_bulk.pcap
s=$work/pcap/lossy_bulk.server.pcap
check "lossy_bulk: retransmissions in the client side's capture" test "$(count "$c" 'tcp.analysis.retransmission')" -gt 0
check "lossy_bulk: fast retransmissions" test "$(count "$c" 'tcp.analysis.fast_retransmission')" -gt 0
check "lossy_bulk: duplicate ACKs" test "$(count "$c" 'tcp.analysis.duplicate_ack')" -gt 0
sent=$(count "$c" 'ip.src==127.0.0.2')
arrived=$(count "$s" 'ip.src==127.0.0.2')
dropped=$(link_figure "$work/run.out" lossy_bulk client-\>server loss)
# A last ACK the relay read as the run stopped never arrives either (at most a couple).
missing=$((sent - arrived - ${dropped:-99999}))
check "lossy_bulk: client->server, the link's $dropped drops are what the server side never saw ($sent sent, $arrived arrived)" \
	test "$missing" -ge 0 -a "$missing" -le 2
check "lossy_bulk: the client side saw every packet the client sent ($(link_figure "$work/run.out" lossy_bulk client-\>server packets) per the link)" \
	test "$sent" -eq "$(link_figure "$work/run.out" lossy_bulk client-\>server packets)"

c=$work/pcap/reorder.pcap
s=$work/pcap/reorder.server.pcap
check "reorder: out-of-order segments on the server's side" test "$(count "$s" 'tcp.analysis.out_of_order')" -gt 0
check "reorder: none lost (no packet missing from the server side)" test "$(count "$c" 'ip.src==127.0.0.2')" -eq "$(count "$s" 'ip.src==127.0.0.2')"

c=$work/pcap/duplicate.pcap
s=$work/pcap/duplicate.server.pcap
dups=$(link_figure "$work/run.out" duplicate client-\>server duplicated)
extra=$(($(count "$s" 'ip.src==127.0.0.2') - $(count "$c" 'ip.src==127.0.0.2') - ${dups:-99999}))
check "duplicate: the server side saw $dups packets more than the client sent (less a last ACK read as the run stopped)" \
	test "$extra" -le 0 -a "$extra" -ge -2
check "duplicate: the server answered with duplicate ACKs" test "$(count "$c" 'tcp.analysis.duplicate_ack')" -gt 0

c=$work/pcap/corrupt.pcap
s=$work/pcap/corrupt.server.pcap
bad=$(link_figure "$work/run.out" corrupt client-\>server corrupted)
check "corrupt: the server side holds the link's $bad segments with a bad checksum" test "$(count "$s" 'tcp.checksum.status==0')" -eq "${bad:--1}"
check "corrupt: the client side holds none" test "$(count "$c" 'tcp.checksum.status==0')" -eq 0
# A resend that follows the previous segment within the handshake's RTT is
# Wireshark's out_of_order rather than its retransmission.
check "corrupt: the client resent them" test "$(count "$c" 'tcp.analysis.retransmission || tcp.analysis.out_of_order')" -gt 0

c=$work/pcap/lost_reply.pcap
s=$work/pcap/lost_reply.server.pcap
check "lost_reply: the server sent its reply (and resent it)" test "$(count "$s" 'ip.src==127.0.0.1 && tcp.len>0')" -ge 2
check "lost_reply: none of it reached the client" test "$(count "$c" 'ip.src==127.0.0.1 && tcp.len>0')" -eq 0

c=$work/pcap/partition_keepalive.pcap
check "partition_keepalive: keep-alive probes from the client" test "$(count "$c" 'tcp.analysis.keep_alive && ip.src==127.0.0.2')" -ge 2

s=$work/pcap/slow_link.server.pcap
rate=$(tshark -r "$s" -Y 'ip.src==127.0.0.2' -T fields -e frame.time_epoch -e ip.len 2>/dev/null |
	awk 'NR==1 { t0 = $1 } { bytes += $2; t = $1 } END { if (t > t0) printf "%d", bytes * 8 / (t - t0) }')
check "slow_link: client->server arrived at no more than 1 Mbit/s (${rate} bit/s)" test "${rate:-99999999}" -le 1050000

echo "== the same seed drops the same packets, another seed others"
sed 's/^link seed 7$/link seed 8/' "$scenarios/lossy_bulk.scn" >"$work/lossy_bulk_seed8.scn"
cp "$scenarios/lossy_bulk.scn" "$work/lossy_bulk_again.scn"
(cd "$scenarios" && "$tcplab" run -j 2 --pcap-dir "$work/pcap" "$work/lossy_bulk_again.scn" "$work/lossy_bulk_seed8.scn") >"$work/seeds.out" 2>&1
cat "$work/seeds.out"
lost_places "$work/pcap/lossy_bulk.pcap" "$work/pcap/lossy_bulk.server.pcap" >"$work/lost1"
lost_places "$work/pcap/lossy_bulk_again.pcap" "$work/pcap/lossy_bulk_again.server.pcap" >"$work/lost2"
lost_places "$work/pcap/lossy_bulk_seed8.pcap" "$work/pcap/lossy_bulk_seed8.server.pcap" >"$work/lost3"
# Compare the places both runs had (the last few ACKs may differ in number).
n=$(( $(count "$work/pcap/lossy_bulk.pcap" 'ip.src==127.0.0.2') < $(count "$work/pcap/lossy_bulk_again.pcap" 'ip.src==127.0.0.2') ?
	$(count "$work/pcap/lossy_bulk.pcap" 'ip.src==127.0.0.2') : $(count "$work/pcap/lossy_bulk_again.pcap" 'ip.src==127.0.0.2') ))
awk -v n="$n" '$1 < n' "$work/lost1" >"$work/lost1.common"
awk -v n="$n" '$1 < n' "$work/lost2" >"$work/lost2.common"
awk -v n="$n" '$1 < n' "$work/lost3" >"$work/lost3.common"
check "lossy_bulk: the first run lost packets ($(wc -l <"$work/lost1.common") of the first $n)" test "$(wc -l <"$work/lost1.common")" -gt 5
check "lossy_bulk twice with seed 7: the same places lost" cmp -s "$work/lost1.common" "$work/lost2.common"
check "lossy_bulk with seed 8: other places" bash -c "! cmp -s '$work/lost1.common' '$work/lost3.common'"

echo "== bad link lines: FILE:LINE:COL, exit status 2"
bad() { # bad NAME LINE EXPECTED_MESSAGE
	printf 'scenario "bad"\nserver true\nclient true\n%s\n' "$2" >"$work/$1.scn"
	"$tcplab" run --pcap-dir "$work/badpcap" "$work/$1.scn" >"$work/$1.out" 2>&1
	local rc=$?
	check "$1: exit status 2" test "$rc" -eq 2
	check "$1: $3" grep -qF "$work/$1.scn:$3" "$work/$1.out"
}
bad loss_101 'link loss 101%' '4:11: bad percentage "101%": at most 100%'
bad delay_negative 'link delay -1ms' '4:12: bad duration "-1ms": a duration cannot be negative'
bad bad_filter 'link drop "tcp port banana"' '4:11: bad filter "tcp port banana"'
bad mtu_20 'link mtu 20' '4:10: bad MTU "20"'
printf 'scenario "bad"\nhost ::1\nserver true\nclient true\nlink loss 1%%\n' >"$work/ipv6.scn"
"$tcplab" run --pcap-dir "$work/badpcap" "$work/ipv6.scn" >"$work/ipv6.out" 2>&1
check "host ::1 with a link: exit status 2" test $? -eq 2
check "host ::1 with a link: the host line named" grep -qF "$work/ipv6.scn:2:1: host ::1 with a link" "$work/ipv6.out"
check "bad input wrote no capture" test -z "$(ls -A "$work/badpcap" 2>/dev/null)"

echo "== nothing is left behind"
check "no network namespace left ($(net_namespaces) now, $namespaces_before before)" test "$(net_namespaces)" -le "$namespaces_before"
check "no program left" test -z "$(pgrep -f 'tcp_sixteen|tcp_deadlock|tcp_evloop|sixteen_client.py|keepalive_client.py' 2>/dev/null)"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
