// Server: one calnet-server process's HTTP API (docs/protocol.md "Control plane").
//
//   request -> 413 if the body is over 64 KiB -> route by path, then method (404 / 405)
//     /api/v1/info, /api/v1/register, /metrics          no authentication
//     /api/v1/admin/...                                  Bearer admin token, constant time
//     /api/v1/map                                        WebSocket upgrade -> MapHub
//   -> reply JSON; errors as {"error": {"code", "message"}}; count the status for /metrics
//
// Handlers run on the event loop thread and answer synchronously; each write is one
// transaction (Registry), so a failed request leaves no trace.
#pragma once

#include <memory>

#include <QAbstractHttpServer>
#include <QJsonObject>

#include "server/apierror.h"
#include "server/serverconfig.h"

namespace calnet::server {

class MapHub;
class Metrics;
class Registry;
class Storage;

class Server : public QAbstractHttpServer {
    Q_OBJECT
public:
    explicit Server(ServerConfig config, QObject* parent = nullptr);
    ~Server() override;

    // Opens and migrates the database, then listens; port() is the real port afterwards.
    bool start(QString* error);
    quint16 port() const { return m_port; }
    // Closes the map streams (their nodes go offline). The destructor does it too.
    void shutdown();

    Storage* storage() const { return m_storage.get(); }

protected:
    bool handleRequest(const QHttpServerRequest& request, QTcpSocket* socket) override;
    void missingHandler(const QHttpServerRequest& request, QTcpSocket* socket) override;

private:
    struct Reply {
        int status = 200;
        QByteArray body;
        QByteArray contentType = QByteArrayLiteral("application/json");
    };

    Reply route(const QHttpServerRequest& request);
    Reply admin(const QHttpServerRequest& request, const QStringList& parts);
    Reply registerNode(const QHttpServerRequest& request);
    Reply metrics();
    static Reply json(const QJsonObject& object, int status = 200);
    static Reply error(const ApiError& e);
    bool adminAuthorized(const QHttpServerRequest& request) const;

    ServerConfig m_config;
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<Registry> m_registry;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<MapHub> m_hub;
    quint16 m_port = 0;
    bool m_shutDown = false;
};

} // namespace calnet::server
