#include "server/keytable.h"

#include <QJsonArray>
#include <QSqlQuery>

#include "server/storage.h"

namespace calnet::server {

namespace {

const QString kAuthKeyColumns = QStringLiteral(
    "SELECT k.id, k.hash, k.user_id, u.name, k.reusable, k.tags, k.created, k.expires, k.used, "
    "k.revoked, k.max_uses, k.uses FROM authkeys k JOIN users u ON u.id = k.user_id ");

AuthKeyRecord readAuthKey(const QSqlQuery& q) {
    AuthKeyRecord k;
    k.id = q.value(0).toString();
    k.hash = q.value(1).toString().toLatin1();
    k.userId = q.value(2).toLongLong();
    k.user = q.value(3).toString();
    k.reusable = q.value(4).toLongLong() != 0;
    k.tags = Storage::jsonToList(q.value(5).toString());
    k.created = q.value(6).toLongLong();
    k.expires = q.value(7).toLongLong();
    k.used = q.value(8).toLongLong() != 0;
    k.revoked = q.value(9).toLongLong() != 0;
    k.maxUses = q.value(10).toLongLong();
    k.uses = q.value(11).toLongLong();
    return k;
}

} // namespace

QJsonObject AuthKeyRecord::toJson() const {
    return QJsonObject{
        {QStringLiteral("id"), id},
        {QStringLiteral("user"), user},
        {QStringLiteral("reusable"), reusable},
        {QStringLiteral("tags"), QJsonArray::fromStringList(tags)},
        {QStringLiteral("createdAt"), created},
        {QStringLiteral("expiresAt"), expires == 0 ? QJsonValue() : QJsonValue(expires)},
        {QStringLiteral("used"), used},
        {QStringLiteral("revoked"), revoked},
        {QStringLiteral("maxUses"), maxUses == 0 ? QJsonValue() : QJsonValue(maxUses)},
        {QStringLiteral("uses"), uses},
    };
}

ApiError KeyTable::authKey(const QString& id, std::optional<AuthKeyRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kAuthKeyColumns + QStringLiteral("WHERE k.id = ?"), {id})) {
        return m_s.failure(QStringLiteral("reading a pre-auth key"));
    }
    *out = q.next() ? std::optional(readAuthKey(q)) : std::nullopt;
    return {};
}

ApiError KeyTable::authKeys(QList<AuthKeyRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kAuthKeyColumns + QStringLiteral("ORDER BY k.created, k.id"))) {
        return m_s.failure(QStringLiteral("listing pre-auth keys"));
    }
    out->clear();
    while (q.next()) {
        out->append(readAuthKey(q));
    }
    return {};
}

ApiError KeyTable::insertAuthKey(const AuthKeyRecord& k) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(
            q,
            QStringLiteral("INSERT INTO authkeys (id, hash, user_id, reusable, tags, "
                           "created, expires, used, revoked, max_uses, uses) VALUES (?, ?, ?, "
                           "?, ?, ?, ?, 0, 0, ?, 0)"),
            {k.id, QString::fromLatin1(k.hash), k.userId, int(k.reusable),
             Storage::listToJson(k.tags), k.created, k.expires, k.maxUses})) {
        return m_s.failure(QStringLiteral("storing a pre-auth key"));
    }
    return {};
}

ApiError KeyTable::consumeAuthKey(const QString& id, bool reusable, bool* won) {
    return m_s.run(QStringLiteral("using a pre-auth key"),
                   reusable ? QStringLiteral("UPDATE authkeys SET used = 1, uses = uses + 1 WHERE "
                                             "id = ? AND revoked = 0 AND (max_uses = 0 OR uses "
                                             "< max_uses)")
                            : QStringLiteral("UPDATE authkeys SET used = 1, uses = 1 WHERE id = ? "
                                             "AND used = 0 AND revoked = 0"),
                   {id}, won);
}

ApiError KeyTable::revokeAuthKey(const QString& id, bool* found) {
    return m_s.run(QStringLiteral("revoking a pre-auth key"),
                   QStringLiteral("UPDATE authkeys SET revoked = 1 WHERE id = ?"), {id}, found);
}

} // namespace calnet::server
