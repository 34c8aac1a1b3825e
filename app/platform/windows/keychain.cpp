// KeychainSecretStore on Windows: Credential Manager (CredWriteW and friends), generic
// credentials persisted per user on this machine (CRED_PERSIST_LOCAL_MACHINE: they survive
// logging off and never roam to other machines). The secret is stored as UTF-8 under
// "Calnet/<key>". One credential holds at most 2,560 bytes; a longer secret (some providers'
// refresh tokens are) continues in "Calnet#2/<key>", "Calnet#3/<key>", ... (no key can name
// those: every key lives under "Calnet/"), up to 25 parts, and the first part's comment says how
// many there are ("parts=N"), so a reader joins exactly the parts of one write. The calls are
// quick and local, so each runs at once and its callback is posted to run later on this thread,
// as SecretStore promises.
#include "app/calnet/secretstore.h"

#include <QTimer>

#include <algorithm>
#include <optional>
#include <string>

#include <windows.h>
// wincred.h needs windows.h's types first.
#include <wincred.h>

#include "helper/platform/windows/systemerror.h"

namespace calnet::app {

namespace {

// CRED_MAX_CREDENTIAL_BLOB_SIZE since Windows Vista (5 * 512 bytes); mingw-w64's wincred.h still
// has the 512 of Windows XP.
constexpr qsizetype kChunkBytes = 5 * 512;
constexpr int kMaxChunks = 25; // 64,000 bytes: far above any token, and a bound on every loop

std::wstring targetFor(const QString& key, int part) {
    const QString service = part > 1
                                ? KeychainSecretStore::kService + QStringLiteral("#%1").arg(part)
                                : KeychainSecretStore::kService;
    return (service + u'/' + key).toStdWString();
}

QString lastErrorText(DWORD code) {
    return QStringLiteral("Credential Manager: %1")
        .arg(calnet::platform::windows::systemErrorText(code));
}

// One part: its bytes appended to `out` (zeroed in the credential before it is freed), and the
// parts count of its comment. nullopt when absent; `error` set on any other failure.
std::optional<int> readPart(const QString& key, int part, QByteArray& out, QString& error) {
    PCREDENTIALW credential = nullptr;
    const std::wstring target = targetFor(key, part);
    if (!::CredReadW(target.c_str(), CRED_TYPE_GENERIC, 0, &credential)) {
        const DWORD code = ::GetLastError();
        if (code != ERROR_NOT_FOUND)
            error = lastErrorText(code);
        return std::nullopt;
    }
    out.append(reinterpret_cast<const char*>(credential->CredentialBlob),
               qsizetype(credential->CredentialBlobSize));
    int parts = 1;
    if (credential->Comment) {
        const QString comment = QString::fromWCharArray(credential->Comment);
        if (comment.startsWith(QLatin1String("parts=")))
            parts = comment.mid(6).toInt();
    }
    ::SecureZeroMemory(credential->CredentialBlob, credential->CredentialBlobSize);
    ::CredFree(credential);
    return parts;
}

// How many parts the stored secret has (1 when absent or unreadable).
int storedParts(const QString& key) {
    QByteArray scratch;
    QString error;
    const int parts = readPart(key, 1, scratch, error).value_or(1);
    ::SecureZeroMemory(scratch.data(), size_t(scratch.size()));
    return std::clamp(parts, 1, kMaxChunks);
}

// Deletes parts first..last (those that exist); "" or the first error.
QString removeParts(const QString& key, int first, int last) {
    for (int part = first; part <= last; ++part) {
        const std::wstring target = targetFor(key, part);
        if (!::CredDeleteW(target.c_str(), CRED_TYPE_GENERIC, 0)) {
            const DWORD code = ::GetLastError();
            if (code != ERROR_NOT_FOUND)
                return lastErrorText(code);
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
    if (const auto parts = readPart(key, 1, bytes, error)) {
        if (*parts < 1 || *parts > kMaxChunks) {
            error = QStringLiteral("Credential Manager: %1 holds a bad part count")
                        .arg(QString::fromStdWString(targetFor(key, 1)));
        }
        for (int part = 2; error.isEmpty() && part <= *parts; ++part) {
            if (!readPart(key, part, bytes, error) && error.isEmpty())
                error = QStringLiteral("Credential Manager: part %1 of %2 of the secret is missing")
                            .arg(part)
                            .arg(*parts);
        }
        if (error.isEmpty())
            secret = QString::fromUtf8(bytes);
    }
    ::SecureZeroMemory(bytes.data(), size_t(bytes.size()));
    QTimer::singleShot(0, this, [secret, error, done = std::move(done)] { done(secret, error); });
}

void KeychainSecretStore::write(const QString& key, const QString& secret, Done done) {
    QByteArray blob = secret.toUtf8();
    std::wstring user = kService.toStdWString();
    QString error;
    const int parts = std::max(1, int((blob.size() + kChunkBytes - 1) / kChunkBytes));
    if (parts > kMaxChunks) {
        error = QStringLiteral("Credential Manager: the secret is %1 bytes, more than the %2 "
                               "Calnet keeps")
                    .arg(blob.size())
                    .arg(kChunkBytes * kMaxChunks);
    } else {
        const int before = storedParts(key);
        // The continuation parts first, the first part (with the count) last.
        std::wstring comment = QStringLiteral("parts=%1").arg(parts).toStdWString();
        for (int part = parts; part >= 1 && error.isEmpty(); --part) {
            std::wstring target = targetFor(key, part);
            const qsizetype offset = (part - 1) * kChunkBytes;
            CREDENTIALW credential{};
            credential.Type = CRED_TYPE_GENERIC;
            credential.TargetName = target.data();
            credential.UserName = user.data();
            credential.Comment = part == 1 ? comment.data() : nullptr;
            credential.Persist = CRED_PERSIST_LOCAL_MACHINE;
            credential.CredentialBlobSize = DWORD(std::min(kChunkBytes, blob.size() - offset));
            credential.CredentialBlob = reinterpret_cast<LPBYTE>(blob.data() + offset);
            if (!::CredWriteW(&credential, 0))
                error = lastErrorText(::GetLastError());
        }
        // The parts a longer secret written before left behind.
        if (error.isEmpty())
            error = removeParts(key, parts + 1, before);
    }
    ::SecureZeroMemory(blob.data(), size_t(blob.size()));
    QTimer::singleShot(0, this, [error, done = std::move(done)] { done(error); });
}

void KeychainSecretStore::remove(const QString& key, Done done) {
    // The continuation parts first: the first part carries the count.
    const int parts = storedParts(key);
    QString error = removeParts(key, 2, parts);
    if (error.isEmpty())
        error = removeParts(key, 1, 1);
    QTimer::singleShot(0, this, [error, done = std::move(done)] { done(error); });
}

} // namespace calnet::app
