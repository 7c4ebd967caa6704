/* report_json: the JSON report (see report_json.h and docs/report-formats.md).
 *
 * A small streaming writer keeps track of commas and indentation; the document
 * is pretty-printed with two spaces so that reports diff well. Key order is
 * fixed; absent values are null rather than missing keys, so that every
 * scenario object has the same shape. */
#include "lab/report/report_json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "lab/analysis/flow.h"
#include "lab/report/report_fmt.h"

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	int depth;
	bool has_items[JSON_MAX_DEPTH];
};

static void json_indent(struct json *j)
{
	putc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Any bytes as a JSON string: control characters escaped, what is not UTF-8
 * replaced by U+FFFD, so that the document is always valid (RFC 8259 §7). */
static void json_string_bytes(FILE *out, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;

	putc('"', out);
	while (i < len) {
		uint32_t cp;
		size_t used = report_fmt_utf8_next(s + i, len - i, &cp);

		i += used;
		switch (cp) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case REPORT_FMT_REPLACEMENT:
			fputs("\\ufffd", out);
			break;
		default:
			/* 0x7f and U+2028/2029 are legal in JSON but trip up
			 * terminals and JavaScript: escaped too. */
			if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029)
				fprintf(out, "\\u%04" PRIx32, cp);
			else
				report_fmt_put_utf8(out, cp);
		}
	}
	putc('"', out);
}

/* Before a value: the comma, the newline and indentation, and the key. */
static void json_key(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->has_items[j->depth])
			putc(',', j->out);
		j->has_items[j->depth] = true;
		json_indent(j);
	}
	if (key != NULL) {
		json_string_bytes(j->out, key, strlen(key));
		fputs(": ", j->out);
	}
}

static void json_open(struct json *j, const char *key, char bracket)
{
	json_key(j, key);
	putc(bracket, j->out);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void json_close(struct json *j, char bracket)
{
	bool had_items = j->has_items[j->depth];

	j->depth--;
	if (had_items)
		json_indent(j);
	putc(bracket, j->out);
}

static void json_object(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

static void json_end_object(struct json *j)
{
	json_close(j, '}');
}

static void json_array(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

static void json_end_array(struct json *j)
{
	json_close(j, ']');
}

static void json_strn(struct json *j, const char *key, const char *s, size_t len)
{
	json_key(j, key);
	json_string_bytes(j->out, s, len);
}

/* A string, or null for NULL. */
static void json_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s == NULL)
		fputs("null", j->out);
	else
		json_string_bytes(j->out, s, strlen(s));
}

static void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
}

static void json_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->out, "%" PRId64, v);
}

/* A time or count where a negative value means "never" or "unknown": null. */
static void json_int_or_null(struct json *j, const char *key, int64_t v)
{
	if (v < 0)
		json_null(j, key);
	else
		json_int(j, key, v);
}

static void json_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

static void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->out);
}

static void json_seconds(struct json *j, const char *key, double v)
{
	json_key(j, key);
	fprintf(j->out, "%.6f", v);
}

/* ---- flows ---------------------------------------------------------------------- */

static void write_flag_counts(struct json *j, const char *key, const uint64_t *counts)
{
	json_object(j, key);
	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		json_uint(j, flow_flag_name((enum flow_flag)f), counts[f]);
	json_end_object(j);
}

static void write_flow_dir(struct json *j, const char *key, const struct flow_dir_stats *d)
{
	json_object(j, key);
	json_uint(j, "packets", d->packets);
	json_uint(j, "data_bytes", d->data_bytes);
	json_uint(j, "payload_bytes", d->payload_bytes);
	json_uint(j, "data_segments", d->data_segments);
	json_uint(j, "min_payload_bytes", d->min_payload_bytes);
	json_uint(j, "max_payload_bytes", d->max_payload_bytes);
	json_bool(j, "syn", d->syn);
	json_bool(j, "fin", d->fin);
	json_bool(j, "rst", d->rst);
	json_int_or_null(j, "wscale", d->wscale);
	json_int_or_null(j, "mss", d->mss ? d->mss : -1);
	write_flag_counts(j, "analysis", d->flags);
	json_end_object(j);
}

