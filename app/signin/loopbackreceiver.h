// LoopbackReceiver: the redirect target of a native app's sign-in (RFC 8252 §7.3): an HTTP
// listener on 127.0.0.1 at a port the system picks, waiting for the one request the browser
// makes when the provider sends it back, GET /callback?code=…&state=….
//
// Only that request ends the wait, and only with the state this sign-in sent: a request with
// another Host (another port, a rebound name), another path, another state or none is answered
// 400/404 and ignored, so a page elsewhere cannot cut the sign-in short or slip in its code. The
// provider's error (the person said no) ends it. Once done, the listener closes: a second request
// finds nothing. The browser gets a small page with no outside resources: "You can close this tab".
#pragma once

#include <QHash>
#include <QObject>
#include <QString>
#include <QTcpServer>

class QTcpSocket;

namespace calnet::signin {

// What one request's head (request line and headers, without the blank line) says, for a
// receiver on 127.0.0.1:`port` waiting for `state`. Pure, so that it can be fuzzed.
struct Callback {
    enum class Kind {
        BadRequest,    // not an HTTP/1.x GET
        WrongHost,     // Host is not 127.0.0.1:port (or missing, or given twice)
        NotFound,      // another path
        WrongState,    // no state, or not ours: ignored, the sign-in goes on
        ProviderError, // ours, with error=… (the person said no, or the provider failed)
        NoCode,        // ours, without a code
        Code,          // ours, with the code
    };
    Kind kind = Kind::BadRequest;
    QString code;
    QString error;
    QString errorDescription;
};
[[nodiscard]] Callback parseCallback(const QByteArray& head, quint16 port, const QString& state);

class LoopbackReceiver : public QObject {
    Q_OBJECT
public:
    explicit LoopbackReceiver(QObject* parent = nullptr);
    ~LoopbackReceiver() override;

    // Listens on 127.0.0.1:0 for a callback carrying `state`; false and *error when it cannot.
    bool listen(const QString& state, QString* error);
    [[nodiscard]] quint16 port() const;
    [[nodiscard]] QString redirectUri() const; // http://127.0.0.1:PORT/callback
    [[nodiscard]] bool isListening() const { return server_.isListening(); }
    // Stops listening and drops open connections (cancel).
    void close();

signals:
    void codeReceived(const QString& code);
    // The provider sent an error back (error, error_description), or the callback was broken.
    void failed(const QString& message);

private:
    void onConnection();
    void onReadable(QTcpSocket* socket);
    void answer(QTcpSocket* socket, int status, const QString& title, const QString& text);
    void handle(QTcpSocket* socket, const QByteArray& head);

    QTcpServer server_;
    QString state_;
    QHash<QTcpSocket*, QByteArray> pending_;
    bool done_ = false;
};

} // namespace calnet::signin
