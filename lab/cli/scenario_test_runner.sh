#!/usr/bin/env bash
# The test program of every tcp_scenario target (lab/defs.bzl): runs `tcplab run`
# on one scenario with the programs under test first on PATH, the capture (and the
# JSON report) in the test's undeclared outputs and the JUnit report as Bazel's
# test.xml. With --expect-failure it passes only when the lab exits 1 and says
# every given text.
#
# Usage: scenario_test_runner.sh TCPLAB SCENARIO [PROGRAM...] [--expect-failure TEXT]...
#   TCPLAB, SCENARIO and PROGRAMs are runfiles paths (relative to the directory the
#   test starts in) or absolute paths. Exit status: 0 pass, 1 fail, 2 the lab or
#   this runner could not run the scenario.
set -uo pipefail

die() {
	echo "scenario_test_runner: $*" >&2
	exit 2
}

absolute() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/$1" ;;
	esac
}

[ $# -ge 2 ] || die "usage: $0 TCPLAB SCENARIO [PROGRAM...] [--expect-failure TEXT]..."
tcplab=$(absolute "$1")
# As given (relative to the runfiles root the test starts in): the lab's verdicts
# then name "scenarios/x.scn:9", not a sandbox path.
scenario=$2
shift 2
programs=()
wants=()
while [ $# -gt 0 ]; do
	case $1 in
	--expect-failure)
		[ $# -ge 2 ] || die "--expect-failure wants a text"
		wants+=("$2")
		shift 2
		;;
	*)
		programs+=("$(absolute "$1")")
		shift
		;;
	esac
done
[ -x "$tcplab" ] || die "$tcplab: not an executable (the lab)"
[ -f "$scenario" ] || die "$scenario: no such scenario file"

# The programs' directories, in the order given, each once, before the inherited
# PATH (the lab puts its reference programs before all of them). Runfiles paths,
# not resolved symlinks: a script's runfiles directory also holds its neighbours.
path_dirs=""
for program in "${programs[@]+"${programs[@]}"}"; do
	[ -e "$program" ] || die "$program: no such program in the runfiles"
	case $program in
	*.runfiles_manifest | */MANIFEST) continue ;;
	esac
	[ -x "$program" ] || die "$program: not executable (chmod +x it, or run it through an interpreter in the scenario)"
	dir=$(dirname "$program")
	case ":$path_dirs:" in
	*":$dir:"*) ;;
	*) path_dirs=${path_dirs:+$path_dirs:}$dir ;;
	esac
done
if [ -n "$path_dirs" ]; then
	export PATH="$path_dirs:${PATH:-/usr/bin:/bin}"
fi

name=$(basename "$scenario" .scn)
out=${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR:-/tmp}/tcplab-outputs}
mkdir -p "$out" || die "cannot make $out"
log=$(mktemp "${TEST_TMPDIR:-/tmp}/tcplab-run.XXXXXX") || die "cannot make a temporary file"

# Reports the lab may not have yet: pass each option only when `tcplab --help` names
# it. The JUnit report is Bazel's test.xml, except for a target that must fail
# (Bazel would show its failed test cases as the target's): that one keeps it aside.
help=$("$tcplab" --help 2>&1)
report_args=()
if grep -q -- '--junit' <<<"$help"; then
	if [ ${#wants[@]} -eq 0 ] && [ -n "${XML_OUTPUT_FILE:-}" ]; then
		report_args+=(--junit "$XML_OUTPUT_FILE")
	else
		report_args+=(--junit "$out/$name.junit.xml")
	fi
fi
if grep -q -- '--json' <<<"$help"; then
	report_args+=(--json "$out/$name.json")
fi

echo "scenario: $scenario"
[ -n "$path_dirs" ] && echo "programs on PATH: ${path_dirs//"${TEST_SRCDIR:-}/"/}"
if [ -n "${TEST_TARGET:-}" ] && [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]; then
	pkg=${TEST_TARGET#//}
	echo "capture: bazel-testlogs/${pkg/://}/test.outputs/$name.pcap (Bazel 4 zips it into outputs.zip there)"
else
	echo "capture: $out/$name.pcap"
fi
echo

"$tcplab" run -v --pcap-dir "$out" "${report_args[@]+"${report_args[@]}"}" "$scenario" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if [ ${#wants[@]} -eq 0 ]; then
	rm -f "$log"
	exit "$status"
fi

# A target that pins down a known failure.
echo
verdict=0
case $status in
0)
	echo "UNEXPECTED PASS: every expectation held, but this target expects the scenario to fail"
	verdict=1
	;;
1)
	for want in "${wants[@]}"; do
		if grep -qF -- "$want" "$log"; then
			echo "ok: the lab says: $want"
		else
			echo "MISSING: the lab failed, but did not say: $want"
			verdict=1
		fi
	done
	[ $verdict -eq 0 ] && echo "PASS: the scenario failed as expected, for the expected reasons"
	;;
*)
	echo "ERROR: the lab exited with status $status (bad input, it could not run, or a verdict was inconclusive), not 1"
	verdict=2
	;;
esac
rm -f "$log"
exit "$verdict"
