/* show: ladder diagrams of a capture's TCP connections (see show.h).
 *
 * The analysis streams segments of all connections interleaved; each
 * connection collects its own rows here and the diagrams are written at the
 * end, one connection after another, when the summaries are final. A run of
 * ordinary rows (no analysis note, no SYN/FIN/RST) keeps at most
 * SHOW_FOLD_SEGMENTS rows; past that it becomes a counter, so memory stays
 * small for bulk transfers. */
#include "show.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "packet.h"

#define SHOW_LANE_COLUMNS 56

struct show_conn {
	char **rows;
	size_t row_count, row_cap;
	/* the current run of ordinary segments */
	char *held[SHOW_FOLD_SEGMENTS];
	size_t held_count;
	uint64_t run_segments;
	uint64_t run_bytes;
	int64_t run_first_us, run_last_us;
	int64_t start_us;
};

struct show_state {
	const struct show_opts *opts;
	struct show_conn *conns;
	size_t conn_count;
	bool failed;
};

struct glyphs {
	const char *bar, *line, *right, *left, *to, *from;
};

static const struct glyphs unicode_glyphs = {"│", "─", "▶", "◀", "→", "←"};
static const struct glyphs ascii_glyphs = {"|", "-", ">", "<", "->", "<-"};

static const struct glyphs *glyphs_for(const struct show_opts *opts)
{
	return opts->ascii ? &ascii_glyphs : &unicode_glyphs;
}

static int push_row(struct show_conn *sc, char *text)
{
	if (text == NULL)
		return -1;
	if (sc->row_count == sc->row_cap) {
		size_t cap = sc->row_cap ? sc->row_cap * 2 : 16;
		char **rows = realloc(sc->rows, cap * sizeof(*rows));

		if (rows == NULL) {
			free(text);
			return -1;
		}
		sc->rows = rows;
		sc->row_cap = cap;
	}
	sc->rows[sc->row_count++] = text;
	return 0;
}

/* "16 B", "9999 B", "13.6 kB", "13.6 MB" (decimal units). */
static void format_bytes(uint64_t bytes, char *buf, size_t len)
{
	if (bytes < 10000)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (bytes < 10000000ULL)
		snprintf(buf, len, "%.1f kB", bytes / 1e3);
	else if (bytes < 10000000000ULL)
		snprintf(buf, len, "%.1f MB", bytes / 1e6);
	else
		snprintf(buf, len, "%.1f GB", bytes / 1e9);
}

/* 8123 -> "8 123" */
static void format_count(uint64_t n, char *buf, size_t len)
{
	char digits[32];
	size_t nd, out = 0;

	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	nd = strlen(digits);
	for (size_t i = 0; i < nd && out + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[out++] = ' ';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
}

static void format_tcp_flags(uint8_t f, char *buf, size_t len)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} order[] = {
		{PACKET_TCP_SYN, "SYN"}, {PACKET_TCP_FIN, "FIN"}, {PACKET_TCP_RST, "RST"},
		{PACKET_TCP_PSH, "PSH"}, {PACKET_TCP_ACK, "ACK"}, {PACKET_TCP_URG, "URG"},
		{PACKET_TCP_ECE, "ECE"}, {PACKET_TCP_CWR, "CWR"},
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(f & order[i].bit))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "/" : "",
					 order[i].name);
		if (used >= len)
			return;
	}
	if (used == 0)
		snprintf(buf, len, "none");
}

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n >= len ? len - 1 : *used + (size_t)n;
}

/* The notes after the lane: the specific name wins over its general one. */
static void format_notes(uint32_t m, bool truncated, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int f = 0; f < FLOW_FLAG_COUNT; f++) {
		if (!(m & (1u << f)))
			continue;
		if (f == FLOW_RETRANSMISSION &&
		    (m & (1u << FLOW_FAST_RETRANSMISSION | 1u << FLOW_SPURIOUS_RETRANSMISSION)))
			continue;
		if ((f == FLOW_KEEP_ALIVE || f == FLOW_ZERO_WINDOW_PROBE) &&
		    (m & (1u << FLOW_WINDOW_PROBE)))
			continue;
		append(buf, len, &used, "%s[%s]", used ? " " : "",
		       flow_flag_words((enum flow_flag)f));
	}
	/* a payload cut by the snaplen is not news on every row: the totals
	 * line at the end counts those segments */
	(void)truncated;
}

