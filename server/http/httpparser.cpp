// HttpParser: see httpparser.h. Grammar references are RFC 9110 (semantics) and RFC 9112
// (HTTP/1.1 message syntax).
#include "server/http/httpparser.h"

#include <algorithm>
#include <charconv>

namespace calnet::server::http {

namespace {

constexpr std::size_t kMaxRequestLine = 8 * 1024;
constexpr std::size_t kMaxChunkLine = 1024;
constexpr std::size_t kMaxTrailerBytes = 4 * 1024;
constexpr std::size_t kMaxLeadingEmptyLines = 4; // RFC 9112 §2.2: ignore a stray CRLF or two

// RFC 9110 §5.6.2 tchar.
bool isTchar(unsigned char c) {
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return isTchar(uint8_t(c)); });
}

// RFC 3986 characters of an origin-form target: unreserved, sub-delims, ':', '@', '/', '?', '%'.
bool isTargetChar(unsigned char c) {
    if (isTchar(c) && c != '^' && c != '`' && c != '|' && c != '"')
        return true; // letters, digits and most of tchar are URI characters
    switch (c) {
    case '(':
    case ')':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
    case '?':
    case '[':
    case ']':
        return true;
    default:
        return false;
    }
}

// RFC 9110 §5.5 field-vchar / obs-text, plus SP and HTAB inside a value.
bool isFieldValueByte(unsigned char c) {
    return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20) &&
                      std::isalpha(uint8_t(x)) == std::isalpha(uint8_t(y));
           });
}

std::string_view view(const QByteArray& b) {
    return {b.constData(), std::size_t(b.size())};
}

} // namespace

// ---- Request ------------------------------------------------------------------------------------

QByteArray Request::header(std::string_view lowerName) const {
    for (const auto& [name, value] : headers)
        if (view(name) == lowerName)
            return value;
    return {};
}

bool Request::hasHeader(std::string_view lowerName) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return view(h.first) == lowerName; });
}

bool Request::headerHasToken(std::string_view lowerName, std::string_view token) const {
    for (const auto& [name, value] : headers) {
        if (view(name) != lowerName)
            continue;
        std::string_view v = view(value);
        while (!v.empty()) {
            const auto comma = v.find(',');
            const std::string_view item = trimOws(v.substr(0, comma));
            if (equalsIgnoreCase(item, token))
                return true;
            if (comma == std::string_view::npos)
                break;
            v.remove_prefix(comma + 1);
        }
    }
    return false;
}

bool Request::keepAlive() const {
    if (headerHasToken("connection", "close"))
        return false;
    return version == 11 || headerHasToken("connection", "keep-alive");
}

// ---- HttpParser ---------------------------------------------------------------------------------

HttpParser::State HttpParser::fail(int status, const char* reason) {
    status_ = status;
    reason_ = reason;
    state_ = State::Error;
    buffer_ = QByteArray(); // nothing more will be parsed: give the memory back now
    pos_ = 0;
    return state_;
}

HttpParser::State HttpParser::feed(const char* data, std::size_t size) {
    if (state_ == State::Error)
        return state_;
    if (size > 0) {
        buffer_.append(data, qsizetype(size));
        if (!started_) {
            // A request has started once anything but the blank lines we tolerate arrived.
            started_ =
                std::any_of(data, data + size, [](char c) { return c != '\r' && c != '\n'; });
        }
    }
    if (state_ == State::HeadReady || state_ == State::Complete)
        return state_; // the caller decides first; bytes wait in the buffer
    return parse();
}

HttpParser::State HttpParser::acceptBody() {
    if (state_ != State::HeadReady)
        return state_;
    if (request_.chunked) {
        phase_ = Phase::ChunkSize;
    } else if (std::uint64_t(request_.contentLength) > limits_.maxBody) {
        return fail(413, "request body over the limit");
    } else if (request_.contentLength > 0) {
        phase_ = Phase::FixedBody;
        remaining_ = std::uint64_t(request_.contentLength);
        request_.body.reserve(qsizetype(request_.contentLength));
    } else {
        phase_ = Phase::Done;
    }
    state_ = State::NeedMore;
    return parse();
}

HttpParser::State HttpParser::reset() {
    if (state_ == State::Error)
        return state_;
    compact();
    request_ = Request{};
    phase_ = Phase::Head;
    state_ = State::NeedMore;
    headUsed_ = 0;
    sawRequestLine_ = false;
    leadingEmpty_ = 0;
    remaining_ = 0;
    trailerBytes_ = 0;
    started_ = false;
    for (std::size_t i = pos_; i < std::size_t(buffer_.size()); ++i)
        started_ = started_ || (buffer_[qsizetype(i)] != '\r' && buffer_[qsizetype(i)] != '\n');
    return parse();
}

