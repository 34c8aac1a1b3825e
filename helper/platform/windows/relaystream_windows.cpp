// RelayStream on Windows: a non-blocking Winsock TCP socket whose readiness arrives through
// WSAEventSelect, an event as the wake-up, and Schannel for wss:// relays.
//
// Waiting: WSAEventSelect signals an event on FD_READ, FD_WRITE and FD_CLOSE, but those are
// edges (FD_WRITE only after a send would have blocked), so every wait() asks WSAPoll with a
// zero timeout for the current state first and sleeps on {socket event, wake event} only when
// nothing is ready.
//
// TLS: Schannel checks the server's certificate itself (SCH_CRED_AUTO_CRED_VALIDATION: the
// chain to the machine's trusted roots, revocation where it can be checked, and the name given
// as the target, a host name or IP address), with TLS 1.2. Records are encrypted
// whole; ciphertext the socket would not take yet waits in cipherOut_ and goes out from send()
// or wait(). Decrypted bytes the caller has not taken wait in plainIn_.
#include "helper/datapath/relaystream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include <QString>

// winsock2.h before windows.h; ws2tcpip.h after it.
#include <winsock2.h>
#include <ws2tcpip.h>
// security.h needs SECURITY_WIN32 (user mode); schannel.h needs its types.
#define SECURITY_WIN32
#include <schannel.h>
#include <security.h>

#include "helper/platform/windows/systemerror.h"
#include "helper/platform/windows/winsock.h"

namespace calnet::helper {

namespace {

constexpr int kConnectTimeoutMs = 5'000;
constexpr int kTlsHandshakeTimeoutMs = 10'000;
constexpr std::size_t kMaxTlsInput = 64 * 1024; // more than a record with its header and MAC

std::string wsaText(const char* call, int code) {
    return std::string(call) + ": " +
           calnet::platform::windows::systemErrorText(DWORD(code)).toStdString();
}

std::string secText(const char* what, SECURITY_STATUS status) {
    return std::string("TLS: ") + what + ": " +
           calnet::platform::windows::systemErrorText(DWORD(status)).toStdString();
}

class WindowsRelayStream final : public RelayStream {
public:
    explicit WindowsRelayStream(HANDLE wakeEvent) : wake_(wakeEvent) {}
    ~WindowsRelayStream() override {
        close();
        ::CloseHandle(wake_);
        if (haveCredentials_)
            ::FreeCredentialsHandle(&credentials_);
    }
    WindowsRelayStream(const WindowsRelayStream&) = delete;
    WindowsRelayStream& operator=(const WindowsRelayStream&) = delete;

    void close() override {
        if (haveContext_) {
            ::DeleteSecurityContext(&context_);
            haveContext_ = false;
        }
        tls_ = false;
        tlsEnd_ = 0;
        cipherIn_.clear();
        cipherOut_.clear();
        plainIn_.clear();
        plainOff_ = 0;
        if (socket_ != INVALID_SOCKET)
            ::closesocket(socket_);
        socket_ = INVALID_SOCKET;
        if (socketEvent_ != WSA_INVALID_EVENT)
            ::WSACloseEvent(socketEvent_);
        socketEvent_ = WSA_INVALID_EVENT;
    }

    std::ptrdiff_t send(const std::uint8_t* data, std::size_t length) override {
        if (!tls_)
            return rawSend(data, length);
        // A record is sent whole before the next is made.
        if (const auto r = flushCipher(); r < 0 || !cipherOut_.empty())
            return r < 0 ? r : kWouldBlock;
        const std::size_t n = std::min<std::size_t>(length, sizes_.cbMaximumMessage);
        std::vector<std::uint8_t> record(sizes_.cbHeader + n + sizes_.cbTrailer);
        std::memcpy(record.data() + sizes_.cbHeader, data, n);
        SecBuffer buffers[4] = {
            {sizes_.cbHeader, SECBUFFER_STREAM_HEADER, record.data()},
            {ULONG(n), SECBUFFER_DATA, record.data() + sizes_.cbHeader},
            {sizes_.cbTrailer, SECBUFFER_STREAM_TRAILER, record.data() + sizes_.cbHeader + n},
            {0, SECBUFFER_EMPTY, nullptr}};
        SecBufferDesc desc{SECBUFFER_VERSION, 4, buffers};
        if (const SECURITY_STATUS st = ::EncryptMessage(&context_, 0, &desc, 0); st != SEC_E_OK) {
            error_ = secText("EncryptMessage", st);
            return kFailed;
        }
        const std::size_t total = buffers[0].cbBuffer + buffers[1].cbBuffer + buffers[2].cbBuffer;
        cipherOut_.assign(record.begin(), record.begin() + std::ptrdiff_t(total));
        if (flushCipher() < 0)
            return kFailed;
        return std::ptrdiff_t(n); // the rest of the record goes out from send() or wait()
    }

