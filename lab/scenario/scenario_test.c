/* scenario_test: the scenario parser turns each directive into the right fields
 * and reports every malformed input as "FILE:LINE:COL: message". */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/scenario/scenario.h"

/* The two lines every valid scenario needs. */
#define HEAD "scenario \"a test\"\nclient true\n"

static struct scenario *parse_ok(const char *text)
{
	struct scenario *sc = NULL;
	struct lab_err err = { { 0 } };

	if (scenario_parse_text("t.scn", text, &sc, &err) != 0)
		fail_msg("unexpected parse error: %s", err.msg);
	assert_non_null(sc);
	return sc;
}

static void assert_error(const char *text, const char *expected)
{
	struct scenario *sc = (struct scenario *)1;
	struct lab_err err = { { 0 } };

	assert_int_equal(scenario_parse_text("t.scn", text, &sc, &err), -1);
	assert_null(sc);
	assert_string_equal(err.msg, expected);
}

/* The only expectation of HEAD + line. */
static struct scenario *parse_expect(const char *line, const struct expectation **e)
{
	char text[1024];
	struct scenario *sc;

	snprintf(text, sizeof(text), HEAD "server true\n%s\n", line);
	sc = parse_ok(text);
	assert_int_equal(sc->n_expects, 1);
	*e = &sc->expects[0];
	return sc;
}

static struct scenario *parse_fault(const char *line, const struct fault **f)
{
	char text[1024];
	struct scenario *sc;

	snprintf(text, sizeof(text), HEAD "server true\n%s\n", line);
	sc = parse_ok(text);
	assert_int_equal(sc->n_faults, 1);
	*f = &sc->faults[0];
	return sc;
}

/* ---- link lines ---------------------------------------------------------------- */

static void test_no_link_line_means_no_link(void **state)
{
	struct scenario *sc = parse_ok(HEAD);

	(void)state;
	assert_int_equal(sc->link.line, 0);
	scenario_free(sc);
}

static void test_link_lines_fill_each_direction(void **state)
{
	struct scenario *sc = parse_ok(HEAD "server true\n"
					    "link delay 50ms jitter 5ms\n"
					    "link client->server loss 0.5%\n"
					    "link server->client loss 5%\n"
					    "link duplicate 1%\n"
					    "link client->server reorder 2.25%\n"
					    "link server->client corrupt 0.125%\n"
					    "link client->server rate 1Mbit queue 20\n"
					    "link server->client drop \"tcp port $PORT\" first 2\n"
					    "link down at 1s for 500ms\n"
					    "link mtu 1400\n"
					    "link seed 42\n");
	const struct scenario_link *l = &sc->link;

	(void)state;
	assert_int_equal(l->line, 4);
	assert_int_equal(l->seed, 42);
	assert_int_equal(l->mtu_bytes, 1400);
	for (int d = 0; d < 2; d++) {
		assert_int_equal(l->dir[d].delay_us, 50000);
		assert_int_equal(l->dir[d].jitter_us, 5000);
		assert_int_equal(l->dir[d].duplicate_pcm, 1000);
		assert_int_equal(l->dir[d].n_downs, 1);
		assert_int_equal(l->dir[d].downs[0].at_us, 1000000);
		assert_int_equal(l->dir[d].downs[0].for_us, 500000);
	}
	assert_int_equal(l->dir[LINK_C2S].loss_pcm, 500);
	assert_int_equal(l->dir[LINK_S2C].loss_pcm, 5000);
	assert_int_equal(l->dir[LINK_C2S].reorder_pcm, 2250);
	assert_int_equal(l->dir[LINK_S2C].reorder_pcm, 0);
	assert_int_equal(l->dir[LINK_S2C].corrupt_pcm, 125);
	assert_int_equal(l->dir[LINK_C2S].rate_bps, 1000000);
	assert_int_equal(l->dir[LINK_C2S].queue_packets, 20);
	assert_int_equal(l->dir[LINK_S2C].rate_bps, 0);
	assert_int_equal(l->dir[LINK_C2S].n_filters, 0);
	assert_int_equal(l->dir[LINK_S2C].n_filters, 1);
	assert_string_equal(l->dir[LINK_S2C].filters[0].filter, "tcp port 1060");
	assert_int_equal(l->dir[LINK_S2C].filters[0].mode, LINK_FILTER_FIRST);
	assert_int_equal(l->dir[LINK_S2C].filters[0].n, 2);
	scenario_free(sc);
}

static void test_link_defaults_seed_and_mtu(void **state)
{
	struct scenario *sc = parse_ok(HEAD "link loss 1%\n");

	(void)state;
	assert_int_equal(sc->link.seed, 1);
	assert_int_equal(sc->link.mtu_bytes, 1500);
	assert_int_equal(sc->link.dir[LINK_C2S].delay_us, 0);
	scenario_free(sc);
}

static void test_link_rates_are_si_bits_per_second(void **state)
{
	struct scenario *sc = parse_ok(HEAD "link client->server rate 100Mbit\n"
					    "link server->client rate 1Gbit\n");

	(void)state;
	assert_int_equal(sc->link.dir[LINK_C2S].rate_bps, 100000000);
	assert_int_equal(sc->link.dir[LINK_S2C].rate_bps, 1000000000);
	scenario_free(sc);
	assert_error(
		HEAD "link rate 500bit\n",
		"t.scn:3:11: bad rate \"500bit\": expected 1kbit to 100Gbit (bits per second)");
}

static void test_link_bad_values_name_line_and_column(void **state)
{
	(void)state;
	assert_error(HEAD "link loss 101%\n", "t.scn:3:11: bad percentage \"101%\": at most 100%");
	assert_error(HEAD "link loss 5\n",
		     "t.scn:3:11: bad percentage \"5\": expected 0% to 100% with at most three "
		     "decimals, e.g. 5% or 0.125%");
	assert_error(HEAD "link delay -1ms\n",
		     "t.scn:3:12: bad duration \"-1ms\": a duration cannot be negative");
	assert_error(HEAD "link mtu 20\n",
		     "t.scn:3:10: bad MTU \"20\": expected a whole number from 68 to 65535");
	assert_error(HEAD "link drop \"port nonsense\"\n",
		     "t.scn:3:11: bad filter \"port nonsense\": unknown port 'nonsense'");
	assert_error(HEAD "link down at 20s\n",
		     "t.scn:3:14: link down at 20s is not before the timeout (10s)");
	assert_error(
		HEAD "link sideways loss 1%\n",
		"t.scn:3:6: unknown link fault \"sideways\" (expected delay, loss, duplicate, "
		"reorder, corrupt, rate, drop, down, mtu, seed, client->server or server->client)");
}

static void test_link_refuses_ipv6_host(void **state)
{
	(void)state;
	assert_error(HEAD "host ::1\nlink loss 1%\n",
		     "t.scn:3:1: host ::1 with a link: the wire joins two namespaces over IPv4, "
		     "where the server is 127.0.0.1 (IPv6's ::1 cannot leave lo); use host "
		     "127.0.0.1 or no host line");
}

