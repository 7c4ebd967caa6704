#!/usr/bin/env bash
# `tcplab check` and `tcplab show` on captures the lab did not write (the analyser's
# reference captures, crafted with scapy): verdicts that hold exit 0, wrong ones exit
# 1 in words, bad input exits 2 with a message naming the file; show draws ladders.
# Usage: check_test.sh TCPLAB PCAP_DIR
set -uo pipefail

tcplab=$(realpath "$1")
pcaps=$(realpath "$2")
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/checktest.XXXXXX")
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAILED: $*"; }
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
run() { # run NAME ARGS...: output in $work/NAME.out, status in $status
	local name=$1
	shift
	"$tcplab" "$@" >"$work/$name.out" 2>&1
	status=$?
}

run refused check "$pcaps/refused.pcap" --port 1060 --expect 'handshake refused' \
	--expect 'packets "tcp[tcpflags] & tcp-rst != 0" == 1'
check "refused: holds, exit 0" test "$status" -eq 0

run refused_wrong check "$pcaps/refused.pcap" --expect 'handshake complete'
check "refused judged complete: exit 1" test "$status" -eq 1
check "... in words" grep -q "expected handshake complete; saw refused on 127.0.0.1:40000 -> 127.0.0.1:1060" "$work/refused_wrong.out"

run echo_ok check "$pcaps/basic_echo.pcap" --port 1060 --expect 'handshake complete' \
	--expect 'teardown fin' --expect 'retransmissions == 0'
check "basic_echo: holds, exit 0" test "$status" -eq 0

run retrans check "$pcaps/retransmission.pcap" --expect 'retransmissions == 0'
check "retransmission capture judged without: exit 1" test "$status" -eq 1
check "... says how many it saw" grep -qE "expected 0 retransmissions; saw [1-9]" "$work/retrans.out"

# A resend is what Wireshark marks a retransmission or, within an RTT of the
# highest segment, out-of-order: the count is the sum, one of each here.
run resends check "$pcaps/retransmission.pcap" --expect 'resends from client == 1' \
	--expect 'resends from server == 0'
check "retransmission capture: one resend from the client, exit 0" test "$status" -eq 0
run resends_ooo check "$pcaps/out_of_order.pcap" --expect 'resends from client == 0'
check "out_of_order capture judged without resends: exit 1" test "$status" -eq 1
check "... says it saw one, out-of-order" grep -q "expected 0 resent segments from the client; saw 1 (0 marked retransmission, 1 out-of-order)" "$work/resends_ooo.out"

run zero check "$pcaps/zero_window.pcap" --expect 'zero-window from server == 0' --expect 'zero-window from client == 0'
check "zero_window capture judged without: exit 1" test "$status" -eq 1
check "... names the zero windows" grep -qE "zero-window advertisements from the (client|server); saw [1-9]" "$work/zero.out"

for p in link_sll link_sll2 link_raw link_null link_loop6 link_vlan link_ipv6; do
	run "$p" check "$pcaps/$p.pcap" --expect 'handshake complete'
	check "$p: a complete handshake on this link type" test "$status" -eq 0
done

printf 'scenario "judge a capture"\nclient true\nport 1060\nexpect handshake refused\nexpect client exit 0\n' >"$work/needs_run.scn"
run needs_run check "$pcaps/refused.pcap" --scenario "$work/needs_run.scn"
check "an expectation about programs on a bare capture: exit 2" test "$status" -eq 2
check "... naming the file and line" grep -q "needs_run.scn:5:1: " "$work/needs_run.out"

head -c 300 "$pcaps/bulk.pcap" >"$work/truncated.pcap"
run truncated check "$work/truncated.pcap" --expect 'handshake complete'
check "a truncated capture: exit 2" test "$status" -eq 2
check "... naming the file" grep -q "truncated.pcap" "$work/truncated.out"

# Cut inside the last record: the analyser stops there, and check refuses to judge.
head -c 700 "$pcaps/basic_echo.pcap" >"$work/cut.pcap"
run cut check "$work/cut.pcap" --expect 'handshake complete'
check "a capture cut inside a record, no packet filter: exit 2" test "$status" -eq 2
check "... saying where reading stopped" grep -q "cut.pcap: reading stopped after 8 packets" "$work/cut.out"

echo "not a capture" >"$work/text.pcap"
run text check "$work/text.pcap" --expect 'handshake complete'
check "a file that is no capture: exit 2" test "$status" -eq 2

