// KeyTable: pre-auth keys (their users are in UserTable) over Storage's connection. Reads work
// anywhere; writes only inside Storage::beginWrite()/commit() (Registry holds the rules).
#pragma once

#include <optional>

#include <QJsonObject>
#include <QList>
#include <QStringList>

#include "server/apierror.h"

namespace calnet::server {

class Storage;

struct AuthKeyRecord {
    QString id;
    QByteArray hash;
    qint64 userId = 0;
    QString user;
    bool reusable = false;
    QStringList tags;
    qint64 created = 0;
    qint64 expires = 0; // 0 = never
    bool used = false;
    bool revoked = false;
    qint64 maxUses = 0; // a reusable key's registrations before it is used up; 0 = no limit
    qint64 uses = 0;    // registrations made with it

    QJsonObject toJson() const; // never the key or its hash
};

class KeyTable {
public:
    explicit KeyTable(Storage& storage) : m_s(storage) {}

    ApiError authKey(const QString& id, std::optional<AuthKeyRecord>* out);
    ApiError authKeys(QList<AuthKeyRecord>* out);

    // Writes.
    ApiError insertAuthKey(const AuthKeyRecord& key);
    // One registration with a key: a one-time key only if unused (UPDATE ... WHERE used = 0), a
    // reusable one only below its use limit; *won says whether this call got it.
    ApiError consumeAuthKey(const QString& id, bool reusable, bool* won);
    ApiError revokeAuthKey(const QString& id, bool* found);

private:
    Storage& m_s;
};

} // namespace calnet::server
