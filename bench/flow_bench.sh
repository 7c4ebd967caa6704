#!/bin/sh
# flow_bench: tcplab's analyser against tshark on a large synthetic capture.
# Generates ~1 million TCP packets (tools/pcapgen/gen_bench.py: ~10 000
# connections, 64 interleaved, with retransmissions, zero windows and RSTs),
# then times `flowdump` (the full analysis: every tcp.analysis flag, every
# connection) and `tshark -Y tcp.analysis.retransmission` on it, printing wall
# time, peak RSS and the ratio. A second, 4x smaller capture shows whether the
# analyser's memory stays flat in the packet count; the big capture again as
# pcapng (editcap) times tcplab's own pcapng block reader.
# Built as README builds (.bazelrc: optimised by default).
# usage: bench/flow_bench.sh [PACKETS]    (default 1000000; needs /usr/bin/time, editcap)
set -eu
cd "$(dirname "$0")/.."
packets=${1:-1000000}
ob=${BAZEL_OUTPUT_BASE:-/tmp/bazel-ob-flow}
work=${TMPDIR:-/tmp}/flow_bench.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM

command -v editcap >/dev/null || { echo "flow_bench: editcap missing (apt-get install -y wireshark-common)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "flow_bench: /usr/bin/time missing (apt-get install -y time)" >&2; exit 1; }
bazel --output_base="$ob" build //lab/cli:flowdump //lab:tcplab >/dev/null 2>&1 ||
	{ echo "flow_bench: building //lab/cli:flowdump and //lab:tcplab failed" >&2; exit 1; }
flowdump=$(bazel --output_base="$ob" info bazel-bin 2>/dev/null)/lab/cli/flowdump
tcplab=$(bazel --output_base="$ob" info bazel-bin 2>/dev/null)/lab/cli/tcplab

/usr/bin/python3 tools/pcapgen/gen_bench.py "$work/big.pcap" "$packets"
/usr/bin/python3 tools/pcapgen/gen_bench.py "$work/quarter.pcap" $((packets / 4))
ls -l "$work/big.pcap" | awk '{ printf "capture: %.1f MB\n", $5 / 1e6 }'

# measure NAME COMMAND...: runs it once under /usr/bin/time -v; sets
# NAME_wall (s), NAME_rss (kB), NAME_out (its stdout)
measure() {
	name=$1
	shift
	/usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>/dev/null
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
		for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/$name.time")
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$name.time")
	eval "${name}_wall=\$wall ${name}_rss=\$rss"
}

measure ours "$flowdump" "$work/big.pcap"
# The same packets as pcapng, read block by block by tcplab's own reader.
editcap -F pcapng "$work/big.pcap" "$work/big.pcapng"
measure ng "$flowdump" "$work/big.pcapng"
measure quarter "$flowdump" "$work/quarter.pcap"
measure tshark sh -c "tshark -n -r '$work/big.pcap' -Y tcp.analysis.retransmission \
	-T fields -e frame.number | wc -l"

our_retrans=$(awk '$1 == "retransmission" { print $2; exit }' "$work/ours.out")
their_retrans=$(cat "$work/tshark.out")
# The same question through the product's command line: does the capture hold
# exactly as many retransmissions as tshark counted?
measure check "$tcplab" check "$work/big.pcap" --expect "retransmissions == $their_retrans"
check_verdict=$(awk '{ print $1; exit }' "$work/check.out")
row() {
	awk -v n="$1" -v w="$2" -v r="$3" 'BEGIN { printf "%-34s %10s %14.1f\n", n, w, r / 1024 }'
}
printf '%-34s %10s %14s\n' "" "wall (s)" "peak RSS (MB)"
row "flowdump, $packets packets" "$ours_wall" "$ours_rss"
row "flowdump, $((packets / 4)) packets" "$quarter_wall" "$quarter_rss"
row "flowdump, $packets packets, pcapng" "$ng_wall" "$ng_rss"
row "tcplab check --expect retransmissions" "$check_wall" "$check_rss"
row "tshark -Y retransmission" "$tshark_wall" "$tshark_rss"
echo "retransmissions: flowdump $our_retrans, tshark $their_retrans"
echo "tcplab check --expect 'retransmissions == $their_retrans': $check_verdict"
awk -v a="$tshark_wall" -v b="$ours_wall" 'BEGIN { if (b <= 0) b = 0.01;
	printf "speed-up: %.1fx faster than tshark (target >= 30x)\n", a / b }'
awk -v a="$tshark_wall" -v b="$check_wall" 'BEGIN { if (b <= 0) b = 0.01;
	printf "tcplab check: %.1fx faster than tshark\n", a / b }'
awk -v a="$tshark_rss" -v b="$ours_rss" 'BEGIN { printf "memory: %.1fx less than tshark\n", a / b }'
ng_retrans=$(awk '$1 == "retransmission" { print $2; exit }' "$work/ng.out")
[ "$ng_retrans" = "$our_retrans" ] || { echo "flow_bench: pcapng and pcap counts differ" >&2; exit 1; }
[ "$our_retrans" = "$their_retrans" ] || { echo "flow_bench: retransmission counts differ" >&2; exit 1; }
