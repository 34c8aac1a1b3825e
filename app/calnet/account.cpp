#include "app/calnet/account.h"

#include <QDateTime>
#include <QJsonArray>

#include "app/calnet/secretstore.h"
#include "app/calnet/session.h"

namespace calnet::app {

namespace {

constexpr qint64 kMaxLeadSeconds = 600;
constexpr qint64 kMinRetrySeconds = 30;

qint64 now() {
    return QDateTime::currentSecsSinceEpoch();
}

} // namespace

Account::Account(HelperSession* session, SecretStore* secrets, QObject* parent)
    : QObject(parent), session_(session), secrets_(secrets) {
    renewTimer_.setSingleShot(true);
    connect(&renewTimer_, &QTimer::timeout, this, &Account::renewNow);
    connect(session_, &HelperSession::statusChanged, this, &Account::onStatus);
}

QString Account::keychainKey(const QString& server) {
    return QStringLiteral("refresh-token:") + server;
}

qint64 Account::renewalTime(qint64 expiry, qint64 at) {
    const qint64 left = expiry - at;
    if (left <= 0)
        return at; // expired already: now
    return expiry - std::min(kMaxLeadSeconds, left / 4);
}

bool Account::signedIn() const {
    const HelperStatus& s = session_->status();
    return s.mesh && !s.user.isEmpty() && !s.server.isEmpty();
}

QString Account::accountName() const {
    return signedIn() ? session_->status().user : QString();
}

QString Account::server() const {
    return signedIn() ? session_->status().server : QString();
}

void Account::onStatus() {
    const HelperStatus& s = session_->status();
    // The key expired before a renewal got through: a refresh token may still do.
    if (s.signInRequired && signedIn() && !renewing_ && !warned_)
        renewNow();
    schedule();
    emit changed();
}

void Account::schedule() {
    const HelperStatus& s = session_->status();
    if (!signedIn() || s.keyExpiry <= 0) {
        renewTimer_.stop();
        nextRenewal_ = 0;
        scheduledFor_ = 0;
        return;
    }
    if (s.keyExpiry == scheduledFor_ && renewTimer_.isActive())
        return;
    if (s.keyExpiry != scheduledFor_)
        warned_ = false; // a new key: a new chance
    scheduledFor_ = s.keyExpiry;
    nextRenewal_ = renewalTime(s.keyExpiry, now());
    renewTimer_.start(int(std::clamp<qint64>(nextRenewal_ - now(), 0, 24 * 3600) * 1000));
}

void Account::serverInfo(
    const QString& server,
    std::function<void(const std::optional<signin::OidcSettings>&, const QString&)> done) {
    session_->client()->call(
        ipc::kMethodServerInfo, {{"server", server}}, [done](const ipc::Reply& reply) {
            if (!reply.ok()) {
                done(std::nullopt, reply.error->message);
                return;
            }
            const auto settings = signin::OidcSettings::fromServerInfo(reply.result);
            if (!settings) {
                done(std::nullopt,
                     tr("%1 does not offer sign-in with an identity provider. Join it with an "
                        "auth key instead.")
                         .arg(reply.result.value("server").toString()));
                return;
            }
            done(settings, {});
        });
}

void Account::up(const QJsonObject& params, Done done) {
    session_->client()->call(ipc::kMethodUp, params, [done](const ipc::Reply& reply) {
        done(reply.ok() ? QString() : reply.error->message);
    });
}

void Account::completeSignIn(const QString& server, const signin::SignInResult& result, Done done) {
    QJsonObject params{{"server", server}, {"idToken", result.idToken}};
    if (!result.nonce.isEmpty())
        params.insert("nonce", result.nonce);
    const QString refresh = result.refreshToken;
    up(params, [this, server, refresh, done](const QString& error) {
        if (!error.isEmpty()) {
            done(error);
            return;
        }
        warned_ = false;
        if (refresh.isEmpty()) { // the provider gives none: renewal will ask to sign in again
            done({});
            return;
        }
        secrets_->write(keychainKey(server), refresh, [done](const QString& keychainError) {
            if (!keychainError.isEmpty())
                qWarning("calnet: cannot keep the sign-in in the keychain: %s",
                         qPrintable(keychainError));
            done({}); // signed in either way; only the silent renewal is lost
        });
    });
}

void Account::joinWithAuthKey(const QString& server, const QString& authKey, Done done) {
    up({{"server", server}, {"authKey", authKey}}, std::move(done));
}

void Account::renewNow() {
    if (!signedIn() || renewing_)
        return;
    const QString server = session_->status().server;
    renewing_ = true;
    secrets_->read(keychainKey(server), [this, server](const std::optional<QString>& refresh,
                                                       const QString& keychainError) {
        if (!refresh) {
            renewFailed(keychainError.isEmpty()
                            ? tr("This device has no saved sign-in for %1.").arg(server)
                            : tr("The keychain is not available: %1").arg(keychainError));
            return;
        }
        serverInfo(server, [this, server, refresh](const auto& settings, const QString& error) {
            if (!settings) {
                renewFailed(error);
                return;
            }
            auto* client = new signin::ProviderClient(*settings, this);
            signin::refreshIdToken(
                client, *refresh,
                [this, client, server](const signin::TokenReply& r, const QString& why) {
                    client->deleteLater();
                    if (!r.ok()) {
                        renewFailed(why);
                        return;
                    }
                    auto send = [this, idToken = r.idToken, server] {
                        up({{"server", server}, {"idToken", idToken}},
                           [this](const QString& upError) {
                               if (!upError.isEmpty()) {
                                   renewFailed(upError);
                                   return;
                               }
                               renewing_ = false;
                               warned_ = false;
                               emit renewed();
                           });
                    };
                    // Providers may rotate refresh tokens: keep the new one first.
                    if (r.refreshToken.isEmpty()) {
                        send();
                        return;
                    }
                    secrets_->write(keychainKey(server), r.refreshToken,
                                    [send](const QString&) { send(); });
                });
        });
    });
}

void Account::renewFailed(const QString& why) {
    renewing_ = false;
    qWarning("calnet: renewing the sign-in failed: %s", qPrintable(why));
    // Try again a little later while the key is still good; say so once.
    const HelperStatus& s = session_->status();
    if (s.keyExpiry > now() + kMinRetrySeconds)
        renewTimer_.start(int(kMinRetrySeconds * 1000));
    if (!warned_) {
        warned_ = true;
        emit accountNeedsSignIn(s.server, why);
    }
}

void Account::signOut(bool deleteNode, Done done) {
    const QString server = session_->status().server;
    const QString profile = session_->status().profile;
    QJsonObject params{{"deleteNode", deleteNode}};
    if (!profile.isEmpty())
        params.insert("name", profile);
    session_->client()->call(
        ipc::kMethodLogout, params, [this, server, done](const ipc::Reply& reply) {
            if (!reply.ok()) {
                done(reply.error->message);
                return;
            }
            renewTimer_.stop();
            const QString deleteError = reply.result.value("deleteError").toString();
            secrets_->remove(keychainKey(server), [done, deleteError](const QString& error) {
                if (!error.isEmpty())
                    qWarning("calnet: cannot remove the sign-in from the keychain: %s",
                             qPrintable(error));
                done(deleteError.isEmpty()
                         ? QString()
                         : tr("Signed out, but the device could not be removed from the "
                              "network: %1")
                               .arg(deleteError));
            });
            emit changed();
        });
}

} // namespace calnet::app
