/* explore_runs: attempts and the search of `tcplab explore` (explore_runs.h). */
#include "lab/cli/explore_runs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/cli/judge.h"
#include "lab/run/proc.h"

/* A thread of its own: run_scenario enters the run's namespaces for good. */
static void *attempt_thread(void *arg)
{
	struct attempt *a = arg;
	struct lab_err err;

	a->item.sc = &a->view;
	a->item.pcap_path = a->rec.pcap_path;
	if (run_scenario(&a->view, a->opts, &a->rec, &err) < 0) {
		a->item.status = REPORT_ERROR;
		a->item.rec = &a->rec;
		a->item.pcap_path = NULL;
		snprintf(a->item.error, sizeof(a->item.error), "%s", err.msg);
		return NULL;
	}
	a->item.rec = &a->rec;
	judge_item(&a->view, &a->rec, a->rec.pcap_path, NULL, false, &a->item, &a->facts, &err);
	return NULL;
}

/* The scenario says its run ends at the timeout (`expect outcome timeout`). */
static bool expects_timeout(const struct scenario *sc)
{
	for (size_t i = 0; i < sc->n_expects; i++)
		if (sc->expects[i].kind == EXPECT_OUTCOME &&
		    sc->expects[i].value == OUTCOME_TIMEOUT)
			return true;
	return false;
}

int attempt_run(struct attempt *a, const struct scenario *sc, const struct explore_schedule *s,
		const char *name, const struct run_opts *opts, bool keep_pcap)
{
	pthread_t t;

	memset(a, 0, sizeof(*a));
	a->sched = *s;
	a->opts = opts;
	a->faults = calloc(sc->n_faults + s->n + 1, sizeof(*a->faults));
	if (a->faults == NULL)
		return -1;
	explore_apply(sc, s, a->faults, &a->view);
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->view.name = a->name;
	if (pthread_create(&t, NULL, attempt_thread, a) != 0)
		return -1;
	pthread_join(t, NULL);
	run_finish(&a->rec);
	if (a->item.status == REPORT_ERROR) {
		a->error = true;
	} else if (a->item.status == REPORT_FAIL) {
		a->failed = true;
		for (size_t i = 0; i < a->view.n_expects; i++) {
			if (!a->item.verdicts[i].held) {
				a->failed_line = a->view.expects[i].line;
				a->failed_source = a->view.expects[i].source;
				a->failed_text = a->item.verdicts[i].text;
				break;
			}
		}
	}
	if (a->failed && a->rec.outcome == OUTCOME_TIMEOUT && !expects_timeout(&a->view)) {
		a->failed = false;
		a->timed_out = true;
	}
	if (!keep_pcap && a->rec.pcap_path[0] != '\0')
		unlink(a->rec.pcap_path);
	return 0;
}

void attempt_release(struct attempt *a)
{
	free(a->item.verdicts);
	a->item.verdicts = NULL;
	facts_free(a->facts);
	a->facts = NULL;
	a->item.facts = NULL;
	run_record_release(&a->rec);
	free(a->faults);
	a->faults = NULL;
}

/* The index of the shim's error rule for the fault at position i of a's
 * schedule: the shim numbers a program's error rules in the order of its fault
 * lines, the scenario's own first, then the schedule's. */
static int error_rule_index(const struct attempt *a, size_t i)
{
	enum scenario_who who = a->sched.faults[i].who;
	int index = 0;

	for (size_t j = 0; j < a->view.n_faults - a->sched.n + i; j++)
		if (a->view.faults[j].who == who && a->view.faults[j].kind == FAULT_ERROR)
			index++;
	return index;
}

/* What the link says it did, per link kind drawn (once per run). */
static void count_wire(struct explore_counts *c, const struct attempt *a)
{
	const struct run_link *l = &a->rec.link;
	unsigned drawn = 0, fired = 0;

	for (size_t i = 0; i < a->sched.n_wire; i++) {
		const struct explore_wire *w = &a->sched.wire[i];
		unsigned kind = explore_wire_kind(w);
		bool did = false;

		drawn |= kind;
		switch (w->shape) {
		case WIRE_LOSS:
			did = l->dropped[w->dir][LINK_DROP_LOSS] > 0;
			break;
		case WIRE_DROP_DATA:
			did = l->dropped[w->dir][LINK_DROP_FILTER] > 0;
			break;
		case WIRE_REORDER:
			did = l->reordered[w->dir] > 0;
			break;
		case WIRE_DUPLICATE:
			did = l->duplicated[w->dir] > 0;
			break;
		case WIRE_DELAY:
			did = l->delayed[w->dir] > 0;
			break;
		}
		if (did)
			fired |= kind;
	}
	for (int k = 0; k < EXPLORE_LINK_KINDS; k++) {
		c->link_drawn[k] += (drawn >> k) & 1;
		c->link_fired[k] += (fired >> k) & 1;
	}
}

