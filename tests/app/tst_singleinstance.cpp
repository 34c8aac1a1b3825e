// SingleInstance: one primary per key, arguments delivered from a second launch (in a thread,
// and across processes), stale sockets from crashed primaries, the lock released by a crash and
// not inherited by children, and racing launches with exactly one winner.
//
// The test binary doubles as the "other launch": run with --child-primary it becomes a primary
// and prints what it receives, so a real second process (and a real SIGKILL) can be used.
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <latch>
#include <memory>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "app/calnet/singleinstance.h"
#include "app/secondlaunch.h"

using calnet::app::SingleInstance;

namespace {

const QString kKey = QStringLiteral("test");

// Leaves a socket file with nobody listening, as a primary killed with SIGKILL does.
bool leaveDeadSocket(const QString& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray encoded = QFile::encodeName(path);
    if (size_t(encoded.size()) >= sizeof(addr.sun_path)) {
        ::close(fd);
        return false;
    }
    std::memcpy(addr.sun_path, encoded.constData(), size_t(encoded.size()));
    const bool ok =
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && ::listen(fd, 1) == 0;
    ::close(fd);
    return ok;
}

// A second launch in a thread of this process (tests/app/secondlaunch.h).
struct Sender : testapp::SecondLaunch {
    Sender() { key = kKey; }
};

int childPrimary(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    SingleInstance instance(kKey);
    if (!instance.listen())
        return 3;
    QObject::connect(&instance, &SingleInstance::messageReceived, [](const QStringList& args) {
        std::printf("%s\n", QJsonDocument(QJsonArray::fromStringList(args))
                                .toJson(QJsonDocument::Compact)
                                .constData());
        std::fflush(stdout);
    });
    std::printf("ready\n");
    std::fflush(stdout);
    return app.exec();
}

} // namespace

class tst_SingleInstance : public QObject {
    Q_OBJECT

private slots:
    void init();
    void socketPathIsPerUserAndKey();
    void secondLaunchDeliversArguments();
    void socketIsPrivate();
    void sendWithoutPrimaryFails();
    void staleSocketDoesNotBlock_data();
    void staleSocketDoesNotBlock();
    void newPrimaryAfterPrimaryDestroyed();
    void otherKeysAreIndependent();
    void crossProcessAndCrash();
    void lockNotInheritedByChildren();
    void racingLaunchesOneWins();
    void garbageIsIgnored();

private:
    std::unique_ptr<QTemporaryDir> runtime_;
};

void tst_SingleInstance::init() {
    runtime_ = std::make_unique<QTemporaryDir>();
    QVERIFY(runtime_->isValid());
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime_->path()));
}

void tst_SingleInstance::socketPathIsPerUserAndKey() {
    const QString uid = QString::number(::geteuid());
    QCOMPARE(SingleInstance(kKey).socketPath(),
             runtime_->path() + QStringLiteral("/calnet-%1-test.sock").arg(uid));
    // Path separators and the like cannot escape the directory.
    QCOMPARE(SingleInstance(QStringLiteral("../a b/c")).socketPath(),
             runtime_->path() + QStringLiteral("/calnet-%1-..abc.sock").arg(uid));
    qunsetenv("XDG_RUNTIME_DIR");
    QCOMPARE(SingleInstance(kKey).socketPath(),
             QDir::tempPath() + QStringLiteral("/calnet-%1-test.sock").arg(uid));
    qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime_->filePath(QStringLiteral("missing"))));
    QCOMPARE(SingleInstance(kKey).socketPath(),
             QDir::tempPath() + QStringLiteral("/calnet-%1-test.sock").arg(uid));
}

void tst_SingleInstance::secondLaunchDeliversArguments() {
    SingleInstance primary(kKey);
    QVERIFY(primary.listen());
    QVERIFY(primary.isPrimary());
    QVERIFY(QFileInfo(primary.socketPath()).exists());
    QSignalSpy spy(&primary, &SingleInstance::messageReceived);

    Sender sender;
    sender.arguments = {QStringLiteral("/usr/bin/calnet"),
                        QStringLiteral("--show"),
                        QString(),
                        QStringLiteral("with space"),
                        QStringLiteral("line\nbreak"),
                        QStringLiteral("Grüße 👋")};
    sender.start();
    QVERIFY(spy.wait(5000));
    QVERIFY(sender.finish());
    QCOMPARE(sender.listenResult, false);
    QVERIFY(sender.sent); // the primary acknowledged
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toStringList(), sender.arguments);

    // And again: the primary keeps serving.
    Sender again;
    again.arguments = {QStringLiteral("second")};
    again.start();
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 5000);
    QVERIFY(again.finish());
    QVERIFY(again.sent);
    QCOMPARE(spy.at(1).at(0).toStringList(), again.arguments);
}

