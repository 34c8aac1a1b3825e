// Tests for IpAddress, IpPrefix, EndpointSpec and SocketAddress: RFC 4291 §2.2 input forms and
// RFC 5952 output as _data() rows (good and bad), then differential runs against glibc's
// inet_pton / inet_ntop on random input (the test may use libc; calnet-core may not).
#include <QTest>

// The differential oracle is glibc's: the Windows build of this test (under Wine) leaves those
// two slots out, since ws2_32's inet_pton is a different implementation to compare against.
#if !defined(_WIN32)
#include <arpa/inet.h>
#endif

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>

#include "core/net/ipaddress.h"

using calnet::net::EndpointSpec;
using calnet::net::Family;
using calnet::net::IpAddress;
using calnet::net::IpPrefix;
using calnet::net::SocketAddress;

namespace {

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}
std::string ss(const QString& s) {
    return s.toStdString();
}

// Hex of the address bytes that matter, for readable comparisons.
QString hexOf(const IpAddress& a) {
    return QString::fromLatin1(
        QByteArray(reinterpret_cast<const char*>(a.bytes.data()), qsizetype(a.byteLength()))
            .toHex());
}

} // namespace

class TestIpAddress : public QObject {
    Q_OBJECT

private slots:
    void parseV4_data();
    void parseV4();
    void parseV6_data();
    void parseV6();
    void rejects_data();
    void rejects();
    void mappedAndFactories();
    void ordering();
    void prefixParse_data();
    void prefixParse();
    void prefixMaskAndContains_data();
    void prefixMaskAndContains();
    void hostname_data();
    void hostname();
    void endpoint_data();
    void endpoint();
    void socketAddress_data();
    void socketAddress();
#if !defined(_WIN32)
    void differentialParseAgainstInetPton();
    void differentialFormatAgainstInetNtop();
#endif
};

void TestIpAddress::parseV4_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("hex");
    QTest::newRow("zero") << "0.0.0.0"
                          << "00000000";
    QTest::newRow("broadcast") << "255.255.255.255"
                               << "ffffffff";
    QTest::newRow("doc") << "192.0.2.1"
                         << "c0000201";
    QTest::newRow("private") << "10.8.0.2"
                             << "0a080002";
    QTest::newRow("zero octets") << "10.0.0.0"
                                 << "0a000000";
    QTest::newRow("three digits") << "100.64.200.199"
                                  << "6440c8c7";
}

void TestIpAddress::parseV4() {
    QFETCH(QString, text);
    QFETCH(QString, hex);
    const auto a = IpAddress::parse(ss(text));
    QVERIFY(a);
    QCOMPARE(a->family, Family::V4);
    QCOMPARE(hexOf(*a), hex);
    QCOMPARE(qs(a->toString()), text);
    for (std::size_t i = 4; i < 16; ++i)
        QCOMPARE(a->bytes[i], std::uint8_t{0});
}

