/* show: ladder diagrams of a capture's TCP connections (see show.h).
 *
 * The rows come from ladder.h, fed by the analyser's per-segment callback: each
 * connection keeps its rows (a segment, or a fold of more than
 * SHOW_FOLD_SEGMENTS segments that are neither turns nor news, which holds only
 * counters) while the capture streams by, and the diagrams are written at the
 * end, one connection after another, when the summaries are final and the
 * widest frame number and time are known. */
#include "lab/report/show.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lab/analysis/facts.h"
#include "lab/analysis/flow.h"
#include "lab/analysis/ladder.h"

#define SHOW_LANE_COLUMNS 56

struct glyphs {
	const char *bar, *line, *right, *left, *to;
};

static const struct glyphs unicode_glyphs = { "│", "─", "▶", "◀", "→" };
static const struct glyphs ascii_glyphs = { "|", "-", ">", "<", "->" };

static const struct glyphs *glyphs_for(const struct show_opts *opts)
{
	return opts->ascii ? &ascii_glyphs : &unicode_glyphs;
}

static void put_repeated(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputs(s, out);
}

/* The two columns left of the lane: widths from the widest value of the whole
 * output, so a long capture or an absolute date never pushes a lane aside. */
struct columns {
	const struct glyphs *g;
	enum show_time time;
	int64_t capture_start_us;
	int frame_cols, time_cols;
};

static const char *time_header(enum show_time t)
{
	return t == SHOW_TIME_ABSOLUTE ? "time (UTC)" : "time (s)";
}

static void format_time(const struct columns *col, int64_t time_us, int64_t conn_start_us,
			char *buf, size_t len)
{
	int64_t us, sec;
	struct tm tm;
	time_t t;

	switch (col->time) {
	case SHOW_TIME_ABSOLUTE:
		/* floor division: a time before 1970 still reads forward */
		sec = time_us / 1000000 - (time_us % 1000000 < 0);
		us = time_us - sec * 1000000;
		t = (time_t)sec;
		if (gmtime_r(&t, &tm) == NULL) {
			snprintf(buf, len, "%" PRId64 ".%06" PRId64, sec, us);
			return;
		}
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64, tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
		return;
	case SHOW_TIME_RELATIVE:
		snprintf(buf, len, "%.6f", (time_us - col->capture_start_us) / 1e6);
		return;
	case SHOW_TIME_CONN:
		break;
	}
	snprintf(buf, len, "%.6f", (time_us - conn_start_us) / 1e6);
}

