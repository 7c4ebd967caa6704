/* expect: verdicts on a scenario's expectations (see expect.h). */
#include "lab/verdict/expect.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/analysis/facts.h"
#include "lab/analysis/flow.h"

/* "", "!= ", "<= " ...: how an operator reads before a number ("expected 16 bytes"). */
static const char *op_words(enum scenario_op op)
{
	switch (op) {
	case OP_EQ:
		return "";
	case OP_NE:
		return "other than ";
	case OP_LT:
		return "fewer than ";
	case OP_LE:
		return "at most ";
	case OP_GT:
		return "more than ";
	default:
		return "at least ";
	}
}

__attribute__((format(printf, 2, 3))) static void say(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->text, sizeof(v->text), fmt, ap);
	va_end(ap);
}

/* ---- expectations about the programs ---------------------------------------- */

/* "exited with status 1", "was killed by signal 9 (Killed) after the lab stopped it" */
static void describe_end(const struct run_side *side, char *buf, size_t len)
{
	const struct proc *p = &side->proc;

	if (!side->started)
		snprintf(buf, len, "never started");
	else if (p->exited)
		snprintf(buf, len, "exited with status %d", p->exit_code);
	else if (p->signaled)
		snprintf(buf, len, "was killed by signal %d (%s)%s", p->signal,
			 (sigdescr_np(p->signal) ? sigdescr_np(p->signal) : "unknown signal"),
			 side->stopped_by_lab ? " when the lab stopped it" : "");
	else
		snprintf(buf, len, "ended in an unknown way");
}

/* text on one line, quoted, control characters escaped; only its last tail_max
 * bytes when it is longer ("..." before them). */
