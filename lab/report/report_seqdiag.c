/* report_seqdiag: sequence diagrams (see report_seqdiag.h).
 *
 * The rows come from ladder.h, fed by the analyser's per-segment callback: each
 * connection keeps its rows (a segment, or a fold of more than
 * REPORT_SEQDIAG_FOLD_SEGMENTS ordinary segments, which holds only counters;
 * at most REPORT_SEQDIAG_MAX_ROWS rows) while the capture streams by, and is
 * drawn once the summaries are final. A segment cut by the snaplen is always a
 * row of its own. Each arrow carries classes and data-* attributes for tests and
 * for the style sheet (report_seqdiag_css). */
#include "lab/report/report_seqdiag.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "lab/analysis/flow.h"
#include "lab/analysis/ladder.h"
#include "lab/analysis/packet.h"
#include "lab/report/report_fmt.h"

static void html_text(FILE *out, const char *s)
{
	if (s != NULL)
		report_fmt_html(out, s, strlen(s));
}

#define SVG_WIDTH 1040
#define SVG_TIME_X 92 /* right edge of the time column */
#define SVG_CLIENT_X 200
#define SVG_SERVER_X 740
#define SVG_NOTE_X 756
#define SVG_HEAD_H 58
#define SVG_ROW_H 30
#define SVG_FOLD_H 50
#define SVG_SLOPE 10 /* how far an arrow falls: time passes while it flies */

/* "retransmission, zero window, cut by snaplen" */
static void format_notes(const struct ladder_row *r, char *buf, size_t len)
{
	size_t used = ladder_format_notes(r->analysis, "", "", ", ", buf, len);

	if (r->truncated)
		snprintf(buf + used, len - used, "%scut by snaplen", used ? ", " : "");
}

/* "seg syn ack data zero-window ..." */
static void write_seg_classes(FILE *out, const struct ladder_row *r)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} bits[] = {
		{ PACKET_TCP_SYN, "syn" }, { PACKET_TCP_FIN, "fin" }, { PACKET_TCP_RST, "rst" },
		{ PACKET_TCP_PSH, "psh" }, { PACKET_TCP_ACK, "ack" }, { PACKET_TCP_URG, "urg" },
		{ PACKET_TCP_ECE, "ece" }, { PACKET_TCP_CWR, "cwr" },
	};

	fputs("seg", out);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (r->tcp_flags & bits[i].bit)
			fprintf(out, " %s", bits[i].name);
	if (r->payload_bytes > 0)
		fputs(" data", out);
	for (int f = 0; f < FLOW_FLAG_COUNT; f++) {
		if (!(r->analysis & (1u << f)))
			continue;
		putc(' ', out);
		for (const char *p = flow_flag_name((enum flow_flag)f); *p; p++)
			putc(*p == '_' ? '-' : *p, out);
	}
	if (r->truncated)
		fputs(" truncated", out);
	if (r->analysis != 0 || (r->tcp_flags & PACKET_TCP_RST))
		fputs(" noted", out);
}

static void write_time(FILE *out, int y, int64_t rel_us)
{
	fprintf(out, "<text class=\"time\" x=\"%d\" y=\"%d\">%.6f</text>", SVG_TIME_X, y,
		(double)rel_us / 1e6);
}

