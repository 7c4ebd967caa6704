/* main: what the files of tcplab's command line share (main.c: run and list;
 * main_capture.c: check and show). Private to the //lab:tcplab binary. */
#ifndef TCPLAB_MAIN_H
#define TCPLAB_MAIN_H

/* `tcplab --help`. */
extern const char main_usage_text[];

/* Prints "tcplab: " + fmt (with arg) and a pointer to --help on stderr; returns 2. */
int main_usage_error(const char *fmt, const char *arg);

int main_cmd_check(int argc, char **argv);
int main_cmd_show(int argc, char **argv);

#endif
