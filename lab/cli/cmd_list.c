/* cmd_list: `tcplab list`: each scenario's name and one-line summary. */
#include <stdio.h>

#include "lab/cli/commands.h"
#include "lab/cli/scenario_files.h"
#include "lab/cli/usage.h"

int cmd_list(int argc, char **argv)
{
	struct path_list paths = { 0 };
	struct scenario **scs = NULL;
	int status = 2;

	if (argc < 2)
		return cli_usage_error("%s", "list: which scenarios? (a file or a directory)");
	if (scenario_files_collect(argv + 1, argc - 1, &paths) < 0)
		goto out;
	if (paths.n == 0) {
		fprintf(stderr, "tcplab: no scenario to list\n"); /* as run: status 2 */
		goto out;
	}
	if (scenario_files_load(&paths, &scs) < 0)
		goto out;
	for (size_t i = 0; i < paths.n; i++)
		printf("%-28s %s\n", scs[i]->name, scs[i]->summary);
	status = 0;
out:
	scenario_files_free(scs, paths.n);
	path_list_free(&paths);
	return status;
}
