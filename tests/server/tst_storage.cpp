// Storage and Registry on SQLite and PostgreSQL: migrations, address allocation, pre-auth keys
// (one-time race, reusable, expired, revoked), key rotation. No HTTP here: Registry is driven
// directly, with a clock the test sets.
#include <latch>

#include <QThread>

#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

#include "dbrows.h"
#include "server/registry.h"
#include "server/secrets.h"
#include "server/serverconfig.h"
#include "server/storage.h"

using namespace calnet::server;

namespace {

QString randomKey() {
    QByteArray raw(32, Qt::Uninitialized);
    for (auto& b : raw) {
        b = char(QRandomGenerator::global()->bounded(256));
    }
    return QString::fromLatin1(raw.toBase64());
}

RegisterRequest request(const QString& nodeKey, const QString& authKey,
                        const QString& credential = {}) {
    RegisterRequest r;
    r.nodeKey = nodeKey;
    r.discoKey = randomKey();
    r.hostname = QStringLiteral("host");
    r.os = QStringLiteral("linux");
    r.authKey = authKey;
    r.credential = credential;
    return r;
}

// One open database with its registry.
struct Db {
    explicit Db(const QString& spec, qint64* clock) {
        QString error;
        config.prefixes.set(QStringLiteral("100.70.0.0/24"), QStringLiteral("fd70:6361:6c6e::/64"),
                            &error);
        config.clock = [clock] { return *clock; };
        opened = storage.open(spec, &error);
        if (!opened) {
            qWarning("open failed: %s", qPrintable(error));
        }
    }
    QString key(bool reusable, qint64 expiresIn = 3600) {
        CreateAuthKeyRequest r;
        r.reusable = reusable;
        r.expiresIn = expiresIn;
        AuthKeyRecord rec;
        QString key;
        registry.createAuthKey(r, config.clock(), &rec, &key);
        return key;
    }
    qint64 count(const QString& table) {
        qint64 n = -1;
        storage.countRows(table, &n);
        return n;
    }
    ServerConfig config;
    Storage storage;
    Registry registry{&storage, &config};
    bool opened = false;
};

} // namespace

class TestStorage : public QObject {
    Q_OBJECT
private slots:
    void migrationsIdempotent_data() { DbRows::addRows(); }
    void migrationsIdempotent();
    void addressAllocation_data() { DbRows::addRows(); }
    void addressAllocation();
    void oneTimeKeyRace_data() { DbRows::addRows(); }
    void oneTimeKeyRace();
    void reusableKey_data() { DbRows::addRows(); }
    void reusableKey();
    void expiredAndRevokedKeys_data() { DbRows::addRows(); }
    void expiredAndRevokedKeys();
    void keyRotation_data() { DbRows::addRows(); }
    void keyRotation();
    void changesAreNumberedInOrder_data() { DbRows::addRows(); }
    void changesAreNumberedInOrder();

private:
    DbRows m_rows;
    qint64 m_now = 1'760'000'000;
};

void TestStorage::migrationsIdempotent() {
    CALNET_FRESH_DB(m_rows, spec);
    const int latest = int(migrations(Dialect::Sqlite).size());
    QCOMPARE(migrations(Dialect::Postgres).size(), latest);
    for (int round = 0; round < 3; ++round) { // open = migrate; again and again
        Db db(spec, &m_now);
        QVERIFY(db.opened);
        int version = 0;
        QVERIFY(db.storage.schemaVersion(&version).ok());
        QCOMPARE(version, latest);
        QCOMPARE(db.count(QStringLiteral("schema_version")), qint64(latest));
        if (round == 0) {
            QVERIFY(!db.key(false).isEmpty()); // data survives the later opens
        }
        QCOMPARE(db.count(QStringLiteral("authkeys")), qint64(1));
        QCOMPARE(db.count(QStringLiteral("users")), qint64(1));
    }
}

