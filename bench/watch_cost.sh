#!/usr/bin/env bash
# The sock_diag watcher's cost per call (watch_listening, watch_sample) with a
# listener and 5 connections, in a namespace of its own (the kernel's shared
# established-hash table) and in one with its own small table. Prints medians and
# 90th percentiles. (Once two cmocka tests in watch_test.c that asserted nothing.)
# Usage: bench/watch_cost.sh   (as root; builds with Bazel first)
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //bench:watch_cost >/dev/null 2>&1
unshare -n sh -c "ip link set lo up && $(bazel info bazel-bin 2>/dev/null)/bench/watch_cost"
