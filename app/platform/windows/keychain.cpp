// KeychainSecretStore on Windows: Credential Manager (CredWriteW and friends), one generic
// credential per key named "Calnet/<key>", persisted per user on this machine
// (CRED_PERSIST_LOCAL_MACHINE: it survives logging off, never roams to other machines). The
// secret is stored as UTF-8. The calls are quick and local, so each runs at once and its callback
// is posted to run later on this thread, as SecretStore promises.
#include "app/calnet/secretstore.h"

#include <QTimer>

#include <string>

#include <windows.h>
// wincred.h needs windows.h's types first.
#include <wincred.h>

namespace calnet::app {

namespace {

// CRED_MAX_CREDENTIAL_BLOB_SIZE since Windows Vista (5 * 512 bytes); mingw-w64's wincred.h still
// has the 512 of Windows XP.
constexpr int kMaxBlobBytes = 5 * 512;

std::wstring targetFor(const QString& key) {
    return (KeychainSecretStore::kService + u'/' + key).toStdWString();
}

QString lastErrorText() {
    const DWORD code = ::GetLastError();
    wchar_t* text = nullptr;
    const DWORD n = ::FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
    QString out =
        n ? QString::fromWCharArray(text, int(n)).trimmed() : QStringLiteral("error %1").arg(code);
    if (text)
        ::LocalFree(text);
    return QStringLiteral("Credential Manager: %1").arg(out);
}

} // namespace

const QString KeychainSecretStore::kService = QStringLiteral("Calnet");

KeychainSecretStore::KeychainSecretStore(QObject* parent) : SecretStore(parent) {}

void KeychainSecretStore::read(const QString& key, ReadDone done) {
    std::optional<QString> secret;
    QString error;
    PCREDENTIALW credential = nullptr;
    const std::wstring target = targetFor(key);
    if (::CredReadW(target.c_str(), CRED_TYPE_GENERIC, 0, &credential)) {
        secret = QString::fromUtf8(reinterpret_cast<const char*>(credential->CredentialBlob),
                                   qsizetype(credential->CredentialBlobSize));
        ::CredFree(credential);
    } else if (::GetLastError() != ERROR_NOT_FOUND) {
        error = lastErrorText();
    }
    QTimer::singleShot(0, this, [secret, error, done = std::move(done)] { done(secret, error); });
}

void KeychainSecretStore::write(const QString& key, const QString& secret, Done done) {
    QByteArray blob = secret.toUtf8();
    std::wstring target = targetFor(key);
    std::wstring user = kService.toStdWString();
    QString error;
    if (blob.size() > kMaxBlobBytes) {
        error = QStringLiteral("Credential Manager: the secret is %1 bytes, more than the %2 a "
                               "credential holds")
                    .arg(blob.size())
                    .arg(kMaxBlobBytes);
    } else {
        CREDENTIALW credential{};
        credential.Type = CRED_TYPE_GENERIC;
        credential.TargetName = target.data();
        credential.UserName = user.data();
        credential.Persist = CRED_PERSIST_LOCAL_MACHINE;
        credential.CredentialBlobSize = DWORD(blob.size());
        credential.CredentialBlob = reinterpret_cast<LPBYTE>(blob.data());
        if (!::CredWriteW(&credential, 0))
            error = lastErrorText();
    }
    ::SecureZeroMemory(blob.data(), size_t(blob.size()));
    QTimer::singleShot(0, this, [error, done = std::move(done)] { done(error); });
}

void KeychainSecretStore::remove(const QString& key, Done done) {
    QString error;
    const std::wstring target = targetFor(key);
    if (!::CredDeleteW(target.c_str(), CRED_TYPE_GENERIC, 0) && ::GetLastError() != ERROR_NOT_FOUND)
        error = lastErrorText();
    QTimer::singleShot(0, this, [error, done = std::move(done)] { done(error); });
}

} // namespace calnet::app
