/* scenario_golden_test: each malformed scenario in lab/scenario/tests/bad must
 * fail to parse with exactly the message stored in the .err file beside it.
 *   scenario_golden_test FILE.scn...          check them (the Bazel test)
 *   scenario_golden_test --print FILE.scn...  print each message, one per line
 *                                             (tools/regen_golden.sh uses this) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/scenario/scenario.h"

/* The contents of NAME.err for NAME.scn, without the final newline; NULL if unreadable. */
static char *read_expected(const char *scn_path)
{
	size_t len = strlen(scn_path);
	char err_path[4096];
	char *text = NULL;
	size_t cap = 0, used = 0;
	FILE *f;

	if (len < 4 || strcmp(scn_path + len - 4, ".scn") != 0 || len + 1 > sizeof(err_path))
		return NULL;
	snprintf(err_path, sizeof(err_path), "%.*s.err", (int)(len - 4), scn_path);
	f = fopen(err_path, "r");
	if (f == NULL)
		return NULL;
	for (;;) {
		if (used + 1 >= cap) {
			char *grown = realloc(text, cap ? 2 * cap : 1024);

			if (grown == NULL)
				break;
			text = grown;
			cap = cap ? 2 * cap : 1024;
		}
		size_t got = fread(text + used, 1, cap - used - 1, f);

		if (got == 0)
			break;
		used += got;
	}
	fclose(f);
	if (text == NULL)
		return NULL;
	text[used] = '\0';
	while (used > 0 && (text[used - 1] == '\n' || text[used - 1] == '\r'))
		text[--used] = '\0';
	return text;
}

static int check_one(const char *path)
{
	struct scenario *sc = NULL;
	struct lab_err err = { { 0 } };
	char *expected = read_expected(path);
	int failed = 1;

	if (expected == NULL) {
		printf("FAIL %s: no readable .err file beside it\n", path);
		return 1;
	}
	if (scenario_parse_file(path, &sc, &err) == 0) {
		printf("FAIL %s: parsed without error\n  expected: %s\n", path, expected);
		scenario_free(sc);
	} else if (strcmp(err.msg, expected) != 0) {
		printf("FAIL %s\n  expected: %s\n  got:      %s\n", path, expected, err.msg);
	} else {
		printf("ok   %s\n", path);
		failed = 0;
	}
	free(expected);
	return failed;
}

int main(int argc, char **argv)
{
	int failed = 0, first = 1;

	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		for (int i = 2; i < argc; i++) {
			struct scenario *sc = NULL;
			struct lab_err err = { { 0 } };

			if (scenario_parse_file(argv[i], &sc, &err) == 0) {
				fprintf(stderr, "%s: parsed without error\n", argv[i]);
				scenario_free(sc);
				return 1;
			}
			printf("%s\n", err.msg);
		}
		return 0;
	}
	if (argc <= first) {
		printf("FAIL: no scenario files given\n");
		return 1;
	}
	for (int i = first; i < argc; i++)
		failed += check_one(argv[i]);
	printf("%d of %d malformed scenarios gave the expected message\n", argc - 1 - failed,
	       argc - 1);
	return failed ? 1 : 0;
}
