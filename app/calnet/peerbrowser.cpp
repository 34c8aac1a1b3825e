#include "app/calnet/peerbrowser.h"

#include <QAction>
#include <QClipboard>
#include <QDataStream>
#include <QDateTime>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIODevice>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "app/calnet/peermodel.h"

namespace calnet::app {

namespace {

// saveState() format: magic, version, header state, splitter state.
constexpr quint32 kStateMagic = 0x43504252; // "CPBR"
constexpr quint8 kStateVersion = 1;

// Measuring every row of a 1,000-peer table for column widths takes longer than a frame; a
// sample is enough for columns whose values have similar widths.
constexpr int kResizeSampleRows = 200;

QLabel* makeValueLabel(QWidget* parent, const QString& accessibleName, const char* objectName) {
    auto* label = new QLabel(parent);
    label->setObjectName(QLatin1StringView(objectName));
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByKeyboard | Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    label->setAccessibleName(accessibleName);
    return label;
}

QPushButton* makeCopyButton(QWidget* parent, const QString& text, const QString& accessibleName,
                            const QString& description, const char* objectName) {
    auto* button = new QPushButton(text, parent);
    button->setObjectName(QLatin1StringView(objectName));
    button->setAccessibleName(accessibleName);
    button->setAccessibleDescription(description);
    button->setToolTip(description);
    button->setAutoDefault(false);
    return button;
}

} // namespace

PeerBrowser::PeerBrowser(PeerModel* model, QWidget* parent)
    : QWidget(parent), model_(model), proxy_(new PeerFilterModel(this)) {
    // PeerFilterModel sets these too; the browser depends on them, so it says so here.
    proxy_->setSortRole(PeerModel::SortRole);
    proxy_->setFilterRole(PeerModel::FilterRole);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    proxy_->setFilterKeyColumn(0);
    proxy_->setDynamicSortFilter(true);
    proxy_->setSourceModel(model_);

    buildUi();
    connectModels();
    onRowCountsChanged();
    refreshDetail();
}

void PeerBrowser::buildUi() {
    filter_ = new QLineEdit(this);
    filter_->setObjectName(QStringLiteral("peerFilter"));
    filter_->setPlaceholderText(tr("Filter by name, key, address or endpoint"));
    filter_->setClearButtonEnabled(true);
    filter_->setAccessibleName(tr("Filter peers"));
    filter_->setAccessibleDescription(
        tr("Shows only the peers whose name, public key, address or endpoint contains this "
           "text. %1 moves here, Escape clears it.")
            .arg(QKeySequence(QKeySequence::Find).toString(QKeySequence::NativeText)));
    filter_->installEventFilter(this);
    // A .conf dropped on the window means "import", even over the filter box, so the drop
    // goes on to the window's DropImportFilter instead of pasting the path here.
    filter_->setAcceptDrops(false);
    // Fixed string, not a pattern: "10.0.3." must not match "10.0.39".
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);

    tableStack_ = new QStackedWidget(this);
    table_ = new QTableView(tableStack_);
    table_->setObjectName(QStringLiteral("peerTable"));
    table_->setAccessibleName(tr("Peers"));
    table_->setAccessibleDescription(
        tr("One row per peer. %1 copies the address of the current peer.")
            .arg(QKeySequence(QKeySequence::Copy).toString(QKeySequence::NativeText)));
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setAlternatingRowColors(true);
    // Tab leaves the table (to the copy buttons) instead of walking its cells.
    table_->setTabKeyNavigation(false);
    table_->setWordWrap(false);
    table_->setCornerButtonEnabled(false);
    table_->installEventFilter(this);

    // Uniform row heights keep layout O(1) per row, which matters at 1,000 peers.
    QHeaderView* rows = table_->verticalHeader();
    rows->hide();
    rows->setSectionResizeMode(QHeaderView::Fixed);
    // The style's default (30 px on Fusion) shows a third fewer peers than one line of text.
    rows->setDefaultSectionSize(fontMetrics().lineSpacing() + 8);

    emptyLabel_ = new QLabel(tr("No peers"), tableStack_);
    emptyLabel_->setObjectName(QStringLiteral("peerEmptyText"));
    emptyLabel_->setAlignment(Qt::AlignCenter);
    emptyLabel_->setWordWrap(true);
    emptyLabel_->setTextFormat(Qt::PlainText);
    emptyLabel_->setAccessibleName(tr("Peers"));
    tableStack_->addWidget(table_);
    tableStack_->addWidget(emptyLabel_);

