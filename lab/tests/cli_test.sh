#!/usr/bin/env bash
# The command line's edges (issue 13, point 7), each with the case that fails:
# - `list` on a FIFO returns at once with status 2; on an empty directory, 2;
# - a UTF-8 byte order mark at the start of a file is accepted;
# - a missing program: exit 2 and "FILE:LINE:COL: client command not found"
#   before anything runs (no capture directory made);
# - an unwritable --json destination: exit 2 before the suite runs;
# - --repeat N runs each scenario N times, one capture each, and names the
#   scenario whose verdicts differed; the same file twice gets two captures.
# Usage: cli_test.sh TCPLAB
set -uo pipefail

tcplab=$(realpath "$1")
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/cli.XXXXXX")
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAILED: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
cd "$work" || exit 2

echo "== list: a FIFO, an empty directory"
mkfifo fifo.scn
timeout 5 "$tcplab" list fifo.scn >fifo.out 2>&1
status=$?
check "list on a FIFO returns (not the 124 of timeout) with status 2" test "$status" -eq 2
check "and says why" grep -q "not a regular file" fifo.out
mkdir empty
"$tcplab" list empty >empty.out 2>&1
check "list on an empty directory exits 2" test $? -eq 2
printf 'scenario "fine"\nclient true\n' >fine.scn
"$tcplab" list fine.scn >fine.out 2>&1
check "the control: list on a scenario exits 0" test $? -eq 0

echo "== a UTF-8 BOM"
printf '\xef\xbb\xbfscenario "with a BOM"\nclient true\n' >bom.scn
"$tcplab" list bom.scn >bom.out 2>&1
check "a file that starts with a BOM is accepted" test $? -eq 0
check "its summary is read" grep -q "with a BOM" bom.out

echo "== a missing program"
printf 'scenario "missing"\nclient no_such_program_%s --flag\n' "$$" >missing.scn
"$tcplab" run --pcap-dir "$work/missing_pcap" missing.scn >missing.out 2>&1
check "exit status 2" test $? -eq 2
check "FILE:LINE:COL: client command not found" grep -q "missing.scn:2:8: client command not found: no_such_program_$$" missing.out
check "nothing ran: no capture directory" test ! -e "$work/missing_pcap"
printf 'scenario "found"\nclient ./here.sh\n' >found.scn
printf '#!/bin/sh\nexit 0\n' >here.sh
chmod +x here.sh
"$tcplab" run --pcap-dir "$work/found_pcap" found.scn >found.out 2>&1
check "the control: a program beside the scenario is found and runs" test $? -eq 0

echo "== an unwritable report destination"
"$tcplab" run --json "$work/no/such/dir/r.json" --pcap-dir "$work/json_pcap" fine.scn >json.out 2>&1
check "exit status 2" test $? -eq 2
check "named before the suite ran" grep -q -- "--json $work/no/such/dir/r.json: cannot write there" json.out
check "nothing ran" test ! -e "$work/json_pcap"

echo "== --repeat and the same file twice"
# Fails the first time it runs, passes after: a flaky scenario.
printf 'scenario "flaky"\nclient if [ -e %s/ran ]; then exit 0; else touch %s/ran; exit 1; fi\nexpect client exit 0\n' "$work" "$work" >flaky.scn
"$tcplab" run -j 1 --repeat 3 --pcap-dir "$work/rep" flaky.scn >rep.out 2>&1
check "some run failed: exit 1" test $? -eq 1
check "three runs" test "$(grep -cE '^(PASS|FAIL) +flaky ' rep.out)" -eq 3
check "three captures" test -f rep/flaky.pcap -a -f rep/flaky-2.pcap -a -f rep/flaky-3.pcap
check "the differing verdicts are named" grep -q "differed: flaky: 2 PASS, 1 FAIL" rep.out
"$tcplab" run --repeat 2 --pcap-dir "$work/rep2" fine.scn >rep2.out 2>&1
check "the control: a steady scenario repeated differs in nothing" test $? -eq 0
check "and nothing is named" test -z "$(grep differed rep2.out)"
"$tcplab" run --pcap-dir "$work/twice" fine.scn fine.scn >twice.out 2>&1
check "the same file twice runs twice" test "$(grep -c '^PASS  fine ' twice.out)" -eq 2
check "with two captures" test -f twice/fine.pcap -a -f twice/fine-2.pcap

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ] || cat ./*.out
rm -rf "$work"
test "$failures" -eq 0
