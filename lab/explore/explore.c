/* explore: schedules drawn from a seed, applied to a scenario, shrunk (explore.h).
 * The numbers (how likely each kind is, which sizes and delays) are documented,
 * with the reasons, in docs/explore.md: keep the two in step. */
#include "lab/explore/explore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/shim/shim_config.h"

/* ---- the generator: splitmix64, small, fast and the same everywhere --------- */

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the bias of % is below 2^-40 for the n used here). */
static uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return rng_next(state) % n;
}

static bool rng_chance(uint64_t *state, unsigned percent)
{
	return rng_below(state, 100) < percent;
}

/* Percent of runs in which each kind is drawn for a program. EINTR and EAGAIN
 * are drawn for the send and the receive direction independently, each with
 * this chance. A short write or read is likelier when the same direction is
 * interrupted: the signal that makes a blocking call fail with EINTR when it
 * has moved nothing makes it return short when it has moved some, so a program
 * that meets one meets the other. */
#define MAX_PERCENT 40
#define MAX_WITH_EINTR_PERCENT 80
#define ERROR_PERCENT 30
#define DELAY_PERCENT 15

/* Sizes for send and recv max: mostly tiny (where framing bugs live), sometimes
 * a few segments' worth. */
static int64_t draw_size(uint64_t *state)
{
	unsigned r = (unsigned)rng_below(state, 100);

	if (r < 50)
		return 1 + (int64_t)rng_below(state, 8); /* 1..8 */
	if (r < 75)
		return 9 + (int64_t)rng_below(state, 56); /* 9..64 */
	if (r < 90)
		return 65 + (int64_t)rng_below(state, 960); /* 65..1024 */
	return 1025 + (int64_t)rng_below(state, 15360);     /* 1025..16384 */
}

/* When EINTR and EAGAIN strike: a third of the time `once` (the first call
 * where the kernel could, which is often the only one in a short exchange), a
 * third `every 2` (every other call: the second, fourth ...: after some
 * progress, where restarting and resuming bugs live), a third every N-th such
 * call, N from 3 to 8. Never every call: a program that retries must be able
 * to make progress. */
static void draw_when(uint64_t *state, struct fault *f)
{
	unsigned r = (unsigned)rng_below(state, 3);
	int64_t n = 3 + (int64_t)rng_below(state, 6);

	f->when = r == 0 ? WHEN_ONCE : WHEN_EVERY;
	f->when_n = r == 0 ? 0 : r == 1 ? 2 : n;
}

/* A delay in multiples of 50 us, roughly log-uniform from 50 us to 2 ms. */
static int64_t draw_delay_us(uint64_t *state)
{
	static const int64_t steps_us[] = { 50, 100, 200, 500, 1000, 2000 };
	int64_t top = steps_us[rng_below(state, sizeof(steps_us) / sizeof(steps_us[0]))];

	return 50 * (1 + (int64_t)rng_below(state, (uint64_t)(top / 50)));
}

/* Delays on a direction whose calls are cut to a few bytes are kept short, so
 * that a program moving a few KiB a byte at a time still ends well within its
 * timeout. */
#define SMALL_CUT_BYTES 64
#define SMALL_CUT_DELAY_US 200

static bool has_fault(const struct scenario *sc, enum scenario_who who, enum fault_kind kind)
{
	for (size_t i = 0; i < sc->n_faults; i++)
		if (sc->faults[i].who == who && sc->faults[i].kind == kind)
			return true;
	return false;
}

static size_t count_errors(const struct scenario *sc, enum scenario_who who)
{
	size_t n = 0;

	for (size_t i = 0; i < sc->n_faults; i++)
		if (sc->faults[i].who == who && sc->faults[i].kind == FAULT_ERROR)
			n++;
	return n;
}

static const enum fault_kind kind_fault[EXPLORE_KINDS] = {
	FAULT_SEND_MAX, FAULT_RECV_MAX,   FAULT_ERROR,
	FAULT_ERROR,    FAULT_SEND_DELAY, FAULT_RECV_DELAY,
};

