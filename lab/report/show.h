/* show: renders each TCP connection of a capture as a ladder diagram (client
 * column, server column, one arrow per segment) with a one-line summary on top,
 * into a FILE*. Every row starts with its frame number as Wireshark counts
 * them (1-based, every frame of the file) and a time, so a row can be found
 * with `frame.number == N`. Long runs of segments fold into one line that
 * names its first and last frame. It renders the facts of the analysis stage
 * (connections and ladder rows) and decides nothing about exit codes. */
#ifndef TCPLAB_SHOW_H
#define TCPLAB_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lab/analysis/facts.h"
#include "lab/common/err.h"

/* More ordinary segments than this in a row fold into one line. */
#define SHOW_FOLD_SEGMENTS 12

enum show_time {
	SHOW_TIME_CONN,     /* seconds since the connection's first segment */
	SHOW_TIME_RELATIVE, /* seconds since the capture's first frame
			       (Wireshark's frame.time_relative) */
	SHOW_TIME_ABSOLUTE, /* the capture timestamp, UTC date and time
			       (frame.time_epoch, as `tshark -t ud` prints it) */
};

struct show_opts {
	enum show_time time;
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
