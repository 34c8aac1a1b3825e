// WintunDevice on Windows, the parts that run without the Wintun driver (under Wine in CI):
// with no wintun.dll next to the test executable create() fails with "wintun.dll not found:"
// and a hint where to get it; a wintun.dll that lacks an export (fakewintun.dll, which has only
// WintunCreateAdapter) is refused with the missing export named and is unloaded again; the
// adapter GUID is stable for a name, differs between names and is an RFC 9562 version-8 UUID.
// The data path runs against fakewintun_full.dll, an in-memory stand-in with every export: the
// adapter is created with the UTF-16 name, the "Calnet" tunnel type, the derived GUID and a
// 4 MiB ring; read() takes what is waiting (no more than the buffers), waits for a packet that
// comes later, times out, drops (and releases) a packet larger than the buffers, ends at once on
// close() and reports an adapter that goes away as gone; write() sends in order, counts what a
// full ring drops, and keeps each caller's packets in order when several threads write; the
// destructor ends the session and closes the adapter.
// A real adapter needs the Wintun driver and administrator rights: not tested here (nor under
// Wine, which has no Wintun), so ifindex()/mtu()/setMtu() are checked only for an unknown LUID
// (mtu()/setMtu() not at all under Wine, which lacks the IP Helper calls they make).
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTest>

#include <QElapsedTimer>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <windows.h>

#include "helper/platform/windows/wintun.h"

using calnet::helper::TunDevice;
using calnet::helper::WintunDevice;
namespace wintun = calnet::helper::wintun;
using namespace std::chrono_literals;

namespace {

// The stand-in's steering exports (fakewintun_full.cpp).
struct Fake {
    HMODULE module = nullptr;
    BOOL(WINAPI* injectFn)(const BYTE*, DWORD) = nullptr;
    DWORD(WINAPI* takeSent)(BYTE*, DWORD) = nullptr;
    void(WINAPI* setRingFull)(BOOL) = nullptr;
    void(WINAPI* setEof)(BOOL) = nullptr;
    void(WINAPI* state)(wchar_t*, wchar_t*, GUID*, DWORD*, LONG*, LONG*, LONG*) = nullptr;

    struct State {
        std::wstring name, type;
        GUID guid{};
        DWORD capacity = 0;
        LONG adapters = 0, sessions = 0, unreleased = 0;
    };
    State get() const {
        wchar_t name[256], type[256];
        State s;
        state(name, type, &s.guid, &s.capacity, &s.adapters, &s.sessions, &s.unreleased);
        s.name = name;
        s.type = type;
        return s;
    }
    bool inject(const std::string& packet) const {
        return injectFn(reinterpret_cast<const BYTE*>(packet.data()), DWORD(packet.size()));
    }
    std::string takeOne() const {
        std::string out(0x10000, '\0');
        out.resize(takeSent(reinterpret_cast<BYTE*>(out.data()), DWORD(out.size())));
        return out;
    }
};

template <typename F> void resolve(HMODULE m, const char* name, F& out) {
    out = reinterpret_cast<F>(reinterpret_cast<void (*)()>(::GetProcAddress(m, name)));
}

// Read buffers with TunDevice::kHeadroom before each.
struct Buffers {
    static constexpr std::size_t kCapacity = 2048;
    std::vector<std::array<std::uint8_t, TunDevice::kHeadroom + kCapacity>> storage;
    std::vector<std::uint8_t*> pointers;
    std::vector<std::size_t> sizes;

    explicit Buffers(std::size_t n) : storage(n), pointers(n), sizes(n) {
        for (std::size_t i = 0; i < n; ++i)
            pointers[i] = storage[i].data() + TunDevice::kHeadroom;
    }
    TunDevice::ReadResult read(TunDevice& tun, std::chrono::milliseconds timeout) {
        return tun.read(pointers, sizes, kCapacity, timeout);
    }
    std::string packet(std::size_t i) const {
        return {reinterpret_cast<const char*>(pointers[i]), sizes[i]};
    }
};

bool runningUnderWine() {
    const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
    return ntdll && ::GetProcAddress(ntdll, "wine_get_version");
}

std::string packetOf(std::size_t size, char fill) {
    std::string p(size, fill);
    p[0] = 0x45; // looks like IPv4; the device does not parse it
    return p;
}

} // namespace

