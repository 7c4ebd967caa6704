/* shim_config: parsing TCPLAB_FAULTS (see shim_config.h). Runs inside the
 * preloaded shim, so it allocates nothing, prints nothing and uses libc only. */
#include "shim_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct call_name {
	const char *name;
	uint32_t calls;
};

#define SHIM_CALL_ENTRY(name, bits) { name, bits },
static const struct call_name call_names[] = { SHIM_CALL_NAMES(SHIM_CALL_ENTRY) };
#undef SHIM_CALL_ENTRY

/* A piece of the spec text: [start, start + len). */
struct span {
	const char *start;
	size_t len;
};

static bool span_is(struct span s, const char *word)
{
	return strlen(word) == s.len && memcmp(s.start, word, s.len) == 0;
}

static uint32_t call_mask_of(struct span s)
{
	size_t i;

	for (i = 0; i < sizeof(call_names) / sizeof(call_names[0]); i++) {
		if (span_is(s, call_names[i].name))
			return call_names[i].calls;
	}
	return 0;
}

uint32_t shim_call_mask(const char *name)
{
	struct span s = { name, strlen(name) };

	return call_mask_of(s);
}

/* A decimal number >= 0 that fits int64_t, and nothing else. */
static int parse_count(struct span s, int64_t *out)
{
	int64_t value = 0;
	size_t i;

	if (s.len == 0)
		return -1;
	for (i = 0; i < s.len; i++) {
		int digit = s.start[i] - '0';

		if (digit < 0 || digit > 9)
			return -1;
		if (value > (INT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}

/* Splits *rest at the first sep: *head gets what comes before it, *rest what comes
 * after (empty when there is no sep). */
static struct span split(struct span *rest, char sep)
{
	const char *found = memchr(rest->start, sep, rest->len);
	struct span head = *rest;

	if (found == NULL) {
		rest->start += rest->len;
		rest->len = 0;
		return head;
	}
	head.len = (size_t)(found - rest->start);
	rest->len -= head.len + 1;
	rest->start = found + 1;
	return head;
}

/* CALL:ERRNO:WHEN[:legal] with WHEN one of always, once, every:N, after:BYTES. */
static int parse_error_rule(struct span value, struct shim_config *cfg)
{
	struct shim_error_rule *rule;
	struct span call, number, when;
	int64_t errno_value;

	if (cfg->n_errors >= SHIM_MAX_ERRORS)
		return -1;
	rule = &cfg->errors[cfg->n_errors];
	call = split(&value, ':');
	number = split(&value, ':');
	when = split(&value, ':');
	if (call.len == 0 || call.len >= sizeof(rule->call))
		return -1;
	rule->calls = call_mask_of(call);
	if (rule->calls == 0)
		return -1;
	memcpy(rule->call, call.start, call.len);
	rule->call[call.len] = '\0';
	if (parse_count(number, &errno_value) < 0 || errno_value == 0 || errno_value > 4095)
		return -1;
	rule->errno_value = (int)errno_value;
	rule->n = 0;
	if (span_is(when, "always") || when.len == 0) {
		rule->when = SHIM_WHEN_ALWAYS;
	} else if (span_is(when, "once")) {
		rule->when = SHIM_WHEN_ONCE;
	} else if (span_is(when, "every")) {
		rule->when = SHIM_WHEN_EVERY;
		if (parse_count(split(&value, ':'), &rule->n) < 0 || rule->n == 0)
			return -1;
	} else if (span_is(when, "after")) {
		rule->when = SHIM_WHEN_AFTER;
		if (parse_count(split(&value, ':'), &rule->n) < 0)
			return -1;
	} else {
		return -1;
	}
	rule->legal = 0;
	if (value.len != 0) {
		if (!span_is(split(&value, ':'), "legal") || value.len != 0)
			return -1;
		if (rule->errno_value != EINTR && rule->errno_value != EAGAIN &&
		    rule->errno_value != EWOULDBLOCK)
			return -1;
		rule->legal = 1;
	}
	cfg->n_errors++;
	return 0;
}

static int parse_item(struct span item, struct shim_config *cfg)
{
	static const struct {
		const char *key;
		size_t offset;
	} numbers[] = {
		{ "send_max", offsetof(struct shim_config, send_max_bytes) },
		{ "recv_max", offsetof(struct shim_config, recv_max_bytes) },
		{ "send_delay_us", offsetof(struct shim_config, send_delay_us) },
		{ "recv_delay_us", offsetof(struct shim_config, recv_delay_us) },
		{ "rcvbuf", offsetof(struct shim_config, rcvbuf_bytes) },
		{ "sndbuf", offsetof(struct shim_config, sndbuf_bytes) },
		{ "reset_after", offsetof(struct shim_config, reset_after_bytes) },
		{ "close_after", offsetof(struct shim_config, close_after_bytes) },
	};
	struct span value = item;
	struct span key = split(&value, '=');
	size_t i;

	if (key.len == item.len) /* no '=' */
		return -1;
	if (span_is(key, "error"))
		return parse_error_rule(value, cfg);
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (span_is(key, numbers[i].key)) {
			int64_t *field = (int64_t *)((char *)cfg + numbers[i].offset);

			return parse_count(value, field);
		}
	}
	return -1;
}

int shim_spec_parse(const char *text, struct shim_config *cfg)
{
	struct span rest = { text, strlen(text) };

	memset(cfg, 0, sizeof(*cfg));
	while (rest.len > 0) {
		struct span item = split(&rest, ';');

		if (item.len == 0) /* ";;" or a trailing ';' */
			continue;
		if (parse_item(item, cfg) < 0)
			return -1;
	}
	return 0;
}
