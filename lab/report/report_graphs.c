/* report_graphs: time-sequence and socket-queue graphs as inline SVG
 * (report_graphs.h). */
#include "lab/report/report_graphs.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lab/analysis/flow.h"
#include "lab/analysis/ladder.h"
#include "lab/analysis/packet.h"
#include "lab/report/report_fmt.h"

/* The plot area inside each SVG. */
enum {
	GRAPH_W = 960,
	GRAPH_H = 340,
	GRAPH_LEFT = 78,
	GRAPH_RIGHT = 16,
	GRAPH_TOP = 14,
	GRAPH_BOTTOM = 38,
	GRAPH_TICKS = 5,
};

struct axes {
	double x0, x1; /* data range shown on x */
	double y0, y1; /* and on y */
};

static double px(const struct axes *a, double x)
{
	double span = a->x1 > a->x0 ? a->x1 - a->x0 : 1;

	return GRAPH_LEFT + (x - a->x0) / span * (GRAPH_W - GRAPH_LEFT - GRAPH_RIGHT);
}

static double py(const struct axes *a, double y)
{
	double span = a->y1 > a->y0 ? a->y1 - a->y0 : 1;

	return GRAPH_H - GRAPH_BOTTOM - (y - a->y0) / span * (GRAPH_H - GRAPH_TOP - GRAPH_BOTTOM);
}

static void format_seconds(double s, char *buf, size_t len)
{
	if (s < 1)
		snprintf(buf, len, "%.0f ms", s * 1000);
	else
		snprintf(buf, len, "%.2f s", s);
}

/* The frame, grid and tick labels; x in seconds, y in bytes. */
static void write_axes(FILE *out, const struct axes *a, const char *x_label, const char *y_label)
{
	fprintf(out, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
		GRAPH_LEFT, GRAPH_TOP, GRAPH_W - GRAPH_LEFT - GRAPH_RIGHT,
		GRAPH_H - GRAPH_TOP - GRAPH_BOTTOM);
	for (int i = 0; i <= GRAPH_TICKS; i++) {
		double x = a->x0 + (a->x1 - a->x0) * i / GRAPH_TICKS;
		double y = a->y0 + (a->y1 - a->y0) * i / GRAPH_TICKS;
		char text[32];

		format_seconds(x, text, sizeof(text));
		fprintf(out,
			"<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			px(a, x), GRAPH_TOP, px(a, x), GRAPH_H - GRAPH_BOTTOM, px(a, x),
			GRAPH_H - GRAPH_BOTTOM + 15, text);
		ladder_format_bytes((uint64_t)(y + 0.5), text, sizeof(text));
		fprintf(out,
			"<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			GRAPH_LEFT, py(a, y), GRAPH_W - GRAPH_RIGHT, py(a, y), GRAPH_LEFT - 6,
			py(a, y) + 4, text);
	}
	fprintf(out, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
		(GRAPH_W + GRAPH_LEFT) / 2, GRAPH_H - 4, x_label);
	fprintf(out,
		"<text class=\"axis\" x=\"12\" y=\"%d\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 12 %d)\">%s</text>\n",
		(GRAPH_H) / 2, GRAPH_H / 2, y_label);
}

/* ---- time-sequence graph ------------------------------------------------------- */

static const uint32_t retransmitted = (1u << FLOW_RETRANSMISSION) |
				      (1u << FLOW_FAST_RETRANSMISSION) |
				      (1u << FLOW_SPURIOUS_RETRANSMISSION);
static const uint32_t probing = (1u << FLOW_WINDOW_PROBE) | (1u << FLOW_ZERO_WINDOW_PROBE);

static bool is_data(const struct facts_point *p)
{
	return p->payload_bytes > 0 || (p->analysis & probing);
}

static void write_tsg(FILE *out, const struct flow_conn *c, int dir, struct facts_series data,
		      struct facts_series acks, int64_t stop_wall_us)
{
	struct axes a = { .x0 = 0, .x1 = (double)(c->last_time_us - c->first_time_us) / 1e6 };
	uint64_t n_data = 0, n_ordinary = 0, stride, seen = 0;
	char moved[32];

