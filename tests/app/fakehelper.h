// A stand-in for calnetd --service for the app's tests: a QLocalServer on a socket in a
// temporary directory that speaks the real framing and message schema (core/ipc) and keeps the
// state a helper would: status, profiles, peers. It answers subscribe (then sends the current
// state and peers, as the helper does), status, profiles.list, peers, connect, disconnect and
// profiles.import; `override` lets a test answer any method itself (errors, silence).
//
// No Q_OBJECT (header-only, shared by several test executables): tests observe it through
// `requests` and the counters.
#pragma once

#include <QJsonArray>
#include <QLocalServer>
#include <QLocalSocket>
#include <QPointer>
#include <QTemporaryDir>

#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "helper/ipc/frame.h"
#include "helper/ipc/protocol.h"

namespace calnet::test {

class FakeHelper : public QObject {
public:
    // Returns a reply to send instead of the default one; nullopt for the default; an empty
    // object to send nothing at all (a helper that hangs).
    using Override = std::function<std::optional<QJsonObject>(const ipc::Request&)>;

    FakeHelper() { path_ = dir_.filePath(QStringLiteral("calnetd.sock")); }
    ~FakeHelper() override { stop(); }

    [[nodiscard]] QString path() const { return path_; }

    bool start() {
        server_ = std::make_unique<QLocalServer>();
        QLocalServer::removeServer(path_);
        QObject::connect(server_.get(), &QLocalServer::newConnection, this, [this] { accept(); });
        return server_->listen(path_);
    }

    // Closes the listener and every connection, as a helper that exits would.
    void stop() {
        for (QLocalSocket* s : std::as_const(clients_)) {
            s->disconnect(this);
            s->abort();
            s->deleteLater();
        }
        clients_.clear();
        decoders_.clear();
        subscribers_.clear();
        server_.reset();
    }

    // --- state the fake helper reports ---
    QJsonObject status{{"state", "disconnected"},
                       {"profile", QJsonValue()},
                       {"interface", QJsonValue()},
                       {"addresses", QJsonArray()},
                       {"error", QJsonValue()}};
    QJsonArray profiles;
    QJsonArray peers;     // sent while connected
    QString connectError; // when set, connect fails with this message (state -> error)
    Override override;

    QList<ipc::Request> requests;
    [[nodiscard]] int count(QLatin1StringView method) const {
        int n = 0;
        for (const auto& r : requests)
            n += r.method == method;
        return n;
    }
    // The most recent request for `method` (a default Request when there was none).
    [[nodiscard]] ipc::Request last(QLatin1StringView method) const {
        for (auto it = requests.crbegin(); it != requests.crend(); ++it)
            if (it->method == method)
                return *it;
        return {};
    }
    [[nodiscard]] int clientCount() const { return int(clients_.size()); }
    [[nodiscard]] int subscriberCount() const { return int(subscribers_.size()); }

    static QJsonObject profile(const QString& name, bool connected = false) {
        return {{"name", name},
                {"kind", "wireguard"},
                {"addresses", QJsonArray{"10.0.0.2/32"}},
                {"peers", 1},
                {"endpoints", QJsonArray{"192.0.2.1:51820"}},
                {"dns", QJsonArray()},
                {"fullTunnel", false},
                {"connected", connected}};
    }
    static QJsonObject peer(const QString& key, const QString& ip, std::optional<qint64> handshake,
                            qint64 rx = 0, qint64 tx = 0) {
        return {{"publicKey", key},
                {"name", QJsonValue()},
                {"allowedIps", QJsonArray{ip}},
                {"endpoint", "192.0.2.1:51820"},
                {"lastHandshake", handshake ? QJsonValue(*handshake) : QJsonValue()},
                {"handshakeAgeSeconds", QJsonValue()},
                {"health", handshake ? "healthy" : "never"},
                {"rxBytes", rx},
                {"txBytes", tx},
                {"persistentKeepalive", 25},
                {"path", "direct"}};
    }

    void setState(const QString& state, const QString& profileName = {},
                  const QString& error = {}) {
        status[QStringLiteral("state")] = state;
        status[QStringLiteral("profile")] = profileName.isEmpty() ? QJsonValue() : profileName;
        status[QStringLiteral("interface")] =
            state == QLatin1StringView("connected") ? QJsonValue("calnet0") : QJsonValue();
        status[QStringLiteral("addresses")] =
            state == QLatin1StringView("connected") ? QJsonArray{"10.0.0.2/32"} : QJsonArray();
        status[QStringLiteral("error")] = error.isEmpty() ? QJsonValue() : error;
        for (auto it = profiles.begin(); it != profiles.end(); ++it) {
            QJsonObject p = it->toObject();
            p[QStringLiteral("connected")] = state == QLatin1StringView("connected") &&
                                             p[QStringLiteral("name")].toString() == profileName;
            *it = p;
        }
        broadcast(ipc::kEventState, status);
        broadcast(ipc::kEventPeers, peersData());
    }
    void pushPeers() { broadcast(ipc::kEventPeers, peersData()); }