    // Detail pane: a placeholder, or the current peer's fields and copy buttons.
    detailStack_ = new QStackedWidget(this);
    detailStack_->setObjectName(QStringLiteral("peerDetail"));
    placeholder_ = new QLabel(tr("No peer selected"), detailStack_);
    placeholder_->setObjectName(QStringLiteral("detailPlaceholder"));
    placeholder_->setAlignment(Qt::AlignCenter);
    placeholder_->setAccessibleName(tr("Peer details"));
    detailStack_->addWidget(placeholder_);

    auto* fields = new QWidget(detailStack_);
    fields->setObjectName(QStringLiteral("detailFields"));
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    nameValue_ = makeValueLabel(fields, tr("Name"), "detailName");
    keyValue_ = makeValueLabel(fields, tr("Public key"), "detailKey");
    keyValue_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    allowedIpsValue_ = makeValueLabel(fields, tr("Allowed IPs"), "detailAllowedIps");
    endpointValue_ = makeValueLabel(fields, tr("Endpoint"), "detailEndpoint");
    pathValue_ = makeValueLabel(fields, tr("Path"), "detailPath");
    handshakeValue_ = makeValueLabel(fields, tr("Last handshake"), "detailHandshake");
    transferValue_ = makeValueLabel(fields, tr("Transfer"), "detailTransfer");
    keepaliveValue_ = makeValueLabel(fields, tr("Persistent keepalive"), "detailKeepalive");
    form->addRow(tr("Name:"), nameValue_);
    form->addRow(tr("Public key:"), keyValue_);
    form->addRow(tr("Allowed IPs:"), allowedIpsValue_);
    form->addRow(tr("Endpoint:"), endpointValue_);
    form->addRow(tr("Path:"), pathValue_);
    form->addRow(tr("Last handshake:"), handshakeValue_);
    form->addRow(tr("Transfer:"), transferValue_);
    form->addRow(tr("Keepalive:"), keepaliveValue_);

    copyKeyButton_ =
        makeCopyButton(fields, tr("Copy key"), tr("Copy public key"),
                       tr("Copies the peer's public key to the clipboard"), "copyKeyButton");
    copyAddressButton_ = makeCopyButton(fields, tr("Copy address"), tr("Copy address"),
                                        tr("Copies the peer's first allowed IP to the clipboard"),
                                        "copyAddressButton");
    copyEndpointButton_ =
        makeCopyButton(fields, tr("Copy endpoint"), tr("Copy endpoint"),
                       tr("Copies the peer's endpoint to the clipboard"), "copyEndpointButton");
    connect(copyKeyButton_, &QPushButton::clicked, this, &PeerBrowser::copyKey);
    connect(copyAddressButton_, &QPushButton::clicked, this, &PeerBrowser::copyAddress);
    connect(copyEndpointButton_, &QPushButton::clicked, this, &PeerBrowser::copyEndpoint);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(copyKeyButton_);
    buttons->addWidget(copyAddressButton_);
    buttons->addWidget(copyEndpointButton_);
    buttons->addStretch(1);

    auto* fieldsLayout = new QVBoxLayout(fields);
    fieldsLayout->addLayout(form);
    fieldsLayout->addLayout(buttons);
    fieldsLayout->addStretch(1);
    detailStack_->addWidget(fields);

    splitter_ = new QSplitter(Qt::Vertical, this);
    splitter_->setObjectName(QStringLiteral("peerSplitter"));
    splitter_->setChildrenCollapsible(false);
    splitter_->addWidget(tableStack_);
    splitter_->addWidget(detailStack_);
    splitter_->setStretchFactor(0, 3);
    splitter_->setStretchFactor(1, 1);

    status_ = new QLabel(this);
    status_->setObjectName(QStringLiteral("peerStatus"));
    status_->setAccessibleName(tr("Peer count"));
    status_->setTextFormat(Qt::PlainText);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(filter_);
    layout->addWidget(splitter_, 1);
    layout->addWidget(status_);

    // The same copy actions from the table's context menu.
    auto addMenuAction = [this](const QString& text, QString (PeerBrowser::*slot)()) {
        auto* action = new QAction(text, table_);
        connect(action, &QAction::triggered, this, slot);
        table_->addAction(action);
    };
    addMenuAction(tr("Copy address"), &PeerBrowser::copyAddress);
    addMenuAction(tr("Copy key"), &PeerBrowser::copyKey);
    addMenuAction(tr("Copy endpoint"), &PeerBrowser::copyEndpoint);
    table_->setContextMenuPolicy(Qt::ActionsContextMenu);