void TestIpAddress::parseV6_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("hex");
    QTest::addColumn<QString>("canonical");
    // RFC 4291 §2.2 forms.
    QTest::newRow("full") << "2001:db8:0:0:8:800:200c:417a"
                          << "20010db80000000000080800200c417a"
                          << "2001:db8::8:800:200c:417a";
    QTest::newRow("full leading zeros") << "2001:0db8:0000:0000:0008:0800:200c:417a"
                                        << "20010db80000000000080800200c417a"
                                        << "2001:db8::8:800:200c:417a";
    QTest::newRow("unspecified") << "::"
                                 << "00000000000000000000000000000000"
                                 << "::";
    QTest::newRow("loopback") << "::1"
                              << "00000000000000000000000000000001"
                              << "::1";
    QTest::newRow("loopback long") << "0:0:0:0:0:0:0:1"
                                   << "00000000000000000000000000000001"
                                   << "::1";
    QTest::newRow("trailing gap") << "ff01::"
                                  << "ff010000000000000000000000000000"
                                  << "ff01::";
    QTest::newRow("multicast") << "FF01::101"
                               << "ff010000000000000000000000000101"
                               << "ff01::101";
    QTest::newRow("gap of one") << "1::3:4:5:6:7:8"
                                << "00010000000300040005000600070008"
                                << "1:0:3:4:5:6:7:8";
    QTest::newRow("gap of seven") << "1::"
                                  << "00010000000000000000000000000000"
                                  << "1::";
    QTest::newRow("embedded v4 compat") << "::13.1.68.3"
                                        << "0000000000000000000000000d014403"
                                        << "::d01:4403";
    QTest::newRow("embedded v4 mapped") << "::FFFF:129.144.52.38"
                                        << "00000000000000000000ffff81903426"
                                        << "::ffff:129.144.52.38";
    QTest::newRow("mapped in hex") << "::ffff:c000:201"
                                   << "00000000000000000000ffffc0000201"
                                   << "::ffff:192.0.2.1";
    QTest::newRow("embedded v4 full") << "1:2:3:4:5:6:1.2.3.4"
                                      << "00010002000300040005000601020304"
                                      << "1:2:3:4:5:6:102:304";
    QTest::newRow("embedded v4 after gap") << "64:ff9b::192.0.2.33"
                                           << "0064ff9b0000000000000000c0000221"
                                           << "64:ff9b::c000:221";
    // RFC 5952 §4 canonical-form rules.
    QTest::newRow("5952 4.1 no leading zeros") << "2001:0db8::0001"
                                               << "20010db8000000000000000000000001"
                                               << "2001:db8::1";
    QTest::newRow("5952 4.2.1 longest run") << "2001:db8:0:0:0:0:2:1"
                                            << "20010db8000000000000000000020001"
                                            << "2001:db8::2:1";
    QTest::newRow("5952 4.2.2 single zero") << "2001:db8:0:1:1:1:1:1"
                                            << "20010db8000000010001000100010001"
                                            << "2001:db8:0:1:1:1:1:1";
    QTest::newRow("5952 4.2.3 longer wins") << "2001:0:0:1:0:0:0:1"
                                            << "20010000000000010000000000000001"
                                            << "2001:0:0:1::1";
    QTest::newRow("5952 4.2.3 first on tie") << "2001:db8:0:0:1:0:0:1"
                                             << "20010db8000000000001000000000001"
                                             << "2001:db8::1:0:0:1";
    QTest::newRow("5952 4.3 lowercase") << "2001:DB8::ABCD"
                                        << "20010db800000000000000000000abcd"
                                        << "2001:db8::abcd";
    QTest::newRow("no zeros") << "1:2:3:4:5:6:7:8"
                              << "00010002000300040005000600070008"
                              << "1:2:3:4:5:6:7:8";
    QTest::newRow("zero run at end") << "1:2:3:4:5:6:0:0"
                                     << "00010002000300040005000600000000"
                                     << "1:2:3:4:5:6::";
    QTest::newRow("link local") << "fe80::1"
                                << "fe800000000000000000000000000001"
                                << "fe80::1";
    QTest::newRow("max") << "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
                         << "ffffffffffffffffffffffffffffffff"
                         << "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
}

void TestIpAddress::parseV6() {
    QFETCH(QString, text);
    QFETCH(QString, hex);
    QFETCH(QString, canonical);
    const auto a = IpAddress::parse(ss(text));
    QVERIFY(a);
    QCOMPARE(a->family, Family::V6);
    QCOMPARE(hexOf(*a), hex);
    QCOMPARE(qs(a->toString()), canonical);
    // Canonical text parses back to the same address and is a fixed point.
    const auto again = IpAddress::parse(a->toString());
    QVERIFY(again);
    QCOMPARE(*again, *a);
    QCOMPARE(qs(again->toString()), canonical);
}