/* The kinds that may be drawn for who. */
static unsigned allowed_kinds(const struct scenario *sc, enum scenario_who who)
{
	unsigned allowed = 0;
	size_t errors;

	if (who == WHO_SERVER && sc->server.command == NULL)
		return 0;
	errors = count_errors(sc, who);
	for (int k = 0; k < EXPLORE_KINDS; k++) {
		unsigned bit = 1u << k;

		if (!(sc->explore_kinds[who] & bit))
			continue;
		/* up to two error lines per kind (send and recv): four in all */
		if (kind_fault[k] == FAULT_ERROR ? errors + 4 > SHIM_MAX_ERRORS
						 : has_fault(sc, who, kind_fault[k]))
			continue;
		allowed |= bit;
	}
	return allowed;
}

/* The slots of a program's draw: each is one fault line. */
enum slot {
	SLOT_SEND_MAX,
	SLOT_RECV_MAX,
	SLOT_EINTR_SEND,
	SLOT_EINTR_RECV,
	SLOT_EAGAIN_SEND,
	SLOT_EAGAIN_RECV,
	SLOT_SEND_DELAY,
	SLOT_RECV_DELAY,
	SLOTS,
};

/* Draws every slot for who (the same draws whatever is allowed, so that
 * leaving a kind out does not change the others), keeping the allowed ones. */
static void draw_program(uint64_t *state, enum scenario_who who, unsigned allowed,
			 struct explore_schedule *out)
{
	static const unsigned slot_kind[SLOTS] = {
		EXPLORE_SEND_MAX, EXPLORE_RECV_MAX, EXPLORE_EINTR,      EXPLORE_EINTR,
		EXPLORE_EAGAIN,   EXPLORE_EAGAIN,   EXPLORE_SEND_DELAY, EXPLORE_RECV_DELAY,
	};
	static const enum fault_kind slot_fault[SLOTS] = {
		FAULT_SEND_MAX, FAULT_RECV_MAX, FAULT_ERROR,      FAULT_ERROR,
		FAULT_ERROR,    FAULT_ERROR,    FAULT_SEND_DELAY, FAULT_RECV_DELAY,
	};
	struct fault drawn[SLOTS];
	unsigned roll[SLOTS];
	bool take[SLOTS];

	memset(drawn, 0, sizeof(drawn));
	for (int k = 0; k < SLOTS; k++) {
		struct fault *f = &drawn[k];

		roll[k] = (unsigned)rng_below(state, 100);
		f->who = who;
		f->kind = slot_fault[k];
		switch (k) {
		case SLOT_SEND_MAX:
		case SLOT_RECV_MAX:
			f->bytes = draw_size(state);
			break;
		case SLOT_EINTR_SEND:
		case SLOT_EINTR_RECV:
		case SLOT_EAGAIN_SEND:
		case SLOT_EAGAIN_RECV:
			snprintf(f->call, sizeof(f->call), "%s",
				 k == SLOT_EINTR_SEND || k == SLOT_EAGAIN_SEND ? "send" : "recv");
			f->errno_value = k <= SLOT_EINTR_RECV ? EINTR : EAGAIN;
			draw_when(state, f);
			f->legal = true;
			break;
		default:
			f->delay_us = draw_delay_us(state);
			break;
		}
	}
	for (int k = 0; k < SLOTS; k++) {
		unsigned percent = k <= SLOT_RECV_MAX      ? MAX_PERCENT
				   : k <= SLOT_EAGAIN_RECV ? ERROR_PERCENT
							   : DELAY_PERCENT;

		take[k] = (allowed & slot_kind[k]) != 0;
		if (k == SLOT_SEND_MAX || k == SLOT_RECV_MAX) {
			int eintr = k == SLOT_SEND_MAX ? SLOT_EINTR_SEND : SLOT_EINTR_RECV;

			/* by the roll alone, allowed or not: leaving EINTR out
			 * changes nothing else */
			if (roll[eintr] < ERROR_PERCENT)
				percent = MAX_WITH_EINTR_PERCENT;
		}
		take[k] = take[k] && roll[k] < percent;
	}
	for (int dir = 0; dir < 2; dir++) {
		int max_k = dir == 0 ? SLOT_SEND_MAX : SLOT_RECV_MAX;
		int delay_k = dir == 0 ? SLOT_SEND_DELAY : SLOT_RECV_DELAY;

		if (take[max_k] && take[delay_k] && drawn[max_k].bytes <= SMALL_CUT_BYTES &&
		    drawn[delay_k].delay_us > SMALL_CUT_DELAY_US)
			drawn[delay_k].delay_us = SMALL_CUT_DELAY_US;
	}
	for (int k = 0; k < SLOTS; k++)
		if (take[k] && out->n < EXPLORE_MAX_FAULTS)
			out->faults[out->n++] = drawn[k];
}