void TestStorage::addressAllocation() {
    CALNET_FRESH_DB(m_rows, spec);
    QString keyA = randomKey();
    QString authKey;
    QList<Registration> regs(3);
    {
        Db db(spec, &m_now);
        QVERIFY(db.opened);
        authKey = db.key(true);
        for (int i = 0; i < 3; ++i) {
            QVERIFY(db.registry
                        .registerNode(request(i == 0 ? keyA : randomKey(), authKey), nullptr, m_now,
                                      &regs[i])
                        .ok());
            QCOMPARE(regs[i].node.addrIndex, qint64(i + 1));
        }
        QCOMPARE(
            regs[0].toJson(db.config).value(QStringLiteral("addresses")).toArray(),
            (QJsonArray{QStringLiteral("100.70.0.1/32"), QStringLiteral("fd70:6361:6c6e::1/128")}));
    }
    {
        Db db(spec, &m_now); // restart
        QVERIFY(db.opened);
        Registration again;
        QVERIFY(db.registry.registerNode(request(keyA, authKey), nullptr, m_now, &again).ok());
        QCOMPARE(again.node.id, regs[0].node.id); // re-registration: same node, same address
        QCOMPARE(again.node.addrIndex, qint64(1));
        QVERIFY(db.registry.deleteNode(regs[2].node.id, m_now).ok());
        Registration fresh;
        QVERIFY(
            db.registry.registerNode(request(randomKey(), authKey), nullptr, m_now, &fresh).ok());
        QCOMPARE(fresh.node.addrIndex, qint64(4)); // index 3 belonged to a deleted node
        QVERIFY(fresh.node.id > regs[2].node.id);  // and ids are not reused either
    }
    {
        Db db(spec, &m_now);
        Registration fresh;
        QVERIFY(
            db.registry.registerNode(request(randomKey(), authKey), nullptr, m_now, &fresh).ok());
        QCOMPARE(fresh.node.addrIndex, qint64(5));
        QCOMPARE(db.count(QStringLiteral("nodes")), qint64(4));
    }
}

void TestStorage::oneTimeKeyRace() {
    CALNET_FRESH_DB(m_rows, spec);
    QStringList keys;
    {
        Db db(spec, &m_now);
        QVERIFY(db.opened);
        for (int i = 0; i < 6; ++i) {
            keys.append(db.key(false));
        }
    }
    // Two threads, each with its own connection, register different nodes with the same key
    // at the same moment, for several keys.
    const qint64 now = m_now;
    for (const QString& key : keys) {
        std::latch ready(2);
        int status[2] = {-1, -1};
        auto racer = [&](int i) {
            qint64 clock = now;
            Db db(spec, &clock);
            ready.arrive_and_wait();
            Registration r;
            const ApiError e =
                db.registry.registerNode(request(randomKey(), key), nullptr, now, &r);
            status[i] = e.status;
        };
        // QThreads, not std::threads: the PostgreSQL driver sets up a QSocketNotifier.
        std::unique_ptr<QThread> a(QThread::create(racer, 0));
        std::unique_ptr<QThread> b(QThread::create(racer, 1));
        a->start();
        b->start();
        QVERIFY(a->wait(30000));
        QVERIFY(b->wait(30000));
        QList<int> got = {status[0], status[1]};
        std::sort(got.begin(), got.end());
        QCOMPARE(got, (QList<int>{0, 403}));
    }
    Db db(spec, &m_now);
    QCOMPARE(db.count(QStringLiteral("nodes")), qint64(keys.size()));
}

void TestStorage::reusableKey() {
    CALNET_FRESH_DB(m_rows, spec);
    Db db(spec, &m_now);
    QVERIFY(db.opened);
    const QString reusable = db.key(true);
    const QString once = db.key(false);
    for (int i = 0; i < 3; ++i) {
        Registration r;
        QVERIFY(db.registry.registerNode(request(randomKey(), reusable), nullptr, m_now, &r).ok());
    }
    Registration r;
    QVERIFY(db.registry.registerNode(request(randomKey(), once), nullptr, m_now, &r).ok());
    const ApiError second =
        db.registry.registerNode(request(randomKey(), once), nullptr, m_now, &r);
    QCOMPARE(second.status, 403);
    QCOMPARE(second.code, QStringLiteral("forbidden"));
    QCOMPARE(db.count(QStringLiteral("nodes")), qint64(4));
    QList<AuthKeyRecord> keys;
    QVERIFY(db.storage.keys().authKeys(&keys).ok());
    QCOMPARE(keys.size(), 2);
    QVERIFY(keys[0].used && keys[1].used);
}

void TestStorage::expiredAndRevokedKeys() {
    CALNET_FRESH_DB(m_rows, spec);
    Db db(spec, &m_now);
    QVERIFY(db.opened);
    const QString shortLived = db.key(true, 60);
    const QString revoked = db.key(true);
    QVERIFY(db.registry.revokeAuthKey(*secrets::authKeyId(revoked)).ok());
    QCOMPARE(db.registry.revokeAuthKey(QStringLiteral("000000000000")).status, 404);
    const QString forged = shortLived.left(shortLived.size() - 4) + QStringLiteral("AAAA");

    const qint64 nodesBefore = db.count(QStringLiteral("nodes"));
    const qint64 changesBefore = db.count(QStringLiteral("changes"));
    Registration r;
    ApiError e = db.registry.registerNode(request(randomKey(), revoked), nullptr, m_now, &r);
    QCOMPARE(e.status, 403);
    e = db.registry.registerNode(request(randomKey(), forged), nullptr, m_now, &r);
    QCOMPARE(e.status, 401);
    QCOMPARE(e.code, QStringLiteral("unauthorized"));
    e = db.registry.registerNode(request(randomKey(), shortLived), nullptr, m_now + 61, &r);
    QCOMPARE(e.status, 401);
    QCOMPARE(e.code, QStringLiteral("expired"));
    QCOMPARE(db.count(QStringLiteral("nodes")), nodesBefore);
    QCOMPARE(db.count(QStringLiteral("changes")), changesBefore);
    QVERIFY(
        db.registry.registerNode(request(randomKey(), shortLived), nullptr, m_now + 59, &r).ok());
}

