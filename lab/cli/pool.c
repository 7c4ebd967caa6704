/* pool: the scenarios of `tcplab run` in worker threads (pool.h). */
#include "lab/cli/pool.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/cli/judge.h"

static void *scenario_thread(void *arg)
{
	struct job *job = arg;
	struct report_item *item = &job->item;
	struct lab_err err;

	item->sc = job->sc;
	item->pcap_path = job->rec.pcap_path;
	if (run_scenario(job->sc, job->run_opts, &job->rec, &err) < 0) {
		item->status = REPORT_ERROR;
		item->rec = &job->rec;
		item->pcap_path = NULL;
		snprintf(item->error, sizeof(item->error), "%s", err.msg);
		return NULL;
	}
	item->rec = &job->rec;
	judge_item(job->sc, &job->rec, job->rec.pcap_path, job->ladder, job->ladder != NULL, item,
		   &job->facts, &err);
	return NULL;
}

void *pool_worker(void *arg)
{
	struct pool *pool = arg;
	size_t i;

	while ((i = atomic_fetch_add(&pool->next, 1)) < pool->n) {
		struct job *job = &pool->jobs[i];
		pthread_t t;

		pthread_mutex_lock(&pool->lock);
		job->started = true;
		pthread_cond_broadcast(&pool->changed);
		pthread_mutex_unlock(&pool->lock);
		if (pthread_create(&t, NULL, scenario_thread, job) == 0) {
			pthread_join(t, NULL);
			run_finish(&job->rec);
		} else {
			job->item.sc = job->sc;
			job->item.status = REPORT_ERROR;
			snprintf(job->item.error, sizeof(job->item.error), "cannot start a thread");
		}
		pthread_mutex_lock(&pool->lock);
		job->done = true;
		pthread_cond_broadcast(&pool->changed);
		pthread_mutex_unlock(&pool->lock);
	}
	return NULL;
}

void pool_show_progress(struct pool *pool, struct progress *progress)
{
	const char *running[256];
	size_t n_running = 0, done = 0;

	if (!progress->enabled)
		return;
	for (size_t i = 0; i < pool->n; i++) {
		if (pool->jobs[i].done)
			done++;
		else if (pool->jobs[i].started && n_running < 256)
			running[n_running++] = pool->jobs[i].sc->name;
	}
	progress_update(progress, done, pool->n, running, n_running);
}

void pool_wait_a_little(struct pool *pool)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 250 * 1000 * 1000;
	if (until.tv_nsec >= 1000 * 1000 * 1000) {
		until.tv_sec++;
		until.tv_nsec -= 1000 * 1000 * 1000;
	}
	pthread_cond_timedwait(&pool->changed, &pool->lock, &until);
}

void pool_release(struct pool *pool)
{
	for (size_t i = 0; pool->jobs != NULL && i < pool->n; i++) {
		free(pool->jobs[i].item.verdicts);
		free(pool->jobs[i].item.fault_verdicts);
		facts_free(pool->jobs[i].facts);
		run_record_release(&pool->jobs[i].rec);
	}
	free(pool->jobs);
	pool->jobs = NULL;
}

static void *interrupt_thread(void *arg)
{
	struct interrupter *in = arg;
	int sig;

	for (;;) {
		if (sigwait(&in->signals, &sig) != 0)
			continue;
		if (atomic_load(&in->stop)) {
			/* Asked twice: no more waiting for teardowns. */
			run_leftovers_remove_all(in->leftovers);
			fprintf(stderr, "tcplab: interrupted again by SIG%s: ending at once\n",
				sigabbrev_np(sig) != NULL ? sigabbrev_np(sig) : "?");
			_exit(128 + sig);
		}
		atomic_store(&in->signal, sig);
		atomic_store(&in->stop, true);
	}
	return NULL;
}

int interrupter_start(struct interrupter *in)
{
	pthread_t tid;

	sigemptyset(&in->signals);
	sigaddset(&in->signals, SIGINT);
	sigaddset(&in->signals, SIGTERM);
	sigaddset(&in->signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &in->signals, NULL);
	if (pthread_create(&tid, NULL, interrupt_thread, in) != 0)
		return -1;
	pthread_detach(tid);
	return 0;
}
