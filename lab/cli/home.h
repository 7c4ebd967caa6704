/* home: where the lab's own files are (the reference programs in tools/ref/, the
 * fault shim in lab/shim/): TCPLAB_HOME, an installed PREFIX/lib/tcplab beside
 * PREFIX/bin/tcplab, or Bazel's runfiles tree of this binary. */
#ifndef TCPLAB_HOME_H
#define TCPLAB_HOME_H

#include <stddef.h>

/* Fills home (len bytes) with the directory; -1 when none is found. */
int cli_find_home(char *home, size_t len);

#endif
