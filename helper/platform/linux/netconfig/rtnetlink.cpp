// Rtnetlink requests. Each public call builds one message (header, family header, attributes),
// sends it and reads the answer:
//
//   change  NLM_F_REQUEST|NLM_F_ACK [|NLM_F_CREATE|NLM_F_EXCL]  ->  NLMSG_ERROR (0 = ACK)
//   get     NLM_F_REQUEST|NLM_F_ACK                             ->  one data message, ACK
//   dump    NLM_F_REQUEST|NLM_F_DUMP                            ->  data messages, NLMSG_DONE
//
// Messages are built the way iproute2 builds them for the same command, so the kernel treats
// them alike (scope, protocol, type) and dumps look the same as after `ip`.
#include "helper/platform/linux/netconfig/rtnetlink.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace calnet::helper::netconfig {

namespace {

// NLMSG_OK / NLMSG_NEXT without their mixed signed and unsigned arithmetic.
bool messageFits(const nlmsghdr* h, std::size_t remaining) {
    return remaining >= sizeof(nlmsghdr) && h->nlmsg_len >= sizeof(nlmsghdr) &&
           h->nlmsg_len <= remaining;
}

const nlmsghdr* nextMessage(const nlmsghdr* h, std::size_t& remaining) {
    const std::size_t step = std::min<std::size_t>(NLMSG_ALIGN(h->nlmsg_len), remaining);
    remaining -= step;
    return reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const std::uint8_t*>(h) + step);
}

// Bounded wait for the kernel's answer (see the class comment).
constexpr int kReceiveTimeoutSeconds = 5;
// Dump messages are at most 32 KiB; twice that leaves room for any single answer.
constexpr std::size_t kReceiveBufferBytes = 64 * 1024;

int addressFamily(net::Family f) {
    return f == net::Family::V4 ? AF_INET : AF_INET6;
}

// Appends a netlink message piece by piece, keeping NLMSG_ALIGN/RTA_ALIGN padding.
class Builder {
public:
    Builder(std::uint16_t type, std::uint16_t flags) {
        nlmsghdr h{};
        h.nlmsg_type = type;
        h.nlmsg_flags = flags;
        append(&h, sizeof h);
    }

    void append(const void* data, std::size_t length) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        bytes_.insert(bytes_.end(), p, p + length);
        bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
    }

    void attr(std::uint16_t type, const void* data, std::size_t length) {
        rtattr a{};
        a.rta_type = type;
        a.rta_len = static_cast<unsigned short>(RTA_LENGTH(length));
        append(&a, sizeof a);
        append(data, length);
    }
    void attrU32(std::uint16_t type, std::uint32_t value) { attr(type, &value, sizeof value); }
    void attrAddress(std::uint16_t type, const net::IpAddress& a) {
        attr(type, a.bytes.data(), a.byteLength());
    }

    std::vector<std::uint8_t>& finish() {
        const auto length = static_cast<std::uint32_t>(bytes_.size());
        std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
        return bytes_;
    }

private:
    std::vector<std::uint8_t> bytes_;
};

// Walks the attributes that follow a family header of `headerSize` bytes.
template <typename F> void forEachAttr(const nlmsghdr& h, std::size_t headerSize, F&& f) {
    const auto* start = reinterpret_cast<const std::uint8_t*>(NLMSG_DATA(&h));
    if (h.nlmsg_len < NLMSG_LENGTH(headerSize))
        return;
    auto* rta = reinterpret_cast<const rtattr*>(start + NLMSG_ALIGN(headerSize));
    auto remaining = static_cast<int>(h.nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(headerSize)));
    for (; RTA_OK(rta, remaining); rta = RTA_NEXT(rta, remaining))
        f(*rta);
}

std::uint32_t attrU32(const rtattr& a) {
    std::uint32_t v = 0;
    if (RTA_PAYLOAD(&a) >= sizeof v)
        std::memcpy(&v, RTA_DATA(&a), sizeof v);
    return v;
}

std::optional<net::IpAddress> attrAddress(const rtattr& a, int family) {
    const std::size_t want = family == AF_INET ? 4 : 16;
    if (RTA_PAYLOAD(&a) != want)
        return std::nullopt;
    net::IpAddress out;
    out.family = family == AF_INET ? net::Family::V4 : net::Family::V6;
    std::memcpy(out.bytes.data(), RTA_DATA(&a), want);
    return out;
}

std::vector<std::uint8_t>& linkRequest(Builder& b, int ifindex, unsigned flags, unsigned change) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = ifindex;
    ifi.ifi_flags = flags;
    ifi.ifi_change = change;
    b.append(&ifi, sizeof ifi);
    return b.finish();
}