static void quote(const char *text, size_t tail_max, char *buf, size_t len)
{
	size_t n = strlen(text);
	size_t start = n > tail_max ? n - tail_max : 0;
	size_t w = 0;

	buf[w++] = '"';
	if (start > 0)
		w += (size_t)snprintf(buf + w, len - w, "...");
	for (size_t i = start; i < n && w + 4 < len; i++) {
		char c = text[i];

		if (c == '\n' || c == '\r' || c == '\t') {
			buf[w++] = '\\';
			buf[w++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			buf[w++] = (c >= 32 && c < 127) ? c : '?';
		}
	}
	buf[w++] = '"';
	buf[w] = '\0';
}

/* The end of a program's output, for "it said ..." */
static void quote_output(const struct proc_output *o, char *buf, size_t len)
{
	if (o->data == NULL || o->data[0] == '\0') {
		snprintf(buf, len, "nothing");
	} else if (o->total_bytes > o->len) {
		int used = snprintf(buf, len, "%" PRIu64 " bytes; the first %zu, kept, end with ",
				    o->total_bytes, o->len);

		if (used > 0 && (size_t)used < len)
			quote(o->data, 80, buf + used, len - (size_t)used);
	} else {
		quote(o->data, 120, buf, len);
	}
}

/* The streaming search of TEXT in this stream, when the runner kept one. */
static const struct proc_watch *watch_of(const struct proc_output *o, const char *text)
{
	for (size_t i = 0; i < o->n_watches; i++)
		if (o->watches[i].text == text || strcmp(o->watches[i].text, text) == 0)
			return &o->watches[i];
	return NULL;
}

static void judge_output(const struct expectation *e, const struct run_side *side,
			 struct verdict *v)
{
	const struct proc_output *o =
		e->stream == STREAM_STDOUT ? &side->proc.out : &side->proc.err;
	const char *stream = e->stream == STREAM_STDOUT ? "stdout" : "stderr";
	const char *who = scenario_who_name(e->who);
	const char *text = o->data ? o->data : "";
	bool cut = o->total_bytes > o->len; /* more came than was kept */
	const struct proc_watch *w = e->regex ? NULL : watch_of(o, e->text);
	bool found;
	char quoted[200];
	char wanted[200];
	char whole[96] = "";

	if (e->regex) {
		regex_t re;

		if (regcomp(&re, e->text, REG_EXTENDED | REG_NOSUB) != 0) {
			say(v, "the pattern \"%s\" does not compile", e->text);
			return;
		}
		/* On a cut output `$` must not match where the kept part ends: a
		 * match in the kept part is then a match in the whole output. */
		found = regexec(&re, text, 0, NULL, cut ? REG_NOTEOL : 0) == 0;
		regfree(&re);
	} else if (w != NULL) {
		found = w->found; /* searched on the whole stream as it flowed */
	} else {
		found = strstr(text, e->text) != NULL;
	}
	quote_output(o, quoted, sizeof(quoted));
	quote(e->text, 160, wanted, sizeof(wanted));
	if (cut && !found && (e->regex || w == NULL)) {
		/* The rest of the output was counted, not kept: a pattern may match
		 * there. */
		v->held = false;
		v->inconclusive = true;
		say(v,
		    "inconclusive: expected %s %s %s%s %s; the first %zu of its %" PRIu64
		    " bytes do not %s, and the rest was not kept (%s)",
		    who, stream, e->negate ? "not to " : "to ", e->regex ? "match" : "contain",
		    wanted, o->len, o->total_bytes, e->regex ? "match" : "contain it",
		    e->regex ? "a pattern is matched on the kept output only"
			     : "the output was not searched as it flowed");
		return;
	}
	if (cut && w != NULL)
		snprintf(whole, sizeof(whole), " (all %" PRIu64 " bytes searched as they came)",
			 o->total_bytes);
	v->held = found != e->negate;
	say(v, "expected %s %s %s%s %s; %s%s (%s said %s)", who, stream,
	    e->negate ? "not to " : "to ", e->regex ? "match" : "contain", wanted,
	    found ? "it does" : "it does not", e->regex ? "" : whole, stream, quoted);
}

static void judge_program(const struct expectation *e, const struct run_record *rec,
			  struct verdict *v)
{
	const struct run_side *side = &rec->side[e->who];
	const char *who = scenario_who_name(e->who);
	char end[160];

	describe_end(side, end, sizeof(end));
	switch (e->kind) {
	case EXPECT_EXIT:
		v->held = side->proc.exited &&
			  scenario_op_holds(e->op, side->proc.exit_code, e->value);
		if (e->op == OP_EQ || e->op == OP_NE)
			say(v, "expected %s to exit with status %s%" PRId64 "; it %s", who,
			    e->op == OP_EQ ? "" : "other than ", e->value, end);
		else
			say(v, "expected %s to exit with status %s %" PRId64 "; it %s", who,
			    scenario_op_text(e->op), e->value, end);
		break;
	case EXPECT_KILLED:
		v->held = side->proc.signaled;
		say(v, "expected %s to be killed by a signal; it %s", who, end);
		break;
	case EXPECT_SIGNAL:
		v->held = side->proc.signaled && side->proc.signal == e->value;
		say(v, "expected %s to be killed by signal %" PRId64 " (%s); it %s", who, e->value,
		    (sigdescr_np((int)e->value) ? sigdescr_np((int)e->value) : "unknown signal"),
		    end);
		break;
	default:
		judge_output(e, side, v);
		break;
	}
}

static void judge_run(const struct expectation *e, const struct run_record *rec, struct verdict *v)
{
	const char *seen = scenario_outcome_name(rec->outcome);

	switch (e->kind) {
	case EXPECT_OUTCOME:
		v->held = rec->outcome == (enum scenario_outcome)e->value;
		if (rec->outcome == OUTCOME_DEADLOCK || rec->stall_text[0] != '\0')
			say(v, "expected outcome %s; saw %s (%s)",
			    scenario_outcome_name((enum scenario_outcome)e->value), seen,
			    rec->stall_text);
		else
			say(v, "expected outcome %s; saw %s",
			    scenario_outcome_name((enum scenario_outcome)e->value), seen);
		break;
	case EXPECT_DEADLOCK_WITHIN:
		/* The lab's reaction time: from the last byte that moved to the verdict.
		 * Measured from the start it would also count how fast a loaded machine
		 * ran the programs up to the deadlock, which is not the lab's doing. */
		if (rec->outcome == OUTCOME_DEADLOCK) {
			int64_t reaction_us = rec->verdict_us - rec->last_progress_us;

			v->held = reaction_us <= e->value;
			say(v,
			    "expected the deadlock verdict within %" PRId64
			    " ms of the last progress; it came %" PRId64 " ms after it (last "
			    "progress at %" PRId64 " ms, verdict at %" PRId64 " ms)",
			    e->value / 1000, reaction_us / 1000, rec->last_progress_us / 1000,
			    rec->verdict_us / 1000);
		} else {
			v->held = false;
			say(v, "expected a deadlock within %" PRId64 " ms; saw outcome %s",
			    e->value / 1000, seen);
		}
		break;
	case EXPECT_LINK_DROPPED: {
		uint64_t seen = 0;
		const char *kind = e->link_kind < 0 ? "" : scenario_link_drop_name(e->link_kind);

		if (!rec->link.used) {
			v->held = false;
			say(v,
			    "expected the link to drop %s%" PRId64 " packets; the run had no link",
			    op_words(e->op), e->value);
			break;
		}
		for (int d = 0; d < 2; d++)
			for (int k = 0; k < LINK_DROP_KINDS; k++)
				if (e->link_kind < 0 || k == e->link_kind)
					seen += rec->link.dropped[d][k];
		v->held = scenario_op_holds(e->op, (int64_t)seen, e->value);
		say(v,
		    "expected the link to drop %s%" PRId64 " packets%s%s; it dropped %" PRIu64
		    " (%" PRIu64 " client->server, %" PRIu64
		    " server->client of every kind; seed %" PRIu64 ")",
		    op_words(e->op), e->value, kind[0] ? " for " : "", kind, seen,
		    rec->link.dropped[0][0] + rec->link.dropped[0][1] + rec->link.dropped[0][2] +
			    rec->link.dropped[0][3] + rec->link.dropped[0][4] +
			    rec->link.dropped[0][5],
		    rec->link.dropped[1][0] + rec->link.dropped[1][1] + rec->link.dropped[1][2] +
			    rec->link.dropped[1][3] + rec->link.dropped[1][4] +
			    rec->link.dropped[1][5],
		    rec->link.seed);
		break;
	}
	default: /* EXPECT_DURATION */
		v->held = scenario_op_holds(e->op, rec->duration_us, e->value);
		say(v, "expected the run to last %s%" PRId64 " ms; it lasted %" PRId64 " ms",
		    op_words(e->op), e->value / 1000, rec->duration_us / 1000);
		break;
	}
}

bool expect_needs_run(const struct expectation *exp)
{
	switch (exp->kind) {
	case EXPECT_EXIT:
	case EXPECT_KILLED:
	case EXPECT_SIGNAL:
	case EXPECT_OUTPUT:
	case EXPECT_OUTCOME:
	case EXPECT_DEADLOCK_WITHIN:
	case EXPECT_DURATION:
	case EXPECT_LINK_DROPPED:
		return true;
	default:
		return false;
	}
}

/* ---- packets: libpcap's BPF over the capture -------------------------------- */

int expect_validate(const struct scenario *sc, struct lab_err *err)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	int rc = 0;

	if (dead == NULL)
		return lab_err_set(err, "libpcap: cannot make a filter compiler");
	for (size_t i = 0; i < sc->n_expects && rc == 0; i++) {
		const struct expectation *e = &sc->expects[i];
		struct bpf_program prog;

		if (e->kind != EXPECT_PACKETS)
			continue;
		if (pcap_compile(dead, &prog, e->text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			rc = lab_err_set(err, "%s:%d:%d: bad packet filter \"%s\": %s", sc->path,
					 e->line, e->col, e->text, pcap_geterr(dead));
			continue;
		}
		pcap_freecode(&prog);
	}
	pcap_close(dead);
	return rc;
}

/* ---- expectations about the capture: the flow analyser ------------------------ */

/* `expect analysis FLAG` takes the scenario's words; they are flow.h's Wireshark
 * flags in the same order (checked here at compile time for the count and by
 * expect_test for the names). */
_Static_assert((int)SCENARIO_ANALYSIS_FLAGS == (int)FLOW_FLAG_WIRESHARK_COUNT,
	       "scenario_analysis_flag_words and enum flow_flag's Wireshark flags differ");

/* What the analysis stage found, seen from the scenario. */
struct flow_facts {
	const struct scenario *sc;
	const struct flow_analysis *fa;
	const struct facts *facts;
	size_t n_conns; /* connections to the port */
};

static const struct flow_conn *conn_at(const struct flow_facts *f, size_t i)
{
	return flow_conn_at(f->fa, i);
}

/* Port 0 (`tcplab check --expect` without --port): every connection counts. */
static bool is_to_port(const struct flow_facts *f, const struct flow_conn *c)
{
	return f->sc->port == 0 || c->server_port == f->sc->port;
}

static enum scenario_handshake handshake_of(const struct flow_conn *c)
{
	switch (c->handshake) {
	case FLOW_HANDSHAKE_COMPLETE:
		return HANDSHAKE_COMPLETE;
	case FLOW_HANDSHAKE_REFUSED:
		return HANDSHAKE_REFUSED;
	case FLOW_HANDSHAKE_UNANSWERED:
	case FLOW_HANDSHAKE_INCOMPLETE:
		return HANDSHAKE_UNANSWERED;
	default:
		return HANDSHAKE_NONE;
	}
}

static enum scenario_teardown teardown_of(const struct flow_conn *c)
{
	return c->teardown == FLOW_TEARDOWN_FIN     ? TEARDOWN_FIN
	       : c->teardown == FLOW_TEARDOWN_RESET ? TEARDOWN_RESET
						    : TEARDOWN_NONE;
}

/* handshake and teardown: every connection to the port must be as expected. */
static void judge_connections(const struct flow_facts *f, const struct expectation *e,
			      struct verdict *v)
{
	bool handshake = e->kind == EXPECT_HANDSHAKE;
	const char *what = handshake ? "handshake" : "teardown";
	const char *want = handshake ? scenario_handshake_name((enum scenario_handshake)e->value)
				     : scenario_teardown_name((enum scenario_teardown)e->value);
	size_t n = 0;
	size_t matching = 0;
	const struct flow_conn *odd = NULL;

	for (size_t i = 0; i < flow_conn_count(f->fa); i++) {
		const struct flow_conn *c = conn_at(f, i);
		int seen;

		if (!is_to_port(f, c))
			continue;
		n++;
		seen = handshake ? (int)handshake_of(c) : (int)teardown_of(c);
		if (seen == e->value)
			matching++;
		else if (odd == NULL)
			odd = c;
	}
	if (n == 0) {
		bool none = e->value == (handshake ? HANDSHAKE_NONE : TEARDOWN_NONE);

		v->held = none;
		if (f->sc->port == 0)
			say(v, "expected %s %s; the capture has no TCP connection", what, want);
		else
			say(v, "expected %s %s; the capture has no connection to port %d", what,
			    want, f->sc->port);
		return;
	}
	v->held = matching == n;
	if (v->held) {
		say(v, "expected %s %s; saw %s on %s%zu connection%s", what, want, want,
		    n == 1 ? "its " : "all ", n, n == 1 ? "" : "s");
	} else if (handshake) {
		say(v,
		    "expected handshake %s; saw %s on %s -> %s (%zu of %zu connections as expected)",
		    want, flow_handshake_name(odd->handshake), odd->client_str, odd->server_str,
		    matching, n);
	} else {
		say(v,
		    "expected teardown %s; saw %s%s%s on %s -> %s (%zu of %zu connections as expected)",
		    want, flow_teardown_name(odd->teardown),
		    odd->teardown_dir < 0 ? "" : ", first from the ",
		    odd->teardown_dir < 0
			    ? ""
			    : (odd->teardown_dir == FLOW_DIR_C2S ? "client" : "server"),
		    odd->client_str, odd->server_str, matching, n);
	}
}

/* Sums a per-direction figure over the connections to the port. */
static uint64_t sum_dir(const struct flow_facts *f, int dir, int flag, bool bytes)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < flow_conn_count(f->fa); i++) {
		const struct flow_conn *c = conn_at(f, i);

		if (!is_to_port(f, c))
			continue;
		for (int d = 0; d < 2; d++)
			if (dir < 0 || d == dir)
				sum += bytes ? c->dir[d].data_bytes : c->dir[d].flags[flag];
	}
	return sum;
}

