#!/usr/bin/env bash
# The wire's figures beside lo's, in one run (issue 14):
#   - throughput of 1 GiB over one TCP connection, no faults, MTU 1500 (target
#     >= 1 Gbit/s with both captures written), three ways: the kernel's bursts
#     carried whole with the lab's default capture budget (1 MiB whole per
#     direction, then headers); the same with both captures in full; one segment
#     at a time (as links with per-segment faults are carried), captures in full.
#     And the packets missing from either capture, counted against the kernel's
#     own counters of the two TUN devices and the relay's (target 0);
#   - the handshake's time, median of 200 connects (target: within 100 us of lo's);
#   - `delay 50ms`: p99 of the one-way delay of 2000 datagrams (target: within 1 ms
#     of 50 ms).
# Usage: bench/wire_bench.sh [GIB]   (as root; builds with Bazel -c opt first)
# Runs in a network namespace of its own (unshare -n) with lo up; the captures go
# to a temporary directory on disk and are deleted.
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-1}

bazel build -c opt //lab/wire:wire_bench >/dev/null 2>&1
bench="$(bazel info -c opt bazel-bin 2>/dev/null)/lab/wire/wire_bench"
out=$(mktemp -d /var/tmp/wire_bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg)"
unshare -n bash -c 'ip link set lo up && exec "$0" "$1" "$2"' "$bench" "$out" "$gib"
