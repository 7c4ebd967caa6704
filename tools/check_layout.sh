#!/usr/bin/env bash
# check_layout.sh: the stages of lab/ depend on each other only in the direction of
# the data flow (README.md, "Where things are"). Checks, with Bazel itself:
#  1. what the analysis and the reports depend on (bazel query): the analysis
#     reaches nothing of lab/run, lab/liveness, lab/report or lab/cli; the reports
#     nothing of lab/run or lab/liveness;
#  2. that visibility makes a wrong dependency a build error: a throwaway package
#     inside lab/analysis that depends on //lab/run must fail to build with
#     "is not visible".
# Usage: tools/check_layout.sh   (from anywhere in the tree; exit 0 when all hold)
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0
ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; failed=1; }

deps_of() { bazel query "deps($1)" 2>/dev/null | grep '^//lab/' | sed 's/:.*//' | sort -u; }

analysis=$(deps_of '//lab/analysis/...')
[ -n "$analysis" ] || bad "bazel query deps(//lab/analysis/...) gave nothing"
if echo "$analysis" | grep -qE '^//lab/(run|liveness|report|cli|verdict|record|scenario)$'; then
	bad "//lab/analysis reaches: $(echo "$analysis" | grep -E '^//lab/(run|liveness|report|cli|verdict|record|scenario)$' | tr '\n' ' ')"
else
	ok "//lab/analysis depends only on: $(echo "$analysis" | tr '\n' ' ')"
fi
report=$(deps_of '//lab/report/...')
[ -n "$report" ] || bad "bazel query deps(//lab/report/...) gave nothing"
if echo "$report" | grep -qE '^//lab/(run|liveness|cli)$'; then
	bad "//lab/report reaches: $(echo "$report" | grep -E '^//lab/(run|liveness|cli)$' | tr '\n' ' ')"
else
	ok "//lab/report depends only on: $(echo "$report" | tr '\n' ' ')"
fi

# A wrong dependency on purpose, in a package that exists only for this check.
probe=lab/analysis/layout_probe
trap 'rm -rf "$probe"' EXIT
mkdir -p "$probe"
cat >"$probe/BUILD" <<'PROBE'
cc_library(
    name = "probe",
    deps = ["//lab/run"],
)
PROBE
out=$(bazel build "//$probe:probe" 2>&1)
if echo "$out" | grep -q "is not visible"; then
	ok "an analysis package that depends on //lab/run does not build: $(echo "$out" | grep -m1 -o "target '//lab/run:run' is not visible[^;]*")"
else
	bad "a dependency of the analysis on //lab/run built: $(echo "$out" | tail -3)"
fi
exit $failed
