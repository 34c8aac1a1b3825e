// LinuxTunDevice on a real /dev/net/tun, in a network namespace of the test's own (root only;
// CALNET_REQUIRE_PRIVILEGED=1 turns the skip into a failure): the interface is created with the
// asked name, its ifindex and MTU are the kernel's, setMtu() takes; an ICMP echo request
// written into the device is answered by the kernel through the device, with and without
// offload (the virtio header stays inside the device); close() from another thread ends a
// 10-second read at once, and later reads say the device is gone; the interface goes with the
// object.
#include <QTest>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "helper/platform/linux/linuxtun.h"
#include "skip.h"

using calnet::helper::LinuxTunDevice;
using calnet::helper::TunDevice;
using namespace std::chrono_literals;

namespace {

constexpr char kDeviceAddress[] = "10.99.0.1"; // the kernel's side of the tunnel
constexpr char kPeerAddress[] = "10.99.0.2";   // where our echo requests come from

std::uint16_t checksum(const std::uint8_t* data, std::size_t length) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < length; i += 2)
        sum += std::uint32_t(data[i] << 8 | data[i + 1]);
    if (length % 2 != 0)
        sum += std::uint32_t(data[length - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return std::uint16_t(~sum);
}

void put16(std::uint8_t* at, std::uint16_t value) {
    at[0] = std::uint8_t(value >> 8);
    at[1] = std::uint8_t(value);
}

std::uint32_t address(const char* text) {
    in_addr a{};
    ::inet_pton(AF_INET, text, &a);
    return a.s_addr; // network order
}

// An IPv4 ICMP echo request from kPeerAddress to kDeviceAddress.
std::vector<std::uint8_t> echoRequest(std::uint16_t id, std::uint16_t sequence,
                                      const std::string& payload) {
    std::vector<std::uint8_t> p(20 + 8 + payload.size());
    p[0] = 0x45;
    put16(&p[2], std::uint16_t(p.size()));
    p[8] = 64; // TTL
    p[9] = 1;  // ICMP
    const std::uint32_t from = address(kPeerAddress), to = address(kDeviceAddress);
    std::memcpy(&p[12], &from, 4);
    std::memcpy(&p[16], &to, 4);
    put16(&p[10], checksum(p.data(), 20));
    p[20] = 8; // echo request
    put16(&p[24], id);
    put16(&p[26], sequence);
    std::memcpy(&p[28], payload.data(), payload.size());
    put16(&p[22], checksum(&p[20], p.size() - 20));
    return p;
}

// Addresses the interface kDeviceAddress/24 and brings it up.
bool configure(const std::string& name, std::string& error) {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        error = std::strerror(errno);
        return false;
    }
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = address(kDeviceAddress);
    bool ok = ::ioctl(s, SIOCSIFADDR, &ifr) == 0;
    sin->sin_addr.s_addr = address("255.255.255.0");
    ok = ok && ::ioctl(s, SIOCSIFNETMASK, &ifr) == 0;
    ok = ok && ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags = short(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    ok = ok && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    if (!ok)
        error = std::strerror(errno);
    ::close(s);
    return ok;
}

bool interfaceExists(const std::string& name) {
    return ::if_nametoindex(name.c_str()) != 0;
}

// Buffers for one read(), each with the device's headroom in front.
struct ReadBuffers {
    static constexpr std::size_t kCapacity = 65536;
    std::vector<std::vector<std::uint8_t>> storage;
    std::vector<std::uint8_t*> buffers;
    std::vector<std::size_t> sizes;

    explicit ReadBuffers(std::size_t count)
        : storage(count, std::vector<std::uint8_t>(TunDevice::kHeadroom + kCapacity)),
          sizes(count) {
        for (auto& s : storage)
            buffers.push_back(s.data() + TunDevice::kHeadroom);
    }
};

} // namespace