    auto* find = new QShortcut(QKeySequence::Find, this);
    find->setContext(Qt::WindowShortcut);
    connect(find, &QShortcut::activated, this, [this] {
        filter_->setFocus(Qt::ShortcutFocusReason);
        filter_->selectAll();
    });

    setTabOrder(filter_, table_);
    setTabOrder(table_, copyKeyButton_);
    setTabOrder(copyKeyButton_, copyAddressButton_);
    setTabOrder(copyAddressButton_, copyEndpointButton_);
}

void PeerBrowser::connectModels() {
    // Connected before setModel() so it runs before the view's and the selection model's own
    // rowsAboutToBeRemoved handlers, which move the current index to a neighbour.
    connect(proxy_, &QAbstractItemModel::rowsAboutToBeRemoved, this,
            [this](const QModelIndex&, int first, int last) {
                onProxyRowsAboutToBeRemoved(first, last);
            });

    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(PeerModel::Name, Qt::AscendingOrder);

    QHeaderView* header = table_->horizontalHeader();
    header->setSectionsMovable(true);
    header->setHighlightSections(false);
    header->setStretchLastSection(false);
    header->setResizeContentsPrecision(kResizeSampleRows);
    // Interactive with initial widths: ResizeToContents would measure every row on every update.
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(PeerModel::Addresses, QHeaderView::Stretch);
    const int digit = fontMetrics().horizontalAdvance(QLatin1Char('0'));
    const struct {
        PeerModel::Column column;
        int chars;
    } widths[] = {{PeerModel::Name, 16},      {PeerModel::Endpoint, 22}, {PeerModel::Path, 8},
                  {PeerModel::Handshake, 20}, {PeerModel::Received, 11}, {PeerModel::Sent, 11},
                  {PeerModel::Keepalive, 10}};
    for (const auto& w : widths) {
        header->resizeSection(w.column, w.chars * digit);
    }
    // After the user sorts, bring the current peer back into view; queued so it runs once the
    // view has re-sorted.
    connect(
        header, &QHeaderView::sortIndicatorChanged, this,
        [this] {
            const QModelIndex current = table_->currentIndex();
            if (current.isValid()) {
                table_->scrollTo(current);
            }
        },
        Qt::QueuedConnection);

    // These run after the view's own handlers (connected in setModel above).
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &PeerBrowser::onCurrentRowChanged);
    connect(proxy_, &QAbstractItemModel::rowsRemoved, this, &PeerBrowser::onProxyRowsRemoved);
    connect(proxy_, &QAbstractItemModel::modelReset, this, &PeerBrowser::onProxyReset);
    connect(proxy_, &QAbstractItemModel::rowsInserted, this, &PeerBrowser::onRowCountsChanged);
    connect(proxy_, &QAbstractItemModel::rowsRemoved, this, &PeerBrowser::onRowCountsChanged);
    connect(proxy_, &QAbstractItemModel::modelReset, this, &PeerBrowser::onRowCountsChanged);
    // A source row filtered out of the proxy still counts in "N peers".
    connect(model_, &QAbstractItemModel::rowsInserted, this, &PeerBrowser::onRowCountsChanged);
    connect(model_, &QAbstractItemModel::rowsRemoved, this, &PeerBrowser::onRowCountsChanged);
    connect(model_, &QAbstractItemModel::modelReset, this, &PeerBrowser::onRowCountsChanged);
    connect(model_, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex& topLeft, const QModelIndex& bottomRight) {
                onSourceDataChanged(topLeft.row(), bottomRight.row());
            });
}

QString PeerBrowser::statusText() const {
    return status_->text();
}

void PeerBrowser::setEmptyText(const QString& text) {
    emptyLabel_->setText(text);
}

QString PeerBrowser::emptyText() const {
    return emptyLabel_->text();
}

QModelIndex PeerBrowser::proxyIndexOf(const QString& publicKey) const {
    const int row = publicKey.isEmpty() ? -1 : model_->rowOf(publicKey);
    if (row < 0) {
        return {};
    }
    return proxy_->mapFromSource(model_->index(row, 0));
}

bool PeerBrowser::selectPeer(const QString& publicKey) {
    const QModelIndex index = proxyIndexOf(publicKey);
    if (!index.isValid()) {
        return false;
    }
    table_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                         QItemSelectionModel::Rows);
    table_->scrollTo(index);
    return true;
}

