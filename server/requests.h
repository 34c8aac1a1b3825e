// Requests: strict parsing of every JSON message a client sends (docs/protocol.md).
//
// Strict means: the body is one JSON object; every field has the contract's type; unknown
// fields are refused, so a typo never silently does nothing; strings are length- and
// charset-checked; keys decode to exactly 32 bytes. The parsers never touch storage, so a
// refused request cannot have changed anything.
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include "server/apierror.h"
#include "server/nodetable.h"

namespace calnet::server {

constexpr qsizetype kMaxBodyBytes = 64 * 1024;

struct RegisterRequest {
    QString nodeKey;
    QString discoKey;
    QString hostname; // lowercased
    QString os;
    QString clientVersion;
    QString authKey;    // empty if not given
    QString credential; // empty if not given
    QString idToken;    // an OpenID Connect ID token (SSO); empty if not given
    QString nonce;      // the nonce the client sent with the sign-in that made idToken
};
ApiError parseRegisterRequest(const QByteArray& body, RegisterRequest* out);

struct CreateAuthKeyRequest {
    QString user = QStringLiteral("default");
    bool reusable = false;
    qint64 expiresIn = 86400; // seconds; the contract's default is one day
    QStringList tags;
    qint64 maxUses = 0; // reusable keys: registrations allowed; 0 = no limit
};
ApiError parseCreateAuthKeyRequest(const QByteArray& body, CreateAuthKeyRequest* out);

struct HelloMessage {
    qint64 nodeId = 0;
    QString credential;
    qint64 since = 0;
    NodeReport report;
};
// Map stream messages; return an empty string or the reason to close with 4400.
QString parseHello(const QJsonObject& message, HelloMessage* out);
QString parseEndpointsMessage(const QJsonObject& message, NodeReport* report);

bool isValidHostname(const QString& hostname);
bool isValidUserName(const QString& name);
bool isValidTag(const QString& tag);
// "192.0.2.1:41641" or "[2001:db8::1]:41641" with a port 1-65535.
bool isValidEndpoint(const QString& endpoint);

} // namespace calnet::server
