/* usage: what every command of tcplab's command line shares: the --help text,
 * the usage error (exit status 2) and the reading of a port option. A leaf of
 * the CLI: the commands depend on it, it depends on nothing of theirs. */
#ifndef TCPLAB_USAGE_H
#define TCPLAB_USAGE_H

#define TCPLAB_VERSION "0.1.0"

/* `tcplab --help`. */
extern const char cli_usage_text[];

/* Prints "tcplab: " + fmt (with arg) and a pointer to --help on stderr; returns 2. */
int cli_usage_error(const char *fmt, const char *arg);

/* A port option: 1 to 65535. Returns 0, or -1 when text is not one. */
int cli_parse_port(const char *text, int *port);

#endif
