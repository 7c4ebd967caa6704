/* progress: the live progress line on a terminal (see progress.h). */
#include "lab/cli/progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_DEFAULT_WIDTH 80

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int terminal_width(int fd)
{
	struct winsize ws;
	const char *columns = getenv("COLUMNS");

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (columns != NULL && atoi(columns) > 0)
		return atoi(columns);
	return PROGRESS_DEFAULT_WIDTH;
}

void progress_start_with(struct progress *p, FILE *out, bool enabled, bool color, int width)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->enabled = enabled;
	p->color = enabled && color;
	p->width = width > 0 ? width : PROGRESS_DEFAULT_WIDTH;
	p->start_us = now_us();
}

void progress_start(struct progress *p, FILE *out)
{
	int fd = fileno(out);
	bool tty = fd >= 0 && isatty(fd);
	const char *no_color = getenv("NO_COLOR");

	/* NO_COLOR: "when present and not an empty string" (no-color.org) */
	progress_start_with(p, out, tty, tty && (no_color == NULL || no_color[0] == '\0'),
			    tty ? terminal_width(fd) : 0);
}

/* Appends s to buf while it fits in `room` visible columns (ASCII names; bytes
 * of a multi-byte character count as one column each, which only errs short). */
static bool put_clipped(char *buf, size_t len, size_t *used, int *room, const char *s)
{
	for (; *s && *room > 0 && *used + 1 < len; s++) {
		buf[(*used)++] = *s;
		(*room)--;
	}
	buf[*used] = '\0';
	return *s != '\0';
}

void progress_update(struct progress *p, size_t done, size_t total, const char *const *running,
		     size_t n_running)
{
	char counter[64], rest[1024], line[1200];
	int64_t elapsed_us;
	int room;
	size_t used = 0;
	bool clipped;

	if (!p->enabled)
		return;
	elapsed_us = now_us() - p->start_us;
	snprintf(counter, sizeof(counter), "[%zu/%zu]", done, total);
	snprintf(rest, sizeof(rest), " %.1fs", (double)elapsed_us / 1e6);
	/* one column stays free: writing the last one makes some terminals wrap */
	room = p->width - 1 - (int)strlen(counter);
	clipped = put_clipped(line, sizeof(line), &used, &room, rest);
	for (size_t i = 0; i < n_running && !clipped; i++) {
		clipped = put_clipped(line, sizeof(line), &used, &room,
				      i == 0 ? " running: " : ", ") ||
			  put_clipped(line, sizeof(line), &used, &room, running[i]);
	}
	if (clipped && used >= 3)
		memcpy(line + used - 3, "...", 3);
	if (p->color)
		fprintf(p->out, "\r\033[K\033[1;36m%s\033[0m%s", counter, line);
	else
		fprintf(p->out, "\r\033[K%s%s", counter, line);
	fflush(p->out);
	p->shown = true;
}

void progress_clear(struct progress *p)
{
	if (!p->enabled || !p->shown)
		return;
	fputs("\r\033[K", p->out);
	fflush(p->out);
	p->shown = false;
}
