#include "server/servertable.h"

#include "server/storage.h"

namespace calnet::server {

ApiError ServerTable::heartbeat(const QString& server, qint64 now, bool* known) {
    if (ApiError e = m_s.run(QStringLiteral("renewing the heartbeat"),
                             QStringLiteral("UPDATE servers SET heartbeat = ? WHERE id = ?"),
                             {now, server}, known)) {
        return e;
    }
    return *known ? ApiError{}
                  : m_s.run(QStringLiteral("registering this server"),
                            QStringLiteral("INSERT INTO servers (id, started, heartbeat) VALUES "
                                           "(?, ?, ?)"),
                            {server, now, now});
}

ApiError ServerTable::remove(const QString& server) {
    return m_s.run(QStringLiteral("removing this server"),
                   QStringLiteral("DELETE FROM servers WHERE id = ?"), {server});
}

ApiError ServerTable::removeDead(qint64 deadline) {
    return m_s.run(QStringLiteral("removing dead servers"),
                   QStringLiteral("DELETE FROM servers WHERE heartbeat < ?"), {deadline});
}

} // namespace calnet::server
