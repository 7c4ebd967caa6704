#!/usr/bin/env bash
# ref_programs_test: runs the reference programs tcp_sixteen and tcp_deadlock over
# loopback and checks what they print against what the book's Python programs
# print ("Foundations of Python Network Programming", 3rd ed., TCP chapter).
#
# The story:
#   1. arguments: --help, bad arguments (exit 2, argparse-style messages);
#   2. tcp_sixteen over 127.0.0.1 on the default port 1060: the whole exchange,
#      both transcripts line by line, and the server keeps serving;
#   3. tcp_sixteen over ::1 (IPv6 addresses print as 4-tuples, as in Python);
#   4. no server: ConnectionRefusedError, exit 1;
#   5. a peer that closes after 5 bytes: the book's EOFError, exit 1; a peer that
#      resets before sending: the server prints ConnectionResetError;
#   6. tcp_deadlock with 32 bytes (and 20, rounded up to 32) completes, upper-cased;
#      a 200000-byte run shows the sparse progress lines;
#   7. tcp_deadlock with 1 GiB: both directions' buffers fill and both processes stay
#      blocked; we kill them and check that nothing is left behind.
#
# Runs as a Bazel sh_test tagged block-network: a private network namespace with
# only lo up, so port 1060 is ours. Servers are awaited by polling `ss` (an event:
# the socket is listening), never by a fixed sleep; the one timed wait is the 2 s
# in step 7, which is the observation itself ("still blocked after 2 s").
set -euo pipefail

# ---- locate the binaries --------------------------------------------------------
find_bin() {
	local name=$1 dir
	for dir in "${TEST_SRCDIR:-}/tcplab/tools/ref" "${RUNFILES_DIR:-}/tcplab/tools/ref" \
		"$0.runfiles/tcplab/tools/ref" "$(dirname "$0")"; do
		if [[ -x "$dir/$name" ]]; then
			echo "$dir/$name"
			return 0
		fi
	done
	echo "cannot find $name in the runfiles" >&2
	return 1
}
SIXTEEN=$(find_bin tcp_sixteen)
DEADLOCK=$(find_bin tcp_deadlock)
PYTHON=/usr/bin/python3
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ref_programs.XXXXXX")
PORT=1060       # the book's default port
IDLE_PORT=1061  # nothing ever listens here
LIMIT_S=10      # deadline for every wait on an event

# ---- bookkeeping: every process we start is killed on exit ----------------------
STARTED=()
cleanup() {
	local pid
	for pid in "${STARTED[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

FAILURES=0
pass() { echo "ok   - $*"; }
fail() {
	echo "FAIL - $*"
	FAILURES=$((FAILURES + 1))
}
# check DESCRIPTION COMMAND...: runs the command as a test of DESCRIPTION.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# Shows a file when a check about it failed, to make the log useful.
show() {
	echo "---- $1:"
	cat "$1" || true
	echo "----"
}
has_line() { grep -qxF -- "$2" "$1"; }
has_text() { grep -qF -- "$2" "$1"; }
# same_file FILE EXPECTED_TEXT: the whole file equals the text (plus final newline).
same_file() {
	if [[ "$(cat "$1")" == "$2" ]]; then
		return 0
	fi
	echo "expected:"
	echo "$2"
	show "$1"
	return 1
}
now_ms() { date +%s%3N; }

# wait_listening PORT: until some socket listens on PORT (deadline LIMIT_S).
wait_listening() {
	local deadline=$(($(now_ms) + LIMIT_S * 1000))
	until [[ -n "$(ss -Hltn "sport = :$1")" ]]; do
		if (($(now_ms) > deadline)); then
			return 1
		fi
		sleep 0.01
	done
}

# wait_line FILE LINE: until FILE holds LINE (a process printed it).
wait_line() {
	local deadline=$(($(now_ms) + LIMIT_S * 1000))
	until grep -qxF -- "$2" "$1" 2>/dev/null; do
		if (($(now_ms) > deadline)); then
			show "$1"
			return 1
		fi
		sleep 0.01
	done
}

# wait_match FILE ERE: until a line of FILE matches ERE.
wait_match() {
	local deadline=$(($(now_ms) + LIMIT_S * 1000))
	until grep -qE -- "$2" "$1" 2>/dev/null; do
		if (($(now_ms) > deadline)); then
			show "$1"
			return 1
		fi
		sleep 0.01
	done
}

# wait_exit PID: until PID has exited (deadline LIMIT_S); sets STATUS to its status.
wait_exit() {
	local deadline=$(($(now_ms) + LIMIT_S * 1000))
	while kill -0 "$1" 2>/dev/null && [[ "$(ps -o stat= -p "$1")" != Z* ]]; do
		if (($(now_ms) > deadline)); then
			return 1
		fi
		sleep 0.01
	done
	STATUS=0
	wait "$1" || STATUS=$?
}

# start NAME COMMAND...: starts a process in the background, output in $WORK/NAME.*
start() {
	local name=$1
	shift
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	LAST_PID=$!
	STARTED+=("$LAST_PID")
}

# stop PID: a server runs forever; end it, reap it, and say whether it is gone.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	! kill -0 "$1" 2>/dev/null
}

