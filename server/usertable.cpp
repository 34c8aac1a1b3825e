#include "server/usertable.h"

#include <QSqlQuery>

#include "server/storage.h"

namespace calnet::server {

namespace {

const QString kUserColumns = QStringLiteral(
    "SELECT u.id, u.name, u.created, (SELECT COUNT(*) FROM nodes n WHERE n.user_id = u.id), "
    "u.issuer, u.subject, u.email, u.display_name, u.disabled FROM users u ");

UserRecord readUser(const QSqlQuery& q) {
    UserRecord u;
    u.id = q.value(0).toLongLong();
    u.name = q.value(1).toString();
    u.created = q.value(2).toLongLong();
    u.nodes = q.value(3).toLongLong();
    u.issuer = q.value(4).toString();
    u.subject = q.value(5).toString();
    u.email = q.value(6).toString();
    u.displayName = q.value(7).toString();
    u.disabled = q.value(8).toLongLong() != 0;
    return u;
}

} // namespace

ApiError UserTable::users(QList<UserRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kUserColumns + QStringLiteral("WHERE u.network = ? ORDER BY u.id"),
                  {Storage::kNetwork})) {
        return m_s.failure(QStringLiteral("listing users"));
    }
    out->clear();
    while (q.next()) {
        out->append(readUser(q));
    }
    return {};
}

ApiError UserTable::get(qint64 id, std::optional<UserRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kUserColumns + QStringLiteral("WHERE u.id = ?"), {id})) {
        return m_s.failure(QStringLiteral("reading a user"));
    }
    *out = q.next() ? std::optional(readUser(q)) : std::nullopt;
    return {};
}

ApiError UserTable::byIdentity(const QString& issuer, const QString& subject,
                               std::optional<UserRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q,
                  kUserColumns +
                      QStringLiteral("WHERE u.network = ? AND u.issuer = ? AND u.subject = ?"),
                  {Storage::kNetwork, issuer, subject})) {
        return m_s.failure(QStringLiteral("reading a user"));
    }
    *out = q.next() ? std::optional(readUser(q)) : std::nullopt;
    return {};
}

ApiError UserTable::ensureUser(const QString& name, qint64 now, qint64* id) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, QStringLiteral("SELECT id, issuer FROM users WHERE network = ? AND name = ?"),
                  {Storage::kNetwork, name})) {
        return m_s.failure(QStringLiteral("reading a user"));
    }
    if (q.next()) {
        // A person who signs in is bound to the provider: a pre-auth key in their name would
        // make nodes that renew without them.
        if (!q.value(1).toString().isEmpty()) {
            return ApiError::conflict(
                QStringLiteral("%1 signs in with the identity provider; pre-auth keys are for "
                               "other users")
                    .arg(name));
        }
        *id = q.value(0).toLongLong();
        return {};
    }
    q.finish();
    if (!m_s.exec(q, QStringLiteral("INSERT INTO users (network, name, created) VALUES (?, ?, ?)"),
                  {Storage::kNetwork, name, now}) ||
        !m_s.exec(q, QStringLiteral("SELECT id FROM users WHERE network = ? AND name = ?"),
                  {Storage::kNetwork, name}) ||
        !q.next()) {
        return m_s.failure(QStringLiteral("creating a user"));
    }
    *id = q.value(0).toLongLong();
    return {};
}

ApiError UserTable::ensureIdentityUser(const Identity& identity, qint64 now, UserRecord* out) {
    std::optional<UserRecord> user;
    if (ApiError e = byIdentity(identity.issuer, identity.subject, &user)) {
        return e;
    }
    if (user) {
        if (user->email != identity.email || user->displayName != identity.displayName) {
            if (ApiError e = m_s.run(
                    QStringLiteral("updating a user"),
                    QStringLiteral("UPDATE users SET email = ?, display_name = ? WHERE id = ?"),
                    {identity.email, identity.displayName, user->id})) {
                return e;
            }
            user->email = identity.email;
            user->displayName = identity.displayName;
        }
        *out = *user;
        return {};
    }
    const QString base = identity.email.isEmpty() ? identity.subject : identity.email;
    QString name = base;
    for (int n = 2;; ++n) {
        qint64 taken = 0;
        if (ApiError e = m_s.scalar(QStringLiteral("reading a user"),
                                    QStringLiteral("SELECT COUNT(*) FROM users WHERE network = ? "
                                                   "AND name = ?"),
                                    {Storage::kNetwork, name}, &taken)) {
            return e;
        }
        if (taken == 0) {
            break;
        }
        if (n > 100) {
            return ApiError::conflict(QStringLiteral("no free user name for %1").arg(base));
        }
        name = QStringLiteral("%1 (%2)").arg(base).arg(n);
    }
    if (ApiError e = m_s.run(QStringLiteral("creating a user"),
                             QStringLiteral("INSERT INTO users (network, name, created, issuer, "
                                            "subject, email, display_name) VALUES (?, ?, ?, ?, ?, "
                                            "?, ?)"),
                             {Storage::kNetwork, name, now, identity.issuer, identity.subject,
                              identity.email, identity.displayName})) {
        return e;
    }
    if (ApiError e = byIdentity(identity.issuer, identity.subject, &user); e || !user) {
        return e ? e : ApiError::internal(QStringLiteral("user vanished"));
    }
    *out = *user;
    return {};
}

ApiError UserTable::setDisabled(qint64 id, bool disabled, bool* found) {
    return m_s.run(QStringLiteral("updating a user"),
                   QStringLiteral("UPDATE users SET disabled = ? WHERE id = ? AND network = ?"),
                   {disabled ? 1 : 0, id, Storage::kNetwork}, found);
}

} // namespace calnet::server