    std::ptrdiff_t receive(std::uint8_t* data, std::size_t length) override {
        if (!tls_)
            return rawReceive(data, length);
        for (;;) {
            if (plainOff_ < plainIn_.size()) {
                const std::size_t n = std::min(length, plainIn_.size() - plainOff_);
                std::memcpy(data, plainIn_.data() + plainOff_, n);
                plainOff_ += n;
                if (plainOff_ == plainIn_.size()) {
                    plainIn_.clear();
                    plainOff_ = 0;
                }
                return std::ptrdiff_t(n);
            }
            if (tlsEnd_ != 0 || decrypt() != 0) {
                if (tlsEnd_ != 0)
                    return tlsEnd_ == kEnded ? 0 : kFailed;
                continue;
            }
            // A partial record: more ciphertext from the socket.
            std::uint8_t chunk[16384];
            const std::ptrdiff_t n = rawReceive(chunk, sizeof chunk);
            if (n <= 0)
                return n;
            cipherIn_.insert(cipherIn_.end(), chunk, chunk + n);
            if (cipherIn_.size() > kMaxTlsInput + sizeof chunk) {
                error_ = "TLS: a record larger than TLS allows";
                return kFailed;
            }
        }
    }

    Ready wait(bool wantWrite, int timeoutMs) override {
        Ready ready;
        if (socket_ == INVALID_SOCKET) {
            ready.woken =
                ::WaitForSingleObject(wake_, DWORD(std::max(timeoutMs, 0))) == WAIT_OBJECT_0;
            return ready;
        }
        if (flushCipher() < 0) {
            ready.hangup = true;
            return ready;
        }
        const bool write = wantWrite || !cipherOut_.empty();
        // Decrypted bytes waiting, or a whole record (or the session's end) among the
        // ciphertext already read: readable without the socket.
        // (Records may carry no plaintext: decrypt until one does, or no whole one is left.)
        while (tls_ && plainOff_ >= plainIn_.size() && !cipherIn_.empty() && tlsEnd_ == 0 &&
               decrypt() == 1) {
        }
        const bool buffered = tls_ && (plainOff_ < plainIn_.size() || tlsEnd_ != 0);
        poll(ready, write);
        if (ready.readable || ready.hangup || (write && ready.writable) || buffered) {
            ready.readable = ready.readable || buffered;
            ready.woken = ::WaitForSingleObject(wake_, 0) == WAIT_OBJECT_0;
            return ready;
        }
        ::WSAResetEvent(socketEvent_);
        poll(ready, write); // what changed between the first look and the reset
        if (!ready.readable && !ready.hangup && !(write && ready.writable)) {
            HANDLE events[2] = {socketEvent_, wake_};
            const DWORD r =
                ::WaitForMultipleObjects(2, events, FALSE, DWORD(std::max(timeoutMs, 0)));
            ready.woken = r == WAIT_OBJECT_0 + 1;
            poll(ready, write);
        }
        if (!ready.woken)
            ready.woken = ::WaitForSingleObject(wake_, 0) == WAIT_OBJECT_0;
        return ready;
    }

    void wake() override { ::SetEvent(wake_); }

    [[nodiscard]] std::string error() const override { return error_; }

private:
    void poll(Ready& ready, bool wantWrite) {
        WSAPOLLFD p{socket_, short(POLLRDNORM | (wantWrite ? POLLWRNORM : 0)), 0};
        if (::WSAPoll(&p, 1, 0) < 0) {
            ready.hangup = true;
            return;
        }
        ready.readable = ready.readable || (p.revents & POLLRDNORM);
        ready.writable = p.revents & POLLWRNORM;
        // POLLHUP comes with the last bytes still readable: those are read first (recv
        // then returns 0).
        ready.hangup = (p.revents & (POLLERR | POLLNVAL)) ||
                       ((p.revents & POLLHUP) && !(p.revents & POLLRDNORM));
    }