static void write_flow_conn(struct json *j, const struct flow_conn *c)
{
	uint64_t counts[FLOW_FLAG_COUNT];

	for (int f = 0; f < FLOW_FLAG_COUNT; f++)
		counts[f] = flow_conn_flag_count(c, (enum flow_flag)f);
	json_object(j, NULL);
	json_uint(j, "id", c->id);
	json_str(j, "family", c->family == AF_INET6 ? "ipv6" : "ipv4");
	json_str(j, "client", c->client_str);
	json_str(j, "server", c->server_str);
	json_bool(j, "client_from_syn", c->client_from_syn);
	json_str(j, "handshake", flow_handshake_name(c->handshake));
	json_int_or_null(j, "rtt_us", c->rtt_us);
	json_str(j, "teardown", flow_teardown_name(c->teardown));
	if (c->teardown_dir < 0)
		json_null(j, "teardown_by");
	else
		json_str(j, "teardown_by", c->teardown_dir == FLOW_DIR_C2S ? "client" : "server");
	json_bool(j, "closed", c->closed);
	json_uint(j, "packets", c->packets);
	json_uint(j, "first_frame", c->first_frame);
	json_uint(j, "last_frame", c->last_frame);
	json_int(j, "first_time_us", c->first_time_us);
	json_int(j, "last_time_us", c->last_time_us);
	json_int(j, "duration_us", c->last_time_us - c->first_time_us);
	write_flow_dir(j, "client_to_server", &c->dir[FLOW_DIR_C2S]);
	write_flow_dir(j, "server_to_client", &c->dir[FLOW_DIR_S2C]);
	write_flag_counts(j, "analysis", counts);
	json_end_object(j);
}

/* The analyser's view of the capture; an unreadable capture is noted, since the
 * rest of the report is still worth having. */
static void write_flows_of(struct json *j, const char *pcap_path, const struct facts *facts,
			   const char *facts_error, int port)
{
	const struct flow_analysis *fa;
	const struct flow_totals *tot;

	if (pcap_path == NULL) {
		json_null(j, "flows");
		return;
	}
	json_object(j, "flows");
	if (facts == NULL) {
		json_str(j, "error", facts_error ? facts_error : "not analysed");
		json_end_object(j);
		return;
	}
	fa = facts_flows(facts);
	tot = flow_totals(fa);
	json_null(j, "error");
	json_int(j, "port", port);
	json_uint(j, "packets", tot->packets);
	json_uint(j, "tcp_packets", tot->tcp_packets);
	json_uint(j, "non_tcp", tot->non_tcp);
	json_uint(j, "malformed", tot->malformed);
	json_uint(j, "truncated", tot->truncated);
	json_uint(j, "filtered", tot->filtered);
	json_uint(j, "decapsulated", tot->decapsulated);
	json_uint(j, "tunnelled", tot->tunnelled);
	json_uint(j, "undecoded", tot->undecoded);
	json_str(j, "note", tot->file_note[0] ? tot->file_note : NULL);
	json_str(j, "decode_note", tot->decode_note[0] ? tot->decode_note : NULL);
	write_flag_counts(j, "analysis", tot->flags);
	json_array(j, "connections");
	for (size_t i = 0; i < flow_conn_count(fa); i++)
		write_flow_conn(j, flow_conn_at(fa, i));
	json_end_array(j);
	json_end_object(j);
}

static void write_flows(struct json *j, const struct report_item *item)
{
	write_flows_of(j, item->pcap_path, item->facts, item->facts_error, item->sc->port);
}

/* ---- programs ------------------------------------------------------------------- */

static void write_output(struct json *j, const char *key, const struct proc_output *o)
{
	json_object(j, key);
	json_strn(j, "text", o->data ? o->data : "", o->data ? o->len : 0);
	json_uint(j, "kept_bytes", o->data ? o->len : 0);
	json_uint(j, "total_bytes", o->total_bytes);
	json_bool(j, "truncated", o->total_bytes > o->len);
	json_end_object(j);
}