/* ---- the wire ------------------------------------------------------------------ */

/* Percent of runs in which each link kind is drawn, per direction. */
#define WIRE_PERCENT 25
/* The one-way delays drawn, and the scenario's timeout over the largest
 * allowed: a 10 s timeout allows 20 ms each way. */
#define WIRE_TIMEOUT_PER_DELAY 500

/* The link kinds an expectation of the scenario measures: drawing them would
 * make a correct program fail. Time (the run's duration, the handshake's RTT,
 * a deadlock's reaction time, zero-window probes, which a timer sends): loss
 * costs retransmission time-outs, reordering holds packets back, delay is
 * time. Packets counted (expect packets, retransmissions, resends, Wireshark's analysis
 * flags, zero windows, probes, segment sizes, which a retransmission may merge):
 * loss, reordering and duplicates add packets and retransmissions. The link's
 * drops: loss. */
static unsigned measured_link_kinds(const struct scenario *sc)
{
	const unsigned time = EXPLORE_LINK_LOSS | EXPLORE_LINK_REORDER | EXPLORE_LINK_DELAY;
	const unsigned packets = EXPLORE_LINK_LOSS | EXPLORE_LINK_REORDER | EXPLORE_LINK_DUPLICATE;
	unsigned kinds = 0;

	for (size_t i = 0; i < sc->n_expects; i++) {
		switch (sc->expects[i].kind) {
		case EXPECT_DURATION:
		case EXPECT_RTT:
		case EXPECT_DEADLOCK_WITHIN:
			kinds |= time;
			break;
		case EXPECT_WINDOW_PROBES:
			kinds |= time | packets;
			break;
		case EXPECT_PACKETS:
		case EXPECT_RETRANSMISSIONS:
		case EXPECT_RESENDS:
		case EXPECT_ANALYSIS:
		case EXPECT_ZERO_WINDOW:
		case EXPECT_SEGMENTS_PAYLOAD:
			kinds |= packets;
			break;
		case EXPECT_LINK_DROPPED:
			kinds |= EXPLORE_LINK_LOSS;
			break;
		default:
			break;
		}
	}
	return kinds;
}

/* The link kinds that may be drawn for direction d: the scenario has a link,
 * leaves the kind to explore, does not set it for d itself and measures
 * nothing it changes. */
static unsigned allowed_wire_kinds(const struct scenario *sc, int d)
{
	const struct scenario_link_dir_faults *f = &sc->link.dir[d];
	unsigned allowed;

	if (sc->link.line == 0)
		return 0;
	allowed = sc->explore_link_kinds & ~measured_link_kinds(sc);
	if (f->loss_pcm != 0 || f->n_filters >= SCENARIO_LINK_MAX_FILTERS)
		allowed &= ~EXPLORE_LINK_LOSS;
	if (f->reorder_pcm != 0)
		allowed &= ~EXPLORE_LINK_REORDER;
	if (f->duplicate_pcm != 0)
		allowed &= ~EXPLORE_LINK_DUPLICATE;
	if (f->delay_us != 0 || f->jitter_us != 0 || sc->timeout_us / WIRE_TIMEOUT_PER_DELAY < 1000)
		allowed &= ~EXPLORE_LINK_DELAY;
	return allowed;
}

