// Tests for ProfileStore: import/list/load/export/rename/remove round trips with freshly
// generated keys, parse errors carried through with their lines, the naming rules as a _data()
// table, conflicts, file and directory modes, crash leftovers (stale and truncated temporary
// files), secrets kept out of every summary, state.json, and hand-edited files that no longer
// parse. Every test runs in its own temporary state directory.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <csignal>
#include <memory>
#include <random>
#include <string>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config/keyencoding.h"
#include "core/config/wgquick.h"
#include "core/crypto/x25519.h"
#include "helper/service/profilestore.h"

using namespace calnet;
using helper::ImportResult;
using helper::ProfileInfo;
using helper::ProfileStore;
using helper::StoreStatus;

namespace {

struct KeyPair {
    QString privateKey; // base64, as in a config file
    QString publicKey;
};

KeyPair makeKeys() {
    const crypto::PrivateKey key = crypto::generatePrivateKey();
    return {QString::fromStdString(config::encodeKeyBase64(key.span())),
            QString::fromStdString(config::encodeKeyBase64(crypto::publicKeyOf(key)))};
}

QString makePsk() {
    // Any 32 random bytes are a preshared key; a fresh private key is a convenient source.
    return makeKeys().privateKey;
}

// A laptop's split tunnel to a VPS, in messy-but-valid formatting (comments, CRLF, odd case), so
// that what gets stored is visibly the normalised form.
QString splitTunnel(const KeyPair& self, const KeyPair& server, const QString& psk) {
    return QStringLiteral("# laptop -> vps\r\n"
                          "[interface]\r\n"
                          "privatekey = %1   # mine\r\n"
                          "Address = 10.8.0.2/24\r\n"
                          "DNS = 10.8.0.1, home.lan\r\n"
                          "\r\n"
                          "[Peer]\r\n"
                          "PublicKey = %2\r\n"
                          "PresharedKey = %3\r\n"
                          "AllowedIPs = 10.8.0.0/24, 192.168.50.0/24\r\n"
                          "Endpoint = vpn.example.com:51820\r\n"
                          "PersistentKeepalive = 25\r\n")
        .arg(self.privateKey, server.publicKey, psk);
}

QString fullTunnel(const KeyPair& self, const KeyPair& server) {
    return QStringLiteral("[Interface]\n"
                          "PrivateKey = %1\n"
                          "Address = 10.8.0.3/32, fd08::3/128\n"
                          "DNS = 1.1.1.1, 2606:4700:4700::1111\n"
                          "MTU = 1420\n"
                          "\n"
                          "[Peer]\n"
                          "PublicKey = %2\n"
                          "AllowedIPs = 0.0.0.0/0, ::/0\n"
                          "Endpoint = [2001:db8::10]:51820\n")
        .arg(self.privateKey, server.publicKey);
}

config::WgQuickConfig parse(const QString& text) {
    const QByteArray utf8 = text.toUtf8();
    auto r = config::parseWgQuick(std::string_view(utf8.constData(), std::size_t(utf8.size())));
    return std::move(*r.config);
}

QString describe(const std::vector<config::ConfigError>& errors) {
    QStringList lines;
    for (const auto& e : errors)
        lines << QStringLiteral("line %1: %2").arg(e.line).arg(QString::fromStdString(e.reason));
    return lines.join(QLatin1Char('\n'));
}

QStringList namesOf(const std::vector<ProfileInfo>& profiles) {
    QStringList out;
    for (const auto& p : profiles)
        out << p.name;
    return out;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

bool writeFile(const QString& path, const QByteArray& data) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(data) == data.size();
}

mode_t modeOf(const QString& path) {
    struct stat st {};
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

uid_t ownerOf(const QString& path) {
    struct stat st {};
    ::lstat(QFile::encodeName(path).constData(), &st);
    return st.st_uid;
}

// Entries of a directory, hidden ones included.
QStringList entries(const QString& dir) {
    return QDir(dir).entryList(
        QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
}

QString listJson(const ProfileStore& store) {
    QJsonArray profiles;
    for (const auto& p : store.list())
        profiles.append(p.toJson(false));
    return QString::fromUtf8(
        QJsonDocument(QJsonObject{{QStringLiteral("profiles"), profiles}}).toJson());
}

} // namespace

class TestProfileStore : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void importListLoadExportRoundTrip();
    void storedTextIsNormalised();
    void summary();
    void renameAndRemove();
    void validationErrorsCarryLineAndReason();
    void nameRules_data();
    void nameRules();
    void conflicts();
    void derivedNamesSkipTakenOnes();
    void permissions();
    void openTightensLooseModes();
    void openRefusesForeignOrNonDirectory();
    void staleTempFilesAreIgnoredAndCleaned();
    void killedMidWriteLeavesNoDamage();
    void secretsNeverInSummaries();
    void stateRoundTrip();
    void corruptStateMeansDisconnected();
    void handEditedProfileIsBroken();
    void oddFilesAreBrokenNotFatal();

private:
    std::unique_ptr<QTemporaryDir> tmp_;
    QString state_;
    std::unique_ptr<ProfileStore> store_;
    KeyPair laptop_, vps_, phone_;
    QString psk_;
};

void TestProfileStore::init() {
    tmp_ = std::make_unique<QTemporaryDir>();
    QVERIFY(tmp_->isValid());
    state_ = tmp_->path() + QStringLiteral("/state"); // open() must create it
    store_ = std::make_unique<ProfileStore>(state_);
    QString error;
    QVERIFY2(store_->open(&error), qPrintable(error));
    laptop_ = makeKeys();
    vps_ = makeKeys();
    phone_ = makeKeys();
    psk_ = makePsk();
}

void TestProfileStore::cleanup() {
    store_.reset();
    tmp_.reset();
}

void TestProfileStore::importListLoadExportRoundTrip() {
    const QString split = splitTunnel(laptop_, vps_, psk_);
    const QString full = fullTunnel(phone_, vps_);

    const ImportResult a = store_->import(split, QStringLiteral("vps"));
    QVERIFY2(a.profile, qPrintable(describe(a.errors) + a.conflict + a.failure));
    QCOMPARE(a.profile->name, QStringLiteral("vps"));
    const ImportResult b = store_->import(full);
    QVERIFY(b.profile);
    QCOMPARE(b.profile->name, QStringLiteral("wg0"));

    const auto listed = store_->list();
    QCOMPARE(namesOf(listed), (QStringList{QStringLiteral("vps"), QStringLiteral("wg0")}));
    QVERIFY(!listed[0].broken() && !listed[1].broken());

    // load() gives back exactly the model that was imported, keys included.
    const auto loaded = store_->load(QStringLiteral("vps"));
    QVERIFY(loaded);
    QVERIFY(*loaded == parse(split));
    QVERIFY(loaded->peers.at(0).presharedKey);
    const auto loadedFull = store_->load(QStringLiteral("wg0"));
    QVERIFY(loadedFull && *loadedFull == parse(full));

    // export -> import elsewhere -> identical model and identical export.
    const auto exported = store_->exportText(QStringLiteral("vps"));
    QVERIFY(exported);
    QVERIFY(exported->contains(laptop_.privateKey));
    QVERIFY(exported->contains(psk_));
    QVERIFY(parse(*exported) == parse(split));
    const ImportResult again = store_->import(*exported, QStringLiteral("vps-copy"));
    QVERIFY(again.profile);
    QCOMPARE(store_->exportText(QStringLiteral("vps-copy")), exported);

    // A second store over the same directory sees the same thing (nothing is cached).
    ProfileStore reopened(state_);
    QVERIFY(reopened.open());
    QCOMPARE(
        namesOf(reopened.list()),
        (QStringList{QStringLiteral("vps"), QStringLiteral("vps-copy"), QStringLiteral("wg0")}));
    QVERIFY(*reopened.load(QStringLiteral("wg0")) == parse(full));

    QVERIFY(!store_->load(QStringLiteral("nope")));
    QVERIFY(!store_->exportText(QStringLiteral("nope")));
    QVERIFY(!store_->info(QStringLiteral("nope")));
    QVERIFY(!store_->load(QStringLiteral("../state")));
}

void TestProfileStore::storedTextIsNormalised() {
    const QString split = splitTunnel(laptop_, vps_, psk_);
    QVERIFY(store_->import(split, QStringLiteral("vps")).profile);
    const QByteArray onDisk = readAll(store_->profilePath(QStringLiteral("vps")));
    QCOMPARE(onDisk, QByteArray::fromStdString(config::writeWgQuick(parse(split))));
    QVERIFY(!onDisk.contains('\r'));
    QVERIFY(!onDisk.contains('#'));
    QCOMPARE(store_->exportText(QStringLiteral("vps")), QString::fromUtf8(onDisk));
}

void TestProfileStore::summary() {
    const ImportResult split =
        store_->import(splitTunnel(laptop_, vps_, psk_), QStringLiteral("split"));
    QVERIFY(split.profile);
    const ProfileInfo& s = *split.profile;
    QCOMPARE(s.addresses, QStringList{QStringLiteral("10.8.0.2/24")});
    QCOMPARE(s.peerCount, 1);
    QCOMPARE(s.endpoints, QStringList{QStringLiteral("vpn.example.com:51820")});
    QCOMPARE(s.dns, (QStringList{QStringLiteral("10.8.0.1"), QStringLiteral("home.lan")}));
    QVERIFY(!s.fullTunnel);

    const ImportResult full = store_->import(fullTunnel(phone_, vps_), QStringLiteral("full"));
    QVERIFY(full.profile);
    QCOMPARE(full.profile->addresses,
             (QStringList{QStringLiteral("10.8.0.3/32"), QStringLiteral("fd08::3/128")}));
    QCOMPARE(full.profile->endpoints, QStringList{QStringLiteral("[2001:db8::10]:51820")});
    QVERIFY(full.profile->fullTunnel);

    // The IPv6 default route alone is a full tunnel too; a server with two peers and none.
    const QString v6Only = QStringLiteral("[Interface]\nPrivateKey = %1\n[Peer]\nPublicKey = "
                                          "%2\nAllowedIPs = 10.0.0.0/8, ::/0\n")
                               .arg(phone_.privateKey, vps_.publicKey);
    QVERIFY(store_->import(v6Only, QStringLiteral("v6")).profile->fullTunnel);
    const QString server = QStringLiteral("[Interface]\nPrivateKey = %1\nListenPort = 51820\n"
                                          "[Peer]\nPublicKey = %2\nAllowedIPs = 10.8.0.2/32\n"
                                          "[Peer]\nPublicKey = %3\nAllowedIPs = 10.8.0.3/32\n")
                               .arg(vps_.privateKey, laptop_.publicKey, phone_.publicKey);
    const ImportResult srv = store_->import(server, QStringLiteral("server"));
    QVERIFY(srv.profile);
    QCOMPARE(srv.profile->peerCount, 2);
    QVERIFY(srv.profile->endpoints.isEmpty());
    QVERIFY(!srv.profile->fullTunnel);

    // list() summarises exactly as import() did.
    const auto info = store_->info(QStringLiteral("full"));
    QVERIFY(info);
    QCOMPARE(info->toJson(true), full.profile->toJson(true));

    // The IPC shape of docs/ipc.md `Profile`.
    const QJsonObject json = s.toJson(true);
    QCOMPARE(json.value(QStringLiteral("name")).toString(), QStringLiteral("split"));
    QCOMPARE(json.value(QStringLiteral("kind")).toString(), QStringLiteral("wireguard"));
    QCOMPARE(json.value(QStringLiteral("addresses")).toArray(),
             QJsonArray{QStringLiteral("10.8.0.2/24")});
    QCOMPARE(json.value(QStringLiteral("peers")).toInt(), 1);
    QCOMPARE(json.value(QStringLiteral("endpoints")).toArray(),
             QJsonArray{QStringLiteral("vpn.example.com:51820")});
    QCOMPARE(json.value(QStringLiteral("dns")).toArray().size(), 2);
    QCOMPARE(json.value(QStringLiteral("fullTunnel")), QJsonValue(false));
    QCOMPARE(json.value(QStringLiteral("connected")), QJsonValue(true));
    QVERIFY(!json.contains(QStringLiteral("broken")));
    QCOMPARE(json.size(), 8);
}

void TestProfileStore::renameAndRemove() {
    QVERIFY(store_->import(splitTunnel(laptop_, vps_, psk_), QStringLiteral("vps")).profile);
    const QByteArray before = readAll(store_->profilePath(QStringLiteral("vps")));

    const auto renamed = store_->rename(QStringLiteral("vps"), QStringLiteral("home"));
    QVERIFY2(renamed.ok(), qPrintable(renamed.message));
    QVERIFY(renamed.profile);
    QCOMPARE(renamed.profile->name, QStringLiteral("home"));
    QCOMPARE(renamed.profile->peerCount, 1);
    QCOMPARE(namesOf(store_->list()), QStringList{QStringLiteral("home")});
    QCOMPARE(readAll(store_->profilePath(QStringLiteral("home"))), before);
    QVERIFY(!QFile::exists(store_->profilePath(QStringLiteral("vps"))));

    // Renaming to itself is a no-op that still reports the profile.
    const auto same = store_->rename(QStringLiteral("home"), QStringLiteral("home"));
    QVERIFY(same.ok() && same.profile && same.profile->name == QStringLiteral("home"));

    QCOMPARE(store_->rename(QStringLiteral("vps"), QStringLiteral("x")).status,
             StoreStatus::NotFound);
    QCOMPARE(store_->rename(QStringLiteral("vps"), QStringLiteral("vps")).status,
             StoreStatus::NotFound);
    QCOMPARE(store_->rename(QStringLiteral("home"), QStringLiteral(".hidden")).status,
             StoreStatus::InvalidName);
    QCOMPARE(store_->rename(QStringLiteral("../x"), QStringLiteral("y")).status,
             StoreStatus::InvalidName);

    QVERIFY(store_->remove(QStringLiteral("home")).ok());
    QVERIFY(store_->list().empty());
    QCOMPARE(store_->remove(QStringLiteral("home")).status, StoreStatus::NotFound);
    QCOMPARE(store_->remove(QStringLiteral("")).status, StoreStatus::InvalidName);
    QCOMPARE(entries(store_->profilesDir()), QStringList{});
    QCOMPARE(QString::fromLatin1(helper::toString(StoreStatus::Conflict)),
             QStringLiteral("conflict"));
}

void TestProfileStore::validationErrorsCarryLineAndReason() {
    const QString text = QStringLiteral("[Interface]\n"
                                        "PrivateKey = %1\n"
                                        "MTU = 01420\n"
                                        "\n"
                                        "[Peer]\n"
                                        "PublicKey = %2\n"
                                        "Endpoint = vpn.example.com:0\n"
                                        "[Peer]\n"
                                        "AllowedIPs = 10.0.0.0/8\n")
                             .arg(laptop_.privateKey, vps_.publicKey);
    const ImportResult r = store_->import(text, QStringLiteral("bad"));
    QVERIFY(!r.profile);
    QVERIFY(r.conflict.isEmpty() && r.failure.isEmpty());
    QCOMPARE(r.errors.size(), std::size_t(3));
    QCOMPARE(r.errors[0].line, 3);
    QVERIFY(QString::fromStdString(r.errors[0].reason).contains(QStringLiteral("MTU '01420'")));
    QCOMPARE(r.errors[1].line, 7);
    QVERIFY(QString::fromStdString(r.errors[1].reason).contains(QStringLiteral("Endpoint")));
    QCOMPARE(r.errors[2].line, 8);
    QVERIFY(QString::fromStdString(r.errors[2].reason).contains(QStringLiteral("no PublicKey")));

    // A bad name is one more error, on line 0 after the file's own; nothing is written.
    const ImportResult both = store_->import(text, QStringLiteral("bad name"));
    QCOMPARE(both.errors.size(), std::size_t(4));
    QCOMPARE(both.errors.back().line, 0);
    QVERIFY(QString::fromStdString(both.errors.back().reason).contains(QStringLiteral("name")));
    const ImportResult empty = store_->import(QString());
    QVERIFY(!empty.profile);
    QCOMPARE(empty.errors.at(0).line, 0);
    QVERIFY(
        QString::fromStdString(empty.errors[0].reason).contains(QStringLiteral("no [Interface]")));
    QCOMPARE(entries(store_->profilesDir()), QStringList{});
}

void TestProfileStore::nameRules_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");

