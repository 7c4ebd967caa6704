/* link: the runner's side of the wire (lab/wire), for a scenario with link lines
 * (run_ctx.h): the scenario's link turned into the wire's configuration, the
 * wire's two namespaces given the scenario's sysctls, the relay started before the
 * run and stopped after it, and what the link did into the run record. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/run/run_ctx.h"

struct netns_job {
	int netns_fd;
	const struct scenario *sc;
	struct lab_err err;
	int rc;
};

/* In a thread of its own that enters the namespace and ends: the scenario's
 * sysctls there. */
static void *prepare_netns(void *arg)
{
	struct netns_job *job = arg;

	job->rc = -1;
	if (setns(job->netns_fd, CLONE_NEWNET) < 0) {
		lab_err_sys(&job->err, errno, "cannot enter the wire's namespace");
		return NULL;
	}
	if (sandbox_apply_sysctls(job->sc, &job->err) < 0)
		return NULL;
	job->rc = 0;
	return NULL;
}

static int prepare_side(struct run_ctx *ctx, enum wire_side side, struct lab_err *err)
{
	struct netns_job job = { .netns_fd = wire_netns_fd(ctx->wire, side), .sc = ctx->sc };
	pthread_t t;
	int rc = pthread_create(&t, NULL, prepare_netns, &job);

	if (rc != 0)
		return lab_err_sys(err, rc, "cannot start a thread");
	pthread_join(t, NULL);
	if (job.rc < 0)
		return lab_err_set(err, "%s", job.err.msg);
	return 0;
}

static void wire_faults_of(const struct scenario_link_dir_faults *in, struct wire_faults *out)
{
	static const enum wire_filter_mode modes[] = {
		[LINK_FILTER_ALL] = WIRE_FILTER_ALL,
		[LINK_FILTER_ONCE] = WIRE_FILTER_ONCE,
		[LINK_FILTER_EVERY] = WIRE_FILTER_EVERY,
		[LINK_FILTER_FIRST] = WIRE_FILTER_FIRST,
	};

	memset(out, 0, sizeof(*out));
	out->delay_us = (uint64_t)in->delay_us;
	out->jitter_us = (uint64_t)in->jitter_us;
	out->loss_pcm = (uint32_t)in->loss_pcm;
	out->duplicate_pcm = (uint32_t)in->duplicate_pcm;
	out->reorder_pcm = (uint32_t)in->reorder_pcm;
	out->corrupt_pcm = (uint32_t)in->corrupt_pcm;
	out->rate_bps = (uint64_t)in->rate_bps;
	out->queue_packets = (uint32_t)in->queue_packets;
	for (size_t i = 0; i < in->n_filters && i < WIRE_MAX_FILTERS; i++) {
		snprintf(out->filters[i].expr, sizeof(out->filters[i].expr), "%s",
			 in->filters[i].filter);
		out->filters[i].mode = modes[in->filters[i].mode];
		out->filters[i].n = (uint32_t)in->filters[i].n;
		out->n_filters++;
	}
	for (size_t i = 0; i < in->n_downs && i < WIRE_MAX_DOWNS; i++) {
		out->downs[i].at_us = (uint64_t)in->downs[i].at_us;
		out->downs[i].for_us = (uint64_t)in->downs[i].for_us;
		out->n_downs++;
	}
}

/* The wire for a scenario with link lines: namespaces, sysctls in both, the
 * relay started. The client side's capture is the run's capture. */
int link_start(struct run_ctx *ctx, struct lab_err *err)
{
	const struct scenario_link *link = &ctx->sc->link;
	struct run_record *rec = ctx->rec;
	struct wire_config cfg = { .seed = link->seed, .mtu = (uint32_t)link->mtu_bytes };
	struct lab_err why;
	int64_t budget;

	_Static_assert((int)LINK_DROP_KINDS == (int)WIRE_DROP_KINDS,
		       "scenario_link_drop and wire_drop_kind name the same kinds");
	_Static_assert((int)LINK_DROP_LOSS == (int)WIRE_DROP_LOSS &&
			       (int)LINK_DROP_FILTER == (int)WIRE_DROP_FILTER &&
			       (int)LINK_DROP_QUEUE == (int)WIRE_DROP_QUEUE,
		       "in the same order");
	for (int d = 0; d < 2; d++)
		wire_faults_of(&link->dir[d], &cfg.dir[d]);
	cfg.snaplen = ctx->opts->snaplen > 0 ? (uint32_t)ctx->opts->snaplen : 0;
	budget = run_payload_budget(ctx);
	cfg.payload_budget_on = budget != INT64_MAX;
	cfg.payload_budget_bytes = (uint64_t)budget;
	rec->capture.payload_budget_bytes = budget == INT64_MAX ? UINT64_MAX : (uint64_t)budget;
	/* NAME.pcap (or NAME-2.pcap for a repeat) gives NAME.server.pcap. */
	snprintf(rec->link.server_pcap_path, sizeof(rec->link.server_pcap_path), "%.*s.server.pcap",
		 (int)(strlen(rec->pcap_path) - strlen(".pcap")), rec->pcap_path);
	cfg.client_pcap = rec->pcap_path;
	cfg.server_pcap = rec->link.server_pcap_path;
	rec->link.used = true;
	rec->link.seed = link->seed;
	ctx->wire = wire_new(&cfg, &why);
	if (ctx->wire == NULL)
		return lab_err_set(err, "%s:%d:1: the link: %s", ctx->sc->path, link->line,
				   why.msg);
	if (prepare_side(ctx, WIRE_CLIENT, err) < 0 || prepare_side(ctx, WIRE_SERVER, err) < 0)
		return -1;
	return wire_start(ctx->wire, err);
}

/* Stops the relay and records what the link did; the captures are then complete. */
int link_stop(struct run_ctx *ctx, struct lab_err *err)
{
	struct run_link *out = &ctx->rec->link;
	const struct wire_stats *s;
	int rc = wire_stop(ctx->wire, err);

	s = wire_stats(ctx->wire);
	for (int d = 0; d < 2; d++) {
		const struct wire_link_stats *l = &s->dir[d];

		out->packets[d] = l->packets_in;
		out->delivered[d] = s->delivered[d];
		for (int k = 0; k < LINK_DROP_KINDS; k++)
			out->dropped[d][k] = l->dropped[k];
		out->duplicated[d] = l->duplicated;
		out->reordered[d] = l->reordered;
		out->corrupted[d] = l->corrupted;
		out->delayed[d] = l->delayed;
		out->pending_at_stop[d] = s->pending_at_stop[d];
		out->kernel_drops[d] = s->device[d].tx_dropped;
	}
	ctx->rec->capture.packets = s->captured[WIRE_CLIENT];
	ctx->rec->capture.headers_only = s->headers_only[WIRE_CLIENT];
	/* A packet the kernel dropped before the relay read it is in no capture. */
	ctx->rec->capture.kernel_drops =
		s->device[WIRE_CLIENT].tx_dropped + s->device[WIRE_SERVER].tx_dropped;
	return rc;
}