static void test_expect_rtt_and_link_dropped(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect rtt >= 100ms", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_RTT);
	assert_int_equal(e->op, OP_GE);
	assert_int_equal(e->value, 100000);
	scenario_free(sc);
	sc = parse_ok(HEAD
		      "link loss 1%\nexpect link dropped >= 3 loss\nexpect link dropped == 0\n");
	assert_int_equal(sc->expects[0].kind, EXPECT_LINK_DROPPED);
	assert_int_equal(sc->expects[0].link_kind, LINK_DROP_LOSS);
	assert_int_equal(sc->expects[0].value, 3);
	assert_int_equal(sc->expects[1].link_kind, -1);
	scenario_free(sc);
	assert_error(HEAD "link loss 1%\nexpect link dropped >= 3 lost\n",
		     "t.scn:4:26: unknown kind of drop \"lost\" (did you mean \"loss\"?)");
}

/* ---- settings ---------------------------------------------------------------- */

static void test_minimal_scenario_gets_the_defaults(void **state)
{
	struct scenario *sc = parse_ok(HEAD);

	(void)state;
	assert_string_equal(sc->summary, "a test");
	assert_string_equal(sc->client.command, "true");
	assert_int_equal(sc->client.line, 2);
	assert_null(sc->server.command);
	assert_int_equal(sc->server.line, 0);
	assert_int_equal(sc->timeout_us, 10 * 1000 * 1000);
	assert_int_equal(sc->quiet_us, 200 * 1000);
	assert_int_equal(sc->port, 1060);
	assert_string_equal(sc->host, "127.0.0.1");
	assert_int_equal(sc->n_faults + sc->n_expects + sc->n_sysctls, 0);
	assert_string_equal(sc->path, "t.scn");
	scenario_free(sc);
}

static void test_name_is_base_name_without_scn(void **state)
{
	struct scenario *sc = NULL;
	struct lab_err err;

	(void)state;
	assert_int_equal(scenario_parse_text("scenarios/sub/server_down.scn", HEAD, &sc, &err), 0);
	assert_string_equal(sc->name, "server_down");
	assert_string_equal(sc->path, "scenarios/sub/server_down.scn");
	scenario_free(sc);
	assert_int_equal(scenario_parse_text("notes.txt", HEAD, &sc, &err), 0);
	assert_string_equal(sc->name, "notes.txt");
	scenario_free(sc);
}

static void test_settings_fill_their_fields(void **state)
{
	struct scenario *sc = parse_ok(HEAD "timeout 2s\nquiet 50ms\nport 8080\nhost 127.1.2.3\n");

	(void)state;
	assert_int_equal(sc->timeout_us, 2 * 1000 * 1000);
	assert_int_equal(sc->quiet_us, 50 * 1000);
	assert_int_equal(sc->port, 8080);
	assert_string_equal(sc->host, "127.1.2.3");
	scenario_free(sc);
}

static void test_durations_accept_every_unit(void **state)
{
	struct scenario *sc = parse_ok(HEAD "timeout 1m\nquiet 500us\n");

	(void)state;
	assert_int_equal(sc->timeout_us, 60LL * 1000 * 1000);
	assert_int_equal(sc->quiet_us, 500);
	scenario_free(sc);
}

static void test_host_accepts_ipv6_loopback(void **state)
{
	struct scenario *sc = parse_ok(HEAD "host ::1\n");

	(void)state;
	assert_string_equal(sc->host, "::1");
	scenario_free(sc);
}

static void test_host_outside_loopback_is_rejected(void **state)
{
	(void)state;
	assert_error(
		HEAD "host 10.0.0.1\n",
		"t.scn:3:6: bad host \"10.0.0.1\": the lab runs on loopback only (use 127.x.x.x or ::1)");
	assert_error(
		HEAD "host localhost\n",
		"t.scn:3:6: bad host \"localhost\": the lab runs on loopback only (use 127.x.x.x or ::1)");
}

static void test_port_out_of_range_is_rejected(void **state)
{
	(void)state;
	assert_error(HEAD "port 0\n",
		     "t.scn:3:6: bad port \"0\": expected a whole number from 1 to 65535");
	assert_error(HEAD "port 65536\n",
		     "t.scn:3:6: bad port \"65536\": expected a whole number from 1 to 65535");
}

static void test_capture_payload_sets_the_budget(void **state)
{
	struct scenario *sc = parse_ok(HEAD);

	(void)state;
	assert_int_equal(sc->capture_payload_bytes, -1); /* the lab's default */
	scenario_free(sc);
	sc = parse_ok(HEAD "capture payload 64KiB\n");
	assert_int_equal(sc->capture_payload_bytes, 65536);
	scenario_free(sc);
	sc = parse_ok(HEAD "capture payload all\n");
	assert_int_equal(sc->capture_payload_bytes, INT64_MAX);
	scenario_free(sc);
	assert_error(HEAD "capture payload 1MiB\ncapture payload 2MiB\n",
		     "t.scn:4:1: duplicate \"capture\" (first set on line 3)");
	assert_error(HEAD "capture payload\n",
		     "t.scn:3:16: expected a size (or \"all\") after \"payload\"");
	assert_error(HEAD "capture paylod 1MiB\n",
		     "t.scn:3:9: unknown capture setting \"paylod\" (did you mean \"payload\"?)");
}

static void test_sysctl_lines_keep_name_value_and_order(void **state)
{
	struct scenario *sc = parse_ok(HEAD "sysctl net.ipv4.tcp_rmem \"4096 4096 4096\"\n"
					    "sysctl net.core.somaxconn 16\n");

	(void)state;
	assert_int_equal(sc->n_sysctls, 2);
	assert_string_equal(sc->sysctls[0].name, "net.ipv4.tcp_rmem");
	assert_string_equal(sc->sysctls[0].value, "4096 4096 4096");
	assert_int_equal(sc->sysctls[0].line, 3);
	assert_string_equal(sc->sysctls[1].name, "net.core.somaxconn");
	assert_string_equal(sc->sysctls[1].value, "16");
	scenario_free(sc);
}

static void test_sysctl_outside_net_is_rejected(void **state)
{
	(void)state;
	assert_error(
		HEAD "sysctl kernel.panic 1\n",
		"t.scn:3:8: sysctl \"kernel.panic\" is not allowed: only net.* sysctls belong to the lab's network namespace");
	assert_error(
		HEAD "sysctl net..x 1\n",
		"t.scn:3:8: bad sysctl name \"net..x\": use letters, digits, _ and - between single dots");
}

static void test_duplicate_sysctl_name_is_rejected(void **state)
{
	(void)state;
	assert_error(HEAD "sysctl net.a 1\nsysctl net.a 2\n",
		     "t.scn:4:8: duplicate sysctl \"net.a\" (first set on line 3)");
}

static void test_program_command_is_rest_of_line_verbatim(void **state)
{
	struct scenario *sc =
		parse_ok("scenario \"s\"\n"
			 "server   tcp_sixteen server $HOST -p \"$PORT\" # not a comment  \n"
			 "client\techo 'a  b'\n");

	(void)state;
	assert_string_equal(sc->server.command,
			    "tcp_sixteen server $HOST -p \"$PORT\" # not a comment");
	assert_int_equal(sc->server.line, 2);
	assert_string_equal(sc->client.command, "echo 'a  b'");
	assert_int_equal(sc->client.line, 3);
	scenario_free(sc);
}

static void test_comments_and_blank_lines_are_ignored(void **state)
{
	struct scenario *sc =
		parse_ok("# a story\n\n   \t\nscenario \"s # not a comment\" # but this is\n"
			 "timeout 3s# right after\nclient true\n");

	(void)state;
	assert_string_equal(sc->summary, "s # not a comment");
	assert_int_equal(sc->timeout_us, 3 * 1000 * 1000);
	scenario_free(sc);
}