    std::ptrdiff_t rawSend(const std::uint8_t* data, std::size_t length) {
        const int n = ::send(socket_, reinterpret_cast<const char*>(data),
                             int(std::min<std::size_t>(length, 1 << 30)), 0);
        return n >= 0 ? n : failure("send");
    }

    std::ptrdiff_t rawReceive(std::uint8_t* data, std::size_t length) {
        const int n = ::recv(socket_, reinterpret_cast<char*>(data),
                             int(std::min<std::size_t>(length, 1 << 30)), 0);
        return n >= 0 ? n : failure("recv");
    }

    std::ptrdiff_t failure(const char* call) {
        const int code = ::WSAGetLastError();
        if (code == WSAEWOULDBLOCK || code == WSAEINTR)
            return kWouldBlock;
        error_ = wsaText(call, code);
        return kFailed;
    }

    // 0 when cipherOut_ is empty or the socket took what it could; kFailed on error.
    std::ptrdiff_t flushCipher() {
        while (!cipherOut_.empty()) {
            const std::ptrdiff_t n = rawSend(cipherOut_.data(), cipherOut_.size());
            if (n == kWouldBlock)
                return 0;
            if (n < 0)
                return kFailed;
            cipherOut_.erase(cipherOut_.begin(), cipherOut_.begin() + n);
        }
        return 0;
    }

    // Decrypts one record from cipherIn_ into plainIn_: 1 when done, 0 when the record is not
    // whole yet, -1 when the session ended (tlsEnd_ says how).
    int decrypt() {
        if (cipherIn_.empty())
            return 0;
        SecBuffer buffers[4] = {{ULONG(cipherIn_.size()), SECBUFFER_DATA, cipherIn_.data()},
                                {0, SECBUFFER_EMPTY, nullptr},
                                {0, SECBUFFER_EMPTY, nullptr},
                                {0, SECBUFFER_EMPTY, nullptr}};
        SecBufferDesc desc{SECBUFFER_VERSION, 4, buffers};
        const SECURITY_STATUS st = ::DecryptMessage(&context_, &desc, 0, nullptr);
        if (st == SEC_E_INCOMPLETE_MESSAGE)
            return 0;
        if (st == SEC_I_CONTEXT_EXPIRED) {
            tlsEnd_ = kEnded;
            return -1;
        }
        if (st != SEC_E_OK) {
            // SEC_I_RENEGOTIATE included: a relay has no reason to renegotiate.
            error_ = secText("DecryptMessage", st);
            tlsEnd_ = kBroken;
            return -1;
        }
        std::vector<std::uint8_t> extra;
        for (const SecBuffer& b : buffers) {
            if (b.BufferType == SECBUFFER_DATA && b.cbBuffer > 0) {
                const auto* p = static_cast<const std::uint8_t*>(b.pvBuffer);
                plainIn_.insert(plainIn_.end(), p, p + b.cbBuffer);
            } else if (b.BufferType == SECBUFFER_EXTRA && b.cbBuffer > 0) {
                // The last cbBuffer bytes of the input (pvBuffer is not always set).
                extra.assign(cipherIn_.end() - std::ptrdiff_t(b.cbBuffer), cipherIn_.end());
            }
        }
        cipherIn_.swap(extra); // decrypted in place: what follows the record stays
        return 1;
    }

    bool connectTcp(const std::string& host, std::uint16_t port, const std::atomic<bool>& running,
                    std::string& error) override {
        if (!windows::startWinsock(error))
            return false;
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_family = AF_UNSPEC;
        addrinfo* res = nullptr;
        const std::string service = std::to_string(port);
        if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
            error = "cannot resolve " + host + ": " + wsaText("getaddrinfo", rc);
            return false;
        }
        bool connected = false;
        for (addrinfo* ai = res; ai && running && !connected; ai = ai->ai_next) {
            close();
            socket_ = ::WSASocketW(ai->ai_family, ai->ai_socktype, ai->ai_protocol, nullptr, 0,
                                   WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
            socketEvent_ = ::WSACreateEvent();
            if (socket_ == INVALID_SOCKET || socketEvent_ == WSA_INVALID_EVENT) {
                error = wsaText("socket", ::WSAGetLastError());
                continue;
            }
            // Non-blocking from here on (WSAEventSelect makes it so).
            ::WSAEventSelect(socket_, socketEvent_, FD_CONNECT | FD_READ | FD_WRITE | FD_CLOSE);
            if (::connect(socket_, ai->ai_addr, int(ai->ai_addrlen)) == 0) {
                connected = true;
                break;
            }
            if (::WSAGetLastError() != WSAEWOULDBLOCK) {
                error = wsaText("connect", ::WSAGetLastError());
                continue;
            }
            connected = waitConnected(running, error);
        }
        ::freeaddrinfo(res);
        if (!connected)
            return false;
        const BOOL one = TRUE;
        ::setsockopt(socket_, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one),
                     sizeof one);
        const int buffer = 1 << 20;
        ::setsockopt(socket_, SOL_SOCKET, SO_SNDBUF, reinterpret_cast<const char*>(&buffer),
                     sizeof buffer);
        ::setsockopt(socket_, SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&buffer),
                     sizeof buffer);
        return true;
    }

