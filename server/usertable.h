// UserTable: the users of the network over Storage's connection: those named by pre-auth keys
// (`authkey create --user NAME`), and those who signed in with an OpenID provider, known by
// issuer and subject (OpenID Connect Core §5.7: the pair is the stable identifier; the email
// may change). Reads work anywhere; writes only inside Storage::beginWrite()/commit().
#pragma once

#include <optional>

#include <QList>
#include <QString>

#include "server/apierror.h"

namespace calnet::server {

class Storage;

struct UserRecord {
    qint64 id = 0;
    QString name;
    qint64 created = 0;
    qint64 nodes = 0;
    QString issuer; // "" for users of pre-auth keys
    QString subject;
    QString email;
    QString displayName;
    bool disabled = false;
};

// What an OpenID provider said about the person signing in.
struct Identity {
    QString issuer;
    QString subject;
    QString email;
    QString displayName;
};

class UserTable {
public:
    explicit UserTable(Storage& storage) : m_s(storage) {}

    ApiError users(QList<UserRecord>* out);
    ApiError get(qint64 id, std::optional<UserRecord>* out);

    // Writes.
    ApiError ensureUser(const QString& name, qint64 now, qint64* id);
    // The user of this identity, created on first sign-in (named by the email, else by the
    // subject, made unique with " (2)", …); email and name updated when they changed.
    ApiError ensureIdentityUser(const Identity& identity, qint64 now, UserRecord* out);
    ApiError setDisabled(qint64 id, bool disabled, bool* found);
    // The user who signed in as this issuer and subject, if any.
    ApiError byIdentity(const QString& issuer, const QString& subject,
                        std::optional<UserRecord>* out);

private:
    Storage& m_s;
};

} // namespace calnet::server
