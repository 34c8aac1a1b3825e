// HttpParser: a strict, incremental HTTP/1.1 request parser for an internet-facing server
// (RFC 9110, RFC 9112). No I/O: bytes go in with feed(), a request comes out in two steps so
// the caller can refuse it before its body costs anything:
//
//   feed() ... -> HeadReady   request line and headers parsed and checked; the caller looks at
//                             the head (route, authorization, declared length) and either
//                             answers at once (401, 404, 413, a WebSocket upgrade) or calls
//                             acceptBody()
//   feed() ... -> Complete    the body (Content-Length or chunked) is in; request() is whole
//   any time   -> Error       status() and reason(): answer and close the connection
//
// Limits are enforced as bytes arrive, never after buffering them: the request line and headers
// together (kMaxHeadBytes), the number of header fields, and the body after de-chunking
// (Limits::maxBody, counted chunk by chunk). What it refuses, with 400 unless noted:
//   - a version other than HTTP/1.0 or HTTP/1.1 (505), a method that is not a token, a target
//     that is not origin-form ("/...") or holds bytes outside the URI set;
//   - bare CR, a header line folded onto the next (obs-fold), a field name that is not a
//     token, a field value with a control byte (NUL included) other than tab;
//   - Content-Length that is not plain digits or repeated with different values, and (413, in
//     acceptBody(), so a 401 can go first) one above the body limit;
//   - Transfer-Encoding other than exactly "chunked", together with Content-Length (request
//     smuggling: RFC 9112 §6.1), or in an HTTP/1.0 request; a malformed chunk;
//   - an HTTP/1.1 request without exactly one Host.
// After Complete, reset() readies it for the next request on the connection; bytes that arrived
// after the request stay buffered (pipelining) and are parsed by the next feed().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <QByteArray>

namespace calnet::server::http {

struct Request {
    QByteArray method; // as sent, e.g. "GET"
    QByteArray target; // origin-form: path and query, e.g. "/api/v1/info?x=1"
    QByteArray path;   // the target up to '?'
    int version = 11;  // 10 or 11
    std::vector<std::pair<QByteArray, QByteArray>> headers; // names lower-cased
    QByteArray body;
    bool chunked = false;
    qint64 contentLength = 0; // declared (0 if none or chunked)

    // The value of a header (names are case-insensitive), or an empty array.
    [[nodiscard]] QByteArray header(std::string_view lowerName) const;
    [[nodiscard]] bool hasHeader(std::string_view lowerName) const;
    // Whether the connection stays open after the response (HTTP/1.1 default, "close" token).
    [[nodiscard]] bool keepAlive() const;
    // A header holding a comma-separated token list that contains token (case-insensitive).
    [[nodiscard]] bool headerHasToken(std::string_view lowerName, std::string_view token) const;
};

// Outside HttpParser so its member initialiser can serve as a default argument.
struct HttpParserLimits {
    std::size_t maxBody = 64 * 1024;
};

class HttpParser {
public:
    static constexpr std::size_t kMaxHeadBytes = 16 * 1024; // request line + headers
    static constexpr std::size_t kMaxHeaderFields = 100;

    using Limits = HttpParserLimits;

    enum class State { NeedMore, HeadReady, Complete, Error };

    explicit HttpParser(Limits limits = {}) : limits_(limits) {}

    // Appends bytes and parses as far as they allow. Call again with more bytes while
    // NeedMore; after HeadReady nothing more is parsed until acceptBody().
    State feed(const char* data, std::size_t size);
    State feed(const QByteArray& bytes) {
        return feed(bytes.constData(), std::size_t(bytes.size()));
    }
    // After HeadReady: go on to read the body (or complete at once if there is none).
    State acceptBody();
    // After Complete: start on the next request with whatever bytes are left over.
    State reset();

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] const Request& request() const noexcept { return request_; }
    Request takeRequest() { return std::move(request_); }
    // Error: the status to answer with and why (for the log and the reply body).
    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] const char* reason() const noexcept { return reason_; }
    // Bytes received but not yet parsed (bounded: at most the head limit while parsing a head).
    [[nodiscard]] std::size_t buffered() const noexcept {
        return std::size_t(buffer_.size()) - pos_;
    }
    // The bytes received after what was parsed (after a head: what follows it on the wire).
    [[nodiscard]] QByteArray unparsed() const { return buffer_.mid(qsizetype(pos_)); }
    // True once any byte of the current request has arrived (for the header timeout).
    [[nodiscard]] bool started() const noexcept { return started_; }

private:
    enum class Phase {
        Head,
        HeadDone,
        FixedBody,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Done
    };

    State fail(int status, const char* reason);
    State parse();
    State parseHead();
    State parseBody();
    bool parseRequestLine(std::string_view line);
    bool parseHeaderLine(std::string_view line);
    State finishHead();
    void compact();

    Limits limits_;
    QByteArray buffer_;
    std::size_t pos_ = 0;      // parse position in buffer_
    std::size_t headUsed_ = 0; // head bytes consumed so far (limit)
    Phase phase_ = Phase::Head;
    State state_ = State::NeedMore;
    Request request_;
    int status_ = 0;
    const char* reason_ = "";
    bool started_ = false;
    bool sawRequestLine_ = false;
    // Empty lines before this request's line, counted across feeds: the same bytes must meet
    // the same limit however they arrive.
    std::size_t leadingEmpty_ = 0;
    std::uint64_t remaining_ = 0; // fixed body or current chunk bytes still to come
    std::size_t trailerBytes_ = 0;
};

} // namespace calnet::server::http