void HttpParser::compact() {
    if (pos_ > 0) {
        buffer_.remove(0, qsizetype(pos_));
        pos_ = 0;
    }
}

HttpParser::State HttpParser::parse() {
    State s = phase_ == Phase::Head ? parseHead() : parseBody();
    if (s == State::NeedMore && pos_ > 4096)
        compact();
    return s;
}

HttpParser::State HttpParser::parseHead() {
    for (;;) {
        const char* base = buffer_.constData();
        const std::size_t end = std::size_t(buffer_.size());
        const char* lf = static_cast<const char*>(std::memchr(base + pos_, '\n', end - pos_));
        if (!lf) {
            const std::size_t pending = end - pos_;
            if (!sawRequestLine_ && pending > kMaxRequestLine)
                return fail(414, "request line too long");
            if (headUsed_ + pending > kMaxHeadBytes)
                return fail(431, "request head over 16 KiB");
            return state_ = State::NeedMore;
        }
        const std::size_t lineEnd = std::size_t(lf - base); // index of '\n'
        const std::size_t lineLen = lineEnd - pos_ + 1;
        headUsed_ += lineLen;
        if (headUsed_ > kMaxHeadBytes)
            return fail(431, "request head over 16 KiB");
        if (lineEnd == pos_ || base[lineEnd - 1] != '\r')
            return fail(400, "line not ended by CRLF");
        std::string_view line(base + pos_, lineEnd - 1 - pos_);
        pos_ = lineEnd + 1;
        if (line.find('\r') != std::string_view::npos)
            return fail(400, "bare CR");
        if (!sawRequestLine_) {
            if (line.empty()) {
                if (++leadingEmpty_ > kMaxLeadingEmptyLines)
                    return fail(400, "blank lines before the request");
                continue;
            }
            if (line.size() > kMaxRequestLine)
                return fail(414, "request line too long");
            if (!parseRequestLine(line))
                return state_;
            sawRequestLine_ = true;
            continue;
        }
        if (line.empty())
            return finishHead();
        if (!parseHeaderLine(line))
            return state_;
    }
}

bool HttpParser::parseRequestLine(std::string_view line) {
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
        line.find(' ', sp2 + 1) != std::string_view::npos) {
        fail(400, "malformed request line");
        return false;
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!isToken(method)) {
        fail(400, "malformed method");
        return false;
    }
    if (target.empty() || target.front() != '/' ||
        !std::all_of(target.begin(), target.end(),
                     [](char c) { return isTargetChar(uint8_t(c)); })) {
        fail(400, "malformed request target");
        return false;
    }
    if (version == "HTTP/1.1") {
        request_.version = 11;
    } else if (version == "HTTP/1.0") {
        request_.version = 10;
    } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
               std::isdigit(uint8_t(version[5])) && version[6] == '.' &&
               std::isdigit(uint8_t(version[7]))) {
        fail(505, "HTTP version not supported");
        return false;
    } else {
        fail(400, "malformed HTTP version");
        return false;
    }
    request_.method = QByteArray(method.data(), qsizetype(method.size()));
    request_.target = QByteArray(target.data(), qsizetype(target.size()));
    const auto q = target.find('?');
    request_.path =
        q == std::string_view::npos ? request_.target : QByteArray(target.data(), qsizetype(q));
    return true;
}

bool HttpParser::parseHeaderLine(std::string_view line) {
    if (line.front() == ' ' || line.front() == '\t') {
        fail(400, "folded header line");
        return false;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
        fail(400, "malformed header field name");
        return false;
    }
    const std::string_view value = trimOws(line.substr(colon + 1));
    if (!std::all_of(value.begin(), value.end(),
                     [](char c) { return isFieldValueByte(uint8_t(c)); })) {
        fail(400, "control byte in a header value");
        return false;
    }
    if (request_.headers.size() >= kMaxHeaderFields) {
        fail(431, "too many header fields");
        return false;
    }
    QByteArray name(line.data(), qsizetype(colon));
    request_.headers.emplace_back(name.toLower(),
                                  QByteArray(value.data(), qsizetype(value.size())));
    return true;
}

