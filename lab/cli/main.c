/* main: tcplab's command line: dispatches to one file per command (commands.h)
 * and answers --help and --version. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/cli/commands.h"
#include "lab/cli/usage.h"

int main(int argc, char **argv)
{
	const char *workdir = getenv("BUILD_WORKING_DIRECTORY");

	/* Under `bazel run`, paths on the command line are the user's, not runfiles'. */
	if (workdir != NULL && chdir(workdir) < 0) {
		fprintf(stderr, "tcplab: cannot enter %s: %s\n", workdir, strerror(errno));
		return 2;
	}
	if (argc < 2)
		return cli_usage_error("%s", "which command? run, check, show, list or explore");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(cli_usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tcplab %s\n", TCPLAB_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "explore") == 0)
		return cmd_explore(argc - 1, argv + 1);
	return cli_usage_error("unknown command \"%s\" (run, check, show, list or explore)",
			       argv[1]);
}