/* Draws every link kind for both directions (the same draws whatever is
 * allowed), keeping the allowed ones, and the link's seed. */
static void draw_wire(uint64_t *state, const struct scenario *sc, struct explore_schedule *out)
{
	static const int64_t delays_ms[] = { 1, 2, 5, 10, 20 };
	uint64_t link_seed = 1 + rng_below(state, 1000000);

	for (int d = 0; d < 2; d++) {
		unsigned allowed = allowed_wire_kinds(sc, d);
		int64_t max_delay_us = sc->timeout_us / WIRE_TIMEOUT_PER_DELAY;

		for (int k = 0; k < EXPLORE_LINK_KINDS; k++) {
			struct explore_wire w = { .dir = (enum scenario_link_dir)d };
			bool take = rng_chance(state, WIRE_PERCENT);
			unsigned shape = (unsigned)rng_below(state, 100);
			int64_t a = (int64_t)rng_below(state, 1000);

			switch (1u << k) {
			case EXPLORE_LINK_LOSS:
				/* Half the time random loss, 0.5% to 3%; half the time
				 * the first segments with data (the ones a short
				 * exchange has: a percentage would seldom hit them). */
				if (shape < 50) {
					w.shape = WIRE_LOSS;
					w.pcm = 500 * (1 + a % 6);
				} else {
					w.shape = WIRE_DROP_DATA;
					w.first_n = shape < 80 ? 1 : shape < 92 ? 2 : 3;
				}
				break;
			case EXPLORE_LINK_REORDER: /* 2% to 30% */
				w.shape = WIRE_REORDER;
				w.pcm = 1000 * (2 + a % 29);
				break;
			case EXPLORE_LINK_DUPLICATE: /* 1% to 20% */
				w.shape = WIRE_DUPLICATE;
				w.pcm = 1000 * (1 + a % 20);
				break;
			default: /* 1 ms to 20 ms each way */
				w.shape = WIRE_DELAY;
				w.delay_us = 1000 * delays_ms[a % 5];
				if (w.delay_us > max_delay_us)
					w.delay_us = max_delay_us / 1000 * 1000;
				break;
			}
			if (take && (allowed & (1u << k)) && out->n_wire < EXPLORE_MAX_WIRE)
				out->wire[out->n_wire++] = w;
		}
	}
	/* A scenario's own `link seed` (not 1, the default) stays. */
	if (out->n_wire > 0 && sc->link.seed == 1)
		out->link_seed = link_seed;
}

void explore_draw(const struct scenario *sc, uint64_t seed, uint64_t run,
		  struct explore_schedule *out)
{
	uint64_t state = seed, wire_state;
	unsigned allowed[2] = { allowed_kinds(sc, WHO_CLIENT), allowed_kinds(sc, WHO_SERVER) };
	bool wire = (allowed_wire_kinds(sc, LINK_C2S) | allowed_wire_kinds(sc, LINK_S2C)) != 0;

	memset(out, 0, sizeof(*out));
	/* One stream per run, far apart: mix the run number in. The wire has a
	 * stream of its own, so that a scenario with a link draws the same for
	 * its programs as one without. */
	state = rng_next(&state) ^ (run * 0xd1342543de82ef95ull);
	rng_next(&state);
	wire_state = state ^ 0x5851f42d4c957f2dull;
	if ((allowed[0] | allowed[1]) == 0 && !wire)
		return;
	/* Redraw an empty schedule (each try consumes the streams the same way). */
	for (int attempt = 0; attempt < 16 && out->n + out->n_wire == 0; attempt++) {
		draw_program(&state, WHO_CLIENT, allowed[0], out);
		draw_program(&state, WHO_SERVER, allowed[1], out);
		if (wire)
			draw_wire(&wire_state, sc, out);
	}
	if (out->n + out->n_wire == 0 && (allowed[0] | allowed[1]) != 0) {
		/* unlikely: force the first kind allowed */
		enum scenario_who who = allowed[0] ? WHO_CLIENT : WHO_SERVER;
		unsigned k = allowed[who] & -allowed[who];
		struct explore_schedule one;

		memset(&one, 0, sizeof(one));
		for (int i = 0; i < 1000 && one.n == 0; i++)
			draw_program(&state, who, k, &one);
		if (one.n > 0)
			out->faults[out->n++] = one.faults[0];
	}
}

