/* scenario_files: the scenario files a command line names (scenario_files.h). */
#include "lab/cli/scenario_files.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab/verdict/expect.h"

static int path_list_add(struct path_list *l, const char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **grown = realloc(l->items, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->n] = strdup(path);
	return l->items[l->n++] ? 0 : -1;
}

void path_list_free(struct path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Files as given; directories give their *.scn files, sorted. */
int scenario_files_collect(char **args, int n_args, struct path_list *out)
{
	for (int i = 0; i < n_args; i++) {
		struct stat st;

		if (stat(args[i], &st) < 0) {
			fprintf(stderr, "tcplab: %s: %s\n", args[i], strerror(errno));
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			struct path_list found = { 0 };
			DIR *dir = opendir(args[i]);
			struct dirent *de;

			if (dir == NULL) {
				fprintf(stderr, "tcplab: %s: %s\n", args[i], strerror(errno));
				return -1;
			}
			while ((de = readdir(dir)) != NULL) {
				char path[PATH_MAX];
				const char *sep = ends_with(args[i], "/") ? "" : "/";

				if (!ends_with(de->d_name, ".scn") || de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s%s%s", args[i], sep, de->d_name);
				path_list_add(&found, path);
			}
			closedir(dir);
			if (found.n == 0)
				fprintf(stderr, "tcplab: %s: no .scn files\n", args[i]);
			if (found.n > 0)
				qsort(found.items, found.n, sizeof(*found.items), compare_strings);
			for (size_t k = 0; k < found.n; k++)
				path_list_add(out, found.items[k]);
			path_list_free(&found);
		} else {
			path_list_add(out, args[i]);
		}
	}
	return 0;
}

/* Parses every file; prints every error. Returns -1 when any was bad. */
int scenario_files_load(const struct path_list *paths, struct scenario ***out)
{
	struct scenario **scs = calloc(paths->n + 1, sizeof(*scs));
	int bad = 0;

	if (scs == NULL)
		return -1;
	for (size_t i = 0; i < paths->n; i++) {
		struct lab_err err;

		if (scenario_parse_file(paths->items[i], &scs[i], &err) < 0 ||
		    expect_validate(scs[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		for (size_t k = 0; k < i; k++) {
			if (scs[k] != NULL && strcmp(scs[k]->name, scs[i]->name) == 0) {
				fprintf(stderr,
					"%s:1:1: another scenario is named \"%s\" (%s): their captures "
					"would overwrite each other\n",
					scs[i]->path, scs[i]->name, scs[k]->path);
				bad = 1;
			}
		}
	}
	*out = scs;
	return bad ? -1 : 0;
}

void scenario_files_free(struct scenario **scs, size_t n)
{
	for (size_t i = 0; scs != NULL && i < n; i++)
		scenario_free(scs[i]);
	free(scs);
}
