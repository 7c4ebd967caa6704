"""pytest_tcplab: a pytest plugin that collects tcplab scenario files (*.scn) as
test items, one per scenario, and runs each with `tcplab run`.

A scenario that passes is a passed test; one whose expectations do not all hold
fails with the lab's own failure text (the expectation with its FILE:LINE, what
was seen, the run's timeline, the end of the programs' output); one the lab
cannot run (a malformed file: FILE:LINE:COL) fails with the lab's message. The
capture's path is in the report: in the failure text, as the `pcap` user
property (pytest's JUnit XML shows it as a <property>), and as a report section.

Use it from the directory holding your scenarios:

    pytest -p pytest_tcplab scenarios/           (with this file on PYTHONPATH)

or name it in a conftest.py: `pytest_plugins = ["pytest_tcplab"]`.

Options: --tcplab PATH (default: $TCPLAB, else the tcplab installed beside this
file by `bazel run //:install`, else `tcplab` on PATH), --tcplab-pcap-dir DIR
(default: pcap/ in the directory pytest was started in).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

SUMMARY_LINE = re.compile(r'^\d+ scenarios?: \d+ passed, ')


def pytest_addoption(parser):
    group = parser.getgroup('tcplab', 'tcplab scenario files (*.scn)')
    group.addoption('--tcplab', metavar='PATH', default=None,
                    help='the tcplab program (default: $TCPLAB, the installed one, PATH)')
    group.addoption('--tcplab-pcap-dir', metavar='DIR', default='pcap',
                    help='where the captures go (default: pcap)')


def find_tcplab(config):
    """The tcplab to run, or None."""
    given = config.getoption('tcplab') or os.environ.get('TCPLAB')
    if given:
        return os.path.abspath(given) if os.sep in given else shutil.which(given)
    # installed as PREFIX/lib/tcplab/pytest/pytest_tcplab.py beside PREFIX/bin/tcplab
    here = os.path.dirname(os.path.abspath(__file__))
    beside = os.path.normpath(os.path.join(here, '..', '..', '..', 'bin', 'tcplab'))
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which('tcplab')


def pytest_configure(config):
    config.addinivalue_line('markers', 'tcplab: a tcplab scenario file run by tcplab')


def pytest_collect_file(file_path, parent):
    if file_path.suffix == '.scn':
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario file: one scenario, so one item named after the file."""

    def collect(self):
        item = ScenarioItem.from_parent(self, name=self.path.stem)
        item.add_marker('tcplab')
        yield item


class ScenarioFailed(Exception):
    """The lab's verdict: its text is the failure message."""


class ScenarioItem(pytest.Item):

    def runtest(self):
        config = self.config
        tcplab = find_tcplab(config)
        if tcplab is None or not os.access(tcplab, os.X_OK):
            raise ScenarioFailed('tcplab not found: give --tcplab PATH or set TCPLAB '
                                 '(or install it: bazel run //:install -- PREFIX)')
        pcap_dir = os.path.join(str(config.invocation_params.dir),
                                config.getoption('tcplab_pcap_dir'))
        with tempfile.TemporaryDirectory(prefix='pytest-tcplab-') as tmp:
            report = os.path.join(tmp, 'report.json')
            proc = subprocess.run(
                [tcplab, 'run', '-j', '1', '--pcap-dir', pcap_dir, '--json', report,
                 str(self.path)],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, errors='replace')
            pcap = None
            try:
                with open(report, encoding='utf-8') as f:
                    scenarios = json.load(f).get('scenarios') or []
                if scenarios:
                    pcap = scenarios[0].get('pcap')
            except (OSError, ValueError):
                pass  # no report: the lab could not start; its stderr says why
        if pcap:
            pcap = os.path.abspath(pcap)
            self.user_properties.append(('pcap', pcap))
            self.add_report_section('call', 'pcap', pcap)
        if proc.returncode == 0:
            return
        # the lab's text for this scenario, without the closing count line
        lines = [ln for ln in proc.stdout.splitlines() if not SUMMARY_LINE.match(ln)]
        text = '\n'.join(lines).strip()
        if proc.stderr.strip():
            text = (text + '\n' if text else '') + proc.stderr.strip()
        if proc.returncode != 1:
            text = 'tcplab could not run the scenario (exit status %d):\n%s' % (
                proc.returncode, text)
        if pcap:
            text += '\ncapture: %s' % pcap
        raise ScenarioFailed(text)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, 'scenario %s' % self.name