void TestIpAddress::rejects_data() {
    QTest::addColumn<QString>("text");
    const char* bad[] = {
        "",
        " ",
        // IPv4
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.",
        ".1.2.3",
        "1..2.3",
        "256.0.0.1",
        "1.2.3.256",
        "1.2.3.1000",
        "01.2.3.4",
        "1.2.3.04",
        "010.0.0.1",
        "00.0.0.0",
        "0x1.2.3.4",
        "1.2.3.-4",
        "+1.2.3.4",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1.2.3.4:80",
        "1.2.3.a",
        "16909060",
        "1.2.3.4\n",
        // IPv6
        ":",
        ":::",
        "::::",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1:2:3:4::5:6:7:8",
        "1::2::3",
        "::1::",
        ":1::",
        "1::2:",
        ":1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:",
        "12345::",
        "::12345",
        "g::",
        "::-1",
        "fe80::1%eth0",
        "fe80::1%1",
        "[::1]",
        " ::1",
        "::1 ",
        "1.2.3.4::",
        "::1.2.3.4:1",
        "::1.2.3",
        "::256.1.1.1",
        "::ffff:01.2.3.4",
        "::ffff:1.2.3.4.5",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5:6:7:8:1.2.3.4",
        "1.2.3.4:5:6:7:8:9:10",
        "::1.2.3.4::",
        "0x1::",
        "1:2:3:4:5:6:7:8:",
        "2001:db8:::1",
    };
    for (const char* b : bad) {
        const QString text = QString::fromLatin1(b);
        QTest::newRow(qPrintable(QString(text).replace('\n', "\\n"))) << text;
    }
}

void TestIpAddress::rejects() {
    QFETCH(QString, text);
    QVERIFY(!IpAddress::parse(ss(text)));
    QVERIFY(!IpPrefix::parse(ss(text)));
}

void TestIpAddress::mappedAndFactories() {
    const std::array<std::uint8_t, 4> v4{192, 0, 2, 1};
    const IpAddress a = IpAddress::v4(v4);
    QCOMPARE(a.family, Family::V4);
    QCOMPARE(a.byteLength(), std::size_t{4});
    QCOMPARE(a.maxPrefix(), 32u);
    QVERIFY(!a.isV4MappedV6());
    QCOMPARE(*IpAddress::parse("192.0.2.1"), a);

    std::array<std::uint8_t, 16> v6{};
    v6[10] = 0xff;
    v6[11] = 0xff;
    v6[12] = 192;
    v6[14] = 2;
    v6[15] = 1;
    const IpAddress m = IpAddress::v6(v6);
    QVERIFY(m.isV4MappedV6());
    QCOMPARE(m.maxPrefix(), 128u);
    QCOMPARE(qs(m.toString()), QStringLiteral("::ffff:192.0.2.1"));
    QVERIFY(m != a); // a mapped address is an IPv6 value, not the IPv4 one
    QVERIFY(!IpAddress::parse("::fffe:192.0.2.1")->isV4MappedV6());
    QVERIFY(!IpAddress::parse("1::ffff:192.0.2.1")->isV4MappedV6());
    QCOMPARE(qs(IpAddress::parse("::ffff:0.0.0.0")->toString()), QStringLiteral("::ffff:0.0.0.0"));
}

void TestIpAddress::ordering() {
    const auto a = *IpAddress::parse("10.0.0.1");
    const auto b = *IpAddress::parse("10.0.0.2");
    const auto c = *IpAddress::parse("::1");
    QVERIFY(a < b);
    QVERIFY(b < c); // V4 sorts before V6
    QVERIFY(*IpPrefix::parse("10.0.0.0/8") < *IpPrefix::parse("10.0.0.0/16"));
}