    QTest::newRow("one char") << QStringLiteral("a") << true;
    QTest::newRow("digits") << QStringLiteral("0") << true;
    QTest::newRow("all allowed") << QStringLiteral("Az09_.-") << true;
    QTest::newRow("dash first") << QStringLiteral("-vps") << true;
    QTest::newRow("underscore first") << QStringLiteral("_vps") << true;
    QTest::newRow("dot inside") << QStringLiteral("home.lan") << true;
    QTest::newRow("trailing dot") << QStringLiteral("vps.") << true;
    QTest::newRow("32 chars") << QString(32, QLatin1Char('x')) << true;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("33 chars") << QString(33, QLatin1Char('x')) << false;
    QTest::newRow("dot first") << QStringLiteral(".vps") << false;
    QTest::newRow("dot") << QStringLiteral(".") << false;
    QTest::newRow("dotdot") << QStringLiteral("..") << false;
    QTest::newRow("slash") << QStringLiteral("a/b") << false;
    QTest::newRow("traversal") << QStringLiteral("../etc") << false;
    QTest::newRow("space") << QStringLiteral("my vps") << false;
    QTest::newRow("tab") << QStringLiteral("a\tb") << false;
    QTest::newRow("newline") << QStringLiteral("a\nb") << false;
    QTest::newRow("nul") << QString(QStringLiteral("a") + QChar(0) + QStringLiteral("b")) << false;
    QTest::newRow("plus") << QStringLiteral("a+b") << false;
    QTest::newRow("colon") << QStringLiteral("a:b") << false;
    QTest::newRow("asterisk") << QStringLiteral("*") << false;
    QTest::newRow("non-ascii letter") << QStringLiteral("caf\u00e9") << false;
    QTest::newRow("fullwidth digit") << QStringLiteral("\uff11") << false;
}