	if (a.x1 <= 0)
		a.x1 = 0.001;
	for (size_t i = 0; i < data.count; i++) {
		const struct facts_point *p = &data.points[i];

		if (!is_data(p))
			continue;
		n_data++;
		if (!(p->analysis & (retransmitted | probing)))
			n_ordinary++;
		if ((double)p->seq_rel + p->payload_bytes > a.y1)
			a.y1 = (double)p->seq_rel + p->payload_bytes;
	}
	if (n_data == 0)
		return;
	for (size_t i = 0; i < acks.count; i++) {
		const struct facts_point *p = &acks.points[i];

		if ((p->tcp_flags & PACKET_TCP_ACK) && (double)p->ack_rel + p->window_bytes > a.y1)
			a.y1 = (double)p->ack_rel + (double)p->window_bytes;
	}
	a.y1 *= 1.02;
	stride = n_ordinary / REPORT_GRAPHS_MAX_BARS + 1;
	ladder_format_bytes(c->dir[dir].data_bytes, moved, sizeof(moved));
	fprintf(out,
		"<h4>%s &rarr; %s: %s in %" PRIu64 " data segments%s</h4>\n"
		"<svg class=\"tsg\" data-conn=\"%u\" data-dir=\"%s\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\">\n",
		dir == FLOW_DIR_C2S ? "client" : "server",
		dir == FLOW_DIR_C2S ? "server" : "client", moved, c->dir[dir].data_segments,
		stride > 1 || data.stride > 1 ? " (ordinary segments thinned)" : "", c->id,
		dir == FLOW_DIR_C2S ? "c2s" : "s2c", GRAPH_W, GRAPH_H, GRAPH_W, GRAPH_H);
	write_axes(out, &a, "time since the connection's first packet", "relative sequence number");
	/* The receiver's window edge and ACK line, as steps. */
	for (int line = 0; line < 2; line++) {
		uint64_t ack_stride = acks.count / REPORT_GRAPHS_MAX_BARS + 1;
		double last_y = -1;

		fprintf(out, "<polyline class=\"%s\" points=\"", line == 0 ? "win" : "ack");
		for (size_t i = 0; i < acks.count; i++) {
			const struct facts_point *p = &acks.points[i];
			double t = (double)(p->time_us - c->first_time_us) / 1e6;
			double y;

			if (!(p->tcp_flags & PACKET_TCP_ACK) || p->tcp_flags & PACKET_TCP_SYN)
				continue;
			if (i % ack_stride != 0 && i + 1 != acks.count &&
			    !(p->analysis & (1u << FLOW_ZERO_WINDOW)))
				continue;
			y = py(&a, (double)p->ack_rel + (line == 0 ? (double)p->window_bytes : 0));
			if (last_y >= 0)
				fprintf(out, "%.1f,%.1f ", px(&a, t), last_y);
			fprintf(out, "%.1f,%.1f ", px(&a, t), y);
			last_y = y;
		}
		fputs("\"/>\n", out);
	}
	/* The lab's stop: what the capture holds after it is the lab's doing. */
	if (stop_wall_us > 0 && stop_wall_us >= c->first_time_us) {
		double t = (double)(stop_wall_us - c->first_time_us) / 1e6;
		double x = px(&a, t < a.x1 ? t : a.x1);

		fprintf(out,
			"<g class=\"event stop\" data-t=\"%.6f\"><line x1=\"%.1f\" y1=\"%d\" "
			"x2=\"%.1f\" y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" "
			"text-anchor=\"end\">lab's stop</text></g>\n",
			t, x, GRAPH_TOP, x, GRAPH_H - GRAPH_BOTTOM, x - 3, GRAPH_TOP + 12);
	}
	for (size_t i = 0; i < acks.count; i++) {
		const struct facts_point *p = &acks.points[i];
		double t = (double)(p->time_us - c->first_time_us) / 1e6;

		if (p->analysis & (1u << FLOW_ZERO_WINDOW))
			fprintf(out,
				"<circle class=\"zw\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
				"data-frame=\"%" PRIu64 "\"><title>zero window, frame %" PRIu64
				"</title></circle>\n",
				px(&a, t), py(&a, p->ack_rel), p->frame, p->frame);
	}
	for (size_t i = 0; i < data.count; i++) {
		const struct facts_point *p = &data.points[i];
		double t = (double)(p->time_us - c->first_time_us) / 1e6;
		const char *kind = (p->analysis & retransmitted) ? " rtx"
				   : (p->analysis & probing)     ? " probe"
								 : "";
		double y0, y1;

		if (!is_data(p))
			continue;
		if (kind[0] == '\0' && seen++ % stride != 0)
			continue;
		y0 = py(&a, p->seq_rel);
		y1 = py(&a, (double)p->seq_rel + p->payload_bytes);
		if (y0 - y1 < 1.5) /* a visible tick however thin the segment */
			y1 = y0 - 1.5;
		fprintf(out,
			"<line class=\"seg%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"data-frame=\"%" PRIu64 "\" data-seq=\"%" PRIu32 "\" data-len=\"%" PRIu32
			"\" data-t=\"%.6f\"/>\n",
			kind, px(&a, t), y0, px(&a, t), y1, p->frame, p->seq_rel, p->payload_bytes,
			t);
	}
	fputs("</svg>\n", out);
}

