/* report_fixture: report items for the writers' tests (see report_fixture.h). */
#include "report_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char report_fixture_hostile[] =
	"ok line\n"
	"invalid UTF-8: \xff\xfe and a lone continuation \x80 and cut short \xe2\x82\n"
	"surrogate \xed\xa0\x80, overlong \xc0\xaf, valid: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d\n"
	"controls: \x01\x02\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f tab\there cr\r\n"
	"markup: <b>bold</b> & &amp; \"quoted\" 'single' ]]> </system-out> </script>\n"
	"a NUL here:\0:after the NUL\n";
const size_t report_fixture_hostile_len = sizeof(report_fixture_hostile) - 1;

static const char echo_text[] = "# a passing scenario\n"
				"scenario \"Client and server swap 16 bytes & close <cleanly>\"\n"
				"timeout 5s\n"
				"server tcp_sixteen server $HOST -p $PORT\n"
				"client tcp_sixteen client $HOST -p $PORT\n"
				"expect client exit 0\n"
				"expect handshake complete\n"
				"expect bytes client->server == 16\n";

static const char stuck_text[] = "scenario \"A reader that never reads: the window closes\"\n"
				 "timeout 3s\n"
				 "server tcp_deadlock server $HOST -p $PORT\n"
				 "client tcp_deadlock client $HOST 5000 -p $PORT\n"
				 "fault client send max 1000\n"
				 "expect zero-window from server\n"
				 "expect client exit 0\n"
				 "expect bytes client->server == 16\n";

static const char nolab_text[] = "scenario \"The lab could not run this one\"\n"
				 "client true\n"
				 "expect client exit 0\n";

static char *dup_bytes(const char *data, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy != NULL) {
		memcpy(copy, data, len);
		copy[len] = '\0';
	}
	return copy;
}

static void set_output(struct proc_output *o, const char *data, size_t len, uint64_t total)
{
	o->data = dup_bytes(data, len);
	o->len = len;
	o->total_bytes = total;
	o->fd = -1;
}

static void add_event(struct run_record *rec, int64_t at_us, enum run_event_kind kind,
		      const char *text)
{
	struct run_event *ev = &rec->events[rec->n_events++];

	ev->at_us = at_us;
	ev->kind = kind;
	snprintf(ev->text, sizeof(ev->text), "%s", text);
}

static void exited(struct run_side *side, int code, int64_t start_us, int64_t end_us)
{
	side->present = true;
	side->started = true;
	side->proc.exited = true;
	side->proc.exit_code = code;
	side->proc.start_us = start_us;
	side->proc.end_us = end_us;
}

static void killed(struct run_side *side, int sig, int64_t start_us, int64_t end_us)
{
	side->present = true;
	side->started = true;
	side->proc.signaled = true;
	side->proc.signal = sig;
	side->proc.start_us = start_us;
	side->proc.end_us = end_us;
	side->stopped_by_lab = true;
}

static int judge(struct report_fixture *fx, size_t i, const bool *held, const char *const *text)
{
	struct scenario *sc = fx->sc[i];

	fx->verdicts[i] = calloc(sc->n_expects, sizeof(struct verdict));
	if (fx->verdicts[i] == NULL)
		return -1;
	fx->items[i].status = REPORT_PASS;
	for (size_t k = 0; k < sc->n_expects; k++) {
		fx->verdicts[i][k].exp = &sc->expects[k];
		fx->verdicts[i][k].held = held[k];
		snprintf(fx->verdicts[i][k].text, sizeof(fx->verdicts[i][k].text), "%s", text[k]);
		if (!held[k])
			fx->items[i].status = REPORT_FAIL;
	}
	fx->items[i].verdicts = fx->verdicts[i];
	return 0;
}