void TestProfileStore::nameRules() {
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(ProfileStore::isValidName(name), valid);

    const ImportResult r = store_->import(fullTunnel(phone_, vps_), name);
    QCOMPARE(r.profile.has_value(), valid);
    if (valid) {
        QCOMPARE(r.profile->name, name);
        QCOMPARE(namesOf(store_->list()), QStringList{name});
        QVERIFY(QFile::exists(store_->profilePath(name)));
        QVERIFY(store_->rename(name, QStringLiteral("other")).ok());
        QVERIFY(store_->rename(QStringLiteral("other"), name).ok());
        QVERIFY(store_->remove(name).ok());
    } else {
        QCOMPARE(r.errors.size(), std::size_t(1));
        QCOMPARE(r.errors[0].line, 0);
        QCOMPARE(store_->rename(name, QStringLiteral("x")).status, StoreStatus::InvalidName);
        QCOMPARE(store_->remove(name).status, StoreStatus::InvalidName);
        QCOMPARE(store_->setConnectedProfile(name).status, StoreStatus::InvalidName);
    }
    QCOMPARE(entries(store_->profilesDir()), QStringList{});
}

void TestProfileStore::conflicts() {
    QVERIFY(store_->import(splitTunnel(laptop_, vps_, psk_), QStringLiteral("vps")).profile);
    const QByteArray original = readAll(store_->profilePath(QStringLiteral("vps")));

    const ImportResult again = store_->import(fullTunnel(phone_, vps_), QStringLiteral("vps"));
    QVERIFY(!again.profile);
    QVERIFY(again.errors.empty());
    QVERIFY(again.conflict.contains(QStringLiteral("'vps'")));
    QCOMPARE(readAll(store_->profilePath(QStringLiteral("vps"))), original);
    QCOMPARE(entries(store_->profilesDir()), QStringList{QStringLiteral("vps.conf")});

    QVERIFY(store_->import(fullTunnel(phone_, vps_), QStringLiteral("phone")).profile);
    const auto clash = store_->rename(QStringLiteral("phone"), QStringLiteral("vps"));
    QCOMPARE(clash.status, StoreStatus::Conflict);
    QVERIFY(!clash.message.isEmpty());
    QCOMPARE(readAll(store_->profilePath(QStringLiteral("vps"))), original);
    QVERIFY(store_->load(QStringLiteral("phone")));

    // Names are case-sensitive, as the files are.
    QVERIFY(store_->import(fullTunnel(phone_, vps_), QStringLiteral("VPS")).profile);
}