/* One row: time, then the lane with the arrow and label, then notes. */
static char *format_row(const struct show_opts *opts, const struct flow_segment *seg,
			int64_t start_us)
{
	const struct glyphs *g = glyphs_for(opts);
	char flags[48], label[160], notes[256], lane[1024];
	size_t label_cols, fill, used = 0;
	char *row = NULL;

	format_tcp_flags(seg->tcp_flags, flags, sizeof(flags));
	if (seg->tcp_flags & PACKET_TCP_ACK)
		snprintf(label, sizeof(label), "%s seq=%u ack=%u len=%u win=%llu", flags,
			 seg->seq_rel, seg->ack_rel, seg->payload_bytes,
			 (unsigned long long)seg->window_bytes);
	else
		snprintf(label, sizeof(label), "%s seq=%u len=%u win=%llu", flags, seg->seq_rel,
			 seg->payload_bytes, (unsigned long long)seg->window_bytes);
	format_notes(seg->analysis, seg->truncated, notes, sizeof(notes));
	/* the lane is SHOW_LANE_COLUMNS wide: 2 line, space, label, space,
	 * fill, arrow head (mirrored for server->client) */
	label_cols = strlen(label) + 4;
	fill = label_cols < SHOW_LANE_COLUMNS ? SHOW_LANE_COLUMNS - label_cols : 1;
	if (seg->dir == FLOW_DIR_C2S) {
		append(lane, sizeof(lane), &used, "%s%s %s ", g->line, g->line, label);
		for (size_t i = 1; i < fill; i++)
			append(lane, sizeof(lane), &used, "%s", g->line);
		append(lane, sizeof(lane), &used, "%s", g->right);
	} else {
		append(lane, sizeof(lane), &used, "%s", g->left);
		for (size_t i = 1; i < fill; i++)
			append(lane, sizeof(lane), &used, "%s", g->line);
		append(lane, sizeof(lane), &used, " %s %s%s", label, g->line, g->line);
	}
	if (asprintf(&row, "%11.6f %s%s%s%s%s", (seg->time_us - start_us) / 1e6, g->bar, lane,
		     g->bar, notes[0] ? " " : "", notes) < 0)
		return NULL;
	return row;
}

/* Closes the current run of ordinary rows: the rows themselves, or one line. */
static int flush_run(struct show_state *st, struct show_conn *sc)
{
	char count[32], bytes[32];
	char *row = NULL;
	int rc = 0;

	if (sc->run_segments > SHOW_FOLD_SEGMENTS) {
		format_count(sc->run_segments, count, sizeof(count));
		format_bytes(sc->run_bytes, bytes, sizeof(bytes));
		if (asprintf(&row, "%11s %s  ... %s segments, %s in %.6f s ...",
			     "", glyphs_for(st->opts)->bar, count, bytes,
			     (sc->run_last_us - sc->run_first_us) / 1e6) < 0)
			row = NULL;
		rc = push_row(sc, row);
	}
	for (size_t i = 0; i < sc->held_count; i++) {
		if (rc == 0 && sc->run_segments <= SHOW_FOLD_SEGMENTS) {
			rc = push_row(sc, sc->held[i]);
			continue;
		}
		free(sc->held[i]);
	}
	sc->held_count = 0;
	sc->run_segments = 0;
	sc->run_bytes = 0;
	return rc;
}

static struct show_conn *conn_slot(struct show_state *st, unsigned id)
{
	if (id > st->conn_count) {
		size_t n = id + 64;
		struct show_conn *conns = realloc(st->conns, n * sizeof(*conns));

		if (conns == NULL)
			return NULL;
		memset(conns + st->conn_count, 0, (n - st->conn_count) * sizeof(*conns));
		st->conns = conns;
		st->conn_count = n;
	}
	return &st->conns[id - 1];
}

static void on_segment(const struct flow_segment *seg, void *arg)
{
	struct show_state *st = arg;
	struct show_conn *sc;
	bool ordinary;
	char *row;

	if (st->failed)
		return;
	sc = conn_slot(st, seg->conn->id);
	if (sc == NULL)
		goto fail;
	sc->start_us = seg->conn->first_time_us;
	row = format_row(st->opts, seg, sc->start_us);
	if (row == NULL)
		goto fail;
	ordinary = !st->opts->all && seg->analysis == 0 &&
		   !(seg->tcp_flags & (PACKET_TCP_SYN | PACKET_TCP_FIN | PACKET_TCP_RST));
	if (!ordinary) {
		if (flush_run(st, sc) < 0 || push_row(sc, row) < 0)
			goto fail;
		return;
	}
	if (sc->run_segments == 0)
		sc->run_first_us = seg->time_us;
	sc->run_last_us = seg->time_us;
	sc->run_segments++;
	sc->run_bytes += seg->payload_bytes;
	if (sc->run_segments <= SHOW_FOLD_SEGMENTS) {
		sc->held[sc->held_count++] = row;
		return;
	}
	/* the run is long: it will fold, the rows are not needed */
	free(row);
	for (size_t i = 0; i < sc->held_count; i++)
		free(sc->held[i]);
	sc->held_count = 0;
	return;
fail:
	st->failed = true;
}

