#!/usr/bin/env bash
# graphs_lab_test: the HTML report's graphs, from a real run of the deadlock and
# slow_reader scenarios, checked three ways:
# - headless Chromium renders each page, and the rendered DOM holds the graphs;
# - every segment the time-sequence graph draws is a segment of the capture with
#   the sequence number tshark gives it (frame by frame), and its bar's height is
#   proportional to that number (the plot says what the data says);
# - every point of the socket-queue graph is a sample of the JSON report's
#   watch.samples, in order, plotted in proportion to its value.
# Usage: graphs_lab_test.sh TCPLAB
set -uo pipefail
tcplab=$(realpath "$1")
scenarios=$(realpath "$(dirname "$0")/../../scenarios")
py=/usr/bin/python3
failed=0
ok() { echo "ok: $*"; }
bad() { echo "FAILED: $*"; failed=1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
# The graphs are what is tested here: a verdict that failed (exit 1) still has them.
"$tcplab" run -j 1 --html html --json r.json "$scenarios/deadlock.scn" "$scenarios/slow_reader.scn" >out.txt 2>&1
status=$?
[ "$status" -le 1 ] || { bad "tcplab run exits $status"; cat out.txt; }

for name in deadlock slow_reader; do
	page="html/$name.html"
	[ -s "$page" ] || { bad "$name: no page"; continue; }
	# Rendered by a browser, not only written.
	if timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$work/$page" \
		>"$name.dom" 2>/dev/null && grep -q '<svg class="tsg"' "$name.dom" &&
		grep -q '<svg class="queues"' "$name.dom"; then
		ok "$name: Chromium renders the time-sequence and queue graphs"
	else
		bad "$name: Chromium did not render the graphs"
	fi
	if [ "$name" = deadlock ]; then
		# The lab ended both programs: its stop is marked on the time-sequence graph.
		/usr/bin/python3 -c 'import re,sys; p=open(sys.argv[1]).read(); sys.exit(0 if re.search(r"<svg class=\"tsg\"[^>]*>(?:(?!</svg>).)*<g class=\"event stop\"", p, re.S) else 1)' "$page" &&
			ok "deadlock: the lab's stop is marked on the time-sequence graph" ||
			bad "deadlock: no lab's stop on the time-sequence graph"
	fi
	tshark -n -r "pcap/$name.pcap" -T fields -e frame.number -e tcp.seq -e tcp.len \
		-o tcp.relative_sequence_numbers:TRUE >"$name.tshark" 2>/dev/null
	if "$py" - "$page" "$name.tshark" r.json "$name" <<'PY'; then
import html.parser, json, sys

page, tshark_path, json_path, name = sys.argv[1:5]
H, BOTTOM = 340, 38   # report_graphs.c: GRAPH_H, GRAPH_BOTTOM
base = H - BOTTOM

class Graphs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svg = None
        self.segs = []      # (dir, frame, seq, len, y1)
        self.lines = {}     # class -> (times, values, points)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svg = (a.get("class"), a.get("data-dir"))
        elif tag == "line" and self.svg and self.svg[0] == "tsg" and "seg" in a.get("class", ""):
            self.segs.append((self.svg[1], int(a["data-frame"]), int(a["data-seq"]),
                              int(a["data-len"]), float(a["y1"])))
        elif tag == "polyline" and self.svg and self.svg[0] in ("queues", "moved"):
            self.lines[a["class"]] = ([int(v) for v in a["data-times"].split(",")],
                                      [int(v) for v in a["data-values"].split(",")],
                                      [tuple(map(float, p.split(","))) for p in a["points"].split()])

g = Graphs()
g.feed(open(page, encoding="utf-8").read())
problems = []
tshark = {}
for line in open(tshark_path):
    f = line.rstrip("\n").split("\t")
    if len(f) == 3 and f[1]:
        tshark[int(f[0])] = (int(f[1]), int(f[2] or 0))
if len(g.segs) < 10:
    problems.append(f"only {len(g.segs)} segments drawn")
for d, frame, seq, length, y1 in g.segs:
    if tshark.get(frame) != (seq, length):
        problems.append(f"frame {frame}: drawn seq={seq} len={length}, tshark says {tshark.get(frame)}")
        break
def proportional(pairs):
    """pairs of (value, y): y = base - value * scale for one scale, to the 0.1 px
    that the SVG's coordinates are written with."""
    top = max(pairs, key=lambda p: p[0])
    if top[0] <= 0:
        return True
    scale = (base - top[1]) / top[0]
    return all(abs((base - y) - v * scale) <= 0.11 for v, y in pairs)
for d in ("c2s", "s2c"):
    pairs = [(seq, y1) for dd, _, seq, _, y1 in g.segs if dd == d]
    if pairs and not proportional(pairs):
        problems.append(f"{d}: bars not in proportion to their sequence numbers")
samples = next(s for s in json.load(open(json_path))["scenarios"] if s["name"] == name)["watch"]["samples"]
keys = {"csq": "client_send_queue", "crq": "client_recv_queue", "ssq": "server_send_queue",
        "srq": "server_recv_queue", "c2s": "client_to_server", "s2c": "server_to_client"}
if len(samples) < 10:
    problems.append(f"only {len(samples)} watch samples")
for cls, key in keys.items():
    if cls not in g.lines:
        problems.append(f"no {cls} line")
        continue
    times, values, points = g.lines[cls]
    if times != [s["at_us"] for s in samples] or values != [s[key] for s in samples]:
        problems.append(f"{cls}: the plotted samples are not the JSON report's")
    if len(points) != len(values):
        problems.append(f"{cls}: {len(points)} points for {len(values)} samples")
    if points and not proportional([(v, y) for (x, y), v in zip(points, values)]):
        problems.append(f"{cls}: points not in proportion to the samples")
for p in problems[:5]:
    print("  ", p)
print(f"  {len(g.segs)} segments checked against tshark, {len(samples)} samples x {len(keys)} lines")
sys.exit(1 if problems else 0)
PY
		ok "$name: the graphs plot what tshark and the JSON report say"
	else
		bad "$name: the graphs disagree with tshark or the JSON report"
	fi
done
exit $failed
