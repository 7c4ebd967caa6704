/* report_html: the HTML report (see report_html.h). Pages are written with one
 * inline style sheet (the page's and report_seqdiag_css); programs' output and
 * every other text from outside goes through report_fmt_html. */
#include "lab/report/report_html.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/analysis/ladder.h"
#include "lab/report/report_fmt.h"
#include "lab/report/report_graphs.h"
#include "lab/report/report_seqdiag.h"

/* Each stream of each program: at most its last this many bytes on the page. */
#define HTML_OUTPUT_TAIL_BYTES (256 * 1024)

/* ---- escaping ------------------------------------------------------------------- */

static void html_text(FILE *out, const char *s)
{
	if (s != NULL)
		report_fmt_html(out, s, strlen(s));
}

/* A relative URL to a file name: everything but RFC 3986's unreserved
 * characters percent-encoded (so it needs no HTML escaping either). */
static void html_href(FILE *out, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			putc(*p, out);
		else
			fprintf(out, "%%%02X", *p);
	}
}

/* ---- pages -------------------------------------------------------------------------- */

static const char css[] =
	":root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--pass:#15803d;--fail:#b91c1c;"
	"--error:#7e22ce}\n"
	"*{box-sizing:border-box}\n"
	"body{font-family:'DejaVu Sans',Verdana,'Segoe UI',Arial,sans-serif;color:var(--fg);"
	"margin:0;padding:24px 32px;font-size:14px;line-height:1.45;background:#fff}\n"
	"main{max-width:1100px;margin:0 auto}\n"
	"h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;"
	"border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}\n"
	"a{color:#1d4ed8}\n"
	"code,pre,.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12.5px}\n"
	"pre{background:#f8fafc;border:1px solid var(--line);border-radius:6px;padding:8px 10px;"
	"overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-all;margin:4px 0 12px}\n"
	".summary{color:var(--muted);margin:0 0 12px;font-size:15px}\n"
	".badge{display:inline-block;padding:1px 9px;border-radius:10px;color:#fff;font-weight:bold;"
	"font-size:12.5px;letter-spacing:.04em;vertical-align:2px}\n"
	".badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}"
	".badge.error{background:var(--error)}.badge.inconclusive{background:#b58900}\n"
	"table{border-collapse:collapse;width:100%;margin:6px 0 10px}\n"
	"th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}\n"
	"th{font-size:12px;color:var(--muted);font-weight:normal;text-transform:uppercase;"
	"letter-spacing:.04em}\n"
	"td.num,th.num{text-align:right;white-space:nowrap}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:8px 0}\n"
	"dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}\n"
	"tr.failed td{background:#fef2f2}tr.failed td.mark{color:var(--fail)}"
	"tr.held td.mark{color:var(--pass)}\n"
	"tr.inconclusive td.mark{color:#b58900}\n"
	"td.mark{font-weight:bold;width:70px;white-space:nowrap}\n"
	"table.verdicts td{padding:4px 8px}td.loc{white-space:nowrap;color:var(--muted)}\n"
	".why{color:#374151;margin-top:2px}\n"
	".errorbox{background:#faf5ff;border:1px solid #d8b4fe;border-radius:6px;padding:10px 12px}\n"
	".warn{color:#9a3412}\n"
	".watch{background:#fff7ed;border:1px solid #fdba74;border-radius:6px;padding:10px 12px}\n"
	"footer{margin-top:36px;color:var(--muted);font-size:12px}\n";

static void write_head(FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"tcplab\">\n<title>",
	      out);
	html_text(out, title);
	fprintf(out, "</title>\n<style>\n%s%s%s</style>\n</head>\n<body>\n<main>\n", css,
		report_seqdiag_css, report_graphs_css);
}

static void write_foot(FILE *out)
{
	fputs("<footer>Written by tcplab. Open the captures in Wireshark for every byte.</footer>\n"
	      "</main>\n</body>\n</html>\n",
	      out);
}

static const char *status_upper(enum report_status s)
{
	return s == REPORT_PASS           ? "PASS"
	       : s == REPORT_FAIL         ? "FAIL"
	       : s == REPORT_INCONCLUSIVE ? "INCONCLUSIVE"
					  : "ERROR";
}

