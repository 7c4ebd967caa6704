#!/usr/bin/env bash
# remote_cache_test: Bazel's HTTP remote cache made real, on loopback. Starts
# Debian's nginx with WebDAV (PUT, DELETE, create_full_put_path) on 127.0.0.1 as
# the cache, clones this tree twice, runs every scenario target (every test made
# by tcp_scenario) in the first clone with --remote_cache, then in the second
# clone (its own output base: nothing local to reuse) and checks that
#   - every scenario test action of the second clone was a remote cache hit
#     (Bazel's execution log: remoteCacheHit) and reported (cached) PASSED;
#   - each target's captures came with it: test.outputs/outputs.zip holds
#     NAME.pcap, and tshark opens it;
#   - a negative control: one scenario file changed in the second clone is not a
#     hit (it runs again), so the check above can fail.
# Prints the figures (times, actions, cache size) that docs/scaling.md quotes.
# Runs Bazel itself, so it runs outside Bazel: .ci/run calls it after README's
# test command. Needs root for the scenarios (as `bazel test //...` does).
#
# usage: tools/remote_cache_test.sh [--keep]     exit 0 all checks held, 1 not
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
keep=0
[ "${1:-}" = --keep ] && keep=1
work=$(mktemp -d /tmp/tcplab-remote-cache.XXXXXX)
failures=0
t_start=$(date +%s.%N)

say() { printf 'remote_cache_test: %s\n' "$*"; }
check() { # DESCRIPTION COMMAND...
	local desc=$1
	shift
	if "$@"; then
		echo "ok   $desc"
	else
		echo "FAIL $desc"
		failures=$((failures + 1))
	fi
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cleanup() {
	if [ -f "$work/nginx/nginx.pid" ]; then
		kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null
	fi
	for clone in a b; do
		[ -d "$work/ob_$clone" ] && bazel --output_base="$work/ob_$clone" shutdown >/dev/null 2>&1
	done
	if [ $keep -eq 1 ]; then
		say "kept $work"
	else
		chmod -R u+w "$work" 2>/dev/null
		rm -rf "$work"
	fi
}
trap cleanup EXIT

for tool in nginx bazel git tshark curl; do
	command -v "$tool" >/dev/null || { say "$tool not found (tools/bootstrap installs it)"; exit 1; }
done

# ---- the cache: nginx with WebDAV on a free loopback port ----
mkdir -p "$work/nginx/cache" "$work/nginx/tmp"
start_nginx() {
	local port
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$work/nginx/nginx.conf" <<CONF
# Bazel's HTTP cache protocol: GET and PUT of /ac/HASH and /cas/HASH.
user root;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 512; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $work/nginx/cache;
        client_max_body_size 0;
        location / {
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }
    }
}
CONF
	# nginx returns once it listens (it binds before it becomes a daemon)
	if nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" 2>>"$work/nginx/start.err"; then
		echo "$port"
		return 0
	fi
	return 1
}
port=""
for _ in 1 2 3; do
	port=$(start_nginx) && break
	port=""
done
[ -n "$port" ] || { say "nginx did not start:"; cat "$work/nginx/start.err" "$work/nginx/error.log" 2>/dev/null; exit 1; }
cache=http://127.0.0.1:$port
curl -sf -X PUT --data-binary probe "$cache/cas/probe" &&
	[ "$(curl -sf "$cache/cas/probe")" = probe ] &&
	curl -sf -X DELETE "$cache/cas/probe" ||
	{ say "nginx at $cache does not take PUT/GET/DELETE"; exit 1; }
say "cache: nginx (WebDAV) at $cache, pid $(cat "$work/nginx/nginx.pid")"

# ---- two clones of the tree ----
for clone in a b; do
	git clone -q --no-hardlinks "$src" "$work/$clone" &
