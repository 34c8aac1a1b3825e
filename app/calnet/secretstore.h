// Where the app keeps the refresh token of a sign-in: the operating system's keychain (Secret
// Service on Linux through QtKeychain, platform/linux/keychain.cpp; Credential Manager on
// Windows, platform/windows/keychain.cpp), never a file in clear and never calnetd. One secret per
// Calnet server URL. MemorySecretStore is the fake the tests use.
#pragma once

#include <QHash>
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace calnet::app {

class SecretStore : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    // Each callback runs once, later, on this thread. error is "" on success; a read of a
    // missing entry gives nullopt and no error.
    using ReadDone =
        std::function<void(const std::optional<QString>& secret, const QString& error)>;
    using Done = std::function<void(const QString& error)>;
    virtual void read(const QString& key, ReadDone done) = 0;
    virtual void write(const QString& key, const QString& secret, Done done) = 0;
    virtual void remove(const QString& key, Done done) = 0;
};

// The system keychain, service "Calnet".
class KeychainSecretStore : public SecretStore {
    Q_OBJECT
public:
    explicit KeychainSecretStore(QObject* parent = nullptr);
    void read(const QString& key, ReadDone done) override;
    void write(const QString& key, const QString& secret, Done done) override;
    void remove(const QString& key, Done done) override;
    static const QString kService;
};

class MemorySecretStore : public SecretStore {
    Q_OBJECT
public:
    using SecretStore::SecretStore;
    void read(const QString& key, ReadDone done) override;
    void write(const QString& key, const QString& secret, Done done) override;
    void remove(const QString& key, Done done) override;
    QHash<QString, QString> entries;
    QString failWith; // every call fails with this when set (a locked keychain)
};

} // namespace calnet::app