class TestWintun : public QObject {
    Q_OBJECT

    QString fullFakePath_;
    Fake fake_;

    std::unique_ptr<WintunDevice> createFake(const std::string& name = "calnet-test") {
        std::string error;
        auto tun = WintunDevice::createWithLibrary(
            name, reinterpret_cast<const wchar_t*>(fullFakePath_.utf16()), error);
        if (!tun)
            qWarning("createWithLibrary: %s", error.c_str());
        return tun;
    }

private slots:
    void initTestCase() {
        fullFakePath_ = QDir::toNativeSeparators(QCoreApplication::applicationDirPath() +
                                                 "/fakewintun_full.dll");
        // Kept loaded for the whole test, so its state outlives each device.
        fake_.module = ::LoadLibraryW(reinterpret_cast<const wchar_t*>(fullFakePath_.utf16()));
        QVERIFY2(fake_.module, qPrintable("cannot load " + fullFakePath_));
        resolve(fake_.module, "FakeWintunInject", fake_.injectFn);
        resolve(fake_.module, "FakeWintunTakeSent", fake_.takeSent);
        resolve(fake_.module, "FakeWintunSetRingFull", fake_.setRingFull);
        resolve(fake_.module, "FakeWintunSetEof", fake_.setEof);
        resolve(fake_.module, "FakeWintunState", fake_.state);
        QVERIFY(fake_.injectFn && fake_.takeSent && fake_.setRingFull && fake_.setEof &&
                fake_.state);
    }

    void cleanupTestCase() {
        if (fake_.module)
            ::FreeLibrary(fake_.module);
    }

    void createsAdapterAndSession() {
        const std::string name = "calnet-\xcf\x84"; // "calnet-τ": UTF-8 in, UTF-16 to Wintun
        {
            auto tun = createFake(name);
            QVERIFY(tun);
            QCOMPARE(tun->name(), name);
            QCOMPARE(tun->minBuffersPerRead(), std::size_t(1));
            const Fake::State s = fake_.get();
            QVERIFY(s.name == std::wstring(L"calnet-\u03c4"));
            QVERIFY(s.type == std::wstring(L"Calnet"));
            const auto guid = wintun::adapterGuid(name);
            QVERIFY(std::memcmp(&s.guid, guid.data(), 16) == 0);
            QCOMPARE(s.capacity, DWORD(0x400000));
            QCOMPARE(s.adapters, LONG(1));
            QCOMPARE(s.sessions, LONG(1));
            // The stand-in's LUID names no interface Windows knows.
            QCOMPARE(tun->ifindex(), 0);
            // Wine has no GetIpInterfaceEntry/SetIpInterfaceEntry (calling them aborts).
            if (!runningUnderWine()) {
                QCOMPARE(tun->mtu(), 0);
                QVERIFY(!tun->setMtu(1420));
            }
        }
        const Fake::State s = fake_.get();
        QCOMPARE(s.sessions, LONG(0));
        QCOMPARE(s.adapters, LONG(0));
    }

    void readTakesWhatIsWaiting() {
        auto tun = createFake();
        QVERIFY(tun);
        for (int i = 0; i < 5; ++i)
            QVERIFY(fake_.inject(packetOf(60 + std::size_t(i), char('a' + i))));
        Buffers two(2);
        auto r = two.read(*tun, 1s);
        QCOMPARE(r.packets, std::size_t(2)); // no more than the buffers
        QCOMPARE(two.packet(0), packetOf(60, 'a'));
        QCOMPARE(two.packet(1), packetOf(61, 'b'));
        Buffers eight(8);
        r = eight.read(*tun, 1s);
        QCOMPARE(r.packets, std::size_t(3));
        QVERIFY(!r.gone);
        QCOMPARE(r.error, 0);
        QCOMPARE(eight.packet(2), packetOf(64, 'e'));
        QCOMPARE(fake_.get().unreleased, LONG(0));
    }

