// KeychainSecretStore on Windows: Credential Manager (under Wine in CI, Wine's implementation
// of the same API). A secret written is read back exactly, also non-ASCII and also when it is
// longer than one credential holds (2,560 bytes: it is split); a shorter secret written over a
// longer one leaves no tail behind; a missing entry reads as nothing without an error; removal
// is idempotent and takes every part; a secret over 64,000 bytes is refused with a message
// instead of being cut; callbacks come later, never inside the call.
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include <optional>
#include <string>

#include <windows.h>
// wincred.h needs windows.h's types first.
#include <wincred.h>

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

// Whether the credential of that exact name exists (a part of a split secret).
bool credentialExists(const QString& target) {
    PCREDENTIALW credential = nullptr;
    const std::wstring name = target.toStdWString();
    if (!::CredReadW(name.c_str(), CRED_TYPE_GENERIC, 0, &credential))
        return false;
    ::CredFree(credential);
    return true;
}

// Writes a stray credential of that name (as a failed clean-up would leave behind).
bool writeStray(const QString& target) {
    std::wstring name = target.toStdWString();
    char junk[] = "junk";
    CREDENTIALW credential{};
    credential.Type = CRED_TYPE_GENERIC;
    credential.TargetName = name.data();
    credential.Persist = CRED_PERSIST_LOCAL_MACHINE;
    credential.CredentialBlobSize = sizeof junk - 1;
    credential.CredentialBlob = reinterpret_cast<LPBYTE>(junk);
    return ::CredWriteW(&credential, 0);
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

    void longSecretsAreSplitAndJoined() {
        KeychainSecretStore store;
        const QString key = QStringLiteral("https://calnet.test/long");
        bool inline_ = true;
        // Multi-byte characters across the 2,560-byte boundaries.
        QString longSecret;
        for (int i = 0; longSecret.toUtf8().size() < 9000; ++i)
            longSecret += (i % 7 == 0) ? QStringLiteral("ß👋") : QString(QChar(u'a' + i % 26));
        const QString base = QStringLiteral("Calnet/") + key;
        const auto part = [&](int n) { return QStringLiteral("Calnet#%1/").arg(n) + key; };
        QCOMPARE(writeSecret(store, key, longSecret, &inline_), QString());
        QVERIFY(credentialExists(part(4))); // 9,000 bytes: four parts
        QVERIFY(!credentialExists(part(5)));
        QCOMPARE(readBack(store, key).secret.value_or(QString()), longSecret);
        // Shorter over longer: the old tail must not come back.
        QCOMPARE(writeSecret(store, key, QStringLiteral("short"), &inline_), QString());
        QVERIFY(!credentialExists(part(2)));
        QCOMPARE(readBack(store, key).secret.value_or(QString()), QStringLiteral("short"));
        // A stray part (a clean-up that failed) is not joined on: the first part says how many.
        QVERIFY(writeStray(part(2)));
        QCOMPARE(readBack(store, key).secret.value_or(QString()), QStringLiteral("short"));
        QCOMPARE(writeSecret(store, key, longSecret, &inline_), QString());
        QCOMPARE(removeSecret(store, key), QString());
        for (const QString& name : {base, part(2), part(4)})
            QVERIFY2(!credentialExists(name), qPrintable(name));
        const ReadResult gone = readBack(store, key);
        QVERIFY(gone.done);
        QVERIFY(!gone.secret);
        // The empty secret is a secret.
        QCOMPARE(writeSecret(store, key, QString(), &inline_), QString());
        QCOMPARE(readBack(store, key).secret, std::optional<QString>(QString()));
        QCOMPARE(removeSecret(store, key), QString());
    }

    void oversizedSecretIsRefused() {
        KeychainSecretStore store;
        const QString key = QStringLiteral("https://calnet.test/big");
        bool inline_ = true;
        const QString error = writeSecret(store, key, QString(64001, u'y'), &inline_);
        QVERIFY2(error.contains(QStringLiteral("64001")), qPrintable(error));
        QVERIFY(!readBack(store, key).secret);
    }
};

QTEST_MAIN(TestWinKeychain)
#include "tst_winkeychain.moc"
