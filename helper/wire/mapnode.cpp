#include "helper/wire/mapnode.h"

#include <algorithm>
#include <limits>

#include "core/config/keyencoding.h"

namespace calnet::wire {

using namespace Qt::StringLiterals;

namespace {

QStringList strings(const QJsonValue& v) {
    QStringList out;
    for (const QJsonValue& item : v.toArray())
        if (item.isString())
            out << item.toString();
    return out;
}

std::optional<crypto::PublicKey> decodeKey(const QString& text) {
    const QByteArray latin = text.toLatin1();
    auto bytes = config::decodeKeyBase64(std::string_view(latin.constData(), latin.size()));
    if (!bytes)
        return std::nullopt;
    crypto::PublicKey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    return key;
}

int port(const QJsonValue& v) {
    const int p = v.toInt(0);
    return p > 0 && p < 65536 ? p : 0;
}

} // namespace

std::optional<MapNode> MapNode::fromJson(const QJsonObject& o) {
    MapNode n;
    const auto id = jsonInteger(o.value("id"_L1));
    if (!id || *id <= 0)
        return std::nullopt;
    n.id = *id;
    n.nodeKey = o.value("nodeKey"_L1).toString();
    if (!decodeKey(n.nodeKey))
        return std::nullopt;
    n.discoKey = o.value("discoKey"_L1).toString();
    n.hostname = o.value("hostname"_L1).toString();
    n.os = o.value("os"_L1).toString();
    n.user = o.value("user"_L1).toString();
    n.addresses = strings(o.value("addresses"_L1));
    n.endpoints = strings(o.value("endpoints"_L1));
    if (const QString relay = o.value("relay"_L1).toString(); isValidRelayName(relay))
        n.relay = relay;
    n.online = o.value("online"_L1).toBool();
    n.lastSeen = jsonInteger(o.value("lastSeen"_L1)).value_or(0);
    n.keyExpiry = jsonInteger(o.value("keyExpiry"_L1)).value_or(0);
    return n;
}

QJsonObject MapNode::toJson() const {
    return {{"id"_L1, id},
            {"nodeKey"_L1, nodeKey},
            {"discoKey"_L1, discoKey},
            {"hostname"_L1, hostname},
            {"os"_L1, os},
            {"user"_L1, user},
            {"addresses"_L1, QJsonArray::fromStringList(addresses)},
            {"endpoints"_L1, QJsonArray::fromStringList(endpoints)},
            {"relay"_L1, relay},
            {"online"_L1, online},
            {"lastSeen"_L1, lastSeen},
            {"keyExpiry"_L1, keyExpiry}};
}

std::optional<crypto::PublicKey> MapNode::publicKey() const {
    return decodeKey(nodeKey);
}

std::optional<RelayRegion> RelayRegion::fromJson(const QJsonObject& o) {
    RelayRegion r;
    r.name = o.value("name"_L1).toString();
    if (!isValidRelayName(r.name))
        return std::nullopt;
    r.url = o.value("url"_L1).toString();
    r.stunHost = o.value("stunHost"_L1).toString();
    r.stunPort = port(o.value("stunPort"_L1));
    r.stunAltPort = r.stunPort ? port(o.value("stunAltPort"_L1)) : 0;
    return r;
}

QJsonObject RelayRegion::toJson() const {
    QJsonObject o{{"name"_L1, name}};
    if (!url.isEmpty())
        o.insert("url"_L1, url);
    if (!stunHost.isEmpty())
        o.insert("stunHost"_L1, stunHost);
    if (stunPort)
        o.insert("stunPort"_L1, stunPort);
    if (stunAltPort)
        o.insert("stunAltPort"_L1, stunAltPort);
    return o;
}

std::optional<qint64> jsonInteger(const QJsonValue& v) {
    constexpr qint64 kNot = std::numeric_limits<qint64>::min();
    if (!v.isDouble())
        return std::nullopt;
    const qint64 i = v.toInteger(kNot);
    if (i == kNot)
        return std::nullopt;
    return i;
}

bool isValidRelayName(const QString& name) {
    if (name.isEmpty() || name.size() > 32 || name.front() == QLatin1Char('-'))
        return false;
    for (const QChar c : name)
        if (!((c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
              (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-')))
            return false;
    return true;
}

std::vector<RelayRegion> relaysFromJson(const QJsonArray& array) {
    std::vector<RelayRegion> out;
    for (const QJsonValue& v : array)
        if (auto r = RelayRegion::fromJson(v.toObject()))
            out.push_back(std::move(*r));
    return out;
}

QJsonArray toJson(const std::vector<RelayRegion>& relays) {
    QJsonArray out;
    for (const RelayRegion& r : relays)
        out.append(r.toJson());
    return out;
}

} // namespace calnet::wire
