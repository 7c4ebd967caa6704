/* show: renders each TCP connection of a capture as a ladder diagram (client
 * column, server column, one arrow per segment) with a one-line summary on top,
 * into a FILE*. Long runs of ordinary segments fold into one line. It renders the
 * facts of the analysis stage (connections and ladder rows) and decides nothing
 * about exit codes. */
#ifndef TCPLAB_SHOW_H
#define TCPLAB_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/analysis/facts.h"
#include "lab/common/err.h"

/* More ordinary segments than this in a row fold into one line. */
#define SHOW_FOLD_SEGMENTS 12

struct show_opts {
	bool ascii;    /* -> <- | - instead of box drawing characters and arrows */
	bool all;      /* never fold */
	uint16_t port; /* non-zero: only connections from or to this port */
	/* Non-zero: the lab's stop (capture time, microseconds since the epoch):
	 * packets after it are not drawn, and a line marks it. */
	int64_t until_us;
};

/* The ladder options to read facts with for show_facts under opts. */
struct ladder_opts show_ladder_opts(const struct show_opts *opts);

/* Writes the diagram of facts (read with show_ladder_opts) to out. Returns as
 * show_file, except that it never fails to read. */
int show_facts(FILE *out, const struct facts *facts, const struct show_opts *opts,
	       struct lab_err *err);

/* Reads the capture at path once (facts.h) and writes its diagram to out (show_facts). Returns 0; 1 when
 * the capture is damaged (cut short or corrupt part-way): what came before was
 * drawn, with a note, and err says where reading stopped; -1 with err filled
 * when the file cannot be read as a capture (or on ENOMEM). */
int show_file(FILE *out, const char *path, const struct show_opts *opts, struct lab_err *err);

#endif
