/* show: renders each TCP connection of a capture as a ladder diagram (client
 * column, server column, one arrow per segment) with a one-line summary on top,
 * into a FILE*. Long runs of ordinary segments fold into one line. It analyses
 * through flow.h, takes its rows from ladder.h and decides nothing about exit
 * codes. */
#ifndef TCPLAB_SHOW_H
#define TCPLAB_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* More ordinary segments than this in a row fold into one line. */
#define SHOW_FOLD_SEGMENTS 12

struct show_opts {
	bool ascii;    /* -> <- | - instead of box drawing characters and arrows */
	bool all;      /* never fold */
	uint16_t port; /* non-zero: only connections from or to this port */
};

/* Analyses the capture at path and writes the diagram to out. Returns 0; 1 when
 * the capture is damaged (cut short or corrupt part-way): what came before was
 * drawn, with a note, and err says where reading stopped; -1 with err filled
 * when the file cannot be read as a capture (or on ENOMEM). */
int show_file(FILE *out, const char *path, const struct show_opts *opts, struct lab_err *err);

#endif
