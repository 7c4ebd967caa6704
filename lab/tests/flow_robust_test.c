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

		/* libpcap refuses a pcapng whose interfaces differ in link
		 * type; the file tests above cover those through our reader */
		if (p == NULL)
			continue;
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

/* ---- pcapng with time resolutions and offsets at their limits ---------- */

struct png {
	uint8_t b[1024];
	size_t len;
};

static void png_put(struct png *p, const void *data, size_t n)
{
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void png_u32(struct png *p, uint32_t v)
{
	png_put(p, &v, 4);
}

/* One little-endian block: type, length, body (padded), length. */
static void png_block(struct png *p, uint32_t type, const uint8_t *body, size_t n)
{
	uint32_t total = (uint32_t)(12 + ((n + 3) & ~(size_t)3));
	static const uint8_t zeros[4];

	png_u32(p, type);
	png_u32(p, total);
	png_put(p, body, n);
	png_put(p, zeros, (4 - n % 4) % 4);
	png_u32(p, total);
}

/* A file with one Ethernet interface of resolution `tsresol` and offset
 * `offset_s`, holding the same SYN twice at times ts1 and ts2. */
static void write_odd_time_file(const char *path, uint8_t tsresol, int64_t offset_s,
				uint64_t ts1, uint64_t ts2)
{
	static const uint8_t syn[54] = {
		[12] = 0x08, [13] = 0x00, [14] = 0x45, [17] = 40,  [22] = 64,	     [23] = 6,
		[26] = 127,  [29] = 1,	  [30] = 127,  [33] = 1,   [34] = 0x9c,	     [35] = 0x40,
		[36] = 0x04, [37] = 0x24, [41] = 1,    [46] = 0x50, [47] = 0x02, [48] = 0xff,
	};
	struct png p = { .len = 0 };
	uint8_t shb[16] = { 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0 };
	uint8_t idb[8 + 8 + 12 + 4] = { 1, 0, 0, 0, 0, 0, 4, 0 };
	uint8_t epb[20 + sizeof(syn) + 2];
	uint64_t ts[2] = { ts1, ts2 };

	memset(shb + 8, 0xff, 8);
	/* if_tsresol (9), 1 byte; if_tsoffset (14), 8 bytes; end */
	idb[8] = 9;
	idb[10] = 1;
	idb[12] = tsresol;
	idb[16] = 14;
	idb[18] = 8;
	memcpy(idb + 20, &offset_s, 8);
	png_block(&p, 0x0A0D0D0A, shb, sizeof(shb));
	png_block(&p, 1, idb, sizeof(idb));
	for (int i = 0; i < 2; i++) {
		uint32_t hi = (uint32_t)(ts[i] >> 32), lo = (uint32_t)ts[i];
		uint32_t cap = sizeof(syn);

		memset(epb, 0, sizeof(epb));
		memcpy(epb + 4, &hi, 4);
		memcpy(epb + 8, &lo, 4);
		memcpy(epb + 12, &cap, 4);
		memcpy(epb + 16, &cap, 4);
		memcpy(epb + 20, syn, sizeof(syn));
		png_block(&p, 6, epb, 20 + sizeof(syn));
	}
	write_file(path, p.b, p.len);
}

/* Whole seconds (10^0) or 2^0 with a 2^62 timestamp overflowed
 * `tv_sec * 1000000` (UBSan); resolutions beyond 64 bits and offsets at
 * INT64_MIN/MAX must be read too, with times that saturate. */
static void test_odd_time_resolutions_and_offsets(void **state)
{
	static const struct {
		uint8_t tsresol;
		int64_t offset_s;
		uint64_t ts1, ts2;
	} cases[] = {
		{ 0, 0, 1ULL << 62, (1ULL << 62) + 1 },
		{ 0x80, 0, UINT64_MAX - 1, UINT64_MAX },
		{ 1, 0, 1ULL << 63, 5 },
		{ 19, 0, UINT64_MAX, 0 },
		{ 20, 0, 1, 2 },    /* 10^20: beyond 64 bits */
		{ 0xc0, 0, 1, 2 },  /* 2^64: beyond 64 bits */
		{ 0xbf, 0, UINT64_MAX, 1 },
		{ 6, INT64_MAX, UINT64_MAX, 0 },
		{ 6, INT64_MIN, 0, UINT64_MAX },
		{ 9, -1700000000, 3, 4 },
	};
	char path[512];

	(void)state;
	scratch_path(path, sizeof(path));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flow_analysis *fa = NULL;
		struct lab_err err = { "" };

		write_odd_time_file(path, cases[i].tsresol, cases[i].offset_s, cases[i].ts1,
				    cases[i].ts2);
		assert_int_equal(flow_analyse_file(path, NULL, &fa, &err), 0);
		assert_int_equal(flow_totals(fa)->tcp_packets, 2);
		assert_int_equal(flow_conn_count(fa), 1);
		flow_free(fa);
		check_file(path, true);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_bit_flipped_files),
		cmocka_unit_test(test_every_frame_prefix_under_every_link_type),
		cmocka_unit_test(test_odd_time_resolutions_and_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