static uint64_t data_segments(const struct flow_facts *f, int dir)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < flow_conn_count(f->fa); i++)
		if (is_to_port(f, conn_at(f, i)))
			sum += conn_at(f, i)->dir[dir].data_segments;
	return sum;
}

/* The handshake as the client saw it: from its first SYN to its ACK of the
 * SYN/ACK (how long connect() took, SYN and SYN/ACK retries included), on the
 * first connection to the port that completed one. With a link, the capture is
 * the client's side of the wire, so this is the RTT the client lived through. */
static void judge_rtt(const struct flow_facts *f, const struct expectation *e, struct verdict *v)
{
	for (size_t i = 0; i < flow_conn_count(f->fa); i++) {
		const struct flow_conn *c = conn_at(f, i);

		if (!is_to_port(f, c) || c->handshake_us < 0)
			continue;
		v->held = scenario_op_holds(e->op, c->handshake_us, e->value);
		say(v,
		    "expected a handshake RTT %s%" PRId64 " us; saw %" PRId64
		    " us from the first SYN to the ACK of the SYN/ACK on %s -> %s",
		    op_words(e->op), e->value, c->handshake_us, c->client_str, c->server_str);
		return;
	}
	v->held = false;
	say(v,
	    "expected a handshake RTT %s%" PRId64 " us; the capture has no completed "
	    "handshake to measure",
	    op_words(e->op), e->value);
}

