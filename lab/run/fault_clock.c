/* fault_clock: the faults the lab does in time, `pause at ... for ...` and `kill
 * at ...`, as signals to the program's process group (run_ctx.h). */
#include <signal.h>

#include "lab/run/run_ctx.h"

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
		if (f->kind == FAULT_KILL && !ctx->kill_done[f->who] && t >= f->at_us) {
			ctx->kill_done[f->who] = true;
			proc_signal(&side->proc, SIGKILL);
			if (i < RUN_MAX_CLOCK_FAULTS)
				ctx->rec->clock_fault_fired[i] = true;
			loop_add_event(ctx, RUN_EV_KILL, "%s killed by fault (line %d)",
				       scenario_who_name(f->who), f->line);
		} else if (f->kind == FAULT_PAUSE && !ctx->pause_done[f->who]) {
			if (!ctx->paused[f->who] && t >= f->at_us) {
				ctx->paused[f->who] = true;
				proc_signal(&side->proc, SIGSTOP);
				if (i < RUN_MAX_CLOCK_FAULTS)
					ctx->rec->clock_fault_fired[i] = true;
				loop_add_event(ctx, RUN_EV_PAUSE, "%s paused (line %d)",
					       scenario_who_name(f->who), f->line);
			} else if (ctx->paused[f->who] && t >= f->at_us + f->for_us) {
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
		if (f->kind == FAULT_KILL && ctx->kill_done[f->who])
			continue;
		if (f->kind == FAULT_PAUSE && ctx->pause_done[f->who])
			continue;
		due = side->proc.start_us + f->at_us + (ctx->paused[f->who] ? f->for_us : 0);
		ms = (due - proc_now_us() + 999) / 1000;
		if (ms < 0)
			ms = 0;
		if (ms < best)
			best = (int)ms;
	}
	return best;
}
