#include "helper/uapi/uapihandler.h"

#include <cerrno>
#include <charconv>
#include <optional>
#include <vector>

#include "core/config/keyencoding.h"

namespace calnet::helper {

namespace wg = calnet::wireguard;

namespace {

template <class T> std::optional<T> parseNumber(std::string_view s) {
    T value{};
    if (s.empty())
        return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return value;
}

std::string hexOf(std::span<const std::uint8_t, 32> key) {
    return config::encodeKeyHex(key);
}

// Everything one peer section asks for, applied in one go.
struct PeerChange {
    crypto::PublicKey publicKey{};
    bool remove = false;
    bool updateOnly = false;
    std::optional<crypto::Secret<32>> presharedKey;
    std::optional<net::SocketAddress> endpoint;
    std::optional<std::uint16_t> keepalive;
    bool replaceAllowedIps = false;
    std::vector<net::IpPrefix> allowedIps;
};

void applyPeer(DeviceHost& host, const PeerChange& change) {
    host.withDevice([&](wg::Device& device, wg::Now now, wg::Actions& actions) {
        wg::Peer* peer = device.findPeer(change.publicKey);
        if (change.remove) {
            device.removePeer(peer);
            return;
        }
        if (!peer) {
            if (change.updateOnly)
                return;
            peer = device.addPeer(change.publicKey);
            if (!peer)
                return; // our own public key: silently ignored, as wireguard-go does
        }
        if (change.presharedKey)
            peer->presharedKey = *change.presharedKey;
        if (change.endpoint)
            device.setEndpoint(*peer, *change.endpoint);
        if (change.replaceAllowedIps)
            device.allowedIps().removeValue(peer);
        for (const auto& prefix : change.allowedIps)
            device.allowedIps().insert(prefix, peer);
        if (change.keepalive)
            device.setPersistentKeepalive(*peer, *change.keepalive, now, actions);
    });
}

} // namespace

std::string UapiHandler::handle(std::string_view request) {
    lastError_.clear();
    const auto eol = request.find('\n');
    const std::string_view first = request.substr(0, eol);
    const std::string_view body = eol == std::string_view::npos ? "" : request.substr(eol + 1);
    if (first == "get=1") {
        return get();
    }
    if (first == "set=1") {
        const int err = set(body);
        return "errno=" + std::to_string(err) + "\n\n";
    }
    lastError_ = "unknown operation";
    return "errno=" + std::to_string(-EINVAL) + "\n\n";
}

std::string UapiHandler::get() {
    std::string out;
    auto line = [&out](std::string_view key, const std::string& value) {
        out.append(key).append("=").append(value).append("\n");
    };
    const std::uint16_t port = host_.listenPort();
    const std::uint32_t mark = host_.fwmark();
    host_.withDevice([&](wg::Device& device, wg::Now, wg::Actions&) {
        if (device.hasPrivateKey())
            line("private_key", hexOf(device.privateKey().span()));
        if (port != 0)
            line("listen_port", std::to_string(port));
        if (mark != 0)
            line("fwmark", std::to_string(mark));
        for (const wg::Peer* peer : device.peers()) {
            line("public_key", hexOf(peer->publicKey()));
            line("preshared_key", hexOf(peer->presharedKey.span()));
            line("protocol_version", "1");
            if (peer->endpoint)
                line("endpoint", peer->endpoint->toString());
            const auto hs = peer->lastHandshake.value_or(crypto::WallTime{});
            line("last_handshake_time_sec", std::to_string(hs.unixSeconds));
            line("last_handshake_time_nsec", std::to_string(hs.nanoseconds));
            line("tx_bytes", std::to_string(peer->txBytes));
            line("rx_bytes", std::to_string(peer->rxBytes));
            line("persistent_keepalive_interval",
                 std::to_string(peer->timers.persistentKeepalive()));
            for (const auto& prefix : device.allowedIpsOf(*peer))
                line("allowed_ip", prefix.toString());
        }
    });
    out += "errno=0\n\n";
    return out;
}

int UapiHandler::set(std::string_view body) {
    std::optional<PeerChange> peer;
    auto fail = [this](std::string message) {
        lastError_ = std::move(message);
        return -EINVAL;
    };
    auto flush = [&] {
        if (peer)
            applyPeer(host_, *peer);
        peer.reset();
    };

    while (!body.empty()) {
        const auto eol = body.find('\n');
        const std::string_view lineText = body.substr(0, eol);
        body = eol == std::string_view::npos ? "" : body.substr(eol + 1);
        if (lineText.empty())
            break; // end of request
        const auto eq = lineText.find('=');
        if (eq == std::string_view::npos)
            return fail("line without '='");
        const std::string_view key = lineText.substr(0, eq);
        const std::string_view value = lineText.substr(eq + 1);

        if (key == "public_key") {
            flush();
            auto pk = config::decodeKeyHex(value);
            if (!pk)
                return fail("invalid public_key");
            peer.emplace();
            peer->publicKey = *pk;
            continue;
        }
        if (!peer) {
            if (key == "private_key") {
                auto k = config::decodeKeyHex(value);
                if (!k)
                    return fail("invalid private_key");
                crypto::PrivateKey sk{std::span<const std::uint8_t, 32>(*k)};
                sodium_memzero(k->data(), k->size());
                host_.withDevice([&](wg::Device& device, wg::Now, wg::Actions&) {
                    if (sk.isZero())
                        device.clearPrivateKey();
                    else
                        device.setPrivateKey(sk);
                });
            } else if (key == "listen_port") {
                auto port = parseNumber<std::uint16_t>(value);
                if (!port)
                    return fail("invalid listen_port");
                std::string error;
                if (!host_.setListenPort(*port, error)) {
                    lastError_ = error;
                    return -EADDRINUSE;
                }
            } else if (key == "fwmark") {
                auto mark = value.empty() ? std::optional<std::uint32_t>(0)
                                          : parseNumber<std::uint32_t>(value);
                if (!mark)
                    return fail("invalid fwmark");
                std::string error;
                if (!host_.setFwmark(*mark, error))
                    return fail(error);
            } else if (key == "replace_peers") {
                if (value != "true")
                    return fail("replace_peers must be true");
                host_.withDevice(
                    [](wg::Device& device, wg::Now, wg::Actions&) { device.removeAllPeers(); });
            } else {
                return fail("unknown interface key: " + std::string(key));
            }
            continue;
        }

        if (key == "remove") {
            if (value != "true")
                return fail("remove must be true");
            peer->remove = true;
        } else if (key == "update_only") {
            if (value != "true")
                return fail("update_only must be true");
            peer->updateOnly = true;
        } else if (key == "preshared_key") {
            auto k = config::decodeKeyHex(value);
            if (!k)
                return fail("invalid preshared_key");
            peer->presharedKey.emplace(std::span<const std::uint8_t, 32>(*k));
            sodium_memzero(k->data(), k->size());
        } else if (key == "endpoint") {
            auto ep = net::SocketAddress::parse(value);
            if (!ep)
                return fail("invalid endpoint");
            peer->endpoint = *ep;
        } else if (key == "persistent_keepalive_interval") {
            auto seconds = parseNumber<std::uint16_t>(value);
            if (!seconds)
                return fail("invalid persistent_keepalive_interval");
            peer->keepalive = *seconds;
        } else if (key == "replace_allowed_ips") {
            if (value != "true")
                return fail("replace_allowed_ips must be true");
            peer->replaceAllowedIps = true;
        } else if (key == "allowed_ip") {
            auto prefix = net::IpPrefix::parse(value);
            if (!prefix)
                return fail("invalid allowed_ip");
            peer->allowedIps.push_back(prefix->masked());
        } else if (key == "protocol_version") {
            if (value != "1")
                return fail("unsupported protocol_version");
        } else {
            return fail("unknown peer key: " + std::string(key));
        }
    }
    flush();
    return 0;
}

} // namespace calnet::helper
