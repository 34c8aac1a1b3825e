// OverlayPrefixes: the network's IPv4 and IPv6 prefixes and the addresses of an overlay index.
//
// Node n (its never-reused addr_index) gets the n-th host of each prefix: with 100.70.0.0/24 and
// fd70:6361:6c6e::/64, index 7 is 100.70.0.7/32 and fd70:6361:6c6e::7/128. Index 0 (the network
// address) and the IPv4 broadcast address are never handed out, so indexes run 1..capacity().
#pragma once

#include <QHostAddress>
#include <QString>
#include <QStringList>

namespace calnet::server {

class OverlayPrefixes {
public:
    // Parses "a.b.c.d/len" (len 8..30) and "v6::/len" (len 64..120). False with *error set on
    // anything else, including host bits set in the prefix.
    bool set(const QString& prefix4, const QString& prefix6, QString* error);

    QStringList prefixes() const { return {m_text4, m_text6}; }
    // Highest usable index (limited by the IPv4 prefix, the smaller one).
    qint64 capacity() const;
    // ["100.70.0.7/32", "fd70:6361:6c6e::7/128"]; index must be in 1..capacity().
    QStringList addresses(qint64 index) const;

private:
    QHostAddress m_net4;
    int m_len4 = 24;
    QHostAddress m_net6;
    int m_len6 = 64;
    QString m_text4;
    QString m_text6;
};

} // namespace calnet::server
