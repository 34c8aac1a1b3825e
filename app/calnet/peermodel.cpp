#include "app/calnet/peermodel.h"

#include <QColor>
#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QLocale>
#include <QSet>

#include <limits>

#include <algorithm>

namespace calnet::app {

namespace {

std::optional<qint64> optionalInt(const QJsonObject& o, QLatin1StringView key) {
    const QJsonValue v = o.value(key);
    if (!v.isDouble())
        return std::nullopt;
    return qint64(v.toDouble());
}

} // namespace

std::optional<PeerInfo> PeerInfo::fromJson(const QJsonObject& peer) {
    PeerInfo p;
    p.publicKey = peer.value(QLatin1StringView("publicKey")).toString();
    if (p.publicKey.isEmpty())
        return std::nullopt;
    p.name = peer.value(QLatin1StringView("name")).toString();
    for (const QJsonValue& v : peer.value(QLatin1StringView("allowedIps")).toArray())
        if (v.isString())
            p.allowedIps << v.toString();
    p.endpoint = peer.value(QLatin1StringView("endpoint")).toString();
    p.lastHandshake = optionalInt(peer, QLatin1StringView("lastHandshake"));
    p.reportedAge = optionalInt(peer, QLatin1StringView("handshakeAgeSeconds"));
    p.rxBytes = optionalInt(peer, QLatin1StringView("rxBytes")).value_or(0);
    p.txBytes = optionalInt(peer, QLatin1StringView("txBytes")).value_or(0);
    p.persistentKeepalive =
        int(optionalInt(peer, QLatin1StringView("persistentKeepalive")).value_or(0));
    const QString path = peer.value(QLatin1StringView("path")).toString();
    if (!path.isEmpty())
        p.path = path;
    p.pathEndpoint = peer.value(QLatin1StringView("pathEndpoint")).toString();
    p.pathReason = peer.value(QLatin1StringView("pathReason")).toString();
    if (const QJsonValue l = peer.value(QLatin1StringView("latencyMs")); l.isDouble())
        p.latencyMs = l.toDouble();
    p.pathSince = optionalInt(peer, QLatin1StringView("pathSince"));
    const QJsonValue online = peer.value(QLatin1StringView("online"));
    if (online.isBool())
        p.online = online.toBool();
    return p;
}

QString PeerInfo::displayName() const {
    if (!name.isEmpty())
        return name;
    return publicKey.left(8) + QChar(0x2026);
}

QList<PeerInfo> peersFromJson(const QJsonObject& data) {
    QList<PeerInfo> out;
    for (const QJsonValue& v : data.value(QLatin1StringView("peers")).toArray())
        if (auto p = PeerInfo::fromJson(v.toObject()))
            out << *p;
    return out;
}

QString formatBytes(qint64 bytes) {
    static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return PeerModel::tr("%n B", nullptr, int(bytes));
    double value = double(bytes);
    int unit = -1;
    while (value >= 1024.0 && unit < 3) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(QLocale().toString(value, 'f', 2),
                                       QLatin1StringView(kUnits[unit]));
}

QString pathText(const PeerInfo& peer) {
    if (peer.online == false)
        return PeerModel::tr("offline");
    QString text;
    if (peer.path == QLatin1StringView("relayed"))
        text = peer.pathEndpoint.isEmpty() ? PeerModel::tr("relayed")
                                           : PeerModel::tr("relayed via %1").arg(peer.pathEndpoint);
    else if (peer.path == QLatin1StringView("none"))
        return PeerModel::tr("no path");
    else
        text = PeerModel::tr("direct");
    if (peer.latencyMs)
        text = PeerModel::tr("%1 · %2 ms").arg(text, QLocale().toString(*peer.latencyMs, 'f', 1));
    return text;
}

QString pathDetails(const PeerInfo& peer) {
    if (peer.online == false)
        return PeerModel::tr("The server reports this peer offline.");
    const QString since =
        peer.pathSince ? QLocale().toString(QDateTime::fromSecsSinceEpoch(*peer.pathSince).time(),
                                            QLocale::ShortFormat)
                       : QString();
    QString text;
    if (peer.path == QLatin1StringView("relayed")) {
        const QString relay =
            peer.pathEndpoint.isEmpty() ? PeerModel::tr("the relay") : peer.pathEndpoint;
        text = since.isEmpty() ? PeerModel::tr("Relayed via %1").arg(relay)
                               : PeerModel::tr("Relayed via %1 since %2").arg(relay, since);
    } else if (peer.path == QLatin1StringView("none")) {
        text = since.isEmpty() ? PeerModel::tr("No path")
                               : PeerModel::tr("No path since %1").arg(since);
    } else if (!peer.pathEndpoint.isEmpty()) {
        text = since.isEmpty()
                   ? PeerModel::tr("Direct to %1").arg(peer.pathEndpoint)
                   : PeerModel::tr("Direct to %1 since %2").arg(peer.pathEndpoint, since);
    } else {
        text = PeerModel::tr("Direct");
    }
    if (peer.latencyMs)
        text = PeerModel::tr("%1, %2 ms").arg(text, QLocale().toString(*peer.latencyMs, 'f', 1));
    if (!peer.pathReason.isEmpty())
        text = PeerModel::tr("%1 — %2").arg(text, peer.pathReason);
    return text;
}

QString formatAge(qint64 seconds) {
    if (seconds < 0)
        seconds = 0;
    const qint64 d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
                 s = seconds % 60;
    if (d > 0)
        return PeerModel::tr("%1 d %2 h").arg(d).arg(h);
    if (h > 0)
        return PeerModel::tr("%1 h %2 min").arg(h).arg(m);
    if (m > 0)
        return PeerModel::tr("%1 min %2 s").arg(m).arg(s);
    return PeerModel::tr("%1 s").arg(s);
}

QString healthText(ipc::Health health) {
    switch (health) {
    case ipc::Health::Healthy:
        return PeerModel::tr("healthy");
    case ipc::Health::Stale:
        return PeerModel::tr("stale");
    case ipc::Health::Dead:
        return PeerModel::tr("dead");
    case ipc::Health::Never:
        return PeerModel::tr("never");
    }
    return {};
}

QColor healthColor(ipc::Health health) {
    // Mid-tone colours that keep enough contrast on light and dark table backgrounds.
    switch (health) {
    case ipc::Health::Healthy:
        return QColor(0x2e, 0x9d, 0x4f);
    case ipc::Health::Stale:
        return QColor(0xd9, 0x8c, 0x00);
    case ipc::Health::Dead:
        return QColor(0xd0, 0x35, 0x35);
    case ipc::Health::Never:
        return QColor(0x80, 0x80, 0x80);
    }
    return {};
}

PeerModel::PeerModel(QObject* parent) : QAbstractTableModel(parent) {}

void PeerModel::reindex() {
    rowByKey_.clear();
    for (int i = 0; i < peers_.size(); ++i)
        rowByKey_.insert(peers_[i].publicKey, i);
}

void PeerModel::setPeers(const QList<PeerInfo>& incoming) {
    QHash<QString, const PeerInfo*> byKey;
    byKey.reserve(incoming.size());
    for (const PeerInfo& p : incoming)
        byKey.insert(p.publicKey, &p);

    // Removals, back to front in contiguous runs so each run is one rowsRemoved.
    for (int row = int(peers_.size()) - 1; row >= 0;) {
        if (byKey.contains(peers_[row].publicKey)) {
            --row;
            continue;
        }
        int first = row;
        while (first > 0 && !byKey.contains(peers_[first - 1].publicKey))
            --first;
        beginRemoveRows({}, first, row);
        peers_.remove(first, row - first + 1);
        endRemoveRows();
        row = first - 1;
    }
    reindex();

    // Changes in place: dataChanged spans only the columns that differ.
    for (int row = 0; row < peers_.size(); ++row) {
        const PeerInfo& next = *byKey.value(peers_[row].publicKey);
        if (next == peers_[row])
            continue;
        const PeerInfo before = peers_[row];
        peers_[row] = next;
        int lo = ColumnCount, hi = -1;
        for (int c = 0; c < ColumnCount; ++c) {
            if (display(before, c) != display(next, c) ||
                sortValue(before, c) != sortValue(next, c)) {
                lo = std::min(lo, c);
                hi = std::max(hi, c);
            }
        }
        if (hi < 0) { // a field no column shows (e.g. the helper's own age figure)
            lo = 0;
            hi = ColumnCount - 1;
        }
        emit dataChanged(index(row, lo), index(row, hi));
    }

    // Additions, in the helper's order, appended as one block.
    QList<PeerInfo> added;
    QSet<QString> seen;
    for (const PeerInfo& p : incoming) {
        if (rowByKey_.contains(p.publicKey) || seen.contains(p.publicKey))
            continue;
        seen.insert(p.publicKey);
        added << *byKey.value(p.publicKey); // the last entry wins, as for existing rows
    }
    if (!added.isEmpty()) {
        const int first = int(peers_.size());
        beginInsertRows({}, first, first + int(added.size()) - 1);
        peers_.append(added);
        reindex();
        endInsertRows();
    }
}

void PeerModel::clear() {
    setPeers({});
}

void PeerModel::setNow(qint64 unixSeconds) {
    if (unixSeconds == now_)
        return;
    now_ = unixSeconds;
    if (!peers_.isEmpty())
        emit dataChanged(index(0, Handshake), index(int(peers_.size()) - 1, Handshake));
}

int PeerModel::rowOf(const QString& publicKey) const {
    return rowByKey_.value(publicKey, -1);
}

std::optional<qint64> PeerModel::handshakeAge(const PeerInfo& p) const {
    if (p.lastHandshake && now_ > 0)
        return now_ - *p.lastHandshake;
    return p.reportedAge;
}

ipc::Health PeerModel::health(const PeerInfo& p) const {
    return ipc::healthFor(handshakeAge(p));
}

int PeerModel::relayedCount() const {
    return int(std::count_if(peers_.begin(), peers_.end(), [](const PeerInfo& p) {
        return p.path == QLatin1StringView("relayed") && p.online != false;
    }));
}

int PeerModel::unhealthyCount() const {
    return int(std::count_if(peers_.begin(), peers_.end(), [this](const PeerInfo& p) {
        const ipc::Health h = health(p);
        return h == ipc::Health::Stale || h == ipc::Health::Dead;
    }));
}

QList<ipc::Health> PeerModel::healthList() const {
    QList<ipc::Health> out;
    out.reserve(peers_.size());
    for (const PeerInfo& p : peers_)
        out << health(p);
    return out;
}

int PeerModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(peers_.size());
}

int PeerModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PeerModel::display(const PeerInfo& p, int column) const {
    switch (column) {
    case Name:
        return p.displayName();
    case Addresses:
        return p.allowedIps.join(QStringLiteral(", "));
    case Endpoint:
        return p.endpoint.isEmpty() ? QStringLiteral("—") : p.endpoint;
    case Path:
        return pathText(p);
    case Handshake: {
        const auto age = handshakeAge(p);
        if (!age)
            return tr("never");
        return tr("%1 ago · %2").arg(formatAge(*age), healthText(ipc::healthFor(age)));
    }
    case Received:
        return formatBytes(p.rxBytes);
    case Sent:
        return formatBytes(p.txBytes);
    case Keepalive:
        return p.persistentKeepalive > 0 ? tr("every %1 s").arg(p.persistentKeepalive) : tr("off");
    }
    return {};
}

QVariant PeerModel::sortValue(const PeerInfo& p, int column) const {
    switch (column) {
    case Handshake: {
        // Most recent first when ascending; "never" sorts after every real age.
        const auto age = handshakeAge(p);
        return age ? *age : std::numeric_limits<qint64>::max();
    }
    case Received:
        return p.rxBytes;
    case Sent:
        return p.txBytes;
    case Keepalive:
        return p.persistentKeepalive;
    default:
        return display(p, column).toString().toLower();
    }
}

