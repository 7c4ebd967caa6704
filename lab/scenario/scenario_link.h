/* scenario_link: the grammar of `link` lines (scenario_link.c), the faults of the
 * wire between client and server. Private to the scenario library: scenario.c calls
 * it for each `link` directive, and once at the end of the file. */
#ifndef TCPLAB_SCENARIO_LINK_H
#define TCPLAB_SCENARIO_LINK_H

#include "lab/scenario/scenario_parser.h"

/* The rest of a `link` line (kw: the directive), merged into p->sc->link. */
int parser_link_line(struct parser *p, const struct token *kw);

/* At the end of the file: the filters expanded ($PORT, $HOST) and compiled, and
 * the host one the wire can carry. */
int parser_link_finish(struct parser *p);

#endif