void tst_SingleInstance::socketIsPrivate() {
    SingleInstance primary(kKey);
    QVERIFY(primary.listen());
    const QFileInfo socket(primary.socketPath());
    QVERIFY(socket.exists());
    QCOMPARE(socket.permissions() & (QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup |
                                     QFile::ReadOther | QFile::WriteOther | QFile::ExeOther),
             QFile::Permissions());
    const QFileInfo lock(primary.lockName());
    QVERIFY(lock.exists());
    QCOMPARE(lock.permissions() & (QFile::WriteGroup | QFile::WriteOther), QFile::Permissions());
}

void tst_SingleInstance::sendWithoutPrimaryFails() {
    SingleInstance lonely(kKey);
    QElapsedTimer timer;
    timer.start();
    QVERIFY(!lonely.sendToPrimary({QStringLiteral("x")}, 300));
    QVERIFY(timer.elapsed() >= 250); // kept retrying for the time given
    QVERIFY(timer.elapsed() < 3000); // and not much longer
    QVERIFY(!lonely.sendToPrimary({QStringLiteral("x")}, 0));
}

void tst_SingleInstance::staleSocketDoesNotBlock_data() {
    QTest::addColumn<bool>("socketFile");
    QTest::newRow("dead socket") << true;
    QTest::newRow("regular file") << false;
}

void tst_SingleInstance::staleSocketDoesNotBlock() {
    QFETCH(bool, socketFile);
    const QString path = SingleInstance(kKey).socketPath();
    if (socketFile) {
        QVERIFY(leaveDeadSocket(path));
    } else {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
    }
    QVERIFY(QFileInfo::exists(path));

    SingleInstance primary(kKey);
    QVERIFY(primary.listen());
    QSignalSpy spy(&primary, &SingleInstance::messageReceived);
    // It really listens at that path now.
    Sender sender;
    sender.arguments = {QStringLiteral("after-crash")};
    sender.start();
    QVERIFY(spy.wait(5000));
    QVERIFY(sender.finish());
    QVERIFY(sender.sent);
    QCOMPARE(spy.at(0).at(0).toStringList(), sender.arguments);
}

void tst_SingleInstance::newPrimaryAfterPrimaryDestroyed() {
    QString path;
    {
        SingleInstance first(kKey);
        QVERIFY(first.listen());
        SingleInstance second(kKey);
        QVERIFY(!second.listen());
        QVERIFY(!second.isPrimary());
        path = first.socketPath();
    }
    QVERIFY(!QFileInfo::exists(path)); // a clean exit removes the socket
    SingleInstance third(kKey);
    QVERIFY(third.listen());
    QSignalSpy spy(&third, &SingleInstance::messageReceived);
    Sender sender;
    sender.arguments = {QStringLiteral("third")};
    sender.start();
    QVERIFY(spy.wait(5000));
    QVERIFY(sender.finish());
    QVERIFY(sender.sent);
}

void tst_SingleInstance::otherKeysAreIndependent() {
    SingleInstance a(QStringLiteral("one"));
    SingleInstance b(QStringLiteral("two"));
    QVERIFY(a.listen());
    QVERIFY(b.listen());
    QVERIFY(a.socketPath() != b.socketPath());
}