    bool waitConnected(const std::atomic<bool>& running, std::string& error) {
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(kConnectTimeoutMs);
        while (running && std::chrono::steady_clock::now() < deadline) {
            if (::WaitForSingleObject(socketEvent_, 200) != WAIT_OBJECT_0)
                continue;
            WSANETWORKEVENTS events{};
            if (::WSAEnumNetworkEvents(socket_, socketEvent_, &events) != 0) {
                error = wsaText("connect", ::WSAGetLastError());
                return false;
            }
            if (!(events.lNetworkEvents & FD_CONNECT))
                continue;
            if (const int code = events.iErrorCode[FD_CONNECT_BIT]; code != 0) {
                error = wsaText("connect", code);
                return false;
            }
            return true;
        }
        error = "connect: timed out";
        return false;
    }

    bool acquireCredentials(std::string& error) {
        if (haveCredentials_)
            return true;
        SCHANNEL_CRED cred{};
        cred.dwVersion = SCHANNEL_CRED_VERSION;
        cred.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT;
        cred.dwFlags = SCH_CRED_AUTO_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS |
                       SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT |
                       SCH_CRED_IGNORE_NO_REVOCATION_CHECK | SCH_CRED_IGNORE_REVOCATION_OFFLINE |
                       SCH_USE_STRONG_CRYPTO;
        TimeStamp expiry{};
        const SECURITY_STATUS st = ::AcquireCredentialsHandleW(
            nullptr, const_cast<wchar_t*>(UNISP_NAME_W), SECPKG_CRED_OUTBOUND, nullptr, &cred,
            nullptr, nullptr, &credentials_, &expiry);
        if (st != SEC_E_OK) {
            error = secText("AcquireCredentialsHandle", st);
            return false;
        }
        haveCredentials_ = true;
        return true;
    }

    // Sends a handshake token Schannel made, whole, then frees it.
    bool sendToken(SecBuffer& token, const std::atomic<bool>& running) {
        const auto* p = static_cast<const std::uint8_t*>(token.pvBuffer);
        cipherOut_.assign(p, p + token.cbBuffer);
        ::FreeContextBuffer(token.pvBuffer);
        token.pvBuffer = nullptr;
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(kTlsHandshakeTimeoutMs);
        while (!cipherOut_.empty() && running && std::chrono::steady_clock::now() < deadline) {
            if (flushCipher() < 0)
                return false;
            if (!cipherOut_.empty()) {
                Ready ready;
                ::WSAResetEvent(socketEvent_);
                poll(ready, true);
                if (!ready.writable)
                    ::WaitForSingleObject(socketEvent_, 200);
            }
        }
        return cipherOut_.empty();
    }

