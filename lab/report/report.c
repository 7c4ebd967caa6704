/* report: terminal output of runs and checks (see report.h). */
#include "lab/report/report.h"

#include <string.h>

#include "lab/report/report_fmt.h"

static const char *status_word(enum report_status s)
{
	return s == REPORT_PASS           ? "PASS"
	       : s == REPORT_FAIL         ? "FAIL"
	       : s == REPORT_INCONCLUSIVE ? "INCONCLUSIVE"
					  : "ERROR";
}

static const char *status_color(enum report_status s)
{
	return s == REPORT_PASS           ? "\033[32m"
	       : s == REPORT_FAIL         ? "\033[31m"
	       : s == REPORT_INCONCLUSIVE ? "\033[33m"
					  : "\033[35m";
}

static enum report_status status_of(const struct verdict *v, size_t n, enum report_status s)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		if (v[i].inconclusive) {
			if (s == REPORT_PASS)
				s = REPORT_INCONCLUSIVE;
		} else if (!v[i].held) {
			s = REPORT_FAIL;
		}
	}
	return s;
}

enum report_status report_status_of(const struct report_item *item)
{
	enum report_status s = status_of(item->verdicts, item->sc->n_expects, REPORT_PASS);

	return status_of(item->fault_verdicts, item->n_fault_verdicts, s);
}

/* A Wireshark display filter that shows what an expectation is about (buf holds
 * the ones made for it). */
static const char *wireshark_filter(const struct expectation *e, char *buf, size_t len)
{
	switch (e->kind) {
	case EXPECT_ANALYSIS:
		if ((unsigned)e->flag >= SCENARIO_ANALYSIS_FLAGS)
			return NULL;
		snprintf(buf, len, "tcp.analysis.%s", scenario_analysis_flag_words[e->flag]);
		return buf;
	case EXPECT_ZERO_WINDOW:
		return "tcp.analysis.zero_window";
	case EXPECT_WINDOW_PROBES:
		return "tcp.analysis.zero_window_probe";
	case EXPECT_RETRANSMISSIONS:
		return "tcp.analysis.retransmission";
	case EXPECT_RESENDS:
		return "tcp.analysis.retransmission || tcp.analysis.out_of_order";
	case EXPECT_HANDSHAKE:
		return "tcp.flags.syn==1 || tcp.flags.reset==1";
	case EXPECT_TEARDOWN:
		return "tcp.flags.fin==1 || tcp.flags.reset==1";
	case EXPECT_BYTES:
	case EXPECT_SEGMENTS_PAYLOAD:
		return "tcp.len>0";
	default:
		return NULL;
	}
}

/* Longest line of a program's output the terminal shows; the rest is counted. */
#define REPORT_LINE_MAX 160

/* One line of a program's output: control bytes escaped (an ESC from the program
 * must not drive the reader's terminal), cut at REPORT_LINE_MAX. */
static void print_line(FILE *out, const char *line, size_t len)
{
	size_t shown = len > REPORT_LINE_MAX ? REPORT_LINE_MAX : len;

	fputs("        | ", out);
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 32 || c == 127)
			fprintf(out, "\\x%02x", c);
		else
			putc(c, out);
	}
	if (shown < len)
		fprintf(out, " ... (%zu more bytes)", len - shown);
	putc('\n', out);
}

/* The last lines of a program's output, indented, when a failure needs them. */
static void print_tail(FILE *out, const char *label, const struct proc_output *o)
{
	const char *text = o->data;
	const char *start;
	int lines = 0;

	if (text == NULL || text[0] == '\0')
		return;
	start = text + strlen(text);
	while (start > text && lines < 6) {
		start--;
		if (*start == '\n' && start[1] != '\0')
			lines++;
	}
	if (*start == '\n')
		start++;
	if (o->total_bytes > o->len)
		fprintf(out,
			"      %s (the end of the first %zu of %llu bytes; the rest was "
			"counted, not kept):\n",
			label, o->len, (unsigned long long)o->total_bytes);
	else
		fprintf(out, "      %s:\n", label);
	for (const char *line = start; *line != '\0';) {
		size_t len = strcspn(line, "\n");

		print_line(out, line, len);
		line += len;
		if (*line == '\n')
			line++;
	}
}