HttpParser::State HttpParser::finishHead() {
    Request& r = request_;
    int hosts = 0;
    bool sawLength = false;
    std::string_view length;
    QByteArray te;
    for (const auto& [name, value] : r.headers) {
        const std::string_view v = view(value);
        if (name == "host") {
            ++hosts;
        } else if (name == "content-length") {
            if (sawLength && v != length)
                return fail(400, "conflicting Content-Length");
            sawLength = true;
            length = v;
        } else if (name == "transfer-encoding") {
            if (!te.isEmpty())
                te += ',';
            te += value;
        }
    }
    if (r.version == 11 && hosts != 1)
        return fail(400, "an HTTP/1.1 request needs exactly one Host");
    if (!te.isEmpty()) {
        if (r.version == 10)
            return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        if (sawLength)
            return fail(400, "Content-Length together with Transfer-Encoding");
        if (!equalsIgnoreCase(trimOws(view(te)), "chunked"))
            return fail(501, "only the chunked transfer coding is supported");
        r.chunked = true;
    } else if (sawLength) {
        if (length.empty() || length.size() > 18 ||
            !std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return fail(400, "malformed Content-Length");
        std::from_chars(length.data(), length.data() + length.size(), r.contentLength);
        // Over the limit: refused in acceptBody(), so that the caller can answer 401 first.
    }
    phase_ = Phase::HeadDone;
    return state_ = State::HeadReady;
}

HttpParser::State HttpParser::parseBody() {
    for (;;) {
        const char* base = buffer_.constData();
        const std::size_t end = std::size_t(buffer_.size());
        switch (phase_) {
        case Phase::FixedBody:
        case Phase::ChunkData: {
            const std::size_t take = std::size_t(std::min<std::uint64_t>(remaining_, end - pos_));
            request_.body.append(base + pos_, qsizetype(take));
            pos_ += take;
            remaining_ -= take;
            if (remaining_ > 0) {
                compact();
                return state_ = State::NeedMore;
            }
            phase_ = phase_ == Phase::FixedBody ? Phase::Done : Phase::ChunkDataEnd;
            break;
        }
        case Phase::ChunkDataEnd:
            if (end - pos_ < 2)
                return state_ = State::NeedMore;
            if (base[pos_] != '\r' || base[pos_ + 1] != '\n')
                return fail(400, "chunk data not followed by CRLF");
            pos_ += 2;
            phase_ = Phase::ChunkSize;
            break;
        case Phase::ChunkSize:
        case Phase::Trailers: {
            const char* lf = static_cast<const char*>(std::memchr(base + pos_, '\n', end - pos_));
            // The same limit whether the line is all here or still arriving, so the answer
            // never depends on how the bytes were split into reads.
            const std::size_t have = lf ? std::size_t(lf - base) + 1 - pos_ : end - pos_;
            if (phase_ == Phase::ChunkSize && have > kMaxChunkLine)
                return fail(400, "chunk line too long");
            if (phase_ == Phase::Trailers && trailerBytes_ + have > kMaxTrailerBytes)
                return fail(431, "trailers too long");
            if (!lf)
                return state_ = State::NeedMore;
            const std::size_t lineEnd = std::size_t(lf - base);
            if (lineEnd == pos_ || base[lineEnd - 1] != '\r')
                return fail(400, "line not ended by CRLF");
            const std::string_view line(base + pos_, lineEnd - 1 - pos_);
            pos_ = lineEnd + 1;
            if (line.find('\r') != std::string_view::npos)
                return fail(400, "bare CR");
            if (phase_ == Phase::Trailers) {
                trailerBytes_ += line.size() + 2;
                if (line.empty()) {
                    phase_ = Phase::Done;
                    break;
                }
                const auto colon = line.find(':');
                if (colon == std::string_view::npos || !isToken(line.substr(0, colon)))
                    return fail(400, "malformed trailer");
                break; // trailers are read and dropped
            }
            // chunk-size [ chunk-ext ]: hex digits, then optionally ";ext" with no control byte.
            std::size_t digits = 0;
            while (digits < line.size() && std::isxdigit(uint8_t(line[digits])))
                ++digits;
            if (digits == 0 || digits > 8)
                return fail(400, "malformed chunk size");
            const std::string_view rest = trimOws(line.substr(digits));
            if (!rest.empty() &&
                (rest.front() != ';' || !std::all_of(rest.begin(), rest.end(), [](char c) {
                     return isFieldValueByte(uint8_t(c));
                 })))
                return fail(400, "malformed chunk extension");
            std::uint64_t size = 0;
            std::from_chars(line.data(), line.data() + digits, size, 16);
            if (std::uint64_t(request_.body.size()) + size > limits_.maxBody)
                return fail(413, "request body over the limit");
            if (size == 0) {
                phase_ = Phase::Trailers;
            } else {
                remaining_ = size;
                phase_ = Phase::ChunkData;
            }
            break;
        }
        case Phase::Done:
            phase_ = Phase::Done;
            return state_ = State::Complete;
        case Phase::Head:
        case Phase::HeadDone:
            return state_;
        }
    }
}

} // namespace calnet::server::http