void report_graphs_tsg(FILE *out, const struct facts *facts, const struct run_record *rec)
{
	int64_t stop_wall_us = rec != NULL ? rec->stop_wall_us : 0;

	const struct flow_analysis *fa = facts_flows(facts);
	bool any = false;

	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);

		for (int dir = 0; dir < 2; dir++) {
			struct facts_series data = facts_series(facts, c->id, dir);

			if (data.count == 0 || c->dir[dir].data_segments == 0)
				continue;
			if (!any)
				fputs("<p class=\"legend\"><span class=\"k tseg\">data segment</span>"
				      "<span class=\"k tack\">ACK</span>"
				      "<span class=\"k twin\">receive window edge (ACK + "
				      "window)</span><span class=\"k trtx\">retransmission</span>"
				      "<span class=\"k tzw\">zero window</span>"
				      "<span class=\"k tprobe\">window probe</span></p>\n",
				      out);
			any = true;
			fprintf(out, "<h3>Connection %u</h3>\n", c->id);
			write_tsg(out, c, dir, data, facts_series(facts, c->id, 1 - dir),
				  stop_wall_us);
		}
	}
	if (!any)
		fputs("<p>No data moved: no time-sequence graph.</p>\n", out);
}

/* ---- socket queues ------------------------------------------------------------- */

struct queue_line {
	const char *cls;
	const char *label;
	int who;  /* side, or direction for bytes moved */
	int what; /* 0 send queue, 1 receive queue, 2 bytes moved */
};

static uint64_t sample_value(const struct run_queue_sample *s, const struct queue_line *l)
{
	switch (l->what) {
	case 0:
		return s->send_queue_bytes[l->who];
	case 1:
		return s->recv_queue_bytes[l->who];
	default:
		return s->bytes[l->who];
	}
}

static void write_event_marks(FILE *out, const struct axes *a, const struct run_record *rec)
{
	for (int i = 0; i < rec->n_events && i < RUN_MAX_EVENTS; i++) {
		const struct run_event *ev = &rec->events[i];
		double x;

		switch (ev->kind) {
		case RUN_EV_STALL:
		case RUN_EV_DEADLOCK:
		case RUN_EV_HANG:
		case RUN_EV_TIMEOUT:
		case RUN_EV_STOP:
		case RUN_EV_KILL:
		case RUN_EV_PAUSE:
		case RUN_EV_CONTINUE:
			break;
		default:
			continue;
		}
		x = px(a, (double)ev->at_us / 1e6);
		fprintf(out,
			"<g class=\"event %s\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text><title>",
			report_fmt_event_name(ev->kind), x, GRAPH_TOP, x, GRAPH_H - GRAPH_BOTTOM,
			x > GRAPH_W - 120 ? x - 3 : x + 3, GRAPH_TOP + 12 + 12 * (i % 3),
			x > GRAPH_W - 120 ? "end" : "start",
			ev->kind == RUN_EV_STOP ? "lab's stop" : report_fmt_event_name(ev->kind));
		report_fmt_html(out, ev->text, strlen(ev->text));
		fputs("</title></g>\n", out);
	}
}

