// test::node(): a node object as calnet-server sends it in a map or delta (docs/protocol.md
// "A node object"), for the helper's tests.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace calnet::test {

// A node object as calnet-server sends it.
inline QJsonObject node(qint64 id, const QString& nodeKey, const QString& hostname,
                        const QStringList& endpoints, bool online = true) {
    return QJsonObject{
        {"id", id},
        {"nodeKey", nodeKey},
        {"discoKey", nodeKey},
        {"hostname", hostname},
        {"os", "linux"},
        {"user", "default"},
        {"addresses", QJsonArray{QStringLiteral("100.70.0.%1/32").arg(id),
                                 QStringLiteral("fd70:6361:6c6e::%1/128").arg(id)}},
        {"endpoints", QJsonArray::fromStringList(endpoints)},
        {"online", online},
        {"lastSeen", 1764633600},
        {"keyExpiry", 1780000000},
    };
}

} // namespace calnet::test
