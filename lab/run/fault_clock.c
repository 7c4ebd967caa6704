/* fault_clock: the faults the lab does itself, as signals to the program's
 * process group (run_ctx.h): in time, `pause at ... for ...` and `kill at ...`,
 * and on an event of the run, `kill after SIZE` and `pause after SIZE for ...`
 * (once the program's socket has received SIZE bytes, as the liveness samples
 * count them). */
#include <signal.h>

#include "lab/run/run_ctx.h"

/* Bytes WHO's socket received, as the last liveness sample counted them: the
 * server gets the client->server bytes. */
static uint64_t received(const struct run_ctx *ctx, enum scenario_who who)
{
	uint64_t bytes[2] = { 0, 0 };

	if (ctx->liveness != NULL)
		liveness_bytes(ctx->liveness, bytes);
	return bytes[who == WHO_SERVER ? 0 : 1];
}

void fault_clock_apply(struct run_ctx *ctx)
{
	for (size_t i = 0; i < ctx->sc->n_faults; i++) {
		const struct fault *f = &ctx->sc->faults[i];
		struct run_side *side = &ctx->rec->side[f->who];
		int64_t t;

		if ((f->kind != FAULT_PAUSE && f->kind != FAULT_KILL) || !side->started ||
		    !side->proc.running)
			continue;
		t = proc_now_us() - side->proc.start_us;
		if (f->kind == FAULT_KILL && !ctx->kill_done[f->who] && f->at_us < 0) {
			uint64_t got = received(ctx, f->who);

			if (got < (uint64_t)f->bytes)
				continue;
			ctx->kill_done[f->who] = true;
			proc_signal(&side->proc, SIGKILL);
			if (i < RUN_MAX_CLOCK_FAULTS)
				ctx->rec->clock_fault_fired[i] = true;
			loop_add_event(ctx, RUN_EV_KILL,
				       "%s killed by fault (line %d) after it received %llu bytes",
				       scenario_who_name(f->who), f->line, (unsigned long long)got);
		} else if (f->kind == FAULT_KILL && !ctx->kill_done[f->who] && t >= f->at_us) {
			ctx->kill_done[f->who] = true;
			proc_signal(&side->proc, SIGKILL);
			if (i < RUN_MAX_CLOCK_FAULTS)
				ctx->rec->clock_fault_fired[i] = true;
			loop_add_event(ctx, RUN_EV_KILL, "%s killed by fault (line %d)",
				       scenario_who_name(f->who), f->line);
		} else if (f->kind == FAULT_PAUSE && !ctx->pause_done[f->who]) {
			bool due = f->at_us < 0 ? received(ctx, f->who) >= (uint64_t)f->bytes
						: t >= f->at_us;

			if (!ctx->paused[f->who] && due) {
				ctx->paused[f->who] = true;
				ctx->pause_start_us[f->who] = proc_now_us();
				proc_signal(&side->proc, SIGSTOP);
				if (i < RUN_MAX_CLOCK_FAULTS)
					ctx->rec->clock_fault_fired[i] = true;
				loop_add_event(ctx, RUN_EV_PAUSE, "%s paused (line %d)",
					       scenario_who_name(f->who), f->line);
			} else if (ctx->paused[f->who] &&
				   proc_now_us() >= ctx->pause_start_us[f->who] + f->for_us) {
				ctx->paused[f->who] = false;
				ctx->pause_done[f->who] = true;
				proc_signal(&side->proc, SIGCONT);
				loop_add_event(ctx, RUN_EV_CONTINUE, "%s continued",
					       scenario_who_name(f->who));
			}
		}
	}
}

int fault_clock_next_ms(const struct run_ctx *ctx, int max_ms)
{
	int best = max_ms;

	for (size_t i = 0; i < ctx->sc->n_faults; i++) {
		const struct fault *f = &ctx->sc->faults[i];
		const struct run_side *side = &ctx->rec->side[f->who];
		int64_t due;
		int64_t ms;

		if ((f->kind != FAULT_PAUSE && f->kind != FAULT_KILL) || !side->started)
			continue;
		if (f->kind == FAULT_KILL && (ctx->kill_done[f->who] || f->at_us < 0))
			continue; /* done, or waits for bytes: the samples' pace */
		if (f->kind == FAULT_PAUSE && ctx->pause_done[f->who])
			continue;
		if (ctx->paused[f->who])
			due = ctx->pause_start_us[f->who] + f->for_us;
		else if (f->at_us < 0)
			continue; /* waits for bytes: the samples' pace */
		else
			due = side->proc.start_us + f->at_us;
		ms = (due - proc_now_us() + 999) / 1000;
		if (ms < 0)
			ms = 0;
		if (ms < best)
			best = (int)ms;
	}
	return best;
}
