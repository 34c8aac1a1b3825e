// Account: signing in to a Calnet network from the app, and staying signed in.
//
// Signing in: calnetd says what the server offers (server.info); the app signs in at the
// provider in the system browser (BrowserSignIn, asking for a refresh token), hands the ID token
// to calnetd (`up`), and keeps the refresh token in the keychain under the server's URL. Joining
// with an auth key is the other way in, for networks without SSO.
//
// Staying signed in: a signed-in node's key is renewed only with a fresh ID token. Before it
// expires (a quarter of the time left, at most 10 minutes before, at least 30 seconds after the
// last try) the app gets one with the refresh token and sends it to calnetd (`up` again, which
// renews in place). When that fails, or the key has expired anyway, accountNeedsSignIn() is
// emitted once: the app says "Sign in again to stay connected".
//
// Signing out: `logout` (the node down and forgotten here; deleted on the server when asked),
// and the keychain entry removed.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <functional>

#include "app/signin/signinflow.h"

namespace calnet::app {

class HelperSession;
class SecretStore;

class Account : public QObject {
    Q_OBJECT
public:
    Account(HelperSession* session, SecretStore* secrets, QObject* parent = nullptr);

    using Done = std::function<void(const QString& error)>; // "" = done
    // server.info through calnetd: the provider's settings, or "" in `error` and nullopt when
    // the server has no SSO (then *error says so as a sentence).
    void serverInfo(
        const QString& server,
        std::function<void(const std::optional<signin::OidcSettings>&, const QString& error)> done);
    // After BrowserSignIn finished: `up` with the ID token, then the refresh token to the
    // keychain.
    void completeSignIn(const QString& server, const signin::SignInResult& result, Done done);
    void joinWithAuthKey(const QString& server, const QString& authKey, Done done);
    void signOut(bool deleteNode, Done done);
    // Renews now (tests; also what the timer does).
    void renewNow();

    // Signed in to a Calnet network with an account (the helper's status says so).
    [[nodiscard]] bool signedIn() const;
    [[nodiscard]] QString accountName() const; // the server's user name (the email for SSO)
    [[nodiscard]] QString server() const;
    [[nodiscard]] qint64 nextRenewal() const { return nextRenewal_; } // Unix seconds, 0 = none
    // The server URL as the keychain key.
    [[nodiscard]] static QString keychainKey(const QString& server);
    // When to renew a key expiring at `expiry`, seen at `now`.
    [[nodiscard]] static qint64 renewalTime(qint64 expiry, qint64 now);

signals:
    void changed();
    void renewed();
    // The key could not be renewed silently: the person must sign in again.
    void accountNeedsSignIn(const QString& server, const QString& why);

private:
    void onStatus();
    void schedule();
    void renewFailed(const QString& why);
    void up(const QJsonObject& params, Done done);

    HelperSession* session_;
    SecretStore* secrets_;
    QTimer renewTimer_;
    qint64 nextRenewal_ = 0;
    qint64 scheduledFor_ = 0; // the keyExpiry the timer was set for
    bool renewing_ = false;
    bool warned_ = false; // accountNeedsSignIn sent for this expiry
};

} // namespace calnet::app