static void judge_flow(const struct flow_facts *f, size_t index, const struct expectation *e,
		       struct verdict *v)
{
	const char *who = scenario_who_name(e->who);
	int dir = e->who == WHO_CLIENT ? FLOW_DIR_C2S : FLOW_DIR_S2C;
	const char *op = op_words(e->op);
	uint64_t seen;

	switch (e->kind) {
	case EXPECT_HANDSHAKE:
	case EXPECT_TEARDOWN:
		judge_connections(f, e, v);
		return;
	case EXPECT_ZERO_WINDOW:
		seen = sum_dir(f, dir, FLOW_ZERO_WINDOW, false);
		say(v,
		    "expected %s%" PRId64 " zero-window advertisements from the %s; saw %" PRIu64,
		    op, e->value, who, seen);
		break;
	case EXPECT_WINDOW_PROBES:
		seen = sum_dir(f, dir, FLOW_WINDOW_PROBE, false);
		say(v, "expected %s%" PRId64 " zero-window probes from the %s; saw %" PRIu64, op,
		    e->value, who, seen);
		break;
	case EXPECT_RETRANSMISSIONS:
		seen = sum_dir(f, -1, FLOW_RETRANSMISSION, false);
		say(v, "expected %s%" PRId64 " retransmissions; saw %" PRIu64, op, e->value, seen);
		break;
	case EXPECT_RESENDS: {
		uint64_t retrans = sum_dir(f, dir, FLOW_RETRANSMISSION, false);
		uint64_t ooo = sum_dir(f, dir, FLOW_OUT_OF_ORDER, false);

		/* Wireshark calls a segment below the highest one seen out-of-order
		 * when it comes within an RTT of that one, else a retransmission:
		 * which one a resend gets depends on timing, their sum does not. */
		seen = retrans + ooo;
		say(v,
		    "expected %s%" PRId64 " resent segments from the %s; saw %" PRIu64 " (%" PRIu64
		    " marked retransmission, %" PRIu64 " out-of-order)",
		    op, e->value, who, seen, retrans, ooo);
		break;
	}
	case EXPECT_RTT:
		judge_rtt(f, e, v);
		return;
	case EXPECT_ANALYSIS:
		seen = sum_dir(f, e->has_who ? dir : -1, e->flag, false);
		say(v, "expected %s%" PRId64 " segments%s%s flagged tcp.analysis.%s; saw %" PRIu64,
		    op, e->value, e->has_who ? " from the " : "", e->has_who ? who : "",
		    flow_flag_name((enum flow_flag)e->flag), seen);
		break;
	case EXPECT_BYTES:
		seen = sum_dir(f, dir, 0, true);
		say(v, "expected %s%" PRId64 " bytes %s; saw %" PRIu64, op, e->value,
		    dir == FLOW_DIR_C2S ? "client->server" : "server->client", seen);
		break;
	default: /* EXPECT_SEGMENTS_PAYLOAD */
		v->held = facts_rule_violations(f->facts, index) == 0 &&
			  facts_rule_segments(f->facts, index) > 0;
		if (facts_rule_segments(f->facts, index) == 0)
			say(v,
			    "expected every data segment from the %s to carry %s%" PRId64
			    " bytes; the capture has no data segment from the %s, so there is "
			    "nothing to judge",
			    who, op, e->value, who);
		else if (v->held)
			say(v,
			    "expected every data segment from the %s to carry %s%" PRId64
			    " bytes; all %" PRIu64 " did",
			    who, op, e->value, data_segments(f, dir));
		else
			say(v,
			    "expected every data segment from the %s to carry %s%" PRId64
			    " bytes; %" PRIu64 " did not (the first carried %" PRIu32 ")",
			    who, op, e->value, facts_rule_violations(f->facts, index),
			    facts_rule_first_violation(f->facts, index));
		return;
	}
	v->held = scenario_op_holds(e->op, (int64_t)seen, e->value);
}

