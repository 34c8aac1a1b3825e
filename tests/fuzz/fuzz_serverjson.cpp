// libFuzzer target for each JSON message calnet-server accepts from a client: registration and
// pre-auth key creation bodies, and the map stream's hello and endpoints messages. The first
// input byte picks the handler, the rest is the body. Whatever a parser accepts must hold what
// its contract says (docs/protocol.md): keys of 32 bytes and not of small order, hostnames that
// are DNS labels, endpoints that parse, bounded lists.
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "fuzzcheck.h"
#include "helper/wire/mapnode.h"
#include "server/requests.h"

using namespace calnet;
using namespace calnet::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const QByteArray body(reinterpret_cast<const char*>(data + 1), qsizetype(size - 1));
    switch (data[0] % 4) {
    case 0: {
        RegisterRequest r;
        const ApiError e = parseRegisterRequest(body, &r);
        if (e.ok()) {
            const auto key = config::decodeKeyBase64(r.nodeKey.toStdString());
            CHECK(key && crypto::isUsablePublicKey(*key));
            CHECK(isValidHostname(r.hostname));
            CHECK(!r.hostname.startsWith(QLatin1Char('-')) &&
                  !r.hostname.endsWith(QLatin1Char('-')));
        } else {
            CHECK(e.status == 400 || e.status == 413);
        }
        break;
    }
    case 1: {
        CreateAuthKeyRequest r;
        if (parseCreateAuthKeyRequest(body, &r).ok()) {
            CHECK(r.expiresIn > 0);
            CHECK(r.maxUses >= 0 && (r.maxUses == 0 || r.reusable));
            CHECK(isValidUserName(r.user));
        }
        break;
    }
    case 2:
    case 3: {
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        if (!doc.isObject())
            break;
        if (data[0] % 4 == 2) {
            HelloMessage h;
            if (parseHello(doc.object(), &h).isEmpty()) {
                CHECK(h.nodeId >= 1 && h.since >= 0);
                for (const QString& ep : h.report.endpoints)
                    CHECK(isValidEndpoint(ep));
                CHECK(h.report.relay.isEmpty() || wire::isValidRelayName(h.report.relay));
            }
        } else {
            NodeReport report;
            if (parseEndpointsMessage(doc.object(), &report).isEmpty()) {
                for (const QString& ep : report.endpoints)
                    CHECK(isValidEndpoint(ep));
                CHECK(report.relay.isEmpty() || wire::isValidRelayName(report.relay));
            }
        }
        break;
    }
    }
    return 0;
}