static void test_string_escapes_are_decoded(void **state)
{
	struct scenario *sc =
		parse_ok(HEAD "expect client stdout contains \"a\\\"b\\\\c\\nd\\te\"\n");

	(void)state;
	assert_string_equal(sc->expects[0].text, "a\"b\\c\nd\te");
	scenario_free(sc);
}

static void test_crlf_line_ends_are_accepted(void **state)
{
	struct scenario *sc = parse_ok("scenario \"s\"\r\nclient true\r\ntimeout 2s\r\n");

	(void)state;
	assert_string_equal(sc->client.command, "true");
	assert_int_equal(sc->timeout_us, 2 * 1000 * 1000);
	scenario_free(sc);
	assert_error("scenario \"s\"\r\nclient true\r\ntimeout 2\r\n",
		     "t.scn:3:9: bad duration \"2\": a duration needs a unit (us, ms, s, m)");
}

/* ---- faults ------------------------------------------------------------------ */

static void test_fault_send_and_recv_max_take_sizes(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault client send max 1", &f);

	(void)state;
	assert_int_equal(f->kind, FAULT_SEND_MAX);
	assert_int_equal(f->who, WHO_CLIENT);
	assert_int_equal(f->bytes, 1);
	assert_int_equal(f->line, 4);
	scenario_free(sc);
	sc = parse_fault("fault server recv max 64KiB", &f);
	assert_int_equal(f->kind, FAULT_RECV_MAX);
	assert_int_equal(f->who, WHO_SERVER);
	assert_int_equal(f->bytes, 65536);
	scenario_free(sc);
}

static void test_fault_delays_take_durations(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault server recv delay 250ms", &f);

	(void)state;
	assert_int_equal(f->kind, FAULT_RECV_DELAY);
	assert_int_equal(f->delay_us, 250000);
	scenario_free(sc);
	sc = parse_fault("fault client send delay 2s", &f);
	assert_int_equal(f->kind, FAULT_SEND_DELAY);
	assert_int_equal(f->delay_us, 2000000);
	scenario_free(sc);
}

static void test_fault_error_defaults_to_every_call(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault client error connect ECONNREFUSED", &f);

	(void)state;
	assert_int_equal(f->kind, FAULT_ERROR);
	assert_string_equal(f->call, "connect");
	assert_int_equal(f->errno_value, ECONNREFUSED);
	assert_int_equal(f->when, WHEN_ALWAYS);
	scenario_free(sc);
}

static void test_fault_error_legal_marks_the_rule(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault client error recv EINTR every 2 legal", &f);

	(void)state;
	assert_true(f->legal);
	assert_int_equal(f->when, WHEN_EVERY);
	assert_int_equal(f->when_n, 2);
	scenario_free(sc);
	sc = parse_fault("fault server error send EAGAIN legal", &f);
	assert_true(f->legal);
	assert_int_equal(f->when, WHEN_ALWAYS);
	scenario_free(sc);
	sc = parse_fault("fault server error send EAGAIN once", &f);
	assert_false(f->legal);
	scenario_free(sc);
	assert_error(HEAD "fault client error recv ECONNRESET once legal\n",
		     "t.scn:3:41: \"legal\" knows EINTR and EAGAIN (EWOULDBLOCK) only: the "
		     "kernel decides when the others happen");
	assert_error(HEAD "fault client error recv EINTR once legal now\n",
		     "t.scn:3:42: unexpected \"now\" after a complete directive");
}

static void test_explore_narrows_the_kinds(void **state)
{
	struct scenario *sc =
		parse_ok(HEAD "server true\nexplore server off\nexplore client without eintr "
			      "send-delay\n");

	(void)state;
	assert_int_equal(sc->explore_kinds[WHO_SERVER], 0);
	assert_int_equal(sc->explore_kinds[WHO_CLIENT],
			 EXPLORE_ALL & ~(EXPLORE_EINTR | EXPLORE_SEND_DELAY));
	assert_int_equal(sc->explore_line[WHO_CLIENT], 5);
	scenario_free(sc);
	sc = parse_ok(HEAD);
	assert_int_equal(sc->explore_kinds[WHO_CLIENT], EXPLORE_ALL);
	scenario_free(sc);
	assert_error(HEAD "explore client without eintx\n",
		     "t.scn:3:24: unknown explore kind \"eintx\" (did you mean \"eintr\"?)");
	assert_error(HEAD "explore client off\nexplore client off\n",
		     "t.scn:4:1: duplicate \"explore client\" (first set on line 3)");
	assert_error("scenario \"a test\"\nclient true\nexplore server off\n",
		     "t.scn:3:9: explore on \"server\" but there is no server line");
	assert_error(HEAD "explore client without\n",
		     "t.scn:3:23: expected the kinds to leave out after \"without\" (send-max, "
		     "recv-max, eintr, eagain, send-delay, recv-delay)");
}

static void test_explore_narrows_the_link(void **state)
{
	struct scenario *sc = parse_ok(HEAD "explore link without loss delay\nlink loss 1%\n");

	(void)state;
	assert_int_equal(sc->explore_link_kinds, EXPLORE_LINK_REORDER | EXPLORE_LINK_DUPLICATE);
	assert_int_equal(sc->explore_link_line, 3);
	assert_int_equal(sc->explore_kinds[WHO_CLIENT], EXPLORE_ALL);
	scenario_free(sc);
	sc = parse_ok(HEAD "link delay 1ms\nexplore link off\n");
	assert_int_equal(sc->explore_link_kinds, 0);
	scenario_free(sc);
	sc = parse_ok(HEAD "link delay 1ms\n");
	assert_int_equal(sc->explore_link_kinds, EXPLORE_LINK_ALL);
	scenario_free(sc);
	assert_error(HEAD "explore link off\n",
		     "t.scn:3:9: explore on \"link\" but there is no link line");
	assert_error(HEAD "link delay 1ms\nexplore link without los\n",
		     "t.scn:4:22: unknown explore kind \"los\" (did you mean \"loss\"?)");
	assert_error(HEAD "link delay 1ms\nexplore link without eintr\n",
		     "t.scn:4:22: unknown explore kind \"eintr\" (expected loss, reorder, "
		     "duplicate or delay)");
	assert_error(HEAD "link delay 1ms\nexplore link off\nexplore link off\n",
		     "t.scn:5:1: duplicate \"explore link\" (first set on line 4)");
	assert_error(HEAD "link delay 1ms\nexplore link without\n",
		     "t.scn:4:21: expected the kinds to leave out after \"without\" (loss, "
		     "reorder, duplicate, delay)");
}

static void test_fault_error_once_every_and_after(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault client error send EINTR every 3", &f);

	(void)state;
	assert_int_equal(f->when, WHEN_EVERY);
	assert_int_equal(f->when_n, 3);
	assert_int_equal(f->errno_value, EINTR);
	scenario_free(sc);
	sc = parse_fault("fault server error recvfrom EWOULDBLOCK once", &f);
	assert_int_equal(f->when, WHEN_ONCE);
	assert_int_equal(f->errno_value, EAGAIN);
	assert_string_equal(f->call, "recvfrom");
	scenario_free(sc);
	sc = parse_fault("fault client error write EPIPE after 1MiB", &f);
	assert_int_equal(f->when, WHEN_AFTER);
	assert_int_equal(f->when_n, 1 << 20);
	scenario_free(sc);
}

