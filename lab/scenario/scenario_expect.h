/* scenario_expect: the grammar of `expect` lines (scenario_expect.c). Private to the scenario
 * library: scenario.c calls it for each `expect` directive. */
#ifndef TCPLAB_SCENARIO_EXPECT_H
#define TCPLAB_SCENARIO_EXPECT_H

#include "lab/scenario/scenario_parser.h"

/* The rest of a `expect` line (kw: the directive), added to p->sc->expects. */
int parser_expect_line(struct parser *p, const struct token *kw);

#endif
