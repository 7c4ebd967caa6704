/* wire: the link between the client's and the server's namespaces (see wire.h).
 * wire_new makes both namespaces from a short-lived thread (a thread that unshares
 * its network namespace cannot come back without /proc, which may show another PID
 * namespace; this one simply ends), then the links and the captures; the relay
 * (wire_relay.c) runs between wire_start and wire_stop. */
#include "lab/wire/wire.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "lab/wire/wire_relay.h"

struct wire {
	struct wire_config cfg;
	struct wire_netns ns[WIRE_SIDES];
	struct wire_relay relay;
	int started, stopped;
	bool offload;
	struct wire_stats stats;
};

const char *wire_dir_name(enum wire_dir dir)
{
	return dir == WIRE_C2S ? "client->server" : "server->client";
}

struct make_job {
	struct wire *w;
	struct lab_err err;
	int rc;
};

static void *make_namespaces(void *arg)
{
	struct make_job *job = arg;

	job->rc = -1;
	for (int s = 0; s < WIRE_SIDES; s++)
		if (wire_netns_make((enum wire_side)s, job->w->cfg.mtu, job->w->offload,
				    &job->w->ns[s], &job->err) < 0)
			return NULL;
	job->rc = 0;
	return NULL;
}

static int check_config(const struct wire_config *cfg, struct lab_err *err)
{
	if (cfg->mtu < WIRE_MIN_MTU || cfg->mtu > WIRE_MAX_MTU)
		return lab_err_set(err, "wire: MTU %u is outside %u..%u", cfg->mtu, WIRE_MIN_MTU,
				   WIRE_MAX_MTU);
	for (int d = 0; d < WIRE_DIRS; d++) {
		const struct wire_faults *f = &cfg->dir[d];

		if (f->loss_pcm > WIRE_PCM_ALL || f->duplicate_pcm > WIRE_PCM_ALL ||
		    f->reorder_pcm > WIRE_PCM_ALL || f->corrupt_pcm > WIRE_PCM_ALL)
			return lab_err_set(err, "wire: a percentage above 100%% for %s",
					   wire_dir_name((enum wire_dir)d));
		if (f->n_filters > WIRE_MAX_FILTERS || f->n_downs > WIRE_MAX_DOWNS)
			return lab_err_set(err, "wire: too many drop filters or partitions");
	}
	return 0;
}

struct wire *wire_new(const struct wire_config *cfg, struct lab_err *err)
{
	struct wire *w = calloc(1, sizeof(*w));
	struct make_job job = { .w = w, .rc = -1 };
	pthread_t maker;
	const char *paths[WIRE_SIDES] = { cfg->client_pcap, cfg->server_pcap };
	int rc;

