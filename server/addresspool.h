// AddressPool: which overlay address index a new node gets (docs/protocol.md "Addresses").
// Fresh indexes are handed out in order while the prefix has any; after that, the index of a
// deleted node, once it has been free for the quarantine (packets for the old node may still
// be in flight, and a peer may still route to it). 507 when neither is left. Writes only inside
// Storage::beginWrite()/commit(): the networks row lock keeps two writers from taking one index.
#pragma once

#include "server/apierror.h"

namespace calnet::server {

class Storage;

class AddressPool {
public:
    struct Usage {
        qint64 capacity = 0;    // indexes the prefix holds
        qint64 used = 0;        // held by nodes
        qint64 quarantined = 0; // freed, not yet usable again
    };

    explicit AddressPool(Storage& storage) : m_s(storage) {}

    ApiError allocate(qint64 capacity, qint64 now, qint64 quarantineSeconds, qint64* index);
    // A deleted node's index joins the free list, usable again after the quarantine.
    ApiError release(qint64 index, qint64 now);
    ApiError usage(qint64 capacity, qint64 now, qint64 quarantineSeconds, Usage* out);

private:
    Storage& m_s;
};

} // namespace calnet::server
