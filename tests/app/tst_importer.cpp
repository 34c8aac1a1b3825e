// Tests for Importer and DropImportFilter against the fake helper (tests/app/fakehelper.h, a
// QLocalServer speaking the real frames): profile names from file names, which drops are
// accepted, line errors and permission_denied in the message, success with "Connect now"
// sending `connect`, local refusals (size limit, unreadable, not UTF-8, helper not running)
// that never reach the helper, several files in order, the file dialog, and a drop.
#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <memory>

#include "app/calnet/importer.h"
#include "app/calnet/session.h"
#include "fakehelper.h"
#include "helper/ipc/protocol.h"

using namespace calnet;
using namespace calnet::app;

namespace {

constexpr int kWaitMs = 5000;

const QByteArray kGoodConfig = "[Interface]\nPrivateKey = aGVsbG8=\nAddress = 10.0.0.2/32\n";

QMimeData* mimeWithUrls(const QList<QUrl>& urls) {
    auto* mime = new QMimeData;
    mime->setUrls(urls);
    return mime;
}

// The fake helper's answers to profiles.import, chosen by a marker in the config.
std::optional<QJsonObject> importOverride(const ipc::Request& r) {
    if (r.method != ipc::kMethodProfilesImport) {
        return std::nullopt;
    }
    const QString config = r.params.value(u"config"_qs).toString();
    if (config.contains(u"# bad"_qs)) {
        const QJsonArray errors{QJsonObject{{u"line"_qs, 3}, {u"reason"_qs, u"unknown key Foo"_qs}},
                                QJsonObject{{u"line"_qs, 7}, {u"reason"_qs, u"bad endpoint"_qs}}};
        return ipc::makeError(r.id, ipc::ErrorCode::InvalidParams, u"config does not parse"_qs,
                              QJsonObject{{u"errors"_qs, errors}});
    }
    if (config.contains(u"# denied"_qs)) {
        return ipc::makeError(r.id, ipc::ErrorCode::PermissionDenied, u"admin role required"_qs);
    }
    if (config.contains(u"# taken"_qs)) {
        return ipc::makeError(r.id, ipc::ErrorCode::Conflict, u"a profile named x exists"_qs);
    }
    return std::nullopt; // the fake's default: success, Profile with the requested name
}

QPushButton* buttonWithRole(QMessageBox* box, QMessageBox::ButtonRole role) {
    for (QAbstractButton* b : box->buttons()) {
        if (box->buttonRole(b) == role) {
            return qobject_cast<QPushButton*>(b);
        }
    }
    return nullptr;
}

} // namespace