void TestProfileStore::derivedNamesSkipTakenOnes() {
    QVERIFY(store_->import(fullTunnel(phone_, vps_), QStringLiteral("wg0")).profile);
    QVERIFY(store_->import(fullTunnel(phone_, vps_), QStringLiteral("wg2")).profile);
    QCOMPARE(store_->import(fullTunnel(phone_, vps_)).profile->name, QStringLiteral("wg1"));
    QCOMPARE(store_->import(fullTunnel(phone_, vps_)).profile->name, QStringLiteral("wg3"));
    QVERIFY(store_->remove(QStringLiteral("wg0")).ok());
    QCOMPARE(store_->import(fullTunnel(phone_, vps_)).profile->name, QStringLiteral("wg0"));
}

void TestProfileStore::permissions() {
    // Even with a permissive umask nothing becomes readable by others.
    const mode_t oldUmask = ::umask(0);
    const ImportResult r = store_->import(splitTunnel(laptop_, vps_, psk_), QStringLiteral("vps"));
    const auto state = store_->setConnectedProfile(QStringLiteral("vps"));
    ::umask(oldUmask);
    QVERIFY(r.profile);
    QVERIFY(state.ok());

    QCOMPARE(modeOf(state_), mode_t(0700));
    QCOMPARE(modeOf(store_->profilesDir()), mode_t(0700));
    QCOMPARE(modeOf(store_->profilePath(QStringLiteral("vps"))), mode_t(0600));
    QCOMPARE(modeOf(state_ + QStringLiteral("/state.json")), mode_t(0600));
    QCOMPARE(ownerOf(store_->profilesDir()), ::geteuid());
    QCOMPARE(ownerOf(store_->profilePath(QStringLiteral("vps"))), ::geteuid());

    // A rename keeps the mode (it is the same inode).
    QVERIFY(store_->rename(QStringLiteral("vps"), QStringLiteral("home")).ok());
    QCOMPARE(modeOf(store_->profilePath(QStringLiteral("home"))), mode_t(0600));
}

