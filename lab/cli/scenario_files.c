/* scenario_files: the scenario files a command line names (scenario_files.h). */
#include "lab/cli/scenario_files.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/verdict/expect.h"

static int path_list_add(struct path_list *l, const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **grown = realloc(l->items, cap * sizeof(*grown));

		if (grown == NULL) {
			free(copy);
			return -1;
		}
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->n++] = copy;
	return 0;
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
				if (path_list_add(&found, path) < 0) {
					closedir(dir);
					path_list_free(&found);
					fprintf(stderr, "tcplab: out of memory\n");
					return -1;
				}
			}
			closedir(dir);
			if (found.n == 0)
				fprintf(stderr, "tcplab: %s: no .scn files\n", args[i]);
			if (found.n > 0)
				qsort(found.items, found.n, sizeof(*found.items), compare_strings);
			for (size_t k = 0; k < found.n; k++) {
				if (path_list_add(out, found.items[k]) < 0) {
					path_list_free(&found);
					fprintf(stderr, "tcplab: out of memory\n");
					return -1;
				}
			}
			path_list_free(&found);
		} else if (!S_ISREG(st.st_mode)) {
			/* Opening a FIFO for reading would wait for a writer for ever. */
			fprintf(stderr, "tcplab: %s: not a regular file or a directory\n", args[i]);
			return -1;
		} else if (path_list_add(out, args[i]) < 0) {
			fprintf(stderr, "tcplab: out of memory\n");
			return -1;
		}
	}
	return 0;
}

/* The same file named twice (a repeat, given its own capture by the runner)? */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
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
			if (scs[k] != NULL && strcmp(scs[k]->name, scs[i]->name) == 0 &&
			    !same_file(paths->items[k], paths->items[i])) {
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

/* Shell words that are not programs on PATH. */
static bool is_shell_word(const char *w)
{
	static const char *const words[] = {
		"!",       "{",      "(",      ".",       ":",        "[",        "alias",  "bg",
		"break",   "case",   "cd",     "command", "continue", "echo",     "eval",   "exec",
		"exit",    "export", "false",  "fg",      "for",      "getopts",  "hash",   "if",
		"jobs",    "kill",   "printf", "pwd",     "read",     "readonly", "return", "set",
		"shift",   "test",   "times",  "trap",    "true",     "type",     "ulimit", "umask",
		"unalias", "unset",  "until",  "wait",    "while",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/* Is name an executable file the shell would find? */
static bool found(const char *name, const char *dir, const char *tools_dir)
{
	char path[PATH_MAX * 2];
	const char *search = getenv("PATH");
	char list[8192];
	char *save = NULL;

	if (strchr(name, '/') != NULL) {
		if (name[0] == '/')
			snprintf(path, sizeof(path), "%s", name);
		else
			snprintf(path, sizeof(path), "%s/%s", dir, name);
		return access(path, X_OK) == 0;
	}
	snprintf(list, sizeof(list), "%s:%s", tools_dir, search ? search : "/usr/bin:/bin");
	for (char *d = strtok_r(list, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", d[0] ? d : ".", name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
			return true;
	}
	return false;
}

/* The column of the command on its line (after "client" or "server"), or 1. */
static int command_col(const char *path, int line_no)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int col = 1;

	for (int n = 1; f != NULL && fgets(line, sizeof(line), f) != NULL; n++) {
		const char *p = line;

		if (n != line_no)
			continue;
		if (n == 1 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
			p += 3;
		while (*p == ' ' || *p == '\t')
			p++;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		while (*p == ' ' || *p == '\t')
			p++;
		col = (int)(p - line) + 1 -
		      (n == 1 && memcmp(line, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0);
		break;
	}
	if (f != NULL)
		fclose(f);
	return col;
}

int scenario_files_check_commands(struct scenario **scs, size_t n, const char *tools_dir)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct scenario_program *progs[2] = { &scs[i]->client, &scs[i]->server };
		const char *who[2] = { "client", "server" };
		char *dir = strdup(scs[i]->path);

		if (dir == NULL) {
			fprintf(stderr, "tcplab: out of memory\n");
			return -1;
		}
		for (int k = 0; k < 2; k++) {
			char word[PATH_MAX];
			const char *cmd = progs[k]->command;
			size_t len;

			if (cmd == NULL)
				continue;
			while (*cmd == ' ' || *cmd == '\t')
				cmd++;
			len = strcspn(cmd, " \t;&|<>()");
			if (len == 0 || len >= sizeof(word))
				continue;
			memcpy(word, cmd, len);
			word[len] = '\0';
			if (strcmp(word, "exec") == 0) { /* `exec PROGRAM`: judge PROGRAM */
				cmd += len;
				while (*cmd == ' ' || *cmd == '\t')
					cmd++;
				len = strcspn(cmd, " \t;&|<>()");
				if (len == 0 || len >= sizeof(word))
					continue;
				memcpy(word, cmd, len);
				word[len] = '\0';
			}
			if (is_shell_word(word) || strpbrk(word, "$`'\"\\=*?[~") != NULL)
				continue;
			if (!found(word, dirname(dir), tools_dir)) {
				fprintf(stderr, "%s:%d:%d: %s command not found: %s\n",
					scs[i]->path, progs[k]->line,
					command_col(scs[i]->path, progs[k]->line), who[k], word);
				rc = -1;
			}
			snprintf(dir, strlen(scs[i]->path) + 1, "%s", scs[i]->path);
		}
		free(dir);
	}
	return rc;
}
