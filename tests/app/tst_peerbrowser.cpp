// Tests for PeerBrowser on a PeerModel with 1,000 generated peers: in-place updates keep the
// current peer, its detail pane and the scroll position (no reset, checked by
// QAbstractItemModelTester on both models); sorting, filtering, removal of the current peer,
// the empty state, keyboard use (arrows, Home/End, Ctrl+F, Escape, Ctrl+C, Tab order), copy
// buttons, accessible names and saved header state. Runs on the offscreen platform.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTableView>
#include <QTest>

#include <memory>

#include "app/calnet/peerbrowser.h"
#include "app/calnet/peermodel.h"

using namespace calnet::app;

namespace {

constexpr qint64 kNow = 1'700'000'000;
constexpr int kPeerCount = 1000;
constexpr int kSelected = 500;

QString keyOf(int i) {
    return QString::fromLatin1(
        QCryptographicHash::hash(QByteArray::number(i), QCryptographicHash::Sha256).toBase64());
}

// Peer i: name peer-0042, address 10.0.<i/256>.<i%256>/32, so "10.0.3." matches i >= 768.
PeerInfo makePeer(int i) {
    PeerInfo p;
    p.publicKey = keyOf(i);
    p.name = QStringLiteral("peer-%1").arg(i, 4, 10, QLatin1Char('0'));
    p.allowedIps = {QStringLiteral("10.0.%1.%2/32").arg(i / 256).arg(i % 256),
                    QStringLiteral("fd00::%1/128").arg(i, 0, 16)};
    p.endpoint = QStringLiteral("198.51.100.%1:51820").arg(i % 250 + 1);
    p.lastHandshake = kNow - (i % 400);
    p.rxBytes = qint64(i) * 1000;
    p.txBytes = qint64(i) * 500;
    p.persistentKeepalive = i % 2 == 0 ? 25 : 0;
    return p;
}

QList<PeerInfo> makePeers(int count) {
    QList<PeerInfo> peers;
    for (int i = 0; i < count; ++i) {
        peers << makePeer(i);
    }
    return peers;
}

// The update the browser must absorb without a reset: 10 peers changed (the selected one
// among them), 5 removed on both sides of it, 5 added.
struct Update {
    QList<PeerInfo> peers;
    QHash<QString, qint64> newRx;
};
Update makeUpdate(const QList<PeerInfo>& before, int round) {
    const QList<int> changed{100, 200, 300, 400, kSelected, 550, 700, 750, 900, 950};
    const QList<int> removed{10, 250, 600, 800, 990};
    Update update;
    for (const PeerInfo& old : before) {
        const int i = old.name.mid(5).toInt();
        if (removed.contains(i)) {
            continue;
        }
        PeerInfo p = old;
        if (changed.contains(i)) {
            p.rxBytes += 12'345'678 * round;
            p.txBytes += 999 * round;
            p.lastHandshake = kNow - 5;
            update.newRx.insert(p.publicKey, p.rxBytes);
        }
        update.peers << p;
    }
    for (int i = 0; i < 5; ++i) {
        update.peers << makePeer(kPeerCount + 10 * round + i);
    }
    return update;
}

QLabel* label(const PeerBrowser& browser, const char* name) {
    return browser.findChild<QLabel*>(QLatin1StringView(name));
}

QPushButton* button(const PeerBrowser& browser, const char* name) {
    return browser.findChild<QPushButton*>(QLatin1StringView(name));
}

bool showsPlaceholder(const PeerBrowser& browser) {
    const auto* stack = browser.findChild<QStackedWidget*>(QStringLiteral("peerDetail"));
    return stack != nullptr && stack->currentWidget() == label(browser, "detailPlaceholder");
}

QStringList selectedKeys(const PeerBrowser& browser) {
    QStringList keys;
    for (const QModelIndex& index : browser.table()->selectionModel()->selectedRows()) {
        keys << index.data(PeerModel::PublicKeyRole).toString();
    }
    return keys;
}

bool currentRowVisible(const PeerBrowser& browser) {
    const QTableView* table = browser.table();
    return table->viewport()->rect().intersects(table->visualRect(table->currentIndex()));
}

// One scroll step in the scroll bar's unit.
int oneRow(const QTableView* table) {
    return table->verticalScrollMode() == QAbstractItemView::ScrollPerPixel ? table->rowHeight(0)
                                                                            : 1;
}

struct Fixture {
    Fixture() : browser(&model) {
        model.setNow(kNow);
        browser.resize(1000, 700);
    }
    bool showAndActivate() {
        browser.show();
        QApplication::setActiveWindow(&browser);
        return QTest::qWaitForWindowActive(&browser);
    }
    PeerModel model;
    PeerBrowser browser;
};

} // namespace