    void readWaitsAndTimesOut() {
        auto tun = createFake();
        QVERIFY(tun);
        Buffers buffers(4);
        QElapsedTimer timer;
        timer.start();
        auto r = buffers.read(*tun, 50ms);
        QCOMPARE(r.packets, std::size_t(0));
        QVERIFY(!r.gone);
        QVERIFY2(timer.elapsed() >= 30 && timer.elapsed() < 1000,
                 qPrintable(QString::number(timer.elapsed())));
        std::thread later([&] {
            std::this_thread::sleep_for(100ms);
            fake_.inject(packetOf(100, 'z'));
        });
        timer.restart();
        r = buffers.read(*tun, 5s);
        later.join();
        QCOMPARE(r.packets, std::size_t(1));
        QCOMPARE(buffers.packet(0), packetOf(100, 'z'));
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
    }

    void oversizedPacketIsDropped() {
        auto tun = createFake();
        QVERIFY(tun);
        QVERIFY(fake_.inject(packetOf(Buffers::kCapacity + 1, 'x')));
        QVERIFY(fake_.inject(packetOf(Buffers::kCapacity, 'y')));
        Buffers buffers(4);
        const auto r = buffers.read(*tun, 50ms);
        QCOMPARE(r.malformed, std::size_t(1));
        QCOMPARE(r.packets, std::size_t(1));
        QCOMPARE(buffers.packet(0), packetOf(Buffers::kCapacity, 'y'));
        QCOMPARE(fake_.get().unreleased, LONG(0)); // released, or the ring would stall
    }

    void closeEndsAWaitingRead() {
        auto tun = createFake();
        QVERIFY(tun);
        std::atomic<bool> gone{false};
        std::atomic<qint64> took{-1};
        std::thread reader([&] {
            Buffers buffers(4);
            QElapsedTimer timer;
            timer.start();
            gone = buffers.read(*tun, 10s).gone;
            took = timer.elapsed();
        });
        std::this_thread::sleep_for(200ms);
        tun->close();
        reader.join();
        QVERIFY(gone.load());
        QVERIFY2(took.load() < 1200, qPrintable(QString::number(took.load())));
        Buffers buffers(4);
        QVERIFY(buffers.read(*tun, 1s).gone);
        // Writing still works until the device is destroyed.
        const std::string p = packetOf(80, 'w');
        const TunDevice::Packet packet{reinterpret_cast<std::uint8_t*>(const_cast<char*>(p.data())),
                                       p.size()};
        tun->write({&packet, 1});
        QCOMPARE(fake_.takeOne(), p);
    }

    void adapterGoingAwayIsGone() {
        auto tun = createFake();
        QVERIFY(tun);
        fake_.setEof(TRUE);
        Buffers buffers(4);
        const auto r = buffers.read(*tun, 1s);
        QVERIFY(r.gone);
        QCOMPARE(r.error, int(ERROR_HANDLE_EOF));
        fake_.setEof(FALSE);
    }

    void writeSendsInOrderAndCountsDrops() {
        auto tun = createFake();
        QVERIFY(tun);
        std::vector<std::string> payloads = {packetOf(40, '1'), packetOf(1400, '2'),
                                             packetOf(576, '3')};
        std::vector<TunDevice::Packet> packets;
        for (auto& p : payloads)
            packets.push_back({reinterpret_cast<std::uint8_t*>(p.data()), p.size()});
        tun->write(packets);
        for (const auto& p : payloads)
            QCOMPARE(fake_.takeOne(), p);
        QCOMPARE(fake_.takeOne(), std::string());
        QCOMPARE(tun->sendRingDrops(), std::uint64_t(0));
        fake_.setRingFull(TRUE);
        tun->write(packets);
        fake_.setRingFull(FALSE);
        QCOMPARE(tun->sendRingDrops(), std::uint64_t(3));
        QCOMPARE(fake_.takeOne(), std::string());
        tun->write(packets);
        QCOMPARE(fake_.takeOne(), payloads[0]);
    }