static void write_summary(FILE *out, const struct show_opts *opts, const struct flow_conn *c)
{
	const struct glyphs *g = glyphs_for(opts);
	char up[32], down[32], line[1024];
	size_t used = 0;
	bool first = true;

	format_bytes(c->dir[0].data_bytes, up, sizeof(up));
	format_bytes(c->dir[1].data_bytes, down, sizeof(down));
	append(line, sizeof(line), &used, "connection %u: %s %s %s, handshake %s", c->id,
	       c->client_str, g->to, c->server_str, flow_handshake_name(c->handshake));
	if (c->rtt_us >= 0)
		append(line, sizeof(line), &used, " (rtt %.3f ms)", c->rtt_us / 1e3);
	append(line, sizeof(line), &used, ", client%sserver %s, server%sclient %s", g->to, up,
	       g->to, down);
	if (c->teardown == FLOW_TEARDOWN_NONE)
		append(line, sizeof(line), &used, ", teardown none");
	else
		append(line, sizeof(line), &used, ", teardown %s by %s",
		       flow_teardown_name(c->teardown),
		       c->teardown_dir == FLOW_DIR_C2S ? "client" : "server");
	for (int f = 0; f < FLOW_FLAG_COUNT; f++) {
		uint64_t n = flow_conn_flag_count(c, (enum flow_flag)f);

		if (n == 0)
			continue;
		append(line, sizeof(line), &used, "%s%s %llu", first ? ", " : ", ",
		       flow_flag_words((enum flow_flag)f), (unsigned long long)n);
		first = false;
	}
	fprintf(out, "%s\n", line);
	if (!c->client_from_syn)
		fprintf(out, "  (no SYN captured: client and server guessed from the ports)\n");
	fprintf(out, "%11s %-*s%s\n", "time (s)", SHOW_LANE_COLUMNS + 1, "client", "server");
}

static void conn_free(struct show_conn *sc)
{
	for (size_t i = 0; i < sc->row_count; i++)
		free(sc->rows[i]);
	free(sc->rows);
	for (size_t i = 0; i < sc->held_count; i++)
		free(sc->held[i]);
}

int show_file(FILE *out, const char *path, const struct show_opts *opts,
	      struct lab_err *err)
{
	static const struct show_opts defaults;
	struct show_state st = {.opts = opts ? opts : &defaults};
	struct flow_opts fo = {.port = st.opts->port, .on_segment = on_segment, .arg = &st};
	struct flow_analysis *fa = NULL;
	const struct flow_totals *tot;
	int rc = -1;

	if (flow_analyse_file(path, &fo, &fa, err) < 0)
		goto out;
	for (size_t i = 0; i < st.conn_count; i++)
		if (flush_run(&st, &st.conns[i]) < 0)
			st.failed = true;
	if (st.failed) {
		lab_err_sys(err, ENOMEM, "%s: show", path);
		goto out;
	}
	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);
		struct show_conn *sc = c->id <= st.conn_count ? &st.conns[c->id - 1] : NULL;

		if (i > 0)
			fputc('\n', out);
		write_summary(out, st.opts, c);
		for (size_t r = 0; sc && r < sc->row_count; r++)
			fprintf(out, "%s\n", sc->rows[r]);
	}
	tot = flow_totals(fa);
	fprintf(out, "%s%llu packets: %llu TCP, %llu other, %llu malformed, %llu truncated\n",
		flow_conn_count(fa) ? "\n" : "", (unsigned long long)tot->packets,
		(unsigned long long)tot->tcp_packets, (unsigned long long)tot->non_tcp,
		(unsigned long long)tot->malformed, (unsigned long long)tot->truncated);
	if (tot->file_note[0])
		fprintf(out, "note: %s\n", tot->file_note);
	rc = 0;
out:
	for (size_t i = 0; i < st.conn_count; i++)
		conn_free(&st.conns[i]);
	free(st.conns);
	flow_free(fa);
	return rc;
}