static void write_segment(FILE *out, const struct ladder_row *r, int y, int64_t start_us)
{
	int x0 = r->dir == FLOW_DIR_C2S ? SVG_CLIENT_X : SVG_SERVER_X;
	int x1 = r->dir == FLOW_DIR_C2S ? SVG_SERVER_X : SVG_CLIENT_X;
	int y0 = y, y1 = y + SVG_SLOPE;
	double dx = x1 - x0, dy = y1 - y0, d = sqrt(dx * dx + dy * dy);
	double ux = dx / d, uy = dy / d;
	double bx = x1 - 11 * ux, by = y1 - 11 * uy;
	char flags[48], label[192], notes[256];

	ladder_format_flags(r->tcp_flags, flags, sizeof(flags));
	ladder_format_label(r, label, sizeof(label));
	format_notes(r, notes, sizeof(notes));
	fputs("<g class=\"", out);
	write_seg_classes(out, r);
	fprintf(out,
		"\" data-flags=\"%s\" data-dir=\"%s\" data-seq=\"%" PRIu32 "\" data-ack=\"%" PRIu32
		"\" data-len=\"%" PRIu32 "\" data-win=\"%" PRIu64 "\" data-frame=\"%" PRIu64 "\"",
		flags, r->dir == FLOW_DIR_C2S ? "c2s" : "s2c", r->seq_rel, r->ack_rel,
		r->payload_bytes, r->window_bytes, r->frame);
	if (notes[0])
		fprintf(out, " data-notes=\"%s\"", notes);
	fprintf(out, "><title>frame %" PRIu64 ": %s%s%s</title>", r->frame, label,
		notes[0] ? " — " : "", notes);
	if (r->analysis != 0 || (r->tcp_flags & PACKET_TCP_RST))
		fprintf(out, "<rect class=\"hl\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
			SVG_TIME_X + 8, y - 18, SVG_WIDTH - SVG_TIME_X - 12, SVG_ROW_H);
	write_time(out, y + 4, r->time_us - start_us);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, y0, bx + ux,
		by + uy);
	fprintf(out, "<polygon points=\"%d,%d %.1f,%.1f %.1f,%.1f\"/>", x1, y1, bx - 4.5 * uy,
		by + 4.5 * ux, bx + 4.5 * uy, by - 4.5 * ux);
	fprintf(out, "<text class=\"label\" x=\"%d\" y=\"%d\">%s</text>",
		(SVG_CLIENT_X + SVG_SERVER_X) / 2, y - 3, label);
	if (notes[0])
		fprintf(out, "<text class=\"note\" x=\"%d\" y=\"%d\">%s</text>", SVG_NOTE_X, y + 9,
			notes);
	fputs("</g>\n", out);
}

static void write_fold_box(FILE *out, int y, const char *cls, uint64_t segments, uint64_t bytes,
			   const char *line1, const char *line2)
{
	fprintf(out, "<g class=\"%s\" data-segments=\"%" PRIu64 "\" data-bytes=\"%" PRIu64 "\">",
		cls, segments, bytes);
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\"/>",
		SVG_CLIENT_X + 14, y - 14, SVG_SERVER_X - SVG_CLIENT_X - 28, SVG_FOLD_H - 10);
	fprintf(out, "<text class=\"fold1\" x=\"%d\" y=\"%d\">", (SVG_CLIENT_X + SVG_SERVER_X) / 2,
		y + 3);
	html_text(out, line1);
	fprintf(out, "</text><text class=\"fold2\" x=\"%d\" y=\"%d\">",
		(SVG_CLIENT_X + SVG_SERVER_X) / 2, y + 20);
	html_text(out, line2);
	fputs("</text></g>\n", out);
}

/* "8 123": a thin no-break space (U+202F) between groups */
static void format_count(uint64_t n, char *buf, size_t len)
{
	ladder_format_count(n, "\xe2\x80\xaf", buf, len);
}

static void write_fold(FILE *out, const struct ladder_row *r, int y, int64_t start_us)
{
	uint64_t segs = r->fold_segments[0] + r->fold_segments[1];
	uint64_t bytes = r->fold_bytes[0] + r->fold_bytes[1];
	char n_all[48], n_c[48], n_s[48], b_all[32], b_c[32], b_s[32], dur[32];
	char line1[256], line2[256];

	format_count(segs, n_all, sizeof(n_all));
	format_count(r->fold_segments[0], n_c, sizeof(n_c));
	format_count(r->fold_segments[1], n_s, sizeof(n_s));
	ladder_format_bytes(bytes, b_all, sizeof(b_all));
	ladder_format_bytes(r->fold_bytes[0], b_c, sizeof(b_c));
	ladder_format_bytes(r->fold_bytes[1], b_s, sizeof(b_s));
	report_fmt_duration(r->last_time_us - r->time_us, dur, sizeof(dur));
	snprintf(line1, sizeof(line1), "… %s segments, %s in %s …", n_all, b_all, dur);
	snprintf(line2, sizeof(line2), "→ %s segments, %s    ← %s segments, %s", n_c, b_c, n_s,
		 b_s);
	write_time(out, y + 4, r->time_us - start_us);
	write_fold_box(out, y, "fold", segs, bytes, line1, line2);
}

