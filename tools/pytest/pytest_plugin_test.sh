#!/bin/sh
# pytest_plugin_test: installs tcplab into a temporary prefix (with the plugin in
# PREFIX/lib/tcplab/pytest), then runs Debian's pytest on a directory holding a
# passing, a failing and a malformed scenario. Expected: one item per scenario;
# sixteen passes; wrong fails with the lab's text (the expectation with its
# FILE:LINE and what was seen) and the capture's path; bad fails with the
# parser's FILE:LINE:COL; --tcplab naming no program fails every item saying so.
# usage: pytest_plugin_test.sh INSTALL   (the //:install script)
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

"$install_script" "$work/prefix" >"$work/install.out" 2>&1 || { cat "$work/install.out"; exit 1; }
mkdir -p "$work/suite"
cat >"$work/suite/sixteen.scn" <<'SCN'
scenario "The book's exchange"
timeout 5s
server tcp_sixteen server $HOST -p $PORT
client tcp_sixteen client $HOST -p $PORT
expect client exit 0
expect bytes client->server == 16
SCN
cat >"$work/suite/wrong.scn" <<'SCN'
scenario "Wrong on purpose: 16 bytes move, not 17"
timeout 5s
server tcp_sixteen server $HOST -p $PORT
client tcp_sixteen client $HOST -p $PORT
expect bytes client->server == 17
SCN
printf 'scenario "Malformed: a duration without its unit"\nclient true\ntimeout 10\n' >"$work/suite/bad.scn"

pytest_run() { # NAME ARGS...   (from the suite's directory, with a bare environment)
	name=$1
	shift
	(cd "$work/suite" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" \
		PYTHONPATH="$work/prefix/lib/tcplab/pytest" PYTHONDONTWRITEBYTECODE=1 \
		/usr/bin/python3 -m pytest -p pytest_tcplab -p no:cacheprovider \
		--junitxml="$work/$name.xml" "$@" .) >"$work/$name.out" 2>&1
}

pytest_run suite
check "pytest: exit 1 (some tests failed)" test $? -eq 1
check "... 2 failed, 1 passed" grep -q "2 failed, 1 passed" "$work/suite.out"
/usr/bin/python3 - "$work/suite.xml" "$work" >"$work/junit.out" 2>&1 <<'PY'
import os, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = {c.get('name'): c for c in root.iter('testcase')}
problems = []
def want(cond, what):
    if not cond:
        problems.append(what)
want(sorted(cases) == ['bad', 'sixteen', 'wrong'], 'one item per scenario: %s' % sorted(cases))
def failure(name):
    f = cases[name].find('failure') if name in cases else None
    return None if f is None else (f.get('message') or '') + (f.text or '')
def pcap(name):
    for p in cases[name].iter('property'):
        if p.get('name') == 'pcap':
            return p.get('value')
    return None
want(failure('sixteen') is None, 'sixteen passes')
text = failure('wrong') or ''
want('wrong.scn:5: expect bytes client->server == 17' in text, 'wrong: the expectation and its line')
want('expected 17 bytes client->server; saw 16' in text, 'wrong: what was seen')
want(pcap('wrong') and os.path.isfile(pcap('wrong')), 'wrong: its capture, as a property')
want(pcap('wrong') and pcap('wrong') in text, 'wrong: its capture, in the failure text')
want(pcap('sixteen') == os.path.join(sys.argv[2], 'suite', 'pcap', 'sixteen.pcap'),
     'sixteen: its capture in pcap/ beside the suite: %s' % pcap('sixteen'))
want('bad.scn:3:9: bad duration "10"' in (failure('bad') or ''), 'bad: FILE:LINE:COL')
for p in problems:
    print('FAIL', p)
sys.exit(1 if problems else 0)
PY
check "junit report: names, failure texts, pcap properties" test $? -eq 0
check "... capture opens in tshark" sh -c "HOME='$work' tshark -r '$work/suite/pcap/wrong.pcap' 2>/dev/null | grep -q SYN"

pytest_run nolab --tcplab "$work/no/such/tcplab"
check "--tcplab naming no program: exit 1" test $? -eq 1
check "... every item says so" test "$(grep -c 'tcplab not found' "$work/nolab.out")" -eq 3

if [ "$failed" -ne 0 ]; then
	for f in suite junit nolab; do
		echo "---- $f.out"
		cat "$work/$f.out"
	done
	echo "pytest_plugin_test: $failed checks failed"
	exit 1
fi
echo "pytest_plugin_test: all checks passed"
