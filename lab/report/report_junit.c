/* report_junit: the JUnit XML report (see report_junit.h).
 *
 * The shape follows what the common readers accept (Jenkins' junit plugin,
 * GitLab's unit test reports, GitHub actions that publish test results):
 * <testsuites> with one <testsuite name="tcplab">, counts on both, and per
 * testcase <properties>, <failure> or <error>, then <system-out>. Every text goes
 * through one escaper that also drops what XML 1.0 does not allow (§2.2: most
 * C0 controls, U+FFFE, U+FFFF) and turns bytes that are not UTF-8 into U+FFFD. */
#include "lab/report/report_junit.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/report/report_fmt.h"

/* Each stream of each program: at most its last this many bytes in system-out. */
#define JUNIT_OUTPUT_TAIL_BYTES (64 * 1024)

/* XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
 * [#x10000-#x10FFFF] (surrogates never come out of the decoder). */
static bool xml_char_allowed(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x9 || cp == 0xA || cp == 0xD;
	return cp != 0xFFFE && cp != 0xFFFF;
}

/* Text content (attr false) or an attribute value in double quotes (attr true):
 * in attributes newlines and tabs are character references, or parsers would
 * normalize them to spaces (§3.3.3). */
static void xml_bytes(FILE *out, const char *data, size_t len, bool attr)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;

		i += report_fmt_utf8_next(s + i, len - i, &cp);
		if (!xml_char_allowed(cp))
			cp = REPORT_FMT_REPLACEMENT;
		switch (cp) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs(attr ? "&quot;" : "\"", out);
			break;
		case '\'':
			fputs(attr ? "&apos;" : "'", out);
			break;
		case '\r':
			fputs("&#13;", out);
			break;
		case '\n':
			fputs(attr ? "&#10;" : "\n", out);
			break;
		case '\t':
			fputs(attr ? "&#9;" : "\t", out);
			break;
		default:
			report_fmt_put_utf8(out, cp);
		}
	}
}

static void xml_text(FILE *out, const char *s)
{
	xml_bytes(out, s, strlen(s), false);
}

static void xml_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_bytes(out, value, strlen(value), true);
	putc('"', out);
}

void report_junit_classname(const char *scenario_path, char *buf, size_t len)
{
	const char *slash = strrchr(scenario_path, '/');
	const char *dir_end = slash, *dir = scenario_path;
	size_t used;

	snprintf(buf, len, "tcplab");
	if (slash == NULL)
		return;
	while (dir_end > scenario_path && dir_end[-1] == '/')
		dir_end--;
	for (const char *p = scenario_path; p < dir_end; p++)
		if (*p == '/')
			dir = p + 1;
	if (dir_end == dir || (dir_end - dir == 1 && dir[0] == '.'))
		return;
	used = strlen(buf);
	if (used + 1 < len)
		buf[used++] = '.';
	for (const char *p = dir; p < dir_end && used + 1 < len; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-';

		buf[used++] = ok ? c : '_';
	}
	buf[used] = '\0';
}

static double item_seconds(const struct report_item *item)
{
	return item->rec ? (double)item->rec->duration_us / 1e6 : 0.0;
}

static void write_properties(FILE *out, const struct report_item *item, const char *pcap_abs)
{
	fputs("      <properties>\n", out);
	fputs("        <property name=\"scenario\"", out);
	xml_attr(out, "value", item->sc->path);
	fputs("/>\n        <property name=\"summary\"", out);
	xml_attr(out, "value", item->sc->summary);
	fputs("/>\n", out);
	if (item->rec != NULL) {
		fputs("        <property name=\"outcome\"", out);
		xml_attr(out, "value", scenario_outcome_name(item->rec->outcome));
		fputs("/>\n", out);
	}
	if (pcap_abs != NULL) {
		fputs("        <property name=\"pcap\"", out);
		xml_attr(out, "value", pcap_abs);
		fputs("/>\n", out);
	}
	fputs("      </properties>\n", out);
}

/* The i-th verdict of item: its expectations', then its fault lines'. */
static const struct verdict *verdict_at(const struct report_item *item, size_t i)
{
	size_t n_expects = item->verdicts != NULL ? item->sc->n_expects : 0;

	return i < n_expects ? &item->verdicts[i] : &item->fault_verdicts[i - n_expects];
}