static void write_shim(struct json *j, const struct run_side *side)
{
	const struct shim_stats *st = &side->shim;

	if (!side->faulted) {
		json_null(j, "shim");
		return;
	}
	json_object(j, "shim");
	json_uint(j, "processes", st->processes);
	json_uint(j, "calls_intercepted", st->calls_intercepted);
	json_uint(j, "short_sends", st->short_sends);
	json_uint(j, "short_recvs", st->short_recvs);
	json_uint(j, "send_delays", st->send_delays);
	json_uint(j, "recv_delays", st->recv_delays);
	json_uint(j, "errors_injected", st->errors_injected);
	json_uint(j, "resets_done", st->resets_done);
	json_uint(j, "early_closes", st->early_closes);
	json_uint(j, "buffers_set", st->buffers_set);
	json_uint(j, "bytes_sent", st->bytes_sent);
	json_uint(j, "bytes_received", st->bytes_received);
	json_end_object(j);
}

static void write_program(struct json *j, const char *key, const struct scenario_program *prog,
			  const struct run_record *rec, enum scenario_who who)
{
	const struct run_side *side = rec ? &rec->side[who] : NULL;
	const struct proc *p = side ? &side->proc : NULL;
	char sig[32];

	if (prog->command == NULL) {
		json_null(j, key);
		return;
	}
	json_object(j, key);
	json_str(j, "command", prog->command);
	json_int(j, "line", prog->line);
	json_bool(j, "started", side != NULL && side->started);
	if (side == NULL || !side->started) {
		json_null(j, "exit_code");
		json_null(j, "signal");
		json_null(j, "signal_name");
		json_bool(j, "stopped_by_lab", false);
		json_null(j, "duration_us");
		json_null(j, "stdout");
		json_null(j, "stderr");
		json_bool(j, "faulted", side != NULL && side->faulted);
		json_null(j, "shim");
		json_end_object(j);
		return;
	}
	if (p->exited)
		json_int(j, "exit_code", p->exit_code);
	else
		json_null(j, "exit_code");
	if (p->signaled) {
		json_int(j, "signal", p->signal);
		json_str(j, "signal_name", report_fmt_signal_name(p->signal, sig, sizeof(sig)));
	} else {
		json_null(j, "signal");
		json_null(j, "signal_name");
	}
	json_bool(j, "stopped_by_lab", side->stopped_by_lab);
	if (!p->running && p->end_us >= p->start_us)
		json_int(j, "duration_us", p->end_us - p->start_us);
	else
		json_null(j, "duration_us");
	write_output(j, "stdout", &p->out);
	write_output(j, "stderr", &p->err);
	json_bool(j, "faulted", side->faulted);
	write_shim(j, side);
	json_end_object(j);
}

/* ---- one scenario --------------------------------------------------------------- */

/* What the wire did, per direction; null for a run on lo. */
static void write_link(struct json *j, const struct run_link *l)
{
	static const char *const dirs[2] = { "client_to_server", "server_to_client" };

	if (!l->used) {
		json_null(j, "link");
		return;
	}
	json_object(j, "link");
	json_uint(j, "seed", l->seed);
	json_str(j, "server_pcap", l->server_pcap_path);
	for (int d = 0; d < 2; d++) {
		json_object(j, dirs[d]);
		json_uint(j, "packets", l->packets[d]);
		json_uint(j, "delivered", l->delivered[d]);
		json_object(j, "dropped");
		for (int k = 0; k < LINK_DROP_KINDS; k++)
			json_uint(j, scenario_link_drop_name((enum scenario_link_drop)k),
				  l->dropped[d][k]);
		json_end_object(j);
		json_uint(j, "duplicated", l->duplicated[d]);
		json_uint(j, "reordered", l->reordered[d]);
		json_uint(j, "corrupted", l->corrupted[d]);
		json_uint(j, "delayed", l->delayed[d]);
		json_uint(j, "pending_at_stop", l->pending_at_stop[d]);
		json_uint(j, "kernel_drops", l->kernel_drops[d]);
		json_end_object(j);
	}
	json_end_object(j);
}