void PeerBrowser::moveToRow(int row) {
    if (row < 0 || row >= proxy_->rowCount()) {
        return;
    }
    const int column = qMax(0, table_->currentIndex().column());
    const QModelIndex index = proxy_->index(row, column);
    table_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                         QItemSelectionModel::Rows);
    table_->scrollTo(index);
}

void PeerBrowser::onCurrentRowChanged() {
    if (currentBeingRemoved_) {
        return;
    }
    const QModelIndex current = table_->selectionModel()->currentIndex();
    setCurrentKey(current.isValid() ? current.data(PeerModel::PublicKeyRole).toString()
                                    : QString());
}

void PeerBrowser::onProxyRowsAboutToBeRemoved(int first, int last) {
    if (currentKey_.isEmpty() || table_->selectionModel() == nullptr) {
        return;
    }
    const int row = table_->selectionModel()->currentIndex().row();
    if (row >= first && row <= last) {
        currentBeingRemoved_ = true;
    }
}

void PeerBrowser::onProxyRowsRemoved() {
    if (!currentBeingRemoved_) {
        return;
    }
    currentBeingRemoved_ = false;
    // The view picked a neighbour as current; the user did not, so nothing is current.
    table_->selectionModel()->clear();
    setCurrentKey({});
}

void PeerBrowser::onProxyReset() {
    // QItemSelectionModel clears itself silently on reset; restore the tracked peer if it
    // survived.
    currentBeingRemoved_ = false;
    const QString key = currentKey_;
    if (!selectPeer(key)) {
        setCurrentKey({});
    }
}

void PeerBrowser::onSourceDataChanged(int firstRow, int lastRow) {
    if (currentKey_.isEmpty()) {
        return;
    }
    const int row = model_->rowOf(currentKey_);
    if (row >= firstRow && row <= lastRow) {
        refreshDetail();
    }
}

void PeerBrowser::onRowCountsChanged() {
    const int total = model_->rowCount();
    status_->setText(tr("%n peer(s) (%1 shown)", nullptr, total).arg(proxy_->rowCount()));
    tableStack_->setCurrentWidget(total == 0 ? static_cast<QWidget*>(emptyLabel_) : table_);
    if (total > 0) {
        fitColumnsOnce();
    }
}

void PeerBrowser::fitColumnsOnce() {
    if (columnsFitted_) {
        return;
    }
    columnsFitted_ = true;
    for (int column = 0; column < PeerModel::ColumnCount; ++column) {
        if (column != PeerModel::Addresses) {
            table_->resizeColumnToContents(column);
        }
    }
}

void PeerBrowser::setCurrentKey(const QString& key) {
    if (key == currentKey_) {
        return;
    }
    currentKey_ = key;
    refreshDetail();
    emit currentPeerChanged(key);
}

const PeerInfo* PeerBrowser::currentPeer() const {
    const int row = currentKey_.isEmpty() ? -1 : model_->rowOf(currentKey_);
    return row < 0 ? nullptr : &model_->peer(row);
}

void PeerBrowser::refreshDetail() {
    const PeerInfo* peer = currentPeer();
    copyKeyButton_->setEnabled(peer != nullptr);
    copyAddressButton_->setEnabled(peer != nullptr && !peer->allowedIps.isEmpty());
    copyEndpointButton_->setEnabled(peer != nullptr && !peer->endpoint.isEmpty());
    if (peer == nullptr) {
        detailStack_->setCurrentWidget(placeholder_);
        return;
    }

    nameValue_->setText(peer->name.isEmpty() ? tr("%1 (no name)").arg(peer->displayName())
                                             : peer->name);
    keyValue_->setText(peer->publicKey);
    allowedIpsValue_->setText(
        peer->allowedIps.isEmpty() ? tr("none") : peer->allowedIps.join(QStringLiteral(", ")));
    endpointValue_->setText(peer->endpoint.isEmpty() ? tr("unknown") : peer->endpoint);
    pathValue_->setText(pathDetails(*peer));

    const std::optional<qint64> age = model_->handshakeAge(*peer);
    const ipc::Health health = model_->health(*peer);
    handshakeValue_->setText(age ? tr("%1 ago (%2)").arg(formatAge(*age), healthText(health))
                                 : tr("never"));
    handshakeValue_->setToolTip(
        peer->lastHandshake
            ? QLocale().toString(QDateTime::fromSecsSinceEpoch(*peer->lastHandshake),
                                 QLocale::LongFormat)
            : QString());
    // Colour repeats what the text already says, for a quick glance.
    QPalette palette = handshakeValue_->palette();
    const QColor colour = health == ipc::Health::Never ? this->palette().color(QPalette::WindowText)
                                                       : healthColor(health);
    if (palette.color(QPalette::WindowText) != colour) {
        palette.setColor(QPalette::WindowText, colour);
        handshakeValue_->setPalette(palette);
    }

    transferValue_->setText(
        tr("%1 received, %2 sent").arg(formatBytes(peer->rxBytes), formatBytes(peer->txBytes)));
    keepaliveValue_->setText(peer->persistentKeepalive > 0
                                 ? tr("every %n second(s)", nullptr, peer->persistentKeepalive)
                                 : tr("off"));
    detailStack_->setCurrentIndex(1);
}