static void test_fault_error_unknown_errno_suggests_a_name(void **state)
{
	(void)state;
	assert_error(HEAD "fault client error send EINTRR\n",
		     "t.scn:3:25: unknown errno name \"EINTRR\" (did you mean \"EINTR\"?)");
	assert_error(
		HEAD "fault client error send 4\n",
		"t.scn:3:25: unknown errno name \"4\" (expected a name such as EINTR, EAGAIN or ECONNRESET)");
}

static void test_fault_buffers_take_rcv_and_snd_in_any_order(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault client buffers snd 4KiB rcv 2KB", &f);

	(void)state;
	assert_int_equal(f->kind, FAULT_BUFFERS);
	assert_int_equal(f->sndbuf_bytes, 4096);
	assert_int_equal(f->rcvbuf_bytes, 2000);
	scenario_free(sc);
	sc = parse_fault("fault server buffers rcv 1024", &f);
	assert_int_equal(f->rcvbuf_bytes, 1024);
	assert_int_equal(f->sndbuf_bytes, 0);
	scenario_free(sc);
}

static void test_fault_buffers_need_rcv_or_snd(void **state)
{
	(void)state;
	assert_error(HEAD "fault client buffers\n",
		     "t.scn:3:21: expected rcv or snd after \"buffers\"");
}

static void test_fault_close_after_takes_a_size(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault client close after 5", &f);

	(void)state;
	assert_int_equal(f->kind, FAULT_CLOSE_AFTER);
	assert_int_equal(f->bytes, 5);
	assert_int_equal(f->who, WHO_CLIENT);
	scenario_free(sc);
	sc = parse_fault("fault client close after 1KiB", &f);
	assert_int_equal(f->bytes, 1024);
	scenario_free(sc);
}

static void test_fault_reset_pause_and_kill(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault server reset after 16", &f);

	(void)state;
	assert_int_equal(f->kind, FAULT_RESET_AFTER);
	assert_int_equal(f->bytes, 16);
	scenario_free(sc);
	sc = parse_fault("fault client pause at 1s for 500ms", &f);
	assert_int_equal(f->kind, FAULT_PAUSE);
	assert_int_equal(f->at_us, 1000000);
	assert_int_equal(f->for_us, 500000);
	scenario_free(sc);
	sc = parse_fault("fault server kill at 0s", &f);
	assert_int_equal(f->kind, FAULT_KILL);
	assert_int_equal(f->at_us, 0);
	scenario_free(sc);
	sc = parse_fault("fault server pause after 16KiB for 1s", &f);
	assert_int_equal(f->kind, FAULT_PAUSE);
	assert_true(f->at_us < 0);
	assert_int_equal(f->bytes, 16384);
	assert_int_equal(f->for_us, 1000000);
	scenario_free(sc);
	sc = parse_fault("fault server kill after 64KiB", &f);
	assert_int_equal(f->kind, FAULT_KILL);
	assert_true(f->at_us < 0);
	assert_int_equal(f->bytes, 65536);
	scenario_free(sc);
}

static void test_fault_on_absent_server_is_rejected(void **state)
{
	(void)state;
	assert_error(HEAD "fault server send max 1\n",
		     "t.scn:3:7: fault on \"server\" but there is no server line");
}

static void test_fault_on_server_declared_later_is_accepted(void **state)
{
	struct scenario *sc = parse_ok(HEAD "fault server send max 1\nserver true\n");

	(void)state;
	assert_int_equal(sc->n_faults, 1);
	scenario_free(sc);
}

static void test_fault_times_must_be_before_timeout_set_later(void **state)
{
	(void)state;
	assert_error(HEAD "fault client pause at 3s for 1s\ntimeout 2s\n",
		     "t.scn:3:23: pause at 3s is not before the timeout (2s)");
	assert_error(HEAD "fault client pause at 1s for 2s\ntimeout 2s\n",
		     "t.scn:3:30: pause for 2s is not shorter than the timeout (2s)");
	assert_error(HEAD "fault client kill at 10s\n",
		     "t.scn:3:22: kill at 10s is not before the timeout (10s)");
}

static void test_duplicate_single_value_fault_is_rejected(void **state)
{
	(void)state;
	assert_error(HEAD "fault client send max 1\nfault client send max 2\n",
		     "t.scn:4:1: duplicate fault \"send max\" on client (first set on line 3)");
}

static void test_unknown_fault_suggests_the_closest(void **state)
{
	(void)state;
	assert_error(HEAD "fault client sned max 1\n",
		     "t.scn:3:14: unknown fault \"sned\" (did you mean \"send\"?)");
	assert_error(HEAD "fault clint send max 1\n",
		     "t.scn:3:7: unknown program \"clint\" (did you mean \"client\"?)");
}

static void test_send_max_zero_is_rejected(void **state)
{
	(void)state;
	assert_error(HEAD "fault client send max 0\n",
		     "t.scn:3:23: bad size \"0\": at least 1 byte must move");
}

/* ---- expectations ------------------------------------------------------------ */

static void test_expect_exit_defaults_to_equal(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect client exit 1", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_EXIT);
	assert_int_equal(e->who, WHO_CLIENT);
	assert_int_equal(e->op, OP_EQ);
	assert_int_equal(e->value, 1);
	assert_int_equal(e->line, 4);
	assert_int_equal(e->col, 1);
	scenario_free(sc);
}

static void test_expect_exit_takes_an_operator(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect server exit != 0", &e);

	(void)state;
	assert_int_equal(e->who, WHO_SERVER);
	assert_int_equal(e->op, OP_NE);
	assert_int_equal(e->value, 0);
	scenario_free(sc);
}

static void test_expect_exit_code_out_of_range_is_rejected(void **state)
{
	(void)state;
	assert_error(HEAD "expect client exit 256\n",
		     "t.scn:3:20: bad exit code \"256\": expected a whole number from 0 to 255");
	assert_error(HEAD "expect client exit = 1\n",
		     "t.scn:3:20: unknown operator \"=\" (did you mean \"==\"?)");
}

static void test_expect_killed_and_signal(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect client killed", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_KILLED);
	scenario_free(sc);
	sc = parse_expect("expect server signal SIGKILL", &e);
	assert_int_equal(e->kind, EXPECT_SIGNAL);
	assert_int_equal(e->value, SIGKILL);
	scenario_free(sc);
	sc = parse_expect("expect client signal TERM", &e);
	assert_int_equal(e->value, SIGTERM);
	scenario_free(sc);
}

static void test_expect_unknown_signal_suggests_a_name(void **state)
{
	(void)state;
	assert_error(HEAD "expect client signal SIGTREM\n",
		     "t.scn:3:22: unknown signal \"SIGTREM\" (did you mean \"SIGTERM\"?)");
}

static void test_expect_output_contains_and_not_matches(void **state)
{
	const struct expectation *e;
	struct scenario *sc =
		parse_expect("expect client stdout contains \"Farewell, client\"", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_OUTPUT);
	assert_int_equal(e->stream, STREAM_STDOUT);
	assert_false(e->regex);
	assert_false(e->negate);
	assert_string_equal(e->text, "Farewell, client");
	scenario_free(sc);
	sc = parse_expect("expect server stderr not matches \"^err(or)?: [0-9]+$\"", &e);
	assert_int_equal(e->stream, STREAM_STDERR);
	assert_true(e->regex);
	assert_true(e->negate);
	assert_string_equal(e->text, "^err(or)?: [0-9]+$");
	scenario_free(sc);
}