    [[nodiscard]] QJsonObject peersData() const {
        const bool up =
            status.value(QLatin1StringView("state")).toString() == QLatin1StringView("connected");
        return {{"peers", up ? peers : QJsonArray()}};
    }

private:
    void broadcast(QLatin1StringView event, const QJsonObject& data) {
        for (const auto& [socket, events] : subscribers_)
            if (socket && events.contains(event))
                socket->write(ipc::encodeFrame(ipc::makeEvent(event, data)));
    }

    void accept() {
        while (QLocalSocket* s = server_->nextPendingConnection()) {
            s->setParent(this);
            clients_.append(s);
            QObject::connect(s, &QLocalSocket::readyRead, this, [this, s] { read(s); });
            QObject::connect(s, &QLocalSocket::disconnected, this, [this, s] {
                clients_.removeAll(s);
                decoders_.erase(s);
                subscribers_.erase(s);
                s->deleteLater();
            });
        }
    }

    void read(QLocalSocket* s) {
        ipc::FrameDecoder& decoder = decoders_[s];
        decoder.feed(s->readAll());
        while (auto message = decoder.next()) {
            auto parsed = ipc::Request::parse(*message);
            if (auto* e = std::get_if<ipc::RequestError>(&parsed)) {
                s->write(ipc::encodeFrame(e->toReply()));
                continue;
            }
            const auto& request = std::get<ipc::Request>(parsed);
            requests.append(request);
            if (override) {
                if (auto reply = override(request)) {
                    if (!reply->isEmpty())
                        s->write(ipc::encodeFrame(*reply));
                    continue;
                }
            }
            answer(s, request);
        }
    }

    void answer(QLocalSocket* s, const ipc::Request& r) {
        const auto reply = [&](const QJsonObject& result) {
            s->write(ipc::encodeFrame(ipc::makeResult(r.id, result)));
        };
        if (r.method == ipc::kMethodSubscribe) {
            QStringList events{QString(ipc::kEventState), QString(ipc::kEventPeers)};
            if (r.params.contains(QLatin1StringView("events"))) {
                events.clear();
                for (const QJsonValue v : r.params.value(QLatin1StringView("events")).toArray())
                    events << v.toString();
            }
            subscribers_[s] = events;
            reply({});
            if (events.contains(ipc::kEventState))
                s->write(ipc::encodeFrame(ipc::makeEvent(ipc::kEventState, status)));
            if (events.contains(ipc::kEventPeers))
                s->write(ipc::encodeFrame(ipc::makeEvent(ipc::kEventPeers, peersData())));
        } else if (r.method == ipc::kMethodStatus) {
            reply(status);
        } else if (r.method == ipc::kMethodProfilesList) {
            reply({{"profiles", profiles}});
        } else if (r.method == ipc::kMethodPeers) {
            reply(peersData());
        } else if (r.method == ipc::kMethodConnect) {
            QString name = r.params.value(QLatin1StringView("name")).toString();
            if (name.isEmpty() && !profiles.isEmpty())
                name = profiles.first().toObject().value(QLatin1StringView("name")).toString();
            setState(QStringLiteral("connecting"), name);
            if (!connectError.isEmpty()) {
                setState(QStringLiteral("error"), name, connectError);
                s->write(
                    ipc::encodeFrame(ipc::makeError(r.id, ipc::ErrorCode::Failed, connectError)));
                return;
            }
            setState(QStringLiteral("connected"), name);
            reply(status);
        } else if (r.method == ipc::kMethodDisconnect) {
            setState(QStringLiteral("disconnecting"),
                     status.value(QLatin1StringView("profile")).toString());
            setState(QStringLiteral("disconnected"));
            reply(status);
        } else if (r.method == ipc::kMethodProfilesImport) {
            const QString name =
                r.params.value(QLatin1StringView("name")).toString(QStringLiteral("imported"));
            profiles.append(profile(name));
            reply(profile(name));
        } else {
            s->write(ipc::encodeFrame(
                ipc::makeError(r.id, ipc::ErrorCode::UnknownMethod, QStringLiteral("fake"))));
        }
    }

    QTemporaryDir dir_;
    QString path_;
    std::unique_ptr<QLocalServer> server_;
    QList<QLocalSocket*> clients_;
    std::map<QLocalSocket*, ipc::FrameDecoder> decoders_;
    std::map<QLocalSocket*, QStringList> subscribers_;
};

} // namespace calnet::test
