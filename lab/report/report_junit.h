/* report_junit: the run as JUnit XML, the format Jenkins, GitLab and GitHub test
 * reporters read: one <testcase> per scenario (classname "tcplab.<dir>"), a
 * <failure> with every failed expectation, an <error> when the lab could not
 * run it, the programs' outputs in <system-out>, and the capture as a property
 * and as a Jenkins attachment ([[ATTACHMENT|/path/to.pcap]]). */
#ifndef TCPLAB_REPORT_JUNIT_H
#define TCPLAB_REPORT_JUNIT_H

#include <stddef.h>
#include <stdio.h>

#include "lab/common/err.h"
#include "lab/report/report.h"

/* Writes PATH.tmp and renames it to path. Returns -1 with err set when the file
 * cannot be written. */
int report_junit_write(const char *path, const struct report_item *items, size_t n, double wall_s,
		       struct lab_err *err);

/* The same document into an open stream. */
int report_junit_write_stream(FILE *out, const struct report_item *items, size_t n, double wall_s,
			      struct lab_err *err);

/* "tcplab.<last directory of path>" ("tcplab" for a path without one), with
 * characters other than letters, digits, '_' and '-' made '_'. */
void report_junit_classname(const char *scenario_path, char *buf, size_t len);

#endif