void addressRequest(Builder& b, int ifindex, const net::IpPrefix& address) {
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<unsigned char>(addressFamily(address.address.family));
    ifa.ifa_prefixlen = address.length;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<unsigned>(ifindex);
    b.append(&ifa, sizeof ifa);
    b.attrAddress(IFA_LOCAL, address.address);
    b.attrAddress(IFA_ADDRESS, address.address);
}

void routeRequest(Builder& b, const RouteSpec& r, bool add) {
    const net::IpPrefix dst = r.prefix.masked();
    rtmsg rtm{};
    rtm.rtm_family = static_cast<unsigned char>(addressFamily(dst.address.family));
    rtm.rtm_dst_len = dst.length;
    rtm.rtm_table = r.table < 256 ? static_cast<unsigned char>(r.table)
                                  : static_cast<unsigned char>(RT_TABLE_UNSPEC);
    if (add) {
        // As `ip route add <prefix> dev X`: a boot-protocol unicast route, link scope for an
        // IPv4 route without gateway.
        rtm.rtm_protocol = RTPROT_BOOT;
        rtm.rtm_scope = dst.address.family == net::Family::V4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        rtm.rtm_type = RTN_UNICAST;
    } else {
        // As `ip route del`: any protocol, any scope, any type, so only what we name matches.
        rtm.rtm_protocol = RTPROT_UNSPEC;
        rtm.rtm_scope = RT_SCOPE_NOWHERE;
        rtm.rtm_type = RTN_UNSPEC;
    }
    b.append(&rtm, sizeof rtm);
    b.attrAddress(RTA_DST, dst.address);
    b.attrU32(RTA_TABLE, r.table);
    b.attrU32(RTA_OIF, static_cast<std::uint32_t>(r.ifindex));
    if (r.metric != 0)
        b.attrU32(RTA_PRIORITY, r.metric);
}

void ruleRequest(Builder& b, const RuleSpec& r) {
    fib_rule_hdr frh{};
    frh.family = static_cast<unsigned char>(addressFamily(r.family));
    frh.table = r.table < 256 ? static_cast<unsigned char>(r.table)
                              : static_cast<unsigned char>(RT_TABLE_UNSPEC);
    frh.action = FR_ACT_TO_TBL;
    frh.flags = r.invert ? FIB_RULE_INVERT : 0;
    b.append(&frh, sizeof frh);
    b.attrU32(FRA_PRIORITY, r.priority);
    b.attrU32(FRA_TABLE, r.table);
    if (r.fwmark) {
        b.attrU32(FRA_FWMARK, *r.fwmark);
        b.attrU32(FRA_FWMASK, 0xffffffffU);
    }
    if (r.suppressPrefixLength)
        b.attrU32(FRA_SUPPRESS_PREFIXLEN, *r.suppressPrefixLength);
}

} // namespace

bool LinkInfo::up() const {
    return (flags & IFF_UP) != 0;
}

Rtnetlink::~Rtnetlink() {
    close();
}

int Rtnetlink::open() {
    close();
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return errno;
    const int one = 1;
    // Extended acks carry the kernel's reason; capped acks do not echo our request back.
    ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    timeval tv{};
    tv.tv_sec = kReceiveTimeoutSeconds;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
        const int err = errno;
        ::close(fd);
        return err;
    }
    fd_ = fd;
    return 0;
}

void Rtnetlink::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

std::string Rtnetlink::describe(int err) const {
    std::string text = std::strerror(err);
    if (!lastMessage_.empty())
        text += " (" + lastMessage_ + ")";
    return text;
}