void TestIpAddress::prefixParse_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("written"); // toString(); host bits are kept
    QTest::addColumn<int>("length");
    QTest::newRow("v4 /24") << "10.0.0.0/24" << true << "10.0.0.0/24" << 24;
    QTest::newRow("v4 host bits kept") << "10.0.0.2/24" << true << "10.0.0.2/24" << 24;
    QTest::newRow("v4 bare") << "192.0.2.1" << true << "192.0.2.1/32" << 32;
    QTest::newRow("v4 /0") << "0.0.0.0/0" << true << "0.0.0.0/0" << 0;
    QTest::newRow("v4 /32") << "1.2.3.4/32" << true << "1.2.3.4/32" << 32;
    QTest::newRow("v6 /64") << "fd00:0::2/64" << true << "fd00::2/64" << 64;
    QTest::newRow("v6 bare") << "2001:db8::1" << true << "2001:db8::1/128" << 128;
    QTest::newRow("v6 /0") << "::/0" << true << "::/0" << 0;
    QTest::newRow("v6 /128") << "::1/128" << true << "::1/128" << 128;
    QTest::newRow("mapped /96") << "::ffff:0.0.0.0/96" << true << "::ffff:0.0.0.0/96" << 96;
    QTest::newRow("v4 /33") << "10.0.0.0/33" << false << "" << 0;
    QTest::newRow("v6 /129") << "::/129" << false << "" << 0;
    QTest::newRow("v4 /256") << "10.0.0.0/256" << false << "" << 0;
    QTest::newRow("empty length") << "10.0.0.0/" << false << "" << 0;
    QTest::newRow("leading zero") << "10.0.0.0/024" << false << "" << 0;
    QTest::newRow("/00") << "10.0.0.0/00" << false << "" << 0;
    QTest::newRow("negative") << "10.0.0.0/-1" << false << "" << 0;
    QTest::newRow("plus") << "10.0.0.0/+8" << false << "" << 0;
    QTest::newRow("two slashes") << "10.0.0.0/8/8" << false << "" << 0;
    QTest::newRow("junk after") << "10.0.0.0/8x" << false << "" << 0;
    QTest::newRow("space") << "10.0.0.0/ 8" << false << "" << 0;
    QTest::newRow("space before") << "10.0.0.0 /8" << false << "" << 0;
    QTest::newRow("netmask") << "10.0.0.0/255.0.0.0" << false << "" << 0;
    QTest::newRow("no address") << "/8" << false << "" << 0;
    QTest::newRow("hex length") << "::/0x40" << false << "" << 0;
    QTest::newRow("huge") << "10.0.0.0/4294967304" << false << "" << 0;
    QTest::newRow("zone") << "fe80::1%eth0/64" << false << "" << 0;
}

void TestIpAddress::prefixParse() {
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, written);
    QFETCH(int, length);
    const auto p = IpPrefix::parse(ss(text));
    QCOMPARE(p.has_value(), ok);
    if (!ok)
        return;
    QCOMPARE(qs(p->toString()), written);
    QCOMPARE(int(p->length), length);
    QCOMPARE(*IpPrefix::parse(p->toString()), *p);
}

void TestIpAddress::prefixMaskAndContains_data() {
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QString>("masked");
    QTest::addColumn<QString>("inside");
    QTest::addColumn<QString>("outside");
    QTest::newRow("v4 /24") << "10.0.0.2/24"
                            << "10.0.0.0/24"
                            << "10.0.0.255"
                            << "10.0.1.0";
    QTest::newRow("v4 /23 odd") << "10.0.1.7/23"
                                << "10.0.0.0/23"
                                << "10.0.1.255"
                                << "10.0.2.0";
    QTest::newRow("v4 /31") << "192.0.2.255/31"
                            << "192.0.2.254/31"
                            << "192.0.2.254"
                            << "192.0.2.253";
    QTest::newRow("v4 /0") << "1.2.3.4/0"
                           << "0.0.0.0/0"
                           << "255.255.255.255"
                           << "::";
    QTest::newRow("v4 /32") << "1.2.3.4/32"
                            << "1.2.3.4/32"
                            << "1.2.3.4"
                            << "1.2.3.5";
    QTest::newRow("v4 /1") << "200.0.0.0/1"
                           << "128.0.0.0/1"
                           << "255.0.0.0"
                           << "127.255.255.255";
    QTest::newRow("v6 /64") << "fd00::abcd/64"
                            << "fd00::/64"
                            << "fd00::ffff:ffff:ffff:ffff"
                            << "fd00:0:0:1::";
    QTest::newRow("v6 /13") << "2001:db8::1/13"
                            << "2000::/13"
                            << "2007:ffff::"
                            << "2008::";
    QTest::newRow("v6 /0") << "2001:db8::1/0"
                           << "::/0"
                           << "ffff::"
                           << "0.0.0.0";
    QTest::newRow("v6 /127") << "::3/127"
                             << "::2/127"
                             << "::2"
                             << "::1";
    QTest::newRow("v6 /128") << "::1/128"
                             << "::1/128"
                             << "::1"
                             << "::";
    QTest::newRow("family differs") << "::/96"
                                    << "::/96"
                                    << "::1.2.3.4"
                                    << "1.2.3.4";
}