static void write_end_box(FILE *out, const char *who, const char *addr, int x)
{
	fprintf(out,
		"<g class=\"actor\"><rect x=\"%d\" y=\"4\" width=\"200\" height=\"40\" rx=\"6\"/>"
		"<text class=\"who\" x=\"%d\" y=\"20\">%s</text><text class=\"addr\" x=\"%d\" "
		"y=\"37\">",
		x - 100, x, who, x);
	html_text(out, addr);
	fputs("</text></g>\n", out);
}

static void write_svg(FILE *out, const struct flow_conn *c, const struct ladder_conn *lc,
		      const struct facts *facts)
{
	int height = SVG_HEAD_H + 24;
	bool lab_stop = facts_until_us(facts) != 0;
	int y;

	for (size_t i = 0; lc != NULL && i < lc->row_count; i++)
		height += lc->rows[i].kind == LADDER_ROW_FOLD ? SVG_FOLD_H : SVG_ROW_H;
	if (lc != NULL && lc->omitted_segments > 0)
		height += SVG_FOLD_H;
	if (lab_stop)
		height += SVG_FOLD_H;
	fprintf(out,
		"<svg class=\"seqdiag\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" data-conn=\"%u\">\n",
		SVG_WIDTH, height, SVG_WIDTH, height, c->id);
	fprintf(out, "<title>connection %u: %s to %s</title>\n", c->id, c->client_str,
		c->server_str);
	fprintf(out, "<text class=\"timehead\" x=\"%d\" y=\"37\">time (s)</text>\n", SVG_TIME_X);
	fprintf(out,
		"<line class=\"life\" x1=\"%d\" y1=\"44\" x2=\"%d\" y2=\"%d\"/>"
		"<line class=\"life\" x1=\"%d\" y1=\"44\" x2=\"%d\" y2=\"%d\"/>\n",
		SVG_CLIENT_X, SVG_CLIENT_X, height - 4, SVG_SERVER_X, SVG_SERVER_X, height - 4);
	write_end_box(out, "client", c->client_str, SVG_CLIENT_X);
	write_end_box(out, "server", c->server_str, SVG_SERVER_X);
	y = SVG_HEAD_H + 24;
	for (size_t i = 0; lc != NULL && i < lc->row_count; i++) {
		const struct ladder_row *r = &lc->rows[i];

		if (r->kind == LADDER_ROW_FOLD) {
			write_fold(out, r, y + 6, c->first_time_us);
			y += SVG_FOLD_H;
		} else {
			write_segment(out, r, y, c->first_time_us);
			y += SVG_ROW_H;
		}
	}
	if (lc != NULL && lc->omitted_segments > 0) {
		char n[48], b[32], line1[160];

		format_count(lc->omitted_segments, n, sizeof(n));
		ladder_format_bytes(lc->omitted_bytes, b, sizeof(b));
		snprintf(line1, sizeof(line1), "… %s more segments (%s) not drawn …", n, b);
		write_fold_box(out, y + 6, "fold omitted", lc->omitted_segments, lc->omitted_bytes,
			       line1, "the diagram stops here: open the capture for the rest");
		y += SVG_FOLD_H;
	}
	if (lab_stop) {
		/* What follows in the capture is the lab's kill, not the programs'. */
		char line1[160];
		uint64_t later = facts_after_until(facts);

		snprintf(line1, sizeof(line1), "the lab's stop: it ended the programs here");
		write_fold_box(out, y + 6, "fold labstop", later, 0, line1,
			       later == 0 ? "no packet came after it"
					  : "the packets after it (the lab's kill) are neither "
					    "drawn nor judged");
	}
	fputs("</svg>\n", out);
}

