// Tests for MapCache, the network map a mesh profile keeps on disk (<name>.netmap): the encode/
// decode round trip, every reason a cache is refused (as a _data() table), peers whose key has
// expired left out, the coalescing of writes (at once, then at most one per interval, always
// the newest map, nothing when nothing changed), and the file following its profile through
// ProfileStore (0600, rename, remove, a stale cache never inherited). Each test has its own
// temporary state directory.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include <sys/stat.h>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "helper/service/mapcache.h"
#include "helper/service/profilestore.h"

using namespace calnet;
using helper::MapCache;
using helper::MapNode;
using helper::MeshProfile;
using helper::NetworkMap;
using helper::ProfileStore;
using helper::StoreStatus;

namespace {

const QString kServer = QStringLiteral("https://calnet.example.com");
constexpr qint64 kNodeId = 7;
constexpr qint64 kNow = 1770000000;

QString newKey() {
    return QString::fromStdString(
        config::encodeKeyBase64(crypto::publicKeyOf(crypto::generatePrivateKey())));
}

QJsonObject node(qint64 id, const QString& key, qint64 keyExpiry = kNow + 86400,
                 bool online = true) {
    return {{"id", id},
            {"nodeKey", key},
            {"discoKey", newKey()},
            {"hostname", QStringLiteral("host%1").arg(id)},
            {"os", "linux"},
            {"user", "default"},
            {"addresses", QJsonArray{QStringLiteral("100.70.0.%1/32").arg(id),
                                     QStringLiteral("fd70:6361:6c6e::%1/128").arg(id)}},
            {"endpoints", QJsonArray{QStringLiteral("192.0.2.%1:41641").arg(id)}},
            {"online", online},
            {"lastSeen", kNow - 60},
            {"keyExpiry", keyExpiry}};
}

NetworkMap mapOf(qint64 seq, const QJsonArray& peers) {
    NetworkMap map;
    map.setSelfId(kNodeId);
    const bool ok = map.applyMap(
        {{"type", "map"}, {"seq", seq}, {"self", node(kNodeId, newKey())}, {"peers", peers}});
    Q_ASSERT(ok);
    return map;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeFile(const QString& path, const QByteArray& data) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(data) == data.size();
}

// The seq stored in a cache file, -1 when there is none.
qint64 seqIn(const QString& path) {
    return QJsonDocument::fromJson(readAll(path)).object().value("seq").toInteger(-1);
}

QJsonObject withField(const QByteArray& json, const QString& key, const QJsonValue& value) {
    QJsonObject o = QJsonDocument::fromJson(json).object();
    if (value.isUndefined())
        o.remove(key);
    else
        o.insert(key, value);
    return o;
}

} // namespace

class TestMapCache : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> tmp_;
    std::unique_ptr<ProfileStore> store_;

    QString cachePath(const QString& name) const {
        return store_->profilesDir() + QStringLiteral("/%1.netmap").arg(name);
    }
    void createProfile(const QString& name) {
        const auto created = store_->createMesh(name, MeshProfile::create(kServer, "laptop"));
        QVERIFY2(created.ok(), qPrintable(created.message));
    }

