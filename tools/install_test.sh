#!/bin/sh
# install_test: `bazel run //:install -- PREFIX` as a user would, into a temporary
# prefix; the tree is then moved (it must not depend on where it was put), and the
# installed tcplab runs scenarios from another directory with a bare environment
# (no Bazel runfiles, no TCPLAB_HOME): a passing one, one with a fault (the shim
# must be found), one that must fail. Its man pages render without warnings.
# usage: install_test.sh INSTALL   (the //:install script)
set -u
install_script=$PWD/$1
work=${TEST_TMPDIR:-$(mktemp -d)}
failed=0
check() { # DESCRIPTION COMMAND...
	desc=$1
	shift
	if "$@"; then
		echo "ok   $desc"
	else
		echo "FAIL $desc"
		failed=$((failed + 1))
	fi
}

"$install_script" >"$work/usage.out" 2>&1
check "no prefix: exit 2" test $? -eq 2
"$install_script" "$work/prefix" >"$work/install.out" 2>&1
check "install: exit 0" test $? -eq 0
for f in bin/tcplab lib/tcplab/lab/shim/libtcplab_shim.so lib/tcplab/tools/ref/tcp_sixteen \
	lib/tcplab/tools/ref/tcp_deadlock lib/tcplab/tools/ref/tcp_evloop; do
	check "installed, executable: $f" test -x "$work/prefix/$f" -a ! -L "$work/prefix/$f"
done
for page in man1/tcplab.1 man5/tcplab-scenario.5; do
	check "man page: $page" test -f "$work/prefix/share/man/$page"
	MANWIDTH=80 man --warnings -l "$work/prefix/share/man/$page" >"$work/man.out" 2>"$work/man.err"
	check "... renders" grep -q "tcplab" "$work/man.out"
	check "... without warnings" test ! -s "$work/man.err"
done

# The tree moves as a whole.
mv "$work/prefix" "$work/moved"
tcplab=$work/moved/bin/tcplab
mkdir -p "$work/elsewhere"
cat >"$work/elsewhere/sixteen.scn" <<'SCN'
scenario "The book's exchange, run by an installed tcplab"
timeout 5s
server tcp_sixteen server $HOST -p $PORT
client tcp_sixteen client $HOST -p $PORT
expect client exit 0
expect handshake complete
expect bytes client->server == 16
SCN
cat >"$work/elsewhere/one_byte.scn" <<'SCN'
scenario "Every send moves one byte: the shim is found"
timeout 5s
server tcp_sixteen server $HOST -p $PORT
client tcp_sixteen client $HOST -p $PORT
fault client send max 1
expect client exit 0
expect segments from client payload <= 1
expect bytes client->server == 16
SCN
cat >"$work/elsewhere/wrong.scn" <<'SCN'
scenario "Wrong on purpose: 16 bytes move, not 17"
timeout 5s
server tcp_sixteen server $HOST -p $PORT
client tcp_sixteen client $HOST -p $PORT
expect bytes client->server == 17
SCN

bare() { # the installed tcplab with no trace of Bazel in its environment
	(cd "$work/elsewhere" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" "$@")
}
bare "$tcplab" run -j 1 --pcap-dir caps sixteen.scn one_byte.scn >"$work/run.out" 2>&1
status=$?
check "installed tcplab, elsewhere: exit 0" test "$status" -eq 0
check "... sixteen passes" grep -q "^PASS  sixteen" "$work/run.out"
check "... one_byte passes (the shim was preloaded)" grep -q "^PASS  one_byte" "$work/run.out"
check "... captures where asked" test -s "$work/elsewhere/caps/sixteen.pcap"
check "... that tshark opens" sh -c "HOME='$work' tshark -r '$work/elsewhere/caps/sixteen.pcap' 2>/dev/null | grep -q SYN"
bare "$tcplab" run --pcap-dir caps wrong.scn >"$work/wrong.out" 2>&1
status=$?
check "a wrong expectation: exit 1" test "$status" -eq 1
check "... saying what was seen" grep -q "expected 17 bytes client->server; saw 16" "$work/wrong.out"
bare env TCPLAB_HOME=/nonexistent "$tcplab" run sixteen.scn >"$work/nohome.out" 2>&1
check "TCPLAB_HOME wrong: exit 2" test $? -eq 2
mkdir -p "$work/lonely/bin"
cp "$tcplab" "$work/lonely/bin/tcplab"
bare "$work/lonely/bin/tcplab" run sixteen.scn >"$work/lonely.out" 2>&1
check "a tcplab without its lib/tcplab: exit 2" test $? -eq 2
check "... saying what it misses" grep -q "cannot find the reference programs" "$work/lonely.out"

if [ "$failed" -ne 0 ]; then
	for f in install run wrong lonely; do
		echo "---- $f.out"
		cat "$work/$f.out"
	done
	echo "install_test: $failed checks failed"
	exit 1
fi
echo "install_test: all checks passed"