# run NAME COMMAND...: runs to completion; STATUS = exit status.
run() {
	local name=$1
	shift
	STATUS=0
	timeout "$LIMIT_S" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || STATUS=$?
}

status_is() {
	if [[ "$STATUS" == "$1" ]]; then return 0; fi
	echo "exit status $STATUS, expected $1"
	return 1
}

# ---- 1. arguments ---------------------------------------------------------------
echo "# 1. arguments"
run help "$SIXTEEN" -h
check "tcp_sixteen -h exits 0" status_is 0
check "tcp_sixteen -h prints the usage on stdout" \
	has_line "$WORK/help.out" "usage: tcp_sixteen [-h] [-p PORT] {client,server} host"
run help "$DEADLOCK" --help
check "tcp_deadlock --help exits 0" status_is 0
check "tcp_deadlock --help prints the usage on stdout" \
	has_line "$WORK/help.out" "usage: tcp_deadlock [-h] [-p PORT] {client,server} host [bytecount]"
run badrole "$SIXTEEN" talker 127.0.0.1
check "a bad role exits 2" status_is 2
check "a bad role is named, argparse style" has_line "$WORK/badrole.err" \
	"tcp_sixteen: error: argument role: invalid choice: 'talker' (choose from 'client', 'server')"
run nohost "$SIXTEEN" client
check "a missing host exits 2" status_is 2
check "a missing host is named" has_line "$WORK/nohost.err" \
	"tcp_sixteen: error: the following arguments are required: host"
run badport "$SIXTEEN" client 127.0.0.1 -p ten
check "a bad port exits 2" status_is 2
check "a bad port is named" has_line "$WORK/badport.err" \
	"tcp_sixteen: error: argument -p: invalid int value: 'ten'"
run badcount "$DEADLOCK" client 127.0.0.1 12abc
check "a garbage bytecount exits 2" status_is 2
check "a garbage bytecount is named" has_line "$WORK/badcount.err" \
	"tcp_deadlock: error: argument bytecount: invalid int value: '12abc'"
check "a garbage bytecount prints the usage on stderr" has_line "$WORK/badcount.err" \
	"usage: tcp_deadlock [-h] [-p PORT] {client,server} host [bytecount]"
run extra "$DEADLOCK" client 127.0.0.1 16 17
check "an extra argument exits 2" status_is 2

# ---- 2. tcp_sixteen over IPv4, default port -------------------------------------
echo "# 2. tcp_sixteen, 127.0.0.1, default port $PORT"
start s16 "$SIXTEEN" server 127.0.0.1
S16=$LAST_PID
check "the server listens on port $PORT" wait_listening "$PORT"
run c16 "$SIXTEEN" client 127.0.0.1
check "the client exits 0" status_is 0
check "the client prints nothing on stderr" test ! -s "$WORK/c16.err"
CLIENT_ADDR=$(sed -n "s/^Client has been assigned socket name \(('127\.0\.0\.1', [0-9]*)\)$/\1/p" \
	"$WORK/c16.out")
