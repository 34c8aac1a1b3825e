#include "server/overlayprefixes.h"

#include <algorithm>

#include <QPair>

namespace calnet::server {

bool OverlayPrefixes::set(const QString& prefix4, const QString& prefix6, QString* error) {
    const QPair<QHostAddress, int> p4 = QHostAddress::parseSubnet(prefix4);
    if (p4.first.protocol() != QAbstractSocket::IPv4Protocol || p4.second < 8 || p4.second > 30 ||
        !prefix4.contains(QLatin1Char('/'))) {
        *error = QStringLiteral("bad IPv4 prefix %1 (want a.b.c.d/8..30)").arg(prefix4);
        return false;
    }
    const quint32 mask4 = p4.second == 0 ? 0 : ~quint32(0) << (32 - p4.second);
    if ((p4.first.toIPv4Address() & ~mask4) != 0) {
        *error = QStringLiteral("IPv4 prefix %1 has host bits set").arg(prefix4);
        return false;
    }
    const QPair<QHostAddress, int> p6 = QHostAddress::parseSubnet(prefix6);
    if (p6.first.protocol() != QAbstractSocket::IPv6Protocol || p6.second < 64 || p6.second > 120 ||
        !prefix6.contains(QLatin1Char('/'))) {
        *error = QStringLiteral("bad IPv6 prefix %1 (want v6::/64..120)").arg(prefix6);
        return false;
    }
    const Q_IPV6ADDR a6 = p6.first.toIPv6Address();
    for (int bit = p6.second; bit < 128; ++bit) {
        if (a6[bit / 8] & (0x80 >> (bit % 8))) {
            *error = QStringLiteral("IPv6 prefix %1 has host bits set").arg(prefix6);
            return false;
        }
    }
    m_net4 = p4.first;
    m_len4 = p4.second;
    m_net6 = p6.first;
    m_len6 = p6.second;
    m_text4 = m_net4.toString() + QLatin1Char('/') + QString::number(m_len4);
    m_text6 = m_net6.toString() + QLatin1Char('/') + QString::number(m_len6);
    return true;
}

qint64 OverlayPrefixes::capacity() const {
    const qint64 hosts4 = (qint64(1) << (32 - m_len4)) - 2; // no network, no broadcast address
    const int bits6 = 128 - m_len6;
    const qint64 hosts6 = bits6 >= 62 ? (qint64(1) << 62) : (qint64(1) << bits6) - 1;
    return std::min(hosts4, hosts6);
}

QStringList OverlayPrefixes::addresses(qint64 index) const {
    const QHostAddress v4(m_net4.toIPv4Address() + quint32(index));
    Q_IPV6ADDR a6 = m_net6.toIPv6Address();
    quint64 carry = quint64(index);
    for (int i = 15; i >= 0 && carry != 0; --i) {
        const quint64 sum = quint64(a6[i]) + (carry & 0xff);
        a6[i] = quint8(sum & 0xff);
        carry = (carry >> 8) + (sum >> 8);
    }
    return {v4.toString() + QStringLiteral("/32"),
            QHostAddress(a6).toString() + QStringLiteral("/128")};
}

} // namespace calnet::server
