// The peer browser: a filter box, the peer table and a detail pane for the current peer.
//
//   PeerModel --(PeerFilterModel: filter text, sort column)--> QTableView
//                                                                 | current row
//                                                                 v
//                                                detail pane + copy buttons
//
// The model updates in place once a second (PeerModel::setPeers), so the browser never resets:
// the current peer is tracked by public key and stays current through row moves, inserts,
// removals and re-sorts; the detail pane is refreshed only when that peer's row changes. When
// the current peer leaves the table (removed, or hidden by the filter) nothing is current and
// the pane says so, rather than silently showing a neighbour.
#pragma once

#include <QByteArray>
#include <QModelIndex>
#include <QString>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QStackedWidget;
class QTableView;

namespace calnet::app {

class PeerModel;
class PeerFilterModel;
struct PeerInfo;

class PeerBrowser : public QWidget {
    Q_OBJECT

public:
    explicit PeerBrowser(PeerModel* model, QWidget* parent = nullptr);

    [[nodiscard]] QTableView* table() const { return table_; }
    [[nodiscard]] QLineEdit* filterEdit() const { return filter_; }
    [[nodiscard]] PeerFilterModel* proxy() const { return proxy_; }
    [[nodiscard]] PeerModel* model() const { return model_; }

    // The current peer's public key; empty when no peer is current.
    [[nodiscard]] QString currentPublicKey() const { return currentKey_; }
    // Makes the peer current and scrolls to it; false if it is not in the (filtered) table.
    bool selectPeer(const QString& publicKey);

    // "N peers (M shown)".
    [[nodiscard]] QString statusText() const;

    // What the table area says when the model has no rows ("Not connected", "No peers in this
    // profile"); the owner knows which applies.
    void setEmptyText(const QString& text);
    [[nodiscard]] QString emptyText() const;

    // Column widths, order, sort column and splitter position, for the owner's settings.
    [[nodiscard]] QByteArray saveState() const;
    bool restoreState(const QByteArray& state);

    // The address to copy for an AllowedIPs entry: a host route (/32, /128) without its prefix
    // length, anything else as written.
    [[nodiscard]] static QString addressForCopy(const QString& allowedIp);

public slots:
    // Each puts the current peer's value on the clipboard and returns it; empty (clipboard
    // untouched) when there is no current peer or the value is unknown.
    QString copyKey();
    QString copyAddress();
    QString copyEndpoint();

signals:
    void currentPeerChanged(const QString& publicKey);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void buildUi();
    void connectModels();
    void onCurrentRowChanged();
    void onProxyRowsAboutToBeRemoved(int first, int last);
    void onProxyRowsRemoved();
    void onProxyReset();
    void onSourceDataChanged(int firstRow, int lastRow);
    void onRowCountsChanged();
    void setCurrentKey(const QString& key);
    void refreshDetail();
    void fitColumnsOnce();
    [[nodiscard]] const PeerInfo* currentPeer() const;
    [[nodiscard]] QModelIndex proxyIndexOf(const QString& publicKey) const;
    void moveToRow(int row);
    static QString copyToClipboard(const QString& text);

    PeerModel* model_;
    PeerFilterModel* proxy_;
    QLineEdit* filter_ = nullptr;
    QStackedWidget* tableStack_ = nullptr; // the table, or the empty-state text
    QTableView* table_ = nullptr;
    QLabel* emptyLabel_ = nullptr;
    QSplitter* splitter_ = nullptr;
    QStackedWidget* detailStack_ = nullptr; // "No peer selected", or the peer's fields
    QLabel* placeholder_ = nullptr;
    QLabel* nameValue_ = nullptr;
    QLabel* keyValue_ = nullptr;
    QLabel* allowedIpsValue_ = nullptr;
    QLabel* endpointValue_ = nullptr;
    QLabel* pathValue_ = nullptr;
    QLabel* handshakeValue_ = nullptr;
    QLabel* transferValue_ = nullptr;
    QLabel* keepaliveValue_ = nullptr;
    QPushButton* copyKeyButton_ = nullptr;
    QPushButton* copyAddressButton_ = nullptr;
    QPushButton* copyEndpointButton_ = nullptr;
    QLabel* status_ = nullptr;

    QString currentKey_;
    // Set while the proxy removes the current row: the view and the selection model then move
    // the current index to a neighbour, which must not become the tracked peer.
    bool currentBeingRemoved_ = false;
    bool columnsFitted_ = false; // first rows measured, or widths restored by the owner
};

} // namespace calnet::app