check "the client prints its socket name as a Python tuple" test -n "$CLIENT_ADDR"
check "the client's transcript is the book's" same_file "$WORK/c16.out" \
	"Client has been assigned socket name $CLIENT_ADDR
The server said b'Farewell, client'"
check "the server finishes the exchange" wait_line "$WORK/s16.out" "  Reply sent, socket closed"
check "the server's transcript is the book's" same_file "$WORK/s16.out" \
	"Listening at ('127.0.0.1', $PORT)
We have accepted a connection from $CLIENT_ADDR
  Socket name: ('127.0.0.1', $PORT)
  Socket peer: $CLIENT_ADDR
  Incoming sixteen-octet message: b'Hi there, server'
  Reply sent, socket closed"
check "the server keeps running after a client" kill -0 "$S16"
run c16b "$SIXTEEN" client 127.0.0.1 -p "$PORT"
check "a second client is served too" has_line "$WORK/c16b.out" "The server said b'Farewell, client'"
check "the server stops on SIGTERM and is reaped" stop "$S16"

# ---- 3. tcp_sixteen over IPv6 ---------------------------------------------------
echo "# 3. tcp_sixteen, ::1"
check "lo has ::1" has_text <(ip -6 addr show dev lo) "inet6 ::1/128"
start s16v6 "$SIXTEEN" server ::1 -p "$PORT"
S16V6=$LAST_PID
check "the IPv6 server listens" wait_listening "$PORT"
run c16v6 "$SIXTEEN" client ::1 -p "$PORT"
check "the IPv6 client exits 0" status_is 0
check "the IPv6 client's socket name is a 4-tuple" grep -qE \
	"^Client has been assigned socket name \('::1', [0-9]+, 0, 0\)$" "$WORK/c16v6.out"
check "the IPv6 client hears the farewell" has_line "$WORK/c16v6.out" \
	"The server said b'Farewell, client'"
check "the IPv6 server prints its address as Python does" has_line "$WORK/s16v6.out" \
	"Listening at ('::1', $PORT, 0, 0)"
check "the IPv6 server finishes the exchange" wait_line "$WORK/s16v6.out" "  Reply sent, socket closed"
check "the IPv6 server stops" stop "$S16V6"

# ---- 4. nobody listening --------------------------------------------------------
echo "# 4. no server on port $IDLE_PORT"
run refused "$SIXTEEN" client 127.0.0.1 -p "$IDLE_PORT"
check "the client exits 1 (Python's uncaught exception)" status_is 1
check "stderr says Connection refused" has_text "$WORK/refused.err" "Connection refused"
check "stderr is exactly the traceback's last line" same_file "$WORK/refused.err" \
	"ConnectionRefusedError: [Errno 111] Connection refused"
check "stdout is empty" test ! -s "$WORK/refused.out"
run refused6 "$SIXTEEN" client ::1 -p "$IDLE_PORT"
check "the IPv6 client is refused too" same_file "$WORK/refused6.err" \
	"ConnectionRefusedError: [Errno 111] Connection refused"
run drefused "$DEADLOCK" client 127.0.0.1 32 -p "$IDLE_PORT"
check "tcp_deadlock's client exits 1 when refused" status_is 1
check "tcp_deadlock's client announces before it connects, as the book's" same_file \
	"$WORK/drefused.out" "Sending 32 bytes of data, in chunks of 16 bytes"
check "tcp_deadlock's client says Connection refused" same_file "$WORK/drefused.err" \
	"ConnectionRefusedError: [Errno 111] Connection refused"

# ---- 5. peers that go away early ------------------------------------------------
echo "# 5. early EOF and reset"
start s16eof "$SIXTEEN" server 127.0.0.1 -p "$PORT"
S16EOF=$LAST_PID
check "the server listens" wait_listening "$PORT"
# bash's /dev/tcp: connect, write 5 bytes, close.
(exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'Hi th' >&3 && exec 3>&-)
check "the server dies once the peer closed early" wait_exit "$S16EOF"
check "the server exits 1" status_is 1
check "the server prints the book's EOFError" same_file "$WORK/s16eof.err" \
	"EOFError: was expecting 16 bytes but only received 5 bytes before the socket closed"

