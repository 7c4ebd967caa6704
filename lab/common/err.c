/* err: filling the caller-owned error buffer (see err.h). */
#include "lab/common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lab_err_set(struct lab_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int lab_err_sys(struct lab_err *err, int errno_value, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	used = strlen(err->msg);
	/* strerrordesc_np, not strerror: scenario threads call this at once, and
	 * strerror may write a shared buffer (unknown values). */
	snprintf(err->msg + used, sizeof(err->msg) - used, ": %s",
		 strerrordesc_np(errno_value) != NULL ? strerrordesc_np(errno_value)
						      : "unknown error");
	return -1;
}