QString PeerBrowser::copyToClipboard(const QString& text) {
    if (text.isEmpty()) {
        return {};
    }
    QGuiApplication::clipboard()->setText(text);
    return text;
}

QString PeerBrowser::copyKey() {
    const PeerInfo* peer = currentPeer();
    return copyToClipboard(peer != nullptr ? peer->publicKey : QString());
}

QString PeerBrowser::copyAddress() {
    const PeerInfo* peer = currentPeer();
    if (peer == nullptr || peer->allowedIps.isEmpty()) {
        return {};
    }
    return copyToClipboard(addressForCopy(peer->allowedIps.first()));
}

QString PeerBrowser::copyEndpoint() {
    const PeerInfo* peer = currentPeer();
    return copyToClipboard(peer != nullptr ? peer->endpoint : QString());
}

QString PeerBrowser::addressForCopy(const QString& allowedIp) {
    const QString entry = allowedIp.trimmed();
    const qsizetype slash = entry.indexOf(QLatin1Char('/'));
    if (slash < 0) {
        return entry;
    }
    const QStringView host = QStringView(entry).left(slash);
    const QStringView prefix = QStringView(entry).mid(slash + 1);
    const bool v6 = host.contains(QLatin1Char(':'));
    if ((v6 && prefix == QLatin1StringView("128")) || (!v6 && prefix == QLatin1StringView("32"))) {
        return host.toString();
    }
    return entry;
}

QByteArray PeerBrowser::saveState() const {
    QByteArray state;
    QDataStream out(&state, QIODevice::WriteOnly);
    out << kStateMagic << kStateVersion << table_->horizontalHeader()->saveState()
        << splitter_->saveState();
    return state;
}

bool PeerBrowser::restoreState(const QByteArray& state) {
    QDataStream in(state);
    quint32 magic = 0;
    quint8 version = 0;
    QByteArray header;
    QByteArray splitter;
    in >> magic >> version >> header >> splitter;
    if (in.status() != QDataStream::Ok || magic != kStateMagic || version != kStateVersion) {
        return false;
    }
    QHeaderView* view = table_->horizontalHeader();
    if (!view->restoreState(header)) {
        return false;
    }
    splitter_->restoreState(splitter);
    // The user's widths win over the one-time fit to the first rows.
    columnsFitted_ = true;
    table_->sortByColumn(view->sortIndicatorSection(), view->sortIndicatorOrder());
    return true;
}

bool PeerBrowser::eventFilter(QObject* watched, QEvent* event) {
    const QEvent::Type type = event->type();
    if (type != QEvent::KeyPress && type != QEvent::ShortcutOverride) {
        return QWidget::eventFilter(watched, event);
    }
    auto* key = static_cast<QKeyEvent*>(event);
    if (watched == table_) {
        // The view's own Ctrl+C copies the cell under the cursor; the address is what people
        // paste into ping or ssh.
        if (key->matches(QKeySequence::Copy)) {
            event->accept();
            if (type == QEvent::KeyPress) {
                copyAddress();
            }
            return true;
        }
        // QTableView moves Home/End within the row; with whole-row selection the user means
        // the first/last peer.
        const bool plain = (key->modifiers() & ~Qt::KeypadModifier) == Qt::NoModifier;
        if (type == QEvent::KeyPress && plain &&
            (key->key() == Qt::Key_Home || key->key() == Qt::Key_End)) {
            moveToRow(key->key() == Qt::Key_Home ? 0 : proxy_->rowCount() - 1);
            return true;
        }
    } else if (watched == filter_) {
        // Escape clears a non-empty filter; an empty one lets Escape through (e.g. to close a
        // dialog around the browser).
        if (key->key() == Qt::Key_Escape && key->modifiers() == Qt::NoModifier &&
            !filter_->text().isEmpty()) {
            event->accept();
            if (type == QEvent::KeyPress) {
                filter_->clear();
            }
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace calnet::app
