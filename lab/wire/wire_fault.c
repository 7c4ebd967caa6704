/* wire_fault: the pure fault model (see wire_fault.h). */
#include "lab/wire/wire_fault.h"

#include <string.h>

/* One salt per kind of choice, so the loss and the duplication of a packet are
 * independent draws. */
enum {
	SALT_LOSS = 1,
	SALT_DUPLICATE,
	SALT_REORDER,
	SALT_CORRUPT,
	SALT_CORRUPT_BIT,
	SALT_JITTER,
};

static const char *const drop_kind_names[WIRE_DROP_KINDS] = {
	[WIRE_DROP_DOWN] = "down",   [WIRE_DROP_MTU] = "mtu",     [WIRE_DROP_FILTER] = "filter",
	[WIRE_DROP_LOSS] = "loss",   [WIRE_DROP_QUEUE] = "queue", [WIRE_DROP_OVERFLOW] = "overflow",
};

const char *wire_drop_kind_name(enum wire_drop_kind kind)
{
	if ((unsigned)kind >= WIRE_DROP_KINDS)
		return NULL;
	return drop_kind_names[kind];
}

int wire_drop_kind_from_name(const char *name)
{
	for (int k = 0; k < WIRE_DROP_KINDS; k++)
		if (strcmp(name, drop_kind_names[k]) == 0)
			return k;
	return -1;
}

/* The finaliser of MurmurHash3: every input bit changes each output bit with
 * probability about one half, which is all the model needs of a random source. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t wire_draw(uint64_t seed, enum wire_dir dir, uint64_t index, unsigned salt)
{
	uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);

	h = mix64(h ^ (((uint64_t)dir << 32) | salt));
	return mix64(h ^ (index * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL));
}

static bool chance(uint32_t pcm, uint64_t seed, enum wire_dir dir, uint64_t index, unsigned salt)
{
	if (pcm == 0)
		return false;
	if (pcm >= WIRE_PCM_ALL)
		return true;
	return wire_draw(seed, dir, index, salt) % WIRE_PCM_ALL < pcm;
}

void wire_choose(const struct wire_faults *f, uint64_t seed, enum wire_dir dir, uint64_t index,
		 struct wire_choice *out)
{
	memset(out, 0, sizeof(*out));
	out->lose = chance(f->loss_pcm, seed, dir, index, SALT_LOSS);
	out->duplicate = chance(f->duplicate_pcm, seed, dir, index, SALT_DUPLICATE);
	out->reorder = chance(f->reorder_pcm, seed, dir, index, SALT_REORDER);
	out->corrupt = chance(f->corrupt_pcm, seed, dir, index, SALT_CORRUPT);
	if (out->corrupt)
		out->corrupt_draw = wire_draw(seed, dir, index, SALT_CORRUPT_BIT);
	if (f->jitter_us > 0) {
		uint64_t span = 2 * f->jitter_us + 1;

		out->jitter_us = (int64_t)(wire_draw(seed, dir, index, SALT_JITTER) % span) -
				 (int64_t)f->jitter_us;
	}
}

bool wire_filter_drops(const struct wire_filter_rule *rule, uint64_t match_number)
{
	if (match_number == 0)
		return false;
	switch (rule->mode) {
	case WIRE_FILTER_ALL:
		return true;
	case WIRE_FILTER_ONCE:
		return match_number == 1;
	case WIRE_FILTER_EVERY:
		return rule->n > 0 && match_number % rule->n == 0;
	case WIRE_FILTER_FIRST:
		return match_number <= rule->n;
	}
	return false;
}

bool wire_is_down(const struct wire_faults *f, uint64_t t_us)
{
	for (size_t i = 0; i < f->n_downs; i++) {
		const struct wire_down *d = &f->downs[i];

		if (t_us < d->at_us)
			continue;
		if (d->for_us == 0 || t_us - d->at_us < d->for_us)
			return true;
	}
	return false;
}

bool wire_faults_any(const struct wire_faults *f)
{
	return f->delay_us || f->jitter_us || f->loss_pcm || f->duplicate_pcm || f->reorder_pcm ||
	       f->corrupt_pcm || f->rate_bps || f->n_filters || f->n_downs;
}

bool wire_faults_per_segment(const struct wire_faults *f)
{
	return f->jitter_us || f->loss_pcm || f->duplicate_pcm || f->reorder_pcm ||
	       f->corrupt_pcm || f->rate_bps || f->n_filters;
}

long wire_corrupt(uint8_t *pkt, size_t len, uint64_t draw)
{
	size_t ihl_bytes, total_bytes, tcp_bytes, doff_bytes, bit;

	if (len < 20 || (pkt[0] >> 4) != 4 || pkt[9] != 6 /* TCP */)
		return -1;
	ihl_bytes = (size_t)(pkt[0] & 0x0f) * 4;
	total_bytes = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl_bytes < 20 || total_bytes > len || total_bytes < ihl_bytes + 20)
		return -1;
	/* A fragment other than the first has no TCP header to find. */
	if (((pkt[6] & 0x1f) << 8 | pkt[7]) != 0)
		return -1;
	tcp_bytes = total_bytes - ihl_bytes;
	doff_bytes = (size_t)(pkt[ihl_bytes + 12] >> 4) * 4;
	if (doff_bytes < 20 || doff_bytes > tcp_bytes)
		return -1;
	if (tcp_bytes > doff_bytes)
		bit = doff_bytes * 8 + draw % ((tcp_bytes - doff_bytes) * 8);
	else
		bit = 16 * 8 + draw % 16; /* the checksum field, bytes 16 and 17 */
	pkt[ihl_bytes + bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
	return (long)bit;
}