private slots:
    void init() {
        tmp_ = std::make_unique<QTemporaryDir>();
        QVERIFY(tmp_->isValid());
        store_ = std::make_unique<ProfileStore>(tmp_->filePath("state"));
        QString error;
        QVERIFY2(store_->open(&error), qPrintable(error));
    }
    void cleanup() {
        store_.reset();
        tmp_.reset();
    }

    void roundTrip() {
        const NetworkMap map = mapOf(42, QJsonArray{node(1, newKey()), node(2, newKey(), 0, false),
                                                    node(3, newKey(), kNow + 1)});
        const QByteArray json = MapCache::encode(map, kServer, kNodeId);
        QString why;
        int expired = -1;
        const auto back = MapCache::decode(json, kServer, kNodeId, kNow, &why, &expired);
        QVERIFY2(back, qPrintable(why));
        QCOMPARE(expired, 0);
        QCOMPARE(back->seq(), 42);
        QVERIFY(back->hasMap());
        QVERIFY(back->self() && *back->self() == *map.self());
        QVERIFY(back->peers() == map.peers()); // every field of every node
        QVERIFY(!back->peers().at(2).online);
        QCOMPARE(MapCache::encode(*back, kServer, kNodeId), json); // deterministic

        // A map without self (never sent one) also survives.
        NetworkMap bare;
        QVERIFY(bare.applyMap({{"seq", 3}, {"peers", QJsonArray{node(4, newKey())}}}));
        const auto bareBack = MapCache::decode(MapCache::encode(bare, kServer, kNodeId), kServer,
                                               kNodeId, kNow, &why);
        QVERIFY2(bareBack, qPrintable(why));
        QVERIFY(!bareBack->self());
        QCOMPARE(int(bareBack->peers().size()), 1);

        // Through the store: written 0600 next to the profile, read back the same.
        createProfile("home");
        MapCache cache(*store_, "home", kServer, kNodeId);
        cache.update(map);
        QCOMPARE(cache.writes(), 1);
        QCOMPARE(readAll(cachePath("home")), json);
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(cachePath("home")).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 07777), 0600);
        MapCache reader(*store_, "home", kServer, kNodeId);
        const auto loaded = reader.load(kNow, &why);
        QVERIFY2(loaded, qPrintable(why));
        QVERIFY(loaded->peers() == map.peers());
        // What was just read counts as written: the same map again writes nothing.
        reader.update(*loaded);
        QCOMPARE(reader.writes(), 0);
        // The profile list does not show the cache as a profile.
        QCOMPARE(int(store_->list().size()), 1);
    }

    void refused_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("reason"); // a part of the reason

        const QByteArray good =
            MapCache::encode(mapOf(9, QJsonArray{node(1, newKey())}), kServer, kNodeId);
        auto with = [&](const QString& key, const QJsonValue& value) {
            return QJsonDocument(withField(good, key, value)).toJson(QJsonDocument::Compact);
        };
        QJsonObject badPeer = QJsonDocument::fromJson(good).object();
        badPeer.insert("peers", QJsonArray{node(1, newKey()), node(2, "not-a-key")});
        QJsonObject strangerSelf = QJsonDocument::fromJson(good).object();
        strangerSelf.insert("self", node(8, newKey()));

        QTest::newRow("truncated") << good.left(good.size() / 2) << "not JSON";
        QTest::newRow("empty") << QByteArray() << "not JSON";
        QTest::newRow("array") << QByteArray("[1, 2]") << "not a JSON object";
        QTest::newRow("other kind") << with("kind", "mesh") << "version 1";
        QTest::newRow("other version") << with("version", 2) << "version 1";
        QTest::newRow("other server")
            << with("server", "https://other.example.com") << "other.example.com";
        QTest::newRow("other node id") << with("nodeId", 8) << "node id 8";
        QTest::newRow("no node id") << with("nodeId", QJsonValue::Undefined) << "node id 0";
        QTest::newRow("seq string") << with("seq", "9") << "wrong type";
        QTest::newRow("negative seq") << with("seq", -1) << "wrong type";
        QTest::newRow("peers object") << with("peers", QJsonObject{}) << "wrong type";
        QTest::newRow("self string") << with("self", "me") << "wrong type";
        QTest::newRow("bad peer") << QJsonDocument(badPeer).toJson() << "peer is not a valid";
        QTest::newRow("self of another node") << QJsonDocument(strangerSelf).toJson() << "self";
    }
    void refused() {
        QFETCH(QByteArray, json);
        QFETCH(QString, reason);
        QString why;
        QVERIFY(!MapCache::decode(json, kServer, kNodeId, kNow, &why));
        QVERIFY2(why.contains(reason), qPrintable(why));

        // From the file: refused the same way, and a later update writes a good cache over it.
        createProfile("home");
        QVERIFY(writeFile(cachePath("home"), json));
        MapCache cache(*store_, "home", kServer, kNodeId);
        QString loadWhy;
        QVERIFY(!cache.load(kNow, &loadWhy));
        QCOMPARE(loadWhy, why);
        cache.update(mapOf(10, {}));
        QCOMPARE(cache.writes(), 1);
        QString again;
        QVERIFY2(MapCache(*store_, "home", kServer, kNodeId).load(kNow, &again), qPrintable(again));
    }

    void noCacheIsNoError() {
        createProfile("home");
        QString why = QStringLiteral("untouched?");
        QVERIFY(!MapCache(*store_, "home", kServer, kNodeId).load(kNow, &why));
        QVERIFY(why.isEmpty());
        // A file that cannot be read (a directory in its place) is a reason, not a crash.
        QVERIFY(QDir().mkdir(cachePath("home")));
        QVERIFY(!MapCache(*store_, "home", kServer, kNodeId).load(kNow, &why));
        QVERIFY2(why.contains("not a regular file"), qPrintable(why));
    }

    void expiredPeersAreLeftOut() {
        const QString alive = newKey(), expired = newKey(), edge = newKey(), unknown = newKey();
        const NetworkMap map =
            mapOf(5, QJsonArray{node(1, alive, kNow + 1), node(2, expired, kNow - 1),
                                node(3, edge, kNow), node(4, unknown, 0)});
        QString why;
        int dropped = -1;
        const auto back = MapCache::decode(MapCache::encode(map, kServer, kNodeId), kServer,
                                           kNodeId, kNow, &why, &dropped);
        QVERIFY2(back, qPrintable(why));
        QCOMPARE(dropped, 2); // expired, and the one expiring this very second
        QVERIFY(back->findByKey(alive));
        QVERIFY(back->findByKey(unknown)); // no expiry known: kept
        QVERIFY(!back->findByKey(expired));
        QVERIFY(!back->findByKey(edge));
        QCOMPARE(back->seq(), 5);

        // The same file a day earlier keeps them all.
        const auto earlier = MapCache::decode(MapCache::encode(map, kServer, kNodeId), kServer,
                                              kNodeId, kNow - 86400, &why, &dropped);
        QVERIFY(earlier);
        QCOMPARE(dropped, 0);
        QCOMPARE(int(earlier->peers().size()), 4);
    }

    void writesAreCoalesced() {
        createProfile("home");
        const QString file = cachePath("home");
        auto cache = std::make_unique<MapCache>(*store_, "home", kServer, kNodeId,
                                                std::chrono::milliseconds(300));
        // The first change is written at once.
        NetworkMap map = mapOf(1, QJsonArray{node(1, newKey())});
        cache->update(map);
        QCOMPARE(cache->writes(), 1);
        QCOMPARE(seqIn(file), 1);

        // A burst within the interval: nothing now, then one write with the newest map.
        for (qint64 seq = 2; seq <= 6; ++seq) {
            QVERIFY(map.applyDelta({{"seq", seq}, {"upsert", QJsonArray{node(seq, newKey())}}}));
            cache->update(map);
        }
        QCOMPARE(cache->writes(), 1);
        QCOMPARE(seqIn(file), 1);
        QTRY_COMPARE_WITH_TIMEOUT(cache->writes(), 2, 3000);
        QCOMPARE(seqIn(file), 6);
        QCOMPARE(
            int(QJsonDocument::fromJson(readAll(file)).object().value("peers").toArray().size()),
            6);

        // The same map again is no change, even after the interval.
        QTest::qWait(400);
        cache->update(map);
        QTest::qWait(400);
        QCOMPARE(cache->writes(), 2);

        // A change pending at shutdown is written by the destructor (flush).
        QVERIFY(map.applyDelta({{"seq", 7}, {"remove", QJsonArray{1}}}));
        cache->update(map); // written at once: the last write is old
        QVERIFY(map.applyDelta({{"seq", 8}, {"remove", QJsonArray{2}}}));
        cache->update(map); // pending
        QCOMPARE(cache->writes(), 3);
        QCOMPARE(seqIn(file), 7);
        cache.reset();
        QCOMPARE(seqIn(file), 8);
        // No temporary file is left behind.
        QCOMPARE(QDir(store_->profilesDir())
                     .entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name),
                 (QStringList{"home.mesh", "home.netmap"}));
    }

    void discardDeletesTheFile() {
        createProfile("home");
        MapCache cache(*store_, "home", kServer, kNodeId, std::chrono::milliseconds(60000));
        NetworkMap map = mapOf(1, {});
        cache.update(map);
        QVERIFY(map.applyDelta({{"seq", 2}, {"upsert", QJsonArray{node(1, newKey())}}}));
        cache.update(map); // pending
        cache.discard();
        QVERIFY(!QFile::exists(cachePath("home")));
        cache.flush(); // the pending map went with it
        QVERIFY(!QFile::exists(cachePath("home")));
    }

    void followsItsProfile() {
        createProfile("home");
        const QByteArray json = MapCache::encode(mapOf(3, {}), kServer, kNodeId);
        QVERIFY(store_->saveMapCache("home", json).ok());
        // Only a mesh profile has a cache.
        QCOMPARE(store_->saveMapCache("nothere", json).status, StoreStatus::NotFound);
        QCOMPARE(store_->saveMapCache("../x", json).status, StoreStatus::InvalidName);

        // Rename moves it, and replaces a stale cache left under the new name.
        QVERIFY(writeFile(cachePath("work"), "stale"));
        QVERIFY(store_->rename("home", "work").ok());
        QVERIFY(!QFile::exists(cachePath("home")));
        QCOMPARE(readAll(cachePath("work")), json);
        QCOMPARE(store_->loadMapCache("work").value_or(QByteArray()), json);

        // A profile made under a name with a stale cache (a crash in remove) does not get it.
        QVERIFY(writeFile(cachePath("home"), json));
        createProfile("home");
        QVERIFY(!QFile::exists(cachePath("home")));

        // Remove deletes it; so does removing a profile that never had one.
        QVERIFY(store_->remove("work").ok());
        QVERIFY(!QFile::exists(cachePath("work")));
        QVERIFY(store_->remove("home").ok());
        QCOMPARE(QDir(store_->profilesDir())
                     .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList{});
    }
};

QTEST_GUILESS_MAIN(TestMapCache)
#include "tst_mapcache.moc"
