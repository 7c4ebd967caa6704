/* err: the caller-owned error buffer that every library module fills on failure.
 * Library modules never print and never exit; they return -1 and describe the
 * problem here (with FILE:LINE:COL when a scenario is involved). Filling it
 * allocates nothing. */
#ifndef TCPLAB_ERR_H
#define TCPLAB_ERR_H

struct lab_err {
	char msg[1024];
};

/* Formats a message into err (truncated to fit); returns -1 so that callers can
 * write `return lab_err_set(err, ...);`. A NULL err is allowed and ignored. */
int lab_err_set(struct lab_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like lab_err_set, then appends ": strerror(errno_value)". */
int lab_err_sys(struct lab_err *err, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
