// MeshProfile: a "Calnet network" profile — this device's identity in one calnet-server network
// (docs/protocol.md "Control plane"). Stored by ProfileStore as <name>.mesh (JSON, 0600) next
// to the wg-quick profiles:
//
//   {"kind": "mesh", "version": 1, "server": "https://calnet.example.com",
//    "nodePrivateKey": b64, "discoPrivateKey": b64, "hostname": "laptop", "listenPort": 41641,
//    "nodeId": 7|0, "credential": "calnet-node-7-…"|"", "user": "default", "network": "default",
//    "addresses": ["100.70.0.7/32", …], "prefixes": ["100.70.0.0/24", …], "keyExpiry": 178…}
//
// The private keys are made by calnetd (generatePrivateKey) and never leave it; the credential
// is replaced by every registration. nodeId 0 means "never registered".
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <cstdint>
#include <optional>

#include "core/crypto/x25519.h"

namespace calnet::helper {

struct MeshProfile {
    QString server; // base URL, http(s)://host[:port][/prefix]
    crypto::PrivateKey nodeKey;
    crypto::PrivateKey discoKey;
    QString hostname;
    std::uint16_t listenPort = 0;
    qint64 nodeId = 0;
    QString credential;
    QString user;
    QString network;
    QStringList addresses; // overlay addresses, "100.70.0.7/32"
    QStringList prefixes;  // overlay prefixes, routed to the interface
    qint64 keyExpiry = 0;

    // Fresh keys and a random listen port in 41642..65000.
    [[nodiscard]] static MeshProfile create(const QString& server, const QString& hostname);

    [[nodiscard]] bool registered() const { return nodeId > 0 && !credential.isEmpty(); }
    [[nodiscard]] QString nodePublicKeyBase64() const;
    [[nodiscard]] QString discoPublicKeyBase64() const;

    // With secrets: only for the file.
    [[nodiscard]] QJsonObject toJson() const;
    // nullopt and a reason when the object is not a valid mesh profile.
    [[nodiscard]] static std::optional<MeshProfile> fromJson(const QJsonObject& o,
                                                             QString* error = nullptr);
};

// "calnet-<host>" cut to a valid profile name.
[[nodiscard]] QString defaultMeshProfileName(const QString& serverUrl);
// A hostname the server accepts (1-63 of [A-Za-z0-9-]) derived from this machine's name.
[[nodiscard]] QString defaultMeshHostname();

} // namespace calnet::helper
