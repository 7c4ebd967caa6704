/* wire_pcap: the relay's capture files (see wire_pcap.h). */
#include "lab/wire/wire_pcap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

/* One write system call per 4 MiB of packets at full speed. */
#define WIRE_PCAP_BUFFER_BYTES (4u << 20)

struct wire_pcap {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	char *buffer;
	char path[512];
	uint32_t snaplen;
	uint64_t packets;
};

struct wire_pcap *wire_pcap_open(const char *path, uint32_t snaplen, struct lab_err *err)
{
	struct wire_pcap *pc = calloc(1, sizeof(*pc));
	FILE *f = NULL;

	if (pc == NULL) {
		lab_err_set(err, "wire: out of memory for a capture");
		return NULL;
	}
	snprintf(pc->path, sizeof(pc->path), "%s", path);
	pc->snaplen = snaplen;
	pc->buffer = malloc(WIRE_PCAP_BUFFER_BYTES);
	pc->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, (int)snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (pc->buffer == NULL || pc->dead == NULL) {
		lab_err_set(err, "wire: out of memory for the capture %s", path);
		goto fail;
	}
	f = fopen(path, "wbe");
	if (f == NULL) {
		lab_err_sys(err, errno, "wire: cannot create the capture %s", path);
		goto fail;
	}
	setvbuf(f, pc->buffer, _IOFBF, WIRE_PCAP_BUFFER_BYTES);
	pc->dumper = pcap_dump_fopen(pc->dead, f);
	if (pc->dumper == NULL) {
		lab_err_set(err, "wire: cannot start the capture %s: %s", path,
			    pcap_geterr(pc->dead));
		fclose(f);
		goto fail;
	}
	return pc;
fail:
	if (pc->dead)
		pcap_close(pc->dead);
	free(pc->buffer);
	free(pc);
	return NULL;
}

void wire_pcap_write(struct wire_pcap *pc, uint64_t realtime_ns, const uint8_t *pkt,
		     uint32_t len)
{
	struct pcap_pkthdr hdr;

	hdr.ts.tv_sec = (time_t)(realtime_ns / 1000000000ULL);
	/* A nanosecond capture: tv_usec holds nanoseconds. */
	hdr.ts.tv_usec = (suseconds_t)(realtime_ns % 1000000000ULL);
	hdr.len = len;
	hdr.caplen = len < pc->snaplen ? len : pc->snaplen;
	pcap_dump((u_char *)pc->dumper, &hdr, pkt);
	pc->packets++;
}

uint64_t wire_pcap_packets(const struct wire_pcap *pc)
{
	return pc->packets;
}

int wire_pcap_close(struct wire_pcap *pc, struct lab_err *err)
{
	FILE *f;
	int rc = 0;

	if (pc == NULL)
		return 0;
	f = pcap_dump_file(pc->dumper);
	if (fflush(f) != 0 || ferror(f))
		rc = lab_err_sys(err, errno, "wire: writing the capture %s failed", pc->path);
	pcap_dump_close(pc->dumper); /* closes f */
	pcap_close(pc->dead);
	free(pc->buffer);
	free(pc);
	return rc;
}