done
wait
[ -f "$work/a/WORKSPACE" ] && [ -f "$work/b/WORKSPACE" ] || { say "git clone failed"; exit 1; }
say "clones of $(git -C "$src" rev-parse --short HEAD) in $work/a and $work/b"

# bazel_in CLONE ARGS...: one clone, its own output base. Both clones get the
# same plain Debian PATH: a test action's PATH is part of its cache key, and a
# version manager's shims first on PATH (pyenv) would run the scenarios' python3
# through a shell script of dozens of processes, slow on a loaded machine.
bazel_in() {
	local clone=$1
	shift
	(cd "$work/$clone" && env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		bazel --output_base="$work/ob_$clone" "$@" --color=no --curses=no)
}

targets=$(bazel_in a query 'attr(generator_function, tcp_scenario, tests(//...))' 2>"$work/query.err" | sort)
n_targets=$(printf '%s\n' "$targets" | grep -c '^//')
[ "$n_targets" -gt 0 ] || { cat "$work/query.err"; say "no scenario targets found"; exit 1; }
# shellcheck disable=SC2086
run() { # CLONE NAME [OPTION...]: bazel test every scenario target with the remote cache
	local clone=$1 name=$2 t0 t1
	shift 2
	t0=$(date +%s.%N)
	bazel_in "$clone" test --remote_cache="$cache" "$@" $targets >"$work/$name.out" 2>&1
	local status=$?
	t1=$(date +%s.%N)
	eval "secs_$name=$(elapsed "$t0" "$t1")"
	return $status
}

# count_hits NAME: "HITS MISSES" over the scenario test actions of the execution log
count_hits() {
	/usr/bin/python3 - "$work/$1.exec.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec, i, hits, misses = json.JSONDecoder(), 0, set(), set()
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    spawn, i = dec.raw_decode(text, i)
    if spawn.get('mnemonic') != 'TestRunner':
        continue
    # the test itself ("Testing //pkg:name"), not the test.xml it may get written
    msg = spawn.get('progressMessage', '')
    if not msg.startswith('Testing //'):
        continue
    name = msg[len('Testing '):]
    (hits if spawn.get('remoteCacheHit') else misses).add(name)
misses -= hits
hits, misses = len(hits), sorted(misses)
print(hits, len(misses), ' '.join(misses))
PY
}

# Clone a: build first, so that no scenario runs beside the compilers (timing
# expectations such as "deadlock within 2s" suffer on a loaded machine); a
# scenario that fails once under load gets a second attempt (reported FLAKY:
# visible, and its passing result is what the cache keeps).
t0=$(date +%s.%N)
# shellcheck disable=SC2086
bazel_in a build --remote_cache="$cache" $targets >"$work/build.out" 2>&1
check "clone a: the scenario targets build" test $? -eq 0
secs_build=$(elapsed "$t0" "$(date +%s.%N)")
run a first --flaky_test_attempts=2
status_a=$?
flaky=$(grep -cE '^//.* FLAKY' "$work/first.out")
check "clone a: the $n_targets scenario targets pass (and their results go to the cache)" test $status_a -eq 0
bazel_in a shutdown >/dev/null 2>&1
cache_files=$(find "$work/nginx/cache" -type f | wc -l)
cache_kb=$(du -sk "$work/nginx/cache" | cut -f1)
puts=$(grep -c '"PUT ' "$work/nginx/access.log")

# (no --flaky_test_attempts here: Bazel 4.2's execution log cannot sort the
# spawns of several attempts of one test)
run b second --execution_log_json_file="$work/second.exec.json"
status_b=$?
check "clone b: the same targets pass" test $status_b -eq 0
read -r hits misses missed <<<"$(count_hits second)"
check "clone b: every scenario test action a remote cache hit ($hits hits, $misses misses${missed:+: $missed})" \
	test "$hits" -eq "$n_targets" -a "$misses" -eq 0
