/* usage: the --help text and usage errors of tcplab's command line (usage.h). */
#include "lab/cli/usage.h"

#include <stdio.h>
#include <stdlib.h>

const char cli_usage_text[] =
	"usage: tcplab COMMAND [options] ARGS\n"
	"\n"
	"commands:\n"
	"  run [-j N] [--repeat N] [--pcap-dir DIR] [--junit FILE] [--json FILE] [--html DIR]\n"
	"      [--snap-payload SIZE] [-v] PATH...\n"
	"        run scenario files (.scn), or every .scn in a directory, each in its own\n"
	"        network namespace; capture each run to DIR/<name>.pcap (default pcap/);\n"
	"        a scenario run again (--repeat, or named twice) to DIR/<name>-N.pcap\n"
	"  check PCAP (--scenario FILE | --expect 'LINE'...) [--port N] [--json FILE|-]\n"
	"        judge expectations about packets on a capture taken anywhere (pcap or\n"
	"        pcapng; PCAP - reads standard input); --json: the analysis and verdicts\n"
	"  show PCAP [--all] [--ascii] [--port N] [--time absolute|relative] [--json]\n"
	"       [--until SECONDS]\n"
	"        a ladder diagram of each TCP connection in a capture; each row starts\n"
	"        with its frame number (Wireshark: frame.number == N) and its time since\n"
	"        the connection began, the capture began (relative) or the UTC clock;\n"
	"        --json: its analysis as JSON (every tcp.analysis flag); --until marks\n"
	"        the lab's stop (the capture time the run report gives)\n"
	"  list PATH...\n"
	"        the scenarios and their one-line summaries\n"
	"  explore [--runs N] [--seed S] [--time DURATION] [-j N] [--json FILE] PATH...\n"
	"        run each scenario N times (default 100) under legal perturbations drawn\n"
	"        from the seed (short writes and reads, EINTR, EAGAIN, delays; loss,\n"
	"        reordering, duplicates and delay on a link); on the first failure,\n"
	"        shrink it and print it as fault and link lines (docs/explore.md)\n"
	"  explore --replay SEED:RUN PATH | explore --add LINE... PATH\n"
	"        run one drawn run again, or the scenario once with these lines added\n"
	"\n"
	"options:\n"
	"  -j, --jobs N       scenarios run at once (default: number of CPUs)\n"
	"      --repeat N     run each scenario N times; say which verdicts differed\n"
	"      --pcap-dir DIR where captures go (default: pcap)\n"
	"      --junit FILE   JUnit XML for CI (Jenkins, GitLab, GitHub)\n"
	"      --json FILE    everything the run knows (docs/report-formats.md)\n"
	"      --html DIR     index.html and a page per scenario with sequence diagrams\n"
	"      --snap-payload SIZE  whole packets for the first SIZE of payload of each\n"
	"                     direction of each connection, then headers only (like\n"
	"                     tcpdump -s; default 1MiB or the scenario's `capture\n"
	"                     payload`; `all`: every packet whole)\n"
	"  -v, --verbose      show every verdict, not only the failed ones\n"
	"  -h, --help         this text;  --version  the version\n"
	"\n"
	"examples:\n"
	"  tcplab run scenarios/\n"
	"  tcplab run -j 1 scenarios/deadlock.scn\n"
	"  tcplab run --junit report.xml --html report/ scenarios/\n"
	"  tcplab check pcap/server_down.pcap --port 1060 --expect 'handshake refused'\n"
	"  tcplab check dump.pcapng --expect 'analysis duplicate_ack <= 3 from server'\n"
	"  tcplab show --json pcap/sixteen.pcap | jq .flows.analysis\n"
	"  tcplab show pcap/sixteen.pcap\n"
	"  tcplab show --time absolute --port 1060 capture.pcapng\n"
	"  tcplab explore --runs 200 -j 2 scenarios/sixteen.scn\n"
	"\n"
	"exit status: 0 every expectation held; 1 some did not; 2 bad input, the lab\n"
	"could not run (the message names the file and line), or a verdict is\n"
	"inconclusive (the capture lost packets: the lab cannot know).\n";

int cli_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "tcplab: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see tcplab --help)\n");
	return 2;
}

int cli_parse_port(const char *text, int *port)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}