void explore_apply(const struct scenario *sc, const struct explore_schedule *s,
		   struct fault *faults_buf, struct scenario *view)
{
	*view = *sc;
	if (sc->n_faults > 0)
		memcpy(faults_buf, sc->faults, sc->n_faults * sizeof(*faults_buf));
	if (s->n > 0)
		memcpy(faults_buf + sc->n_faults, s->faults, s->n * sizeof(*faults_buf));
	view->faults = faults_buf;
	view->n_faults = sc->n_faults + s->n;
	for (size_t i = 0; i < s->n_wire; i++) {
		const struct explore_wire *w = &s->wire[i];
		struct scenario_link_dir_faults *f = &view->link.dir[w->dir];

		switch (w->shape) {
		case WIRE_LOSS:
			f->loss_pcm = w->pcm;
			break;
		case WIRE_DROP_DATA:
			if (f->n_filters < SCENARIO_LINK_MAX_FILTERS)
				f->filters[f->n_filters++] = (struct scenario_link_filter){
					.filter = (char *)EXPLORE_DATA_FILTER,
					.mode = w->first_n == 1 ? LINK_FILTER_ONCE
								: LINK_FILTER_FIRST,
					.n = w->first_n,
				};
			break;
		case WIRE_REORDER:
			f->reorder_pcm = w->pcm;
			break;
		case WIRE_DUPLICATE:
			f->duplicate_pcm = w->pcm;
			break;
		case WIRE_DELAY:
			f->delay_us = w->delay_us;
			break;
		}
	}
	if (s->link_seed != 0)
		view->link.seed = s->link_seed;
}

unsigned explore_wire_kind(const struct explore_wire *w)
{
	switch (w->shape) {
	case WIRE_LOSS:
	case WIRE_DROP_DATA:
		return EXPLORE_LINK_LOSS;
	case WIRE_REORDER:
		return EXPLORE_LINK_REORDER;
	case WIRE_DUPLICATE:
		return EXPLORE_LINK_DUPLICATE;
	case WIRE_DELAY:
		return EXPLORE_LINK_DELAY;
	}
	return 0;
}

unsigned explore_fault_kind(const struct fault *f)
{
	switch (f->kind) {
	case FAULT_SEND_MAX:
		return EXPLORE_SEND_MAX;
	case FAULT_RECV_MAX:
		return EXPLORE_RECV_MAX;
	case FAULT_SEND_DELAY:
		return EXPLORE_SEND_DELAY;
	case FAULT_RECV_DELAY:
		return EXPLORE_RECV_DELAY;
	case FAULT_ERROR:
		return f->errno_value == EINTR ? EXPLORE_EINTR : EXPLORE_EAGAIN;
	default:
		return 0;
	}
}

/* "2s", "250ms", "150us": the largest unit that divides exactly. */
static void format_duration(int64_t us, char *buf, size_t len)
{
	if (us != 0 && us % 1000000 == 0)
		snprintf(buf, len, "%" PRId64 "s", us / 1000000);
	else if (us != 0 && us % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "ms", us / 1000);
	else
		snprintf(buf, len, "%" PRId64 "us", us);
}