/* ---- everything together -------------------------------------------------------- */

/* The payload rule that `segments from WHO payload OP N` stands for. */
static struct facts_payload_rule payload_rule(const struct expectation *e)
{
	int64_t n = e->value < 0 ? 0 : e->value > UINT32_MAX ? UINT32_MAX : e->value;
	struct facts_payload_rule r = { .dir = e->who == WHO_CLIENT ? FLOW_DIR_C2S : FLOW_DIR_S2C,
					.min_bytes = 0,
					.max_bytes = UINT32_MAX,
					.inside = true };

	switch (e->op) {
	case OP_EQ:
	case OP_NE:
		r.min_bytes = r.max_bytes = (uint32_t)n;
		r.inside = e->op == OP_EQ;
		break;
	case OP_LT:
		if (n == 0) { /* nothing is below 0: an empty range */
			r.min_bytes = 1;
			r.max_bytes = 0;
		} else {
			r.max_bytes = (uint32_t)(n - 1);
		}
		break;
	case OP_LE:
		r.max_bytes = (uint32_t)n;
		break;
	case OP_GT:
		if (n == UINT32_MAX) {
			r.min_bytes = 1;
			r.max_bytes = 0;
		} else {
			r.min_bytes = (uint32_t)(n + 1);
		}
		break;
	default: /* OP_GE */
		r.min_bytes = (uint32_t)n;
		break;
	}
	return r;
}

int expect_facts_opts(const struct scenario *sc, struct facts_opts *fo, struct lab_err *err)
{
	struct facts_filter *filters = calloc(sc->n_expects + 1, sizeof(*filters));
	struct facts_payload_rule *rules = calloc(sc->n_expects + 1, sizeof(*rules));
	char *where = calloc(sc->n_expects + 1, EXPECT_WHERE_LEN);

	memset(fo, 0, sizeof(*fo));
	if (filters == NULL || rules == NULL || where == NULL) {
		free(filters);
		free(rules);
		free(where);
		return lab_err_set(err, "out of memory");
	}
	fo->port = (uint16_t)sc->port;
	for (size_t i = 0; i < sc->n_expects; i++) {
		const struct expectation *e = &sc->expects[i];

		if (e->kind == EXPECT_PACKETS) {
			char *w = where + fo->n_filters * EXPECT_WHERE_LEN;

			snprintf(w, EXPECT_WHERE_LEN, "%s:%d:%d", sc->path, e->line, e->col);
			filters[fo->n_filters++] =
				(struct facts_filter){ .text = e->text, .where = w };
		} else if (e->kind == EXPECT_SEGMENTS_PAYLOAD) {
			rules[fo->n_rules++] = payload_rule(e);
		}
	}
	if (fo->n_filters == 0)
		free(where); /* expect_facts_opts_free finds the block through filters[0] */
	fo->filters = filters;
	fo->rules = rules;
	return 0;
}

void expect_facts_opts_free(struct facts_opts *fo)
{
	/* The where texts are one block that starts at the first filter's. */
	if (fo->n_filters > 0)
		free((void *)fo->filters[0].where);
	free((void *)fo->filters);
	free((void *)fo->rules);
	memset(fo, 0, sizeof(*fo));
}

/* "no connection to port 1060": what an empty capture lacks, in words. */
static void no_connection_words(const struct flow_facts *f, char *buf, size_t len)
{
	if (f->sc->port == 0)
		snprintf(buf, len, "the capture has no TCP connection");
	else
		snprintf(buf, len, "the capture has no connection to port %d", f->sc->port);
}

/* A capture with no connection to the port says nothing about one: only
 * `handshake none` and `teardown none` hold (the language's rule); every other
 * expectation about packets fails and says why, whatever its comparison. A
 * count of 0 matching packets is a fact only on a capture of the connection the
 * scenario is about. Returns true when it judged v. */
static bool judge_without_connection(const struct flow_facts *f, const struct expectation *e,
				     struct verdict *v)
{
	char none[96];

	if (f->n_conns > 0 || e->kind == EXPECT_HANDSHAKE || e->kind == EXPECT_TEARDOWN)
		return false;
	no_connection_words(f, none, sizeof(none));
	v->held = false;
	say(v, "expected %s; %s, so there is nothing to judge it on",
	    strncmp(e->source, "expect ", 7) == 0 ? e->source + 7 : e->source, none);
	return true;
}

/* Packets the kernel dropped make every verdict on packets unknowable: what was
 * lost may have been the very segment judged. The verdict keeps what was seen. */
static void make_inconclusive_for_drops(const struct run_record *rec, struct verdict *v)
{
	uint64_t lost = rec->capture.kernel_drops + rec->capture.ifdrops;
	char seen[sizeof(v->text)];

	if (lost == 0)
		return;
	snprintf(seen, sizeof(seen), "%s", v->text);
	v->held = false;
	v->inconclusive = true;
	say(v, "inconclusive: the capture lost %" PRIu64 " packet%s (kernel drops), so %s", lost,
	    lost == 1 ? "" : "s", seen);
}

/* Appends to a packet verdict that the lab's stop cut the capture short. */
static void note_lab_stop(const struct flow_facts *f, const struct run_record *rec,
			  struct verdict *v)
{
	uint64_t later = facts_after_until(f->facts);
	size_t used = strlen(v->text);

