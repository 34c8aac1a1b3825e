// RelayStream: the byte stream a RelayClient speaks its WebSocket over — a TCP connection,
// with TLS for a wss:// relay — and the means to wake the client's thread. The protocol lives
// in RelayClient (datapath/relayclient.cpp); each OS implements the stream
// (platform/posix/relaystream_posix.cpp: BSD sockets, an eventfd and OpenSSL;
// platform/windows/relaystream_windows.cpp: Winsock, an event and Schannel).
//
// All calls but wake() come from the client's thread; wake() may come from any thread at any
// time in the stream's life, also while no connection is open.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace calnet::helper {

class RelayStream {
public:
    // send()/receive(): no bytes can move now (wait() and try again).
    static constexpr std::ptrdiff_t kWouldBlock = -1;
    // send()/receive(): the connection failed; error() says why.
    static constexpr std::ptrdiff_t kFailed = -2;

    struct Ready {
        bool readable = false; // receive() has bytes (or the end of the stream)
        bool writable = false; // send() can take bytes
        bool hangup = false;   // the connection failed or was closed by the peer
        bool woken = false;    // wake() was called since the last wait
    };

    virtual ~RelayStream() = default;

    // Connects to host:port (any of its addresses, each within 5 s) and, with tls, makes a
    // TLS 1.2+ session whose certificate must chain to the system's trusted roots and name
    // `host` (or be issued to the IP address `host` is). Gives up early once `running` turns
    // false. false and the reason on failure; the stream is closed then.
    bool open(const std::string& host, std::uint16_t port, bool tls,
              const std::atomic<bool>& running, std::string& error) {
        close();
        if (connectTcp(host, port, running, error) && (!tls || startTls(host, running, error)))
            return true;
        close();
        return false;
    }
    // Closes the connection (the wake-up stays usable).
    virtual void close() = 0;

    // Bytes moved (> 0), 0 for receive() at the end of the stream, kWouldBlock or kFailed.
    virtual std::ptrdiff_t send(const std::uint8_t* data, std::size_t length) = 0;
    virtual std::ptrdiff_t receive(std::uint8_t* data, std::size_t length) = 0;
    // Waits up to timeoutMs until the connection is readable (TLS may already hold decrypted
    // bytes: then at once), writable when wantWrite, failed, or wake() was called.
    virtual Ready wait(bool wantWrite, int timeoutMs) = 0;
    // Interrupts a wait() now or the next one.
    virtual void wake() = 0;
    // Why the last call failed.
    [[nodiscard]] virtual std::string error() const = 0;

    // This OS's stream; nullptr and the reason when it cannot be made (no wake-up handle).
    static std::unique_ptr<RelayStream> create(std::string& error);

protected:
    // open()'s two steps, each OS's own; a failure leaves open() to close().
    virtual bool connectTcp(const std::string& host, std::uint16_t port,
                            const std::atomic<bool>& running, std::string& error) = 0;
    virtual bool startTls(const std::string& host, const std::atomic<bool>& running,
                          std::string& error) = 0;
};

} // namespace calnet::helper
