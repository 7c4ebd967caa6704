#!/usr/bin/env bash
# The reports of real runs: `tcplab run --json --junit --html` runs
# scenarios/sixteen.scn, deadlock.scn and server_down.scn (real namespaces,
# programs and captures) and writes the JSON, JUnit and HTML reports, and this
# script checks what they show:
# - sixteen's sequence diagram: SYN, SYN/ACK, the handshake's ACK, 16 bytes each
#   way, a FIN each way, no RST (the same counts tshark gives for its capture);
# - deadlock's diagram marks zero windows; its JSON says deadlock;
# - the JUnit XML is well-formed (xmllint) with the right counts (ElementTree);
# - headless Chromium renders the deadlock page to a non-empty PNG.
# Usage: report_lab_test.sh TCPLAB
set -uo pipefail

tcplab=$(realpath "$1")
scenarios="${TEST_SRCDIR:-.}/tcplab/scenarios"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/reportlab.XXXXXX")
failures=0
# Under --config=asan the reference programs are sanitized too, and LeakSanitizer
# cannot work in the scenario's PID namespace (it reads /proc/PID/task of a /proc
# that belongs to the host): its fatal error would fail the programs, not the
# reports. The writers' leaks are checked by their cmocka tests.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}
count() { # count FILE PATTERN: lines of FILE matching the ERE
	grep -cE "$2" "$1"
}
arrows() { # arrows FILE PATTERN: the <g class="seg ..."> elements matching PATTERN
	grep -oE '<g class="seg[^>]*>' "$1" | grep -cE "$2"
}

"$tcplab" run --pcap-dir "$work/pcap" --json "$work/report.json" --junit "$work/junit.xml" \
	--html "$work/html" "$scenarios/sixteen.scn" "$scenarios/deadlock.scn" \
	"$scenarios/server_down.scn" | tee "$work/run.out"
check "tcplab run passed and wrote the reports" test "${PIPESTATUS[0]}" -eq 0
check "all three scenarios passed" test "$(grep -c '^PASS ' "$work/run.out")" -eq 3

page="$work/html/sixteen.html"
p="$work/pcap/sixteen.pcap"
check "sixteen: one diagram" test "$(count "$page" '<svg class="seqdiag"')" -eq 1
check "sixteen: one SYN arrow" test "$(arrows "$page" 'data-flags="SYN"')" -eq 1
check "sixteen: one SYN/ACK arrow" test "$(arrows "$page" 'data-flags="SYN/ACK"')" -eq 1
check "sixteen: the handshake's ACK" \
	test "$(arrows "$page" 'data-flags="ACK" data-dir="c2s" data-seq="1" data-ack="1" data-len="0"')" -ge 1
check "sixteen: 16 bytes client to server" test "$(arrows "$page" 'data-dir="c2s".*data-len="16"')" -eq 1
check "sixteen: 16 bytes server to client" test "$(arrows "$page" 'data-dir="s2c".*data-len="16"')" -eq 1
check "sixteen: no other data" test "$(arrows "$page" 'class="seg[^"]* data[ "]')" -eq 2
check "sixteen: a FIN from the client" test "$(arrows "$page" 'class="[^"]* fin[ "].*data-dir="c2s"')" -eq 1
check "sixteen: a FIN from the server" test "$(arrows "$page" 'class="[^"]* fin[ "].*data-dir="s2c"')" -eq 1
check "sixteen: no RST" test "$(arrows "$page" 'class="[^"]* rst[ "]')" -eq 0
check "sixteen: as many arrows as tshark sees segments" \
	test "$(arrows "$page" .)" -eq "$(tshark -r "$p" 2>/dev/null | wc -l)"
check "sixteen: the capture is copied beside the page" cmp -s "$p" "$work/html/sixteen.pcap"

page="$work/html/deadlock.html"
check "deadlock: zero windows highlighted" test "$(arrows "$page" 'zero-window')" -ge 2
check "deadlock: long runs folded" test "$(count "$page" '<g class="fold"')" -ge 1
check "server_down: the RST arrow" test "$(arrows "$work/html/server_down.html" 'class="[^"]* rst[ "]')" -eq 1

check "junit.xml is well-formed" xmllint --noout "$work/junit.xml"
check "junit.xml: 3 tests, 0 failures, 0 errors" /usr/bin/python3 - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
s = root.find('testsuite')
assert (s.get('tests'), s.get('failures'), s.get('errors')) == ('3', '0', '0'), s.attrib
cases = s.findall('testcase')
assert [c.get('name') for c in cases] == ['sixteen', 'deadlock', 'server_down']
assert all(c.get('classname') == 'tcplab.scenarios' for c in cases)
out = cases[0].find('system-out').text
assert "The server said b'Farewell, client'" in out, out
PY
check "report.json: figures of the runs" /usr/bin/python3 - "$work/report.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
six, dead, down = d['scenarios']
c = six['flows']['connections'][0]
assert c['handshake'] == 'complete' and c['teardown'] == 'fin'
assert c['client_to_server']['data_bytes'] == 16 and c['server_to_client']['data_bytes'] == 16
assert six['programs']['client']['exit_code'] == 0
assert dead['outcome'] == 'deadlock' and dead['watch']['verdict_us'] > 0
assert dead['flows']['analysis']['zero_window'] >= 2
assert down['flows']['connections'][0]['handshake'] == 'refused'
PY

# Headless Chromium renders the deadlock page (no network: a file:// URL, and
# the page loads nothing else).
png="$work/deadlock.png"
profile=$(mktemp -d "$work/chromium.XXXXXX")
if command -v chromium >/dev/null; then
	HOME="$profile" chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --screenshot="$png" --window-size=1200,1600 \
		"file://$work/html/deadlock.html" >"$work/chromium.log" 2>&1
	check "chromium wrote a PNG of 1200x1600" /usr/bin/python3 - "$png" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h = struct.unpack('>II', data[16:24])
assert (w, h) == (1200, 1600), (w, h)
assert len(data) > 20000, len(data)
PY
	[ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ] && cp "$png" "$TEST_UNDECLARED_OUTPUTS_DIR/"
else
	check "chromium is installed (tools/bootstrap)" false
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