static void write_panel(FILE *out, const struct run_record *rec, const char *cls, const char *title,
			const struct queue_line *lines, size_t n_lines)
{
	struct axes a = { .x0 = 0, .x1 = (double)rec->duration_us / 1e6 };

	for (size_t i = 0; i < rec->n_queue_samples; i++) {
		const struct run_queue_sample *s = &rec->queue_samples[i];

		if ((double)s->at_us / 1e6 > a.x1)
			a.x1 = (double)s->at_us / 1e6;
		for (size_t l = 0; l < n_lines; l++)
			if ((double)sample_value(s, &lines[l]) > a.y1)
				a.y1 = (double)sample_value(s, &lines[l]);
	}
	if (a.x1 <= 0)
		a.x1 = 0.001;
	a.y1 = a.y1 > 0 ? a.y1 * 1.05 : 1;
	fprintf(out, "<h4>%s</h4>\n<p class=\"legend\">", title);
	for (size_t l = 0; l < n_lines; l++)
		fprintf(out, "<span class=\"k %s\">%s</span>", lines[l].cls, lines[l].label);
	fprintf(out,
		"</p>\n<svg class=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"role=\"img\">\n",
		cls, GRAPH_W, GRAPH_H, GRAPH_W, GRAPH_H);
	write_axes(out, &a, "time since the run started", "bytes");
	write_event_marks(out, &a, rec);
	for (size_t l = 0; l < n_lines; l++) {
		fprintf(out, "<polyline class=\"%s\" points=\"", lines[l].cls);
		for (size_t i = 0; i < rec->n_queue_samples; i++) {
			const struct run_queue_sample *s = &rec->queue_samples[i];

			fprintf(out, "%.1f,%.1f ", px(&a, (double)s->at_us / 1e6),
				py(&a, (double)sample_value(s, &lines[l])));
		}
		fputs("\" data-times=\"", out);
		for (size_t i = 0; i < rec->n_queue_samples; i++)
			fprintf(out, "%s%" PRId64, i ? "," : "", rec->queue_samples[i].at_us);
		fputs("\" data-values=\"", out);
		for (size_t i = 0; i < rec->n_queue_samples; i++)
			fprintf(out, "%s%" PRIu64, i ? "," : "",
				sample_value(&rec->queue_samples[i], &lines[l]));
		fputs("\"/>\n", out);
	}
	fputs("</svg>\n", out);
}

void report_graphs_queues(FILE *out, const struct run_record *rec)
{
	static const struct queue_line queues[] = {
		{ "csq", "client send queue", WHO_CLIENT, 0 },
		{ "crq", "client receive queue", WHO_CLIENT, 1 },
		{ "ssq", "server send queue", WHO_SERVER, 0 },
		{ "srq", "server receive queue", WHO_SERVER, 1 },
	};
	static const struct queue_line moved[] = {
		{ "c2s", "client \xe2\x86\x92 server", 0, 2 },
		{ "s2c", "server \xe2\x86\x92 client", 1, 2 },
	};

	if (rec == NULL || rec->n_queue_samples == 0)
		return;
	write_panel(out, rec, "queues", "Socket queues (sock_diag, every 5 ms)", queues, 4);
	write_panel(out, rec, "moved", "Bytes moved", moved, 2);
}

const char report_graphs_css[] =
	"svg.tsg,svg.queues,svg.moved{display:block;max-width:100%;height:auto;"
	"font-family:'DejaVu Sans',sans-serif;border:1px solid var(--line);border-radius:6px;"
	"margin:4px 0 14px}\n"
	"svg .frame{fill:none;stroke:#cbd5e1}svg .grid{stroke:#eef2f7}\n"
	"svg .tick{font-size:11px;fill:#64748b}svg .axis{font-size:12px;fill:#475569}\n"
	"svg.tsg .seg{stroke:#1f2937;stroke-width:1.4}svg.tsg .seg.rtx{stroke:#db2777;"
	"stroke-width:2.2}svg.tsg .seg.probe{stroke:#7c3aed;stroke-width:2.2}\n"
	"svg.tsg .ack{fill:none;stroke:#2563eb;stroke-width:1.2}"
	"svg.tsg .win{fill:none;stroke:#16a34a;stroke-width:1.2}"
	"svg.tsg .zw{fill:#ea580c}\n"
	"svg polyline{fill:none;stroke-width:1.6}"
	"svg .csq{stroke:#2563eb}svg .crq{stroke:#93c5fd}svg .ssq{stroke:#dc2626}"
	"svg .srq{stroke:#fca5a5}svg .c2s{stroke:#1f2937}svg .s2c{stroke:#a16207}\n"
	"svg .event line{stroke:#7c3aed;stroke-dasharray:4 3}svg .event text{font-size:11px;"
	"fill:#7c3aed}svg .event.stop line,svg .event.kill line{stroke:#dc2626}"
	"svg .event.stop text,svg .event.kill text{fill:#dc2626}\n"
	".k.tseg{--c:#1f2937}.k.tack{--c:#2563eb}.k.twin{--c:#16a34a}.k.trtx{--c:#db2777}"
	".k.tzw{--c:#ea580c}.k.tprobe{--c:#7c3aed}.k.csq{--c:#2563eb}.k.crq{--c:#93c5fd}"
	".k.ssq{--c:#dc2626}.k.srq{--c:#fca5a5}.k.c2s{--c:#1f2937}.k.s2c{--c:#a16207}\n";
