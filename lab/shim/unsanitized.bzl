"""unsanitized: builds a target with every -fsanitize flag removed from --copt and
--linkopt, so that `bazel test --config=asan` still yields a shim that can be
preloaded into programs that are not sanitized (an ASan runtime inside an
LD_PRELOAD library refuses to start: "ASan runtime does not come first"), and a
probe program that runs under that shim."""

def _drop_sanitizers(flags):
    return [f for f in flags if "sanitize" not in f]

def _no_sanitize_impl(settings, attr):
    return {
        "//command_line_option:copt": _drop_sanitizers(settings["//command_line_option:copt"]),
        "//command_line_option:linkopt": _drop_sanitizers(settings["//command_line_option:linkopt"]),
    }

_no_sanitize = transition(
    implementation = _no_sanitize_impl,
    inputs = ["//command_line_option:copt", "//command_line_option:linkopt"],
    outputs = ["//command_line_option:copt", "//command_line_option:linkopt"],
)

def _unsanitized_impl(ctx):
    target = ctx.attr.target[0]
    src = target[DefaultInfo].files.to_list()[0]
    out = ctx.outputs.out
    ctx.actions.symlink(output = out, target_file = src, is_executable = ctx.attr.executable)
    runfiles = ctx.runfiles(files = [out]).merge(target[DefaultInfo].default_runfiles)
    return [DefaultInfo(files = depset([out]), runfiles = runfiles)]

unsanitized = rule(
    implementation = _unsanitized_impl,
    doc = "The single file of `target`, built without sanitizers, as `out`.",
    attrs = {
        "target": attr.label(cfg = _no_sanitize, mandatory = True),
        "out": attr.output(mandatory = True),
        "executable": attr.bool(default = False),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