static int count_digits(uint64_t n)
{
	int d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

static void widen_for(struct columns *col, const struct flow_conn *c, const struct ladder_conn *lc)
{
	char t[64];

	for (size_t r = 0; lc != NULL && r < lc->row_count; r++) {
		int d = count_digits(lc->rows[r].frame);

		if (d > col->frame_cols)
			col->frame_cols = d;
		format_time(col, lc->rows[r].time_us, c->first_time_us, t, sizeof(t));
		if ((int)strlen(t) > col->time_cols)
			col->time_cols = (int)strlen(t);
	}
}

/* The frame number and the time of a row. */
static void write_where(FILE *out, const struct columns *col, const struct ladder_row *r,
			int64_t conn_start_us)
{
	char t[64];

	format_time(col, r->time_us, conn_start_us, t, sizeof(t));
	fprintf(out, "%*" PRIu64 " %*s %s", col->frame_cols, r->frame, col->time_cols, t,
		col->g->bar);
}

/* One segment: frame, time, then the lane with the arrow and label, then notes. */
static void write_segment(FILE *out, const struct columns *col, const struct ladder_row *r,
			  int64_t conn_start_us)
{
	const struct glyphs *g = col->g;
	char label[160], notes[256];
	size_t label_cols, fill;

	ladder_format_label(r, label, sizeof(label));
	/* a payload cut by the snaplen is not news on every row: the totals
	 * line at the end counts those segments */
	ladder_format_notes(r->analysis, "[", "]", " ", notes, sizeof(notes));
	/* the lane is SHOW_LANE_COLUMNS wide: 2 line, space, label, space,
	 * fill, arrow head (mirrored for server->client) */
	label_cols = strlen(label) + 4;
	fill = label_cols < SHOW_LANE_COLUMNS ? SHOW_LANE_COLUMNS - label_cols : 1;
	write_where(out, col, r, conn_start_us);
	if (r->dir == FLOW_DIR_C2S) {
		fprintf(out, "%s%s %s ", g->line, g->line, label);
		put_repeated(out, g->line, fill - 1);
		fputs(g->right, out);
	} else {
		fputs(g->left, out);
		put_repeated(out, g->line, fill - 1);
		fprintf(out, " %s %s%s", label, g->line, g->line);
	}
	fprintf(out, "%s%s%s\n", g->bar, notes[0] ? " " : "", notes);
}

/* A run of segments folded into one line: which frames, how much, and the
 * analysis notes it holds, counted. */
static void write_fold(FILE *out, const struct columns *col, const struct ladder_row *r,
		       int64_t conn_start_us)
{
	char count[32], bytes[32], notes[512];

	ladder_format_count(r->fold_segments[0] + r->fold_segments[1], " ", count, sizeof(count));
	ladder_format_bytes(r->fold_bytes[0] + r->fold_bytes[1], bytes, sizeof(bytes));
	ladder_format_fold_notes(r, " ", notes, sizeof(notes));
	write_where(out, col, r, conn_start_us);
	fprintf(out, "  ... %s segments (frames %" PRIu64 "-%" PRIu64 "), %s in %.6f s%s%s ...\n",
		count, r->frame, r->last_frame, bytes, (r->last_time_us - r->time_us) / 1e6,
		notes[0] ? ", " : "", notes);
}

static void write_summary(FILE *out, const struct columns *col, const struct flow_conn *c)
{
	const struct glyphs *g = col->g;
	char up[32], down[32];

	ladder_format_bytes(c->dir[0].data_bytes, up, sizeof(up));
	ladder_format_bytes(c->dir[1].data_bytes, down, sizeof(down));
	fprintf(out, "connection %u: %s %s %s, handshake %s", c->id, c->client_str, g->to,
		c->server_str, flow_handshake_name(c->handshake));
	if (c->rtt_us >= 0)
		fprintf(out, " (rtt %.3f ms)", c->rtt_us / 1e3);
	fprintf(out, ", client%sserver %s, server%sclient %s", g->to, up, g->to, down);
	if (c->teardown == FLOW_TEARDOWN_NONE)
		fputs(", teardown none", out);
	else
		fprintf(out, ", teardown %s by %s", flow_teardown_name(c->teardown),
			c->teardown_dir == FLOW_DIR_C2S ? "client" : "server");
	for (int f = 0; f < FLOW_FLAG_COUNT; f++) {
		uint64_t n = flow_conn_flag_count(c, (enum flow_flag)f);

		if (n > 0)
			fprintf(out, ", %s %llu", flow_flag_words((enum flow_flag)f),
				(unsigned long long)n);
	}
	fputc('\n', out);
	if (!c->client_from_syn)
		fprintf(out, "  (no SYN captured: client and server guessed from the ports)\n");
	fprintf(out, "%*s %*s %-*s%s\n", col->frame_cols, "frame", col->time_cols,
		time_header(col->time), SHOW_LANE_COLUMNS + 1, "client", "server");
}

static void write_conn(FILE *out, const struct columns *col, const struct flow_conn *c,
		       const struct ladder_conn *lc)
{
	write_summary(out, col, c);
	for (size_t r = 0; lc != NULL && r < lc->row_count; r++) {
		if (lc->rows[r].kind == LADDER_ROW_FOLD)
			write_fold(out, col, &lc->rows[r], c->first_time_us);
		else
			write_segment(out, col, &lc->rows[r], c->first_time_us);
	}
}

struct ladder_opts show_ladder_opts(const struct show_opts *opts)
{
	struct ladder_opts lo = { .fold_segments = SHOW_FOLD_SEGMENTS,
				  .keep_turns = true,
				  .fold_annotated = true,
				  .truncated_folds = true };

	lo.all = opts != NULL && opts->all;
	return lo;
}

int show_facts(FILE *out, const struct facts *facts, const struct show_opts *opts,
	       struct lab_err *err)
{
	static const struct show_opts defaults;
	const struct flow_analysis *fa = facts_flows(facts);
	const struct ladder *ladder = facts_ladder(facts);
	struct columns col = { 0 };
	const struct flow_totals *tot;

	if (opts == NULL)
		opts = &defaults;
	if (ladder == NULL)
		return lab_err_set(err, "%s: the analysis kept no ladder rows", facts_path(facts));
	tot = flow_totals(fa);
	col.g = glyphs_for(opts);
	col.time = opts->time;
	col.capture_start_us = tot->first_time_us;
	col.frame_cols = (int)strlen("frame");
	col.time_cols = (int)strlen(time_header(opts->time));
	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);

		widen_for(&col, c, ladder_conn(ladder, c->id));
	}
	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);

		if (i > 0)
			fputc('\n', out);
		write_conn(out, &col, c, ladder_conn(ladder, c->id));
		if (facts_until_us(facts) != 0)
			fprintf(out,
				"%11s -- the lab's stop: it ended the programs here; what follows "
				"is its doing --\n",
				"");
	}
	fprintf(out, "%s%llu packets: %llu TCP, %llu other, %llu malformed, %llu truncated\n",
		flow_conn_count(fa) ? "\n" : "", (unsigned long long)tot->packets,
		(unsigned long long)tot->tcp_packets, (unsigned long long)tot->non_tcp,
		(unsigned long long)tot->malformed, (unsigned long long)tot->truncated);
	if (facts_until_us(facts) != 0)
		fprintf(out, "%llu packets after the lab's stop not drawn\n",
			(unsigned long long)facts_after_until(facts));
	if (tot->decapsulated)
		fprintf(out, "%llu TCP packets were inside tunnels (VXLAN, Geneve, GRE, IP in IP)\n",
			(unsigned long long)tot->decapsulated);
	if (tot->decode_note[0])
		fprintf(out, "not analysed: %s\n", tot->decode_note);
	if (tot->file_note[0]) {
		fprintf(out, "note: %s\n", tot->file_note);
		lab_err_set(err, "%s", tot->file_note);
		return 1;
	}
	return 0;
}

int show_file(FILE *out, const char *path, const struct show_opts *opts, struct lab_err *err)
{
	struct ladder_opts lo = show_ladder_opts(opts);
	struct facts_opts fo = { .port = opts != NULL ? opts->port : 0,
				 .until_us = opts != NULL ? opts->until_us : 0,
				 .ladder = &lo };
	struct facts *facts = NULL;
	int rc;

	if (facts_read(path, &fo, &facts, err) < 0)
		return -1;
	rc = show_facts(out, facts, opts, err);
	facts_free(facts);
	return rc;
}
