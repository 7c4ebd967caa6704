/* report_html: the run as a small static web site in one directory: index.html
 * (one row per scenario) and one page per scenario with its verdicts, timings,
 * the programs' outputs, a link to its capture, and an inline SVG sequence
 * diagram of each connection (one arrow per segment, analysis notes in colour,
 * long runs of ordinary data folded). Self-contained: no scripts, no fonts or
 * styles from elsewhere; the pages open from the file system. */
#ifndef TCPLAB_REPORT_HTML_H
#define TCPLAB_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "lab/common/err.h"
#include "lab/report/report.h"

/* Makes dir (and its parents) and writes dir/index.html, dir/<page>.html per
 * scenario and a link to each capture into dir (never a copy: a hard link, or a symbolic one across file systems) (each file as NAME.tmp, then
 * renamed). Returns -1 with err set when a file cannot be written; a capture
 * that cannot be read or linked is noted on its page instead. */
int report_html_write(const char *dir, const struct report_item *items, size_t n, double wall_s,
		      struct lab_err *err);

/* The page of a scenario: "<name>.html" with characters other than letters,
 * digits, '.', '_' and '-' made '_' (and never "index.html"). */
void report_html_page_name(const char *scenario_name, char *buf, size_t len);

#endif
