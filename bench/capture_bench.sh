#!/usr/bin/env bash
# The capture on bulk transfers: a sendall client sends SIZE bytes to a Python
# discard server through `tcplab run`, and the capture must keep every packet.
# For each size and payload budget (--snap-payload) it prints: packets written,
# packets lost (kernel drops), packets cut to their headers, the CPU time the lab
# spent on the capture, the pcap's size, whether `expect bytes client->server ==
# SIZE` and `expect teardown fin` held, and the FINs and whole-payload bytes
# tshark sees (the first 16 KiB each way must be whole).
# Usage: bench/capture_bench.sh [SIZE...] [-- BUDGET...]
#   defaults: sizes 500000000 1073741824; budgets 1MiB all
# (as root; builds with Bazel first; one run per pair, loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=()
budgets=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do sizes+=("$1"); shift; done
[ $# -gt 0 ] && shift
budgets=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(500000000 1073741824)
[ ${#budgets[@]} -gt 0 ] || budgets=(1MiB all)

bazel build //lab:tcplab >/dev/null 2>&1
bin=$(bazel info bazel-bin 2>/dev/null)
tcplab="$bin/lab/cli/tcplab"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cp lab/tests/bulk/*.py "$out/"

printf '%-11s %-7s %8s %6s %8s %9s %10s %5s %8s %5s %12s\n' size budget packets lost headers capture_s pcap_bytes bytes teardown fins whole_16KiB
for size in "${sizes[@]}"; do
	for budget in "${budgets[@]}"; do
		scn="$out/bulk_$size.scn"
		cat >"$scn" <<SCN
scenario "$size bytes client->server"
timeout 120s
server python3 discard_server.py \$HOST \$PORT 20000
client python3 bulk_client.py \$HOST \$PORT $size
expect bytes client->server == $size
expect teardown fin
SCN
		"$tcplab" run -j 1 -v --snap-payload "$budget" --pcap-dir "$out/pcap" \
			--json "$out/r.json" "$scn" >"$out/run.out" 2>&1 || true
		pcap="$out/pcap/bulk_$size.pcap"
		read -r packets lost headers cpu_s held_bytes held_teardown < <(/usr/bin/python3 - "$out/r.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))['scenarios'][0]
c = s['capture'] or {}
v = s['verdicts']
print(c.get('packets', 0), c.get('kernel_drops', 0) + c.get('ifdrops', 0),
      c.get('headers_only', 0), '%.3f' % (c.get('cpu_us', 0) / 1e6),
      v[0]['state'] if v else '-', v[1]['state'] if len(v) > 1 else '-')
PY
)
		size_bytes=$(stat -c %s "$pcap" 2>/dev/null || echo 0)
		fins=$(tshark -r "$pcap" -Y 'tcp.flags.fin==1' 2>/dev/null | wc -l)
		# Whole payload bytes among the first 16 KiB of sequence space each way.
		whole=$(tshark -r "$pcap" -Y 'tcp.len>0 && tcp.seq<16385' -T fields \
			-e tcp.srcport -e tcp.len -e frame.cap_len -e frame.len 2>/dev/null |
			awk '$3 == $4 {w[$1 == 1060] += $2} END {printf "%d/%d", w[0], w[1]}')
		printf '%-11s %-7s %8s %6s %8s %9s %10s %5s %8s %5s %12s\n' "$size" "$budget" \
			"$packets" "$lost" "$headers" "$cpu_s" "$size_bytes" "$held_bytes" \
			"$held_teardown" "$fins" "$whole"
	done
done
