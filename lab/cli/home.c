/* home: finding the lab's own files (home.h). */
#include "lab/cli/home.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool is_home(const char *dir)
{
	char probe[2 * PATH_MAX];

	snprintf(probe, sizeof(probe), "%s/tools/ref/tcp_sixteen", dir);
	return access(probe, X_OK) == 0;
}

/* $TCPLAB_HOME when set; an installed tcplab's PREFIX/lib/tcplab (PREFIX/bin/tcplab
 * is this binary, so an installed tree can move as a whole); else this binary's
 * runfiles tree under `bazel run`, `bazel test`, or in bazel-bin. */
int cli_find_home(char *home, size_t len)
{
	const char *env_dirs[] = { "RUNFILES_DIR", "TEST_SRCDIR" };
	const char *v = getenv("TCPLAB_HOME");
	char exe[PATH_MAX];
	char candidate[PATH_MAX + 64];
	ssize_t n;

	if (v != NULL)
		return is_home(v) && realpath(v, home) != NULL ? 0 : -1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		snprintf(candidate, sizeof(candidate), "%.*s/../lib/tcplab",
			 slash ? (int)(slash - exe) : 0, exe);
		if (slash && is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	for (size_t i = 0; i < sizeof(env_dirs) / sizeof(env_dirs[0]); i++) {
		v = getenv(env_dirs[i]);
		if (v == NULL)
			continue;
		snprintf(candidate, sizeof(candidate), "%s/tcplab", v);
		if (is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	if (n > 0) {
		snprintf(candidate, sizeof(candidate), "%s.runfiles/tcplab", exe);
		if (is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	(void)len;
	return -1;
}
