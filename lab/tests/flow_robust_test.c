/* flow_robust_test: captures we did not write must never crash the analyser.
 * Every reference capture is cut at many offsets and bit-flipped (a fixed-seed
 * generator, so every run tests the same files); each variant is analysed and
 * shown, and must come back as 0 with sane totals or -1 with a message. Every
 * frame of every capture is also fed with every shorter caplen and under
 * every supported link type. Run it under ASan+UBSan:
 *   bazel test --config=asan //lab:flow_robust_test */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "lab/analysis/flow.h"
#include "lab/report/show.h"

#define PCAPS "lab/tests/pcaps/"

struct blob {
	uint8_t *data;
	size_t len;
};

static struct blob slurp(const char *path)
{
	struct blob b = { NULL, 0 };
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	b.len = (size_t)ftell(f);
	rewind(f);
	b.data = malloc(b.len ? b.len : 1);
	assert_non_null(b.data);
	assert_int_equal(fread(b.data, 1, b.len, f), b.len);
	fclose(f);
	return b;
}

static void scratch_path(char *buf, size_t len)
{
	const char *dir = getenv("TEST_TMPDIR");

	snprintf(buf, len, "%s/flow_robust.pcap", dir ? dir : "/tmp");
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static unsigned variants;

/* Analyses and shows one file; the outcome must be clean either way. */
static void check_file(const char *path, bool show)
{
	struct flow_analysis *fa = NULL;
	struct lab_err err = { "" };
	int rc = flow_analyse_file(path, NULL, &fa, &err);

	variants++;
	assert_true(rc == 0 || rc == -1);
	if (rc == -1) {
		assert_null(fa);
		assert_non_null(strstr(err.msg, path));
	} else {
		const struct flow_totals *t = flow_totals(fa);

		assert_non_null(fa);
		assert_true(t->tcp_packets + t->non_tcp + t->malformed + t->filtered == t->packets);
		assert_true(t->truncated <= t->tcp_packets);
		for (size_t i = 0; i < flow_conn_count(fa); i++) {
			const struct flow_conn *c = flow_conn_at(fa, i);

			assert_true(c->dir[0].data_segments <= c->dir[0].packets);
			assert_true(c->dir[0].packets + c->dir[1].packets == c->packets);
		}
		flow_free(fa);
	}
	if (show) {
		FILE *out = fopen("/dev/null", "w");

		assert_non_null(out);
		rc = show_file(out, path, NULL, &err);
		assert_true(rc == 0 || rc == 1 || rc == -1);
		fclose(out);
	}
}

/* xorshift64: a fixed sequence, the same every run */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_truncated_files(void **state)
{
	glob_t g;
	char path[512];

	(void)state;
	scratch_path(path, sizeof(path));
	assert_int_equal(glob(PCAPS "*.pcap*", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct blob b = slurp(g.gl_pathv[i]);
		size_t step = b.len > 600 ? b.len / 600 : 1;

		for (size_t cut = 0; cut < b.len; cut += step) {
			write_file(path, b.data, cut);
			check_file(path, cut % (step * 16) == 0);
		}
		free(b.data);
	}
	globfree(&g);
	assert_true(variants > 10000);
}

static void test_bit_flipped_files(void **state)
{
	glob_t g;
	char path[512];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	scratch_path(path, sizeof(path));
	assert_int_equal(glob(PCAPS "*.pcap*", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct blob b = slurp(g.gl_pathv[i]);
		uint8_t *copy = malloc(b.len);

		assert_non_null(copy);
		for (int v = 0; v < 300; v++) {
			unsigned flips = 1 + (unsigned)(next_random(&seed) % 8);

			memcpy(copy, b.data, b.len);
			for (unsigned f = 0; f < flips; f++) {
				uint64_t r = next_random(&seed);
				/* mostly past the 24-byte file header, where packets are */
				size_t at = v % 10 == 0 ? r % b.len : 24 + r % (b.len - 24);

				copy[at] ^= (uint8_t)(1u << ((r >> 32) % 8));
			}
			write_file(path, copy, b.len);
			check_file(path, v % 4 == 0);
		}
		free(copy);
		free(b.data);
	}
	globfree(&g);
}

/* Every frame, every caplen, every link type: straight into flow_add_packet. */
static void test_every_frame_prefix_under_every_link_type(void **state)
{
	static const int linktypes[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101,
					 DLT_IPV4,   DLT_IPV6,      DLT_NULL,       108,     14,
					 9999 };
	glob_t g;
	char errbuf[PCAP_ERRBUF_SIZE];
	unsigned frames = 0;

	(void)state;
	assert_int_equal(glob(PCAPS "*.pcap*", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		pcap_t *p = pcap_open_offline(g.gl_pathv[i], errbuf);
		struct pcap_pkthdr *hdr;
		const u_char *data;

		assert_non_null(p);
		for (int n = 0; n < 6 && pcap_next_ex(p, &hdr, &data) == 1; n++) {
			for (size_t lt = 0; lt < sizeof(linktypes) / sizeof(linktypes[0]); lt++) {
				struct flow_analysis *fa = flow_new(NULL);
				struct lab_err err = { "" };

				assert_non_null(fa);
				for (bpf_u_int32 cap = 0; cap <= hdr->caplen; cap++) {
					struct pcap_pkthdr h = *hdr;
					/* exactly cap bytes, so ASan sees any overread */
					u_char *copy = malloc(cap ? cap : 1);

					assert_non_null(copy);
					memcpy(copy, data, cap);
					h.caplen = cap;
					assert_int_equal(
						flow_add_packet(fa, &h, copy, linktypes[lt], &err),
						0);
					free(copy);
				}
				flow_free(fa);
			}
			frames++;
		}
		pcap_close(p);
	}
	globfree(&g);
	assert_true(frames > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_bit_flipped_files),
		cmocka_unit_test(test_every_frame_prefix_under_every_link_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
