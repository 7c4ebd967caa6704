/* progress: the live line `tcplab run` shows on a terminal while scenarios run:
 * "[3/10] 4.2s running: deadlock, slow_reader", redrawn in place with \r and
 * cleared before other output. On anything but a terminal it writes nothing;
 * colour only on a terminal and never when NO_COLOR is set (no-color.org). */
#ifndef TCPLAB_PROGRESS_H
#define TCPLAB_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
	FILE *out;
	bool enabled; /* out is a terminal */
	bool color;
	bool shown; /* a line is on the screen now */
	int width;  /* columns; the line never wraps */
	int64_t start_us;
};

/* Decides from out (isatty) and the environment (NO_COLOR, COLUMNS as a fallback
 * for the terminal's width) whether and how to draw; starts the clock. */
void progress_start(struct progress *p, FILE *out);

/* The same with the decisions made by the caller (tests, --progress options). */
void progress_start_with(struct progress *p, FILE *out, bool enabled, bool color, int width);

/* Redraws the line: done of total finished, the names of the running ones. */
void progress_update(struct progress *p, size_t done, size_t total, const char *const *running,
		     size_t n_running);

/* Erases the line (call before printing anything else, and at the end). */
void progress_clear(struct progress *p);

#endif
