/* progress_test: the progress line is drawn on a real terminal (a pseudo-terminal
 * from openpty), never on a pipe, in colour only without NO_COLOR, redrawn in
 * place, never wider than the terminal, and erased by progress_clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lab/cli/progress.h"

#define SENTINEL '\x01'

struct pty {
	int master;
	FILE *slave;
};

/* Everything the terminal side received so far: a marker byte written after it
 * through the same terminal says when all of it has arrived. */
static size_t drain(struct pty *t, char *buf, size_t len)
{
	size_t used = 0;
	char *mark;

	fputc(SENTINEL, t->slave);
	fflush(t->slave);
	for (;;) {
		struct pollfd pfd = { .fd = t->master, .events = POLLIN };
		ssize_t got;

		assert_int_equal(poll(&pfd, 1, 10000), 1);
		got = read(t->master, buf + used, len - 1 - used);
		assert_true(got > 0);
		used += (size_t)got;
		buf[used] = '\0';
		mark = memchr(buf, SENTINEL, used);
		if (mark != NULL) {
			*mark = '\0';
			return (size_t)(mark - buf);
		}
		assert_true(used + 1 < len);
	}
}

static void open_pty(struct pty *t, unsigned short cols)
{
	struct winsize ws = { .ws_row = 24, .ws_col = cols };
	struct termios tio;
	int slave;

	assert_int_equal(openpty(&t->master, &slave, NULL, NULL, &ws), 0);
	/* raw output: no \n -> \r\n translation in what we read back */
	assert_int_equal(tcgetattr(slave, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(slave, TCSANOW, &tio), 0);
	t->slave = fdopen(slave, "w");
	assert_non_null(t->slave);
}

static void close_pty(struct pty *t)
{
	fclose(t->slave);
	close(t->master);
}

static void test_terminal_gets_a_line_redrawn_in_place(void **state)
{
	const char *running[] = { "deadlock", "slow_reader" };
	struct progress p;
	struct pty t;
	char buf[4096];

	(void)state;
	unsetenv("NO_COLOR");
	open_pty(&t, 100);
	progress_start(&p, t.slave);
	assert_true(p.enabled);
	assert_true(p.color);
	assert_int_equal(p.width, 100);
	progress_update(&p, 3, 10, running, 2);
	drain(&t, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\r\033[K"));
	assert_non_null(strstr(buf, "\033[1;36m[3/10]\033[0m"));
	assert_non_null(strstr(buf, "s running: deadlock, slow_reader"));
	assert_null(strchr(buf, '\n'));
	progress_update(&p, 4, 10, running + 1, 1);
	drain(&t, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "\r\033[K", 4), 0);
	assert_non_null(strstr(buf, "[4/10]"));
	assert_null(strstr(buf, "deadlock"));
	progress_clear(&p);
	drain(&t, buf, sizeof(buf));
	assert_string_equal(buf, "\r\033[K");
	/* nothing shown: nothing to clear */
	progress_clear(&p);
	assert_int_equal(drain(&t, buf, sizeof(buf)), 0);
	close_pty(&t);
}

static void test_no_color_keeps_the_line_without_colour(void **state)
{
	const char *running[] = { "sixteen" };
	struct progress p;
	struct pty t;
	char buf[4096];

	(void)state;
	setenv("NO_COLOR", "1", 1);
	open_pty(&t, 80);
	progress_start(&p, t.slave);
	assert_true(p.enabled);
	assert_false(p.color);
	progress_update(&p, 0, 1, running, 1);
	drain(&t, buf, sizeof(buf));
	assert_non_null(strstr(buf, "[0/1]"));
	assert_null(strstr(buf, "\033[1;36m"));
	assert_null(strstr(buf, "\033[0m"));
	unsetenv("NO_COLOR");
	close_pty(&t);
}

static void test_pipe_gets_nothing(void **state)
{
	const char *running[] = { "sixteen" };
	struct progress p;
	int fds[2];
	FILE *w;
	char buf[64];

	(void)state;
	unsetenv("NO_COLOR");
	assert_int_equal(pipe(fds), 0);
	w = fdopen(fds[1], "w");
	assert_non_null(w);
	progress_start(&p, w);
	assert_false(p.enabled);
	assert_false(p.color);
	progress_update(&p, 1, 2, running, 1);
	progress_clear(&p);
	fclose(w);
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 0);
	close(fds[0]);
}

/* A narrow terminal: the line is cut with "..." and never reaches the last
 * column (writing there makes some terminals wrap, and \r would then redraw
 * only the second line). */
static void test_line_fits_the_terminal(void **state)
{
	const char *running[] = { "a_very_long_scenario_name_number_one",
				  "another_long_scenario_name_number_two" };
	struct progress p;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	const char *line;

	(void)state;
	progress_start_with(&p, out, true, false, 40);
	progress_update(&p, 12, 345, running, 2);
	fflush(out);
	assert_int_equal(strncmp(buf, "\r\033[K", 4), 0);
	line = buf + 4;
	assert_int_equal(strlen(line), 39);
	assert_int_equal(strncmp(line, "[12/345] ", 9), 0);
	assert_string_equal(line + strlen(line) - 3, "...");
	fclose(out);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terminal_gets_a_line_redrawn_in_place),
		cmocka_unit_test(test_no_color_keeps_the_line_without_colour),
		cmocka_unit_test(test_pipe_gets_nothing),
		cmocka_unit_test(test_line_fits_the_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
