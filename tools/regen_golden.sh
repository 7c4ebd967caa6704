#!/bin/sh
# regen_golden.sh: rewrites golden files after a deliberate change of the output
# they hold. Review the result with `git diff` before committing: a golden file
# that changed by accident is a bug, not an update.
#
#   tools/regen_golden.sh [PART]     PART: scenario (default: all parts)
#
# scenario: lab/scenario/tests/bad/NAME.err from parsing NAME.scn
#           (the exact "FILE:LINE:COL: message"; checked by //lab/scenario:scenario_golden_test)
set -eu
cd "$(dirname "$0")/.."
output_base=${TCPLAB_OUTPUT_BASE:-/tmp/bazel-ob-regen-golden}

regen_scenario() {
	bazel --output_base="$output_base" build //lab/scenario:scenario_golden_test
	bin="$(bazel --output_base="$output_base" info bazel-bin)/lab/scenario/scenario_golden_test"
	for scn in lab/scenario/tests/bad/*.scn; do
		err="${scn%.scn}.err"
		"$bin" --print "$scn" >"$err.tmp"
		mv "$err.tmp" "$err"
		echo "wrote $err"
	done
}

case "${1:-all}" in
scenario) regen_scenario ;;
all) regen_scenario ;;
*)
	echo "usage: tools/regen_golden.sh [scenario|all]" >&2
	exit 2
	;;
esac