int Rtnetlink::transact(std::vector<std::uint8_t>& request,
                        const std::function<void(const void*)>& onMessage) {
    lastMessage_.clear();
    if (fd_ < 0)
        return EBADF;
    auto* hdr = reinterpret_cast<nlmsghdr*>(request.data());
    hdr->nlmsg_seq = ++seq_;
    const bool dump = (hdr->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
        sent = ::sendto(fd_, request.data(), request.size(), 0,
                        reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0)
        return errno;
    if (static_cast<std::size_t>(sent) != request.size())
        return EIO;

    std::vector<std::uint8_t> buffer(kReceiveBufferBytes);
    for (;;) {
        iovec iov{buffer.data(), buffer.size()};
        sockaddr_nl from{};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        const ssize_t n = ::recvmsg(fd_, &msg, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? ETIMEDOUT : errno;
        }
        if (msg.msg_flags & MSG_TRUNC)
            return EMSGSIZE;
        if (from.nl_pid != 0)
            continue; // not from the kernel
        auto remaining = static_cast<std::size_t>(n);
        for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer.data()); messageFits(h, remaining);
             h = nextMessage(h, remaining)) {
            if (h->nlmsg_seq != seq_)
                continue; // a late answer to an earlier, timed-out request
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR) {
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
                    return EPROTO;
                const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
                if ((h->nlmsg_flags & NLM_F_ACK_TLVS) != 0) {
                    // The TLVs follow the echoed request, which is only its header when capped.
                    std::size_t offset = sizeof(nlmsgerr);
                    if ((h->nlmsg_flags & NLM_F_CAPPED) == 0)
                        offset += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
                    const auto* base = static_cast<const std::uint8_t*>(NLMSG_DATA(h));
                    const std::size_t end = h->nlmsg_len - NLMSG_HDRLEN;
                    if (offset < end) {
                        auto* rta = reinterpret_cast<const rtattr*>(base + offset);
                        auto left = static_cast<int>(end - offset);
                        for (; RTA_OK(rta, left); rta = RTA_NEXT(rta, left))
                            if (rta->rta_type == NLMSGERR_ATTR_MSG && RTA_PAYLOAD(rta) > 0)
                                lastMessage_.assign(
                                    static_cast<const char*>(RTA_DATA(rta)),
                                    ::strnlen(static_cast<const char*>(RTA_DATA(rta)),
                                              RTA_PAYLOAD(rta)));
                    }
                }
                return -e->error; // 0 = ACK
            }
            if (onMessage)
                onMessage(h);
            if (!dump && (hdr->nlmsg_flags & NLM_F_ACK) == 0)
                return 0;
        }
    }
}

