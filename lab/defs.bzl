"""tcp_scenario: one Bazel test target per tcplab scenario file.

    load("//lab:defs.bzl", "tcp_scenario")

    tcp_scenario(
        name = "short_writes",
        src = "short_writes.scn",
        programs = [":echo_client", ":echo_server"],
    )

The target is an sh_test that runs `tcplab run` on that one scenario inside Bazel's
network-blocked sandbox (tag `block-network`: a private network namespace with only
`lo`, the test running as root in it). The programs under test (Bazel targets or
scripts) are inputs of the test and their runfiles directories go first on the
programs' PATH, so the scenario calls them by name (`client echo_client $HOST $PORT`).
The capture goes to the test's undeclared outputs (bazel-testlogs/PKG/NAME/
test.outputs/), the JUnit report (--junit) becomes Bazel's
test.xml and the JSON report joins the capture.

Bazel re-runs the target when the scenario file, a program, the lab or the runner
changes, and takes the cached result otherwise.
"""

_RUNNER = "//lab/cli:scenario_test_runner.sh"
_TCPLAB = "//lab/cli:tcplab"

def _shell_quote(text):
    """Quotes text as one word for the Bourne-shell tokenizer Bazel applies to `args`.

    `$` is doubled first: `args` also goes through Make-variable expansion.
    """
    text = text.replace("$", "$$")
    return "'" + text.replace("'", "'\\''") + "'"

def tcp_scenario(
        name,
        src,
        programs = [],
        data = [],
        tags = [],
        size = "small",
        expect_failure = [],
        **kwargs):
    """An sh_test that runs `tcplab run` on one scenario file.

    Args:
      name: the test target's name.
      src: the scenario file (label of a .scn file).
      programs: the programs under test: cc_binary, py_binary, sh_binary targets or
        executable scripts. Each one's directory in the runfiles goes first on the
        programs' PATH (after the lab's reference programs), so the scenario runs
        them by their file name.
      data: other files the programs or the scenario need at run time (available
        relative to the scenario's directory, where the programs start).
      tags: extra tags; `block-network` is always added.
      size: the test size (default "small": Bazel's timeout of 60 s is far above a
        scenario's own `timeout`).
      expect_failure: texts that the lab's output must contain. When given, the target
        passes only when the lab exits 1 (some expectation did not hold) and every
        text appears in its output: it asserts why the scenario fails, not just that
        it fails. Use it to pin down a known bug.
      **kwargs: passed to sh_test (flaky, shard_count, timeout, visibility ...).
    """
    if type(programs) != type([]):
        fail("tcp_scenario %s: programs must be a list of labels" % name)
    if type(expect_failure) != type([]):
        fail("tcp_scenario %s: expect_failure must be a list of strings" % name)
    for text in expect_failure:
        if type(text) != type("") or not text:
            fail("tcp_scenario %s: expect_failure holds non-empty strings, not %r" % (name, text))
    for key in ("srcs", "args", "deps"):
        if key in kwargs:
            fail("tcp_scenario %s: %s is set by the macro" % (name, key))

    args = [
        "$(rootpath %s)" % _TCPLAB,
        "$(rootpath %s)" % src,
    ]
    for program in programs:
        # One program target may give several files (a py_binary: its launcher and
        # its .py); the runner puts every one's directory on PATH.
        args.append("$(rootpaths %s)" % program)
    for text in expect_failure:
        args += ["--expect-failure", _shell_quote(text)]

    all_tags = list(tags)
    if "block-network" not in all_tags:
        all_tags.append("block-network")

    native.sh_test(
        name = name,
        size = size,
        srcs = [_RUNNER],
        args = args,
        data = [src, _TCPLAB] + programs + data,
        tags = all_tags,
        **kwargs
    )
