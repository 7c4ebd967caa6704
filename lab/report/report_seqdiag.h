/* report_seqdiag: the sequence diagram of each TCP connection in a capture, as
 * inline SVG for the HTML report: client and server lifelines, time on the left,
 * one arrow per segment labelled with flags, relative seq/ack, length and window;
 * analysis notes (zero window, probe, retransmission, RST) in colour; long runs
 * of ordinary segments folded into one box. Renders the facts of the analysis
 * stage (its connections and ladder rows); reads no capture. */
#ifndef TCPLAB_REPORT_SEQDIAG_H
#define TCPLAB_REPORT_SEQDIAG_H

#include <stdint.h>
#include <stdio.h>

#include "lab/analysis/facts.h"
#include "lab/common/err.h"

/* More ordinary segments than this in a row fold into one box. */
#define REPORT_SEQDIAG_FOLD_SEGMENTS 8
/* Rows drawn per connection at most; the rest is counted in a last box. */
#define REPORT_SEQDIAG_MAX_ROWS 2000

/* The style sheet the diagrams need (colours per class), for the page's <style>. */
extern const char report_seqdiag_css[];

/* The ladder options the diagrams need: read the facts with these
 * (facts_opts.ladder) for report_seqdiag_write. */
extern const struct ladder_opts report_seqdiag_ladder_opts;

/* Writes an HTML fragment for the facts of a capture (read with
 * report_seqdiag_ladder_opts; only connections to the port they were read for):
 * packet totals, a table of the connections, a
 * colour legend, then per connection an <h3> and an <svg class="seqdiag">.
 * Every segment arrow is <g class="seg FLAGS NOTES" data-flags="SYN/ACK"
 * data-dir="c2s|s2c" data-seq= data-ack= data-len= data-win= data-frame=>
 * (FLAGS: syn ack psh fin rst ..., data when it has payload; NOTES: Wireshark's
 * analysis names with '-', e.g. zero-window, window-probe, retransmission, and
 * noted on any of them or RST); a fold is <g class="fold" data-segments=
 * data-bytes=>. Returns -1 with err set when the capture cannot be read. */
int report_seqdiag_write(FILE *out, const struct facts *facts, struct lab_err *err);

#endif
