#!/usr/bin/python3
"""show_tshark_test: every row `tcplab show` prints names a frame as Wireshark
numbers them. For each capture and each way of showing it (folded, --all,
--time relative, --time absolute, --port), every segment row's frame number is
a frame where tshark sees the same sequence number, acknowledgement number and
length; its time is tshark's frame.time_relative or frame.time_epoch; its
[retransmission], [fast retransmission] and [dup ack] notes are on frames
tshark marks so; a fold row's first and last frames are frames of that
connection. With --all, every TCP frame is one row, and every frame tshark
calls a retransmission is a row noted so.

usage: show_tshark_test.py TCPLAB [PCAP...]
"""
import calendar
import os
import re
import subprocess
import sys
import time

PCAPS = ['retransmission', 'fast_retransmission', 'spurious', 'bulk', 'dup_ack_storm',
         'mixed', 'zero_window_linux']
ROW = re.compile(r'^ *(\d+) +(\S+(?: \S+)?) (?:│|\|)(.*)$')
SEG = re.compile(r'(\S+) seq=(\d+)(?: ack=(\d+))? len=(\d+) win=\d+')
FOLD = re.compile(r'\.\.\. [\d ]+ segments \(frames (\d+)-(\d+)\)')


def tshark(pcap, *args):
    out = subprocess.run(['tshark', '-n', '-r', pcap] + list(args), check=True,
                         capture_output=True, text=True).stdout
    return [line.split('\t') for line in out.splitlines() if line]


NOTES = ['retransmission', 'fast retransmission', 'dup ack']


def wireshark_view(pcap):
    """One tshark run per capture: per TCP frame its fields and the frames it
    marks with each note."""
    fields = tshark(pcap, '-Y', 'tcp', '-T', 'fields', '-E', 'occurrence=f', '-e',
                    'frame.number', '-e', 'tcp.seq', '-e', 'tcp.ack', '-e', 'tcp.len', '-e',
                    'frame.time_relative', '-e', 'frame.time_epoch', '-e', 'tcp.srcport', '-e',
                    'tcp.dstport', '-e', 'tcp.analysis.retransmission', '-e',
                    'tcp.analysis.fast_retransmission', '-e', 'tcp.analysis.duplicate_ack')
    fields = [r + [''] * (11 - len(r)) for r in fields]
    marked = {note: {int(r[0]) for r in fields if r[8 + i]} for i, note in enumerate(NOTES)}
    # a frame cut inside the TCP header has no tcp.seq: malformed for us too
    fields = [r for r in fields if r[1] != '']
    return fields, marked


def check(tcplab, pcap, view, opts, failures):
    shown = subprocess.run([tcplab, 'show'] + opts + [pcap], check=True, capture_output=True,
                           text=True).stdout
    fields, marked = view
    frames = {int(r[0]): r for r in fields}
    where = '%s %s' % (os.path.basename(pcap), ' '.join(opts) or '(folded)')
    rows = 0
    retrans_rows = set()
    port = int(opts[opts.index('--port') + 1]) if '--port' in opts else 0

    def fail(msg):
        failures.append('%s: %s' % (where, msg))

    for line in shown.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        frame, when, rest = int(m.group(1)), m.group(2), m.group(3)
        rows += 1
        t = frames.get(frame)
        if t is None:
            fail('frame %d is not a TCP frame for tshark: %s' % (frame, line))
            continue
        if port and port not in (int(t[6]), int(t[7])):
            fail('frame %d is not on port %d' % (frame, port))
        if '--time' in opts:
            mode = opts[opts.index('--time') + 1]
            if mode == 'relative':
                want = float(t[4])
                got = float(when)
            else:
                want = float(t[5])
                got = calendar.timegm(time.strptime(when[:19], '%Y-%m-%d %H:%M:%S')) + \
                    float('0' + when[19:])
            if abs(want - got) > 1.5e-6:
                fail('frame %d: time %s, tshark says %.6f' % (frame, when, want))
        f = FOLD.search(rest)
        if f:
            first, last = int(f.group(1)), int(f.group(2))
            if first != frame or last not in frames or last < first:
                fail('fold frames %d-%d do not match: %s' % (first, last, line))
            continue
        s = SEG.search(rest)
        if not s:
            fail('row without a label: %s' % line)
            continue
        seq, ack, length = int(s.group(2)), s.group(3), int(s.group(4))
        if seq != int(t[1]) or length != int(t[3]) or (ack is not None and int(ack) != int(t[2])):
            fail('frame %d: show says seq=%d ack=%s len=%d, tshark seq=%s ack=%s len=%s' %
                 (frame, seq, ack, length, t[1], t[2], t[3]))
        for note, marks in marked.items():
            if '[%s]' % note in rest and frame not in marks:
                fail('frame %d noted [%s], tshark does not say so' % (frame, note))
        if re.search(r'\[(fast |spurious )?retransmission\]', rest):
            retrans_rows.add(frame)
    if rows == 0:
        fail('no rows')
    if '--all' in opts:
        want_rows = len([r for r in fields if not port or port in (int(r[6]), int(r[7]))])
        if rows != want_rows:
            fail('%d rows for %d TCP frames' % (rows, want_rows))
        missing = (marked['retransmission'] | marked['fast retransmission']) - retrans_rows
        if missing:
            fail('tshark retransmissions not noted as such: %s' % sorted(missing))
    return rows


def main():
    tcplab = sys.argv[1]
    pcaps = sys.argv[2:] or [p for name in PCAPS for p in
                             ('lab/tests/pcaps/%s.pcap' % name,
                              'lab/tests/pcaps/%s.pcapng' % name) if os.path.exists(p)]
    os.environ['HOME'] = os.environ.get('TEST_TMPDIR', '/tmp')  # tshark's profile
    failures = []
    checked = 0
    for pcap in pcaps:
        view = wireshark_view(pcap)
        for opts in ([], ['--all'], ['--time', 'relative'], ['--all', '--time', 'absolute'],
                     ['--port', '1060', '--time', 'absolute']):
            checked += check(tcplab, pcap, view, opts, failures)
    for f in failures:
        print('FAIL', f)
    print('%d rows of %d captures checked against tshark, %d failures' %
          (checked, len(pcaps), len(failures)))
    return 1 if failures or checked == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