void TestProfileStore::openTightensLooseModes() {
    QVERIFY(store_->import(splitTunnel(laptop_, vps_, psk_), QStringLiteral("vps")).profile);
    const QString file = store_->profilePath(QStringLiteral("vps"));
    QCOMPARE(::chmod(QFile::encodeName(file).constData(), 0644), 0);
    QCOMPARE(::chmod(QFile::encodeName(store_->profilesDir()).constData(), 0755), 0);

    ProfileStore reopened(state_);
    QVERIFY(reopened.open());
    QCOMPARE(modeOf(store_->profilesDir()), mode_t(0700));
    QCOMPARE(modeOf(file), mode_t(0600));
}

void TestProfileStore::openRefusesForeignOrNonDirectory() {
    const QString notADir = tmp_->path() + QStringLiteral("/file");
    QVERIFY(writeFile(notADir, "x"));
    QString error;
    ProfileStore onFile(notADir);
    QVERIFY(!onFile.open(&error));
    QVERIFY2(error.contains(QStringLiteral("not a directory")), qPrintable(error));

    // profiles/ must not be a symlink to somewhere else.
    const QString other = tmp_->path() + QStringLiteral("/other");
    QVERIFY(QDir().mkpath(other + QStringLiteral("/elsewhere")));
    QVERIFY(QFile::link(other + QStringLiteral("/elsewhere"), other + QStringLiteral("/profiles")));
    ProfileStore linked(other);
    QVERIFY(!linked.open(&error));
    QVERIFY2(error.contains(QStringLiteral("not a directory")), qPrintable(error));

    if (::geteuid() == 0) {
        // Owned by someone else (only root can arrange that here).
        const QString foreign = tmp_->path() + QStringLiteral("/foreign");
        QVERIFY(QDir().mkpath(foreign));
        QCOMPARE(::chown(QFile::encodeName(foreign).constData(), 65534, 65534), 0);
        ProfileStore notOurs(foreign);
        QVERIFY(!notOurs.open(&error));
        QVERIFY2(error.contains(QStringLiteral("owned by uid 65534")), qPrintable(error));
    }

    ProfileStore noParent(tmp_->path() + QStringLiteral("/missing/state"));
    QVERIFY(!noParent.open(&error));
    QVERIFY2(error.contains(QStringLiteral("mkdir")), qPrintable(error));
}