class TestPeerBrowser : public QObject {
    Q_OBJECT

private slots:
    void addressForCopy_data() {
        QTest::addColumn<QString>("allowedIp");
        QTest::addColumn<QString>("expected");
        QTest::newRow("v4 host") << u"10.0.3.7/32"_qs << u"10.0.3.7"_qs;
        QTest::newRow("v4 net") << u"10.0.3.0/24"_qs << u"10.0.3.0/24"_qs;
        QTest::newRow("v4 default") << u"0.0.0.0/0"_qs << u"0.0.0.0/0"_qs;
        QTest::newRow("v6 host") << u"fd00::1/128"_qs << u"fd00::1"_qs;
        QTest::newRow("v6 net") << u"fd00::/64"_qs << u"fd00::/64"_qs;
        QTest::newRow("v6 /32 is a net") << u"2001:db8::/32"_qs << u"2001:db8::/32"_qs;
        QTest::newRow("no prefix") << u"10.0.0.1"_qs << u"10.0.0.1"_qs;
        QTest::newRow("spaces") << u" 10.0.0.1/32 "_qs << u"10.0.0.1"_qs;
        QTest::newRow("empty") << QString() << QString();
    }
    void addressForCopy() {
        QFETCH(QString, allowedIp);
        QFETCH(QString, expected);
        QCOMPARE(PeerBrowser::addressForCopy(allowedIp), expected);
    }