	if (w == NULL) {
		lab_err_set(err, "wire: out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	w->cfg.client_pcap = w->cfg.server_pcap = NULL; /* not kept: used here only */
	if (w->cfg.mtu == 0)
		w->cfg.mtu = WIRE_DEFAULT_MTU;
	if (w->cfg.snaplen == 0)
		w->cfg.snaplen = WIRE_MAX_MTU;
	for (int s = 0; s < WIRE_SIDES; s++) {
		w->ns[s].netns_fd = w->ns[s].tun_fd = -1;
		w->relay.tun_fd[s] = -1;
	}
	w->relay.stop_fd = -1;
	if (check_config(&w->cfg, err) < 0)
		goto fail;
	w->offload = !w->cfg.no_offload && !wire_faults_per_segment(&w->cfg.dir[WIRE_C2S]) &&
		     !wire_faults_per_segment(&w->cfg.dir[WIRE_S2C]);
	rc = pthread_create(&maker, NULL, make_namespaces, &job);
	if (rc != 0) {
		lab_err_sys(err, rc, "wire: cannot start a thread to make the namespaces");
		goto fail;
	}
	pthread_join(maker, NULL);
	if (job.rc < 0) {
		lab_err_set(err, "%s", job.err.msg);
		goto fail;
	}
	for (int d = 0; d < WIRE_DIRS; d++) {
		w->relay.link[d] = wire_link_new(&w->cfg.dir[d], w->cfg.seed, (enum wire_dir)d,
						 w->cfg.mtu, err);
		if (w->relay.link[d] == NULL)
			goto fail;
	}
	for (int s = 0; s < WIRE_SIDES; s++) {
		w->relay.tun_fd[s] = w->ns[s].tun_fd;
		if (paths[s] == NULL)
			continue;
		w->relay.pcap[s] = wire_pcap_open(
			paths[s], w->cfg.snaplen,
			w->cfg.payload_budget_on ? w->cfg.payload_budget_bytes : UINT64_MAX, err);
		if (w->relay.pcap[s] == NULL)
			goto fail;
	}
	w->relay.mtu = w->cfg.mtu;
	w->relay.offload = w->offload;
	w->stats.offload = w->offload;
	return w;
fail:
	wire_free(w);
	return NULL;
}

int wire_start(struct wire *w, struct lab_err *err)
{
	if (w->started)
		return lab_err_set(err, "wire: started twice");
	if (wire_relay_start(&w->relay, err) < 0)
		return -1;
	w->started = 1;
	return 0;
}

int wire_stop(struct wire *w, struct lab_err *err)
{
	int rc = 0;

	if (w->stopped)
		return 0;
	w->stopped = 1;
	wire_relay_stop(&w->relay);
	for (int d = 0; d < WIRE_DIRS; d++) {
		w->stats.dir[d] = *wire_link_stats(w->relay.link[d]);
		w->stats.delivered[d] = w->relay.delivered[d];
		w->stats.device_reads[d] = w->relay.device_reads[d];
		w->stats.device_writes[d] = w->relay.device_writes[d];
		w->stats.pending_at_stop[d] = w->relay.pending_at_stop[d];
		w->stats.write_errors[d] = w->relay.write_errors[d];
	}
	for (int s = 0; s < WIRE_SIDES; s++) {
		struct lab_err why;

		if (w->relay.pcap[s]) {
			w->stats.captured[s] = wire_pcap_packets(w->relay.pcap[s]);
			w->stats.headers_only[s] = wire_pcap_headers_only(w->relay.pcap[s]);
			if (wire_pcap_close(w->relay.pcap[s], &why) < 0 && rc == 0)
				rc = lab_err_set(err, "%s", why.msg);
			w->relay.pcap[s] = NULL;
		}
		if (wire_netns_device_stats(&w->ns[s], &w->stats.device[s], &why) < 0 && rc == 0)
			rc = lab_err_set(err, "%s", why.msg);
	}
	return rc;
}

void wire_free(struct wire *w)
{
	if (w == NULL)
		return;
	if (w->started)
		wire_stop(w, NULL);
	for (int s = 0; s < WIRE_SIDES; s++) {
		if (w->relay.pcap[s])
			wire_pcap_close(w->relay.pcap[s], NULL);
		wire_netns_close(&w->ns[s]);
	}
	for (int d = 0; d < WIRE_DIRS; d++)
		wire_link_free(w->relay.link[d]);
	free(w);
}

int wire_netns_fd(const struct wire *w, enum wire_side side)
{
	return w->ns[side].netns_fd;
}

int wire_enter(const struct wire *w, enum wire_side side, struct lab_err *err)
{
	if (setns(w->ns[side].netns_fd, CLONE_NEWNET) < 0)
		return lab_err_sys(err, errno, "wire: cannot enter the %s's namespace",
				   side == WIRE_CLIENT ? "client" : "server");
	return 0;
}

const struct wire_stats *wire_stats(const struct wire *w)
{
	return &w->stats;
}

uint64_t wire_stats_dropped(const struct wire_stats *s, int dir, int kind)
{
	uint64_t total = 0;

	for (int d = 0; d < WIRE_DIRS; d++) {
		if (dir >= 0 && d != dir)
			continue;
		for (int k = 0; k < WIRE_DROP_KINDS; k++)
			if (kind < 0 || k == kind)
				total += s->dir[d].dropped[k];
	}
	return total;
}
