/* scenario_fault: the grammar of `fault` lines (scenario_fault.c). Private to the scenario
 * library: scenario.c calls it for each `fault` directive. */
#ifndef TCPLAB_SCENARIO_FAULT_H
#define TCPLAB_SCENARIO_FAULT_H

#include "lab/scenario/scenario_parser.h"

/* The rest of a `fault` line (kw: the directive), added to p->sc->faults. */
int parser_fault_line(struct parser *p, const struct token *kw);

/* The rest of an `explore` line: what `tcplab explore` may not perturb. */
int parser_explore_line(struct parser *p, const struct token *kw);

#endif
