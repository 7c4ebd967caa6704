#!/usr/bin/env bash
# facts_once_test: the capture of a scenario is read once, however many reports
# render it. `tcplab run --json --html --junit` on sixteen.scn under strace: the
# capture is opened for writing once (an O_TMPFILE in pcap/, or NAME.pcap.part
# where the file system has no O_TMPFILE) and for reading once (the
# analysis stage); the HTML report links to it instead of copying it.
# Usage: facts_once_test.sh TCPLAB
set -uo pipefail
tcplab=$(realpath "$1")
scenarios=$(realpath "$(dirname "$0")/../../scenarios")
failed=0
ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; failed=1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
strace -f -qq -e trace=openat,open -o trace.txt \
	"$tcplab" run --json r.json --html html --junit j.xml "$scenarios/sixteen.scn" >out.txt 2>&1
status=$?
[ "$status" -eq 0 ] && ok "sixteen passes under strace" || { bad "sixteen exits $status"; cat out.txt; }
reads=$(grep -E '"pcap/sixteen\.pcap"' trace.txt | grep -cv 'O_WRONLY\|O_RDWR')
writes=$(grep -cE '"pcap/sixteen\.pcap\.part".*O_WRONLY|"pcap".*O_TMPFILE' trace.txt)
[ "$reads" -eq 1 ] && ok "the capture is opened for reading once" ||
	{ bad "the capture is opened for reading $reads times"; grep 'sixteen\.pcap' trace.txt; }
[ "$writes" -eq 1 ] && ok "the capture is written once" || bad "the capture is opened for writing $writes times"
# What the reports say comes from that one reading.
grep -q '"tcp_packets": *10' r.json && ok "the JSON report has the flows" || bad "no flows in the JSON report"
grep -q 'class="seg' html/sixteen.html && ok "the HTML page has the diagram" || bad "no diagram in the HTML page"
[ "$(stat -c %i html/sixteen.pcap)" = "$(stat -c %i pcap/sixteen.pcap)" ] &&
	ok "the HTML report's capture is a link to the capture, not a copy" ||
	bad "the HTML report copied the capture"
exit $failed