int Rtnetlink::getLink(int ifindex, LinkInfo& out) {
    Builder b(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
    auto& request = linkRequest(b, ifindex, 0, 0);
    bool found = false;
    const int err = transact(request, [&](const void* m) {
        const auto& h = *static_cast<const nlmsghdr*>(m);
        if (h.nlmsg_type != RTM_NEWLINK || h.nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
            return;
        const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(&h));
        found = true;
        out = LinkInfo{};
        out.ifindex = ifi->ifi_index;
        out.flags = ifi->ifi_flags;
        forEachAttr(h, sizeof(ifinfomsg), [&](const rtattr& a) {
            if (a.rta_type == IFLA_MTU)
                out.mtu = attrU32(a);
            else if (a.rta_type == IFLA_IFNAME)
                out.name.assign(static_cast<const char*>(RTA_DATA(&a)),
                                ::strnlen(static_cast<const char*>(RTA_DATA(&a)), RTA_PAYLOAD(&a)));
        });
    });
    if (err != 0)
        return err;
    return found ? 0 : ENODEV;
}

int Rtnetlink::setMtu(int ifindex, std::uint32_t mtu) {
    Builder b(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = ifindex;
    b.append(&ifi, sizeof ifi);
    b.attrU32(IFLA_MTU, mtu);
    return transact(b.finish());
}

int Rtnetlink::setLinkUp(int ifindex, bool up) {
    Builder b(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
    return transact(linkRequest(b, ifindex, up ? IFF_UP : 0, IFF_UP));
}

int Rtnetlink::addAddress(int ifindex, const net::IpPrefix& address) {
    Builder b(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    addressRequest(b, ifindex, address);
    return transact(b.finish());
}

int Rtnetlink::delAddress(int ifindex, const net::IpPrefix& address) {
    Builder b(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK);
    addressRequest(b, ifindex, address);
    return transact(b.finish());
}

int Rtnetlink::addRoute(const RouteSpec& route) {
    Builder b(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    routeRequest(b, route, true);
    return transact(b.finish());
}

int Rtnetlink::delRoute(const RouteSpec& route) {
    Builder b(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK);
    routeRequest(b, route, false);
    return transact(b.finish());
}

int Rtnetlink::dumpRoutes(net::Family family, std::vector<RouteInfo>& out) {
    out.clear();
    Builder b(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
    rtmsg rtm{};
    rtm.rtm_family = static_cast<unsigned char>(addressFamily(family));
    b.append(&rtm, sizeof rtm);
    return transact(b.finish(), [&](const void* m) {
        const auto& h = *static_cast<const nlmsghdr*>(m);
        if (h.nlmsg_type != RTM_NEWROUTE || h.nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg)))
            return;
        const auto* r = static_cast<const rtmsg*>(NLMSG_DATA(&h));
        if (r->rtm_family != addressFamily(family))
            return;
        RouteInfo info;
        info.prefix.address.family = family;
        info.prefix.length = r->rtm_dst_len;
        info.table = r->rtm_table;
        info.type = r->rtm_type;
        info.protocol = r->rtm_protocol;
        forEachAttr(h, sizeof(rtmsg), [&](const rtattr& a) {
            switch (a.rta_type) {
            case RTA_DST:
                if (auto addr = attrAddress(a, r->rtm_family))
                    info.prefix.address = *addr;
                break;
            case RTA_TABLE:
                info.table = attrU32(a);
                break;
            case RTA_OIF:
                info.oif = static_cast<int>(attrU32(a));
                break;
            case RTA_PRIORITY:
                info.metric = attrU32(a);
                break;
            case RTA_METRICS: {
                auto* sub = static_cast<const rtattr*>(RTA_DATA(&a));
                auto left = static_cast<int>(RTA_PAYLOAD(&a));
                for (; RTA_OK(sub, left); sub = RTA_NEXT(sub, left))
                    if (sub->rta_type == RTAX_MTU)
                        info.mtu = attrU32(*sub);
                break;
            }
            default:
                break;
            }
        });
        out.push_back(info);
    });
}

int Rtnetlink::lookupRoute(const net::IpAddress& destination, RouteLookup& out) {
    Builder b(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK);
    rtmsg rtm{};
    rtm.rtm_family = static_cast<unsigned char>(addressFamily(destination.family));
    rtm.rtm_dst_len = static_cast<unsigned char>(destination.maxPrefix());
    b.append(&rtm, sizeof rtm);
    b.attrAddress(RTA_DST, destination);
    out = RouteLookup{};
    return transact(b.finish(), [&](const void* m) {
        const auto& h = *static_cast<const nlmsghdr*>(m);
        if (h.nlmsg_type != RTM_NEWROUTE)
            return;
        forEachAttr(h, sizeof(rtmsg), [&](const rtattr& a) {
            if (a.rta_type == RTA_OIF) {
                out.oif = static_cast<int>(attrU32(a));
            } else if (a.rta_type == RTA_METRICS) {
                auto* sub = static_cast<const rtattr*>(RTA_DATA(&a));
                auto left = static_cast<int>(RTA_PAYLOAD(&a));
                for (; RTA_OK(sub, left); sub = RTA_NEXT(sub, left))
                    if (sub->rta_type == RTAX_MTU)
                        out.mtu = attrU32(*sub);
            }
        });
    });
}

int Rtnetlink::addRule(const RuleSpec& rule) {
    Builder b(RTM_NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    ruleRequest(b, rule);
    return transact(b.finish());
}

int Rtnetlink::delRule(const RuleSpec& rule) {
    Builder b(RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK);
    ruleRequest(b, rule);
    return transact(b.finish());
}

int Rtnetlink::dumpRules(net::Family family, std::vector<RuleSpec>& out) {
    out.clear();
    Builder b(RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP);
    fib_rule_hdr frh{};
    frh.family = static_cast<unsigned char>(addressFamily(family));
    b.append(&frh, sizeof frh);
    return transact(b.finish(), [&](const void* m) {
        const auto& h = *static_cast<const nlmsghdr*>(m);
        if (h.nlmsg_type != RTM_NEWRULE || h.nlmsg_len < NLMSG_LENGTH(sizeof(fib_rule_hdr)))
            return;
        const auto* f = static_cast<const fib_rule_hdr*>(NLMSG_DATA(&h));
        if (f->family != addressFamily(family))
            return;
        RuleSpec rule;
        rule.family = family;
        rule.table = f->table;
        rule.invert = (f->flags & FIB_RULE_INVERT) != 0;
        forEachAttr(h, sizeof(fib_rule_hdr), [&](const rtattr& a) {
            switch (a.rta_type) {
            case FRA_PRIORITY:
                rule.priority = attrU32(a);
                break;
            case FRA_TABLE:
                rule.table = attrU32(a);
                break;
            case FRA_FWMARK:
                rule.fwmark = attrU32(a);
                break;
            case FRA_SUPPRESS_PREFIXLEN: {
                const std::uint32_t v = attrU32(a);
                if (v <= 128)
                    rule.suppressPrefixLength = static_cast<std::uint8_t>(v);
                break;
            }
            default:
                break;
            }
        });
        out.push_back(rule);
    });
}

} // namespace calnet::helper::netconfig
