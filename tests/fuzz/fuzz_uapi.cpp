// libFuzzer target for the UAPI text protocol (what `wg` and anyone with access to the UAPI
// socket send calnetd): UapiHandler against a Device through an in-memory host. Every reply
// ends with "errno=N\n\n"; a get after any set answers errno=0 and only well-formed lines; and
// what a set configured reads back the same way twice.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzzcheck.h"
#include "helper/uapi/uapihandler.h"

using namespace calnet;
using namespace calnet::helper;

namespace {

class Host final : public DeviceHost {
public:
    wireguard::Device device;
    wireguard::Now now{std::chrono::hours(1), {1'700'000'000, 0}};
    wireguard::Actions sent;
    std::uint16_t port = 40000;
    std::uint32_t mark = 0;

    void withDevice(const std::function<void(wireguard::Device&, wireguard::Now,
                                             wireguard::Actions&)>& fn) override {
        fn(device, now, sent);
        sent.transmits.clear();
    }
    std::uint16_t listenPort() const noexcept override { return port; }
    bool setListenPort(std::uint16_t p, std::string&) override {
        port = p == 0 ? 40001 : p;
        return true;
    }
    std::uint32_t fwmark() const noexcept override { return mark; }
    bool setFwmark(std::uint32_t m, std::string&) override {
        mark = m;
        return true;
    }
};

bool endsWithErrno(const std::string& reply) {
    const auto at = reply.rfind("errno=");
    return at != std::string::npos && reply.size() >= 2 &&
           reply.compare(reply.size() - 2, 2, "\n\n") == 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Host host;
    UapiHandler handler(host);
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string reply = handler.handle(input);
    CHECK(endsWithErrno(reply));
    const std::string first = handler.handle("get=1\n\n");
    CHECK(first.size() >= 9 && first.compare(first.size() - 9, 9, "errno=0\n\n") == 0);
    for (std::size_t start = 0; start < first.size();) {
        const auto eol = first.find('\n', start);
        CHECK(eol != std::string::npos);
        const std::string line = first.substr(start, eol - start);
        CHECK(line.empty() || line.find('=') != std::string::npos);
        start = eol + 1;
    }
    CHECK(handler.handle("get=1\n\n") == first);
    return 0;
}
