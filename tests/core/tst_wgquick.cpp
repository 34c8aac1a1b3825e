// Tests for the wg-quick parser and writer: the two ends of a split-tunnel setup (laptop and
// VPS, keys made with `wg genkey` / `wg pubkey` / `wg genpsk`), a full-tunnel phone, an
// IPv6-only link, a file using every key once in messy-but-valid formatting, a golden writer
// output, a _data() table of bad files (exact line and reason for each), bounds, and round trips
// of random valid configs plus a mutation run that must never crash.
#include <QTest>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "core/config/keyencoding.h"
#include "core/config/wgquick.h"
#include "core/crypto/x25519.h"

using namespace calnet;
using config::parseWgQuick;
using config::WgQuickConfig;
using config::WgQuickParseResult;
using config::writeWgQuick;

namespace {

// Real key material, generated for this test only.
constexpr char kLaptopPrivate[] = "0LRo5JWjtjcBSViv7a+KeZRePAH/NrJaTSqIsldCsnE=";
constexpr char kLaptopPublic[] = "J6qoDqf97rj8P2g7AAG9skAnXJgxPSCibkby43j4oH0=";
constexpr char kVpsPrivate[] = "AF1qAp7kGzjWqBPgMkQinopEzpOpeaaAXR+SVFRGrkE=";
constexpr char kVpsPublic[] = "Xlm3n4y3Dx0nXg4qqVUBnmDVoD/If/Ib+wif3tn8Dzw=";
constexpr char kPhonePrivate[] = "yL8AvC9S0UhbLoI2nIXjYpIPbwWQGAJ+xFL+wYC5H0E=";
constexpr char kPhonePublic[] = "UQvX8GR3FSt2YK+YgrYCR+iUiZx4gL7wGiuM97QPbjc=";
constexpr char kPsk[] = "29JieFaJfinrSZxlr8uRoMDYJeQRe1KC1/mjzl0dH18=";

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

std::string fill(std::string text) {
    const std::pair<std::string, std::string> keys[] = {
        {"@LAPTOP_PRIV@", kLaptopPrivate},
        {"@LAPTOP_PUB@", kLaptopPublic},
        {"@VPS_PRIV@", kVpsPrivate},
        {"@VPS_PUB@", kVpsPublic},
        {"@PHONE_PRIV@", kPhonePrivate},
        {"@PHONE_PUB@", kPhonePublic},
        {"@PSK@", kPsk},
    };
    for (const auto& [from, to] : keys)
        for (std::size_t pos; (pos = text.find(from)) != std::string::npos;)
            text.replace(pos, from.size(), to);
    return text;
}

// The laptop end of a split tunnel: only the VPN subnet and the home LAN go through the VPS.
const std::string kLaptop = fill(R"(# Laptop: split tunnel through the VPS.
[Interface]
PrivateKey = @LAPTOP_PRIV@
Address = 10.8.0.2/24
DNS = 10.8.0.1, home.lan

[Peer]
# vps
PublicKey = @VPS_PUB@
PresharedKey = @PSK@
AllowedIPs = 10.8.0.0/24, 192.168.50.0/24
Endpoint = vps.example.com:51820
PersistentKeepalive = 25
)");

// The VPS end: listens, forwards and masquerades for its two clients.
const std::string kVps = fill(R"([Interface]
Address = 10.8.0.1/24
ListenPort = 51820
PrivateKey = @VPS_PRIV@
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE
SaveConfig = false

[Peer]
# laptop
PublicKey = @LAPTOP_PUB@
PresharedKey = @PSK@
AllowedIPs = 10.8.0.2/32

[Peer]
# phone
PublicKey = @PHONE_PUB@
AllowedIPs = 10.8.0.3/32
)");

// A phone sending everything, both families, through the VPS.
const std::string kFullTunnel = fill(R"([Interface]
PrivateKey = @PHONE_PRIV@
Address = 10.8.0.3/32, fd08::3/128
DNS = 1.1.1.1, 2606:4700:4700::1111
MTU = 1420

[Peer]
PublicKey = @VPS_PUB@
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 203.0.113.10:51820
PersistentKeepalive = 25
)");

// IPv6 only, endpoint included.
const std::string kIpv6 = fill(R"([Interface]
PrivateKey = @LAPTOP_PRIV@
Address = fd08::2/64
DNS = fd08::1

[Peer]
PublicKey = @VPS_PUB@
AllowedIPs = fd08::/64, 2001:db8:100::/48
Endpoint = [2001:db8::10]:51820
)");

// Every key once, in lower/upper case, CRLF, tabs, BOM, comments and odd spacing; no final
// newline.
const std::string kEveryKey = fill("\xEF\xBB\xBF# every key once\r\n"
                                   "[interface]\r\n"
                                   "privatekey=@LAPTOP_PRIV@   # trailing comment\r\n"
                                   "ListenPort = 51821\r\n"
                                   "FWMARK = 0xca6c\r\n"
                                   "Address=10.8.0.2/24,fd08::2/64\r\n"
                                   "\tDNS =  10.8.0.1 ,  home.lan\r\n"
                                   "mtu\t=\t1420\r\n"
                                   "Table = 1234\r\n"
                                   "PreUp = echo pre-up %i > /tmp/x=1\r\n"
                                   "PostUp = echo post-up %i\r\n"
                                   "PreDown = echo pre-down %i\r\n"
                                   "PostDown = echo post-down %i\r\n"
                                   "SaveConfig = TRUE\r\n"
                                   "\r\n"
                                   "   # indented comment\r\n"
                                   "[PEER]\r\n"
                                   "publickey = @VPS_PUB@\r\n"
                                   "presharedkey = @PSK@\r\n"
                                   "allowedips = 10.8.0.0/24 , fd08::/64\r\n"
                                   "endpoint = [2001:db8::10]:51820\r\n"
                                   "persistentkeepalive = 25");

crypto::PublicKey pub(const char* base64) {
    return *config::decodeKeyBase64(base64);
}
crypto::PrivateKey priv(const char* base64) {
    return crypto::PrivateKey(std::span<const std::uint8_t, 32>(*config::decodeKeyBase64(base64)));
}
net::IpPrefix prefix(const char* text) {
    return *net::IpPrefix::parse(text);
}
net::IpAddress address(const char* text) {
    return *net::IpAddress::parse(text);
}

QString describe(const WgQuickParseResult& r) {
    QStringList lines;
    for (const auto& e : r.errors)
        lines << QStringLiteral("line %1: %2").arg(e.line).arg(qs(e.reason));
    return lines.join(QLatin1Char('\n'));
}

// Parses text that must be valid, failing the test with the errors otherwise.
#define PARSE_OK(var, text)                                                                        \
    const WgQuickParseResult var##Result = parseWgQuick(text);                                     \
    QVERIFY2(var##Result.config&& var##Result.errors.empty(), qPrintable(describe(var##Result)));  \
    const WgQuickConfig& var = *var##Result.config

// write -> parse gives the same model, and the written text is a fixed point.
#define CHECK_ROUND_TRIP(cfg)                                                                      \
    do {                                                                                           \
        const std::string written = writeWgQuick(cfg);                                             \
        const WgQuickParseResult again = parseWgQuick(written);                                    \
        QVERIFY2(again.config, qPrintable(describe(again) + "\n" + qs(written)));                  \
        QVERIFY2(*again.config == (cfg), qPrintable(qs(written)));                                 \
        QCOMPARE(qs(writeWgQuick(*again.config)), qs(written));                                    \
    } while (false)

} // namespace

class TestWgQuick : public QObject {
    Q_OBJECT

private slots:
    void keysAreRealPairs();
    void laptopSplitTunnel();
    void vpsServer();
    void fullTunnel();
    void ipv6();
    void everyKeyOnce();
    void writerGolden();
    void normalisations();
    void listSeparators();
    void badInput_data();
    void badInput();
    void reportsAllErrorsInLineOrder();
    void errorsNeverContainKeyMaterial();
    void bounds();
    void tooManyErrors();
    void writerCannotInjectLines();
    void randomRoundTrip();
    void mutationsNeverCrash();
};

// The fixtures are consistent: each public key belongs to its private key.
void TestWgQuick::keysAreRealPairs() {
    QCOMPARE(crypto::publicKeyOf(priv(kLaptopPrivate)), pub(kLaptopPublic));
    QCOMPARE(crypto::publicKeyOf(priv(kVpsPrivate)), pub(kVpsPublic));
    QCOMPARE(crypto::publicKeyOf(priv(kPhonePrivate)), pub(kPhonePublic));
}

void TestWgQuick::laptopSplitTunnel() {
    PARSE_OK(c, kLaptop);
    const auto& i = c.interface;
    QVERIFY(i.privateKey && i.privateKey->equals(priv(kLaptopPrivate)));
    QVERIFY(!i.listenPort);
    QVERIFY(!i.fwMark);
    QCOMPARE(i.addresses, std::vector<net::IpPrefix>{prefix("10.8.0.2/24")});
    QCOMPARE(i.addresses[0].length, std::uint8_t{24});
    QCOMPARE(i.dnsServers, std::vector<net::IpAddress>{address("10.8.0.1")});
    QCOMPARE(i.dnsSearch, std::vector<std::string>{"home.lan"});
    QVERIFY(!i.mtu);
    QVERIFY(!i.table);
    QVERIFY(!i.saveConfig);
    QCOMPARE(c.peers.size(), std::size_t{1});
    const auto& p = c.peers[0];
    QCOMPARE(p.publicKey, pub(kVpsPublic));
    QVERIFY(p.presharedKey &&
            p.presharedKey->equals(crypto::Secret<32>(*config::decodeKeyBase64(kPsk))));
    QCOMPARE(p.allowedIps,
             (std::vector<net::IpPrefix>{prefix("10.8.0.0/24"), prefix("192.168.50.0/24")}));
    QVERIFY(p.endpoint);
    QCOMPARE(qs(p.endpoint->host), QStringLiteral("vps.example.com"));
    QCOMPARE(p.endpoint->port, std::uint16_t{51820});
    QVERIFY(!p.endpoint->literalAddress());
    QCOMPARE(p.persistentKeepalive, std::optional<std::uint16_t>{25});
    CHECK_ROUND_TRIP(c);
}

void TestWgQuick::vpsServer() {
    PARSE_OK(c, kVps);
    const auto& i = c.interface;
    QVERIFY(i.privateKey && i.privateKey->equals(priv(kVpsPrivate)));
    QCOMPARE(i.listenPort, std::optional<std::uint16_t>{51820});
    QCOMPARE(i.addresses, std::vector<net::IpPrefix>{prefix("10.8.0.1/24")});
    QCOMPARE(i.postUp.size(), std::size_t{1});
    QCOMPARE(qs(i.postUp[0]), QStringLiteral("iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat "
                                             "-A POSTROUTING -o eth0 -j MASQUERADE"));
    QCOMPARE(qs(i.postDown[0]), QStringLiteral("iptables -D FORWARD -i %i -j ACCEPT; iptables -t "
                                               "nat -D POSTROUTING -o eth0 -j MASQUERADE"));
    QVERIFY(i.preUp.empty() && i.preDown.empty());
    QVERIFY(!i.saveConfig);
    QCOMPARE(c.peers.size(), std::size_t{2});
    QCOMPARE(c.peers[0].publicKey, pub(kLaptopPublic));
    QVERIFY(c.peers[0].presharedKey);
    QCOMPARE(c.peers[0].allowedIps, std::vector<net::IpPrefix>{prefix("10.8.0.2/32")});
    QVERIFY(!c.peers[0].endpoint);
    QVERIFY(!c.peers[0].persistentKeepalive);
    QCOMPARE(c.peers[1].publicKey, pub(kPhonePublic));
    QVERIFY(!c.peers[1].presharedKey);
    QCOMPARE(c.peers[1].allowedIps, std::vector<net::IpPrefix>{prefix("10.8.0.3/32")});
    CHECK_ROUND_TRIP(c);

    // The two ends agree: the laptop's peer is the VPS and the VPS has the laptop, same PSK.
    PARSE_OK(laptop, kLaptop);
    QCOMPARE(crypto::publicKeyOf(*laptop.interface.privateKey), c.peers[0].publicKey);
    QCOMPARE(crypto::publicKeyOf(*c.interface.privateKey), laptop.peers[0].publicKey);
    QVERIFY(laptop.peers[0].presharedKey->equals(*c.peers[0].presharedKey));
    QVERIFY(c.peers[0].allowedIps[0].contains(laptop.interface.addresses[0].address));
}

void TestWgQuick::fullTunnel() {
    PARSE_OK(c, kFullTunnel);
    const auto& i = c.interface;
    QCOMPARE(i.addresses,
             (std::vector<net::IpPrefix>{prefix("10.8.0.3/32"), prefix("fd08::3/128")}));
    QCOMPARE(i.dnsServers,
             (std::vector<net::IpAddress>{address("1.1.1.1"), address("2606:4700:4700::1111")}));
    QVERIFY(i.dnsSearch.empty());
    QCOMPARE(i.mtu, std::optional<std::uint32_t>{1420});
    QCOMPARE(c.peers[0].allowedIps,
             (std::vector<net::IpPrefix>{prefix("0.0.0.0/0"), prefix("::/0")}));
    QCOMPARE(c.peers[0].endpoint->literalAddress(), std::optional{address("203.0.113.10")});
    CHECK_ROUND_TRIP(c);
}

void TestWgQuick::ipv6() {
    PARSE_OK(c, kIpv6);
    QCOMPARE(c.interface.addresses, std::vector<net::IpPrefix>{prefix("fd08::2/64")});
    QCOMPARE(c.interface.dnsServers, std::vector<net::IpAddress>{address("fd08::1")});
    const auto& e = *c.peers[0].endpoint;
    QCOMPARE(qs(e.host), QStringLiteral("2001:db8::10"));
    QCOMPARE(e.literalAddress(), std::optional{address("2001:db8::10")});
    QCOMPARE(qs(e.toString()), QStringLiteral("[2001:db8::10]:51820"));
    QCOMPARE(c.peers[0].allowedIps[1], prefix("2001:db8:100::/48"));
    CHECK_ROUND_TRIP(c);
}

void TestWgQuick::everyKeyOnce() {
    PARSE_OK(c, kEveryKey);
    const auto& i = c.interface;
    QVERIFY(i.privateKey && i.privateKey->equals(priv(kLaptopPrivate)));
    QCOMPARE(i.listenPort, std::optional<std::uint16_t>{51821});
    QCOMPARE(i.fwMark, std::optional<std::uint32_t>{0xca6c});
    QCOMPARE(i.addresses,
             (std::vector<net::IpPrefix>{prefix("10.8.0.2/24"), prefix("fd08::2/64")}));
    QCOMPARE(i.dnsServers, std::vector<net::IpAddress>{address("10.8.0.1")});
    QCOMPARE(i.dnsSearch, std::vector<std::string>{"home.lan"});
    QCOMPARE(i.mtu, std::optional<std::uint32_t>{1420});
    QCOMPARE(i.table, std::optional<std::string>{"1234"});
    QCOMPARE(i.preUp, std::vector<std::string>{"echo pre-up %i > /tmp/x=1"});
    QCOMPARE(i.postUp, std::vector<std::string>{"echo post-up %i"});
    QCOMPARE(i.preDown, std::vector<std::string>{"echo pre-down %i"});
    QCOMPARE(i.postDown, std::vector<std::string>{"echo post-down %i"});
    QVERIFY(i.saveConfig);
    QCOMPARE(c.peers.size(), std::size_t{1});
    const auto& p = c.peers[0];
    QCOMPARE(p.publicKey, pub(kVpsPublic));
    QVERIFY(p.presharedKey);
    QCOMPARE(p.allowedIps,
             (std::vector<net::IpPrefix>{prefix("10.8.0.0/24"), prefix("fd08::/64")}));
    QCOMPARE(qs(p.endpoint->toString()), QStringLiteral("[2001:db8::10]:51820"));
    QCOMPARE(p.persistentKeepalive, std::optional<std::uint16_t>{25});
    CHECK_ROUND_TRIP(c);
}

void TestWgQuick::writerGolden() {
    PARSE_OK(c, kEveryKey);
    const std::string expected = fill(R"([Interface]
PrivateKey = @LAPTOP_PRIV@
ListenPort = 51821
FwMark = 0xca6c
Address = 10.8.0.2/24, fd08::2/64
DNS = 10.8.0.1, home.lan
MTU = 1420
Table = 1234
PreUp = echo pre-up %i > /tmp/x=1
PostUp = echo post-up %i
PreDown = echo pre-down %i
PostDown = echo post-down %i
SaveConfig = true

[Peer]
PublicKey = @VPS_PUB@
PresharedKey = @PSK@
AllowedIPs = 10.8.0.0/24, fd08::/64
Endpoint = [2001:db8::10]:51820
PersistentKeepalive = 25
)");
    QCOMPARE(qs(writeWgQuick(c)), qs(expected));

    WgQuickConfig minimal;
    QCOMPARE(qs(writeWgQuick(minimal)), QStringLiteral("[Interface]\n"));
}

// Values that mean "absent" to wg(8) become absent in the model.
void TestWgQuick::normalisations() {
    PARSE_OK(c, fill(R"([Interface]
PrivateKey = @LAPTOP_PRIV@
ListenPort = 0
FwMark = off
[Peer]
PublicKey = @VPS_PUB@
PresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
PersistentKeepalive = OFF
AllowedIPs =
[Peer]
PublicKey = @PHONE_PUB@
PersistentKeepalive = 0
)"));
    QVERIFY(!c.interface.listenPort);
    QVERIFY(!c.interface.fwMark);
    QVERIFY(!c.peers[0].presharedKey);
    QVERIFY(!c.peers[0].persistentKeepalive);
    QVERIFY(c.peers[0].allowedIps.empty());
    QVERIFY(!c.peers[1].persistentKeepalive);

    PARSE_OK(d, fill("[Interface]\nPrivateKey = @LAPTOP_PRIV@\nFwMark = 0\n"));
    QVERIFY(!d.interface.fwMark);
    PARSE_OK(e, fill("[Interface]\nPrivateKey = @LAPTOP_PRIV@\nFwMark = 4294967295\n"));
    QCOMPARE(e.interface.fwMark, std::optional<std::uint32_t>{0xffffffff});
    PARSE_OK(f, fill("[Interface]\nPrivateKey = @LAPTOP_PRIV@\nFwMark = 0x00000000FFFFFFFF\n"));
    QCOMPARE(f.interface.fwMark, std::optional<std::uint32_t>{0xffffffff});
    PARSE_OK(g, fill("[Interface]\nPrivateKey = @LAPTOP_PRIV@\nSaveConfig = False\n"));
    QVERIFY(!g.interface.saveConfig);
}

// wg-quick word-splits Address and DNS (commas or spaces); lists repeat across lines.
void TestWgQuick::listSeparators() {
    PARSE_OK(c, fill(R"([Interface]
PrivateKey = @LAPTOP_PRIV@
Address = 10.0.0.2/24 fd00::2/64
Address = 10.0.1.2/24,	10.0.2.2/24
DNS = 10.0.0.1 corp.example,2606:4700:4700::1111 , search.example
DNS = 9.9.9.9
Table = off
PostUp = first
PostUp = second
[Peer]
PublicKey = @VPS_PUB@
AllowedIPs = 10.0.0.0/24
AllowedIPs = 10.0.1.0/24 ,10.0.2.0/24
)"));
    QCOMPARE(c.interface.addresses.size(), std::size_t{4});
    QCOMPARE(c.interface.addresses[1], prefix("fd00::2/64"));
    QCOMPARE(c.interface.addresses[3], prefix("10.0.2.2/24"));
    QCOMPARE(c.interface.dnsServers,
             (std::vector<net::IpAddress>{address("10.0.0.1"), address("2606:4700:4700::1111"),
                                          address("9.9.9.9")}));
    QCOMPARE(c.interface.dnsSearch, (std::vector<std::string>{"corp.example", "search.example"}));
    QCOMPARE(c.interface.table, std::optional<std::string>{"off"});
    QCOMPARE(c.interface.postUp, (std::vector<std::string>{"first", "second"}));
    QCOMPARE(c.peers[0].allowedIps.size(), std::size_t{3});
    CHECK_ROUND_TRIP(c);
}

void TestWgQuick::badInput_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("reason");

    // Two valid lines every row builds on: [Interface] is line 1, PrivateKey line 2.
    const std::string iface = fill("[Interface]\nPrivateKey = @LAPTOP_PRIV@\n");
    // ... and a valid peer whose [Peer] header is line 3 and PublicKey line 4.
    const std::string peer = iface + fill("[Peer]\nPublicKey = @VPS_PUB@\n");
    auto row = [](const char* name, const std::string& text, int line, const char* reason) {
        QTest::newRow(name) << QByteArray::fromStdString(text) << line << QString::fromUtf8(reason);
    };

    // Structure.
    row("empty file", "", 0, "no [Interface]");
    row("only comments", "# nothing\n\n", 0, "no [Interface]");
    row("only a peer", fill("[Peer]\nPublicKey = @VPS_PUB@\n"), 0, "no [Interface]");
    row("no private key", "[Interface]\nListenPort = 51820\n", 0, "[Interface] has no PrivateKey");
    row("key before section",
        fill("PrivateKey = @LAPTOP_PRIV@\n[Interface]\nPrivateKey = @LAPTOP_PRIV@\n"), 1,
        "PrivateKey appears before any");
    row("unknown section", iface + "[Peers]\n", 3, "unknown section '[Peers]'");
    row("spaced section", iface + "[ Peer ]\n", 3, "unknown section");
    row("unclosed section", iface + "[Peer\n", 3, "no closing ']'");
    row("text after section", iface + "[Peer] x\n", 3, "unexpected text after");
    row("second interface", iface + "\n[Interface]\n", 4,
        "second [Interface] section (the first is on line 1)");
    row("no equals", iface + "ListenPort 51820\n", 3, "no '='");
    row("unknown key", iface + "Foo = bar\n", 3, "unknown key 'Foo' in [Interface]");
    row("unknown peer key", peer + "Keepalive = 25\n", 5, "unknown key 'Keepalive' in [Peer]");
    row("empty key", iface + "= 1\n", 3, "unknown empty key");
    row("key with space", iface + "Listen Port = 1\n", 3, "unknown key 'Listen Port'");
    row("peer key in interface", iface + fill("PublicKey = @VPS_PUB@\n"), 3,
        "PublicKey belongs in [Peer], not in [Interface]");
    row("interface key in peer", peer + "ListenPort = 1\n", 5,
        "ListenPort belongs in [Interface], not in [Peer]");
    row("duplicate PrivateKey", iface + fill("PrivateKey = @VPS_PRIV@\n"), 3,
        "duplicate PrivateKey (first given on line 2)");
    row("duplicate ListenPort", iface + "ListenPort = 1\nListenPort = 2\n", 4,
        "duplicate ListenPort");
    row("duplicate MTU", iface + "MTU = 1420\nmtu = 1420\n", 4, "duplicate MTU");
    row("duplicate SaveConfig", iface + "SaveConfig = true\nSaveConfig = true\n", 4,
        "duplicate SaveConfig");
    row("duplicate Endpoint", peer + "Endpoint = a.example:1\nEndpoint = b.example:1\n", 6,
        "duplicate Endpoint (first given on line 5)");
    row("duplicate PublicKey in peer", peer + fill("PublicKey = @PHONE_PUB@\n"), 5,
        "duplicate PublicKey");
    row("control character", iface + "ListenPort = 1\x01\n", 3, "control character (0x01)");
    row("nul byte", iface + std::string("MTU = 1420\0\n", 12), 3, "control character (0x00)");
    row("lone CR", iface + "MTU = 14\r20\n", 3, "control character (0x0d)");
    row("line too long", iface + "# " + std::string(4095, 'x') + "\n", 3, "longer than 4096");

    // Keys.
    row("private key short",
        "[Interface]\nPrivateKey = 0LRo5JWjtjcBSViv7a+KeZRePAH/NrJaTSqIsldCsnE\n", 2,
        "PrivateKey is not a valid key");
    row("private key non-canonical",
        "[Interface]\nPrivateKey = 0LRo5JWjtjcBSViv7a+KeZRePAH/NrJaTSqIsldCsnF=\n", 2,
        "PrivateKey is not a valid key");
    row("private key hex",
        "[Interface]\nPrivateKey = "
        "a8854d195b272939ded334e8c8cbb6f64982010247a22d21400ead63e94a064f\n",
        2, "PrivateKey is not a valid key");
    row("private key zero",
        "[Interface]\nPrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 2,
        "PrivateKey is all zeros");
    row("private key empty", "[Interface]\nPrivateKey =\n", 2, "PrivateKey has no value");
    row("public key bad",
        iface + "[Peer]\nPublicKey = Xlm3n4y3Dx0nXg4qqVUBnmDVoD/If/Ib+wif3tn8Dz==\n", 4,
        "PublicKey is not a valid key");
    row("public key zero",
        iface + "[Peer]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 4,
        "PublicKey is all zeros");
    row("preshared key bad", peer + "PresharedKey = 29JieFaJfinrSZxlr8uRoMDYJeQRe1KC1/mjzl0dH18\n",
        5, "PresharedKey is not a valid key");
    row("peer without public key", iface + "\n[Peer]\nAllowedIPs = 10.0.0.0/24\n", 4,
        "[Peer] has no PublicKey");
    row("same public key twice", peer + fill("\n[Peer]\nPublicKey = @VPS_PUB@\n"), 7,
        "PublicKey is the same as that of the [Peer] on line 3");

    // Numbers.
    row("port too big", iface + "ListenPort = 65536\n", 3,
        "ListenPort '65536' is not a number 0-65535");
    row("port negative", iface + "ListenPort = -1\n", 3, "ListenPort '-1'");
    row("port leading zero", iface + "ListenPort = 051820\n", 3, "ListenPort '051820'");
    row("port service name", iface + "ListenPort = wireguard\n", 3, "ListenPort 'wireguard'");
    row("port hex", iface + "ListenPort = 0x10\n", 3, "ListenPort '0x10'");
    row("fwmark too big", iface + "FwMark = 4294967296\n", 3,
        "FwMark '4294967296' is neither off nor");
    row("fwmark hex too big", iface + "FwMark = 0x100000000\n", 3, "FwMark '0x100000000'");
    row("fwmark upper X", iface + "FwMark = 0X10\n", 3, "FwMark '0X10'");
    row("fwmark bare 0x", iface + "FwMark = 0x\n", 3, "FwMark '0x'");
    row("fwmark bad hex", iface + "FwMark = 0xfg\n", 3, "FwMark '0xfg'");
    row("fwmark on", iface + "FwMark = on\n", 3, "FwMark 'on'");
    row("mtu too small", iface + "MTU = 575\n", 3, "MTU '575' is not a number 576-65535");
    row("mtu too big", iface + "MTU = 65536\n", 3, "MTU '65536'");
    row("mtu octal-looking", iface + "MTU = 01420\n", 3, "MTU '01420'");
    row("mtu words", iface + "MTU = auto\n", 3, "MTU 'auto'");
    row("mtu too small for IPv6", iface + "MTU = 1200\nAddress = 10.0.0.2/24, fd00::2/64\n", 3,
        "MTU 1200 is below 1280, the IPv6 minimum (RFC 8200 §5), but Address has fd00::2/64");
    row("keepalive too big", peer + "PersistentKeepalive = 65536\n", 5,
        "PersistentKeepalive '65536' is neither off nor a number 0-65535");
    row("keepalive on", peer + "PersistentKeepalive = on\n", 5, "PersistentKeepalive 'on'");
    row("keepalive empty", peer + "PersistentKeepalive =\n", 5, "PersistentKeepalive has no value");
    row("save config yes", iface + "SaveConfig = yes\n", 3,
        "SaveConfig 'yes' is neither true nor false");

    // Addresses.
    row("address octet", iface + "Address = 10.0.0.300/24\n", 3,
        "Address '10.0.0.300/24' is not an IP address with an optional /prefix length");
    row("address prefix too long", iface + "Address = 10.0.0.1/33\n", 3, "Address '10.0.0.1/33'");
    row("address second entry", iface + "Address = 10.0.0.1/24, fd00::1/129\n", 3,
        "Address 'fd00::1/129'");
    row("address empty entry", iface + "Address = 10.0.0.1/24,,10.0.0.2/24\n", 3,
        "Address has an empty entry");
    row("address trailing comma", iface + "Address = 10.0.0.1/24,\n", 3,
        "Address has an empty entry");
    row("address zone", iface + "Address = fe80::1%wg0/64\n", 3, "Address 'fe80::1%wg0/64'");
    row("dns bad ip", iface + "DNS = 1.1.1.256\n", 3, "DNS '1.1.1.256' is not a valid IP address");
    row("dns bad v6", iface + "DNS = 2606:4700::1111::1\n", 3,
        "DNS '2606:4700::1111::1' is not a valid IP");
    row("dns bad name", iface + "DNS = bad_name.example\n", 3,
        "DNS 'bad_name.example' is neither an IP address nor a domain name");
    row("table capital", iface + "Table = Off\n", 3, "Table 'Off' must be written in lowercase");
    row("table junk", iface + "Table = main table\n", 3, "Table 'main table' is not off, auto");
    row("table negative", iface + "Table = -1\n", 3, "Table '-1'");
    row("table too big", iface + "Table = 4294967296\n", 3, "Table '4294967296'");
    row("hook empty", iface + "PostUp =   \n", 3, "PostUp has no value");
    row("allowedips space separated", peer + "AllowedIPs = 10.0.0.0/24 10.0.1.0/24\n", 5,
        "AllowedIPs '10.0.0.0/24 10.0.1.0/24' is not an IP address");
    row("allowedips bad prefix", peer + "AllowedIPs = 0.0.0.0/33\n", 5, "AllowedIPs '0.0.0.0/33'");
    row("allowedips empty entry", peer + "AllowedIPs = 10.0.0.0/24,\n", 5,
        "AllowedIPs has an empty entry");
    row("allowedips incremental", peer + "AllowedIPs = +10.0.0.0/24\n", 5,
        "AllowedIPs '+10.0.0.0/24'");
    row("endpoint port 0", peer + "Endpoint = vpn.example.com:0\n", 5,
        "Endpoint 'vpn.example.com:0' is not host:port or [IPv6]:port with a port 1-65535");
    row("endpoint no port", peer + "Endpoint = vpn.example.com\n", 5, "Endpoint 'vpn.example.com'");
    row("endpoint unbracketed v6", peer + "Endpoint = 2001:db8::1:51820\n", 5,
        "Endpoint '2001:db8::1:51820'");
    row("endpoint octal", peer + "Endpoint = 010.0.0.1:51820\n", 5, "Endpoint '010.0.0.1:51820'");
    row("endpoint empty", peer + "Endpoint =\n", 5, "Endpoint has no value");
}

void TestWgQuick::badInput() {
    QFETCH(QByteArray, text);
    QFETCH(int, line);
    QFETCH(QString, reason);
    const auto r = parseWgQuick(std::string_view(text.constData(), std::size_t(text.size())));
    QVERIFY(!r.config);
    QVERIFY2(r.errors.size() == 1, qPrintable(describe(r)));
    QCOMPARE(r.errors[0].line, line);
    QVERIFY2(qs(r.errors[0].reason).contains(reason), qPrintable(describe(r)));
}

void TestWgQuick::reportsAllErrorsInLineOrder() {
    const std::string text = fill(R"([Interface]
PrivateKey = @LAPTOP_PRIV@
ListenPort = 70000
Bogus = 1
[Peer]
AllowedIPs = 10.0.0.0/33
[Peer]
PublicKey = @VPS_PUB@
Endpoint = nowhere
[Interface]
MTU = 1
[Peer]
PublicKey = @VPS_PUB@
)");
    const auto r = parseWgQuick(text);
    QVERIFY(!r.config);
    const std::vector<std::pair<int, QString>> expected = {
        {3, "ListenPort"},
        {4, "unknown key 'Bogus'"},
        {5, "[Peer] has no PublicKey"},
        {6, "AllowedIPs '10.0.0.0/33'"},
        {9, "Endpoint 'nowhere'"},
        {10, "second [Interface]"},
        {11, "MTU '1'"},
        {13, "same as that of the [Peer] on line 7"},
    };
    QCOMPARE(int(r.errors.size()), int(expected.size()));
    for (std::size_t i = 0; i < expected.size(); ++i) {
        QCOMPARE(r.errors[i].line, expected[i].first);
        QVERIFY2(qs(r.errors[i].reason).contains(expected[i].second), qPrintable(describe(r)));
    }

    // Whole-file errors come last.
    const auto noKey = parseWgQuick("[Interface]\nListenPort = x\n[Peer]\n");
    QCOMPARE(int(noKey.errors.size()), 3);
    QCOMPARE(noKey.errors[0].line, 2);
    QCOMPARE(noKey.errors[1].line, 3);
    QCOMPARE(noKey.errors[2].line, 0);
}

void TestWgQuick::errorsNeverContainKeyMaterial() {
    const std::string secrets[] = {
        kLaptopPrivate, std::string(kLaptopPrivate).substr(0, 43), kPsk,
        "a8854d195b272939ded334e8c8cbb6f64982010247a22d21400ead63e94a064f"};
    for (const std::string& secret : secrets) {
        const std::string texts[] = {
            "[Interface]\n" + secret + "\n",               // pasted alone (no '=' or one)
            "[Interface]\n" + secret + " = x\n",           // as a key
            "[Interface]\nPrivateKey = " + secret + "x\n", // malformed key
            "[Interface]\nListenPort = " + secret + "\n",  // on the wrong line
            "[Interface]\nDNS = " + secret + "\n",
            "[Interface]\nTable = " + secret + "\n",
            "[Interface]\nPrivateKey = x\n[Peer]\nEndpoint = " + secret + "\n",
            secret + "\n",        // before any section
            "[" + secret + "]\n", // as a section
        };
        for (const std::string& text : texts) {
            const auto r = parseWgQuick(text);
            QVERIFY(!r.errors.empty());
            for (const auto& e : r.errors)
                QVERIFY2(e.reason.find(secret.substr(0, 20)) == std::string::npos,
                         qPrintable(qs(e.reason)));
        }
    }
}

void TestWgQuick::bounds() {
    const std::string base = fill("[Interface]\nPrivateKey = @LAPTOP_PRIV@\n");

    // Exactly 1 MiB of valid text is accepted; one byte more is refused as a whole.
    std::string big = base;
    const std::string comment = "#" + std::string(4000, 'c') + "\n";
    while (big.size() + comment.size() <= config::kMaxConfigBytes)
        big += comment;
    big += "#" + std::string(config::kMaxConfigBytes - big.size() - 2, 'd') + "\n";
    QCOMPARE(big.size(), config::kMaxConfigBytes);
    QVERIFY(parseWgQuick(big).config);
    big += "\n";
    const auto tooBig = parseWgQuick(big);
    QVERIFY(!tooBig.config);
    QCOMPARE(int(tooBig.errors.size()), 1);
    QCOMPARE(tooBig.errors[0].line, 0);
    QVERIFY(qs(tooBig.errors[0].reason).contains("larger than 1 MiB"));

    // A 4096-character line is fine (also with CRLF); 4097 is not.
    const std::string hook = "PostUp = ";
    const std::string line4096 = hook + std::string(4096 - hook.size(), 'e');
    QVERIFY(parseWgQuick(base + line4096 + "\n").config);
    QVERIFY(parseWgQuick(base + line4096 + "\r\n").config);
    QCOMPARE(parseWgQuick(base + line4096 + "\r\n").config->interface.postUp[0].size(),
             std::size_t{4096 - hook.size()});
    const auto tooLong = parseWgQuick(base + line4096 + "e\n");
    QVERIFY(!tooLong.config);
    QCOMPARE(tooLong.errors[0].line, 3);
}

void TestWgQuick::tooManyErrors() {
    std::string text = fill("[Interface]\nPrivateKey = @LAPTOP_PRIV@\n");
    for (int i = 0; i < 1000; ++i)
        text += "Bogus = 1\n";
    const auto r = parseWgQuick(text);
    QVERIFY(!r.config);
    QCOMPARE(r.errors.size(), config::kMaxConfigErrors + 1);
    QCOMPARE(r.errors.back().line, 0);
    QVERIFY(qs(r.errors.back().reason).contains("too many errors"));
    QCOMPARE(r.errors[99].line, 102);
}

// Strings no config line can hold are cut at the first '#' or control character, never
// written through: a newline in a hook must not become a second key.
void TestWgQuick::writerCannotInjectLines() {
    PARSE_OK(base, kLaptop);
    WgQuickConfig c = base;
    c.interface.postUp = {"echo one\n[Peer]\nPublicKey = " + std::string(kPhonePublic),
                          "echo two # comment", "   ", "#only comment", " echo three\t"};
    c.interface.preDown = {"echo a\rPrivateKey = x"};
    c.interface.table = "off\nPostDown = rm -rf /";
    c.interface.dnsSearch = {"corp.example\nMTU = 1"};
    const std::string text = writeWgQuick(c);
    PARSE_OK(back, text);
    QCOMPARE(back.interface.postUp,
             (std::vector<std::string>{"echo one", "echo two", "echo three"}));
    QCOMPARE(back.interface.preDown, std::vector<std::string>{"echo a"});
    QCOMPARE(back.interface.table, std::optional<std::string>{"off"});
    QVERIFY(back.interface.postDown.empty());
    QCOMPARE(back.interface.dnsSearch, std::vector<std::string>{"corp.example"});
    QVERIFY(!back.interface.mtu);
    QCOMPARE(back.peers.size(), std::size_t{1});
}

namespace {

// Random valid configs for the round-trip test.
class Generator {
public:
    explicit Generator(std::uint32_t seed) : rng_(seed) {}

    WgQuickConfig config() {
        WgQuickConfig c;
        auto& i = c.interface;
        i.privateKey = crypto::PrivateKey(key());
        if (chance(2))
            i.listenPort = std::uint16_t(range(1, 65535));
        if (chance(3))
            i.fwMark = std::uint32_t(range(1, 0xffffffffLL));
        for (int n = int(range(0, 3)); n > 0; --n)
            i.addresses.push_back(randomPrefix());
        for (int n = int(range(0, 3)); n > 0; --n)
            i.dnsServers.push_back(randomAddress(chance(2)));
        for (int n = int(range(0, 2)); n > 0; --n)
            i.dnsSearch.push_back(hostname());
        if (chance(2)) {
            const bool v6 = std::any_of(i.addresses.begin(), i.addresses.end(), [](const auto& p) {
                return p.address.family == net::Family::V6;
            });
            i.mtu = std::uint32_t(range(v6 ? 1280 : 576, 65535));
        }
        if (chance(3)) {
            static const char* tables[] = {"off", "auto", "main", "1234", "vpn_routes", "0"};
            i.table = chance(2) ? std::string(tables[range(0, 5)])
                                : std::to_string(range(0, 0xffffffffLL));
        }
        for (auto* hooks : {&i.preUp, &i.postUp, &i.preDown, &i.postDown})
            for (int n = int(range(0, 2)); n > 0; --n)
                hooks->push_back(command());
        i.saveConfig = chance(2);

        std::vector<crypto::PublicKey> used;
        for (int n = int(range(0, 5)); n > 0; --n) {
            config::WgQuickPeer p;
            do {
                p.publicKey = key();
            } while (std::find(used.begin(), used.end(), p.publicKey) != used.end());
            used.push_back(p.publicKey);
            if (chance(2))
                p.presharedKey = crypto::Secret<32>(key());
            for (int m = int(range(0, 4)); m > 0; --m)
                p.allowedIps.push_back(randomPrefix());
            if (chance(2)) {
                net::EndpointSpec e;
                const auto kind = range(0, 2);
                e.host = kind == 0   ? randomAddress(false).toString()
                         : kind == 1 ? randomAddress(true).toString()
                                     : hostname();
                e.port = std::uint16_t(range(1, 65535));
                p.endpoint = e;
            }
            if (chance(2))
                p.persistentKeepalive = std::uint16_t(range(1, 65535));
            c.peers.push_back(std::move(p));
        }
        return c;
    }

private:
    long long range(long long lo, long long hi) {
        return std::uniform_int_distribution<long long>(lo, hi)(rng_);
    }
    bool chance(int oneIn) { return range(0, oneIn - 1) == 0; }

    std::array<std::uint8_t, 32> key() {
        std::array<std::uint8_t, 32> k{};
        for (auto& b : k)
            b = std::uint8_t(range(0, 255));
        k[0] |= 1; // never all zero
        return k;
    }

    net::IpAddress randomAddress(bool v6) {
        std::array<std::uint8_t, 16> b{};
        for (std::size_t j = 0; j < (v6 ? 16u : 4u); ++j)
            b[j] = chance(3) ? 0 : std::uint8_t(range(0, 255)); // zero runs exercise "::"
        if (!v6)
            return net::IpAddress::v4(std::span<const std::uint8_t, 4>(b.data(), 4));
        return net::IpAddress::v6(b);
    }

    net::IpPrefix randomPrefix() {
        const auto a = randomAddress(chance(2));
        return {a, std::uint8_t(range(0, a.maxPrefix()))};
    }

    std::string hostname() {
        static const char kChars[] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
        std::string out;
        for (int labels = int(range(1, 4)); labels > 0; --labels) {
            if (!out.empty())
                out += '.';
            std::string label;
            for (int n = int(range(1, 12)); n > 0; --n)
                label += kChars[range(0, 62)];
            label.front() = 'h';
            label.back() = 'z';
            out += label;
        }
        return out;
    }

    // Printable ASCII without '#', no surrounding blanks: anything a shell line may hold.
    std::string command() {
        std::string out;
        for (int n = int(range(1, 60)); n > 0; --n) {
            char ch;
            do {
                ch = char(range(0x20, 0x7e));
            } while (ch == '#');
            out += ch;
        }
        out.front() = 'x';
        out.back() = 'y';
        return out;
    }

    std::mt19937_64 rng_;
};

} // namespace

void TestWgQuick::randomRoundTrip() {
    Generator gen(0x5eed);
    for (int n = 0; n < 2000; ++n) {
        const WgQuickConfig c = gen.config();
        CHECK_ROUND_TRIP(c);
    }
}

// Byte-level mutations of valid files: the parser must neither crash nor return a config
// together with errors, and every error line must exist in the input.
void TestWgQuick::mutationsNeverCrash() {
    Generator gen(0xfade);
    std::mt19937 rng(7);
    static const char kInteresting[] = "=#[],:/.\r\n\t 0xAZaz9+-%";
    for (int n = 0; n < 3000; ++n) {
        std::string text = writeWgQuick(gen.config());
        const int edits = std::uniform_int_distribution<int>(1, 8)(rng);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            const std::size_t pos =
                std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
            switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
            case 0:
                text[pos] = kInteresting[std::uniform_int_distribution<std::size_t>(
                    0, sizeof kInteresting - 2)(rng)];
                break;
            case 1:
                text.erase(pos, std::uniform_int_distribution<std::size_t>(1, 16)(rng));
                break;
            case 2:
                text.insert(pos, 1, char(std::uniform_int_distribution<int>(0, 255)(rng)));
                break;
            default:
                text.insert(
                    pos, text.substr(pos, std::uniform_int_distribution<std::size_t>(1, 40)(rng)));
                break;
            }
        }
        const auto r = parseWgQuick(text);
        QVERIFY(r.config.has_value() == r.errors.empty());
        const int lines = int(std::count(text.begin(), text.end(), '\n')) + 1;
        for (const auto& e : r.errors) {
            QVERIFY(e.line >= 0 && e.line <= lines);
            QVERIFY(!e.reason.empty());
        }
        if (r.config)
            CHECK_ROUND_TRIP(*r.config);
    }
}

QTEST_APPLESS_MAIN(TestWgQuick)
#include "tst_wgquick.moc"