void tst_SingleInstance::crossProcessAndCrash() {
    QProcess child;
    child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--child-primary")});
    QVERIFY(child.waitForStarted(5000));
    const auto killChild = qScopeGuard([&] {
        if (child.state() != QProcess::NotRunning) {
            child.kill(); // SIGKILL to its PID
            child.waitForFinished(5000);
        }
    });
    QVERIFY(child.waitForReadyRead(5000));
    QCOMPARE(child.readLine().trimmed(), QByteArray("ready"));

    SingleInstance second(kKey);
    QVERIFY(!second.listen());
    // The primary is another process: a blocking send from this thread is fine.
    const QStringList args{QStringLiteral("calnet"), QStringLiteral("--show")};
    QVERIFY(second.sendToPrimary(args, 5000));
    QTRY_VERIFY_WITH_TIMEOUT(child.canReadLine() || child.waitForReadyRead(100), 5000);
    QCOMPARE(QJsonDocument::fromJson(child.readLine()).array().toVariantList(),
             QJsonArray::fromStringList(args).toVariantList());

    // A crash leaves the socket file behind; the kernel drops the lock with the process.
    child.kill();
    QVERIFY(child.waitForFinished(5000));
    QVERIFY(QFileInfo::exists(second.socketPath()));
    SingleInstance next(kKey);
    QVERIFY(next.listen());
    QSignalSpy spy(&next, &SingleInstance::messageReceived);
    Sender sender;
    sender.arguments = {QStringLiteral("after-kill")};
    sender.start();
    QVERIFY(spy.wait(5000));
    QVERIFY(sender.finish());
    QVERIFY(sender.sent);
}

void tst_SingleInstance::lockNotInheritedByChildren() {
    // A program the primary starts must not keep the lock after the primary is gone.
    QProcess sleeper;
    {
        SingleInstance primary(kKey);
        QVERIFY(primary.listen());
        sleeper.start(QStringLiteral("sleep"), {QStringLiteral("30")});
        QVERIFY(sleeper.waitForStarted(5000));
    }
    const auto stop = qScopeGuard([&] {
        sleeper.kill();
        sleeper.waitForFinished(5000);
    });
    SingleInstance next(kKey);
    QVERIFY(next.listen());
}

void tst_SingleInstance::racingLaunchesOneWins() {
    constexpr int kLaunches = 8;
    for (int round = 0; round < 20; ++round) {
        std::latch start(kLaunches);
        std::latch decided(kLaunches);
        std::atomic<int> winners = 0;
        std::vector<std::unique_ptr<QThread>> threads;
        for (int i = 0; i < kLaunches; ++i) {
            threads.emplace_back(QThread::create([&] {
                SingleInstance instance(kKey);
                start.arrive_and_wait();
                if (instance.listen())
                    ++winners;
                // Nobody leaves (and frees the lock) before everyone has tried.
                decided.arrive_and_wait();
            }));
            threads.back()->start();
        }
        for (auto& t : threads)
            QVERIFY(t->wait(10000));
        QCOMPARE(winners.load(), 1);
    }
}

void tst_SingleInstance::garbageIsIgnored() {
    SingleInstance primary(kKey);
    QVERIFY(primary.listen());
    QSignalSpy spy(&primary, &SingleInstance::messageReceived);

    auto sendRaw = [&](const QByteArray& bytes) {
        QLocalSocket socket;
        socket.connectToServer(primary.socketPath());
        QVERIFY(socket.waitForConnected(2000));
        socket.write(bytes);
        QVERIFY(socket.waitForBytesWritten(2000));
        // The primary drops the connection at once (well before its 5 s read timeout) without
        // acknowledging.
        QTRY_COMPARE_WITH_TIMEOUT(socket.state(), QLocalSocket::UnconnectedState, 2000);
        QCOMPARE(socket.readAll(), QByteArray());
    };
    sendRaw(QByteArray("\x00\x00\x00\x05hello", 9)); // not JSON
    sendRaw(QByteArray("\x00\x00\x00\x03{}\n", 7));  // not an array
    sendRaw(QByteArray("\x00\x00\x00\x03[1]", 7));   // not strings
    sendRaw(QByteArray("\x7f\xff\xff\xff", 4));      // too long
    QCOMPARE(spy.count(), 0);

    // Still serving.
    Sender sender;
    sender.arguments = {QStringLiteral("fine")};
    sender.start();
    QVERIFY(spy.wait(5000));
    QVERIFY(sender.finish());
    QVERIFY(sender.sent);
}

int main(int argc, char** argv) {
    if (argc == 2 && qstrcmp(argv[1], "--child-primary") == 0)
        return childPrimary(argc, argv);
    QCoreApplication app(argc, argv);
    tst_SingleInstance test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_singleinstance.moc"