# A server that answers only 4 bytes and closes: the client's recvall fails.
cat >"$WORK/short_server.py" <<EOF
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT))
s.listen(1)
c, _ = s.accept()
c.recv(16)
c.sendall(b'Fare')
c.close()
EOF
start short "$PYTHON" "$WORK/short_server.py"
SHORT=$LAST_PID
check "the short server listens" wait_listening "$PORT"
run ceof "$SIXTEEN" client 127.0.0.1 -p "$PORT"
check "the client exits 1 on a short reply" status_is 1
check "the client prints the book's EOFError" same_file "$WORK/ceof.err" \
	"EOFError: was expecting 16 bytes but only received 4 bytes before the socket closed"
check "the short server is done" wait_exit "$SHORT"

# A client that resets the connection (SO_LINGER 0) once the server has accepted it.
cat >"$WORK/reset_client.py" <<EOF
import socket, struct, sys
c = socket.create_connection(('127.0.0.1', $PORT))
sys.stdin.readline()  # the test says when the server has accepted us
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
EOF
start s16rst "$SIXTEEN" server 127.0.0.1 -p "$PORT"
S16RST=$LAST_PID
check "the server listens" wait_listening "$PORT"
mkfifo "$WORK/go"
exec 4<>"$WORK/go" # read-write: opening does not wait for the other end
# (Redirected here, not through start: bash gives background jobs /dev/null as stdin.)
"$PYTHON" "$WORK/reset_client.py" <"$WORK/go" >"$WORK/reset.out" 2>"$WORK/reset.err" &
RESET=$!
STARTED+=("$RESET")
check "the server accepts the resetting client" wait_match "$WORK/s16rst.out" "^  Socket peer: "
echo go >&4
exec 4>&-
check "the resetting client is done" wait_exit "$RESET"
check "the server dies on the reset" wait_exit "$S16RST"
check "the server exits 1 on the reset" status_is 1
check "the server prints ConnectionResetError" same_file "$WORK/s16rst.err" \
	"ConnectionResetError: [Errno 104] Connection reset by peer"

# ---- 6. tcp_deadlock, small counts complete -------------------------------------
echo "# 6. tcp_deadlock, 32 bytes"
start dsrv "$DEADLOCK" server 127.0.0.1
DSRV=$LAST_PID
check "the deadlock server listens on port $PORT" wait_listening "$PORT"
check "the deadlock server says where" has_line "$WORK/dsrv.out" "Listening at ('127.0.0.1', $PORT)"
run d32 "$DEADLOCK" client 127.0.0.1 32
check "the 32-byte client exits 0" status_is 0
check "the 32-byte client received 32 upper-cased bytes" same_file "$WORK/d32.out" \
	"Sending 32 bytes of data, in chunks of 16 bytes
  32 bytes sent
Receiving all the data the server sends back
  32 bytes received
The first message is: b'CAPITALIZE THIS!'"
check "the server processed 32 bytes" wait_line "$WORK/dsrv.out" "  32 bytes processed so far"
check "the server closed the socket" wait_line "$WORK/dsrv.out" "  Socket closed"
check "the server named its peer" grep -qE \
	"^Processing up to 1024 bytes at a time from \('127\.0\.0\.1', [0-9]+\)$" "$WORK/dsrv.out"
run d20 "$DEADLOCK" client 127.0.0.1 20 -p "$PORT"
check "20 bytes are rounded up to 32" has_line "$WORK/d20.out" \
	"Sending 32 bytes of data, in chunks of 16 bytes"
check "and all 32 come back" has_line "$WORK/d20.out" "  32 bytes received"
run ddefault "$DEADLOCK" client 127.0.0.1
check "the default bytecount is 16" has_line "$WORK/ddefault.out" "  16 bytes received"
# Every byte upper-cased, not only the first message: tcp_sixteen's client as the peer.
run dcross "$SIXTEEN" client 127.0.0.1
check "the server upper-cases every byte it gets" has_line "$WORK/dcross.out" \
	"The server said b'HI THERE, SERVER'"
