/* facts: one pass over a capture into what verdicts and reports need (facts.h).
 * flow_analyse_file drives the pass; this file hangs the filter counts (per frame)
 * and the payload rules and ladder rows (per segment) on its callbacks. */
#include "lab/analysis/facts.h"

#include "lab/analysis/packet.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A capture read through pcapng may mix link types; a filter is compiled once for
 * each link type met (BPF programs depend on the link-layer header). */
enum { FACTS_MAX_LINKTYPES = 8 };

struct compiled {
	int linktype;
	struct bpf_program *progs; /* one per filter */
	size_t n_progs;            /* compiled so far (to free) */
};

struct series_buf {
	struct facts_point *points;
	size_t count, cap;
	uint64_t segments;
	unsigned stride;
	uint64_t ordinary_seen; /* ordinary segments since the stride last changed */
};

struct facts {
	char *path;
	struct facts_opts opts;
	struct flow_analysis *fa;
	struct ladder *ladder;
	uint64_t *matches;       /* per filter */
	uint64_t *violations;    /* per rule */
	uint32_t *first;         /* per rule */
	uint64_t *rule_segments; /* per rule */
	struct compiled compiled[FACTS_MAX_LINKTYPES];
	size_t n_compiled;
	struct series_buf (*series)[2]; /* [conn id - 1][dir] */
	size_t n_series;
	bool failed; /* a callback could not go on: err holds why */
	struct lab_err err;
};

static struct compiled *compile_for(struct facts *f, int linktype)
{
	struct compiled *c;
	pcap_t *dead;

	for (size_t i = 0; i < f->n_compiled; i++)
		if (f->compiled[i].linktype == linktype)
			return &f->compiled[i];
	if (f->n_compiled == FACTS_MAX_LINKTYPES) {
		lab_err_set(&f->err, "%s: more than %d link types: packet filters not counted",
			    f->path, FACTS_MAX_LINKTYPES);
		return NULL;
	}
	c = &f->compiled[f->n_compiled++];
	c->linktype = linktype;
	c->progs = calloc(f->opts.n_filters, sizeof(*c->progs));
	if (c->progs == NULL) {
		lab_err_sys(&f->err, ENOMEM, "%s: packet filters", f->path);
		return NULL;
	}
	dead = pcap_open_dead(linktype, 262144);
	if (dead == NULL) {
		lab_err_set(&f->err, "libpcap: cannot make a filter compiler");
		return NULL;
	}
	for (size_t i = 0; i < f->opts.n_filters; i++) {
		const struct facts_filter *flt = &f->opts.filters[i];

		if (pcap_compile(dead, &c->progs[i], flt->text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			lab_err_set(&f->err, "%s%sbad packet filter \"%s\": %s",
				    flt->where ? flt->where : "", flt->where ? ": " : "", flt->text,
				    pcap_geterr(dead));
			pcap_close(dead);
			return NULL;
		}
		c->n_progs++;
	}
	pcap_close(dead);
	return c;
}

static void on_frame(const struct pcap_pkthdr *hdr, const u_char *data, int linktype, void *arg)
{
	struct facts *f = arg;
	struct compiled *c;

	if (f->failed || f->opts.n_filters == 0)
		return;
	if (f->opts.until_us != 0 &&
	    (int64_t)hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec > f->opts.until_us)
		return;
	c = compile_for(f, linktype);
	if (c == NULL) {
		f->failed = true;
		return;
	}
	for (size_t i = 0; i < f->opts.n_filters; i++)
		if (pcap_offline_filter(&c->progs[i], hdr, data))
			f->matches[i]++;
}

static bool rule_holds(const struct facts_payload_rule *r, uint32_t payload_bytes)
{
	bool inside = payload_bytes >= r->min_bytes && payload_bytes <= r->max_bytes;

	return inside == r->inside;
}

static bool is_notable(const struct facts_point *p)
{
	return p->analysis != 0 ||
	       (p->tcp_flags & (PACKET_TCP_SYN | PACKET_TCP_FIN | PACKET_TCP_RST));
}

/* Full: keep the notable points and every other ordinary one; double the stride. */
static void thin(struct series_buf *s)
{
	size_t w = 0;
	bool keep_ordinary = true;

	for (size_t r = 0; r < s->count; r++) {
		if (!is_notable(&s->points[r])) {
			if (!keep_ordinary) {
				keep_ordinary = true;
				continue;
			}
			keep_ordinary = false;
		}
		s->points[w++] = s->points[r];
	}
	s->count = w;
	s->stride = s->stride ? s->stride * 2 : 2;
	s->ordinary_seen = 0;
}

static int add_point(struct facts *f, const struct flow_segment *seg)
{
	unsigned id = seg->conn->id;
	struct series_buf *s;
	struct facts_point p = { .time_us = seg->time_us,
				 .frame = seg->frame,
				 .seq_rel = seg->seq_rel,
				 .ack_rel = seg->ack_rel,
				 .payload_bytes = seg->payload_bytes,
				 .window_bytes = seg->window_bytes,
				 .analysis = seg->analysis,
				 .tcp_flags = seg->tcp_flags };

	if (id == 0)
		return 0;
	if (id > f->n_series) {
		size_t n = id > 2 * f->n_series ? id : 2 * f->n_series;
		struct series_buf(*grown)[2] = realloc(f->series, n * sizeof(*grown));

		if (grown == NULL)
			return -1;
		memset(grown + f->n_series, 0, (n - f->n_series) * sizeof(*grown));
		f->series = grown;
		f->n_series = n;
	}
	s = &f->series[id - 1][seg->dir];
	s->segments++;
	if (s->stride == 0)
		s->stride = 1;
	if (!is_notable(&p) && s->stride > 1 && s->ordinary_seen++ % s->stride != 0)
		return 0;
	if (s->count == FACTS_SERIES_MAX_POINTS)
		thin(s);
	if (s->count == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct facts_point *grown;

		if (cap > FACTS_SERIES_MAX_POINTS)
			cap = FACTS_SERIES_MAX_POINTS;
		grown = realloc(s->points, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		s->points = grown;
		s->cap = cap;
	}
	s->points[s->count++] = p;
	return 0;
}

static void on_segment(const struct flow_segment *seg, void *arg)
{
	struct facts *f = arg;
	/* Not data: keep-alive bytes and probes repeat or poke, they carry nothing new. */
	uint32_t not_data = (1u << FLOW_KEEP_ALIVE) | (1u << FLOW_WINDOW_PROBE) |
			    (1u << FLOW_ZERO_WINDOW_PROBE);

	if (f->ladder != NULL && ladder_add(f->ladder, seg) < 0 && !f->failed) {
		f->failed = true;
		lab_err_sys(&f->err, ENOMEM, "%s: ladder rows", f->path);
	}
	if (f->opts.series && add_point(f, seg) < 0 && !f->failed) {
		f->failed = true;
		lab_err_sys(&f->err, ENOMEM, "%s: graph points", f->path);
	}
	if (seg->payload_bytes == 0 || (seg->analysis & not_data))
		return;
	for (size_t i = 0; i < f->opts.n_rules; i++) {
		const struct facts_payload_rule *r = &f->opts.rules[i];

		if (seg->dir != r->dir)
			continue;
		f->rule_segments[i]++;
		if (rule_holds(r, seg->payload_bytes))
			continue;
		if (f->violations[i] == 0)
			f->first[i] = seg->payload_bytes;
		f->violations[i]++;
	}
}

void facts_free(struct facts *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n_compiled; i++) {
		for (size_t k = 0; k < f->compiled[i].n_progs; k++)
			pcap_freecode(&f->compiled[i].progs[k]);
		free(f->compiled[i].progs);
	}
	for (size_t i = 0; i < f->n_series; i++) {
		free(f->series[i][0].points);
		free(f->series[i][1].points);
	}
	free(f->series);
	flow_free(f->fa);
	ladder_free(f->ladder);
	free(f->matches);
	free(f->violations);
	free(f->first);
	free(f->rule_segments);
	free(f->path);
	free(f);
}

int facts_read(const char *path, const struct facts_opts *opts, struct facts **out,
	       struct lab_err *err)
{
	static const struct facts_opts none = { 0 };
	struct facts *f = calloc(1, sizeof(*f));
	struct flow_opts fo;

