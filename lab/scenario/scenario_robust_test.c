/* scenario_robust_test: scenario files we did not write must never crash the
 * parser. Every built-in and failing scenario is mutated many times (bytes
 * flipped, cut short, stray quotes, backslashes, NULs, huge numbers and long
 * lines spliced in; a fixed-seed generator, so every run tests the same texts),
 * and each variant must either parse or fail with "PATH:LINE:COL: message"
 * (or "PATH:LINE: ..."/"PATH: ..."), never crash or leak: the parser is compiled
 * into this test with ASan and UBSan. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lab/scenario/scenario.h"

/* xorshift64: the same sequence every run */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	text = malloc(*len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, *len, f), *len);
	text[*len] = '\0';
	fclose(f);
	return text;
}

static const char *const splices[] = {
	"\"",
	"\\",
	"\n",
	"#",
	"$PORT",
	"$NOPE",
	"99999999999999999999",
	"-1",
	"0s",
	"1h1m",
	"GiB",
	"==",
	"<=",
	"expect ",
	"fault ",
	"client ",
	"server ",
	"\"unterminated",
	"\t",
	"\r\n",
	"\xff\xfe",
	"after",
	"every 0",
	"\\q",
	"9223372036854775807ms",
};

/* One variant of text: a few random edits. Returns a new NUL-terminated string;
 * *len may include NUL bytes before the end (the parser must reject those). */
static char *mutate(const char *text, size_t text_len, uint64_t *rng, size_t *len)
{
	size_t cap = text_len + 8192;
	char *out = malloc(cap + 1);
	size_t n = text_len;
	int edits = 1 + (int)(next_random(rng) % 4);

	assert_non_null(out);
	memcpy(out, text, text_len);
	for (int e = 0; e < edits; e++) {
		size_t at = n ? (size_t)(next_random(rng) % n) : 0;

		switch (next_random(rng) % 6) {
		case 0: /* flip a bit */
			if (n)
				out[at] ^= (char)(1u << (next_random(rng) % 8));
			break;
		case 1: /* cut short */
			n = at;
			break;
		case 2: { /* splice a troublesome token in */
			const char *s =
				splices[next_random(rng) % (sizeof(splices) / sizeof(splices[0]))];
			size_t sl = strlen(s);

			if (n + sl > cap)
				break;
			memmove(out + at + sl, out + at, n - at);
			memcpy(out + at, s, sl);
			n += sl;
			break;
		}
		case 3: /* a NUL byte */
			if (n)
				out[at] = '\0';
			break;
		case 4: /* a very long line */
			if (n + 5000 <= cap) {
				memmove(out + at + 5000, out + at, n - at);
				memset(out + at, 'x', 5000);
				n += 5000;
			}
			break;
		default: /* delete a run */
			if (n) {
				size_t cut = 1 + (size_t)(next_random(rng) % 16);

				if (at + cut > n)
					cut = n - at;
				memmove(out + at, out + at + cut, n - at - cut);
				n -= cut;
			}
			break;
		}
	}
	out[n] = '\0';
	*len = n;
	return out;
}

static void test_mutated_scenarios_parse_or_fail_with_a_location(void **state)
{
	const char *patterns[] = { "scenarios/*.scn", "lab/tests/failing/*.scn",
				   "lab/scenario/tests/bad/*.scn" };
	uint64_t rng = 0x5ce7a710c0ffee11ULL;
	size_t files = 0, variants = 0, parsed = 0;

	(void)state;
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		glob_t g;

		if (glob(patterns[p], 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			size_t text_len;
			char *text = slurp(g.gl_pathv[i], &text_len);

			files++;
			for (int v = 0; v < 400; v++) {
				size_t len;
				char *variant = mutate(text, text_len, &rng, &len);
				struct scenario *sc = NULL;
				struct lab_err err = { "" };
				int rc = scenario_parse_text("m.scn", variant, &sc, &err);

				variants++;
				if (rc == 0) {
					assert_non_null(sc);
					assert_non_null(sc->client.command);
					parsed++;
					scenario_free(sc);
				} else {
					assert_int_equal(rc, -1);
					/* Every message names the file first. */
					if (strncmp(err.msg, "m.scn:", 6) != 0)
						fail_msg("no location in \"%s\"", err.msg);
				}
				free(variant);
			}
			free(text);
		}
		globfree(&g);
	}
	printf("%zu files, %zu variants: %zu parsed, %zu refused with a location\n", files,
	       variants, parsed, variants - parsed);
	assert_true(files >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutated_scenarios_parse_or_fail_with_a_location),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