static void write_badge(FILE *out, enum report_status s)
{
	fprintf(out, "<span class=\"badge %s\">%s</span>", report_fmt_status_name(s),
		status_upper(s));
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Puts the capture into dir without copying it (a bulk run's capture can be
 * gigabytes): a hard link when dir is on the same file system, so the report
 * still carries it when moved; a symbolic link to its absolute path otherwise.
 * Returns the name to link to, or NULL (then why says so). */
static const char *link_capture(const char *dir, const char *pcap_path, char *why, size_t why_len)
{
	const char *name = base_name(pcap_path);
	char dest[PATH_MAX + 256], tmp[PATH_MAX + 300], abs_path[PATH_MAX];
	struct stat a, b;

	snprintf(dest, sizeof(dest), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dest);
	if (stat(pcap_path, &a) < 0) {
		snprintf(why, why_len, "%s: %s", pcap_path, strerror(errno));
		return NULL;
	}
	if (stat(dest, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return name; /* the capture is already in dir */
	unlink(tmp);
	if (link(pcap_path, tmp) < 0) {
		if (realpath(pcap_path, abs_path) == NULL || symlink(abs_path, tmp) < 0) {
			snprintf(why, why_len, "%s: %s", tmp, strerror(errno));
			return NULL;
		}
	}
	if (rename(tmp, dest) < 0) {
		snprintf(why, why_len, "%s: %s", dest, strerror(errno));
		unlink(tmp);
		return NULL;
	}
	return name;
}

static void write_verdict_row(FILE *out, const struct scenario *sc, const struct verdict *v)
{
	fprintf(out, "<tr class=\"%s\"><td class=\"mark\">%s</td><td class=\"mono loc\">",
		v->held           ? "held"
		: v->inconclusive ? "inconclusive"
				  : "failed",
		v->held           ? "✔ ok"
		: v->inconclusive ? "? INCONCLUSIVE"
				  : "✘ FAIL");
	html_text(out, base_name(sc->path));
	fprintf(out, ":%d</td><td><code>", v->line);
	html_text(out, v->source);
	fputs("</code><div class=\"why\">", out);
	html_text(out, v->text);
	fputs("</div></td></tr>\n", out);
}

static void write_verdicts(FILE *out, const struct report_item *item)
{
	const struct scenario *sc = item->sc;
	size_t held = 0, inconclusive = 0;

	for (size_t i = 0; i < sc->n_expects; i++) {
		held += item->verdicts[i].held;
		inconclusive += item->verdicts[i].inconclusive;
	}
	fprintf(out, "<h2>Expectations: %zu of %zu held", held, sc->n_expects);
	if (inconclusive > 0)
		fprintf(out, ", %zu inconclusive", inconclusive);
	fputs("</h2>\n<table class=\"verdicts\"><tbody>\n", out);
	for (size_t i = 0; i < sc->n_expects; i++)
		write_verdict_row(out, sc, &item->verdicts[i]);
	fputs("</tbody></table>\n", out);
	if (item->n_fault_verdicts == 0)
		return;
	fputs("<h2>Faults: did each take effect?</h2>\n<table class=\"verdicts\"><tbody>\n", out);
	for (size_t i = 0; i < item->n_fault_verdicts; i++)
		write_verdict_row(out, sc, &item->fault_verdicts[i]);
	fputs("</tbody></table>\n", out);
}

static void write_watch(FILE *out, const struct run_record *rec)
{
	char last[32], verdict[32], up[32], down[32], q0[32], q1[32];

	if (rec->stall_text[0] == '\0' && rec->verdict_us < 0)
		return;
	report_fmt_duration(rec->last_progress_us, last, sizeof(last));
	report_fmt_duration(rec->verdict_us, verdict, sizeof(verdict));
	ladder_format_bytes(rec->stall_bytes[0], up, sizeof(up));
	ladder_format_bytes(rec->stall_bytes[1], down, sizeof(down));
	ladder_format_bytes(rec->stall_queued[0], q0, sizeof(q0));
	ladder_format_bytes(rec->stall_queued[1], q1, sizeof(q1));
	fputs("<h2>Stall and deadlock watch</h2>\n<div class=\"watch\"><p><b>", out);
	html_text(out, rec->stall_text);
	fputs("</b></p><dl class=\"facts\">", out);
	fprintf(out, "<dt>last byte moved</dt><dd>%s after the start</dd>", last);
	fprintf(out, "<dt>concluded</dt><dd>%s after the start</dd>", verdict);
	fprintf(out, "<dt>moved</dt><dd>client → server %s, server → client %s</dd>", up, down);
	fprintf(out, "<dt>send queues</dt><dd>client %s, server %s</dd>", q0, q1);
	fputs("</dl></div>\n", out);
}

static void write_output(FILE *out, const char *label, const struct proc_output *o)
{
	size_t len = o->data ? o->len : 0;
	size_t skip = len > HTML_OUTPUT_TAIL_BYTES ? len - HTML_OUTPUT_TAIL_BYTES : 0;

	fprintf(out, "<h4>%s <small>(%" PRIu64 " bytes", label, o->total_bytes);
	if (o->total_bytes > len - skip)
		fprintf(out, "; the last %zu shown", len - skip);
	fputs(")</small></h4>\n", out);
	if (len == 0)
		return;
	fputs("<pre>", out);
	report_fmt_html(out, o->data + skip, len - skip);
	fputs("</pre>\n", out);
}

static void write_shim(FILE *out, const struct run_side *side)
{
	char counts[512];

	if (!side->faulted)
		return;
	report_shim_counts(&side->shim, true, counts, sizeof(counts));
	fprintf(out, "<p>Fault shim: %s</p>\n", counts);
}

static void write_program(FILE *out, const char *who, const struct scenario_program *prog,
			  const struct run_record *rec, enum scenario_who w)
{
	const struct run_side *side = rec ? &rec->side[w] : NULL;
	char sig[32], dur[32];

	if (prog->command == NULL)
		return;
	fprintf(out, "<h3>%s: <code>", who);
	html_text(out, prog->command);
	fputs("</code></h3>\n<p>", out);
	if (side == NULL || !side->started) {
		fputs("not started</p>\n", out);
		return;
	}
	if (side->proc.exited)
		fprintf(out, "exited with <b>%d</b>", side->proc.exit_code);
	else if (side->proc.signaled)
		fprintf(out, "killed by <b>%s</b>",
			report_fmt_signal_name(side->proc.signal, sig, sizeof(sig)));
	else
		fputs("still running", out);
	if (side->stopped_by_lab)
		fputs(" (stopped by the lab)", out);
	if (!side->proc.running && side->proc.end_us >= side->proc.start_us) {
		report_fmt_duration(side->proc.end_us - side->proc.start_us, dur, sizeof(dur));
		fprintf(out, " after %s", dur);
	}
	fputs("</p>\n", out);
	write_shim(out, side);
	write_output(out, "stdout", &side->proc.out);
	write_output(out, "stderr", &side->proc.err);
}

static void write_events(FILE *out, const struct run_record *rec)
{
	if (rec->n_events == 0)
		return;
	fputs("<h2>Timeline</h2>\n<table class=\"events\"><thead><tr><th class=\"num\">at</th>"
	      "<th>event</th><th>what</th></tr></thead><tbody>\n",
	      out);
	bool stop_shown = rec->stop_us < 0;

	for (int i = 0; i <= rec->n_events && i <= RUN_MAX_EVENTS; i++) {
		char at[32];

		if (!stop_shown &&
		    (i == rec->n_events || i == RUN_MAX_EVENTS ||
		     rec->events[i].at_us > rec->stop_us || rec->events[i].kind == RUN_EV_STOP)) {
			/* The lab's stop: what the capture holds after it is the lab's doing. */
			report_fmt_duration(rec->stop_us, at, sizeof(at));
			fprintf(out,
				"<tr class=\"labstop\"><td class=\"num\">%s</td><td>lab stop</td>"
				"<td>the lab ends the programs: packets from here on are its doing, "
				"not judged</td></tr>\n",
				at);
			stop_shown = true;
		}
		if (i == rec->n_events || i == RUN_MAX_EVENTS)
			break;
		report_fmt_duration(rec->events[i].at_us, at, sizeof(at));
		fprintf(out, "<tr><td class=\"num\">%s</td><td>%s</td><td>", at,
			report_fmt_event_name(rec->events[i].kind));
		html_text(out, rec->events[i].text);
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static void write_page_body(FILE *out, const char *dir, const struct report_item *item)
{
	const struct scenario *sc = item->sc;
	const struct run_record *rec = item->rec;
	const char *pcap_name = NULL;
	char why[PATH_MAX + 128] = "", dur[32];
	struct lab_err derr;

	if (item->pcap_path != NULL)
		pcap_name = link_capture(dir, item->pcap_path, why, sizeof(why));
	fputs("<p><a href=\"index.html\">← all scenarios</a></p>\n<h1>", out);
	write_badge(out, item->status);
	fputs(" ", out);
	html_text(out, sc->name);
	fputs("</h1>\n<p class=\"summary\">", out);
	html_text(out, sc->summary);
	fputs("</p>\n<dl class=\"facts\"><dt>scenario</dt><dd class=\"mono\">", out);
	html_text(out, sc->path);
	fputs("</dd>", out);
	if (rec != NULL) {
		report_fmt_duration(rec->duration_us, dur, sizeof(dur));
		fprintf(out, "<dt>outcome</dt><dd>%s after %s</dd>",
			scenario_outcome_name(rec->outcome), dur);
		fprintf(out, "<dt>captured</dt><dd>%" PRIu64 " packets", rec->capture.packets);
		if (rec->capture.kernel_drops > 0 || rec->capture.ifdrops > 0)
			fprintf(out,
				" <span class=\"warn\">(%" PRIu64 " lost by the kernel, %" PRIu64
				" by the interface)</span>",
				rec->capture.kernel_drops, rec->capture.ifdrops);
		fputs("</dd>", out);
	}
	if (item->pcap_path != NULL) {
		fputs("<dt>capture</dt><dd>", out);
		if (pcap_name != NULL) {
			fputs("<a class=\"pcap\" href=\"", out);
			html_href(out, pcap_name);
			fputs("\">", out);
			html_text(out, pcap_name);
			fputs("</a> <span class=\"summary\">(open in Wireshark)</span>", out);
		} else {
			html_text(out, item->pcap_path);
			fputs(" <span class=\"warn\">(not copied: ", out);
			html_text(out, why);
			fputs(")</span>", out);
		}
		fputs("</dd>", out);
	}
	if (rec != NULL && rec->link.used) {
		char what[1024];
		const char *server_name;

		report_fmt_link(&rec->link, what, sizeof(what));
		fprintf(out, "<dt>link</dt><dd>seed %" PRIu64 ": ", rec->link.seed);
		html_text(out, what);
		fputs("</dd><dt>server side</dt><dd>", out);
		why[0] = 0;
		server_name = link_capture(dir, rec->link.server_pcap_path, why, sizeof(why));
		if (server_name != NULL) {
			fputs("<a class=\"pcap\" href=\"", out);
			html_href(out, server_name);
			fputs("\">", out);
			html_text(out, server_name);
			fputs("</a> <span class=\"summary\">(the wire seen from the server)</span>",
			      out);
		} else {
			html_text(out, rec->link.server_pcap_path);
		}
		fputs("</dd>", out);
	}
	fputs("</dl>\n", out);
	if (item->status == REPORT_ERROR) {
		fputs("<h2>The lab could not run this scenario</h2>\n<p class=\"errorbox\">", out);
		html_text(out, item->error);
		fputs("</p>\n", out);
	}
	if (item->verdicts != NULL)
		write_verdicts(out, item);
	if (item->pcap_path != NULL) {
		fputs("<h2>Connections</h2>\n", out);
		if (item->facts == NULL)
			lab_err_set(&derr, "%s",
				    item->facts_error ? item->facts_error : "capture not analysed");
		if (item->facts == NULL || report_seqdiag_write(out, item->facts, &derr) < 0) {
			fputs("<p class=\"warn\">", out);
			html_text(out, derr.msg);
			fputs("</p>\n", out);
		}
		if (item->facts != NULL) {
			fputs("<h2>Time-sequence graphs</h2>\n", out);
			report_graphs_tsg(out, item->facts, rec);
		}
	}
	if (rec != NULL)
		write_watch(out, rec);
	if (rec != NULL && rec->n_queue_samples > 0) {
		fputs("<h2>Socket queues over the run</h2>\n", out);
		report_graphs_queues(out, rec);
	}
	fputs("<h2>Programs</h2>\n", out);
	write_program(out, "server", &sc->server, rec, WHO_SERVER);
	write_program(out, "client", &sc->client, rec, WHO_CLIENT);
	if (rec != NULL)
		write_events(out, rec);
}

void report_html_page_name(const char *scenario_name, char *buf, size_t len)
{
	size_t used = 0;

	if (len < 16) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	for (const char *p = scenario_name; *p && used + 12 < len; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' || (c == '.' && used > 0);

		buf[used++] = ok ? c : '_';
	}
	if (used == 0)
		buf[used++] = '_';
	buf[used] = '\0';
	if (strcmp(buf, "index") == 0)
		buf[used++] = '_', buf[used] = '\0';
	snprintf(buf + used, len - used, ".html");
}

static void write_index(FILE *out, const struct report_item *items, size_t n, double wall_s)
{
	size_t counts[REPORT_STATUS_COUNT] = { 0 };
	char inconclusive[48] = "";

	for (size_t i = 0; i < n; i++)
		counts[items[i].status < REPORT_STATUS_COUNT ? items[i].status : REPORT_ERROR]++;
	if (counts[REPORT_INCONCLUSIVE] > 0)
		snprintf(inconclusive, sizeof(inconclusive), ", %zu inconclusive",
			 counts[REPORT_INCONCLUSIVE]);
	write_head(out, "tcplab report");
	fputs("<h1>tcplab report</h1>\n", out);
	fprintf(out,
		"<p class=\"summary\">%zu scenario%s: %zu passed, %zu failed%s, %zu error%s "
		"(%.2f s)</p>\n",
		n, n == 1 ? "" : "s", counts[REPORT_PASS], counts[REPORT_FAIL], inconclusive,
		counts[REPORT_ERROR], counts[REPORT_ERROR] == 1 ? "" : "s", wall_s);
	fputs("<table class=\"index\"><thead><tr><th>scenario</th><th>verdict</th>"
	      "<th class=\"num\">duration</th><th class=\"num\">packets</th><th>capture</th>"
	      "<th>what it shows</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		const struct report_item *item = &items[i];
		char page[512], dur[32];

		report_html_page_name(item->sc->name, page, sizeof(page));
		fputs("<tr><td><a href=\"", out);
		html_href(out, page);
		fputs("\">", out);
		html_text(out, item->sc->name);
		fputs("</a></td><td>", out);
		write_badge(out, item->status);
		if (item->rec != NULL) {
			report_fmt_duration(item->rec->duration_us, dur, sizeof(dur));
			fprintf(out,
				"</td><td class=\"num\">%s</td><td class=\"num\">%" PRIu64 "</td>",
				dur, item->rec->capture.packets);
		} else {
			fputs("</td><td class=\"num\">-</td><td class=\"num\">-</td>", out);
		}
		fputs("<td>", out);
		if (item->pcap_path != NULL) {
			fputs("<a href=\"", out);
			html_href(out, base_name(item->pcap_path));
			fputs("\">", out);
			html_text(out, base_name(item->pcap_path));
			fputs("</a>", out);
		} else {
			fputs("-", out);
		}
		fputs("</td><td>", out);
		html_text(out, item->sc->summary);
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	write_foot(out);
}

static int make_dirs(const char *path, struct lab_err *err)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return lab_err_set(err, "%s: path too long", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return lab_err_sys(err, errno, "%s", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return lab_err_sys(err, errno, "%s", buf);
	return 0;
}

int report_html_write(const char *dir, const struct report_item *items, size_t n, double wall_s,
		      struct lab_err *err)
{
	struct report_file f;
	char path[PATH_MAX + 600], page[512], title[600];

	if (make_dirs(dir, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		report_html_page_name(items[i].sc->name, page, sizeof(page));
		snprintf(path, sizeof(path), "%s/%s", dir, page);
		if (report_fmt_open(&f, path, err) < 0)
			return -1;
		snprintf(title, sizeof(title), "%s: %s (tcplab)", status_upper(items[i].status),
			 items[i].sc->name);
		write_head(f.out, title);
		write_page_body(f.out, dir, &items[i]);
		write_foot(f.out);
		if (report_fmt_commit(&f, err) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/index.html", dir);
	if (report_fmt_open(&f, path, err) < 0)
		return -1;
	write_index(f.out, items, n, wall_s);
	return report_fmt_commit(&f, err);
}