	if (later == 0 || rec == NULL || rec->stop_us < 0 || used + 2 >= sizeof(v->text))
		return;
	snprintf(v->text + used, sizeof(v->text) - used,
		 " (judged up to the lab's stop at %.3f s; the %" PRIu64 " packet%s after it "
		 "%s the lab's doing, not the programs')",
		 (double)rec->stop_us / 1e6, later, later == 1 ? "" : "s",
		 later == 1 ? "is" : "are");
}

int expect_evaluate(const struct scenario *sc, const struct run_record *rec,
		    const struct facts *facts, struct verdict **verdicts, struct lab_err *err)
{
	struct verdict *v = calloc(sc->n_expects ? sc->n_expects : 1, sizeof(*v));
	struct flow_facts ff = { .sc = sc, .facts = facts };
	size_t filter_index = 0, rule_index = 0;
	int rc = -1;

	if (v == NULL) {
		lab_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sc->n_expects; i++) {
		if (rec == NULL && expect_needs_run(&sc->expects[i])) {
			lab_err_set(err,
				    "%s:%d:%d: \"%s\" is about the programs: it needs a run, "
				    "not only a capture",
				    sc->path, sc->expects[i].line, sc->expects[i].col,
				    sc->expects[i].source);
			goto out;
		}
	}
	ff.fa = facts_flows(facts);
	if (flow_totals(ff.fa)->file_note[0] != '\0') {
		/* A damaged capture: verdicts on part of it would mislead. */
		lab_err_set(err, "%s", flow_totals(ff.fa)->file_note);
		goto out;
	}
	for (size_t i = 0; i < flow_conn_count(ff.fa); i++)
		if (is_to_port(&ff, conn_at(&ff, i)))
			ff.n_conns++;
	for (size_t i = 0; i < sc->n_expects; i++) {
		const struct expectation *e = &sc->expects[i];
		uint64_t count;
		size_t this_filter = filter_index, this_rule = rule_index;

		v[i].exp = e;
		v[i].line = e->line;
		v[i].col = e->col;
		snprintf(v[i].source, sizeof(v[i].source), "%s", e->source ? e->source : "");
		if (e->kind == EXPECT_PACKETS)
			filter_index++;
		else if (e->kind == EXPECT_SEGMENTS_PAYLOAD)
			rule_index++;
		switch (e->kind) {
		case EXPECT_EXIT:
		case EXPECT_KILLED:
		case EXPECT_SIGNAL:
		case EXPECT_OUTPUT:
			judge_program(e, rec, &v[i]);
			continue;
		case EXPECT_OUTCOME:
		case EXPECT_DEADLOCK_WITHIN:
		case EXPECT_DURATION:
		case EXPECT_LINK_DROPPED:
			judge_run(e, rec, &v[i]);
			continue;
		default:
			break;
		}
		if (judge_without_connection(&ff, e, &v[i])) {
			/* nothing to judge: failed, said why */
		} else if (e->kind == EXPECT_PACKETS) {
			count = facts_filter_matches(facts, this_filter);
			v[i].held = scenario_op_holds(e->op, (int64_t)count, e->value);
			say(&v[i], "expected %s%" PRId64 " packets matching \"%s\"; saw %" PRIu64,
			    op_words(e->op), e->value, e->text, count);
		} else {
			judge_flow(&ff, this_rule, e, &v[i]);
		}
		note_lab_stop(&ff, rec, &v[i]);
		if (rec != NULL)
			make_inconclusive_for_drops(rec, &v[i]);
	}
	rc = 0;
out:
	if (rc < 0) {
		free(v);
		v = NULL;
	}
	*verdicts = v;
	return rc;
}

/* ---- fault lines: did each take effect? ----------------------------------------- */

/* "send max 10", "pause at 300 ms for 1000 ms": a fault line in the lab's words. */
static void fault_words(const struct fault *f, char *buf, size_t len)
{
	const char *who = scenario_who_name(f->who);

	switch (f->kind) {
	case FAULT_SEND_MAX:
		snprintf(buf, len, "fault %s send max %" PRId64, who, f->bytes);
		break;
	case FAULT_RECV_MAX:
		snprintf(buf, len, "fault %s recv max %" PRId64, who, f->bytes);
		break;
	case FAULT_SEND_DELAY:
		snprintf(buf, len, "fault %s send delay %" PRId64 "ms", who, f->delay_us / 1000);
		break;
	case FAULT_RECV_DELAY:
		snprintf(buf, len, "fault %s recv delay %" PRId64 "ms", who, f->delay_us / 1000);
		break;
	case FAULT_ERROR:
		snprintf(buf, len, "fault %s error %s %d", who, f->call, f->errno_value);
		break;
	case FAULT_BUFFERS:
		snprintf(buf, len, "fault %s buffers", who);
		break;
	case FAULT_RESET_AFTER:
		snprintf(buf, len, "fault %s reset after %" PRId64, who, f->bytes);
		break;
	case FAULT_CLOSE_AFTER:
		snprintf(buf, len, "fault %s close after %" PRId64, who, f->bytes);
		break;
	case FAULT_PAUSE:
		if (f->at_us < 0) /* after bytes received */
			snprintf(buf, len, "fault %s pause after %" PRId64 " for %" PRId64 "ms",
				 who, f->bytes, f->for_us / 1000);
		else
			snprintf(buf, len, "fault %s pause at %" PRId64 "ms for %" PRId64 "ms", who,
				 f->at_us / 1000, f->for_us / 1000);
		break;
	default:                  /* FAULT_KILL */
		if (f->at_us < 0) /* after bytes received */
			snprintf(buf, len, "fault %s kill after %" PRId64, who, f->bytes);
		else
			snprintf(buf, len, "fault %s kill at %" PRId64 "ms", who, f->at_us / 1000);
		break;
	}
}

