/* shim_spec: TCPLAB_FAULTS from a scenario's faults, and the stats file summed
 * (see shim_spec.h; the string format and file layout are in shim_config.h). */
#include "lab/shim/shim_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The language's `when` kinds and the shim's are one list. */
_Static_assert(WHEN_ALWAYS == (int)SHIM_WHEN_ALWAYS && WHEN_ONCE == (int)SHIM_WHEN_ONCE &&
		       WHEN_EVERY == (int)SHIM_WHEN_EVERY && WHEN_AFTER == (int)SHIM_WHEN_AFTER,
	       "enum fault_when (scenario.h) and enum shim_when (shim_config.h) differ");

/* Appends formatted text at buf + *used; -1 when it does not fit. */
static int append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -1;
	*used += (size_t)n;
	return 0;
}

static int append_number(char *buf, size_t len, size_t *used, const char *key, int64_t value,
			 const struct fault *f, struct lab_err *err)
{
	if (value < 0)
		return lab_err_set(err, "fault on line %d: %s must not be negative", f->line, key);
	if (append(buf, len, used, "%s=%" PRId64 ";", key, value) < 0)
		return lab_err_set(err, "fault on line %d: shim spec longer than %zu bytes",
				   f->line, len);
	return 0;
}

static int append_error(char *buf, size_t len, size_t *used, const struct fault *f,
			struct lab_err *err)
{
	char when[48];
	size_t call_len = strnlen(f->call, sizeof(f->call));

	if (call_len == sizeof(f->call) || shim_call_mask(f->call) == 0)
		return lab_err_set(err, "fault on line %d: the shim cannot fail call \"%.*s\"",
				   f->line, (int)call_len, f->call);
	if (f->errno_value <= 0 || f->errno_value > 4095)
		return lab_err_set(err, "fault on line %d: errno %d out of range", f->line,
				   f->errno_value);
	switch (f->when) {
	case WHEN_ALWAYS:
		snprintf(when, sizeof(when), "always");
		break;
	case WHEN_ONCE:
		snprintf(when, sizeof(when), "once");
		break;
	case WHEN_EVERY:
		if (f->when_n <= 0)
			return lab_err_set(err, "fault on line %d: every N needs N >= 1", f->line);
		snprintf(when, sizeof(when), "every:%" PRId64, f->when_n);
		break;
	case WHEN_AFTER:
		if (f->when_n < 0)
			return lab_err_set(err, "fault on line %d: after BYTES is negative",
					   f->line);
		snprintf(when, sizeof(when), "after:%" PRId64, f->when_n);
		break;
	default:
		return lab_err_set(err, "fault on line %d: unknown schedule %d", f->line,
				   (int)f->when);
	}
	if (append(buf, len, used, "error=%s:%d:%s;", f->call, f->errno_value, when) < 0)
		return lab_err_set(err, "fault on line %d: shim spec longer than %zu bytes",
				   f->line, len);
	return 0;
}

static int append_fault(char *buf, size_t len, size_t *used, const struct fault *f,
			struct lab_err *err)
{
	switch (f->kind) {
	case FAULT_SEND_MAX:
		return append_number(buf, len, used, "send_max", f->bytes, f, err);
	case FAULT_RECV_MAX:
		return append_number(buf, len, used, "recv_max", f->bytes, f, err);
	case FAULT_SEND_DELAY:
		return append_number(buf, len, used, "send_delay_us", f->delay_us, f, err);
	case FAULT_RECV_DELAY:
		return append_number(buf, len, used, "recv_delay_us", f->delay_us, f, err);
	case FAULT_ERROR:
		return append_error(buf, len, used, f, err);
	case FAULT_BUFFERS:
		if (f->rcvbuf_bytes != 0 &&
		    append_number(buf, len, used, "rcvbuf", f->rcvbuf_bytes, f, err) < 0)
			return -1;
		if (f->sndbuf_bytes != 0 &&
		    append_number(buf, len, used, "sndbuf", f->sndbuf_bytes, f, err) < 0)
			return -1;
		return 0;
	case FAULT_RESET_AFTER:
		return append_number(buf, len, used, "reset_after", f->bytes, f, err);
	case FAULT_CLOSE_AFTER:
		return append_number(buf, len, used, "close_after", f->bytes, f, err);
	case FAULT_PAUSE:
	case FAULT_KILL:
		return 0; /* signals, sent by the driver */
	}
	return lab_err_set(err, "fault on line %d: unknown kind %d", f->line, (int)f->kind);
}

int shim_spec_format(const struct fault *faults, size_t n_faults, enum scenario_who who, char *buf,
		     size_t len, struct lab_err *err)
{
	size_t used = 0;
	int n_errors = 0;
	size_t i;

	if (len == 0)
		return lab_err_set(err, "shim spec: no room for the string");
	buf[0] = '\0';
	for (i = 0; i < n_faults; i++) {
		const struct fault *f = &faults[i];

		if (f->who != who)
			continue;
		if (f->kind == FAULT_ERROR && ++n_errors > SHIM_MAX_ERRORS)
			return lab_err_set(
				err, "fault on line %d: more than %d error faults for the %s",
				f->line, SHIM_MAX_ERRORS, who == WHO_CLIENT ? "client" : "server");
		if (append_fault(buf, len, &used, f, err) < 0) {
			buf[0] = '\0';
			return -1;
		}
	}
	if (used > 0)
		buf[used - 1] = '\0'; /* drop the last ';' */
	return 0;
}