void explore_fault_line(const struct fault *f, char *buf, size_t len)
{
	const char *who = scenario_who_name(f->who);
	char d1[32], d2[32], when[48] = "";
	const char *errno_name;

	switch (f->kind) {
	case FAULT_SEND_MAX:
	case FAULT_RECV_MAX:
		snprintf(buf, len, "fault %s %s max %" PRId64, who,
			 f->kind == FAULT_SEND_MAX ? "send" : "recv", f->bytes);
		return;
	case FAULT_SEND_DELAY:
	case FAULT_RECV_DELAY:
		format_duration(f->delay_us, d1, sizeof(d1));
		snprintf(buf, len, "fault %s %s delay %s", who,
			 f->kind == FAULT_SEND_DELAY ? "send" : "recv", d1);
		return;
	case FAULT_ERROR:
		errno_name = strerrorname_np(f->errno_value);
		if (f->when == WHEN_ONCE)
			snprintf(when, sizeof(when), " once");
		else if (f->when == WHEN_EVERY)
			snprintf(when, sizeof(when), " every %" PRId64, f->when_n);
		else if (f->when == WHEN_AFTER)
			snprintf(when, sizeof(when), " after %" PRId64, f->when_n);
		snprintf(buf, len, "fault %s error %s %s%s%s", who, f->call,
			 errno_name ? errno_name : "EINVAL", when, f->legal ? " legal" : "");
		return;
	case FAULT_BUFFERS:
		snprintf(buf, len, "fault %s buffers rcv %" PRId64 " snd %" PRId64, who,
			 f->rcvbuf_bytes, f->sndbuf_bytes);
		return;
	case FAULT_RESET_AFTER:
	case FAULT_CLOSE_AFTER:
		snprintf(buf, len, "fault %s %s after %" PRId64, who,
			 f->kind == FAULT_RESET_AFTER ? "reset" : "close", f->bytes);
		return;
	case FAULT_PAUSE:
		format_duration(f->at_us, d1, sizeof(d1));
		format_duration(f->for_us, d2, sizeof(d2));
		snprintf(buf, len, "fault %s pause at %s for %s", who, d1, d2);
		return;
	case FAULT_KILL:
		format_duration(f->at_us, d1, sizeof(d1));
		snprintf(buf, len, "fault %s kill at %s", who, d1);
		return;
	}
	snprintf(buf, len, "fault %s ?", who);
}

/* "2%", "0.5%", "0.125%": pcm as the language writes percentages. */
static void format_percent(int64_t pcm, char *buf, size_t len)
{
	if (pcm % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "%%", pcm / 1000);
	else if (pcm % 100 == 0)
		snprintf(buf, len, "%" PRId64 ".%" PRId64 "%%", pcm / 1000, pcm % 1000 / 100);
	else if (pcm % 10 == 0)
		snprintf(buf, len, "%" PRId64 ".%02" PRId64 "%%", pcm / 1000, pcm % 1000 / 10);
	else
		snprintf(buf, len, "%" PRId64 ".%03" PRId64 "%%", pcm / 1000, pcm % 1000);
}

void explore_wire_line(const struct explore_wire *w, char *buf, size_t len)
{
	const char *dir = w->dir == LINK_C2S ? "client->server" : "server->client";
	char v[32];

	switch (w->shape) {
	case WIRE_LOSS:
	case WIRE_REORDER:
	case WIRE_DUPLICATE:
		format_percent(w->pcm, v, sizeof(v));
		snprintf(buf, len, "link %s %s %s", dir,
			 w->shape == WIRE_LOSS      ? "loss"
			 : w->shape == WIRE_REORDER ? "reorder"
						    : "duplicate",
			 v);
		return;
	case WIRE_DROP_DATA:
		if (w->first_n == 1)
			snprintf(v, sizeof(v), "once");
		else
			snprintf(v, sizeof(v), "first %" PRId64, w->first_n);
		snprintf(buf, len, "link %s drop \"%s\" %s", dir, EXPLORE_DATA_FILTER, v);
		return;
	case WIRE_DELAY:
		format_duration(w->delay_us, v, sizeof(v));
		snprintf(buf, len, "link %s delay %s", dir, v);
		return;
	}
	snprintf(buf, len, "link %s ?", dir);
}

