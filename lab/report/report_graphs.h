/* report_graphs: the two graphs of a scenario's HTML page, as inline SVG (no
 * script needed to view them):
 * - the time-sequence graph of each direction of each connection that carried
 *   data (Stevens / tcptrace style, as Wireshark's Statistics > TCP Stream Graphs
 *   draws it): each data segment a vertical bar from its sequence number to its
 *   end, over capture time; the receiver's ACK line and its receive-window edge
 *   (ACK + window); retransmissions, zero windows, window probes and the lab's
 *   stop marked;
 * - the socket queues over the run: both programs' send and receive queues, and
 *   the bytes moved each way, as the liveness watcher sampled them through
 *   sock_diag every 5 ms, with the run's events (stall, deadlock, the lab's stop)
 *   marked.
 * Renders the facts (facts_series) and the run record; computes nothing else. */
#ifndef TCPLAB_REPORT_GRAPHS_H
#define TCPLAB_REPORT_GRAPHS_H

#include <stdio.h>

#include "lab/analysis/facts.h"
#include "lab/record/record.h"

/* Segments drawn per graph at most: beyond, ordinary data segments are thinned
 * (every segment with an analysis flag is drawn). */
#define REPORT_GRAPHS_MAX_BARS 3000

/* Style sheet for the page's <style>. */
extern const char report_graphs_css[];

/* One <svg class="tsg"> per direction that carried data, for facts read with
 * series on. Each drawn segment is <line class="seg ..." data-frame= data-seq=
 * data-len= data-t=> (t: seconds since the connection's first packet); the ACK
 * line is <polyline class="ack">; rec (may be NULL) gives the lab's stop,
 * drawn as <g class="event stop">. Writes a note when there is nothing to draw. */
void report_graphs_tsg(FILE *out, const struct facts *facts, const struct run_record *rec);

/* <svg class="queues"> and <svg class="moved"> for the record's samples; each
 * <polyline> carries data-times (µs since the start, comma-separated) and
 * data-values (bytes) of the samples it plots. Nothing when there are none. */
void report_graphs_queues(FILE *out, const struct run_record *rec);

#endif
