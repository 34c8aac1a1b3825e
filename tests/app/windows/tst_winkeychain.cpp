// KeychainSecretStore on Windows: Credential Manager (under Wine in CI, Wine's implementation
// of the same API). A secret written is read back exactly, also non-ASCII; a missing entry
// reads as nothing without an error; removal is idempotent; a secret larger than a credential
// holds is refused with a message instead of being cut; callbacks come later, never inside
// the call.
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include <optional>

#include "app/calnet/secretstore.h"

using calnet::app::KeychainSecretStore;

namespace {

struct ReadResult {
    bool done = false;
    std::optional<QString> secret;
    QString error;
};

ReadResult readBack(KeychainSecretStore& store, const QString& key) {
    ReadResult out;
    store.read(key, [&](const std::optional<QString>& secret, const QString& error) {
        out.done = true;
        out.secret = secret;
        out.error = error;
    });
    if (out.done)
        return {}; // called inside read(): the test below fails on `done`
    if (!QTest::qWaitFor([&] { return out.done; }, 5000))
        return {}; // out.done stays false: the caller fails
    return out;
}

QString writeSecret(KeychainSecretStore& store, const QString& key, const QString& secret,
                    bool* calledInline) {
    bool done = false;
    QString result = QStringLiteral("not called");
    store.write(key, secret, [&](const QString& error) {
        done = true;
        result = error;
    });
    *calledInline = done;
    if (!QTest::qWaitFor([&] { return done; }, 5000))
        return QStringLiteral("no callback within 5 s");
    return result;
}

QString removeSecret(KeychainSecretStore& store, const QString& key) {
    bool done = false;
    QString result = QStringLiteral("not called");
    store.remove(key, [&](const QString& error) {
        done = true;
        result = error;
    });
    if (!QTest::qWaitFor([&] { return done; }, 5000))
        return QStringLiteral("no callback within 5 s");
    return result;
}

} // namespace

class TestWinKeychain : public QObject {
    Q_OBJECT

private slots:
    void roundTrip() {
        KeychainSecretStore store;
        const QString key =
            QStringLiteral("https://calnet.test/%1").arg(QUuid::createUuid().toString());
        const QString secret = QStringLiteral("refresh-token.Grüße-👋-") + QString(1500, u'x');

        const ReadResult missing = readBack(store, key);
        QVERIFY(missing.done);
        QVERIFY(!missing.secret);
        QCOMPARE(missing.error, QString());

        bool inline_ = true;
        QCOMPARE(writeSecret(store, key, secret, &inline_), QString());
        QVERIFY(!inline_);
        const ReadResult back = readBack(store, key);
        QVERIFY(back.done);
        QCOMPARE(back.error, QString());
        QCOMPARE(back.secret.value_or(QString()), secret);

        // Overwrite, then remove twice.
        QCOMPARE(writeSecret(store, key, QStringLiteral("second"), &inline_), QString());
        QCOMPARE(readBack(store, key).secret.value_or(QString()), QStringLiteral("second"));
        QCOMPARE(removeSecret(store, key), QString());
        QVERIFY(!readBack(store, key).secret);
        QCOMPARE(removeSecret(store, key), QString());
    }

    void oversizedSecretIsRefused() {
        KeychainSecretStore store;
        const QString key = QStringLiteral("https://calnet.test/big");
        bool inline_ = true;
        const QString error = writeSecret(store, key, QString(4000, u'y'), &inline_);
        QVERIFY2(error.contains(QStringLiteral("4000")), qPrintable(error));
        QVERIFY(!readBack(store, key).secret);
    }
};

QTEST_MAIN(TestWinKeychain)
#include "tst_winkeychain.moc"