/* Whether some link line of the schedule makes random choices (from the seed). */
static bool wire_random(const struct explore_schedule *s)
{
	for (size_t i = 0; i < s->n_wire; i++)
		if (s->wire[i].shape == WIRE_LOSS || s->wire[i].shape == WIRE_REORDER ||
		    s->wire[i].shape == WIRE_DUPLICATE)
			return true;
	return false;
}

bool explore_schedule_line(const struct explore_schedule *s, size_t i, char *buf, size_t len)
{
	if (i < s->n) {
		explore_fault_line(&s->faults[i], buf, len);
		return true;
	}
	i -= s->n;
	if (i < s->n_wire) {
		explore_wire_line(&s->wire[i], buf, len);
		return true;
	}
	if (i == s->n_wire && s->link_seed != 0 && wire_random(s)) {
		snprintf(buf, len, "link seed %" PRIu64, s->link_seed);
		return true;
	}
	return false;
}

/* ---- shrinking -------------------------------------------------------------- */

/* Candidates asked for at most, whatever the schedule. */
#define SHRINK_MAX_STEPS 80
/* The passing bound of the bisection of send/recv max and of every N. */
#define SHRINK_MAX_BYTES 65536
#define SHRINK_MAX_EVERY 64
/* Delays are bisected to this precision; the link's delays and percentages to
 * these. */
#define SHRINK_DELAY_STEP_US 50
#define SHRINK_WIRE_DELAY_STEP_US 1000
#define SHRINK_WIRE_PCM_STEP 100

/* The perturbations of a schedule: its faults, then its link lines. */
static size_t items(const struct explore_schedule *s)
{
	return s->n + s->n_wire;
}

static void remove_item(struct explore_schedule *s, size_t i)
{
	if (i < s->n) {
		memmove(&s->faults[i], &s->faults[i + 1], (s->n - i - 1) * sizeof(s->faults[0]));
		s->n--;
		return;
	}
	i -= s->n;
	memmove(&s->wire[i], &s->wire[i + 1], (s->n_wire - i - 1) * sizeof(s->wire[0]));
	s->n_wire--;
}

/* An error fault `every N` at item i (it is tried as `once` first). */
static struct fault *every_error(struct explore_schedule *s, size_t i)
{
	if (i < s->n && s->faults[i].kind == FAULT_ERROR && s->faults[i].when == WHEN_EVERY)
		return &s->faults[i];
	return NULL;
}

/* The value phase 1 bisects at item i, its granularity and its passing bound
 * (the mildest: where a value is known or taken to pass); NULL when the item
 * has no such value. */
static int64_t *mild_value(struct explore_schedule *s, size_t i, int64_t *step, int64_t *bound)
{
	*step = 1;
	*bound = 0; /* delays, percentages and drops shrink down */
	if (i < s->n) {
		struct fault *f = &s->faults[i];

		switch (f->kind) {
		case FAULT_SEND_MAX:
		case FAULT_RECV_MAX:
			*bound = SHRINK_MAX_BYTES;
			return &f->bytes;
		case FAULT_SEND_DELAY:
		case FAULT_RECV_DELAY:
			*step = SHRINK_DELAY_STEP_US;
			return &f->delay_us;
		case FAULT_ERROR:
			*bound = SHRINK_MAX_EVERY;
			return f->when == WHEN_EVERY ? &f->when_n : NULL;
		default:
			return NULL;
		}
	}
	if (i - s->n < s->n_wire) {
		struct explore_wire *w = &s->wire[i - s->n];

		switch (w->shape) {
		case WIRE_LOSS:
		case WIRE_REORDER:
		case WIRE_DUPLICATE:
			*step = SHRINK_WIRE_PCM_STEP;
			return &w->pcm;
		case WIRE_DROP_DATA:
			return &w->first_n;
		case WIRE_DELAY:
			*step = SHRINK_WIRE_DELAY_STEP_US;
			return &w->delay_us;
		}
	}
	return NULL;
}

