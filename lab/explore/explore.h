/* explore: the search of `tcplab explore`. Draws, from a seed, a schedule of legal
 * perturbations for one run of a scenario (short writes, short reads, EINTR and
 * EAGAIN where the kernel could return them, delays), expressed as extra `fault`
 * lines; and shrinks a failing schedule to a smallest one that still fails. It runs
 * nothing and prints nothing: the caller runs each schedule and says whether it
 * failed. What is drawn, how often, and why each perturbation is legal:
 * docs/explore.md. */
#ifndef TCPLAB_EXPLORE_H
#define TCPLAB_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/common/err.h"
#include "lab/scenario/scenario.h"

/* The seed `tcplab explore` uses without --seed. */
#define EXPLORE_DEFAULT_SEED 1

/* Two programs, at most eight fault lines each: send and recv max, EINTR and
 * EAGAIN on send and on recv, send and recv delay. */
#define EXPLORE_MAX_FAULTS 16

/* A perturbation of the wire (a scenario with link lines), one `link DIR ...`
 * line added to the scenario's own. */
enum explore_wire_shape {
	WIRE_LOSS,      /* link DIR loss PERCENT */
	WIRE_DROP_DATA, /* link DIR drop "<segments with data>" once | first N */
	WIRE_REORDER,   /* link DIR reorder PERCENT */
	WIRE_DUPLICATE, /* link DIR duplicate PERCENT */
	WIRE_DELAY,     /* link DIR delay DURATION */
};

struct explore_wire {
	enum scenario_link_dir dir;
	enum explore_wire_shape shape;
	int64_t pcm;      /* LOSS, REORDER, DUPLICATE: percent in pcm (1% = 1000) */
	int64_t first_n;  /* DROP_DATA: the first N segments with data (1: once) */
	int64_t delay_us; /* DELAY */
};

/* The filter of WIRE_DROP_DATA: TCP segments that carry data (so never a SYN,
 * a pure ACK or a bare FIN), in tcpdump syntax for raw IP. */
#define EXPLORE_DATA_FILTER "tcp and ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) > 0"

/* Both directions, at most one of each of the four link kinds each. */
#define EXPLORE_MAX_WIRE (2 * EXPLORE_LINK_KINDS)

/* The perturbations of one run: fault lines added to the scenario's own (each
 * has line 0: it comes from no line of the file), link lines for a scenario
 * with a wire, and the link's seed. */
struct explore_schedule {
	struct fault faults[EXPLORE_MAX_FAULTS];
	size_t n;
	struct explore_wire wire[EXPLORE_MAX_WIRE];
	size_t n_wire;
	/* `link seed`: drawn with the wire (the random choices of loss, reorder
	 * and duplicate come from it); 0 keeps the scenario's own. */
	uint64_t link_seed;
};

/* Draws the schedule of run number `run` (0, 1, ...) of the exploration with
 * `seed`: the same (seed, run, scenario) always gives the same schedule, so
 * `--replay SEED:RUN` repeats a run and `--seed S` a whole exploration. Only the
 * kinds the scenario leaves to explore (sc->explore_kinds) are drawn, and none a
 * program already has a fault line of. A schedule holds at least one perturbation
 * unless nothing may be drawn (then out->n is 0). */
void explore_draw(const struct scenario *sc, uint64_t seed, uint64_t run,
		  struct explore_schedule *out);

/* Makes *view a copy of *sc (sharing its strings and arrays) whose faults are
 * sc's followed by the schedule's, in faults_buf (room for at least
 * sc->n_faults + s->n), and whose link has the schedule's link lines and seed.
 * Nothing to free: view lives as long as sc and faults_buf. */
void explore_apply(const struct scenario *sc, const struct explore_schedule *s,
		   struct fault *faults_buf, struct scenario *view);

/* The enum scenario_explore_kind bit a fault of a schedule stands for. */
unsigned explore_fault_kind(const struct fault *f);

/* The fault as a line of the scenario language, e.g. "fault server recv max 7",
 * "fault client error recv EINTR every 3 legal", "fault client send delay 2ms". */
void explore_fault_line(const struct fault *f, char *buf, size_t len);

/* The enum scenario_explore_link_kind bit a wire perturbation stands for. */
unsigned explore_wire_kind(const struct explore_wire *w);

/* The wire perturbation as a line of the scenario language, e.g.
 * "link client->server loss 2%", "link server->client delay 5ms". */
void explore_wire_line(const struct explore_wire *w, char *buf, size_t len);

/* Line i (0, 1, ...) of the schedule as the scenario language writes it: its
 * fault lines, then its link lines, then `link seed N` when a link line draws
 * at random. False when there is no line i. */
bool explore_schedule_line(const struct explore_schedule *s, size_t i, char *buf, size_t len);

/* Shrinking. Start with a failing schedule; ask for candidates one at a time,
 * run each and give its result, until explore_shrink_next says there is none
 * left; then `best` is the smallest schedule seen failing. Candidates first drop
 * one perturbation at a time (a fault or a link line; the link seed stays),
 * then make each one milder: a larger size for send and recv max, a rarer error
 * (every N with a larger N, then once), a shorter delay, a smaller percentage
 * of loss, reordering and duplication, fewer segments dropped, each by
 * bisection. The index runs over the faults, then the link lines. */
struct explore_shrink {
	struct explore_schedule best;
	struct explore_schedule candidate;
	int phase;       /* 0 dropping, 1 milder, 2 done */
	size_t index;    /* the fault being worked on */
	bool dropped;    /* phase 0: something was dropped in this sweep */
	int64_t lo;      /* phase 1: the mildest value seen failing (for the fault at index) */
	int64_t hi;      /* phase 1: the value beyond which it passed (or the limit) */
	bool tried_once; /* phase 1, errors: `once` was tried */
	int steps;       /* candidates asked for */
};

void explore_shrink_start(struct explore_shrink *sh, const struct explore_schedule *failing);

/* The next candidate in *cand; false when shrinking is over. */
bool explore_shrink_next(struct explore_shrink *sh, struct explore_schedule *cand);

/* The result of the candidate explore_shrink_next gave last. */
void explore_shrink_result(struct explore_shrink *sh, bool failed);

/* Parses "SEED:RUN" (decimal); -1 with err when it is not that. */
int explore_parse_replay(const char *text, uint64_t *seed, uint64_t *run, struct lab_err *err);

#endif