/* How many times the shim did what fault f asks, and whether that count is f's
 * alone. THE SEAM: today the shim counts per kind of fault and process (struct
 * shim_stats), so two fault lines of one kind on one side share a count; once
 * the shim counts per fault line, read that count here and set *shared false. */
static uint64_t shim_count_for(const struct scenario *sc, const struct run_side *side,
			       const struct fault *f, bool *shared)
{
	const struct shim_stats *st = &side->shim;
	size_t same = 0;

	for (size_t i = 0; i < sc->n_faults; i++) {
		const struct fault *o = &sc->faults[i];
		/* reset after and close after cut the crossing call: the shim counts
		 * that cut as a short send or read too */
		bool cuts = (f->kind == FAULT_SEND_MAX || f->kind == FAULT_RECV_MAX) &&
			    (o->kind == FAULT_RESET_AFTER || o->kind == FAULT_CLOSE_AFTER);

		if (o->who == f->who && (o->kind == f->kind || cuts))
			same++;
	}
	*shared = same > 1;
	switch (f->kind) {
	case FAULT_SEND_MAX:
		return st->short_sends;
	case FAULT_RECV_MAX:
		return st->short_recvs;
	case FAULT_SEND_DELAY:
		return st->send_delays;
	case FAULT_RECV_DELAY:
		return st->recv_delays;
	case FAULT_ERROR:
		return st->errors_injected;
	case FAULT_BUFFERS:
		return st->buffers_set;
	case FAULT_RESET_AFTER:
		return st->resets_done;
	default: /* FAULT_CLOSE_AFTER */
		return st->early_closes;
	}
}

/* What the capture saw `who` send to or from the port, in payload bytes. */
static uint64_t captured_bytes_from(const struct scenario *sc, const struct facts *facts,
				    enum scenario_who who)
{
	const struct flow_analysis *fa;
	uint64_t sum = 0;

	if (facts == NULL)
		return 0;
	fa = facts_flows(facts);
	for (size_t i = 0; i < flow_conn_count(fa); i++) {
		const struct flow_conn *c = flow_conn_at(fa, i);

		if (sc->port == 0 || c->server_port == sc->port)
			sum += c->dir[who == WHO_CLIENT ? FLOW_DIR_C2S : FLOW_DIR_S2C].data_bytes;
	}
	return sum;
}

static bool is_send_side(const struct fault *f)
{
	return f->kind == FAULT_SEND_MAX || f->kind == FAULT_SEND_DELAY ||
	       f->kind == FAULT_RESET_AFTER || f->kind == FAULT_CLOSE_AFTER ||
	       (f->kind == FAULT_ERROR && shim_call_mask(f->call) & SHIM_CALLS_SEND_DIR);
}

/* Why a shim fault never took effect, in words, from what the lab knows. */
static void why_shim_idle(const struct scenario *sc, const struct run_side *side,
			  const struct fault *f, const struct facts *facts, char *buf, size_t len)
{
	const struct shim_stats *st = &side->shim;
	const char *who = scenario_who_name(f->who);
	uint64_t on_wire = captured_bytes_from(sc, facts, f->who);
	bool send_side = is_send_side(f);
	uint64_t shim_bytes = send_side ? st->bytes_sent : st->bytes_received;

	if (st->processes == 0) {
		snprintf(buf, len,
			 "the %s never loaded the fault shim (LD_PRELOAD): a statically linked "
			 "program, or one that clears LD_PRELOAD, cannot be faulted",
			 who);
	} else if (st->calls_intercepted == 0 && on_wire > 0 && send_side) {
		snprintf(buf, len,
			 "the shim saw no call on a TCP socket, yet the capture shows %" PRIu64
			 " bytes from the %s: it is statically linked (LD_PRELOAD reached only "
			 "its shell), or moves its data by calls the shim does not interpose "
			 "(sendfile, splice, io_uring, raw system calls)",
			 on_wire, who);
	} else if (st->calls_intercepted == 0) {
		snprintf(buf, len,
			 "the shim saw no call of the %s on a TCP socket: it is statically linked "
			 "(LD_PRELOAD reached only its shell), uses calls the shim does not "
			 "interpose (sendfile, splice, io_uring), or never used a socket",
			 who);
	} else if (send_side && shim_bytes == 0 && on_wire > 0) {
		snprintf(buf, len,
			 "the shim saw %" PRIu64 " calls on TCP sockets but no byte sent, yet the "
			 "capture shows %" PRIu64 " bytes from the %s: it sends by calls the shim "
			 "does not interpose (sendfile, splice, io_uring)",
			 st->calls_intercepted, on_wire, who);
	} else if (f->kind == FAULT_SEND_MAX || f->kind == FAULT_RECV_MAX) {
		snprintf(buf, len,
			 "no %s call of the %s asked for more than %" PRId64 " bytes (the shim saw "
			 "%" PRIu64 " bytes %s)",
			 send_side ? "send" : "receive", who, f->bytes, shim_bytes,
			 send_side ? "sent" : "received");
	} else if (f->kind == FAULT_RESET_AFTER || f->kind == FAULT_CLOSE_AFTER) {
		snprintf(buf, len,
			 "no connection of the %s moved %" PRId64 " bytes through the calls the "
			 "shim saw (%" PRIu64 " bytes sent, %" PRIu64 " received in all)",
			 who, f->bytes, st->bytes_sent, st->bytes_received);
	} else if (f->kind == FAULT_ERROR) {
		snprintf(buf, len,
			 "no %s call of the %s met the rule's condition (the shim saw %" PRIu64
			 " calls on TCP sockets; an error rule counts calls and bytes per process "
			 "and direction)",
			 f->call, who, st->calls_intercepted);
	} else {
		snprintf(buf, len, "the shim saw %" PRIu64 " calls of the %s on TCP sockets",
			 st->calls_intercepted, who);
	}
}

