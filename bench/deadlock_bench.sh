#!/usr/bin/env bash
# How fast the lab calls a deadlock, now that a deadlock is proven (liveness.h),
# against the old rule (no progress for `quiet` while both send queues hold data).
# For N runs of scenarios/deadlock.scn prints the median of:
#   - proof latency: from the last progress the watcher saw to the deadlock
#     verdict (the run's JSON record: watch.verdict_us - watch.last_progress_us);
#   - old-rule latency: the same two programs, plus a task in the namespace that
#     sleeps in 100 ms steps until the sockets have not moved for half a second
#     (a sleeping task: the proof cannot hold), so the lab reports a stall when
#     the old rule would have called the deadlock; its figure is the stall's
#     "no progress for N ms". Then the sleeper ends and the proof follows.
# Target (issue 13): proof latency under 50 ms, median of 20.
# Usage: bench/deadlock_bench.sh [N]   (as root; builds with Bazel first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}

bazel build //lab:tcplab >/dev/null 2>&1
tcplab="$(bazel info bazel-bin 2>/dev/null)/lab/cli/tcplab"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# The old-rule variant: a sleeper beside the server, watching the sockets with ss.
sed -e 's|^server tcp_deadlock server \$HOST -p \$PORT|server sh -c '"'"'(last=; same=0; while [ $same -lt 5 ]; do sleep 0.1; now=$(ss -tnHi "( sport = :$PORT )" \| grep -o "bytes_received:[0-9]*" \| tr -d "\\n"); if [ -n "$now" ] \&\& [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi; last=$now; done) \& exec tcp_deadlock server $HOST -p $PORT'"'"'|' \
	-e 's|^expect deadlock within.*||' scenarios/deadlock.scn >"$out/old_rule.scn"
grep -q 'sleep 0.1' "$out/old_rule.scn" || { echo "deadlock_bench: could not make the old-rule variant" >&2; exit 2; }

for i in $(seq "$n"); do
	"$tcplab" run --json "$out/proof.$i.json" --pcap-dir "$out/pcap" scenarios/deadlock.scn >/dev/null 2>&1 || true
	"$tcplab" run --json "$out/old.$i.json" --pcap-dir "$out/pcap" "$out/old_rule.scn" >/dev/null 2>&1 || true
done

/usr/bin/python3 - "$out" "$n" <<'PY'
import json, re, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
proof, old = [], []
for i in range(1, n + 1):
    for kind, into in (("proof", proof), ("old", old)):
        try:
            s = json.load(open(f"{out}/{kind}.{i}.json"))["scenarios"][0]
        except (OSError, ValueError, KeyError, IndexError):
            continue
        if kind == "proof" and s["outcome"] == "deadlock":
            w = s["watch"]
            into.append((w["verdict_us"] - w["last_progress_us"]) / 1000)
        if kind == "old":
            for ev in s["events"]:
                m = re.search(r"stall: no progress for (\d+) ms", ev.get("text", ""))
                if m:
                    into.append(float(m.group(1)))
                    break
def med(xs):
    return f"{statistics.median(xs):6.0f} ms" if xs else "   n/a   "
print(f"runs: {n} (proof: {len(proof)} deadlock verdicts; old rule: {len(old)} stalls)")
print(f"last progress -> deadlock verdict, the proof: {med(proof)}  (target: under 50 ms)"
      + (f"  [min {min(proof):.0f}, max {max(proof):.0f}]" if proof else ""))
print(f"last progress -> verdict, the old rule:       {med(old)}  (quiet 200 ms + sampling)"
      + (f"  [min {min(old):.0f}, max {max(old):.0f}]" if old else ""))
PY