QVariant PeerModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const PeerInfo& p = peers_.at(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return display(p, column);
    case Qt::ToolTipRole:
        if (column == Name)
            return p.publicKey;
        if (column == Path)
            return pathDetails(p);
        if (column == Handshake && p.lastHandshake)
            return QLocale().toString(QDateTime::fromSecsSinceEpoch(*p.lastHandshake),
                                      QLocale::LongFormat);
        return display(p, column);
    case Qt::AccessibleTextRole:
        return display(p, column);
    case Qt::ForegroundRole:
    case Qt::DecorationRole:
        if (column == Handshake)
            return healthColor(health(p));
        return {};
    case Qt::TextAlignmentRole:
        if (column == Received || column == Sent)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case SortRole:
        return sortValue(p, column);
    case FilterRole:
        return QStringList{p.name, p.publicKey, p.allowedIps.join(QLatin1Char(' ')), p.endpoint}
            .join(QLatin1Char(' '));
    case PublicKeyRole:
        return p.publicKey;
    case HealthRole:
        return int(health(p));
    case HandshakeAgeRole: {
        const auto age = handshakeAge(p);
        return age ? QVariant(*age) : QVariant();
    }
    }
    return {};
}

QVariant PeerModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Name:
        return tr("Name");
    case Addresses:
        return tr("Addresses");
    case Endpoint:
        return tr("Endpoint");
    case Path:
        return tr("Path");
    case Handshake:
        return tr("Last handshake");
    case Received:
        return tr("Received");
    case Sent:
        return tr("Sent");
    case Keepalive:
        return tr("Keepalive");
    }
    return {};
}

PeerFilterModel::PeerFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(PeerModel::SortRole);
    setFilterRole(PeerModel::FilterRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    setSortCaseSensitivity(Qt::CaseInsensitive);
    setDynamicSortFilter(true);
    // Qt compares plainly, ignoring numeric mode, under the C locale (LANG=C in services and
    // CI); English collation is the closest to what such a user expects.
    if (QLocale().language() == QLocale::C)
        collator_ = QCollator(QLocale(QLocale::English));
    collator_.setNumericMode(true);
    collator_.setCaseSensitivity(Qt::CaseInsensitive);
}

bool PeerFilterModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    const QVariant a = left.data(sortRole());
    const QVariant b = right.data(sortRole());
    if (a.typeId() == QMetaType::QString && b.typeId() == QMetaType::QString)
        return collator_.compare(a.toString(), b.toString()) < 0;
    return QVariant::compare(a, b) == QPartialOrdering::Less;
}

} // namespace calnet::app