void TestIpAddress::prefixMaskAndContains() {
    QFETCH(QString, prefix);
    QFETCH(QString, masked);
    QFETCH(QString, inside);
    QFETCH(QString, outside);
    const auto p = IpPrefix::parse(ss(prefix));
    QVERIFY(p);
    QCOMPARE(qs(p->masked().toString()), masked);
    QCOMPARE(p->masked().masked(), p->masked());
    QVERIFY(p->contains(*IpAddress::parse(ss(inside))));
    QVERIFY(!p->contains(*IpAddress::parse(ss(outside))));
    QVERIFY(p->contains(p->address));
}

void TestIpAddress::hostname_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::newRow("simple") << "vpn.example.com" << true;
    QTest::newRow("single label") << "localhost" << true;
    QTest::newRow("hyphen inside") << "my-vps.example" << true;
    QTest::newRow("digits first") << "1password.example" << true;
    QTest::newRow("numeric label inside") << "10.example" << true;
    QTest::newRow("upper case") << "VPN.Example.COM" << true;
    QTest::newRow("63 label") << QString(63, 'a') + ".example" << true;
    QTest::newRow("64 label") << QString(64, 'a') + ".example" << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("empty label") << "a..b" << false;
    QTest::newRow("leading dot") << ".example" << false;
    QTest::newRow("trailing dot") << "example.com." << false;
    QTest::newRow("leading hyphen") << "-a.example" << false;
    QTest::newRow("trailing hyphen") << "a-.example" << false;
    QTest::newRow("underscore") << "a_b.example" << false;
    QTest::newRow("space") << "a b.example" << false;
    QTest::newRow("all numeric") << "1.2.3.256" << false;
    QTest::newRow("numeric tld") << "example.123" << false;
    QTest::newRow("octal-looking") << "010.0.0.1" << false;
    QTest::newRow("colon") << "a:b" << false;
    QTest::newRow("non-ascii") << QStringLiteral("b\u00fccher.example") << false;
    QString longest;
    while (longest.size() < 253)
        longest += QString(std::min<qsizetype>(63, 253 - longest.size() - 2), 'a') + ".";
    longest.chop(1);
    while (longest.size() < 253)
        longest += 'b';
    QTest::newRow("253") << longest << true;
    QTest::newRow("254") << longest + "c" << false;
}

void TestIpAddress::hostname() {
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QCOMPARE(calnet::net::isValidHostname(text.toUtf8().toStdString()), ok);
}