static void write_watch(struct json *j, const struct run_record *rec)
{
	json_object(j, "watch");
	json_int_or_null(j, "listening_us", rec->listening_us);
	json_int_or_null(j, "last_progress_us", rec->last_progress_us);
	json_int_or_null(j, "verdict_us", rec->verdict_us);
	json_object(j, "bytes");
	json_uint(j, "client_to_server", rec->stall_bytes[0]);
	json_uint(j, "server_to_client", rec->stall_bytes[1]);
	json_end_object(j);
	json_object(j, "send_queue_bytes");
	json_uint(j, "client", rec->stall_queued[0]);
	json_uint(j, "server", rec->stall_queued[1]);
	json_end_object(j);
	json_str(j, "text", rec->stall_text[0] ? rec->stall_text : NULL);
	/* The sockets over the run, one sample per liveness sample kept. */
	json_uint(j, "samples_stride", rec->queue_stride ? rec->queue_stride : 1);
	json_array(j, "samples");
	for (size_t i = 0; rec->queue_samples != NULL && i < rec->n_queue_samples; i++) {
		const struct run_queue_sample *q = &rec->queue_samples[i];

		json_object(j, NULL);
		json_int(j, "at_us", q->at_us);
		json_uint(j, "client_send_queue", q->send_queue_bytes[WHO_CLIENT]);
		json_uint(j, "client_recv_queue", q->recv_queue_bytes[WHO_CLIENT]);
		json_uint(j, "server_send_queue", q->send_queue_bytes[WHO_SERVER]);
		json_uint(j, "server_recv_queue", q->recv_queue_bytes[WHO_SERVER]);
		json_uint(j, "client_to_server", q->bytes[0]);
		json_uint(j, "server_to_client", q->bytes[1]);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

static const char *verdict_state(const struct verdict *v)
{
	return v->held ? "held" : v->inconclusive ? "inconclusive" : "failed";
}

static void write_verdict(struct json *j, const struct scenario *sc, const struct verdict *v)
{
	json_object(j, NULL);
	json_str(j, "file", sc->path);
	json_int(j, "line", v->line);
	json_int(j, "col", v->col);
	json_str(j, "source", v->source);
	json_bool(j, "held", v->held);
	json_str(j, "state", verdict_state(v));
	json_str(j, "text", v->text);
	json_end_object(j);
}

static void write_verdicts(struct json *j, const struct report_item *item)
{
	const struct scenario *sc = item->sc;

	json_array(j, "verdicts");
	for (size_t i = 0; item->verdicts != NULL && i < sc->n_expects; i++)
		write_verdict(j, sc, &item->verdicts[i]);
	json_end_array(j);
	json_array(j, "faults");
	for (size_t i = 0; i < item->n_fault_verdicts; i++)
		write_verdict(j, sc, &item->fault_verdicts[i]);
	json_end_array(j);
}

static void write_scenario(struct json *j, const struct report_item *item)
{
	const struct scenario *sc = item->sc;
	const struct run_record *rec = item->rec;

	json_object(j, NULL);
	json_str(j, "name", sc->name);
	json_str(j, "path", sc->path);
	json_str(j, "summary", sc->summary);
	json_str(j, "status", report_fmt_status_name(item->status));
	json_str(j, "error", item->status == REPORT_ERROR ? item->error : NULL);
	if (rec != NULL) {
		json_int(j, "duration_us", rec->duration_us);
		json_str(j, "outcome", scenario_outcome_name(rec->outcome));
	} else {
		json_null(j, "duration_us");
		json_null(j, "outcome");
	}
	json_str(j, "pcap", item->pcap_path);
	if (rec != NULL) {
		json_object(j, "capture");
		json_uint(j, "packets", rec->capture.packets);
		json_uint(j, "kernel_drops", rec->capture.kernel_drops);
		json_uint(j, "ifdrops", rec->capture.ifdrops);
		json_uint(j, "headers_only", rec->capture.headers_only);
		json_uint(j, "payload_budget_bytes", rec->capture.payload_budget_bytes);
		json_int(j, "cpu_us", rec->capture.cpu_us);
		json_int_or_null(j, "lab_stop_us", rec->stop_us);
		json_uint(j, "after_lab_stop", item->facts ? facts_after_until(item->facts) : 0);
		json_end_object(j);
		write_link(j, &rec->link);
		write_watch(j, rec);
		json_array(j, "events");
		for (int i = 0; i < rec->n_events && i < RUN_MAX_EVENTS; i++) {
			json_object(j, NULL);
			json_int(j, "at_us", rec->events[i].at_us);
			json_str(j, "kind", report_fmt_event_name(rec->events[i].kind));
			json_str(j, "text", rec->events[i].text);
			json_end_object(j);
		}
		json_end_array(j);
	} else {
		json_null(j, "capture");
		json_null(j, "link");
		json_null(j, "watch");
		json_array(j, "events");
		json_end_array(j);
	}
	json_object(j, "programs");
	write_program(j, "server", &sc->server, rec, WHO_SERVER);
	write_program(j, "client", &sc->client, rec, WHO_CLIENT);
	json_end_object(j);
	write_verdicts(j, item);
	write_flows(j, item);
	json_end_object(j);
}

int report_json_write_stream(FILE *out, const struct report_item *items, size_t n, double wall_s,
			     struct lab_err *err)
{
	struct json j = { .out = out };
	size_t counts[REPORT_STATUS_COUNT] = { 0 };

	for (size_t i = 0; i < n; i++)
		counts[items[i].status < REPORT_STATUS_COUNT ? items[i].status : REPORT_ERROR]++;
	json_object(&j, NULL);
	json_str(&j, "schema", REPORT_JSON_SCHEMA);
	json_str(&j, "generator", "tcplab");
	json_seconds(&j, "wall_s", wall_s);
	json_object(&j, "totals");
	json_uint(&j, "scenarios", n);
	json_uint(&j, "passed", counts[REPORT_PASS]);
	json_uint(&j, "failed", counts[REPORT_FAIL]);
	json_uint(&j, "inconclusive", counts[REPORT_INCONCLUSIVE]);
	json_uint(&j, "errors", counts[REPORT_ERROR]);
	json_end_object(&j);
	json_array(&j, "scenarios");
	for (size_t i = 0; i < n; i++)
		write_scenario(&j, &items[i]);
	json_end_array(&j);
	json_end_object(&j);
	putc('\n', out);
	if (ferror(out))
		return lab_err_set(err, "JSON report: write error");
	return 0;
}

int report_json_write(const char *path, const struct report_item *items, size_t n, double wall_s,
		      struct lab_err *err)
{
	struct report_file f;

	if (report_fmt_open(&f, path, err) < 0)
		return -1;
	if (report_json_write_stream(f.out, items, n, wall_s, err) < 0) {
		report_fmt_abort(&f);
		return -1;
	}
	return report_fmt_commit(&f, err);
}

int report_json_write_analysis(FILE *out, const struct report_item *item, int port,
			       struct lab_err *err)
{
	struct json j = { .out = out };

	json_object(&j, NULL);
	json_str(&j, "schema", REPORT_JSON_ANALYSIS_SCHEMA);
	json_str(&j, "generator", "tcplab");
	json_str(&j, "pcap", item->pcap_path);
	if (item->sc != NULL) {
		json_str(&j, "status", report_fmt_status_name(item->status));
		write_verdicts(&j, item);
	} else {
		json_null(&j, "status");
		json_null(&j, "verdicts");
	}
	write_flows_of(&j, item->pcap_path, item->facts, item->facts_error, port);
	json_end_object(&j);
	putc('\n', out);
	if (ferror(out))
		return lab_err_set(err, "JSON: write error");
	return 0;
}