void report_shim_counts(const struct shim_stats *st, bool with_calls, char *buf, size_t len)
{
	const struct {
		const char *words;
		uint64_t n;
	} counts[] = {
		{ "calls intercepted", with_calls ? st->calls_intercepted : 0 },
		{ "short sends", st->short_sends },
		{ "short reads", st->short_recvs },
		{ "delayed sends", st->send_delays },
		{ "delayed reads", st->recv_delays },
		{ "errors injected", st->errors_injected },
		{ "resets", st->resets_done },
		{ "early closes", st->early_closes },
		{ "buffers set", st->buffers_set },
		{ "bytes sent", st->bytes_sent },
		{ "bytes received", st->bytes_received },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]) && used < len; i++) {
		if (counts[i].n == 0)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%llu %s", used ? ", " : "",
					 (unsigned long long)counts[i].n, counts[i].words);
	}
	if (used < len)
		snprintf(buf + used, len - used, "%s (%llu process%s)",
			 used ? "" : "nothing happened", (unsigned long long)st->processes,
			 st->processes == 1 ? "" : "es");
}

/* What the fault shim did in one program. */
/* The wire's line: its seed (a rerun repeats it), what each direction carried and
 * dropped by kind, and the server side's capture. */
static void print_link(FILE *out, const struct run_link *l)
{
	char what[1024];

	report_fmt_link(l, what, sizeof(what));
	fprintf(out, "      link (seed %llu): %s\n", (unsigned long long)l->seed, what);
	fprintf(out, "      server side of the wire: %s\n", l->server_pcap_path);
}

static void print_shim(FILE *out, const char *who, const struct run_side *side)
{
	char counts[512];

	if (!side->faulted)
		return;
	report_shim_counts(&side->shim, false, counts, sizeof(counts));
	fprintf(out, "      %s faults: %s\n", who, counts);
}

/* The run's timeline, with the lab's stop marked where it falls: packets after
 * it are the lab's doing (its kill), not the programs', and are not judged. */
static void print_timeline(FILE *out, const struct report_item *item)
{
	const struct run_record *rec = item->rec;
	bool stop_shown = rec->stop_us < 0;

	for (int i = 0; i <= rec->n_events; i++) {
		if (!stop_shown && (i == rec->n_events || rec->events[i].at_us > rec->stop_us ||
				    rec->events[i].kind == RUN_EV_STOP)) {
			uint64_t later = item->facts ? facts_after_until(item->facts) : 0;

			fprintf(out,
				"      %8.3f s  -- the lab's stop: packets from here on are the "
				"lab's doing, not judged (%llu in the capture, from capture time "
				"%lld.%06lld: tcplab show --until)\n",
				(double)rec->stop_us / 1e6, (unsigned long long)later,
				(long long)(rec->stop_wall_us / 1000000),
				(long long)(rec->stop_wall_us % 1000000));
			stop_shown = true;
		}
		if (i < rec->n_events)
			fprintf(out, "      %8.3f s  %s\n", (double)rec->events[i].at_us / 1e6,
				rec->events[i].text);
	}
}

