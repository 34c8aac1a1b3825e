// UapiHandler against a plain Device through a fake DeviceHost: the get/set text protocol of
// wireguard-go, key by key, including errors.
#include <QTest>

#include <cerrno>
#include <mutex>

#include "core/config/keyencoding.h"
#include "helper/uapi/uapihandler.h"

using namespace calnet;
using namespace calnet::helper;

namespace {

class FakeHost final : public DeviceHost {
public:
    wireguard::Device device;
    wireguard::Now now{std::chrono::hours(1), {1'700'000'000, 5}};
    wireguard::Actions sent;
    std::vector<std::uint16_t> sentFromPort; // the listen port when each transmit was queued
    std::uint16_t port = 0;
    std::uint32_t mark = 0;
    std::uint16_t busyPort = 0; // a port that "is in use"

    void withDevice(const std::function<void(wireguard::Device&, wireguard::Now,
                                             wireguard::Actions&)>& fn) override {
        fn(device, now, sent);
        sentFromPort.resize(sent.transmits.size(), port);
    }
    std::uint16_t listenPort() const noexcept override { return port; }
    bool setListenPort(std::uint16_t p, std::string& error) override {
        if (p != 0 && p == busyPort) {
            error = "in use";
            return false;
        }
        port = p == 0 ? 40000 : p;
        return true;
    }
    std::uint32_t fwmark() const noexcept override { return mark; }
    bool setFwmark(std::uint32_t m, std::string&) override {
        mark = m;
        return true;
    }
};

std::string hexKey(const crypto::PrivateKey& k) {
    return config::encodeKeyHex(k.span());
}
std::string hexPub(const crypto::PublicKey& k) {
    return config::encodeKeyHex(k);
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n') {
            out.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    return out;
}

} // namespace

class tst_UapiHandler : public QObject {
    Q_OBJECT

private slots:
    void getEmptyDevice();
    void setThenGetRoundTrip();
    void replaceAllowedIpsAndPeers();
    void removeAndUpdateOnly();
    void persistentKeepaliveSendsAtOnce();
    void firstInitiationAfterListenPort();
    void zeroPrivateKeyClearsIt();
    void errors_data();
    void errors();
    void listenPortInUse();
};

void tst_UapiHandler::getEmptyDevice() {
    FakeHost host;
    UapiHandler h(host);
    QCOMPARE(h.handle("get=1\n\n"), std::string("errno=0\n\n"));
}

void tst_UapiHandler::setThenGetRoundTrip() {
    FakeHost host;
    UapiHandler h(host);
    const auto sk = crypto::generatePrivateKey();
    const auto peerKey = crypto::publicKeyOf(crypto::generatePrivateKey());
    crypto::PrivateKey psk = crypto::generatePrivateKey();
    const std::string req = "set=1\nprivate_key=" + hexKey(sk) +
                            "\nlisten_port=51820\nfwmark=77\npublic_key=" + hexPub(peerKey) +
                            "\npreshared_key=" + hexKey(psk) +
                            "\nendpoint=[2001:db8::1]:51821\nreplace_allowed_ips=true"
                            "\nallowed_ip=10.0.0.0/24\nallowed_ip=fd00::5/128"
                            "\nallowed_ip=192.168.1.77/16\n\n";
    QCOMPARE(h.handle(req), std::string("errno=0\n\n"));
    QCOMPARE(host.port, std::uint16_t(51820));
    QCOMPARE(host.mark, 77u);
    QCOMPARE(host.device.publicKey(), crypto::publicKeyOf(sk));

    wireguard::Peer* peer = host.device.findPeer(peerKey);
    QVERIFY(peer);
    peer->txBytes = 1234;
    peer->rxBytes = 5678;
    peer->lastHandshake = crypto::WallTime{1'700'000'100, 42};

    const auto got = lines(h.handle("get=1\n\n"));
    const std::vector<std::string> expected = {
        "private_key=" + hexKey(sk),
        "listen_port=51820",
        "fwmark=77",
        "public_key=" + hexPub(peerKey),
        "preshared_key=" + hexKey(psk),
        "protocol_version=1",
        "endpoint=[2001:db8::1]:51821",
        "last_handshake_time_sec=1700000100",
        "last_handshake_time_nsec=42",
        "tx_bytes=1234",
        "rx_bytes=5678",
        "persistent_keepalive_interval=0",
        "allowed_ip=10.0.0.0/24",
        "allowed_ip=fd00::5/128",
        "allowed_ip=192.168.0.0/16", // stored masked, as the kernel does
        "errno=0",
        "",
    };
    // Allowed IPs come back in trie order; compare them as a set.
    QCOMPARE(got.size(), expected.size());
    for (std::size_t i = 0; i < 12; ++i)
        QCOMPARE(got[i], expected[i]);
    std::vector<std::string> gotIps(got.begin() + 12, got.begin() + 15);
    std::vector<std::string> wantIps(expected.begin() + 12, expected.begin() + 15);
    std::sort(gotIps.begin(), gotIps.end());
    std::sort(wantIps.begin(), wantIps.end());
    QCOMPARE(gotIps, wantIps);
    QCOMPARE(got[15], std::string("errno=0"));
}

void tst_UapiHandler::replaceAllowedIpsAndPeers() {
    FakeHost host;
    UapiHandler h(host);
    const auto p1 = crypto::publicKeyOf(crypto::generatePrivateKey());
    const auto p2 = crypto::publicKeyOf(crypto::generatePrivateKey());
    QCOMPARE(h.handle("set=1\npublic_key=" + hexPub(p1) + "\nallowed_ip=10.0.0.1/32\n" +
                      "public_key=" + hexPub(p2) + "\nallowed_ip=10.0.0.2/32\n\n"),
             std::string("errno=0\n\n"));
    QCOMPARE(host.device.peers().size(), 2u);
    // An allowed IP moves to the peer that claims it last.
    QCOMPARE(h.handle("set=1\npublic_key=" + hexPub(p2) + "\nallowed_ip=10.0.0.1/32\n\n"),
             std::string("errno=0\n\n"));
    QCOMPARE(host.device.allowedIps().lookup(*net::IpAddress::parse("10.0.0.1")),
             host.device.findPeer(p2));
    QCOMPARE(h.handle("set=1\npublic_key=" + hexPub(p2) +
                      "\nreplace_allowed_ips=true\nallowed_ip=10.9.9.9/32\n\n"),
             std::string("errno=0\n\n"));
    QCOMPARE(host.device.allowedIps().prefixesOf(host.device.findPeer(p2)).size(), 1u);
    QCOMPARE(h.handle("set=1\nreplace_peers=true\n\n"), std::string("errno=0\n\n"));
    QVERIFY(host.device.peers().empty());
    QVERIFY(host.device.allowedIps().empty());
}

void tst_UapiHandler::removeAndUpdateOnly() {
    FakeHost host;
    UapiHandler h(host);
    const auto p1 = crypto::publicKeyOf(crypto::generatePrivateKey());
    QCOMPARE(h.handle("set=1\npublic_key=" + hexPub(p1) + "\nupdate_only=true\n\n"),
             std::string("errno=0\n\n"));
    QVERIFY(host.device.peers().empty()); // update_only never creates
    QCOMPARE(h.handle("set=1\npublic_key=" + hexPub(p1) + "\n\n"), std::string("errno=0\n\n"));
    QCOMPARE(host.device.peers().size(), 1u);
    QCOMPARE(h.handle("set=1\npublic_key=" + hexPub(p1) + "\nremove=true\n\n"),
             std::string("errno=0\n\n"));
    QVERIFY(host.device.peers().empty());
}

void tst_UapiHandler::persistentKeepaliveSendsAtOnce() {
    FakeHost host;
    UapiHandler h(host);
    const auto sk = crypto::generatePrivateKey();
    const auto p1 = crypto::publicKeyOf(crypto::generatePrivateKey());
    QCOMPARE(h.handle("set=1\nprivate_key=" + hexKey(sk) + "\npublic_key=" + hexPub(p1) +
                      "\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n\n"),
             std::string("errno=0\n\n"));
    QCOMPARE(host.device.findPeer(p1)->timers.persistentKeepalive(), std::uint16_t(25));
    // No session yet, so the keepalive becomes a handshake initiation to the endpoint.
    QCOMPARE(host.sent.transmits.size(), 1u);
    QCOMPARE(host.sent.transmits[0].to, *net::SocketAddress::parse("192.0.2.1:51820"));
    QCOMPARE(host.sent.transmits[0].bytes.size(), sizeof(wireguard::MessageInitiation));
}

// `wg set IF listen-port P peer K endpoint E persistent-keepalive N` in one command: the port is
// moved before the peer exists, so the initiation the keepalive sends leaves from P (issue 10).
void tst_UapiHandler::firstInitiationAfterListenPort() {
    FakeHost host;
    host.port = 39999; // the random port a fresh interface starts on
    UapiHandler h(host);
    const auto sk = crypto::generatePrivateKey();
    const auto p1 = crypto::publicKeyOf(crypto::generatePrivateKey());
    QCOMPARE(h.handle("set=1\nprivate_key=" + hexKey(sk) +
                      "\nlisten_port=51820\npublic_key=" + hexPub(p1) +
                      "\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n\n"),
             std::string("errno=0\n\n"));
    QCOMPARE(host.sent.transmits.size(), 1u);
    QCOMPARE(host.sent.transmits[0].bytes.size(), sizeof(wireguard::MessageInitiation));
    QCOMPARE(host.sentFromPort.at(0), std::uint16_t(51820));
}

void tst_UapiHandler::zeroPrivateKeyClearsIt() {
    FakeHost host;
    UapiHandler h(host);
    QCOMPARE(h.handle("set=1\nprivate_key=" + hexKey(crypto::generatePrivateKey()) + "\n\n"),
             std::string("errno=0\n\n"));
    QVERIFY(host.device.hasPrivateKey());
    QCOMPARE(h.handle("set=1\nprivate_key=" + std::string(64, '0') + "\n\n"),
             std::string("errno=0\n\n"));
    QVERIFY(!host.device.hasPrivateKey());
    QVERIFY(h.handle("get=1\n\n").find("private_key") == std::string::npos);
}

void tst_UapiHandler::errors_data() {
    QTest::addColumn<QString>("request");
    const std::string pk =
        "public_key=" + hexPub(crypto::publicKeyOf(crypto::generatePrivateKey()));
    auto row = [](const char* name, const std::string& r) {
        QTest::newRow(name) << QString::fromStdString(r);
    };
    row("unknown operation", "put=1\n\n");
    row("bad private key", "set=1\nprivate_key=abc\n\n");
    row("bad listen port", "set=1\nlisten_port=70000\n\n");
    row("negative port", "set=1\nlisten_port=-1\n\n");
    row("bad fwmark", "set=1\nfwmark=x\n\n");
    row("replace_peers false", "set=1\nreplace_peers=false\n\n");
    row("unknown interface key", "set=1\nmtu=1420\n\n");
    row("peer key before peer", "set=1\nendpoint=1.2.3.4:5\n\n");
    row("bad public key", "set=1\npublic_key=zz\n\n");
    row("bad endpoint", "set=1\n" + pk + "\nendpoint=1.2.3.4\n\n");
    row("hostname endpoint", "set=1\n" + pk + "\nendpoint=example.com:51820\n\n");
    row("bad allowed ip", "set=1\n" + pk + "\nallowed_ip=10.0.0.0/33\n\n");
    row("bad keepalive", "set=1\n" + pk + "\npersistent_keepalive_interval=65536\n\n");
    row("protocol version 2", "set=1\n" + pk + "\nprotocol_version=2\n\n");
    row("unknown peer key", "set=1\n" + pk + "\nfoo=bar\n\n");
    row("line without equals", "set=1\n" + pk + "\nremove\n\n");
    row("interface key in peer", "set=1\n" + pk + "\nprivate_key=" + std::string(64, '1') + "\n\n");
}

void tst_UapiHandler::errors() {
    QFETCH(QString, request);
    FakeHost host;
    UapiHandler h(host);
    QCOMPARE(h.handle(request.toStdString()), std::string("errno=-22\n\n"));
    QVERIFY(!h.lastError().empty());
    // A failed peer section is not applied.
    QVERIFY(host.device.peers().empty());
}

void tst_UapiHandler::listenPortInUse() {
    FakeHost host;
    host.busyPort = 51820;
    UapiHandler h(host);
    // -EADDRINUSE: -98 on Linux (wg(8) prints it as "Address already in use").
    QCOMPARE(h.handle("set=1\nlisten_port=51820\n\n"),
             "errno=" + std::to_string(-EADDRINUSE) + "\n\n");
}

QTEST_APPLESS_MAIN(tst_UapiHandler)
#include "tst_uapihandler.moc"
