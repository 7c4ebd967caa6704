/* home: finding the lab's own files (home.h). */
#include "lab/cli/home.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static bool is_home(const char *dir)
{
	char probe[2 * PATH_MAX];

	snprintf(probe, sizeof(probe), "%s/tools/ref/tcp_sixteen", dir);
	return access(probe, X_OK) == 0;
}

/* The runfiles tree of this binary: under `bazel run`, `bazel test`, or bazel-bin. */
int cli_find_home(char *home, size_t len)
{
	const char *env_dirs[] = { "TCPLAB_HOME", "RUNFILES_DIR", "TEST_SRCDIR" };
	char exe[PATH_MAX];
	char candidate[PATH_MAX + 64];
	ssize_t n;

	for (size_t i = 0; i < sizeof(env_dirs) / sizeof(env_dirs[0]); i++) {
		const char *v = getenv(env_dirs[i]);

		if (v == NULL)
			continue;
		snprintf(candidate, sizeof(candidate), "%s%s", v, i == 0 ? "" : "/tcplab");
		if (is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(candidate, sizeof(candidate), "%s.runfiles/tcplab", exe);
		if (is_home(candidate) && realpath(candidate, home) != NULL)
			return 0;
	}
	(void)len;
	return -1;
}
