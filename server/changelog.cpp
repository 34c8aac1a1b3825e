#include "server/changelog.h"

#include <QSqlQuery>

#include "server/storage.h"

namespace calnet::server {

ApiError ChangeLog::currentSeq(qint64* seq, qint64* pruned) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, QStringLiteral("SELECT last_seq, pruned_seq FROM networks WHERE id = ?"),
                  {Storage::kNetwork}) ||
        !q.next()) {
        return m_s.failure(QStringLiteral("reading the change sequence"));
    }
    *seq = q.value(0).toLongLong();
    if (pruned) {
        *pruned = q.value(1).toLongLong();
    }
    return {};
}

ApiError ChangeLog::after(qint64 seq, QList<ChangeRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q,
                  QStringLiteral("SELECT seq, node_id, kind FROM changes WHERE network = ? AND "
                                 "seq > ? ORDER BY seq"),
                  {Storage::kNetwork, seq})) {
        return m_s.failure(QStringLiteral("reading changes"));
    }
    out->clear();
    while (q.next()) {
        out->append({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString()});
    }
    return {};
}

ApiError ChangeLog::append(qint64 nodeId, const QString& kind, qint64 now, qint64* seq) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, QStringLiteral("UPDATE networks SET last_seq = last_seq + 1 WHERE id = ?"),
                  {Storage::kNetwork}) ||
        !m_s.exec(q, QStringLiteral("SELECT last_seq FROM networks WHERE id = ?"),
                  {Storage::kNetwork}) ||
        !q.next()) {
        return m_s.failure(QStringLiteral("recording a change"));
    }
    const qint64 s = q.value(0).toLongLong();
    q.finish();
    if (!m_s.exec(q,
                  QStringLiteral("INSERT INTO changes (network, seq, node_id, kind, at) VALUES "
                                 "(?, ?, ?, ?, ?)"),
                  {Storage::kNetwork, s, nodeId, kind, now})) {
        return m_s.failure(QStringLiteral("recording a change"));
    }
    m_s.noteChangeAppended();
    if (seq) {
        *seq = s;
    }
    return {};
}

ApiError ChangeLog::prunableThrough(qint64 before, qint64* seq) {
    return m_s.scalar(
        QStringLiteral("looking for old changes"),
        QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE network = ? AND at < ?"),
        {Storage::kNetwork, before}, seq);
}

ApiError ChangeLog::prune(qint64 through) {
    const QString what = QStringLiteral("pruning changes");
    if (ApiError e =
            m_s.run(what, QStringLiteral("DELETE FROM changes WHERE network = ? AND seq <= ?"),
                    {Storage::kNetwork, through})) {
        return e;
    }
    return m_s.run(
        what, QStringLiteral("UPDATE networks SET pruned_seq = ? WHERE id = ? AND pruned_seq < ?"),
        {through, Storage::kNetwork, through});
}

} // namespace calnet::server