cached=$(grep -cE '^//.* \(cached\) PASSED' "$work/second.out")
check "clone b: $cached of $n_targets targets reported (cached) PASSED" test "$cached" -eq "$n_targets"
gets=$(grep -c '"GET .* 200 ' "$work/nginx/access.log")
processes=$(grep -E '^INFO: [0-9]+ processes' "$work/second.out" | tail -1)

# The captures came with the results: every target's outputs.zip holds its pcap.
testlogs=$(bazel_in b info bazel-testlogs 2>/dev/null)
pcaps_ok=0
mkdir -p "$work/pcaps"
for t in $targets; do
	pkg=${t#//}
	pkg=${pkg%%:*}
	name=${t##*:}
	zip=$testlogs/$pkg/$name/test.outputs/outputs.zip
	if /usr/bin/python3 - "$zip" "$work/pcap.$name" <<'PY'; then
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.endswith('.pcap')]
    if not names:
        sys.exit(1)
    with open(sys.argv[2], 'wb') as f:
        f.write(z.read(names[0]))
PY
		pcaps_ok=$((pcaps_ok + 1))
	else
		echo "     $t: no capture in $zip"
	fi
	mv "$work/pcap.$name" "$work/pcaps/${pkg//\//_}_$name.pcap" 2>/dev/null
done
check "clone b: $pcaps_ok of $n_targets captures retrieved from the cache" test "$pcaps_ok" -eq "$n_targets"
# capinfos reads them all in one go with Wireshark's own reader (tshark takes
# seconds to start on a loaded machine: it checks the largest one)
opened=$(capinfos -c -T -r "$work"/pcaps/*.pcap 2>"$work/capinfos.err" | grep -c .)
check "... $opened of $n_targets open with Wireshark's reader (capinfos)" test "$opened" -eq "$n_targets"
biggest=$(ls -S "$work"/pcaps/*.pcap | head -1)
check "... the largest, $(basename "$biggest"), opens in tshark" \
	sh -c "HOME='$work' tshark -r '$biggest' -c 1 2>/dev/null | grep -q ."
pcap_kb=$(du -skc "$work"/pcaps/*.pcap | tail -1 | cut -f1)

# Negative control: a changed scenario is not a hit; it runs again, and passes.
echo "# changed in clone b: not the file the cache holds" >>"$work/b/scenarios/sixteen.scn"
t0=$(date +%s.%N)
bazel_in b test --remote_cache="$cache" --execution_log_json_file="$work/control.exec.json" \
	//scenarios:sixteen >"$work/control.out" 2>&1
status_c=$?
secs_control=$(elapsed "$t0" "$(date +%s.%N)")
read -r c_hits c_misses _ <<<"$(count_hits control)"
check "control: a changed scenario is no cache hit ($c_hits hits, $c_misses misses) and runs again" \
	test "$c_hits" -eq 0 -a "$c_misses" -eq 1 -a $status_c -eq 0

secs_total=$(elapsed "$t_start" "$(date +%s.%N)")
echo "---- figures ----"
echo "scenario targets:                      $n_targets"
echo "clone a, cold build (+ upload):        ${secs_build} s"
echo "clone a, run the tests (+ upload):     ${secs_first} s   ($flaky FLAKY)"
echo "cache after clone a:                   $cache_files files, $cache_kb KiB, $puts PUTs"
echo "clone b, cold output base, all hits:   ${secs_second} s   ($processes)"
echo "GETs answered 200 (clone b):           $gets"
echo "captures retrieved:                    $pcaps_ok, $pcap_kb KiB"
echo "control (one changed scenario):        ${secs_control} s"
echo "whole script:                          ${secs_total} s"
if [ "$failures" -ne 0 ]; then
	for f in build first second control capinfos; do
		echo "---- $f (last 30 lines)"
		tail -n 30 "$work/$f.out" "$work/$f.err" 2>/dev/null
	done
	say "$failures checks failed"
	exit 1
fi
say "all checks passed"