run d200k "$DEADLOCK" client 127.0.0.1 200000
check "200000 bytes fit in the buffers and complete" status_is 0
check "progress is printed every 64 KiB and at the end" same_file "$WORK/d200k.out" \
	"Sending 200000 bytes of data, in chunks of 16 bytes
  65536 bytes sent
  131072 bytes sent
  196608 bytes sent
  200000 bytes sent
Receiving all the data the server sends back
$(grep ' bytes received$' "$WORK/d200k.out")
The first message is: b'CAPITALIZE THIS!'"
check "the received total is 200000" has_line "$WORK/d200k.out" "  200000 bytes received"
check "the deadlock server stops" stop "$DSRV"

# ---- 7. tcp_deadlock, 1 GiB deadlocks -------------------------------------------
echo "# 7. tcp_deadlock, 1 GiB"
start dsrv2 "$DEADLOCK" server 127.0.0.1
DSRV2=$LAST_PID
check "the deadlock server listens" wait_listening "$PORT"
start dbig "$DEADLOCK" client 127.0.0.1 1073741824
DBIG=$LAST_PID

# both_full: both ends of the connection have unread data and unsent data queued.
both_full() {
	local lines
	lines=$(ss -Htn state established "( sport = :$PORT or dport = :$PORT )" |
		awk '$1 > 0 && $2 > 0' | wc -l)
	[[ "$lines" == 2 ]]
}
wait_both_full() {
	local deadline=$(($(now_ms) + LIMIT_S * 1000))
	until both_full; do
		if (($(now_ms) > deadline)); then
			ss -tn state established
			return 1
		fi
		sleep 0.05
	done
}
check "both directions' queues fill up" wait_both_full
# The queues keep growing a little while the kernel tunes the buffers; wait for them
# to stop changing (same numbers over 0.5 s), then watch 2 s more.
queues() { ss -Htn state established "( sport = :$PORT or dport = :$PORT )" | sort; }
wait_stalled() {
	local deadline=$(($(now_ms) + LIMIT_S * 1000)) same=0 prev="" cur
	while ((same < 5)); do
		cur=$(queues)
		if [[ "$cur" == "$prev" ]]; then same=$((same + 1)); else same=0; fi
		prev=$cur
		if (($(now_ms) > deadline)); then
			echo "$cur"
			return 1
		fi
		sleep 0.1
	done
}
check "the transfer stalls" wait_stalled
QUEUES_BEFORE=$(queues)
OUT_BEFORE=$(cat "$WORK/dbig.out")
sleep 2 # the observation: nothing moves for 2 s
QUEUES_AFTER=$(queues)
check "after 2 s the client is still alive" kill -0 "$DBIG"
check "after 2 s the server is still alive" kill -0 "$DSRV2"
check "after 2 s the queues have not moved" test "$QUEUES_BEFORE" == "$QUEUES_AFTER"
check "after 2 s the client has printed nothing new" test "$OUT_BEFORE" == "$(cat "$WORK/dbig.out")"
check "the client is stuck sending (never began to receive)" \
	bash -c "! grep -q 'Receiving all the data' '$WORK/dbig.out'"
LAST_SENT=$(grep ' bytes sent$' "$WORK/dbig.out" | tail -1 | awk '{print $1}')
check "the client sent some but far from all of the 1 GiB (last: ${LAST_SENT:-none})" \
	test "${LAST_SENT:-0}" -gt 0 -a "${LAST_SENT:-0}" -lt 1073741824
check "the server is stuck too (it processed less than was sent)" \
	bash -c "! grep -q 'Socket closed' '$WORK/dsrv2.out'"
check "the client ends when killed" stop "$DBIG"
check "the server ends when killed" stop "$DSRV2"
LEFT=$(pgrep -l -P $$ | grep -E 'tcp_(sixteen|deadlock)' || true)
check "no reference program is left behind" test -z "$LEFT"
check "no connection is left on port $PORT" \
	test -z "$(ss -Htn state established "( sport = :$PORT or dport = :$PORT )")"

echo
if ((FAILURES > 0)); then
	echo "$FAILURES check(s) failed"
	exit 1
fi
echo "all checks passed"