static void test_bad_regex_is_reported_at_its_column(void **state)
{
	struct scenario *sc = NULL;
	struct lab_err err;

	(void)state;
	assert_int_equal(scenario_parse_text("t.scn", HEAD "expect client stdout matches \"a(b\"\n",
					     &sc, &err),
			 -1);
	assert_string_equal(err.msg, "t.scn:3:30: bad regular expression \"a(b\": "
				     "Unmatched ( or \\(");
}

static void test_output_text_must_be_quoted(void **state)
{
	(void)state;
	assert_error(HEAD "expect client stdout contains hello\n",
		     "t.scn:3:31: the text must be in double quotes");
}

static void test_expect_outcome_handshake_teardown(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect outcome deadlock", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_OUTCOME);
	assert_int_equal(e->value, OUTCOME_DEADLOCK);
	scenario_free(sc);
	sc = parse_expect("expect handshake unanswered", &e);
	assert_int_equal(e->kind, EXPECT_HANDSHAKE);
	assert_int_equal(e->value, HANDSHAKE_UNANSWERED);
	scenario_free(sc);
	sc = parse_expect("expect teardown reset", &e);
	assert_int_equal(e->kind, EXPECT_TEARDOWN);
	assert_int_equal(e->value, TEARDOWN_RESET);
	scenario_free(sc);
}

static void test_expect_unknown_handshake_lists_the_choices(void **state)
{
	(void)state;
	assert_error(
		HEAD "expect handshake broken\n",
		"t.scn:3:18: unknown handshake \"broken\" (expected complete, refused, unanswered or none)");
}

static void test_expect_deadlock_within(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect deadlock within 2s", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_DEADLOCK_WITHIN);
	assert_int_equal(e->value, 2000000);
	scenario_free(sc);
	assert_error(HEAD "expect deadlock within 20s\n",
		     "t.scn:3:24: deadlock within 20s is longer than the timeout (10s)");
}

static void test_packets_filter_expands_port_and_host_set_later(void **state)
{
	struct scenario *sc =
		parse_ok(HEAD "expect packets \"dst port $PORT and dst host $HOST\" == 1\n"
			      "port 2000\nhost 127.0.0.5\n");

	(void)state;
	assert_int_equal(sc->expects[0].kind, EXPECT_PACKETS);
	assert_string_equal(sc->expects[0].text, "dst port 2000 and dst host 127.0.0.5");
	assert_int_equal(sc->expects[0].op, OP_EQ);
	assert_int_equal(sc->expects[0].value, 1);
	scenario_free(sc);
}

static void test_packets_filter_rejects_unknown_variables(void **state)
{
	(void)state;
	assert_error(
		HEAD "expect packets \"port $PORTS\" > 0\n",
		"t.scn:3:16: unknown variable \"$PORTS\" in the filter (only $PORT and $HOST are replaced)");
}

static void test_expect_zero_window_defaults_to_at_least_one(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect zero-window from server", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_ZERO_WINDOW);
	assert_int_equal(e->who, WHO_SERVER);
	assert_int_equal(e->op, OP_GE);
	assert_int_equal(e->value, 1);
	scenario_free(sc);
	sc = parse_expect("expect zero-window from client == 0", &e);
	assert_int_equal(e->op, OP_EQ);
	assert_int_equal(e->value, 0);
	scenario_free(sc);
}

static void test_expect_counts_of_probes_and_retransmissions(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect window-probes from client >= 2", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_WINDOW_PROBES);
	assert_int_equal(e->who, WHO_CLIENT);
	assert_int_equal(e->op, OP_GE);
	assert_int_equal(e->value, 2);
	scenario_free(sc);
	sc = parse_expect("expect retransmissions < 3", &e);
	assert_int_equal(e->kind, EXPECT_RETRANSMISSIONS);
	assert_int_equal(e->op, OP_LT);
	assert_int_equal(e->value, 3);
	scenario_free(sc);
	sc = parse_expect("expect resends from server >= 1", &e);
	assert_int_equal(e->kind, EXPECT_RESENDS);
	assert_int_equal(e->who, WHO_SERVER);
	assert_int_equal(e->op, OP_GE);
	assert_int_equal(e->value, 1);
	scenario_free(sc);
}

static void test_expect_bytes_names_the_sender(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect bytes client->server == 16", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_BYTES);
	assert_int_equal(e->who, WHO_CLIENT);
	assert_int_equal(e->value, 16);
	scenario_free(sc);
	sc = parse_expect("expect bytes server->client > 1GiB", &e);
	assert_int_equal(e->who, WHO_SERVER);
	assert_int_equal(e->op, OP_GT);
	assert_int_equal(e->value, 1LL << 30);
	scenario_free(sc);
}

static void test_expect_segments_and_duration(void **state)
{
	const struct expectation *e;
	struct scenario *sc = parse_expect("expect segments from client payload <= 1", &e);

	(void)state;
	assert_int_equal(e->kind, EXPECT_SEGMENTS_PAYLOAD);
	assert_int_equal(e->op, OP_LE);
	assert_int_equal(e->value, 1);
	scenario_free(sc);
	sc = parse_expect("expect duration < 500ms", &e);
	assert_int_equal(e->kind, EXPECT_DURATION);
	assert_int_equal(e->op, OP_LT);
	assert_int_equal(e->value, 500000);
	scenario_free(sc);
}

static void test_expect_source_is_trimmed_without_comment(void **state)
{
	struct scenario *sc = parse_ok(HEAD "  expect   client exit 0   # it works\n");

	(void)state;
	assert_string_equal(sc->expects[0].source, "expect   client exit 0");
	assert_int_equal(sc->expects[0].col, 3);
	scenario_free(sc);
}

static void test_expect_about_absent_server_is_rejected(void **state)
{
	(void)state;
	assert_error(HEAD "expect server exit 0\n",
		     "t.scn:3:8: expectation about \"server\" but there is no server line");
	assert_error(HEAD "expect bytes server->client == 0\n",
		     "t.scn:3:14: expectation about \"server\" but there is no server line");
}

static void test_unknown_expectation_suggests_the_closest(void **state)
{
	(void)state;
	assert_error(HEAD "expect client exti 0\n",
		     "t.scn:3:15: unknown expectation \"exti\" (did you mean \"exit\"?)");
	assert_error(
		HEAD "expect retransmisions > 0\n",
		"t.scn:3:8: unknown expectation \"retransmisions\" (did you mean \"retransmissions\"?)");
}

static void test_missing_fixed_word_is_named(void **state)
{
	(void)state;
	assert_error(HEAD "fault client pause\n",
		     "t.scn:3:19: expected \"at\" or \"after\" after \"pause\"");
	assert_error(HEAD "fault client pause in 1s for 1s\n",
		     "t.scn:3:20: expected \"at\" or \"after\", not \"in\"");
	assert_error(HEAD "expect deadlock witin 1s\n",
		     "t.scn:3:17: unknown word \"witin\" (did you mean \"within\"?)");
}

static void test_missing_operator_lists_the_operators(void **state)
{
	(void)state;
	assert_error(HEAD "expect retransmissions\n",
		     "t.scn:3:23: expected ==, !=, <, <=, > or >= after \"retransmissions\"");
}