static size_t verdict_count(const struct report_item *item)
{
	return (item->verdicts != NULL ? item->sc->n_expects : 0) + item->n_fault_verdicts;
}

/* A <failure> for the verdicts that failed, or (when none failed) an <error> of
 * type "inconclusive" for those the lab could not know: CI must not read an
 * unknowable verdict as a pass, and it is not a failure of the code under test. */
static void write_failure(FILE *out, const struct report_item *item)
{
	const struct scenario *sc = item->sc;
	const struct verdict *first = NULL;
	bool inconclusive = item->status == REPORT_INCONCLUSIVE;
	size_t failed = 0;
	char message[2048];

	for (size_t i = 0; i < verdict_count(item); i++) {
		const struct verdict *v = verdict_at(item, i);

		if (v->held || v->inconclusive != inconclusive)
			continue;
		if (first == NULL)
			first = v;
		failed++;
	}
	if (first == NULL)
		return;
	snprintf(message, sizeof(message), "%s:%d: %s: %s%s", sc->path, first->line, first->source,
		 first->text, failed > 1 ? " (and more)" : "");
	fputs(inconclusive ? "      <error" : "      <failure", out);
	xml_attr(out, "message", message);
	xml_attr(out, "type", inconclusive ? "inconclusive" : "expectation");
	fputs(">", out);
	fprintf(out, "%zu of %zu %s %s:\n", failed, verdict_count(item),
		item->n_fault_verdicts > 0 ? "expectations and fault lines" : "expectations",
		inconclusive ? "inconclusive" : "failed");
	for (size_t i = 0; i < verdict_count(item); i++) {
		const struct verdict *v = verdict_at(item, i);
		char line[64];

		if (v->held || v->inconclusive != inconclusive)
			continue;
		xml_text(out, sc->path);
		snprintf(line, sizeof(line), ":%d: ", v->line);
		fputs(line, out);
		xml_text(out, v->source);
		fputs("\n    ", out);
		xml_text(out, v->text);
		fputs("\n", out);
	}
	fputs(inconclusive ? "</error>\n" : "</failure>\n", out);
}

/* The last JUNIT_OUTPUT_TAIL_BYTES of one stream. */
static void write_stream(FILE *out, const char *label, const struct proc_output *o)
{
	size_t len = o->data ? o->len : 0;
	size_t skip = len > JUNIT_OUTPUT_TAIL_BYTES ? len - JUNIT_OUTPUT_TAIL_BYTES : 0;

	fprintf(out, "--- %s (%llu bytes", label, (unsigned long long)o->total_bytes);
	if (o->total_bytes > len - skip)
		fprintf(out, ", the last %zu shown", len - skip);
	fputs(")\n", out);
	if (len == 0)
		return;
	xml_bytes(out, o->data + skip, len - skip, false);
	if (o->data[len - 1] != '\n')
		putc('\n', out);
}

static void write_program(FILE *out, const char *who, const struct scenario_program *prog,
			  const struct run_side *side)
{
	char how[96], sig[32];

	if (prog->command == NULL)
		return;
	if (side == NULL || !side->started)
		snprintf(how, sizeof(how), "not started");
	else if (side->proc.exited)
		snprintf(how, sizeof(how), "exit %d%s", side->proc.exit_code,
			 side->stopped_by_lab ? ", stopped by the lab" : "");
	else if (side->proc.signaled)
		snprintf(how, sizeof(how), "killed by %s%s",
			 report_fmt_signal_name(side->proc.signal, sig, sizeof(sig)),
			 side->stopped_by_lab ? ", stopped by the lab" : "");
	else
		snprintf(how, sizeof(how), "still running");
	fprintf(out, "=== %s: ", who);
	xml_text(out, prog->command);
	fprintf(out, " (%s)\n", how);
	if (side == NULL || !side->started)
		return;
	write_stream(out, "stdout", &side->proc.out);
	write_stream(out, "stderr", &side->proc.err);
}

