// ChangeLog: the changes table, what a map stream resends since a given sequence number, over
// Storage's connection. append() and prune() only inside Storage::beginWrite()/commit().
#pragma once

#include <QList>
#include <QString>

#include "server/apierror.h"

namespace calnet::server {

class Storage;

struct ChangeRecord {
    qint64 seq = 0;
    qint64 nodeId = 0;
    QString kind; // "upsert", "remove", "expire"
};

class ChangeLog {
public:
    explicit ChangeLog(Storage& storage) : m_s(storage) {}

    // The last change number; *pruned: changes up to this number are gone (see prune).
    ApiError currentSeq(qint64* seq, qint64* pruned = nullptr);
    ApiError after(qint64 seq, QList<ChangeRecord>* out);
    // The highest change number recorded before `before` (0 when there is none).
    ApiError prunableThrough(qint64 before, qint64* seq);

    ApiError append(qint64 nodeId, const QString& kind, qint64 now, qint64* seq = nullptr);
    // Deletes the changes numbered up to `through` and records it as networks.pruned_seq.
    ApiError prune(qint64 through);

private:
    Storage& m_s;
};

} // namespace calnet::server