/* pause at / kill at: the driver knows whether it sent the signal. */
static void judge_clock_fault(const struct run_record *rec, size_t index, const struct fault *f,
			      struct verdict *v)
{
	const struct run_side *side = &rec->side[f->who];
	const char *who = scenario_who_name(f->who);
	const char *what = f->kind == FAULT_PAUSE ? "pause" : "kill";
	int64_t lived_us = side->proc.end_us - side->proc.start_us;

	if (index >= RUN_MAX_CLOCK_FAULTS) {
		v->inconclusive = true;
		say(v,
		    "inconclusive: the lab records whether its first %d fault lines fired, not "
		    "this one",
		    RUN_MAX_CLOCK_FAULTS);
		return;
	}
	v->held = rec->clock_fault_fired[index];
	if (f->at_us < 0) { /* after bytes received: an event, not a time */
		if (v->held)
			say(v, "the %s was done once the %s had received %" PRId64 " bytes", what,
			    who, f->bytes);
		else
			say(v, "the %s never took effect: the %s never received %" PRId64 " bytes",
			    what, who, f->bytes);
		return;
	}
	if (v->held)
		say(v, "the %s was done at %" PRId64 " ms of the %s's life", what, f->at_us / 1000,
		    who);
	else if (!side->started)
		say(v, "the %s never took effect: the %s never started", what, who);
	else if (!side->proc.running && lived_us < f->at_us && !side->stopped_by_lab)
		say(v,
		    "the %s never took effect: the %s ended after %" PRId64 " ms, before the %s "
		    "at %" PRId64 " ms",
		    what, who, lived_us / 1000, what, f->at_us / 1000);
	else if (!side->proc.running && !side->stopped_by_lab)
		/* It ended by itself just after the time, before the lab's clock got
		 * round to it (a busy machine). */
		say(v,
		    "the %s never took effect: the %s ended by itself after %" PRId64
		    " ms, before the lab carried out the %s due at %" PRId64 " ms",
		    what, who, lived_us / 1000, what, f->at_us / 1000);
	else
		say(v,
		    "the %s never took effect: the run ended (the lab stopped the %s after %" PRId64
		    " ms) before the %s at %" PRId64 " ms",
		    what, who, lived_us / 1000, what, f->at_us / 1000);
}

int expect_faults(const struct scenario *sc, const struct run_record *rec,
		  const struct facts *facts, struct verdict **verdicts, size_t *n,
		  struct lab_err *err)
{
	struct verdict *v;

	*verdicts = NULL;
	*n = 0;
	if (rec == NULL || sc->n_faults == 0)
		return 0;
	v = calloc(sc->n_faults, sizeof(*v));
	if (v == NULL)
		return lab_err_set(err, "out of memory");
	for (size_t i = 0; i < sc->n_faults; i++) {
		const struct fault *f = &sc->faults[i];
		const struct run_side *side = &rec->side[f->who];
		struct verdict *fv = &v[i];
		char why[480];
		bool shared;
		uint64_t done;

		fv->fault = f;
		fv->line = f->line;
		fv->col = 1;
		fault_words(f, fv->source, sizeof(fv->source));
		if (f->kind == FAULT_PAUSE || f->kind == FAULT_KILL) {
			judge_clock_fault(rec, i, f, fv);
			continue;
		}
		if (f->line <= 0) {
			/* Drawn by `tcplab explore`, not written in the file: a perturbation
			 * that finds no call to act on is a run that tried less. */
			fv->held = true;
			say(fv, "drawn by tcplab explore: it need not take effect");
			continue;
		}
		if (!side->started) {
			say(fv, "the fault never took effect: the %s never started",
			    scenario_who_name(f->who));
			continue;
		}
		done = shim_count_for(sc, side, f, &shared);
		if (done > 0 && shared) {
			fv->inconclusive = true;
			say(fv,
			    "inconclusive: the shim did this kind of fault %" PRIu64
			    " times in the "
			    "%s, but counts per kind, not per line: which of its lines took effect "
			    "is not known",
			    done, scenario_who_name(f->who));
			continue;
		}
		if (done > 0) {
			fv->held = true;
			say(fv, "the shim did it %" PRIu64 " time%s", done, done == 1 ? "" : "s");
			continue;
		}
		if (f->kind == FAULT_ERROR && f->legal && side->shim.processes > 0) {
			/* `legal` asks for the error only where the kernel could return it;
			 * a program that never offers such a call never gets it, and that is
			 * what the line says should happen. */
			fv->held = true;
			say(fv, "the shim was loaded and found no call where the kernel could fail "
				"so: as `legal` asks, it never did");
			continue;
		}
		why_shim_idle(sc, side, f, facts, why, sizeof(why));
		say(fv, "the fault never took effect: %s", why);
	}
	*verdicts = v;
	*n = sc->n_faults;
	return 0;
}