static void add_counters(struct shim_stats *sum, const struct shim_stats *slot)
{
	sum->calls_intercepted += slot->calls_intercepted;
	sum->short_sends += slot->short_sends;
	sum->short_recvs += slot->short_recvs;
	sum->send_delays += slot->send_delays;
	sum->recv_delays += slot->recv_delays;
	sum->errors_injected += slot->errors_injected;
	sum->resets_done += slot->resets_done;
	sum->early_closes += slot->early_closes;
	sum->buffers_set += slot->buffers_set;
	sum->bytes_sent += slot->bytes_sent;
	sum->bytes_received += slot->bytes_received;
	sum->send_max_cuts += slot->send_max_cuts;
	sum->recv_max_cuts += slot->recv_max_cuts;
	for (int i = 0; i < SHIM_MAX_ERRORS; i++) {
		sum->error_rule_fired[i] += slot->error_rule_fired[i];
		sum->error_rule_calls[i] += slot->error_rule_calls[i];
	}
	sum->tcp_sockets += slot->tcp_sockets;
	sum->send_calls += slot->send_calls;
	sum->recv_calls += slot->recv_calls;
	if (slot->largest_send_bytes > sum->largest_send_bytes)
		sum->largest_send_bytes = slot->largest_send_bytes;
	if (slot->largest_recv_bytes > sum->largest_recv_bytes)
		sum->largest_recv_bytes = slot->largest_recv_bytes;
	if (slot->most_socket_bytes > sum->most_socket_bytes)
		sum->most_socket_bytes = slot->most_socket_bytes;
	sum->untracked_calls += slot->untracked_calls;
	sum->sendfile_calls += slot->sendfile_calls;
	sum->splice_calls += slot->splice_calls;
	sum->copy_file_range_calls += slot->copy_file_range_calls;
	sum->mmsg_calls += slot->mmsg_calls;
	sum->io_uring_setups += slot->io_uring_setups;
	sum->execs += slot->execs;
}

static int read_exact(int fd, void *buf, size_t len, off_t offset)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, offset + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int shim_stats_clear(const char *path, struct lab_err *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return lab_err_sys(err, errno, "%s", path);
	return 0;
}

static void add_seen(struct shim_seen *seen, const struct shim_stats_slot *slot)
{
	uint32_t i;

	if (slot->exe[0] != '\0' && seen->n_images < SHIM_SEEN_MAX)
		snprintf(seen->images[seen->n_images++], SHIM_PATH_BYTES, "%.*s",
			 SHIM_PATH_BYTES - 1, slot->exe);
	for (i = 0; i < slot->n_execs && i < SHIM_EXEC_PATHS; i++) {
		if (slot->exec_paths[i][0] == '\0' || seen->n_execs >= SHIM_SEEN_MAX)
			continue;
		snprintf(seen->execs[seen->n_execs++], SHIM_PATH_BYTES, "%.*s",
			 SHIM_PATH_BYTES - 1, slot->exec_paths[i]);
	}
}

int shim_stats_read(const char *path, struct shim_stats *sum, struct lab_err *err)
{
	return shim_stats_read_seen(path, sum, NULL, err);
}

int shim_stats_read_seen(const char *path, struct shim_stats *sum, struct shim_seen *seen,
			 struct lab_err *err)
{
	struct shim_stats_header header;
	struct shim_stats_slot slot;
	struct stat st;
	off_t offset;
	int ret = -1;
	int fd;

	memset(sum, 0, sizeof(*sum));
	if (seen != NULL)
		memset(seen, 0, sizeof(*seen));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return lab_err_sys(err, errno, "%s", path);
	}
	if (fstat(fd, &st) < 0) {
		lab_err_sys(err, errno, "%s", path);
		goto out;
	}
	if (st.st_size == 0) {
		ret = 0;
		goto out;
	}
	if (read_exact(fd, &header, sizeof(header), 0) < 0 ||
	    memcmp(header.magic, SHIM_STATS_MAGIC, sizeof(header.magic)) != 0 ||
	    header.slot_bytes != SHIM_STATS_SLOT_BYTES) {
		lab_err_set(err, "%s: not a tcplab shim stats file", path);
		goto out;
	}
	for (offset = SHIM_STATS_SLOT_BYTES; offset + (off_t)sizeof(slot) <= st.st_size;
	     offset += SHIM_STATS_SLOT_BYTES) {
		if (read_exact(fd, &slot, sizeof(slot), offset) < 0) {
			lab_err_sys(err, errno, "%s: reading slot at %lld", path,
				    (long long)offset);
			goto out;
		}
		if (slot.magic != SHIM_STATS_SLOT_MAGIC)
			continue; /* grown but not yet claimed */
		sum->processes++;
		add_counters(sum, &slot.counters);
		if (seen != NULL)
			add_seen(seen, &slot);
	}
	ret = 0;
out:
	close(fd);
	return ret;
}
