// KeychainSecretStore on Windows: Credential Manager (CredWriteW and friends), generic
// credentials persisted per user on this machine (CRED_PERSIST_LOCAL_MACHINE: they survive
// logging off and never roam to other machines). The secret is stored as UTF-8 under
// "Calnet/<key>"; one credential holds at most 2,560 bytes, and a longer secret (some providers'
// refresh tokens are) continues in "Calnet/<key>#2", "#3", ... up to 64 KiB in all. The calls are
// quick and local, so each runs at once and its callback is posted to run later on this thread, as
// SecretStore promises.
#include "app/calnet/secretstore.h"

#include <QTimer>

#include <algorithm>
#include <string>

#include <windows.h>
// wincred.h needs windows.h's types first.
#include <wincred.h>

namespace calnet::app {

namespace {

// CRED_MAX_CREDENTIAL_BLOB_SIZE since Windows Vista (5 * 512 bytes); mingw-w64's wincred.h still
// has the 512 of Windows XP.
constexpr qsizetype kChunkBytes = 5 * 512;
constexpr int kMaxChunks = 25; // 64,000 bytes: far above any token, and a bound on every loop

std::wstring targetFor(const QString& key, int chunk) {
    QString name = KeychainSecretStore::kService + u'/' + key;
    if (chunk > 1)
        name += QStringLiteral("#%1").arg(chunk);
    return name.toStdWString();
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

// Deletes chunks first..kMaxChunks that exist; "" or the first error.
QString removeFrom(const QString& key, int first) {
    for (int chunk = first; chunk <= kMaxChunks; ++chunk) {
        const std::wstring target = targetFor(key, chunk);
        if (!::CredDeleteW(target.c_str(), CRED_TYPE_GENERIC, 0)) {
            if (::GetLastError() == ERROR_NOT_FOUND)
                return {};
            return lastErrorText();
        }
    }
    return {};
}

} // namespace

const QString KeychainSecretStore::kService = QStringLiteral("Calnet");

KeychainSecretStore::KeychainSecretStore(QObject* parent) : SecretStore(parent) {}

void KeychainSecretStore::read(const QString& key, ReadDone done) {
    std::optional<QString> secret;
    QString error;
    QByteArray bytes;
    int found = 0;
    for (int chunk = 1; chunk <= kMaxChunks; ++chunk) {
        PCREDENTIALW credential = nullptr;
        const std::wstring target = targetFor(key, chunk);
        if (!::CredReadW(target.c_str(), CRED_TYPE_GENERIC, 0, &credential)) {
            if (::GetLastError() != ERROR_NOT_FOUND)
                error = lastErrorText();
            break;
        }
        bytes.append(reinterpret_cast<const char*>(credential->CredentialBlob),
                     qsizetype(credential->CredentialBlobSize));
        ::CredFree(credential);
        ++found;
    }
    if (error.isEmpty() && found > 0)
        secret = QString::fromUtf8(bytes);
    ::SecureZeroMemory(bytes.data(), size_t(bytes.size()));
    QTimer::singleShot(0, this, [secret, error, done = std::move(done)] { done(secret, error); });
}

void KeychainSecretStore::write(const QString& key, const QString& secret, Done done) {
    QByteArray blob = secret.toUtf8();
    std::wstring user = kService.toStdWString();
    QString error;
    const auto chunks = int((blob.size() + kChunkBytes - 1) / kChunkBytes);
    if (chunks > kMaxChunks) {
        error = QStringLiteral("Credential Manager: the secret is %1 bytes, more than the %2 "
                               "Calnet keeps")
                    .arg(blob.size())
                    .arg(kChunkBytes * kMaxChunks);
    } else {
        // The continuation chunks first, the first one last: a reader finds the first chunk
        // only once the rest is in place.
        for (int chunk = std::max(chunks, 1); chunk >= 1 && error.isEmpty(); --chunk) {
            std::wstring target = targetFor(key, chunk);
            const qsizetype offset = (chunk - 1) * kChunkBytes;
            CREDENTIALW credential{};
            credential.Type = CRED_TYPE_GENERIC;
            credential.TargetName = target.data();
            credential.UserName = user.data();
            credential.Persist = CRED_PERSIST_LOCAL_MACHINE;
            credential.CredentialBlobSize = DWORD(std::min(kChunkBytes, blob.size() - offset));
            credential.CredentialBlob = reinterpret_cast<LPBYTE>(blob.data() + offset);
            if (!::CredWriteW(&credential, 0))
                error = lastErrorText();
        }
        // What a longer secret written before left behind.
        if (error.isEmpty())
            error = removeFrom(key, std::max(chunks, 1) + 1);
    }
    ::SecureZeroMemory(blob.data(), size_t(blob.size()));
    QTimer::singleShot(0, this, [error, done = std::move(done)] { done(error); });
}

void KeychainSecretStore::remove(const QString& key, Done done) {
    const QString error = removeFrom(key, 1);
    QTimer::singleShot(0, this, [error, done = std::move(done)] { done(error); });
}

} // namespace calnet::app