run typo check "$pcaps/refused.pcap" --expect 'handshake sideways'
check "a bad --expect: exit 2" test "$status" -eq 2
check "... saying what is wrong" grep -q "unknown handshake \"sideways\"" "$work/typo.out"

# Every Wireshark flag is assertable, optionally per sender; --json writes the
# analysis and the verdicts (tcplab-analysis/1), "-" standing for standard output.
run analysis check "$pcaps/fast_retransmission.pcap" --expect 'analysis duplicate_ack == 3 from server' \
	--expect 'analysis fast_retransmission == 1 from client' --expect 'analysis out_of_order == 0'
check "analysis flags: hold, exit 0" test "$status" -eq 0
run analysis_wrong check "$pcaps/fast_retransmission.pcap" --expect 'analysis duplicate_ack == 3 from client'
check "analysis flag from the wrong side: exit 1" test "$status" -eq 1
check "... in words" grep -q "expected 3 segments from the client flagged tcp.analysis.duplicate_ack; saw 0" "$work/analysis_wrong.out"
check "... with the Wireshark filter" grep -q "tcp.analysis.duplicate_ack" "$work/analysis_wrong.out"
run analysis_typo check "$pcaps/fast_retransmission.pcap" --expect 'analysis duplicate_acks == 3'
check "an unknown analysis flag: exit 2" test "$status" -eq 2
check "... with a suggestion" grep -q 'unknown analysis flag "duplicate_acks" (did you mean "duplicate_ack"?)' "$work/analysis_typo.out"
"$tcplab" check "$pcaps/fast_retransmission.pcap" --json - --expect 'analysis retransmission == 1' >"$work/json.out" 2>"$work/json.err"
status=$?
check "check --json -: exit 0" test "$status" -eq 0
check "... one JSON document with the verdict and the flows" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "tcplab-analysis/1" and d["status"] == "pass", d
assert d["verdicts"][0]["held"] is True
assert d["flows"]["analysis"]["retransmission"] == 1
assert d["flows"]["connections"][0]["server_to_client"]["analysis"]["duplicate_ack"] == 3
' "$work/json.out"
run json_file check "$pcaps/retransmission.pcap" --json "$work/check.json" --expect 'analysis retransmission == 0'
check "check --json FILE: exit 1 when a verdict fails" test "$status" -eq 1
check "... the terminal report still printed" grep -q "FAIL" "$work/json_file.out"
check "... and the file written whole" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "fail" and d["verdicts"][0]["held"] is False
' "$work/check.json"
"$tcplab" show --json - <"$pcaps/multi_link.pcapng" >"$work/show_json.out" 2>"$work/show_json.err"
status=$?
check "show --json of a pcapng on standard input: exit 0" test "$status" -eq 0
check "... interfaces of three link types, one noted" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = d["flows"]
assert d["schema"] == "tcplab-analysis/1" and d["status"] is None and d["verdicts"] is None
assert f["packets"] == 27 and f["undecoded"] == 1 and "link type 147" in f["decode_note"]
assert len(f["connections"]) == 2
' "$work/show_json.out"
run lo_any check "$pcaps/lo_any.pcapng" --expect 'packets "tcp" == 64' --expect 'handshake refused' --port 1061
check "dumpcap -i lo -i any: packet filters over both link types" test "$status" -eq 0

run show show "$pcaps/basic_echo.pcap"
check "show: exit 0" test "$status" -eq 0
check "show: a SYN arrow" grep -q "SYN seq=0" "$work/show.out"
check "show: the summary line" grep -q "handshake complete" "$work/show.out"
check "show: frame numbers first" grep -q "^    1 0.000000 " "$work/show.out"
run show_time show --time sideways "$pcaps/basic_echo.pcap"
check "show --time sideways: exit 2" test "$status" -eq 2
check "... saying what --time wants" grep -q "time wants absolute or relative" "$work/show_time.out"
run show_cut show "$work/cut.pcap"
check "show on a capture cut short: exit 2" test "$status" -eq 2
check "... drawing what came before" grep -q "SYN seq=0" "$work/show_cut.out"
check "... and saying where reading stopped" grep -q "tcplab: .*cut.pcap: reading stopped after 8 packets" "$work/show_cut.out"
run show_bad show "$work/text.pcap"
check "show on a non-capture: exit 2" test "$status" -eq 2

cat "$work"/*.out
echo "$checks checks, $failures failed"
rm -rf "$work"
test "$failures" -eq 0