void TestIpAddress::endpoint_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<bool>("literal");
    QTest::newRow("v4") << "203.0.113.5:51820" << true << "203.0.113.5" << 51820 << true;
    QTest::newRow("v6") << "[2001:db8::1]:51820" << true << "2001:db8::1" << 51820 << true;
    QTest::newRow("v6 kept as written")
        << "[2001:DB8:0::1]:1" << true << "2001:DB8:0::1" << 1 << true;
    QTest::newRow("mapped") << "[::ffff:1.2.3.4]:51820" << true << "::ffff:1.2.3.4" << 51820
                            << true;
    QTest::newRow("name") << "vpn.example.com:51820" << true << "vpn.example.com" << 51820 << false;
    QTest::newRow("max port") << "host.example:65535" << true << "host.example" << 65535 << false;
    QTest::newRow("port 0") << "1.2.3.4:0" << false << "" << 0 << false;
    QTest::newRow("port 65536") << "1.2.3.4:65536" << false << "" << 0 << false;
    QTest::newRow("port leading zero") << "1.2.3.4:051820" << false << "" << 0 << false;
    QTest::newRow("port empty") << "1.2.3.4:" << false << "" << 0 << false;
    QTest::newRow("port missing") << "1.2.3.4" << false << "" << 0 << false;
    QTest::newRow("port service") << "host.example:https" << false << "" << 0 << false;
    QTest::newRow("port sign") << "1.2.3.4:+80" << false << "" << 0 << false;
    QTest::newRow("port huge") << "1.2.3.4:99999999999" << false << "" << 0 << false;
    QTest::newRow("v6 unbracketed") << "2001:db8::1:51820" << false << "" << 0 << false;
    QTest::newRow("v6 no port") << "[2001:db8::1]" << false << "" << 0 << false;
    QTest::newRow("v6 colon no port") << "[2001:db8::1]:" << false << "" << 0 << false;
    QTest::newRow("v6 unclosed") << "[2001:db8::1:51820" << false << "" << 0 << false;
    QTest::newRow("v6 junk after bracket") << "[::1]x:1" << false << "" << 0 << false;
    QTest::newRow("v6 zone") << "[fe80::1%eth0]:51820" << false << "" << 0 << false;
    QTest::newRow("v4 bracketed") << "[1.2.3.4]:51820" << false << "" << 0 << false;
    QTest::newRow("name bracketed") << "[host.example]:51820" << false << "" << 0 << false;
    QTest::newRow("bad v4") << "1.2.3.256:51820" << false << "" << 0 << false;
    QTest::newRow("octal v4") << "010.0.0.1:51820" << false << "" << 0 << false;
    QTest::newRow("empty host") << ":51820" << false << "" << 0 << false;
    QTest::newRow("bad name") << "bad_name.example:51820" << false << "" << 0 << false;
    QTest::newRow("space") << "1.2.3.4: 51820" << false << "" << 0 << false;
    QTest::newRow("empty") << "" << false << "" << 0 << false;
}

void TestIpAddress::endpoint() {
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(bool, literal);
    const auto e = EndpointSpec::parse(ss(text));
    QCOMPARE(e.has_value(), ok);
    if (!ok)
        return;
    QCOMPARE(qs(e->host), host);
    QCOMPARE(int(e->port), port);
    QCOMPARE(e->literalAddress().has_value(), literal);
    QCOMPARE(qs(e->toString()), text);
    QCOMPARE(*EndpointSpec::parse(e->toString()), *e);
}

void TestIpAddress::socketAddress_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("canonical");
    QTest::newRow("v4") << "192.0.2.1:51820" << true << "192.0.2.1:51820";
    QTest::newRow("v6") << "[2001:DB8:0:0::1]:51820" << true << "[2001:db8::1]:51820";
    QTest::newRow("mapped") << "[::ffff:192.0.2.1]:1" << true << "[::ffff:192.0.2.1]:1";
    QTest::newRow("name") << "vpn.example.com:51820" << false << "";
    QTest::newRow("port 0") << "192.0.2.1:0" << false << "";
    QTest::newRow("v4 bracketed") << "[192.0.2.1]:51820" << false << "";
    QTest::newRow("v6 unbracketed") << "::1:51820" << false << "";
    QTest::newRow("no port") << "192.0.2.1" << false << "";
    QTest::newRow("junk") << "192.0.2.1:51820x" << false << "";
}

