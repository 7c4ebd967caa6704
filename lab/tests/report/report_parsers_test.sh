#!/usr/bin/env bash
# The reports of the fixture (lab/tests/report/report_fixture.c: a passing, a
# failing and an erroring scenario, programs' output full of hostile bytes) read
# by real parsers: xmllint and Python's ElementTree for the JUnit XML, Python's
# strict json for the JSON, Python's html.parser for the pages (every element
# closed, every local link and capture present).
# Usage: report_parsers_test.sh REPORT_FIXTURE_WRITER
set -uo pipefail

writer=$(realpath "$1")
pcaps="${TEST_SRCDIR:-.}/tcplab/lab/tests/pcaps"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/parsers.XXXXXX")
failures=0

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}

"$writer" "$pcaps" "$work" || { echo "FAILED: report_fixture_writer"; exit 1; }

check "junit.xml is well-formed for xmllint" xmllint --noout "$work/junit.xml"
check "junit.xml counts for ElementTree" /usr/bin/python3 - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == 'testsuites', root.tag
suite = root.find('testsuite')
cases = suite.findall('testcase')
assert len(cases) == int(suite.get('tests')) == int(root.get('tests')) == 3
fails = [c for c in cases if c.find('failure') is not None]
errors = [c for c in cases if c.find('error') is not None]
assert len(fails) == int(suite.get('failures')) == 1
assert len(errors) == int(suite.get('errors')) == 1
assert all(c.find('system-out') is not None for c in cases)
attach = [l for c in cases for l in c.find('system-out').text.splitlines() if l.startswith('[[ATTACHMENT|')]
assert len(attach) == 2 and all(l.endswith('.pcap]]') for l in attach), attach
PY

check "report.json is strict JSON in UTF-8" /usr/bin/python3 - "$work/report.json" <<'PY'
import json, sys
with open(sys.argv[1], encoding='utf-8') as f:
    d = json.load(f)
assert d['schema'] == 'tcplab-report/1'
assert [s['status'] for s in d['scenarios']] == ['pass', 'fail', 'error']
keys = [sorted(s.keys()) for s in d['scenarios']]
assert keys[0] == keys[1] == keys[2], 'every scenario object has the same keys'
PY

check "every page is balanced HTML with working local links" /usr/bin/python3 - "$work/html" <<'PY'
import os, sys
from html.parser import HTMLParser
from urllib.parse import unquote
VOID = {'meta', 'br', 'hr', 'img', 'input', 'link', 'col', 'area', 'base', 'wbr'}
SVG_EMPTY = {'line', 'polygon', 'rect', 'circle', 'path'}
class Check(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.links = [], []
    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
        self.links += [v for k, v in attrs if k in ('href', 'src')]
    def handle_startendtag(self, tag, attrs):
        assert tag in VOID or tag in SVG_EMPTY, tag
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
site = sys.argv[1]
pages = [p for p in os.listdir(site) if p.endswith('.html')]
assert sorted(pages) == ['echo.html', 'index.html', 'nolab.html', 'stuck.html'], pages
for page in pages:
    c = Check()
    c.feed(open(os.path.join(site, page), encoding='utf-8').read())
    c.close()
    assert c.stack == [], (page, c.stack)
    for link in c.links:
        assert '://' not in link, (page, link)
        assert os.path.exists(os.path.join(site, unquote(link))), (page, link)
PY

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