/* Sets lo (failing) and hi (the passing bound) for the item at sh->index. */
static void mild_begin(struct explore_shrink *sh)
{
	int64_t step, bound, *v;

	sh->tried_once = false;
	if (sh->index >= items(&sh->best))
		return;
	v = mild_value(&sh->best, sh->index, &step, &bound);
	if (v == NULL)
		return;
	sh->lo = *v;
	sh->hi = bound;
}

void explore_shrink_start(struct explore_shrink *sh, const struct explore_schedule *failing)
{
	memset(sh, 0, sizeof(*sh));
	sh->best = *failing;
}

/* Phase 1: the next candidate for the item at sh->index, or false when that
 * item is as mild as it gets. */
static bool mild_next(struct explore_shrink *sh, struct explore_schedule *cand)
{
	int64_t step, bound, *v = mild_value(&sh->best, sh->index, &step, &bound);
	int64_t gap = sh->hi > sh->lo ? sh->hi - sh->lo : sh->lo - sh->hi;

	if (every_error(&sh->best, sh->index) != NULL && !sh->tried_once) {
		sh->tried_once = true;
		*cand = sh->best;
		every_error(cand, sh->index)->when = WHEN_ONCE;
		cand->faults[sh->index].when_n = 0;
		return true;
	}
	if (v == NULL || gap <= step)
		return false;
	*cand = sh->best;
	v = mild_value(cand, sh->index, &step, &bound);
	*v = sh->lo + (sh->hi - sh->lo) / 2;
	if (step > 1)
		*v = *v / step * step;
	if (*v == sh->lo || *v == sh->hi || *v <= 0)
		return false;
	return true;
}

bool explore_shrink_next(struct explore_shrink *sh, struct explore_schedule *cand)
{
	if (sh->steps >= SHRINK_MAX_STEPS)
		sh->phase = 2;
	while (sh->phase == 0) {
		if (sh->index < items(&sh->best) && items(&sh->best) > 1) {
			*cand = sh->best;
			remove_item(cand, sh->index);
			sh->candidate = *cand;
			sh->steps++;
			return true;
		}
		sh->phase = 1;
		sh->index = 0;
		mild_begin(sh);
	}
	while (sh->phase == 1) {
		if (sh->index >= items(&sh->best)) {
			sh->phase = 2;
			break;
		}
		if (mild_next(sh, cand)) {
			sh->candidate = *cand;
			sh->steps++;
			return true;
		}
		sh->index++;
		mild_begin(sh);
	}
	return false;
}

void explore_shrink_result(struct explore_shrink *sh, bool failed)
{
	int64_t step, bound, *v;

	if (sh->phase == 0) {
		if (failed)
			sh->best = sh->candidate; /* the next one now sits at index */
		else
			sh->index++;
		return;
	}
	if (sh->phase != 1 || sh->index >= items(&sh->best))
		return;
	if (sh->index < sh->candidate.n && sh->candidate.faults[sh->index].kind == FAULT_ERROR &&
	    sh->candidate.faults[sh->index].when == WHEN_ONCE &&
	    every_error(&sh->best, sh->index) != NULL) {
		if (failed) {
			sh->best = sh->candidate; /* once is as rare as it gets */
			sh->lo = sh->hi;
		}
		return;
	}
	v = mild_value(&sh->candidate, sh->index, &step, &bound);
	if (v == NULL)
		return;
	if (failed) {
		sh->best = sh->candidate;
		sh->lo = *v;
	} else {
		sh->hi = *v;
	}
}

int explore_parse_replay(const char *text, uint64_t *seed, uint64_t *run, struct lab_err *err)
{
	char *end;
	unsigned long long s, r;

	errno = 0;
	if (text[0] < '0' || text[0] > '9')
		goto bad;
	s = strtoull(text, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		goto bad;
	r = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	*seed = s;
	*run = r;
	return 0;
bad:
	return lab_err_set(err, "--replay wants SEED:RUN (two decimal numbers), not \"%s\"", text);
}
