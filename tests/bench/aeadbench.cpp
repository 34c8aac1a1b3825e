// calnet-aeadbench: every transport AEAD this machine has (libsodium, OpenSSL, calnet-core's
// AVX2 / AVX-512 code) sealing and opening messages of the sizes WireGuard carries, in ns per
// message and Gbit/s of plaintext on one core, and which one calnetd's self-benchmark picks.
// A program that prints figures (docs/performance.md), not a test.
//
//   calnet-aeadbench [--seconds S]      (default 0.3 s per implementation and size)
#include <QCommandLineParser>
#include <QCoreApplication>

#include <chrono>
#include <cstdio>
#include <vector>

#include "helper/crypto/aeadselect.h"

using namespace calnet;

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription("Transport AEAD throughput per implementation and size.");
    parser.addHelpOption();
    QCommandLineOption seconds("seconds", "Time per implementation and size.", "S", "0.3");
    parser.addOption(seconds);
    parser.process(app);
    bool ok = false;
    const double perCase = parser.value(seconds).toDouble(&ok);
    if (!ok || perCase <= 0 || perCase > 60) {
        std::fprintf(stderr, "--seconds wants a number in (0, 60]\n");
        return 2;
    }

    const std::size_t sizes[] = {32, 96, 192, 384, 768, 1440, 8192};
    const auto impls = helper::availableAeads();
    std::printf("%-15s %-5s %6s %9s %9s %9s\n", "implementation", "op", "bytes", "ns/msg",
                "Gbit/s", "x sodium");
    crypto::AeadKey key;
    for (std::size_t i = 0; i < key.size(); ++i)
        key.data()[i] = std::uint8_t(i);
    for (const bool seal : {true, false}) {
        for (std::size_t size : sizes) {
            double sodiumNs = 0;
            for (const auto* impl : impls) {
                std::vector<std::uint8_t> buf(size + crypto::kAeadTagSize, 0x11);
                std::vector<std::uint8_t> sealed(buf.size());
                impl->seal(sealed, key, crypto::counterNonce(7), {buf.data(), size}, {});
                std::uint64_t n = 0;
                const auto t0 = std::chrono::steady_clock::now();
                const auto until = t0 + std::chrono::duration<double>(perCase);
                auto now = t0;
                while (now < until) {
                    for (int k = 0; k < 64; ++k) {
                        if (seal) {
                            impl->seal(buf, key, crypto::counterNonce(n), {buf.data(), size}, {});
                        } else if (!impl->open({buf.data(), size}, key, crypto::counterNonce(7),
                                               sealed, {})) {
                            std::fprintf(stderr, "%s failed to open\n", impl->name);
                            return 1;
                        }
                        ++n;
                    }
                    now = std::chrono::steady_clock::now();
                }
                const double ns = std::chrono::duration<double, std::nano>(now - t0).count() / double(n);
                if (impl == impls.front())
                    sodiumNs = ns;
                std::printf("%-15s %-5s %6zu %9.0f %9.2f %9.2f\n", impl->name, seal ? "seal" : "open",
                            size, ns, double(size) * 8 / ns, sodiumNs / ns);
            }
        }
    }
    std::printf("\ncalnetd would pick: %s\n", helper::measureTransportAead().summary.c_str());
    return 0;
}