class TestImporter : public QObject {
    Q_OBJECT

private slots:
    void profileNameFor_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << u"/etc/wireguard/wg0.conf"_qs << u"wg0"_qs;
        QTest::newRow("upper-case suffix") << u"/x/office_1-2.CONF"_qs << u"office_1-2"_qs;
        QTest::newRow("spaces and brackets") << u"/x/My VPN (home).conf"_qs << u"My-VPN-home"_qs;
        QTest::newRow("inner dots kept") << u"/x/vpn.example.com.conf"_qs << u"vpn.example.com"_qs;
        QTest::newRow("hidden file") << u"/x/.hidden.conf"_qs << u"hidden"_qs;
        QTest::newRow("only suffix") << u"/x/.conf"_qs << u"tunnel"_qs;
        QTest::newRow("non-ASCII run") << u"/x/büro-ü.conf"_qs << u"b-ro"_qs;
        QTest::newRow("all non-ASCII") << u"/x/日本.conf"_qs << u"tunnel"_qs;
        QTest::newRow("dashes only") << u"/x/---.conf"_qs << u"tunnel"_qs;
        QTest::newRow("leading dash") << u"/x/-x.conf"_qs << u"x"_qs;
        QTest::newRow("no suffix") << u"/x/mullvad-se4"_qs << u"mullvad-se4"_qs;
        QTest::newRow("long") << u"/x/%1.conf"_qs.arg(QString(40, u'a')) << QString(32, u'a');
        QTest::newRow("cut before a dash")
            << u"/x/%1 b.conf"_qs.arg(QString(31, u'a')) << QString(31, u'a');
        QTest::newRow("relative") << u"peer.conf"_qs << u"peer"_qs;
    }
    void profileNameFor() {
        QFETCH(QString, path);
        QFETCH(QString, expected);
        const QString name = Importer::profileNameFor(path);
        QCOMPARE(name, expected);
        QVERIFY(ipc::isValidProfileName(name));
    }

    void drops_data() {
        QTest::addColumn<QList<QUrl>>("urls");
        QTest::addColumn<QStringList>("expected");
        const auto local = [](const char* path) {
            return QUrl::fromLocalFile(QString::fromUtf8(path));
        };
        QTest::newRow("conf") << QList<QUrl>{local("/tmp/a.conf")}
                              << QStringList{u"/tmp/a.conf"_qs};
        QTest::newRow("CONF") << QList<QUrl>{local("/tmp/B.CONF")}
                              << QStringList{u"/tmp/B.CONF"_qs};
        QTest::newRow("txt") << QList<QUrl>{local("/tmp/a.txt")} << QStringList{};
        QTest::newRow("conf in name only")
            << QList<QUrl>{local("/tmp/a.conf.txt")} << QStringList{};
        QTest::newRow("remote") << QList<QUrl>{QUrl(u"https://example.com/a.conf"_qs)}
                                << QStringList{};
        QTest::newRow("mixed, duplicate")
            << QList<QUrl>{local("/tmp/a.txt"), QUrl(u"https://example.com/a.conf"_qs),
                           local("/tmp/c.conf"), local("/tmp/d.Conf"), local("/tmp/c.conf")}
            << QStringList{u"/tmp/c.conf"_qs, u"/tmp/d.Conf"_qs};
        QTest::newRow("none") << QList<QUrl>{} << QStringList{};
    }
    void drops() {
        QFETCH(QList<QUrl>, urls);
        QFETCH(QStringList, expected);
        std::unique_ptr<QMimeData> mime(mimeWithUrls(urls));
        QCOMPARE(Importer::confFilesFrom(mime.get()), expected);
        QCOMPARE(Importer::acceptsDrop(mime.get()), !expected.isEmpty());
    }
    void dropsWithoutUrls() {
        QMimeData text;
        text.setText(u"/tmp/a.conf"_qs);
        QVERIFY(!Importer::acceptsDrop(&text));
        QVERIFY(!Importer::acceptsDrop(nullptr));
        QVERIFY(Importer::confFilesFrom(nullptr).isEmpty());
    }

    void init() {
        files_ = std::make_unique<QTemporaryDir>();
        QVERIFY(files_->isValid());
        helper_ = std::make_unique<test::FakeHelper>();
        helper_->override = importOverride;
        QVERIFY(helper_->start());
        session_ = std::make_unique<HelperSession>();
        session_->start(helper_->path());
        QTRY_VERIFY_WITH_TIMEOUT(session_->isAvailable(), kWaitMs);
        importer_ = std::make_unique<Importer>(session_.get(), nullptr);
    }
    void cleanup() {
        importer_.reset();
        session_.reset();
        helper_.reset();
        files_.reset();
    }

    void lineErrors() {
        const QString path = write(u"bad.conf"_qs, kGoodConfig + "# bad\n");
        QSignalSpy failed(importer_.get(), &Importer::importFailed);
        QSignalSpy imported(importer_.get(), &Importer::imported);
        importer_->importFiles({path});
        QVERIFY(failed.wait(kWaitMs));
        QCOMPARE(failed.first().at(0).toString(), path);
        QVERIFY(failed.first().at(1).toString().contains(u"Line 3"_qs));
        QCOMPARE(imported.count(), 0);

        // The helper got the file as it is, under the name from the file name.
        const ipc::Request request = lastRequest(ipc::kMethodProfilesImport);
        QCOMPARE(request.params.value(u"name"_qs).toString(), u"bad"_qs);
        QCOMPARE(request.params.value(u"config"_qs).toString(),
                 QString::fromUtf8(kGoodConfig + "# bad\n"));

        QMessageBox* box = importer_->lastMessage();
        QVERIFY(box != nullptr);
        QVERIFY(box->isVisible());
        QCOMPARE(box->text(), u"Could not import bad.conf"_qs);
        QVERIFY(box->informativeText().contains(u"Line 3: unknown key Foo"_qs));
        QVERIFY(box->informativeText().contains(u"Line 7: bad endpoint"_qs));
        QVERIFY(box->detailedText().contains(u"Line 3: unknown key Foo"_qs));
        QVERIFY(box->detailedText().contains(u"Line 7: bad endpoint"_qs));
        QVERIFY(buttonWithRole(box, QMessageBox::AcceptRole) == nullptr); // no "Connect now"
        // Non-blocking: we got here while it is open.
        QVERIFY(box->windowModality() != Qt::ApplicationModal || !box->isModal());
    }

    void permissionDenied() {
        const QString path = write(u"denied.conf"_qs, kGoodConfig + "# denied\n");
        QSignalSpy failed(importer_.get(), &Importer::importFailed);
        importer_->importFiles({path});
        QVERIFY(failed.wait(kWaitMs));
        QMessageBox* box = importer_->lastMessage();
        QVERIFY(box != nullptr && box->isVisible());
        QCOMPARE(box->text(), u"Could not import denied.conf"_qs);
        // Says why and how to fix it.
        QVERIFY(box->informativeText().contains(u"“calnet” group"_qs));
        QVERIFY(box->informativeText().contains(u"usermod -aG calnet"_qs));
        QVERIFY(failed.first().at(1).toString().contains(u"calnet"_qs));
    }

    void otherHelperError() {
        const QString path = write(u"taken.conf"_qs, kGoodConfig + "# taken\n");
        QSignalSpy failed(importer_.get(), &Importer::importFailed);
        importer_->importFiles({path});
        QVERIFY(failed.wait(kWaitMs));
        QCOMPARE(failed.first().at(1).toString(), u"a profile named x exists"_qs);
        QCOMPARE(importer_->lastMessage()->informativeText(), u"a profile named x exists"_qs);
    }

    void successConnectNow() {
        const QString path = write(u"home.conf"_qs, kGoodConfig);
        QSignalSpy imported(importer_.get(), &Importer::imported);
        importer_->importFiles({path});
        QVERIFY(imported.wait(kWaitMs));
        QCOMPARE(imported.first().at(0).toString(), u"home"_qs);

        QPointer<QMessageBox> box = importer_->lastMessage();
        QVERIFY(box != nullptr && box->isVisible());
        QCOMPARE(box->text(), u"Imported home"_qs);
        QPushButton* connectNow = buttonWithRole(box, QMessageBox::AcceptRole);
        QVERIFY(connectNow != nullptr);
        QCOMPARE(connectNow->text(), u"Connect now"_qs);
        QVERIFY(!connectNow->accessibleName().isEmpty());
        QVERIFY(box->button(QMessageBox::Close) != nullptr);
        QCOMPARE(helper_->count(ipc::kMethodConnect), 0);

        QTest::mouseClick(connectNow, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(helper_->count(ipc::kMethodConnect), 1, kWaitMs);
        QCOMPARE(lastRequest(ipc::kMethodConnect).params.value(u"name"_qs).toString(), u"home"_qs);
        QTRY_VERIFY_WITH_TIMEOUT(box.isNull(), kWaitMs); // closed and deleted
        QTRY_COMPARE_WITH_TIMEOUT(session_->status().state, u"connected"_qs, kWaitMs);
    }

    void successClose() {
        const QString path = write(u"work.conf"_qs, kGoodConfig);
        QSignalSpy imported(importer_.get(), &Importer::imported);
        importer_->importFiles({path});
        QVERIFY(imported.wait(kWaitMs));
        QPointer<QMessageBox> box = importer_->lastMessage();
        QVERIFY(box != nullptr);
        QTest::mouseClick(box->button(QMessageBox::Close), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(box.isNull(), kWaitMs);
        // A round trip after the click: a stray connect would have arrived before its reply.
        bool answered = false;
        session_->client()->call(ipc::kMethodStatus, {},
                                 [&](const ipc::Reply&) { answered = true; });
        QTRY_VERIFY_WITH_TIMEOUT(answered, kWaitMs);
        QCOMPARE(helper_->count(ipc::kMethodConnect), 0);
    }

    // Refused before the helper is asked.
    void localRefusals_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QByteArray>("content"); // null: do not create
        QTest::addColumn<QString>("reason");
        QTest::newRow("too large")
            << u"big.conf"_qs << QByteArray(ipc::kMaxConfigBytes + 1, 'x') << u"256 KiB"_qs;
        // The OS's own words for a missing file ("No such file or directory", "File not found.").
        QFile probe(QDir::temp().filePath(u"calnet-importer-no-such-file.conf"_qs));
        QVERIFY(!probe.open(QIODevice::ReadOnly));
        QTest::newRow("missing") << u"missing.conf"_qs << QByteArray() << probe.errorString();
        QTest::newRow("not UTF-8")
            << u"latin1.conf"_qs << QByteArray("[Interface]\n# caf\xe9\n") << u"UTF-8"_qs;
        QTest::newRow("folder") << u"dir.conf"_qs << QByteArray() << u"folder"_qs;
    }
    void localRefusals() {
        QFETCH(QString, file);
        QFETCH(QByteArray, content);
        QFETCH(QString, reason);
        const QString path = files_->filePath(file);
        if (!content.isNull()) {
            write(file, content);
        } else if (file == u"dir.conf"_qs) {
            QVERIFY(QDir(files_->path()).mkdir(file));
        }
        QSignalSpy failed(importer_.get(), &Importer::importFailed);
        importer_->importFiles({path});
        QCOMPARE(failed.count(), 1); // synchronously: nothing to wait for
        QVERIFY2(failed.first().at(1).toString().contains(reason),
                 qPrintable(failed.first().at(1).toString()));
        QMessageBox* box = importer_->lastMessage();
        QVERIFY(box != nullptr && box->isVisible());
        QCOMPARE(box->text(), u"Could not import %1"_qs.arg(file));
        QVERIFY(box->informativeText().contains(reason));
        QCOMPARE(importer_->pendingFiles(), 0);
        QCOMPARE(helper_->count(ipc::kMethodProfilesImport), 0);
    }

    // Exactly at the limit is fine.
    void sizeLimitInclusive() {
        QByteArray config = kGoodConfig;
        config.append(QByteArray(ipc::kMaxConfigBytes - config.size(), '#'));
        const QString path = write(u"max.conf"_qs, config);
        QSignalSpy imported(importer_.get(), &Importer::imported);
        importer_->importFiles({path});
        QVERIFY(imported.wait(kWaitMs));
        QCOMPARE(
            lastRequest(ipc::kMethodProfilesImport).params.value(u"config"_qs).toString().size(),
            ipc::kMaxConfigBytes);
    }

    void helperNotRunning() {
        helper_->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!session_->isAvailable(), kWaitMs);
        QSignalSpy failed(importer_.get(), &Importer::importFailed);
        importer_->importFiles({write(u"home.conf"_qs, kGoodConfig)});
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.first().at(1).toString().contains(u"not running"_qs));
    }

    // Files go to the helper one at a time, in order; their messages follow one another.
    void severalFiles() {
        const QString bad = write(u"bad.conf"_qs, kGoodConfig + "# bad\n");
        const QString one = write(u"one.conf"_qs, kGoodConfig);
        const QString two = write(u"two.conf"_qs, kGoodConfig);
        QSignalSpy imported(importer_.get(), &Importer::imported);
        QSignalSpy failed(importer_.get(), &Importer::importFailed);
        importer_->importFiles({bad, one});
        importer_->importFiles({two});
        QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 2, kWaitMs);
        QCOMPARE(failed.count(), 1);
        QCOMPARE(importer_->pendingFiles(), 0);
        QStringList names;
        for (const ipc::Request& r : std::as_const(helper_->requests)) {
            if (r.method == ipc::kMethodProfilesImport) {
                names << r.params.value(u"name"_qs).toString();
            }
        }
        QCOMPARE(names, (QStringList{u"bad"_qs, u"one"_qs, u"two"_qs}));

        QStringList shown;
        for (int i = 0; i < 3; ++i) {
            QPointer<QMessageBox> box = importer_->lastMessage();
            QVERIFY(box != nullptr);
            QTRY_VERIFY_WITH_TIMEOUT(box->isVisible(), kWaitMs);
            shown << box->text();
            QTest::mouseClick(box->button(QMessageBox::Close), Qt::LeftButton);
            QTRY_VERIFY_WITH_TIMEOUT(box.isNull(), kWaitMs);
            if (i < 2) {
                QTRY_VERIFY_WITH_TIMEOUT(importer_->lastMessage() != nullptr, kWaitMs);
            }
        }
        QCOMPARE(shown, (QStringList{u"Could not import bad.conf"_qs, u"Imported one"_qs,
                                     u"Imported two"_qs}));
    }

    void fileDialog() {
        importer_->chooseFiles();
        QPointer<QFileDialog> dialog = importer_->fileDialog();
        QVERIFY(dialog != nullptr);
        QVERIFY(dialog->isVisible());
        QCOMPARE(dialog->nameFilters(), QStringList{u"WireGuard tunnels (*.conf)"_qs});
        QCOMPARE(dialog->fileMode(), QFileDialog::ExistingFiles);
        QCOMPARE(dialog->acceptMode(), QFileDialog::AcceptOpen);
        // A second request raises the same dialog.
        importer_->chooseFiles();
        QCOMPARE(importer_->fileDialog(), dialog.data());

        const QString path = write(u"picked.conf"_qs, kGoodConfig);
        QSignalSpy imported(importer_.get(), &Importer::imported);
        dialog->setDirectory(files_->path());
        dialog->selectFile(path);
        static_cast<QDialog*>(dialog.data())->accept(); // QFileDialog::accept is protected
        QVERIFY(imported.wait(kWaitMs));
        QCOMPARE(imported.first().at(0).toString(), u"picked"_qs);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.isNull(), kWaitMs); // deleted on close
    }

    void dropOnWindow() {
        const QString path = write(u"dropped.conf"_qs, kGoodConfig);
        QWidget window;
        window.setAcceptDrops(true);
        DropImportFilter filter(importer_.get());
        window.installEventFilter(&filter);
        QSignalSpy imported(importer_.get(), &Importer::imported);

        // Not a .conf: passed through, and the widget ignores it.
        {
            std::unique_ptr<QMimeData> mime(
                mimeWithUrls({QUrl::fromLocalFile(files_->filePath(u"notes.txt"_qs))}));
            QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction | Qt::MoveAction, mime.get(),
                                  Qt::LeftButton, Qt::NoModifier);
            enter.ignore();
            QCoreApplication::sendEvent(&window, &enter);
            QVERIFY(!enter.isAccepted());
            QDropEvent drop(QPointF(5, 5), Qt::CopyAction, mime.get(), Qt::LeftButton,
                            Qt::NoModifier);
            drop.ignore();
            QCoreApplication::sendEvent(&window, &drop);
            QVERIFY(!drop.isAccepted());
        }

        std::unique_ptr<QMimeData> mime(mimeWithUrls({QUrl::fromLocalFile(path)}));
        QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction | Qt::MoveAction, mime.get(),
                              Qt::LeftButton, Qt::NoModifier);
        enter.ignore();
        QCoreApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QCOMPARE(enter.dropAction(), Qt::CopyAction);
        QDragMoveEvent move(QPoint(6, 6), Qt::CopyAction | Qt::MoveAction, mime.get(),
                            Qt::LeftButton, Qt::NoModifier);
        move.ignore();
        QCoreApplication::sendEvent(&window, &move);
        QVERIFY(move.isAccepted());
        QDropEvent drop(QPointF(6, 6), Qt::CopyAction | Qt::MoveAction, mime.get(), Qt::LeftButton,
                        Qt::NoModifier);
        drop.ignore();
        QCoreApplication::sendEvent(&window, &drop);
        QVERIFY(drop.isAccepted());
        QCOMPARE(drop.dropAction(), Qt::CopyAction);

        QVERIFY(imported.wait(kWaitMs));
        QCOMPARE(imported.first().at(0).toString(), u"dropped"_qs);
        QCOMPARE(helper_->count(ipc::kMethodProfilesImport), 1);
    }

private:
    QString write(const QString& name, const QByteArray& content) {
        const QString path = files_->filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size()) {
            qFatal("cannot write %s", qPrintable(path));
        }
        return path;
    }

    ipc::Request lastRequest(QLatin1StringView method) const {
        for (qsizetype i = helper_->requests.size() - 1; i >= 0; --i) {
            if (helper_->requests.at(i).method == method) {
                return helper_->requests.at(i);
            }
        }
        return {};
    }

    std::unique_ptr<QTemporaryDir> files_;
    std::unique_ptr<test::FakeHelper> helper_;
    std::unique_ptr<HelperSession> session_;
    std::unique_ptr<Importer> importer_;
};

QTEST_MAIN(TestImporter)
#include "tst_importer.moc"
