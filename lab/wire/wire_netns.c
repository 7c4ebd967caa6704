/* wire_netns: one side's namespace, TUN device and addressing (see wire_netns.h).
 * Interface flags and MTU through ioctl; the queue length, the addresses and the
 * route through rtnetlink (libmnl, each request acknowledged); the few per-namespace
 * switches netlink cannot set (conf/all) through /proc/sys, which always shows the
 * calling thread's namespace. */
#include "lab/wire/wire_netns.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

/* The kernel's queue in front of the relay: deep, so a burst the relay has not yet
 * read is not dropped there, out of sight of both captures. */
#define WIRE_TUN_QUEUE_PACKETS 10000

uint32_t wire_netns_addr(enum wire_side side)
{
	return htonl(side == WIRE_CLIENT ? 0x7f000002 : 0x7f000001);
}

static int write_sysctl(const char *path, const char *value, struct lab_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(value);

	if (fd < 0)
		return lab_err_sys(err, errno, "wire: cannot open %s", path);
	if (write(fd, value, (size_t)len) != len) {
		int saved = errno;

		close(fd);
		return lab_err_sys(err, saved, "wire: cannot write %s to %s", value, path);
	}
	close(fd);
	return 0;
}

/* Sends one request and waits for its acknowledgement. */
static int nl_request(struct mnl_socket *nl, struct nlmsghdr *nlh, const char *what,
		      struct lab_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return lab_err_sys(err, errno, "wire: netlink: sending the request to %s", what);
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return lab_err_sys(err, errno, "wire: netlink: reading the answer to %s", what);
	if (mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0)
		return lab_err_sys(err, errno, "wire: cannot %s", what);
	return 0;
}

static int nl_addr(struct mnl_socket *nl, int type, unsigned ifindex, uint32_t addr,
		   unsigned prefix_len, unsigned *seq, const char *what, struct lab_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = ++*seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)prefix_len;
	ifa->ifa_scope = RT_SCOPE_HOST;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, addr);
	return nl_request(nl, nlh, what, err);
}

/* The device's queue length, through netlink: the ioctl needs CAP_NET_ADMIN in
 * the first user namespace, which Bazel's sandbox does not give. */
static int nl_txqlen(struct mnl_socket *nl, unsigned ifindex, uint32_t qlen, unsigned *seq,
		     struct lab_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++*seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, qlen);
	return nl_request(nl, nlh, "set the wire's queue length", err);
}

/* PEER/32 through the wire, from LOCAL. */
static int nl_route(struct mnl_socket *nl, unsigned ifindex, uint32_t peer, uint32_t local,
		    unsigned *seq, struct lab_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = ++*seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_DST, peer);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	mnl_attr_put_u32(nlh, RTA_PREFSRC, local);
	return nl_request(nl, nlh, "route the peer's address to the wire", err);
}

static int set_if(int sock, const char *name, unsigned long request, struct ifreq *ifr,
		  const char *what, struct lab_err *err)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	if (ioctl(sock, request, ifr) < 0)
		return lab_err_sys(err, errno, "wire: cannot %s of %s", what, name);
	return 0;
}

static int bring_up(int sock, const char *name, struct lab_err *err)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (set_if(sock, name, SIOCGIFFLAGS, &ifr, "read the flags", err) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return set_if(sock, name, SIOCSIFFLAGS, &ifr, "set the up flag", err);
}