static void write_conn_table(FILE *out, const struct flow_analysis *fa)
{
	fputs("<table class=\"conns\"><thead><tr><th>#</th><th>client</th><th>server</th>"
	      "<th>handshake</th><th>rtt</th><th>client → server</th><th>server → client</th>"
	      "<th>teardown</th><th>analysis</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);
		char rtt[32], up[32], down[32];
		const char *sep = "";

		report_fmt_duration(c->rtt_us, rtt, sizeof(rtt));
		ladder_format_bytes(c->dir[0].data_bytes, up, sizeof(up));
		ladder_format_bytes(c->dir[1].data_bytes, down, sizeof(down));
		fprintf(out, "<tr><td>%u</td><td>", c->id);
		html_text(out, c->client_str);
		fputs("</td><td>", out);
		html_text(out, c->server_str);
		fprintf(out,
			"</td><td>%s</td><td>%s</td><td>%s in %" PRIu64 " segment%s</td>"
			"<td>%s in %" PRIu64 " segment%s</td><td>%s",
			flow_handshake_name(c->handshake), rtt, up, c->dir[0].data_segments,
			c->dir[0].data_segments == 1 ? "" : "s", down, c->dir[1].data_segments,
			c->dir[1].data_segments == 1 ? "" : "s", flow_teardown_name(c->teardown));
		if (c->teardown_dir >= 0)
			fprintf(out, " by %s",
				c->teardown_dir == FLOW_DIR_C2S ? "client" : "server");
		fputs("</td><td>", out);
		for (int f = 0; f < FLOW_FLAG_COUNT; f++) {
			uint64_t n = flow_conn_flag_count(c, (enum flow_flag)f);

			if (n == 0)
				continue;
			fprintf(out, "%s%s %" PRIu64, sep, flow_flag_words((enum flow_flag)f), n);
			sep = ", ";
		}
		fputs(sep[0] ? "</td></tr>\n" : "none</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static const char legend_html[] =
	"<p class=\"legend\"><span class=\"k syn\">SYN / FIN</span>"
	"<span class=\"k data\">data</span><span class=\"k ack\">ACK only</span>"
	"<span class=\"k zero-window\">zero window</span>"
	"<span class=\"k window-probe\">window probe</span>"
	"<span class=\"k window-full\">window full / update</span>"
	"<span class=\"k retransmission\">retransmission</span>"
	"<span class=\"k rst\">RST</span>"
	"<span class=\"k foldk\">folded run of ordinary segments</span></p>\n";

/* Segments cut to their headers fold like any other: the lab's capture keeps
 * only headers past each direction's payload budget (lab/run/capture.h), so in a
 * bulk transfer nearly every segment is cut, and rows of their own would use up
 * the diagram before the zero windows and the teardown. */
const struct ladder_opts report_seqdiag_ladder_opts = {
	.fold_segments = REPORT_SEQDIAG_FOLD_SEGMENTS,
	.truncated_folds = true,
	.max_rows = REPORT_SEQDIAG_MAX_ROWS,
};

int report_seqdiag_write(FILE *out, const struct facts *facts, struct lab_err *err)
{
	const struct ladder *ladder = facts_ladder(facts);
	const struct flow_analysis *fa = facts_flows(facts);
	const struct flow_totals *tot;

	if (ladder == NULL)
		return lab_err_set(err, "%s: the analysis kept no ladder rows", facts_path(facts));
	tot = flow_totals(fa);
	fprintf(out,
		"<p class=\"totals\">%" PRIu64 " packets: %" PRIu64 " TCP, %" PRIu64
		" other, %" PRIu64 " malformed, %" PRIu64 " truncated</p>\n",
		tot->packets, tot->tcp_packets, tot->non_tcp, tot->malformed, tot->truncated);
	if (tot->file_note[0]) {
		fputs("<p class=\"warn\">", out);
		html_text(out, tot->file_note);
		fputs("</p>\n", out);
	}
	if (flow_conn_count(fa) == 0) {
		fputs("<p>No TCP connection in the capture.</p>\n", out);
		return 0;
	}
	write_conn_table(out, fa);
	fputs(legend_html, out);
	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);
		const struct ladder_conn *lc = ladder_conn(ladder, c->id);

		fprintf(out, "<h3>Connection %u</h3>\n", c->id);
		if (!c->client_from_syn)
			fputs("<p class=\"warn\">No SYN captured: client and server guessed from the "
			      "ports.</p>\n",
			      out);
		fputs("<div class=\"diagram\">\n", out);
		write_svg(out, c, lc, facts);
		fputs("</div>\n", out);
	}
	return 0;
}

const char report_seqdiag_css[] =
	".legend{font-size:12.5px;color:var(--muted)}\n"
	".legend .k{display:inline-block;margin-right:14px}\n"
	".legend .k::before{content:'';display:inline-block;width:22px;height:3px;margin-right:5px;"
	"vertical-align:middle;background:var(--c)}\n"
	".legend .foldk::before{height:10px;background:#f3f4f6;border:1px dashed #9ca3af}\n"
	".diagram{overflow-x:auto;border:1px solid var(--line);border-radius:6px;margin:6px 0 16px}\n"
	"svg.seqdiag{display:block;font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace}\n"
	"svg .life{stroke:#94a3b8;stroke-width:2}\n"
	"svg .labstop rect{fill:#fef3c7;stroke:#b58900;stroke-dasharray:none}\n"
	"svg .actor rect{fill:#f1f5f9;stroke:#94a3b8}\n"
	"svg .actor text{text-anchor:middle}svg .who{font-weight:bold;font-size:13px;"
	"font-family:'DejaVu Sans',sans-serif}svg .addr{font-size:11.5px;fill:#475569}\n"
	"svg .time,svg .timehead{text-anchor:end;font-size:11px;fill:#64748b}\n"
	"svg .label{text-anchor:middle;font-size:11.5px}\n"
	"svg .note{font-size:11.5px;font-weight:bold;font-family:'DejaVu Sans',sans-serif}\n"
	".seg,.k{--c:#64748b}\n"
	".seg.data,.k.data{--c:#1f2937}\n"
	".seg.syn,.seg.fin,.k.syn{--c:#2563eb}\n"
	".seg.window-full,.seg.window-update,.k.window-full{--c:#a16207}\n"
	".seg.retransmission,.seg.fast-retransmission,.seg.spurious-retransmission,"
	".seg.out-of-order,.seg.lost-segment,.seg.duplicate-ack,.k.retransmission{--c:#db2777}\n"
	".seg.keep-alive,.seg.window-probe,.seg.zero-window-probe,.k.window-probe{--c:#7c3aed}\n"
	".seg.zero-window,.k.zero-window{--c:#ea580c}\n"
	".seg.rst,.k.rst{--c:#dc2626}\n"
	".seg line{stroke:var(--c);stroke-width:1.6}.seg polygon{fill:var(--c)}"
	".seg .label,.seg .note{fill:var(--c)}\n"
	".seg.rst line{stroke-width:2.6}"
	".seg.retransmission line,.seg.fast-retransmission line{stroke-dasharray:6 3}\n"
	".seg .hl{fill:var(--c);opacity:.07}\n"
	".fold rect{fill:#f3f4f6;stroke:#9ca3af;stroke-dasharray:5 3}"
	".fold text{text-anchor:middle;fill:#374151}"
	".fold .fold1{font-size:12.5px;font-weight:bold}.fold .fold2{font-size:11px}\n";
