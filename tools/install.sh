#!/bin/sh
# install: copies tcplab, its fault shim, the reference programs and the man pages
# under a prefix, as one relocatable tree:
#
#   PREFIX/bin/tcplab
#   PREFIX/lib/tcplab/lab/shim/libtcplab_shim.so     (preloaded into faulted programs)
#   PREFIX/lib/tcplab/tools/ref/tcp_sixteen, tcp_deadlock, tcp_evloop
#   PREFIX/share/man/man1/tcplab.1, PREFIX/share/man/man5/tcplab-scenario.5
#   PREFIX/lib/tcplab/pytest/pytest_tcplab.py      (scenario files as pytest items)
#
# The installed tcplab finds lib/tcplab from its own path (lab/main.c, find_home),
# so it runs scenarios anywhere without Bazel, and the tree may move as a whole.
#
# usage: bazel run //:install -- PREFIX      (e.g. /usr/local; a relative PREFIX is
#        taken from the directory bazel was run in)
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: bazel run //:install -- PREFIX   (e.g. /usr/local)" >&2
	exit 2
fi
prefix=$1
case "$prefix" in
/*) ;;
*) prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix" ;;
esac

# The built files are this script's runfiles: beside it under `bazel run`, in the
# test's runfiles tree under `bazel test`.
if [ -d "$0.runfiles/tcplab" ]; then
	src="$0.runfiles/tcplab"
elif [ -n "${RUNFILES_DIR:-}" ] && [ -d "$RUNFILES_DIR/tcplab" ]; then
	src="$RUNFILES_DIR/tcplab"
elif [ -n "${TEST_SRCDIR:-}" ] && [ -d "$TEST_SRCDIR/tcplab" ]; then
	src="$TEST_SRCDIR/tcplab"
else
	echo "install: cannot find the built files (run it as: bazel run //:install -- PREFIX)" >&2
	exit 2
fi

home="$prefix/lib/tcplab"
put() { # MODE FROM TO   (not install(1): this script's own name may come first on PATH)
	if ! { mkdir -p "$(dirname "$3")" && rm -f "$3" && cp -L "$src/$2" "$3" && chmod "$1" "$3"; }; then
		echo "install: cannot write $3" >&2
		exit 1
	fi
	echo "  $3"
}

echo "install: tcplab under $prefix"
put 0755 lab/cli/tcplab "$prefix/bin/tcplab"
put 0755 lab/shim/libtcplab_shim.so "$home/lab/shim/libtcplab_shim.so"
for prog in tcp_sixteen tcp_deadlock tcp_evloop; do
	put 0755 "tools/ref/$prog" "$home/tools/ref/$prog"
done
put 0644 tools/pytest/pytest_tcplab.py "$home/pytest/pytest_tcplab.py"
put 0644 docs/man/tcplab.1 "$prefix/share/man/man1/tcplab.1"
put 0644 docs/man/tcplab-scenario.5 "$prefix/share/man/man5/tcplab-scenario.5"
echo "install: done; try: $prefix/bin/tcplab --help; man tcplab"
