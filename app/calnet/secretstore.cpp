#include "app/calnet/secretstore.h"

#include <QTimer>

namespace calnet::app {

void MemorySecretStore::read(const QString& key, ReadDone done) {
    QTimer::singleShot(0, this, [this, key, done = std::move(done)] {
        if (!failWith.isEmpty())
            done(std::nullopt, failWith);
        else if (entries.contains(key))
            done(entries.value(key), {});
        else
            done(std::nullopt, {});
    });
}

void MemorySecretStore::write(const QString& key, const QString& secret, Done done) {
    QTimer::singleShot(0, this, [this, key, secret, done = std::move(done)] {
        if (failWith.isEmpty())
            entries.insert(key, secret);
        done(failWith);
    });
}

void MemorySecretStore::remove(const QString& key, Done done) {
    QTimer::singleShot(0, this, [this, key, done = std::move(done)] {
        if (failWith.isEmpty())
            entries.remove(key);
        done(failWith);
    });
}

} // namespace calnet::app
