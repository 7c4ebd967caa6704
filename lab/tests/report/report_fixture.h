/* report_fixture: report items for the report writers' tests, made of real parts:
 * scenarios parsed from text, captures from lab/tests/pcaps analysed for real,
 * and run records filled as run.c fills them (outputs with hostile bytes: invalid
 * UTF-8, control characters, XML and HTML metacharacters, a NUL). */
#ifndef TCPLAB_REPORT_FIXTURE_H
#define TCPLAB_REPORT_FIXTURE_H

#include <stddef.h>

#include "lab/report.h"

#define REPORT_FIXTURE_ITEMS 3

/* Output of the echo scenario's server: every kind of byte a report must survive. */
extern const char report_fixture_hostile[];
extern const size_t report_fixture_hostile_len;

struct report_fixture {
	struct scenario *sc[REPORT_FIXTURE_ITEMS];
	struct run_record *rec[REPORT_FIXTURE_ITEMS];
	struct verdict *verdicts[REPORT_FIXTURE_ITEMS];
	struct report_item items[REPORT_FIXTURE_ITEMS];
	size_t n;
};

/* pcap_dir: where basic_echo.pcap and zero_window_linux.pcap are. Items:
 *   0 "echo"   PASS  (basic_echo.pcap: 16 bytes each way, FINs)
 *   1 "stuck"  FAIL  (zero_window_linux.pcap; 2 of 3 expectations fail; the
 *                     client was killed by the lab; faults counted)
 *   2 "nolab"  ERROR (no run record, no capture) */
int report_fixture_make(struct report_fixture *fx, const char *pcap_dir);
void report_fixture_free(struct report_fixture *fx);

/* The directory of the reference captures in a Bazel test, or NULL. */
const char *report_fixture_pcap_dir(char *buf, size_t len);

#endif