    bool startTls(const std::string& host, const std::atomic<bool>& running,
                  std::string& error) override {
        if (!acquireCredentials(error))
            return false;
        const std::wstring target = QString::fromStdString(host).toStdWString();
        const ULONG wanted = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT |
                             ISC_REQ_CONFIDENTIALITY | ISC_REQ_EXTENDED_ERROR |
                             ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(kTlsHandshakeTimeoutMs);
        bool first = true;
        while (running && std::chrono::steady_clock::now() < deadline) {
            SecBuffer in[2] = {{ULONG(cipherIn_.size()), SECBUFFER_TOKEN, cipherIn_.data()},
                               {0, SECBUFFER_EMPTY, nullptr}};
            SecBufferDesc inDesc{SECBUFFER_VERSION, 2, in};
            SecBuffer out[1] = {{0, SECBUFFER_TOKEN, nullptr}};
            SecBufferDesc outDesc{SECBUFFER_VERSION, 1, out};
            ULONG got = 0;
            const SECURITY_STATUS st = ::InitializeSecurityContextW(
                &credentials_, first ? nullptr : &context_,
                first ? const_cast<wchar_t*>(target.c_str()) : nullptr, wanted, 0, 0,
                first ? nullptr : &inDesc, 0, first ? &context_ : nullptr, &outDesc, &got, nullptr);
            if (first && (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED))
                haveContext_ = true;
            first = false;
            if (st == SEC_E_INCOMPLETE_MESSAGE) {
                if (!readMore(running, deadline, error))
                    return false;
                continue;
            }
            if (out[0].pvBuffer && out[0].cbBuffer > 0 && !sendToken(out[0], running)) {
                error = "TLS: sending the handshake failed: " + error_;
                return false;
            }
            if (out[0].pvBuffer)
                ::FreeContextBuffer(out[0].pvBuffer);
            if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
                error = secText("the handshake failed", st);
                return false;
            }
            // What the server sent after its handshake messages stays for the next step.
            if (in[1].BufferType == SECBUFFER_EXTRA && in[1].cbBuffer > 0)
                cipherIn_.erase(cipherIn_.begin(),
                                cipherIn_.end() - std::ptrdiff_t(in[1].cbBuffer));
            else
                cipherIn_.clear();
            if (st == SEC_E_OK) {
                if (const SECURITY_STATUS s =
                        ::QueryContextAttributesW(&context_, SECPKG_ATTR_STREAM_SIZES, &sizes_);
                    s != SEC_E_OK) {
                    error = secText("QueryContextAttributes", s);
                    return false;
                }
                tls_ = true;
                return true;
            }
            if (cipherIn_.empty() && !readMore(running, deadline, error))
                return false;
        }
        error = "TLS handshake timed out";
        return false;
    }

    bool readMore(const std::atomic<bool>& running, std::chrono::steady_clock::time_point deadline,
                  std::string& error) {
        while (running && std::chrono::steady_clock::now() < deadline) {
            std::uint8_t chunk[16384];
            const std::ptrdiff_t n = rawReceive(chunk, sizeof chunk);
            if (n > 0) {
                cipherIn_.insert(cipherIn_.end(), chunk, chunk + n);
                return true;
            }
            if (n == 0 || n == kFailed) {
                error =
                    n == 0 ? std::string("TLS: the relay closed the connection") : "TLS: " + error_;
                return false;
            }
            ::WSAResetEvent(socketEvent_);
            Ready ready;
            poll(ready, false);
            if (!ready.readable)
                ::WaitForSingleObject(socketEvent_, 200);
        }
        error = "TLS handshake timed out";
        return false;
    }

    const HANDLE wake_; // auto-reset; open for the object's whole life (wake() may come anytime)
    SOCKET socket_ = INVALID_SOCKET;
    WSAEVENT socketEvent_ = WSA_INVALID_EVENT;
    CredHandle credentials_{};
    bool haveCredentials_ = false;
    CtxtHandle context_{};
    bool haveContext_ = false;
    bool tls_ = false; // the handshake finished: send() and receive() go through Schannel
    // The session ended among the ciphertext read: receive() says so once plainIn_ is empty.
    static constexpr int kEnded = 1;  // the server's close_notify
    static constexpr int kBroken = 2; // a record that did not decrypt
    int tlsEnd_ = 0;
    SecPkgContext_StreamSizes sizes_{};
    std::vector<std::uint8_t> cipherIn_;
    std::vector<std::uint8_t> cipherOut_;
    std::vector<std::uint8_t> plainIn_;
    std::size_t plainOff_ = 0;
    std::string error_;
};

} // namespace

std::unique_ptr<RelayStream> RelayStream::create(std::string& error) {
    const HANDLE wake = ::CreateEventW(nullptr, FALSE, FALSE, nullptr);
    if (!wake) {
        error = "CreateEvent: " +
                calnet::platform::windows::systemErrorText(::GetLastError()).toStdString();
        return nullptr;
    }
    return std::make_unique<WindowsRelayStream>(wake);
}

} // namespace calnet::helper