	*out = NULL;
	if (opts == NULL)
		opts = &none;
	if (f == NULL)
		return lab_err_sys(err, ENOMEM, "%s: analysis", path);
	f->opts = *opts;
	f->path = strdup(path);
	f->matches = calloc(opts->n_filters + 1, sizeof(*f->matches));
	f->violations = calloc(opts->n_rules + 1, sizeof(*f->violations));
	f->first = calloc(opts->n_rules + 1, sizeof(*f->first));
	f->rule_segments = calloc(opts->n_rules + 1, sizeof(*f->rule_segments));
	if (opts->ladder != NULL)
		f->ladder = ladder_new(opts->ladder);
	if (f->path == NULL || f->matches == NULL || f->violations == NULL || f->first == NULL ||
	    f->rule_segments == NULL || (opts->ladder != NULL && f->ladder == NULL)) {
		lab_err_sys(err, ENOMEM, "%s: analysis", path);
		goto fail;
	}
	fo = (struct flow_opts){ .port = opts->port,
				 .until_us = opts->until_us,
				 .on_segment = on_segment,
				 .arg = f,
				 .on_frame = on_frame,
				 .frame_arg = f };
	if (flow_analyse_file(path, &fo, &f->fa, err) < 0)
		goto fail;
	if (f->failed) {
		*err = f->err;
		goto fail;
	}
	*out = f;
	return 0;
fail:
	facts_free(f);
	return -1;
}

const char *facts_path(const struct facts *f)
{
	return f->path;
}

const struct flow_analysis *facts_flows(const struct facts *f)
{
	return f->fa;
}

uint64_t facts_filter_matches(const struct facts *f, size_t i)
{
	return i < f->opts.n_filters ? f->matches[i] : 0;
}

uint64_t facts_rule_violations(const struct facts *f, size_t i)
{
	return i < f->opts.n_rules ? f->violations[i] : 0;
}

uint32_t facts_rule_first_violation(const struct facts *f, size_t i)
{
	return i < f->opts.n_rules ? f->first[i] : 0;
}

uint64_t facts_rule_segments(const struct facts *f, size_t i)
{
	return i < f->opts.n_rules ? f->rule_segments[i] : 0;
}

uint64_t facts_after_until(const struct facts *f)
{
	return flow_totals(f->fa)->after_until;
}

int64_t facts_until_us(const struct facts *f)
{
	return f->opts.until_us;
}

struct facts_series facts_series(const struct facts *f, unsigned conn_id, int dir)
{
	struct facts_series out = { .stride = 1 };
	const struct series_buf *s;

	if (conn_id == 0 || conn_id > f->n_series || (dir != 0 && dir != 1))
		return out;
	s = &f->series[conn_id - 1][dir];
	out.points = s->points;
	out.count = s->count;
	out.segments = s->segments;
	out.stride = s->stride ? s->stride : 1;
	return out;
}

const struct ladder *facts_ladder(const struct facts *f)
{
	return f->ladder;
}