static int open_tun(uint32_t mtu, bool offload, int sock, struct lab_err *err)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return lab_err_sys(err, errno, "wire: cannot open /dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", WIRE_DEVICE_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		lab_err_sys(err, errno, "wire: cannot make the TUN device %s", WIRE_DEVICE_NAME);
		goto fail;
	}
	/* The device takes TCP bursts of up to 64 KiB and leaves checksums to the
	 * relay, as a NIC with TSO does: the relay hands them on whole, and the
	 * captures show them as the segments they are on the cable (wire_gso.h). */
	if (offload && ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0) {
		lab_err_sys(err, errno, "wire: cannot turn on the offloads of %s",
			    WIRE_DEVICE_NAME);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	if (set_if(sock, WIRE_DEVICE_NAME, SIOCSIFMTU, &ifr, "set the MTU", err) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int configure(enum wire_side side, uint32_t mtu, bool offload, struct wire_netns *out,
		     int sock, struct lab_err *err)
{
	static const char *const sysctls[][2] = {
		/* IPv4 from and to 127/8 may cross the wire, and no reverse-path check
		 * refuses it (the namespace inherits the host's conf/all). */
		{ "/proc/sys/net/ipv4/conf/all/rp_filter", "0" },
		{ "/proc/sys/net/ipv4/conf/default/rp_filter", "0" },
		{ "/proc/sys/net/ipv4/conf/default/route_localnet", "1" },
		/* No IPv6 on the wire (lo keeps ::1): no router solicitation or MLD
		 * report crosses the wire or lands in its captures. */
		{ "/proc/sys/net/ipv6/conf/default/disable_ipv6", "1" },
	};
	uint32_t local = wire_netns_addr(side);
	uint32_t peer = wire_netns_addr(side == WIRE_CLIENT ? WIRE_SERVER : WIRE_CLIENT);
	struct mnl_socket *nl = NULL;
	unsigned seq = (unsigned)time(NULL);
	unsigned lo_index, wire_index;
	int rc = -1;

	if (bring_up(sock, "lo", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++)
		if (write_sysctl(sysctls[i][0], sysctls[i][1], err) < 0)
			return -1;
	out->tun_fd = open_tun(mtu, offload, sock, err);
	if (out->tun_fd < 0)
		return -1;
	if (bring_up(sock, WIRE_DEVICE_NAME, err) < 0)
		return -1;
	lo_index = if_nametoindex("lo");
	wire_index = if_nametoindex(WIRE_DEVICE_NAME);
	if (lo_index == 0 || wire_index == 0)
		return lab_err_sys(err, errno, "wire: cannot find the index of lo or the wire");
	out->wire_index = wire_index;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL) {
		lab_err_sys(err, errno, "wire: cannot open a NETLINK_ROUTE socket");
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		lab_err_sys(err, errno, "wire: cannot bind the NETLINK_ROUTE socket");
		goto out;
	}
	if (nl_txqlen(nl, wire_index, WIRE_TUN_QUEUE_PACKETS, &seq, err) < 0)
		goto out;
	/* lo came up with 127.0.0.1/8, which would keep all of 127/8 local. */
	if (nl_addr(nl, RTM_DELADDR, lo_index, htonl(0x7f000001), 8, &seq,
		    "remove 127.0.0.1/8 from lo", err) < 0)
		goto out;
	if (nl_addr(nl, RTM_NEWADDR, lo_index, local, 32, &seq, "give lo its /32 address", err) < 0)
		goto out;
	if (nl_route(nl, wire_index, peer, local, &seq, err) < 0)
		goto out;
	/* Kept: a netlink socket stays in the namespace it was made in. */
	out->nl = nl;
	nl = NULL;
	rc = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	return rc;
}

int wire_netns_make(enum wire_side side, uint32_t mtu, bool offload, struct wire_netns *out,
		    struct lab_err *err)
{
	int sock = -1;

	out->netns_fd = -1;
	out->tun_fd = -1;
	out->nl = NULL;
	out->wire_index = 0;
	if (unshare(CLONE_NEWNET) < 0)
		return lab_err_sys(err, errno, "wire: cannot make a network namespace");
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return lab_err_sys(err, errno, "wire: cannot open a socket in the new namespace");
	/* The namespace's fd without /proc, which may show another PID namespace. */
	out->netns_fd = ioctl(sock, SIOCGSKNS);
	if (out->netns_fd < 0) {
		lab_err_sys(err, errno, "wire: cannot get the new namespace's fd");
		goto fail;
	}
	if (fcntl(out->netns_fd, F_SETFD, FD_CLOEXEC) < 0) {
		lab_err_sys(err, errno, "wire: cannot mark the namespace's fd close-on-exec");
		goto fail;
	}
	if (configure(side, mtu, offload, out, sock, err) < 0)
		goto fail;
	close(sock);
	return 0;
fail:
	close(sock);
	wire_netns_close(out);
	return -1;
}

struct link_stats_query {
	struct wire_device_stats *out;
	int found;
};

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_stats_query *q = data;
	const struct rtnl_link_stats64 *st;

	if (mnl_attr_get_type(attr) != IFLA_STATS64)
		return MNL_CB_OK;
	if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, sizeof(*st)) < 0)
		return MNL_CB_OK;
	st = mnl_attr_get_payload(attr);
	q->out->tx_packets = st->tx_packets;
	q->out->tx_dropped = st->tx_dropped;
	q->out->rx_packets = st->rx_packets;
	q->out->rx_dropped = st->rx_dropped;
	q->found = 1;
	return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, data);
}

int wire_netns_device_stats(const struct wire_netns *ns, struct wire_device_stats *out,
			    struct lab_err *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct link_stats_query q = { .out = out, .found = 0 };
	struct ifinfomsg *ifi;
	unsigned seq = (unsigned)time(NULL);
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (ns->nl == NULL)
		return lab_err_set(err, "wire: no netlink socket in the namespace");
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ns->wire_index;
	if (mnl_socket_sendto(ns->nl, nlh, nlh->nlmsg_len) < 0)
		return lab_err_sys(err, errno, "wire: asking for the wire's counters");
	n = mnl_socket_recvfrom(ns->nl, buf, sizeof(buf));
	if (n < 0)
		return lab_err_sys(err, errno, "wire: reading the wire's counters");
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(ns->nl), link_msg_cb, &q) < 0)
		return lab_err_sys(err, errno, "wire: reading the wire's counters");
	if (!q.found)
		return lab_err_set(err, "wire: the kernel gave no counters for the wire");
	return 0;
}

void wire_netns_close(struct wire_netns *ns)
{
	if (ns->nl)
		mnl_socket_close(ns->nl);
	ns->nl = NULL;
	if (ns->tun_fd >= 0)
		close(ns->tun_fd);
	if (ns->netns_fd >= 0)
		close(ns->netns_fd);
	ns->tun_fd = -1;
	ns->netns_fd = -1;
}
