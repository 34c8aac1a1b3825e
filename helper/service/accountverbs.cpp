#include "helper/service/accountverbs.h"

#include <QJsonArray>

#include "helper/service/connectioncontroller.h"
#include "helper/service/profilestore.h"

namespace calnet::helper {

namespace {

QJsonObject failed(qint64 id, const QString& message) {
    return ipc::makeError(id, ipc::ErrorCode::Failed, message);
}

} // namespace

AccountVerbs::AccountVerbs(ConnectionController& controller, ProfileStore& store, IpcServer& server,
                           ControlClient::Options control, QObject* parent)
    : QObject(parent), controller_(controller), store_(store), server_(server),
      control_(std::move(control)) {}

std::optional<QJsonObject> AccountVerbs::handle(const ipc::Request& request) {
    const qint64 id = request.id;
    if (request.method == ipc::kMethodServerInfo) {
        auto params = ipc::parseServerInfoParams(request.params);
        if (auto* e = std::get_if<ipc::ParamsError>(&params))
            return e->toReply(id);
        return serverInfo(id, std::get<ipc::ServerInfoParams>(params));
    }
    if (request.method == ipc::kMethodLogout) {
        auto params = ipc::parseLogoutParams(request.params);
        if (auto* e = std::get_if<ipc::ParamsError>(&params))
            return e->toReply(id);
        return logout(id, std::get<ipc::LogoutParams>(params));
    }
    return std::nullopt;
}

QJsonObject AccountVerbs::serverInfo(qint64 id, const ipc::ServerInfoParams& params) {
    auto* client = new ControlClient(params.server, control_, this);
    client->fetchInfo([this, client, id, server = params.server,
                       to = server_.deferReply()](const std::optional<QJsonObject>& info,
                                                  const ControlClient::RegisterError& e) {
        client->deleteLater();
        if (!info) {
            server_.sendDeferred(
                to, failed(id, e.httpStatus == 0
                                   ? QStringLiteral("Cannot reach %1: %2").arg(server, e.message)
                                   : QStringLiteral("%1 answered %2: %3")
                                         .arg(server)
                                         .arg(e.httpStatus)
                                         .arg(e.message)));
            return;
        }
        // Only what joining needs, so that nothing else of the server's reply travels on.
        QJsonObject out{{"server", server}, {"auth", info->value("auth")}};
        const QJsonObject oidc = info->value("oidc").toObject();
        if (!oidc.isEmpty()) {
            QJsonObject o{{"issuer", oidc.value("issuer").toString()},
                          {"clientId", oidc.value("clientId").toString()}};
            if (oidc.contains("clientSecret"))
                o.insert("clientSecret", oidc.value("clientSecret").toString());
            out.insert("oidc", o);
        }
        server_.sendDeferred(to, ipc::makeResult(id, out));
    });
    return {};
}

QJsonObject AccountVerbs::logout(qint64 id, const ipc::LogoutParams& params) {
    QString name;
    if (params.name) {
        name = *params.name;
    } else if (controller_.mesh()) {
        name = controller_.profile();
    } else {
        QStringList meshes;
        for (const ProfileInfo& p : store_.list())
            if (p.kind == ProfileInfo::Kind::Mesh)
                meshes << p.name;
        if (meshes.size() != 1)
            return ipc::makeError(id, ipc::ErrorCode::InvalidParams,
                                  meshes.isEmpty()
                                      ? QStringLiteral("not signed in to any Calnet network")
                                      : QStringLiteral("signed in to several networks: name one"));
        name = meshes.front();
    }
    if (!store_.isMesh(name))
        return ipc::makeError(id, ipc::ErrorCode::NotFound,
                              QStringLiteral("no Calnet network profile named %1").arg(name));
    const std::optional<MeshProfile> mesh = store_.loadMesh(name);
    if (!mesh)
        return failed(id, QStringLiteral("the profile %1 cannot be read").arg(name));
    const auto to = server_.deferReply();
    // Down first, so that the server's "node deleted" does not come back as an error of a
    // tunnel still up; then the node deleted on the server (its credential still known); then
    // forgotten here.
    takeDown(name, to, id, [this, name, to, id, mesh = *mesh, deleteNode = params.deleteNode] {
        QJsonObject result{{"profile", name}, {"deleted", false}};
        if (!deleteNode || !mesh.registered()) {
            forget(name, to, id, result);
            return;
        }
        auto* client = new ControlClient(mesh.server, control_, this);
        client->deleteNode(mesh.credential, [this, client, name, to, id, result](
                                                const ControlClient::RegisterError& e) mutable {
            client->deleteLater();
            // Signing out goes on when the server cannot be asked: the reply says so.
            if (e.httpStatus == 200)
                result.insert("deleted", true);
            else
                result.insert("deleteError", e.message);
            forget(name, to, id, result);
        });
    });
    return {};
}

void AccountVerbs::takeDown(const QString& name, const IpcServer::DeferredReply& to, qint64 id,
                            std::function<void()> then) {
    if (controller_.profile() != name ||
        controller_.state() == ConnectionController::State::Disconnected) {
        then();
        return;
    }
    controller_.disconnect(false, [this, to, id, then = std::move(then)](const auto& failure) {
        if (failure) {
            server_.sendDeferred(to, ipc::makeError(id, failure->code, failure->message));
            return;
        }
        then();
    });
}

void AccountVerbs::forget(const QString& name, const IpcServer::DeferredReply& to, qint64 id,
                          const QJsonObject& result) {
    const StoreResult r = store_.remove(name);
    server_.sendDeferred(to, r.ok() ? ipc::makeResult(id, result)
                                    : failed(id, QStringLiteral("signed out, but %1 could not be "
                                                                "removed: %2")
                                                     .arg(name, r.message)));
}

} // namespace calnet::helper
