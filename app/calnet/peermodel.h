// The peer table behind the peer browser, the tray menu's peer list and the no-tray window.
//
// setPeers() takes the helper's full peer list (the `peers` event, once a second at most) and
// changes the model in place, keyed by public key: rows of peers that left are removed, rows of
// peers whose data changed get dataChanged for exactly the changed cells, new peers are
// appended. No reset, so views keep their selection, current index and scroll position.
//
// Handshake ages are computed from lastHandshake against a clock the owner sets (setNow), so
// the age column can tick every second between helper updates; tests pin the clock.
#pragma once

#include <QAbstractTableModel>
#include <QCollator>
#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QSortFilterProxyModel>
#include <QStringList>

#include <optional>

#include "helper/ipc/protocol.h"

namespace calnet::app {

struct PeerInfo {
    QString publicKey;
    QString name; // mesh hostname; empty for plain WireGuard peers
    QStringList allowedIps;
    QString endpoint;                    // empty when unknown
    std::optional<qint64> lastHandshake; // unix seconds
    std::optional<qint64>
        reportedAge; // the helper's handshakeAgeSeconds, used without lastHandshake
    qint64 rxBytes = 0;
    qint64 txBytes = 0;
    int persistentKeepalive = 0;
    QString path = QStringLiteral("direct"); // "direct", "relayed" or "none"
    QString pathEndpoint;                    // ip:port, or the relay's name
    QString pathReason;                      // why not direct, in words
    std::optional<double> latencyMs;
    std::optional<qint64> pathSince; // unix seconds
    std::optional<bool> online;      // mesh only

    // Reads one Peer object of docs/ipc.md; nullopt if publicKey is missing.
    [[nodiscard]] static std::optional<PeerInfo> fromJson(const QJsonObject& peer);
    // Name if set, else the key shortened to "abcdefgh…".
    [[nodiscard]] QString displayName() const;
    bool operator==(const PeerInfo&) const = default;
};

// Reads the `peers` result / event data: {"peers": [Peer...]}. Malformed entries are skipped.
[[nodiscard]] QList<PeerInfo> peersFromJson(const QJsonObject& data);

// The path column: "offline" for a mesh peer the server reports offline, else "direct",
// "relayed via NAME" or "no path", with the latency when known ("direct · 1.2 ms").
[[nodiscard]] QString pathText(const PeerInfo& peer);
// The path in a sentence, for the details pane and the column's tooltip: where packets go, since
// when, and why they do not go directly.
[[nodiscard]] QString pathDetails(const PeerInfo& peer);

// "1.5 KiB", "3.2 MiB": binary units as `wg show` prints them.
[[nodiscard]] QString formatBytes(qint64 bytes);
// "12 s", "3 min 4 s", "2 h 5 min", "3 d 1 h"; "never" is the caller's job.
[[nodiscard]] QString formatAge(qint64 seconds);

class PeerModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        Name,
        Addresses,
        Endpoint,
        Path,
        Handshake,
        Received,
        Sent,
        Keepalive,
        ColumnCount
    };
    Q_ENUM(Column)

    enum Role {
        SortRole = Qt::UserRole + 1, // numbers for numeric columns, lowercase text otherwise
        FilterRole,                  // name, key, addresses and endpoint in one string
        PublicKeyRole,
        HealthRole,       // ipc::Health as int
        HandshakeAgeRole, // qint64 seconds, invalid QVariant when never
    };

    explicit PeerModel(QObject* parent = nullptr);

    void setPeers(const QList<PeerInfo>& peers);
    void clear();
    // Sets "now" (unix seconds) for ages; emits dataChanged for the handshake column only.
    void setNow(qint64 unixSeconds);
    [[nodiscard]] qint64 now() const { return now_; }

    [[nodiscard]] const PeerInfo& peer(int row) const { return peers_.at(row); }
    [[nodiscard]] int rowOf(const QString& publicKey) const;
    [[nodiscard]] std::optional<qint64> handshakeAge(const PeerInfo& peer) const;
    [[nodiscard]] ipc::Health health(const PeerInfo& peer) const;
    [[nodiscard]] int unhealthyCount() const; // stale or dead
    [[nodiscard]] int relayedCount() const;   // path "relayed"
    [[nodiscard]] QList<ipc::Health> healthList() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVariant display(const PeerInfo& p, int column) const;
    QVariant sortValue(const PeerInfo& p, int column) const;
    void reindex();

    QList<PeerInfo> peers_;
    QHash<QString, int> rowByKey_;
    qint64 now_ = 0;
};

// Sorting on SortRole and case-insensitive filtering on FilterRole, for the peer browser. Text
// sorts with a numeric-aware collator, so "host-4" comes before "host-38".
class PeerFilterModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit PeerFilterModel(QObject* parent = nullptr);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    QCollator collator_;
};

// Text and colour for a health value, shared by the table, the detail pane and the tray menu.
[[nodiscard]] QString healthText(ipc::Health health);
[[nodiscard]] QColor healthColor(ipc::Health health);

} // namespace calnet::app