// What a crash mid-write leaves behind: a temporary file (complete or cut short) next to the
// good profile, never a damaged profile. list() ignores the leftovers; the next open() removes
// them.
void TestProfileStore::staleTempFilesAreIgnoredAndCleaned() {
    const QString split = splitTunnel(laptop_, vps_, psk_);
    QVERIFY(store_->import(split, QStringLiteral("vps")).profile);
    QVERIFY(store_->setConnectedProfile(QStringLiteral("vps")).ok());
    const QByteArray good = readAll(store_->profilePath(QStringLiteral("vps")));
    const QString dir = store_->profilesDir();

    // Crash while replacing vps (truncated in the middle of the private key) and while writing
    // a new profile (complete, but never renamed into place); plus an empty one.
    QVERIFY(writeFile(dir + QStringLiteral("/.vps.conf.tmp-a1B2c3"), good.left(30)));
    QVERIFY(writeFile(dir + QStringLiteral("/.wg7.conf.tmp-Zz9Yy8"), good));
    QVERIFY(writeFile(dir + QStringLiteral("/.wg8.conf.tmp-000000"), QByteArray()));
    QVERIFY(writeFile(state_ + QStringLiteral("/.state.json.tmp-q1w2e3"), "{\"conn"));

    QCOMPARE(namesOf(store_->list()), QStringList{QStringLiteral("vps")});
    QVERIFY(!store_->list().front().broken());
    QVERIFY(*store_->load(QStringLiteral("vps")) == parse(split));
    // The next derived name is still wg0: a leftover holds no name.
    QCOMPARE(store_->import(fullTunnel(phone_, vps_)).profile->name, QStringLiteral("wg0"));

    ProfileStore reopened(state_);
    QVERIFY(reopened.open());
    QCOMPARE(entries(dir), (QStringList{QStringLiteral("vps.conf"), QStringLiteral("wg0.conf")}));
    QCOMPARE(entries(state_),
             (QStringList{QStringLiteral("profiles"), QStringLiteral("state.json")}));
    QCOMPARE(reopened.connectedProfile(), std::optional<QString>(QStringLiteral("vps")));
    QCOMPARE(readAll(reopened.profilePath(QStringLiteral("vps"))), good);

    // Successful writes leave no temporary files of their own.
    QVERIFY(reopened.setConnectedProfile(std::nullopt).ok());
    QVERIFY(reopened.import(split, QStringLiteral("again")).profile);
    QVERIFY(!reopened.import(split, QStringLiteral("again")).profile); // conflict path
    QCOMPARE(entries(dir), (QStringList{QStringLiteral("again.conf"), QStringLiteral("vps.conf"),
                                        QStringLiteral("wg0.conf")}));
    QCOMPARE(entries(state_),
             (QStringList{QStringLiteral("profiles"), QStringLiteral("state.json")}));
}

// A real crash: a child process imports, renames, removes and records the connected profile in
// a loop and is SIGKILLed at a random moment, many times over. Whatever the moment, the next
// open() finds only whole, valid profiles, a readable state.json and no leftovers.
void TestProfileStore::killedMidWriteLeavesNoDamage() {
    const QString text = splitTunnel(laptop_, vps_, psk_);
    const config::WgQuickConfig expected = parse(text);
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    std::mt19937 rng(0xc0ffee);
    for (int round = 0; round < 25; ++round) {
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            ProfileStore child(state_);
            if (!child.open())
                ::_exit(2);
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            for (unsigned i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
                const QString name = QStringLiteral("p%1").arg(i % 4);
                (void)child.import(text, name);
                (void)child.import(text);
                (void)child.setConnectedProfile(i % 2 ? std::optional<QString>(name)
                                                      : std::nullopt);
                (void)child.rename(name, QStringLiteral("q%1").arg(i % 3));
                (void)child.remove(QStringLiteral("q%1").arg((i + 1) % 3));
                (void)child.remove(QStringLiteral("wg%1").arg(i % 5));
            }
            ::_exit(0);
        }
        ::usleep(std::uniform_int_distribution<useconds_t>(500, 30000)(rng));
        ::kill(pid, SIGKILL);
        int status = 0;
        QCOMPARE(::waitpid(pid, &status, 0), pid);
        QVERIFY(WIFSIGNALED(status)); // killed in the middle, not finished or failed

        ProfileStore after(state_);
        QVERIFY(after.open());
        for (const ProfileInfo& p : after.list()) {
            QVERIFY2(!p.broken(), qPrintable(p.name + QLatin1Char(' ') + describe(p.errors)));
            const auto loaded = after.load(p.name);
            QVERIFY(loaded && *loaded == expected);
        }
        for (const QString& dir : {store_->profilesDir(), state_})
            for (const QString& entry : entries(dir))
                QVERIFY2(!entry.startsWith(QLatin1Char('.')), qPrintable(entry));
        const auto connected = after.connectedProfile();
        QVERIFY(!connected || connected->startsWith(QLatin1Char('p')));
    }
}