    // The update sequence of a busy mesh, under QAbstractItemModelTester the whole way.
    void updatesKeepSelection() {
        Fixture f;
        QAbstractItemModelTester sourceTester(
            &f.model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(
            f.browser.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(f.showAndActivate());

        QList<PeerInfo> peers = makePeers(kPeerCount);
        f.model.setPeers(peers);
        QCOMPARE(f.browser.proxy()->rowCount(), kPeerCount);

        const QString selected = keyOf(kSelected);
        QVERIFY(f.browser.selectPeer(selected));
        QTableView* table = f.browser.table();
        table->scrollTo(table->currentIndex(), QAbstractItemView::PositionAtCenter);
        QCOMPARE(f.browser.currentPublicKey(), selected);
        QCOMPARE(label(f.browser, "detailName")->text(), u"peer-0500"_qs);
        QVERIFY(currentRowVisible(f.browser));
        const int scrollBefore = table->verticalScrollBar()->value();
        QVERIFY(scrollBefore > 0);

        QSignalSpy proxyResets(f.browser.proxy(), &QAbstractItemModel::modelReset);
        QSignalSpy sourceResets(&f.model, &QAbstractItemModel::modelReset);
        QSignalSpy currentChanges(&f.browser, &PeerBrowser::currentPeerChanged);

        const Update update = makeUpdate(peers, 1);
        f.model.setPeers(update.peers);
        peers = update.peers;

        QCOMPARE(proxyResets.count(), 0);
        QCOMPARE(sourceResets.count(), 0);
        QCOMPARE(currentChanges.count(), 0);
        QCOMPARE(f.browser.proxy()->rowCount(), kPeerCount);
        QCOMPARE(f.browser.currentPublicKey(), selected);
        QCOMPARE(table->currentIndex().data(PeerModel::PublicKeyRole).toString(), selected);
        QCOMPARE(selectedKeys(f.browser), QStringList{selected});
        QVERIFY2(label(f.browser, "detailTransfer")
                     ->text()
                     .contains(formatBytes(update.newRx.value(selected))),
                 qPrintable(label(f.browser, "detailTransfer")->text()));
        QVERIFY(label(f.browser, "detailHandshake")->text().contains(formatAge(5)));
        QVERIFY(qAbs(table->verticalScrollBar()->value() - scrollBefore) <= oneRow(table));
        QVERIFY(currentRowVisible(f.browser));
        QVERIFY(f.browser.statusText().contains(u"(1000 shown)"_qs));

        // Sorting by Received (a header click) keeps the peer and brings it into view.
        QHeaderView* header = table->horizontalHeader();
        const QPoint received(header->sectionViewportPosition(PeerModel::Received) +
                                  header->sectionSize(PeerModel::Received) / 2,
                              header->height() / 2);
        QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, received);
        QCOMPARE(f.browser.proxy()->sortColumn(), int(PeerModel::Received));
        const PeerFilterModel* proxy = f.browser.proxy();
        for (int row = 1; row < proxy->rowCount(); ++row) {
            const qint64 a =
                proxy->index(row - 1, PeerModel::Received).data(PeerModel::SortRole).toLongLong();
            const qint64 b =
                proxy->index(row, PeerModel::Received).data(PeerModel::SortRole).toLongLong();
            QVERIFY(proxy->sortOrder() == Qt::AscendingOrder ? a <= b : a >= b);
        }
        QCOMPARE(proxyResets.count(), 0);
        QCOMPARE(f.browser.currentPublicKey(), selected);
        QCOMPARE(selectedKeys(f.browser), QStringList{selected});
        QTRY_VERIFY_WITH_TIMEOUT(currentRowVisible(f.browser), 2000);

        // A second update while sorted by a column it changes: rows move, the peer stays.
        const Update second = makeUpdate(peers, 2);
        f.model.setPeers(second.peers);
        peers = second.peers;
        QCOMPARE(proxyResets.count(), 0);
        QCOMPARE(f.browser.currentPublicKey(), selected);
        QCOMPARE(selectedKeys(f.browser), QStringList{selected});
        QVERIFY(label(f.browser, "detailTransfer")
                    ->text()
                    .contains(formatBytes(second.newRx.value(selected))));

        // The filter narrows the rows (a naive count over the model is the reference); the
        // selected peer (10.0.1.244) is hidden, so nothing is current.
        QTest::keyClicks(f.browser.filterEdit(), u"10.0.3."_qs);
        int expected = 0;
        for (int row = 0; row < f.model.rowCount(); ++row) {
            expected += f.model.index(row, 0)
                            .data(PeerModel::FilterRole)
                            .toString()
                            .contains(u"10.0.3."_qs);
        }
        QVERIFY(expected > 200 && expected < 300);
        QCOMPARE(proxy->rowCount(), expected);
        for (int row = 0; row < proxy->rowCount(); ++row) {
            QVERIFY(
                proxy->index(row, PeerModel::Addresses).data().toString().contains(u"10.0.3."_qs));
        }
        QVERIFY2(f.browser.statusText().startsWith(QString::number(f.model.rowCount()) + u' ') &&
                     f.browser.statusText().contains(u"(%1 shown)"_qs.arg(expected)),
                 qPrintable(f.browser.statusText()));
        QVERIFY(f.browser.currentPublicKey().isEmpty());
        QVERIFY(showsPlaceholder(f.browser));
        // Case does not matter.
        f.browser.filterEdit()->setText(u"PEER-0042"_qs);
        QCOMPARE(proxy->rowCount(), 1);

        // Escape clears the filter.
        QTest::keyClick(f.browser.filterEdit(), Qt::Key_Escape);
        QVERIFY(f.browser.filterEdit()->text().isEmpty());
        QCOMPARE(proxy->rowCount(), f.model.rowCount());

        // The selected peer leaves the mesh: the pane says so and no neighbour is selected.
        QVERIFY(f.browser.selectPeer(selected));
        QVERIFY(!showsPlaceholder(f.browser));
        QList<PeerInfo> without = peers;
        without.removeIf([&](const PeerInfo& p) { return p.publicKey == selected; });
        f.model.setPeers(without);
        QCOMPARE(proxyResets.count(), 0);
        QVERIFY(f.browser.currentPublicKey().isEmpty());
        QVERIFY(showsPlaceholder(f.browser));
        QVERIFY(selectedKeys(f.browser).isEmpty());
        QVERIFY(!table->currentIndex().isValid());
        QVERIFY(!button(f.browser, "copyKeyButton")->isEnabled());
        QVERIFY(f.browser.copyKey().isEmpty());

        // Clock ticks (setNow) refresh only the handshake column.
        QVERIFY(f.browser.selectPeer(keyOf(7)));
        f.model.setNow(kNow + 60);
        QVERIFY(label(f.browser, "detailHandshake")->text().contains(formatAge(60 + 7)));
        QCOMPARE(proxyResets.count(), 0);
    }

    // The 1,000-peer update without testers attached, timed for the log (not asserted).
    void updateTiming() {
        Fixture f;
        f.browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.browser));
        const QList<PeerInfo> peers = makePeers(kPeerCount);
        QElapsedTimer first;
        first.start();
        f.model.setPeers(peers);
        const qint64 firstMs = first.elapsed();
        QVERIFY(f.browser.selectPeer(keyOf(kSelected)));
        QSignalSpy resets(f.browser.proxy(), &QAbstractItemModel::modelReset);

