// The coordination protocol's wire types that calnet-server writes and calnetd reads
// (docs/protocol.md "GET /api/v1/map", "GET /api/v1/info"): one definition for both sides.
//
// MapNode is one node object of a `map` or `delta`; RelayRegion one entry of `relays`. The
// server builds them from its tables and sends toJson(); calnetd reads them with fromJson(),
// which checks types and refuses what cannot be used.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

#include "core/crypto/x25519.h"

namespace calnet::wire {

struct MapNode {
    qint64 id = 0;
    QString nodeKey; // base64, 44 characters
    QString discoKey;
    QString hostname;
    QString os;
    QString user;
    QStringList addresses; // "100.70.0.7/32", "fd70:6361:6c6e::7/128"
    QStringList endpoints; // "192.168.1.20:41641", "[2001:db8::20]:41641"
    QString relay;         // the node's home relay region ("" = not reported yet)
    bool online = false;
    qint64 lastSeen = 0;
    qint64 keyExpiry = 0;

    // nullopt when `id` is not a positive integer or `nodeKey` is not a 32-byte base64 key;
    // other fields are taken as far as they have the right type.
    [[nodiscard]] static std::optional<MapNode> fromJson(const QJsonObject& o);
    // The node object, every field present (fromJson(toJson()) gives it back).
    [[nodiscard]] QJsonObject toJson() const;
    [[nodiscard]] std::optional<crypto::PublicKey> publicKey() const;

    friend bool operator==(const MapNode&, const MapNode&) = default;
};

// A relay region: its relay (on the server's own listener when `url` is empty) and its STUN
// listener (at the server URL's host when `stunHost` is empty; none when stunPort is 0), with
// a second STUN port that tells a symmetric NAT (stunAltPort, 0 = none).
struct RelayRegion {
    QString name;
    QString url;
    QString stunHost;
    int stunPort = 0;
    int stunAltPort = 0;

    // nullopt without a valid name; ports outside 1-65535 read as 0.
    [[nodiscard]] static std::optional<RelayRegion> fromJson(const QJsonObject& o);
    // Only the fields that are set (name always).
    [[nodiscard]] QJsonObject toJson() const;

    friend bool operator==(const RelayRegion&, const RelayRegion&) = default;
};

// A relay region's name: 1-32 of a-z, 0-9 and '-', starting with a letter or digit.
[[nodiscard]] bool isValidRelayName(const QString& name);
[[nodiscard]] std::vector<RelayRegion> relaysFromJson(const QJsonArray& array);
// A JSON number that is an integer (sequence numbers, ids, times); nullopt for anything else.
[[nodiscard]] std::optional<qint64> jsonInteger(const QJsonValue& v);
[[nodiscard]] QJsonArray toJson(const std::vector<RelayRegion>& relays);

} // namespace calnet::wire