void TestProfileStore::secretsNeverInSummaries() {
    QVERIFY(store_->import(splitTunnel(laptop_, vps_, psk_), QStringLiteral("vps")).profile);
    QVERIFY(store_->import(fullTunnel(phone_, vps_)).profile);
    // A hand-edited file with a key on the wrong line: the parser withholds it from the error.
    QVERIFY(writeFile(store_->profilePath(QStringLiteral("hand")),
                      QStringLiteral("[Interface]\nPrivateKey = %1\nAddress = %2\n")
                          .arg(laptop_.privateKey, psk_)
                          .toUtf8()));

    const QString json = listJson(*store_);
    QVERIFY(json.contains(QStringLiteral("\"vps\"")));
    QVERIFY(json.contains(QStringLiteral("\"broken\"")));
    for (const QString& secret : {laptop_.privateKey, phone_.privateKey, psk_}) {
        QVERIFY2(!json.contains(secret), qPrintable(json));
        // Also no prefix long enough to matter (e.g. a truncated key in a message).
        QVERIFY2(!json.contains(secret.left(16)), qPrintable(json));
    }
    for (const auto& p : store_->list())
        for (const auto& e : p.errors)
            QVERIFY(!QString::fromStdString(e.reason).contains(psk_));

    // Import errors do not echo keys either.
    const ImportResult bad = store_->import(
        QStringLiteral("[Interface]\nPrivateKey = %1\nDNS = %2\n").arg(phone_.privateKey, psk_),
        QStringLiteral("bad"));
    QVERIFY(!bad.errors.empty());
    QVERIFY(!describe(bad.errors).contains(psk_.left(16)));
    QVERIFY(!describe(bad.errors).contains(phone_.privateKey.left(16)));

    // Only the admin export has them.
    QVERIFY(store_->exportText(QStringLiteral("vps"))->contains(psk_));
}

void TestProfileStore::stateRoundTrip() {
    QVERIFY(!store_->connectedProfile());
    QVERIFY(!QFile::exists(state_ + QStringLiteral("/state.json")));

    QVERIFY(store_->setConnectedProfile(QStringLiteral("vps")).ok());
    QCOMPARE(store_->connectedProfile(), std::optional<QString>(QStringLiteral("vps")));
    const QJsonDocument doc =
        QJsonDocument::fromJson(readAll(state_ + QStringLiteral("/state.json")));
    QCOMPARE(doc.object(), (QJsonObject{{QStringLiteral("connected"), QStringLiteral("vps")}}));
    {
        ProfileStore reopened(state_);
        QVERIFY(reopened.open());
        QCOMPARE(reopened.connectedProfile(), std::optional<QString>(QStringLiteral("vps")));
    }

    QVERIFY(store_->setConnectedProfile(std::nullopt).ok());
    QVERIFY(!store_->connectedProfile());
    const QJsonDocument cleared =
        QJsonDocument::fromJson(readAll(state_ + QStringLiteral("/state.json")));
    QVERIFY(cleared.object().value(QStringLiteral("connected")).isNull());
    QVERIFY(cleared.object().contains(QStringLiteral("connected")));
    {
        ProfileStore reopened(state_);
        QVERIFY(reopened.open());
        QVERIFY(!reopened.connectedProfile());
    }

    // A refused value changes nothing, on disk or in memory.
    QVERIFY(store_->setConnectedProfile(QStringLiteral("wg1")).ok());
    QCOMPARE(store_->setConnectedProfile(QStringLiteral("../x")).status, StoreStatus::InvalidName);
    QCOMPARE(store_->connectedProfile(), std::optional<QString>(QStringLiteral("wg1")));
    ProfileStore reopened(state_);
    QVERIFY(reopened.open());
    QCOMPARE(reopened.connectedProfile(), std::optional<QString>(QStringLiteral("wg1")));
}

void TestProfileStore::corruptStateMeansDisconnected() {
    const QString path = state_ + QStringLiteral("/state.json");
    const QByteArray bad[] = {
        "",
        "{\"connected\": \"vp",           // cut short
        "[\"vps\"]",                      // not an object
        "{\"connected\": 7}",             // wrong type
        "{\"connected\": \"../../etc\"}", // not a profile name
    };
    for (const QByteArray& content : bad) {
        QVERIFY(writeFile(path, content));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("assuming not")));
        ProfileStore reopened(state_);
        QVERIFY(reopened.open());
        QVERIFY2(!reopened.connectedProfile(), content.constData());
        // And it can be written again.
        QVERIFY(reopened.setConnectedProfile(QStringLiteral("vps")).ok());
    }
    // Missing "connected" (e.g. an older or newer writer) is "not connected", silently.
    QVERIFY(writeFile(path, "{}"));
    ProfileStore reopened(state_);
    QVERIFY(reopened.open());
    QVERIFY(!reopened.connectedProfile());
}

