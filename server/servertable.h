// ServerTable: one row per running calnet-server process and its heartbeat (docs/protocol.md
// "Server processes"). Single statements, outside the network's write lock.
#pragma once

#include <QString>

#include "server/apierror.h"

namespace calnet::server {

class Storage;

class ServerTable {
public:
    explicit ServerTable(Storage& storage) : m_s(storage) {}

    // Renews this process's row or inserts it (*known = false then: new, or removed by another
    // server that took this one for dead).
    ApiError heartbeat(const QString& server, qint64 now, bool* known);
    ApiError remove(const QString& server);
    // Rows whose heartbeat is older than `deadline`.
    ApiError removeDead(qint64 deadline);

private:
    Storage& m_s;
};

} // namespace calnet::server
