// KeychainSecretStore on Linux: the Secret Service (GNOME Keyring, KWallet) through QtKeychain.
#include "app/calnet/secretstore.h"

#include <qt6keychain/keychain.h>

namespace calnet::app {

const QString KeychainSecretStore::kService = QStringLiteral("Calnet");

KeychainSecretStore::KeychainSecretStore(QObject* parent) : SecretStore(parent) {}

void KeychainSecretStore::read(const QString& key, ReadDone done) {
    auto* job = new QKeychain::ReadPasswordJob(kService, this);
    job->setKey(key);
    job->setAutoDelete(true);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job* j) {
        auto* r = static_cast<QKeychain::ReadPasswordJob*>(j);
        if (r->error() == QKeychain::EntryNotFound)
            done(std::nullopt, {});
        else if (r->error() != QKeychain::NoError)
            done(std::nullopt, r->errorString());
        else
            done(r->textData(), {});
    });
    job->start();
}

void KeychainSecretStore::write(const QString& key, const QString& secret, Done done) {
    auto* job = new QKeychain::WritePasswordJob(kService, this);
    job->setKey(key);
    job->setTextData(secret);
    job->setAutoDelete(true);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job* j) {
        done(j->error() == QKeychain::NoError ? QString() : j->errorString());
    });
    job->start();
}

void KeychainSecretStore::remove(const QString& key, Done done) {
    auto* job = new QKeychain::DeletePasswordJob(kService, this);
    job->setKey(key);
    job->setAutoDelete(true);
    connect(job, &QKeychain::Job::finished, this, [done = std::move(done)](QKeychain::Job* j) {
        const bool gone =
            j->error() == QKeychain::NoError || j->error() == QKeychain::EntryNotFound;
        done(gone ? QString() : j->errorString());
    });
    job->start();
}

} // namespace calnet::app