int report_fixture_make(struct report_fixture *fx, const char *pcap_dir)
{
	static const bool echo_held[] = { true, true, true };
	static const char *const echo_said[] = {
		"exited with 0",
		"SYN, SYN/ACK and ACK seen",
		"16 bytes client->server",
	};
	static const bool stuck_held[] = { true, false, false };
	static const char *const stuck_said[] = {
		"the server advertised a zero window 4 times",
		"expected the client to exit with 0, it was killed by SIGKILL (the lab stopped it)",
		"expected bytes client->server == 16, saw 5000 <- \"not\" & 'that'",
	};
	struct lab_err err;
	struct run_record *rec;

	memset(fx, 0, sizeof(*fx));
	fx->n = REPORT_FIXTURE_ITEMS;
	if (scenario_parse_text("scenarios/echo.scn", echo_text, &fx->sc[0], &err) < 0 ||
	    scenario_parse_text("scenarios/failing/stuck.scn", stuck_text, &fx->sc[1], &err) < 0 ||
	    scenario_parse_text("nolab.scn", nolab_text, &fx->sc[2], &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.msg);
		return -1;
	}
	for (size_t i = 0; i < fx->n; i++) {
		fx->items[i].sc = fx->sc[i];
		if (i < 2) {
			fx->rec[i] = calloc(1, sizeof(struct run_record));
			if (fx->rec[i] == NULL)
				return -1;
			fx->items[i].rec = fx->rec[i];
		}
	}

	/* echo: passed; the server's output is hostile */
	rec = fx->rec[0];
	rec->outcome = OUTCOME_COMPLETED;
	rec->duration_us = 41234;
	rec->listening_us = 9000;
	rec->last_progress_us = -1;
	rec->verdict_us = -1;
	rec->capture.packets = 10;
	snprintf(rec->pcap_path, sizeof(rec->pcap_path), "%s/basic_echo.pcap", pcap_dir);
	add_event(rec, 0, RUN_EV_SERVER_START, "server started: tcp_sixteen server");
	add_event(rec, 9000, RUN_EV_LISTENING, "server listening on 127.0.0.1:1060");
	add_event(rec, 9100, RUN_EV_CLIENT_START, "client started");
	add_event(rec, 40000, RUN_EV_EXIT, "client exited with 0");
	add_event(rec, 41000, RUN_EV_EXIT, "server exited with 0");
	exited(&rec->side[WHO_CLIENT], 0, 1009100, 1040000);
	exited(&rec->side[WHO_SERVER], 0, 1000000, 1041000);
	set_output(&rec->side[WHO_CLIENT].proc.out, "The server said b'Farewell, client'\n", 36,
		   36);
	set_output(&rec->side[WHO_CLIENT].proc.err, "", 0, 0);
	set_output(&rec->side[WHO_SERVER].proc.out, report_fixture_hostile,
		   report_fixture_hostile_len, report_fixture_hostile_len);
	set_output(&rec->side[WHO_SERVER].proc.err, "warning: <stderr> & more\n", 25, 25);
	fx->items[0].pcap_path = rec->pcap_path;
	if (judge(fx, 0, echo_held, echo_said) < 0)
		return -1;

	/* stuck: failed; the lab killed the client; faults counted */
	rec = fx->rec[1];
	rec->outcome = OUTCOME_DEADLOCK;
	rec->duration_us = 2600000;
	rec->listening_us = 8000;
	rec->last_progress_us = 300;
	rec->verdict_us = 2500000;
	rec->stall_bytes[0] = 5000;
	rec->stall_bytes[1] = 0;
	rec->stall_queued[0] = 1000;
	rec->stall_queued[1] = 0;
	snprintf(rec->stall_text, sizeof(rec->stall_text),
		 "no byte moved for 2.2 s; client send queue 1000 B, server's 0 B");
	rec->capture.packets = 17;
	rec->capture.kernel_drops = 2;
	snprintf(rec->pcap_path, sizeof(rec->pcap_path), "%s/zero_window_linux.pcap", pcap_dir);
	add_event(rec, 0, RUN_EV_SERVER_START, "server started");
	add_event(rec, 8000, RUN_EV_LISTENING, "server listening");
	add_event(rec, 8100, RUN_EV_CLIENT_START, "client started");
	add_event(rec, 500000, RUN_EV_STALL, "stall: nothing moved for 200 ms");
	add_event(rec, 2500000, RUN_EV_DEADLOCK, rec->stall_text);
	add_event(rec, 2500100, RUN_EV_KILL, "client and server stopped <by the lab>");
	killed(&rec->side[WHO_CLIENT], SIGKILL, 8100, 2500200);
	killed(&rec->side[WHO_SERVER], SIGTERM, 0, 2500300);
	rec->side[WHO_CLIENT].faulted = true;
	rec->side[WHO_CLIENT].shim.processes = 1;
	rec->side[WHO_CLIENT].shim.calls_intercepted = 7;
	rec->side[WHO_CLIENT].shim.short_sends = 4;
	rec->side[WHO_CLIENT].shim.bytes_sent = 5000;
	set_output(&rec->side[WHO_CLIENT].proc.out, "sending 5000 bytes\n", 19, 19);
	set_output(&rec->side[WHO_CLIENT].proc.err,
		   "Traceback (most recent call last):\n  blocked in send()\n", 55, 3000000);
	set_output(&rec->side[WHO_SERVER].proc.out, "", 0, 0);
	set_output(&rec->side[WHO_SERVER].proc.err, "", 0, 0);
	fx->items[1].pcap_path = rec->pcap_path;
	if (judge(fx, 1, stuck_held, stuck_said) < 0)
		return -1;

	/* nolab: the lab could not run it */
	fx->items[2].status = REPORT_ERROR;
	snprintf(fx->items[2].error, sizeof(fx->items[2].error),
		 "cannot enter a network namespace: Operation not permitted <EPERM> & \x01");
	return 0;
}

void report_fixture_free(struct report_fixture *fx)
{
	for (size_t i = 0; i < REPORT_FIXTURE_ITEMS; i++) {
		if (fx->rec[i] != NULL) {
			for (int w = 0; w < 2; w++) {
				free(fx->rec[i]->side[w].proc.out.data);
				free(fx->rec[i]->side[w].proc.err.data);
			}
		}
		free(fx->rec[i]);
		free(fx->verdicts[i]);
		scenario_free(fx->sc[i]);
	}
	memset(fx, 0, sizeof(*fx));
}

const char *report_fixture_pcap_dir(char *buf, size_t len)
{
	const char *srcdir = getenv("TEST_SRCDIR");

	if (srcdir != NULL) {
		snprintf(buf, len, "%s/tcplab/lab/tests/pcaps", srcdir);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	snprintf(buf, len, "lab/tests/pcaps");
	return access(buf, R_OK) == 0 ? buf : NULL;
}