static void write_system_out(FILE *out, const struct report_item *item, const char *pcap_abs)
{
	const struct run_record *rec = item->rec;

	fputs("      <system-out>", out);
	xml_text(out, item->sc->summary);
	fputs("\n", out);
	if (rec != NULL) {
		fprintf(out, "outcome: %s after %.3f s\n", scenario_outcome_name(rec->outcome),
			(double)rec->duration_us / 1e6);
		if (rec->stall_text[0] != '\0') {
			fputs("watch: ", out);
			xml_text(out, rec->stall_text);
			fputs("\n", out);
		}
		for (int i = 0; i < rec->n_events && i < RUN_MAX_EVENTS; i++) {
			fprintf(out, "%10.6f s  %-12s ", (double)rec->events[i].at_us / 1e6,
				report_fmt_event_name(rec->events[i].kind));
			xml_text(out, rec->events[i].text);
			fputs("\n", out);
		}
	}
	write_program(out, "server", &item->sc->server, rec ? &rec->side[WHO_SERVER] : NULL);
	write_program(out, "client", &item->sc->client, rec ? &rec->side[WHO_CLIENT] : NULL);
	if (pcap_abs != NULL) {
		fputs("capture: ", out);
		xml_text(out, pcap_abs);
		/* Jenkins' attachments plugin: a line of its own. */
		fputs("\n[[ATTACHMENT|", out);
		xml_text(out, pcap_abs);
		fputs("]]\n", out);
	}
	fputs("</system-out>\n", out);
}

static void write_testcase(FILE *out, const struct report_item *item)
{
	char classname[512], seconds[32];
	char pcap_buf[PATH_MAX];
	const char *pcap_abs = NULL;

	if (item->pcap_path != NULL)
		pcap_abs = realpath(item->pcap_path, pcap_buf) ? pcap_buf : item->pcap_path;
	report_junit_classname(item->sc->path, classname, sizeof(classname));
	snprintf(seconds, sizeof(seconds), "%.3f", item_seconds(item));
	fputs("    <testcase", out);
	xml_attr(out, "classname", classname);
	xml_attr(out, "name", item->sc->name);
	xml_attr(out, "file", item->sc->path);
	xml_attr(out, "time", seconds);
	fputs(">\n", out);
	write_properties(out, item, pcap_abs);
	if (item->status == REPORT_ERROR) {
		fputs("      <error", out);
		xml_attr(out, "message", item->error);
		xml_attr(out, "type", "lab");
		fputs(">", out);
		xml_text(out, item->error);
		fputs("</error>\n", out);
	} else if ((item->status == REPORT_FAIL || item->status == REPORT_INCONCLUSIVE) &&
		   item->verdicts != NULL) {
		write_failure(out, item);
	}
	write_system_out(out, item, pcap_abs);
	fputs("    </testcase>\n", out);
}

int report_junit_write_stream(FILE *out, const struct report_item *items, size_t n, double wall_s,
			      struct lab_err *err)
{
	size_t counts[REPORT_STATUS_COUNT] = { 0 };
	char timestamp[32], head[256];
	time_t now = time(NULL);
	struct tm tm;

	for (size_t i = 0; i < n; i++)
		counts[items[i].status < REPORT_STATUS_COUNT ? items[i].status : REPORT_ERROR]++;
	strftime(timestamp, sizeof(timestamp), "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
	snprintf(head, sizeof(head), "tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\"",
		 n, counts[REPORT_FAIL], counts[REPORT_ERROR] + counts[REPORT_INCONCLUSIVE], wall_s);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"tcplab\" %s>\n", head);
	fprintf(out, "  <testsuite name=\"tcplab\" %s skipped=\"0\" timestamp=\"%s\">\n", head,
		timestamp);
	for (size_t i = 0; i < n; i++)
		write_testcase(out, &items[i]);
	fputs("  </testsuite>\n</testsuites>\n", out);
	if (ferror(out))
		return lab_err_set(err, "JUnit report: write error");
	return 0;
}

int report_junit_write(const char *path, const struct report_item *items, size_t n, double wall_s,
		       struct lab_err *err)
{
	struct report_file f;

	if (report_fmt_open(&f, path, err) < 0)
		return -1;
	if (report_junit_write_stream(f.out, items, n, wall_s, err) < 0) {
		report_fmt_abort(&f);
		return -1;
	}
	return report_fmt_commit(&f, err);
}
