// MapCache: the last network map of a mesh profile, kept on disk so that calnetd comes back with
// its peers when it restarts (or the machine reboots) while calnet-server is unreachable.
//
// The file is <state>/profiles/<name>.netmap (0600, next to <name>.mesh; ProfileStore writes it
// with the same atomic temp+fsync+rename as the profiles, and moves or deletes it with its
// profile):
//
//   {"kind": "netmap", "version": 1, "server": "https://calnet.example.com", "nodeId": 7,
//    "seq": 42, "self": {<node>}|null, "peers": [{<node>}, …]}
//
// with node objects as in docs/protocol.md "GET /api/v1/map". Nothing secret: public keys,
// hostnames, overlay addresses and endpoints, which `calnetctl peers` shows to any local user.
//
// Writing — update(), after every map or delta the service applied: the file is rewritten only
// when its text would change; at once when the last write is at least minInterval old, else
// once minInterval has passed (then with the newest map: a burst of deltas costs one write per
// interval). flush() writes a pending map now (disconnect, shutdown; the destructor calls it).
//
// Reading — load(): the cache of another server or another node id (a registration that made
// a new node), another version, malformed JSON or a malformed node is refused with a reason,
// never half used; peers whose key has expired by `now` are left out (the server would have
// removed them). The map that comes back is served until the server answers: the first hello
// resumes from its seq, and a full `map` reply replaces it.
//
// Runs on the service's event loop (its timer); encode() and decode() are pure.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QString>
#include <QTimer>

#include <chrono>
#include <optional>

#include "helper/service/networkmap.h"

namespace calnet::helper {

class ProfileStore;

inline constexpr int kMapCacheVersion = 1;
// At most one write per this interval while deltas keep coming.
inline constexpr std::chrono::milliseconds kMapCacheMinInterval{1000};

class MapCache {
public:
    // The cache of mesh profile `profile` (server URL and node id as in its .mesh file).
    MapCache(ProfileStore& store, QString profile, QString server, qint64 nodeId,
             std::chrono::milliseconds minInterval = kMapCacheMinInterval);
    ~MapCache();
    MapCache(const MapCache&) = delete;
    MapCache& operator=(const MapCache&) = delete;

    // The stored map, or nullopt: `why` is empty when there is no cache, else the reason it was
    // refused. `expired` (optional) counts the peers left out for their key expiry.
    [[nodiscard]] std::optional<NetworkMap> load(qint64 nowSeconds, QString* why,
                                                 int* expired = nullptr);
    // The map after a change; written now or coalesced (see above).
    void update(const NetworkMap& map);
    // Writes a pending map now.
    void flush();
    // Forgets a pending map and deletes the file (the server removed this node).
    void discard();

    // Files written so far (tests).
    [[nodiscard]] int writes() const { return writes_; }

    [[nodiscard]] static QByteArray encode(const NetworkMap& map, const QString& server,
                                           qint64 nodeId);
    [[nodiscard]] static std::optional<NetworkMap> decode(const QByteArray& json,
                                                          const QString& server, qint64 nodeId,
                                                          qint64 nowSeconds, QString* why,
                                                          int* expired = nullptr);

private:
    void write(const NetworkMap& map);
    void onTimer();

    ProfileStore& store_;
    QString profile_;
    QString server_;
    qint64 nodeId_ = 0;
    QTimer timer_; // runs for minInterval after each write
    std::optional<NetworkMap> pending_;
    QByteArray written_; // the file's text as last written or read
    int writes_ = 0;
};

} // namespace calnet::helper