/* What the shim says it did in a program, per kind drawn: the calls cut or
 * delayed, and for EINTR and EAGAIN the times its own rule fired. */
static void count_attempt(struct explore_counts *c, const struct attempt *a)
{
	for (size_t i = 0; i < a->sched.n; i++) {
		const struct fault *f = &a->sched.faults[i];
		const struct shim_stats *st = &a->rec.side[f->who].shim;
		unsigned kind = explore_fault_kind(f);
		int k = __builtin_ctz(kind);
		int rule;
		bool fired = false;

		c->drawn[f->who][k]++;
		switch (kind) {
		case EXPLORE_SEND_MAX:
			fired = st->short_sends > 0;
			break;
		case EXPLORE_RECV_MAX:
			fired = st->short_recvs > 0;
			break;
		case EXPLORE_EINTR:
		case EXPLORE_EAGAIN:
			rule = error_rule_index(a, i);
			fired = rule < SHIM_MAX_ERRORS && st->error_rule_fired[rule] > 0;
			break;
		case EXPLORE_SEND_DELAY:
			fired = st->send_delays > 0;
			break;
		case EXPLORE_RECV_DELAY:
			fired = st->recv_delays > 0;
			break;
		}
		if (fired)
			c->fired[f->who][k]++;
	}
	count_wire(c, a);
}

static void running_remove(struct search *s, uint64_t run)
{
	for (int i = 0; i < s->n_running; i++) {
		if (s->running[i] == run) {
			s->running[i] = s->running[--s->n_running];
			return;
		}
	}
}

static void *search_worker(void *arg)
{
	struct search *s = arg;

	for (;;) {
		struct explore_schedule sched;
		struct attempt *a;
		char name[300];
		uint64_t run;
		int64_t start_us;

		pthread_mutex_lock(&s->lock);
		run = s->next;
		if (run >= s->runs || run > s->failing_run || s->errored != NULL ||
		    (s->deadline_us > 0 && proc_now_us() >= s->deadline_us) ||
		    (s->interrupted != NULL && atomic_load(s->interrupted))) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		s->next++;
		if (s->n_running < 256)
			s->running[s->n_running++] = run;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);

		explore_draw(s->sc, s->seed, run, &sched);
		snprintf(name, sizeof(name), "%s.explore-%llu", s->sc->name,
			 (unsigned long long)run);
		a = calloc(1, sizeof(*a));
		start_us = proc_now_us();
		if (a == NULL || attempt_run(a, s->sc, &sched, name, s->opts, false) < 0) {
			if (a != NULL) {
				a->error = true;
				snprintf(a->item.error, sizeof(a->item.error),
					 "out of memory or threads");
			}
		}

		pthread_mutex_lock(&s->lock);
		s->busy_us += proc_now_us() - start_us;
		running_remove(s, run);
		s->done++;
		if (a == NULL) {
			/* nothing to keep; stop the search */
			s->failing_run = 0;
		} else if (a->error && !(s->interrupted && atomic_load(s->interrupted))) {
			if (s->errored == NULL) {
				s->errored = a;
				a = NULL;
			}
		} else if (!a->error) {
			count_attempt(&s->counts, a);
			if (a->timed_out) {
				s->timed_out++;
				if (run < s->first_timed_out)
					s->first_timed_out = run;
			}
			if (a->failed && run < s->failing_run) {
				if (s->failing != NULL) {
					attempt_release(s->failing);
					free(s->failing);
				}
				s->failing = a;
				s->failing_run = run;
				a = NULL;
			}
		}
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		if (a != NULL) {
			attempt_release(a);
			free(a);
		}
	}
}

void search_run(struct search *s, int jobs, void (*tick)(struct search *, void *), void *arg)
{
	pthread_t workers[256];
	int started = 0;

	s->next = 0;
	s->done = 0;
	s->n_running = 0;
	s->failing_run = UINT64_MAX;
	s->timed_out = 0;
	s->first_timed_out = UINT64_MAX;
	s->failing = NULL;
	s->errored = NULL;
	for (int w = 0; w < jobs && w < 256; w++)
		if (pthread_create(&workers[started], NULL, search_worker, s) == 0)
			started++;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct timespec until;
		bool more = s->n_running > 0 ||
			    (s->next < s->runs && s->next <= s->failing_run && s->errored == NULL &&
			     (s->deadline_us == 0 || proc_now_us() < s->deadline_us) &&
			     !(s->interrupted != NULL && atomic_load(s->interrupted)));

		if (!more || started == 0)
			break;
		if (tick != NULL)
			tick(s, arg);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->changed, &s->lock, &until);
	}
	pthread_mutex_unlock(&s->lock);
	for (int w = 0; w < started; w++)
		pthread_join(workers[w], NULL);
}
