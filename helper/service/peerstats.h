// The `peers` snapshot of docs/ipc.md for a connected profile: the device's peers with their
// allowed IPs, endpoint, handshake age and health, traffic, and — for a mesh profile — what the
// network map says about each (hostname, addresses, online, os).
#pragma once

#include <QJsonObject>

namespace calnet::helper {

class Connection;
class NetworkMap;
class PathManager;

// `connection` may be null (nothing connected: no peers); `map` is null for WireGuard profiles.
// nowSeconds: the Unix time handshake ages are measured from.
// `paths`: the mesh's path manager (mesh peers' path, pathEndpoint, latencyMs, pathSince,
// pathReason); null for a plain WireGuard profile, whose peers are "direct" when they have an
// endpoint and a handshake younger than 180 s, else "none" with the reason.
[[nodiscard]] QJsonObject peersSnapshot(Connection* connection, const NetworkMap* map,
                                        const PathManager* paths, qint64 nowSeconds);

} // namespace calnet::helper