/* ---- lexical and structural errors ------------------------------------------- */

static void test_unknown_directive_suggests_the_closest(void **state)
{
	(void)state;
	assert_error("scenario \"s\"\nclient true\nsever x\n",
		     "t.scn:3:1: unknown directive \"sever\" (did you mean \"server\"?)");
}

static void test_unknown_directive_without_near_match_lists_directives(void **state)
{
	(void)state;
	assert_error(
		"bogus\n",
		"t.scn:1:1: unknown directive \"bogus\" (expected scenario, timeout, quiet, hang, port, host, sysctl, server, client, fault, expect, link, capture or explore)");
}

static void test_unterminated_string_reports_line_and_column(void **state)
{
	(void)state;
	assert_error("# x\nscenario \"no end\n", "t.scn:2:10: unterminated string");
	assert_error("scenario \"ends in backslash\\", "t.scn:1:10: unterminated string");
}

static void test_unknown_escape_reports_its_column(void **state)
{
	(void)state;
	assert_error("scenario \"a\\qb\"\n",
		     "t.scn:1:12: unknown escape \"\\q\" in string (use \\\", \\\\, \\n or \\t)");
}

static void test_string_needs_a_space_after_the_quote(void **state)
{
	(void)state;
	assert_error("scenario \"a\"b\n", "t.scn:1:13: expected a space after the closing quote");
	assert_error("scenario a\"b\"\n", "t.scn:1:11: expected a space before the quote");
}

static void test_duration_without_unit_is_an_error(void **state)
{
	(void)state;
	assert_error(HEAD "\ntimeout 10\n",
		     "t.scn:4:9: bad duration \"10\": a duration needs a unit (us, ms, s, m)");
}

static void test_bad_durations_say_why(void **state)
{
	(void)state;
	assert_error(HEAD "timeout 10x\n",
		     "t.scn:3:9: bad duration \"10x\": unknown unit \"x\" (use us, ms, s or m)");
	assert_error(
		HEAD "timeout 1.5s\n",
		"t.scn:3:9: bad duration \"1.5s\": use a whole number with a smaller unit (e.g. 1500ms, not 1.5s)");
	assert_error(HEAD "timeout -1s\n",
		     "t.scn:3:9: bad duration \"-1s\": a duration cannot be negative");
	assert_error(
		HEAD "timeout soon\n",
		"t.scn:3:9: bad duration \"soon\": expected a number and a unit, e.g. 250ms or 2s");
	assert_error(HEAD "quiet 99999999999999999m\n",
		     "t.scn:3:7: bad duration \"99999999999999999m\": too large");
	assert_error(HEAD "timeout \"2s\"\n",
		     "t.scn:3:9: expected a duration, not a quoted string");
}

static void test_timeout_must_be_positive_and_at_most_an_hour(void **state)
{
	(void)state;
	assert_error(HEAD "timeout 0s\n", "t.scn:3:9: bad timeout \"0s\": it must be more than 0");
	assert_error(HEAD "timeout 61m\n",
		     "t.scn:3:9: bad timeout \"61m\": it must be at most 1h (60m)");
}

static void test_bad_sizes_say_why(void **state)
{
	(void)state;
	assert_error(
		HEAD "server true\nfault server recv max 64kb\n",
		"t.scn:4:23: bad size \"64kb\": unknown unit \"kb\" (use B, KiB, MiB, GiB, TiB for powers of 1024 or KB, MB, GB, TB for powers of 1000)");
	assert_error(HEAD "fault client reset after -1\n",
		     "t.scn:3:26: bad size \"-1\": a size cannot be negative");
	assert_error(HEAD "fault client reset after 9000000000GiB\n",
		     "t.scn:3:26: bad size \"9000000000GiB\": too large");
	assert_error(HEAD "fault client reset after 99999999999999999999\n",
		     "t.scn:3:26: bad size \"99999999999999999999\": too large");
}

static void test_sizes_use_binary_and_decimal_units(void **state)
{
	const struct fault *f;
	struct scenario *sc = parse_fault("fault client reset after 3MB", &f);

	(void)state;
	assert_int_equal(f->bytes, 3000000);
	scenario_free(sc);
	sc = parse_fault("fault client reset after 3MiB", &f);
	assert_int_equal(f->bytes, 3 << 20);
	scenario_free(sc);
}

static void test_duplicate_setting_names_the_first_line(void **state)
{
	(void)state;
	assert_error(HEAD "timeout 2s\n\ntimeout 3s\n",
		     "t.scn:5:1: duplicate \"timeout\" (first set on line 3)");
	assert_error(HEAD "client false\n",
		     "t.scn:3:1: duplicate \"client\" (first set on line 2)");
	assert_error(HEAD "scenario \"again\"\n",
		     "t.scn:3:1: duplicate \"scenario\" (first set on line 1)");
}

static void test_missing_client_is_reported_at_line_one(void **state)
{
	(void)state;
	assert_error("scenario \"s\"\nserver true\n",
		     "t.scn:1:1: no client line: a scenario needs \"client COMMAND\"");
}

static void test_missing_summary_is_reported_at_line_one(void **state)
{
	(void)state;
	assert_error(
		"client true\n",
		"t.scn:1:1: no scenario line: a scenario needs a summary, scenario \"SUMMARY\"");
	assert_error(
		"",
		"t.scn:1:1: no scenario line: a scenario needs a summary, scenario \"SUMMARY\"");
}

static void test_empty_client_command_is_rejected(void **state)
{
	(void)state;
	assert_error("scenario \"s\"\nclient   \n",
		     "t.scn:2:7: expected a command after \"client\"");
	assert_error(
		"scenario \"s\"\nclient # later\n",
		"t.scn:2:8: the command starts with \"#\": comments are not allowed on client lines");
}

static void test_trailing_token_after_directive_is_named(void **state)
{
	(void)state;
	assert_error(HEAD "timeout 2s 3s\n",
		     "t.scn:3:12: unexpected \"3s\" after a complete directive");
	assert_error(HEAD "expect outcome completed \"x\"\n",
		     "t.scn:3:26: unexpected \"x\" after a complete directive");
}

static void test_missing_value_is_reported_after_the_last_token(void **state)
{
	(void)state;
	assert_error(HEAD "timeout\n", "t.scn:3:8: expected a duration after \"timeout\"");
	assert_error(HEAD "timeout   # nothing\n",
		     "t.scn:3:8: expected a duration after \"timeout\"");
}

static void test_columns_count_characters_not_bytes(void **state)
{
	(void)state;
	assert_error("scenario \"épée\" x\n",
		     "t.scn:1:17: unexpected \"x\" after a complete directive");
}

static void test_invalid_utf8_and_control_characters_are_rejected(void **state)
{
	(void)state;
	assert_error("scenario \"a\xff\"\n", "t.scn:1:12: invalid UTF-8");
	assert_error("scenario \"a\x01\"\n", "t.scn:1:12: control character 0x01");
	assert_error("scenario \"a\rb\"\n",
		     "t.scn:1:12: control character 0x0D (a carriage return not at the line end)");
}

static void test_long_line_is_rejected(void **state)
{
	char *text = malloc(5000);

	(void)state;
	memset(text, 'x', 4999);
	memcpy(text, "# ", 2);
	text[4999] = '\0';
	assert_error(text, "t.scn:1:4097: line too long (4999 bytes; at most 4096)");
	free(text);
}