    void writeFromSeveralThreads() {
        auto tun = createFake();
        QVERIFY(tun);
        constexpr int kThreads = 4, kEach = 16; // 64: the stand-in's queue holds that many
        std::vector<std::thread> writers;
        for (int t = 0; t < kThreads; ++t)
            writers.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i) {
                    std::string p = packetOf(64, char('A' + t));
                    p[1] = char(i);
                    const TunDevice::Packet packet{reinterpret_cast<std::uint8_t*>(p.data()),
                                                   p.size()};
                    tun->write({&packet, 1});
                }
            });
        for (auto& w : writers)
            w.join();
        std::array<int, kThreads> next{};
        int total = 0;
        for (std::string p = fake_.takeOne(); !p.empty(); p = fake_.takeOne(), ++total) {
            const int t = p[2] - 'A';
            QVERIFY(t >= 0 && t < kThreads);
            QCOMPARE(int(p[1]), next[std::size_t(t)]++); // each writer's packets in order
        }
        QCOMPARE(total, kThreads * kEach);
    }

    void missingDllIsReported() {
        const QString beside = QCoreApplication::applicationDirPath() + "/wintun.dll";
        if (QFileInfo::exists(beside))
            QSKIP("a wintun.dll lies next to the test executable");
        std::string error;
        const auto tun = WintunDevice::create("calnet-test", error);
        QVERIFY(!tun);
        qInfo("%s", error.c_str());
        QVERIFY2(error.starts_with("wintun.dll not found:"), error.c_str());
        QVERIFY2(error.find("https://www.wintun.net") != std::string::npos, error.c_str());
        QVERIFY2(error.find("calnetd.exe") != std::string::npos, error.c_str());
    }

    void badNameIsRefusedBeforeLoading() {
        std::string error;
        QVERIFY(!WintunDevice::create("", error));
        QVERIFY2(error.find("interface name") != std::string::npos, error.c_str());
        error.clear();
        QVERIFY(!WintunDevice::create(std::string(128, 'a'), error));
        QVERIFY2(error.find("interface name") != std::string::npos, error.c_str());
        error.clear();
        QVERIFY(!WintunDevice::create("bad\xff", error)); // not UTF-8
        QVERIFY2(error.find("interface name") != std::string::npos, error.c_str());
    }

    void missingExportIsNamed() {
        const QString path =
            QDir::toNativeSeparators(QCoreApplication::applicationDirPath() + "/fakewintun.dll");
        if (!QFileInfo::exists(path))
            QFAIL(qPrintable("the stand-in DLL is missing: " + path));
        wintun::Api api;
        std::string error;
        QVERIFY(!wintun::load(api, error, reinterpret_cast<const wchar_t*>(path.utf16())));
        qInfo("%s", error.c_str());
        QVERIFY2(error.starts_with("wintun.dll has no export WintunOpenAdapter"), error.c_str());
        QVERIFY(api.module == nullptr);
        QVERIFY(api.createAdapter == nullptr);
        // unload() freed it: nothing of the stand-in stays mapped.
        QVERIFY(::GetModuleHandleW(reinterpret_cast<const wchar_t*>(path.utf16())) == nullptr);
    }

    void missingPathIsNotFound() {
        const QString path = QDir::toNativeSeparators(QCoreApplication::applicationDirPath() +
                                                      "/no-such-dir/wintun.dll");
        wintun::Api api;
        std::string error;
        QVERIFY(!wintun::load(api, error, reinterpret_cast<const wchar_t*>(path.utf16())));
        QVERIFY2(error.starts_with("wintun.dll not found:"), error.c_str());
    }

    void adapterGuidIsStablePerName() {
        const auto a = wintun::adapterGuid("calnet0");
        QCOMPARE(wintun::adapterGuid("calnet0"), a);
        QVERIFY(wintun::adapterGuid("calnet1") != a);
        QVERIFY(wintun::adapterGuid("Calnet0") != a);
        // In memory: Data3 (bytes 6-7) little-endian, so the version nibble is byte 7's top;
        // the variant is byte 8's top two bits.
        QCOMPARE(a[7] >> 4, 8);
        QCOMPARE(a[8] >> 6, 2);
        GUID guid;
        static_assert(sizeof guid == 16);
        std::memcpy(&guid, a.data(), 16);
        QCOMPARE(guid.Data3 >> 12, 8);
    }
};

QTEST_GUILESS_MAIN(TestWintun)
#include "tst_wintun.moc"