class TestLinuxTun : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (::geteuid() != 0)
            CALNET_ENVIRONMENT_SKIP("needs root (a TUN device in a network namespace of its own)");
        // Everything below happens in a namespace that ends with this process.
        QVERIFY2(::unshare(CLONE_NEWNET) == 0, std::strerror(errno));
    }

    void createsTheInterface() {
        std::string error;
        auto tun = LinuxTunDevice::create("cntest0", false, error);
        QVERIFY2(tun, error.c_str());
        QCOMPARE(tun->name(), std::string("cntest0"));
        QVERIFY(interfaceExists("cntest0"));
        QCOMPARE(tun->ifindex(), int(::if_nametoindex("cntest0")));
        QCOMPARE(tun->mtu(), 1500);
        QVERIFY(tun->setMtu(1420));
        QCOMPARE(tun->mtu(), 1420);
        tun.reset();
        QVERIFY(!interfaceExists("cntest0"));
    }

    void theKernelAnswersThroughTheDevice_data() {
        QTest::addColumn<bool>("offload");
        QTest::newRow("plain packets") << false;
        QTest::newRow("with offload") << true;
    }
    void theKernelAnswersThroughTheDevice() {
        QFETCH(bool, offload);
        std::string error;
        auto tun = LinuxTunDevice::create("cntest1", offload, error);
        QVERIFY2(tun, error.c_str());
        QVERIFY2(configure(tun->name(), error), error.c_str());
        const std::string payload = "calnet tun test " + std::string(200, 'p');
        for (std::uint16_t sequence = 1; sequence <= 5; ++sequence) {
            std::vector<std::uint8_t> request = echoRequest(0x5151, sequence, payload);
            std::vector<std::uint8_t> framed(TunDevice::kHeadroom + request.size());
            std::memcpy(framed.data() + TunDevice::kHeadroom, request.data(), request.size());
            const TunDevice::Packet packet{framed.data() + TunDevice::kHeadroom, request.size()};
            tun->write({&packet, 1});

            // The reply (the kernel may also send other packets into a fresh interface, such as
            // IPv6 router solicitations: they are skipped).
            ReadBuffers rb(tun->minBuffersPerRead());
            bool answered = false;
            for (int round = 0; round < 20 && !answered; ++round) {
                const auto r = tun->read(rb.buffers, rb.sizes, ReadBuffers::kCapacity, 200ms);
                QCOMPARE(r.error, 0);
                QVERIFY(!r.gone);
                for (std::size_t i = 0; i < r.packets; ++i) {
                    const std::uint8_t* p = rb.buffers[i];
                    if (rb.sizes[i] < 28 || p[0] >> 4 != 4 || p[9] != 1 || p[20] != 0)
                        continue;
                    QCOMPARE(rb.sizes[i], request.size());
                    QCOMPARE(std::memcmp(p + 12, &request[16], 4), 0); // from the device
                    QCOMPARE(std::memcmp(p + 16, &request[12], 4), 0); // to the peer
                    QCOMPARE(p[26] << 8 | p[27], int(sequence));
                    QCOMPARE(std::string(reinterpret_cast<const char*>(p + 28), payload.size()),
                             payload);
                    QCOMPARE(checksum(p, 20), std::uint16_t(0));
                    QCOMPARE(checksum(p + 20, rb.sizes[i] - 20), std::uint16_t(0));
                    answered = true;
                }
            }
            QVERIFY2(answered, qPrintable(QStringLiteral("no echo reply %1").arg(sequence)));
        }
    }

    void closeUnblocksRead() {
        std::string error;
        auto tun = LinuxTunDevice::create("cntest2", true, error);
        QVERIFY2(tun, error.c_str());
        std::atomic<bool> gone{false};
        std::atomic<long long> took{-1};
        std::atomic<std::size_t> packets{99};
        std::thread reader([&] {
            ReadBuffers rb(tun->minBuffersPerRead());
            const auto start = std::chrono::steady_clock::now();
            const auto r = tun->read(rb.buffers, rb.sizes, ReadBuffers::kCapacity, 10s);
            took = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
            gone = r.gone;
            packets = r.packets;
        });
        std::this_thread::sleep_for(200ms);
        tun->close();
        reader.join();
        QVERIFY(gone.load());
        QCOMPARE(packets.load(), std::size_t(0));
        QVERIFY2(took.load() < 1200, qPrintable(QString::number(took.load()))); // 200 + 1000
        ReadBuffers rb(tun->minBuffersPerRead());
        QVERIFY(tun->read(rb.buffers, rb.sizes, ReadBuffers::kCapacity, 1s).gone);
    }
};

QTEST_GUILESS_MAIN(TestLinuxTun)
#include "tst_linuxtun.moc"
