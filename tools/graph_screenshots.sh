#!/usr/bin/env bash
# graph_screenshots.sh: the README's pictures of the HTML report's graphs. Runs the
# deadlock and slow_reader scenarios with --html, keeps each page's graph sections
# in a page of their own and has headless Chromium take its picture:
# docs/deadlock-graphs.png, docs/slow_reader-graphs.png.
# Usage: tools/graph_screenshots.sh   (after `bazel build //lab:tcplab`)
set -euo pipefail
cd "$(dirname "$0")/.."
tcplab="$(bazel info bazel-bin 2>/dev/null)/lab/cli/tcplab"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$tcplab" run -j 1 --html html "$OLDPWD/scenarios/deadlock.scn" \
	"$OLDPWD/scenarios/slow_reader.scn" >/dev/null) || true
for name in deadlock slow_reader; do
	/usr/bin/python3 - "$work/html/$name.html" "$work/$name-graphs.html" <<'PY'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
head = page[:page.index("<main>") + len("<main>")]
tsg = page[page.index("<h2>Time-sequence graphs</h2>"):page.index("<h2>", page.index("<h2>Time-sequence graphs</h2>") + 5)]
q = page.index("<h2>Socket queues over the run</h2>")
queues = page[q:page.index("<h2>", q + 5)]
open(sys.argv[2], "w", encoding="utf-8").write(head + tsg + queues + "</main></body></html>")
PY
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1040,1960 \
		--screenshot="docs/$name-graphs.png" "file://$work/$name-graphs.html" 2>/dev/null
	echo "wrote docs/$name-graphs.png"
done