        const Update update = makeUpdate(peers, 1);
        QElapsedTimer timer;
        timer.start();
        f.model.setPeers(update.peers);
        const qint64 updateUs = timer.nsecsElapsed() / 1000;
        QElapsedTimer paint;
        paint.start();
        f.browser.repaint();
        const qint64 paintUs = paint.nsecsElapsed() / 1000;
        qInfo("first 1000 peers: %lld ms; update (10 changed, 5 removed, 5 added): %lld us; "
              "repaint: %lld us",
              firstMs, updateUs, paintUs);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(f.browser.currentPublicKey(), keyOf(kSelected));
    }

    void keyboard() {
        Fixture f;
        f.model.setPeers(makePeers(200));
        QVERIFY(f.showAndActivate());
        PeerFilterModel* proxy = f.browser.proxy();
        QTableView* table = f.browser.table();
        const auto keyAt = [&](int row) {
            return proxy->index(row, 0).data(PeerModel::PublicKeyRole).toString();
        };

        QVERIFY(f.browser.selectPeer(keyAt(3)));
        table->setFocus();
        QVERIFY(table->hasFocus());
        QTest::keyClick(table, Qt::Key_Down);
        QCOMPARE(table->currentIndex().row(), 4);
        QCOMPARE(f.browser.currentPublicKey(), keyAt(4));
        QCOMPARE(label(f.browser, "detailName")->text(), u"peer-0004"_qs);
        QCOMPARE(selectedKeys(f.browser), QStringList{keyAt(4)});

        QTest::keyClick(table, Qt::Key_Up);
        QCOMPARE(f.browser.currentPublicKey(), keyAt(3));

        QTest::keyClick(table, Qt::Key_PageDown);
        const int afterPage = table->currentIndex().row();
        QVERIFY(afterPage > 4);
        QCOMPARE(f.browser.currentPublicKey(), keyAt(afterPage));
        QTest::keyClick(table, Qt::Key_PageUp);
        QVERIFY(table->currentIndex().row() < afterPage);

        QTest::keyClick(table, Qt::Key_End);
        QCOMPARE(table->currentIndex().row(), proxy->rowCount() - 1);
        QCOMPARE(label(f.browser, "detailName")->text(), u"peer-0199"_qs);
        QVERIFY(currentRowVisible(f.browser));
        QTest::keyClick(table, Qt::Key_Home);
        QCOMPARE(table->currentIndex().row(), 0);
        QCOMPARE(f.browser.currentPublicKey(), keyAt(0));
        QCOMPARE(label(f.browser, "detailName")->text(), u"peer-0000"_qs);

        // Ctrl+C in the table copies the address, not the cell's text.
        QGuiApplication::clipboard()->clear();
        QTest::keyClick(table, Qt::Key_C, Qt::ControlModifier);
        QCOMPARE(QGuiApplication::clipboard()->text(), u"10.0.0.0"_qs);
        QCOMPARE(f.browser.copyAddress(), u"10.0.0.0"_qs);

        // Ctrl+F focuses the filter; Escape clears it.
        QTest::keyClick(table, Qt::Key_F, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(f.browser.filterEdit()->hasFocus(), 2000);
        QTest::keyClicks(f.browser.filterEdit(), u"peer-001"_qs);
        QCOMPARE(proxy->rowCount(), 10);
        QTest::keyClick(f.browser.filterEdit(), Qt::Key_Escape);
        QVERIFY(f.browser.filterEdit()->text().isEmpty());
        QCOMPARE(proxy->rowCount(), 200);

        // Tab: filter -> table -> the copy buttons, in that order.
        QVERIFY(f.browser.selectPeer(keyAt(1)));
        f.browser.filterEdit()->setFocus();
        const QList<QWidget*> chain{table, button(f.browser, "copyKeyButton"),
                                    button(f.browser, "copyAddressButton"),
                                    button(f.browser, "copyEndpointButton")};
        for (QWidget* next : chain) {
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
            QCOMPARE(QApplication::focusWidget(), next);
        }

        // The buttons copy the current peer's values (a click and a keyboard press).
        QTest::mouseClick(button(f.browser, "copyKeyButton"), Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), keyOf(1));
        QTest::keyClick(button(f.browser, "copyEndpointButton"), Qt::Key_Space);
        QCOMPARE(QGuiApplication::clipboard()->text(), u"198.51.100.2:51820"_qs);
        QTest::mouseClick(button(f.browser, "copyAddressButton"), Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(), u"10.0.0.1"_qs);
    }

    void detailPane() {
        Fixture f;
        PeerInfo plain = makePeer(3);
        plain.name.clear();
        plain.endpoint.clear();
        plain.lastHandshake.reset();
        plain.persistentKeepalive = 0;
        plain.allowedIps = {u"10.9.0.0/24"_qs};
        f.model.setPeers({makePeer(2), plain});
        QVERIFY(showsPlaceholder(f.browser));
        QVERIFY(!button(f.browser, "copyKeyButton")->isEnabled());

        QVERIFY(f.browser.selectPeer(keyOf(2)));
        QCOMPARE(label(f.browser, "detailName")->text(), u"peer-0002"_qs);
        QCOMPARE(label(f.browser, "detailKey")->text(), keyOf(2));
        QCOMPARE(label(f.browser, "detailAllowedIps")->text(), u"10.0.0.2/32, fd00::2/128"_qs);
        QCOMPARE(label(f.browser, "detailEndpoint")->text(), u"198.51.100.3:51820"_qs);
        QCOMPARE(label(f.browser, "detailPath")->text(), u"Direct"_qs);
        QVERIFY(label(f.browser, "detailHandshake")->text().contains(formatAge(2)));
        QVERIFY(label(f.browser, "detailHandshake")
                    ->text()
                    .contains(healthText(calnet::ipc::Health::Healthy)));
        QCOMPARE(label(f.browser, "detailTransfer")->text(),
                 u"%1 received, %2 sent"_qs.arg(formatBytes(2000), formatBytes(1000)));
        QVERIFY(label(f.browser, "detailKeepalive")->text().contains(u"25"_qs));
        for (const char* name : {"detailName", "detailKey", "detailAllowedIps", "detailEndpoint",
                                 "detailHandshake", "detailTransfer"}) {
            QVERIFY(label(f.browser, name)->textInteractionFlags() & Qt::TextSelectableByMouse);
            QVERIFY(label(f.browser, name)->textInteractionFlags() & Qt::TextSelectableByKeyboard);
        }

        QVERIFY(f.browser.selectPeer(plain.publicKey));
        // No name: the key's start stands in, so two unnamed peers can be told apart.
        QCOMPARE(label(f.browser, "detailName")->text(),
                 plain.publicKey.left(8) + QChar(0x2026) + u" (no name)"_qs);
        QCOMPARE(label(f.browser, "detailEndpoint")->text(), u"unknown"_qs);
        QCOMPARE(label(f.browser, "detailHandshake")->text(), u"never"_qs);
        QCOMPARE(label(f.browser, "detailKeepalive")->text(), u"off"_qs);
        QVERIFY(!button(f.browser, "copyEndpointButton")->isEnabled());
        QVERIFY(f.browser.copyEndpoint().isEmpty());
        // Not a host route: copied as written.
        QCOMPARE(f.browser.copyAddress(), u"10.9.0.0/24"_qs);
        QCOMPARE(QGuiApplication::clipboard()->text(), u"10.9.0.0/24"_qs);
    }

    void emptyState() {
        Fixture f;
        f.browser.setEmptyText(u"Not connected"_qs);
        f.browser.show();
        QVERIFY(QTest::qWaitForWindowExposed(&f.browser));
        QLabel* empty = label(f.browser, "peerEmptyText");
        QVERIFY(empty->isVisible());
        QCOMPARE(empty->text(), u"Not connected"_qs);
        QVERIFY(!f.browser.table()->isVisible());
        QVERIFY(f.browser.statusText().startsWith(u"0 "_qs));
        QVERIFY(f.browser.statusText().contains(u"(0 shown)"_qs));

        f.model.setPeers(makePeers(3));
        QVERIFY(!empty->isVisible());
        QVERIFY(f.browser.table()->isVisible());
        QVERIFY(f.browser.statusText().contains(u"(3 shown)"_qs));

        // A filter that matches nothing is not the empty state: the table stays.
        f.browser.filterEdit()->setText(u"no such peer"_qs);
        QVERIFY(f.browser.table()->isVisible());
        QVERIFY(f.browser.statusText().contains(u"(0 shown)"_qs));
        f.browser.filterEdit()->clear();

        QVERIFY(f.browser.selectPeer(keyOf(1)));
        f.browser.setEmptyText(u"No peers in this profile"_qs);
        f.model.clear();
        QVERIFY(empty->isVisible());
        QCOMPARE(empty->text(), u"No peers in this profile"_qs);
        QVERIFY(f.browser.currentPublicKey().isEmpty());
        QVERIFY(showsPlaceholder(f.browser));
    }

    void accessibleNames() {
        Fixture f;
        f.model.setPeers(makePeers(2));
        QVERIFY(f.browser.selectPeer(keyOf(0)));
        QList<QWidget*> interactive{f.browser.filterEdit(), f.browser.table()};
        for (QPushButton* b : f.browser.findChildren<QPushButton*>()) {
            interactive << b;
        }
        for (QLabel* l : f.browser.findChildren<QLabel*>()) {
            if (l->textInteractionFlags() & Qt::TextSelectableByKeyboard) {
                interactive << l;
            }
        }
        QCOMPARE(interactive.size(), 2 + 3 + 8);
        for (QWidget* w : interactive) {
            QVERIFY2(!w->accessibleName().isEmpty(), qPrintable(w->objectName()));
        }
        QVERIFY(!f.browser.filterEdit()->accessibleDescription().isEmpty());
        QCOMPARE(f.browser.filterEdit()->placeholderText(),
                 u"Filter by name, key, address or endpoint"_qs);
    }

    void tableSettings() {
        Fixture f;
        const QTableView* table = f.browser.table();
        QVERIFY(table->isSortingEnabled());
        QCOMPARE(table->selectionBehavior(), QAbstractItemView::SelectRows);
        QCOMPARE(table->selectionMode(), QAbstractItemView::SingleSelection);
        QCOMPARE(table->editTriggers(), QAbstractItemView::NoEditTriggers);
        QVERIFY(table->alternatingRowColors());
        const QHeaderView* header = table->horizontalHeader();
        QCOMPARE(header->sectionResizeMode(PeerModel::Addresses), QHeaderView::Stretch);
        QCOMPARE(header->sectionResizeMode(PeerModel::Name), QHeaderView::Interactive);
        QCOMPARE(f.browser.proxy()->sortRole(), int(PeerModel::SortRole));
        QCOMPARE(f.browser.proxy()->filterRole(), int(PeerModel::FilterRole));
        QCOMPARE(f.browser.proxy()->filterCaseSensitivity(), Qt::CaseInsensitive);
        QVERIFY(f.browser.proxy()->dynamicSortFilter());
    }

    void saveRestoreState() {
        QByteArray state;
        {
            Fixture f;
            f.model.setPeers(makePeers(20));
            f.browser.table()->horizontalHeader()->resizeSection(PeerModel::Endpoint, 333);
            f.browser.table()->sortByColumn(PeerModel::Sent, Qt::DescendingOrder);
            state = f.browser.saveState();
        }
        Fixture f;
        QVERIFY(f.browser.restoreState(state));
        f.model.setPeers(makePeers(20));
        // Restored widths are not overwritten by the first-rows fit.
        QCOMPARE(f.browser.table()->horizontalHeader()->sectionSize(PeerModel::Endpoint), 333);
        QCOMPARE(f.browser.proxy()->sortColumn(), int(PeerModel::Sent));
        QCOMPARE(f.browser.proxy()->sortOrder(), Qt::DescendingOrder);
        QCOMPARE(f.browser.proxy()->index(0, 0).data(PeerModel::PublicKeyRole).toString(),
                 keyOf(19));

        QVERIFY(!f.browser.restoreState({}));
        QVERIFY(!f.browser.restoreState("garbage"));
    }
};

QTEST_MAIN(TestPeerBrowser)
#include "tst_peerbrowser.moc"