void TestIpAddress::socketAddress() {
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, canonical);
    const auto s = SocketAddress::parse(ss(text));
    QCOMPARE(s.has_value(), ok);
    if (!ok)
        return;
    QCOMPARE(qs(s->toString()), canonical);
    QCOMPARE(*SocketAddress::parse(s->toString()), *s);
}

// Random strings over the address alphabet, accepted or refused exactly as glibc's inet_pton
// does. glibc is the reference for both families: it rejects leading zeros in dotted quads too.
#if !defined(_WIN32)
void TestIpAddress::differentialParseAgainstInetPton() {
    std::mt19937 rng(20240611);
    static constexpr char kAlphabet[] = "0123456789abcdefABCDEF:.::..0000g%";
    std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlphabet) - 2);
    std::uniform_int_distribution<int> length(0, 24);
    int accepted = 0;
    for (int i = 0; i < 300000; ++i) {
        std::string text;
        const int n = length(rng);
        for (int j = 0; j < n; ++j)
            text += kAlphabet[pick(rng)];
        // Bias some inputs towards valid shapes so both outcomes are exercised.
        if (i % 3 == 0 && !text.empty())
            text[std::min<std::size_t>(text.size() - 1, 2)] = ':';

        unsigned char ref[16] = {};
        const bool isV6 = text.find(':') != std::string::npos;
        const int rc = inet_pton(isV6 ? AF_INET6 : AF_INET, text.c_str(), ref);
        const auto ours = IpAddress::parse(text);
        if (ours.has_value() != (rc == 1))
            QFAIL(qPrintable(QStringLiteral("'%1': ours %2, inet_pton %3")
                                 .arg(qs(text))
                                 .arg(ours.has_value())
                                 .arg(rc)));
        if (ours) {
            ++accepted;
            QCOMPARE(std::memcmp(ours->bytes.data(), ref, ours->byteLength()), 0);
        }
    }
    QVERIFY2(accepted > 1000, qPrintable(QString::number(accepted)));
}

// Random IPv6 addresses with many zero groups, formatted as glibc's inet_ntop does. glibc also
// follows RFC 5952 except that it writes IPv4-compatible addresses (::a.b.c.d, deprecated by
// RFC 4291 §2.5.5.1) in dotted form, which RFC 5952 §5 does not ask for; those are skipped.
void TestIpAddress::differentialFormatAgainstInetNtop() {
    std::mt19937 rng(5952);
    std::uniform_int_distribution<int> coin(0, 2);
    std::uniform_int_distribution<int> word(0, 0xffff);
    int compared = 0;
    for (int i = 0; i < 200000; ++i) {
        std::array<std::uint8_t, 16> b{};
        for (std::size_t w = 0; w < 8; ++w) {
            const int v = coin(rng) == 0 ? word(rng) : (coin(rng) == 0 ? 1 : 0);
            b[2 * w] = std::uint8_t(v >> 8);
            b[2 * w + 1] = std::uint8_t(v);
        }
        if (i % 7 == 0) { // mapped addresses
            std::fill(b.begin(), b.begin() + 10, 0);
            b[10] = b[11] = 0xff;
        }
        const bool compat = std::all_of(b.begin(), b.begin() + 12, [](auto x) { return x == 0; }) &&
                            (b[12] | b[13]) != 0;
        const IpAddress a = IpAddress::v6(b);
        const auto back = IpAddress::parse(a.toString());
        QVERIFY(back);
        QCOMPARE(*back, a);
        if (compat)
            continue;
        char ref[INET6_ADDRSTRLEN] = {};
        QVERIFY(inet_ntop(AF_INET6, b.data(), ref, sizeof ref));
        if (a.toString() != ref)
            QFAIL(qPrintable(QStringLiteral("ours %1, inet_ntop %2").arg(qs(a.toString()), ref)));
        ++compared;
    }
    QVERIFY(compared > 100000);
}
#endif

QTEST_APPLESS_MAIN(TestIpAddress)
#include "tst_ipaddress.moc"