void TestStorage::keyRotation() {
    CALNET_FRESH_DB(m_rows, spec);
    Db db(spec, &m_now);
    QVERIFY(db.opened);
    const QString key = db.key(true);
    Registration first;
    Registration other;
    QVERIFY(db.registry.registerNode(request(randomKey(), key), nullptr, m_now, &first).ok());
    QVERIFY(db.registry.registerNode(request(randomKey(), key), nullptr, m_now, &other).ok());

    const QString newKey = randomKey();
    Registration rotated;
    QVERIFY(db.registry
                .registerNode(request(newKey, {}, first.credential), nullptr, m_now + 10, &rotated)
                .ok());
    QCOMPARE(rotated.node.id, first.node.id);
    QCOMPARE(rotated.node.addrIndex, first.node.addrIndex);
    QCOMPARE(rotated.node.nodeKey, newKey);
    QCOMPARE(rotated.node.keyExpiry, m_now + 10 + db.config.keyExpirySeconds);
    QVERIFY(rotated.credential != first.credential);
    std::optional<NodeRecord> old;
    QVERIFY(db.storage.nodes().byKey(first.node.nodeKey, &old).ok());
    QVERIFY(!old); // the old key is gone everywhere

    // The old credential stopped working; the new one refreshes.
    Registration r;
    QCOMPARE(
        db.registry.registerNode(request(newKey, {}, first.credential), nullptr, m_now, &r).status,
        401);
    QVERIFY(
        db.registry.registerNode(request(newKey, {}, rotated.credential), nullptr, m_now, &r).ok());
    QCOMPARE(r.node.id, first.node.id);
    // Rotating onto another node's key is a conflict and changes nothing.
    const qint64 changes = db.count(QStringLiteral("changes"));
    const ApiError e =
        db.registry.registerNode(request(other.node.nodeKey, {}, r.credential), nullptr, m_now, &r);
    QCOMPARE(e.status, 409);
    QCOMPARE(db.count(QStringLiteral("changes")), changes);
    QCOMPARE(db.count(QStringLiteral("nodes")), qint64(2));
}

void TestStorage::changesAreNumberedInOrder() {
    CALNET_FRESH_DB(m_rows, spec);
    Db db(spec, &m_now);
    QVERIFY(db.opened);
    QSignalSpy changed(&db.storage, &Storage::changed);
    const QString key = db.key(true);
    QCOMPARE(changed.count(), 0); // a new key is no change to the map
    Registration a;
    Registration b;
    QVERIFY(db.registry.registerNode(request(randomKey(), key), nullptr, m_now, &a).ok());
    QVERIFY(db.registry.registerNode(request(randomKey(), key), nullptr, m_now, &b).ok());
    QVERIFY(db.registry.deleteNode(a.node.id, m_now).ok());
    QVERIFY(db.registry.expireNode(b.node.id, m_now).ok());
    QCOMPARE(changed.count(), 4);
    QList<ChangeRecord> changes;
    QVERIFY(db.storage.changes().after(0, &changes).ok());
    QCOMPARE(changes.size(), 4);
    for (int i = 0; i < changes.size(); ++i) {
        QCOMPARE(changes[i].seq, qint64(i + 1));
    }
    QCOMPARE(changes[2].nodeId, a.node.id);
    QCOMPARE(changes[2].kind, QStringLiteral("remove"));
    QCOMPARE(changes[3].kind, QStringLiteral("expire"));
    qint64 seq = 0;
    QVERIFY(db.storage.changes().currentSeq(&seq).ok());
    QCOMPARE(seq, qint64(4));
    // An expired key is announced once, by whichever sweep gets there first.
    Registration c;
    QVERIFY(db.registry.registerNode(request(randomKey(), key), nullptr, m_now, &c).ok());
    QVERIFY(db.registry.sweepExpired(c.node.keyExpiry - 1).ok());
    QVERIFY(db.registry.sweepExpired(c.node.keyExpiry).ok());
    QVERIFY(db.registry.sweepExpired(c.node.keyExpiry + 5).ok());
    QVERIFY(db.storage.changes().after(5, &changes).ok());
    QCOMPARE(changes.size(), 1);
    QCOMPARE(changes[0].nodeId, c.node.id);
}

QTEST_GUILESS_MAIN(TestStorage)
#include "tst_storage.moc"