void TestProfileStore::handEditedProfileIsBroken() {
    QVERIFY(store_->import(splitTunnel(laptop_, vps_, psk_), QStringLiteral("vps")).profile);
    QVERIFY(store_->import(fullTunnel(phone_, vps_), QStringLiteral("phone")).profile);

    // Someone "fixes" the phone profile by hand and breaks it.
    QByteArray edited = readAll(store_->profilePath(QStringLiteral("phone")));
    edited.replace("MTU = 1420", "MTU = 1420\nMTU = 1380");
    edited.replace("[Peer]", "[Peers]");
    QVERIFY(writeFile(store_->profilePath(QStringLiteral("phone")), edited));

    const auto listed = store_->list();
    QCOMPARE(namesOf(listed), (QStringList{QStringLiteral("phone"), QStringLiteral("vps")}));
    const ProfileInfo& broken = listed[0];
    QVERIFY(broken.broken());
    QVERIFY(!listed[1].broken());
    QVERIFY(broken.errors.size() >= 2);
    QCOMPARE(broken.errors[0].line, 6);
    QVERIFY(
        QString::fromStdString(broken.errors[0].reason).contains(QStringLiteral("duplicate MTU")));
    QCOMPARE(broken.errors[1].line, 8);
    QVERIFY(QString::fromStdString(broken.errors[1].reason).contains(QStringLiteral("[Peers]")));
    QVERIFY(broken.addresses.isEmpty() && broken.peerCount == 0);

    const QJsonObject json = broken.toJson(false);
    QCOMPARE(json.value(QStringLiteral("broken")), QJsonValue(true));
    const QJsonArray errors = json.value(QStringLiteral("errors")).toArray();
    QCOMPARE(errors.size(), qsizetype(broken.errors.size()));
    QCOMPARE(errors[0].toObject().value(QStringLiteral("line")).toInt(), 6);

    QVERIFY(!store_->load(QStringLiteral("phone")));
    QVERIFY(!store_->exportText(QStringLiteral("phone")));
    QVERIFY(store_->info(QStringLiteral("phone"))->broken());
    // It can still be renamed and removed, and does not block a re-import under its name.
    QVERIFY(store_->rename(QStringLiteral("phone"), QStringLiteral("phone-old")).ok());
    QVERIFY(store_->remove(QStringLiteral("phone-old")).ok());
    QVERIFY(store_->import(fullTunnel(phone_, vps_), QStringLiteral("phone")).profile);
    QVERIFY(!store_->info(QStringLiteral("phone"))->broken());
}

void TestProfileStore::oddFilesAreBrokenNotFatal() {
    const QString dir = store_->profilesDir();
    QVERIFY(store_->import(fullTunnel(phone_, vps_), QStringLiteral("good")).profile);
    QVERIFY(QDir(dir).mkdir(QStringLiteral("adir.conf")));
    QCOMPARE(::mkfifo(QFile::encodeName(dir + QStringLiteral("/fifo.conf")).constData(), 0600),
             0); // must not hang list()
    QVERIFY(QFile::link(store_->profilePath(QStringLiteral("good")),
                        dir + QStringLiteral("/link.conf")));
    QByteArray huge(int(config::kMaxConfigBytes) + 1, 'x');
    QVERIFY(writeFile(dir + QStringLiteral("/huge.conf"), huge));
    QVERIFY(writeFile(dir + QStringLiteral("/binary.conf"), QByteArray("\x00\x01\xff\xfe", 4)));
    // Not profile names: ignored altogether.
    QVERIFY(writeFile(dir + QStringLiteral("/bad name.conf"), "x"));
    QVERIFY(writeFile(dir + QStringLiteral("/.hidden.conf"), "x"));
    QVERIFY(writeFile(dir + QStringLiteral("/README"), "x"));

    const auto listed = store_->list();
    QCOMPARE(namesOf(listed),
             (QStringList{QStringLiteral("adir"), QStringLiteral("binary"), QStringLiteral("fifo"),
                          QStringLiteral("good"), QStringLiteral("huge"), QStringLiteral("link")}));
    for (const auto& p : listed) {
        QCOMPARE(p.broken(), p.name != QStringLiteral("good"));
        if (p.broken())
            QVERIFY(!p.errors.front().reason.empty());
    }
    QVERIFY(
        QString::fromStdString(listed[5].errors[0].reason).contains(QStringLiteral("symbolic")));
    QVERIFY(QString::fromStdString(listed[4].errors[0].reason).contains(QStringLiteral("larger")));
    QVERIFY(QString::fromStdString(listed[2].errors[0].reason).contains(QStringLiteral("regular")));
    QVERIFY(!store_->load(QStringLiteral("link")));

    // A fresh open() copes with all of it too.
    ProfileStore reopened(state_);
    QVERIFY(reopened.open());
    QCOMPARE(reopened.list().size(), listed.size());
}

QTEST_APPLESS_MAIN(TestProfileStore)
#include "tst_profilestore.moc"
