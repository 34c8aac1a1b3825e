// `calnetctl login`: joins a Calnet network by signing in at its OpenID provider. calnetd asks
// the server what it offers (server.info); the sign-in happens here, with the device grant when
// the provider has one (URL and code printed, the token endpoint polled), else with the browser
// sent back to a loopback port (the URL printed, for a browser on this machine); the ID token
// goes to calnetd (`up`), which registers and connects. Nothing is stored here.
#pragma once

#include <QJsonObject>
#include <QString>

#include <optional>

namespace calnet::ctl {

struct LoginOptions {
    QString socketPath;
    QString server;
    std::optional<QString> hostname;
    std::optional<QString> name;
    bool json = false;
    bool browser = false; // the loopback flow even when the provider has the device grant
};

// Returns the process exit code (ctl::Exit*).
int runLogin(const LoginOptions& options);

} // namespace calnet::ctl
