#include "server/addresspool.h"

#include <QSqlQuery>

#include "server/storage.h"

namespace calnet::server {

ApiError AddressPool::allocate(qint64 capacity, qint64 now, qint64 quarantineSeconds,
                               qint64* index) {
    const QString what = QStringLiteral("allocating an address");
    qint64 next = 0;
    if (ApiError e =
            m_s.scalar(what, QStringLiteral("SELECT next_index FROM networks WHERE id = ?"),
                       {Storage::kNetwork}, &next)) {
        return e;
    }
    if (next <= capacity) {
        *index = next;
        return m_s.run(what, QStringLiteral("UPDATE networks SET next_index = ? WHERE id = ?"),
                       {next + 1, Storage::kNetwork});
    }
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q,
                  QStringLiteral("SELECT addr_index FROM free_addresses WHERE network = ? AND "
                                 "freed <= ? ORDER BY freed, addr_index LIMIT 1"),
                  {Storage::kNetwork, now - quarantineSeconds})) {
        return m_s.failure(what);
    }
    if (!q.next()) {
        return ApiError::exhausted(QStringLiteral("no overlay address left in this network"));
    }
    *index = q.value(0).toLongLong();
    q.finish();
    return m_s.run(
        what, QStringLiteral("DELETE FROM free_addresses WHERE network = ? AND addr_index = ?"),
        {Storage::kNetwork, *index});
}

ApiError AddressPool::release(qint64 index, qint64 now) {
    return m_s.run(QStringLiteral("freeing an address"),
                   QStringLiteral("INSERT INTO free_addresses (network, addr_index, freed) "
                                  "VALUES (?, ?, ?)"),
                   {Storage::kNetwork, index, now});
}

ApiError AddressPool::usage(qint64 capacity, qint64 now, qint64 quarantineSeconds, Usage* out) {
    out->capacity = capacity;
    const QString what = QStringLiteral("counting addresses");
    if (ApiError e =
            m_s.scalar(what, QStringLiteral("SELECT COUNT(*) FROM nodes WHERE network = ?"),
                       {Storage::kNetwork}, &out->used)) {
        return e;
    }
    return m_s.scalar(what,
                      QStringLiteral("SELECT COUNT(*) FROM free_addresses WHERE network = ? AND "
                                     "freed > ?"),
                      {Storage::kNetwork, now - quarantineSeconds}, &out->quarantined);
}

} // namespace calnet::server