static void test_more_than_1000_expectations_are_rejected(void **state)
{
	const char *line = "expect retransmissions >= 0\n";
	size_t len = strlen(line);
	char *text = malloc(sizeof(HEAD) + 1001 * len);
	char *end = text + strlen(HEAD);

	(void)state;
	strcpy(text, HEAD);
	for (int i = 0; i < 1001; i++, end += len)
		memcpy(end, line, len);
	*end = '\0';
	assert_error(text, "t.scn:1003:1: too many expectations (at most 1000)");
	free(text);
}

/* ---- files -------------------------------------------------------------------- */

static char *write_temp(const char *contents, size_t len)
{
	const char *dir = getenv("TEST_TMPDIR");
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/scnXXXXXX", dir ? dir : "/tmp") > 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, contents, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_parse_file_reads_a_file(void **state)
{
	char *path = write_temp(HEAD "timeout 1s\n", strlen(HEAD "timeout 1s\n"));
	struct scenario *sc = NULL;
	struct lab_err err;

	(void)state;
	assert_int_equal(scenario_parse_file(path, &sc, &err), 0);
	assert_int_equal(sc->timeout_us, 1000000);
	assert_string_equal(sc->path, path);
	scenario_free(sc);
	unlink(path);
	free(path);
}

static void test_parse_file_reports_nul_byte_position(void **state)
{
	static const char contents[] = "scenario \"s\"\nclient tr\0ue\n";
	char *path = write_temp(contents, sizeof(contents) - 1);
	struct scenario *sc = NULL;
	struct lab_err err;
	char expected[4200];

	(void)state;
	assert_int_equal(scenario_parse_file(path, &sc, &err), -1);
	snprintf(expected, sizeof(expected), "%s:2:10: NUL byte (is this a text file?)", path);
	assert_string_equal(err.msg, expected);
	unlink(path);
	free(path);
}

static void test_parse_file_reports_unreadable_file(void **state)
{
	struct scenario *sc = NULL;
	struct lab_err err;

	(void)state;
	assert_int_equal(scenario_parse_file("/nonexistent/x.scn", &sc, &err), -1);
	assert_null(sc);
	assert_string_equal(err.msg, "/nonexistent/x.scn: cannot read: No such file or directory");
}

/* ---- helpers ------------------------------------------------------------------ */

static void test_op_holds_for_each_operator(void **state)
{
	(void)state;
	assert_true(scenario_op_holds(OP_EQ, 3, 3));
	assert_false(scenario_op_holds(OP_EQ, 3, 4));
	assert_true(scenario_op_holds(OP_NE, 3, 4));
	assert_false(scenario_op_holds(OP_NE, 4, 4));
	assert_true(scenario_op_holds(OP_LT, 3, 4));
	assert_false(scenario_op_holds(OP_LT, 4, 4));
	assert_true(scenario_op_holds(OP_LE, 4, 4));
	assert_false(scenario_op_holds(OP_LE, 5, 4));
	assert_true(scenario_op_holds(OP_GT, 5, 4));
	assert_false(scenario_op_holds(OP_GT, 4, 4));
	assert_true(scenario_op_holds(OP_GE, 4, 4));
	assert_false(scenario_op_holds(OP_GE, 3, 4));
}

static void test_names_match_the_language(void **state)
{
	(void)state;
	assert_string_equal(scenario_who_name(WHO_CLIENT), "client");
	assert_string_equal(scenario_who_name(WHO_SERVER), "server");
	assert_string_equal(scenario_op_text(OP_LE), "<=");
	assert_string_equal(scenario_op_text(OP_NE), "!=");
	assert_string_equal(scenario_outcome_name(OUTCOME_TIMEOUT), "timeout");
	assert_string_equal(scenario_handshake_name(HANDSHAKE_REFUSED), "refused");
	assert_string_equal(scenario_teardown_name(TEARDOWN_FIN), "fin");
}

/* ---- the documented examples --------------------------------------------------- */

static void test_server_down_example_parses(void **state)
{
	struct scenario *sc = parse_ok(
		"# scenarios/server_down.scn\n"
		"scenario \"Client connects while no server listens\"\n"
		"timeout 2s\n"
		"\n"
		"client tcp_sixteen client $HOST -p $PORT\n"
		"\n"
		"expect client exit 1\n"
		"expect client stderr contains \"Connection refused\"\n"
		"expect handshake refused\n"
		"expect packets \"tcp[tcpflags] & tcp-syn != 0 and dst port $PORT\" == 1\n"
		"expect packets \"tcp[tcpflags] & tcp-rst != 0 and src port $PORT\" == 1\n");

	(void)state;
	assert_int_equal(sc->n_expects, 5);
	assert_string_equal(sc->expects[4].text, "tcp[tcpflags] & tcp-rst != 0 and src port 1060");
	assert_string_equal(
		sc->expects[4].source,
		"expect packets \"tcp[tcpflags] & tcp-rst != 0 and src port $PORT\" == 1");
	scenario_free(sc);
}

static void test_deadlock_example_parses(void **state)
{
	struct scenario *sc = parse_ok(
		"scenario \"Client sends 1 GiB without reading the echo: both directions fill up\"\n"
		"timeout 10s\n"
		"server tcp_deadlock server $HOST -p $PORT\n"
		"client tcp_deadlock client $HOST 1073741824 -p $PORT\n"
		"expect outcome deadlock\n"
		"expect deadlock within 2s\n"
		"expect zero-window from client\n"
		"expect zero-window from server\n");

	(void)state;
	assert_int_equal(sc->n_expects, 4);
	assert_int_equal(sc->expects[3].who, WHO_SERVER);
	scenario_free(sc);
}

static void test_sixteen_example_parses(void **state)
{
	struct scenario *sc = parse_ok(
		"# scenarios/sixteen.scn\n"
		"scenario \"Client and server exchange sixteen bytes each way, then close\"\n"
		"timeout 5s\n"
		"\n"
		"server tcp_sixteen server $HOST -p $PORT\n"
		"client tcp_sixteen client $HOST -p $PORT\n"
		"\n"
		"expect outcome completed\n"
		"expect client exit 0\n"
		"expect client stdout contains \"The server said b'Farewell, client'\"\n"
		"expect server stdout contains \"Reply sent, socket closed\"\n"
		"expect handshake complete\n"
		"expect teardown fin\n"
		"expect bytes client->server == 16   # \"Hi there, server\"\n"
		"expect bytes server->client == 16   # \"Farewell, client\"\n");

	(void)state;
	assert_int_equal(sc->n_expects, 8);
	assert_string_equal(sc->expects[7].source, "expect bytes server->client == 16");
	assert_int_equal(sc->expects[7].line, 15);
	scenario_free(sc);
}

static void test_partial_sends_example_parses(void **state)
{
	struct scenario *sc = parse_ok(
		"scenario \"Every send() moves one byte; a sendall-style loop still delivers all 16\"\n"
		"server tcp_sixteen server $HOST -p $PORT\n"
		"client tcp_sixteen client $HOST -p $PORT\n"
		"fault client send max 1\n"
		"\n"
		"expect client exit 0\n"
		"expect client stdout contains \"Farewell, client\"\n"
		"expect segments from client payload <= 1\n"
		"expect bytes client->server == 16\n");

	(void)state;
	assert_int_equal(sc->n_faults, 1);
	assert_int_equal(sc->n_expects, 4);
	scenario_free(sc);
}

static void test_hang_settings(void **state)
{
	struct scenario *sc;

	(void)state;
	sc = parse_ok(HEAD "hang after 2s\n");
	assert_int_equal(sc->hang_after_us, 2000 * 1000);
	scenario_free(sc);
	sc = parse_ok(HEAD "hang off\n");
	assert_int_equal(sc->hang_after_us, SCENARIO_HANG_OFF);
	scenario_free(sc);
	sc = parse_ok(HEAD);
	assert_int_equal(sc->hang_after_us, 0); /* the default: quiet */
	scenario_free(sc);
	assert_error(HEAD "hang off\nhang after 1s\n",
		     "t.scn:4:1: duplicate \"hang\" (first set on line 3)");
	assert_error(HEAD "hang off 2s\n",
		     "t.scn:3:10: unexpected \"2s\" after a complete directive");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hang_settings),
		cmocka_unit_test(test_minimal_scenario_gets_the_defaults),
		cmocka_unit_test(test_name_is_base_name_without_scn),
		cmocka_unit_test(test_settings_fill_their_fields),
		cmocka_unit_test(test_durations_accept_every_unit),
		cmocka_unit_test(test_host_accepts_ipv6_loopback),
		cmocka_unit_test(test_host_outside_loopback_is_rejected),
		cmocka_unit_test(test_port_out_of_range_is_rejected),
		cmocka_unit_test(test_capture_payload_sets_the_budget),
		cmocka_unit_test(test_sysctl_lines_keep_name_value_and_order),
		cmocka_unit_test(test_sysctl_outside_net_is_rejected),
		cmocka_unit_test(test_duplicate_sysctl_name_is_rejected),
		cmocka_unit_test(test_program_command_is_rest_of_line_verbatim),
		cmocka_unit_test(test_comments_and_blank_lines_are_ignored),
		cmocka_unit_test(test_string_escapes_are_decoded),
		cmocka_unit_test(test_crlf_line_ends_are_accepted),
		cmocka_unit_test(test_fault_send_and_recv_max_take_sizes),
		cmocka_unit_test(test_fault_delays_take_durations),
		cmocka_unit_test(test_no_link_line_means_no_link),
		cmocka_unit_test(test_link_lines_fill_each_direction),
		cmocka_unit_test(test_link_defaults_seed_and_mtu),
		cmocka_unit_test(test_link_rates_are_si_bits_per_second),
		cmocka_unit_test(test_link_bad_values_name_line_and_column),
		cmocka_unit_test(test_link_refuses_ipv6_host),
		cmocka_unit_test(test_expect_rtt_and_link_dropped),
		cmocka_unit_test(test_fault_error_defaults_to_every_call),
		cmocka_unit_test(test_fault_error_once_every_and_after),
		cmocka_unit_test(test_fault_error_unknown_errno_suggests_a_name),
		cmocka_unit_test(test_fault_buffers_take_rcv_and_snd_in_any_order),
		cmocka_unit_test(test_fault_buffers_need_rcv_or_snd),
		cmocka_unit_test(test_fault_close_after_takes_a_size),
		cmocka_unit_test(test_fault_reset_pause_and_kill),
		cmocka_unit_test(test_fault_on_absent_server_is_rejected),
		cmocka_unit_test(test_fault_on_server_declared_later_is_accepted),
		cmocka_unit_test(test_fault_times_must_be_before_timeout_set_later),
		cmocka_unit_test(test_duplicate_single_value_fault_is_rejected),
		cmocka_unit_test(test_unknown_fault_suggests_the_closest),
		cmocka_unit_test(test_send_max_zero_is_rejected),
		cmocka_unit_test(test_expect_exit_defaults_to_equal),
		cmocka_unit_test(test_expect_exit_takes_an_operator),
		cmocka_unit_test(test_expect_exit_code_out_of_range_is_rejected),
		cmocka_unit_test(test_expect_killed_and_signal),
		cmocka_unit_test(test_expect_unknown_signal_suggests_a_name),
		cmocka_unit_test(test_expect_output_contains_and_not_matches),
		cmocka_unit_test(test_bad_regex_is_reported_at_its_column),
		cmocka_unit_test(test_output_text_must_be_quoted),
		cmocka_unit_test(test_expect_outcome_handshake_teardown),
		cmocka_unit_test(test_expect_unknown_handshake_lists_the_choices),
		cmocka_unit_test(test_expect_deadlock_within),
		cmocka_unit_test(test_packets_filter_expands_port_and_host_set_later),
		cmocka_unit_test(test_packets_filter_rejects_unknown_variables),
		cmocka_unit_test(test_expect_zero_window_defaults_to_at_least_one),
		cmocka_unit_test(test_expect_counts_of_probes_and_retransmissions),
		cmocka_unit_test(test_expect_bytes_names_the_sender),
		cmocka_unit_test(test_expect_segments_and_duration),
		cmocka_unit_test(test_expect_source_is_trimmed_without_comment),
		cmocka_unit_test(test_expect_about_absent_server_is_rejected),
		cmocka_unit_test(test_unknown_expectation_suggests_the_closest),
		cmocka_unit_test(test_missing_fixed_word_is_named),
		cmocka_unit_test(test_missing_operator_lists_the_operators),
		cmocka_unit_test(test_unknown_directive_suggests_the_closest),
		cmocka_unit_test(test_unknown_directive_without_near_match_lists_directives),
		cmocka_unit_test(test_fault_error_legal_marks_the_rule),
		cmocka_unit_test(test_explore_narrows_the_kinds),
		cmocka_unit_test(test_explore_narrows_the_link),
		cmocka_unit_test(test_unterminated_string_reports_line_and_column),
		cmocka_unit_test(test_unknown_escape_reports_its_column),
		cmocka_unit_test(test_string_needs_a_space_after_the_quote),
		cmocka_unit_test(test_duration_without_unit_is_an_error),
		cmocka_unit_test(test_bad_durations_say_why),
		cmocka_unit_test(test_timeout_must_be_positive_and_at_most_an_hour),
		cmocka_unit_test(test_bad_sizes_say_why),
		cmocka_unit_test(test_sizes_use_binary_and_decimal_units),
		cmocka_unit_test(test_duplicate_setting_names_the_first_line),
		cmocka_unit_test(test_missing_client_is_reported_at_line_one),
		cmocka_unit_test(test_missing_summary_is_reported_at_line_one),
		cmocka_unit_test(test_empty_client_command_is_rejected),
		cmocka_unit_test(test_trailing_token_after_directive_is_named),
		cmocka_unit_test(test_missing_value_is_reported_after_the_last_token),
		cmocka_unit_test(test_columns_count_characters_not_bytes),
		cmocka_unit_test(test_invalid_utf8_and_control_characters_are_rejected),
		cmocka_unit_test(test_long_line_is_rejected),
		cmocka_unit_test(test_more_than_1000_expectations_are_rejected),
		cmocka_unit_test(test_parse_file_reads_a_file),
		cmocka_unit_test(test_parse_file_reports_nul_byte_position),
		cmocka_unit_test(test_parse_file_reports_unreadable_file),
		cmocka_unit_test(test_op_holds_for_each_operator),
		cmocka_unit_test(test_names_match_the_language),
		cmocka_unit_test(test_server_down_example_parses),
		cmocka_unit_test(test_deadlock_example_parses),
		cmocka_unit_test(test_sixteen_example_parses),
		cmocka_unit_test(test_partial_sends_example_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