void report_item(FILE *out, const struct report_item *item, const struct report_opts *opts)
{
	const struct scenario *sc = item->sc;
	const char *filter = NULL;
	char filter_buf[64];
	double secs = item->rec ? (double)item->rec->duration_us / 1e6 : 0.0;

	char time[16] = "      -";
	char packets[24] = "          -";

	if (item->rec != NULL) {
		snprintf(time, sizeof(time), "%6.2fs", secs);
		if (item->status != REPORT_ERROR)
			snprintf(packets, sizeof(packets), "%6llu pkts",
				 (unsigned long long)item->rec->capture.packets);
	}
	fprintf(out, "%s%-5s%s %-28s %s %s  %s\n", opts->color ? status_color(item->status) : "",
		status_word(item->status), opts->color ? "\033[0m" : "", sc->name, time, packets,
		item->pcap_path ? item->pcap_path : "-");
	if (item->status == REPORT_ERROR) {
		fprintf(out, "      %s\n", item->error);
		return;
	}
	if (item->rec != NULL && item->rec->link.used)
		print_link(out, &item->rec->link);
	if (item->rec != NULL && item->rec->capture.kernel_drops + item->rec->capture.ifdrops > 0)
		fprintf(out,
			"      the capture lost %llu packets (kernel drops): every verdict on "
			"packets is inconclusive\n",
			(unsigned long long)(item->rec->capture.kernel_drops +
					     item->rec->capture.ifdrops));
	if (item->rec != NULL && (opts->verbose || item->status != REPORT_PASS)) {
		print_shim(out, "client", &item->rec->side[WHO_CLIENT]);
		print_shim(out, "server", &item->rec->side[WHO_SERVER]);
		if (item->rec->stall_text[0] != '\0')
			fprintf(out, "      watch: %s\n", item->rec->stall_text);
	}
	/* The run's timeline says what happened when a verdict alone cannot. */
	if (item->rec != NULL && (opts->verbose || item->status != REPORT_PASS))
		print_timeline(out, item);
	for (size_t i = 0; i < sc->n_expects + item->n_fault_verdicts; i++) {
		const struct verdict *v = i < sc->n_expects
						  ? &item->verdicts[i]
						  : &item->fault_verdicts[i - sc->n_expects];

		if (v->held && !opts->verbose)
			continue;
		fprintf(out, "      %s %s:%d: %s\n",
			v->held           ? "ok  "
			: v->inconclusive ? "INCONCLUSIVE"
					  : "FAIL",
			sc->path, v->line, v->source);
		fprintf(out, "           %s\n", v->text);
		if (!v->held && filter == NULL && v->exp != NULL)
			filter = wireshark_filter(v->exp, filter_buf, sizeof(filter_buf));
	}
	if (item->status != REPORT_FAIL && item->status != REPORT_INCONCLUSIVE)
		return;
	if (item->rec != NULL) {
		for (int who = 0; who < 2; who++) {
			const struct run_side *side = &item->rec->side[who];

			if (!side->started)
				continue;
			print_tail(out, who == WHO_CLIENT ? "client stdout" : "server stdout",
				   &side->proc.out);
			print_tail(out, who == WHO_CLIENT ? "client stderr" : "server stderr",
				   &side->proc.err);
		}
	}
	if (item->pcap_path != NULL) {
		if (filter != NULL)
			fprintf(out, "      look: wireshark -r %s -Y '%s'\n", item->pcap_path,
				filter);
		else
			fprintf(out, "      look: wireshark -r %s\n", item->pcap_path);
	}
}

void report_summary(FILE *out, const struct report_item *items, size_t n, double wall_s,
		    const struct report_opts *opts)
{
	size_t counts[REPORT_STATUS_COUNT] = { 0 };
	char inconclusive[48] = "";

	(void)opts;
	for (size_t i = 0; i < n; i++)
		counts[items[i].status]++;
	if (counts[REPORT_INCONCLUSIVE] > 0)
		snprintf(inconclusive, sizeof(inconclusive), ", %zu inconclusive",
			 counts[REPORT_INCONCLUSIVE]);
	fprintf(out, "%zu scenario%s: %zu passed, %zu failed%s, %zu errors (%.2f s)\n", n,
		n == 1 ? "" : "s", counts[REPORT_PASS], counts[REPORT_FAIL], inconclusive,
		counts[REPORT_ERROR], wall_s);
}
