#!/bin/sh
# regen_golden: rewrites the golden `show` outputs lab/tests/pcaps/*.show from
# the current code. Run it on purpose when show's output changes (or after
# gen_pcaps.py), then review the diff: show_test compares them byte for byte.
#   NAME.show        flowdump --show NAME.pcap (or NAME.pcapng)
#   NAME.ascii.show  flowdump --show --ascii NAME.pcap
#   NAME.all.show    flowdump --show --all NAME.pcap
#   NAME.absolute.show, NAME.relative.show   flowdump --show --time absolute|relative
# usage: tools/pcapgen/regen_golden.sh   (BAZEL_OUTPUT_BASE to pick the output base)
set -eu
cd "$(dirname "$0")/../.."
ob=${BAZEL_OUTPUT_BASE:-/tmp/bazel-ob-flow}
bazel --output_base="$ob" build //lab/cli:flowdump >/dev/null 2>&1 ||
	{ echo "regen_golden: building //lab/cli:flowdump failed" >&2; exit 1; }
flowdump=$(bazel --output_base="$ob" info bazel-bin 2>/dev/null)/lab/cli/flowdump
dir=lab/tests/pcaps
for pcap in "$dir"/*.pcap "$dir"/*.pcapng; do
	case "$pcap" in *.relative.* | *.absolute.*) continue ;; esac
	"$flowdump" --show "$pcap" >"${pcap%.pcap*}.show"
done
"$flowdump" --show --ascii "$dir/zero_window.pcap" >"$dir/zero_window.ascii.show"
"$flowdump" --show --all "$dir/bulk.pcap" >"$dir/bulk.all.show"
# frame numbers with other protocols' frames first; a date wider than a time
"$flowdump" --show --time relative "$dir/mixed.pcap" >"$dir/mixed.relative.show"
"$flowdump" --show --time absolute "$dir/mixed.pcap" >"$dir/mixed.absolute.show"
"$flowdump" --show --time absolute "$dir/dup_ack_storm.pcap" >"$dir/dup_ack_storm.absolute.show"
echo "regen_golden: $(ls "$dir"/*.show | wc -l) golden files written in $dir"
