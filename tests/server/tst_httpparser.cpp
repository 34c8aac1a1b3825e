// HttpParser: what a strict HTTP/1.1 server accepts and what it refuses (issue 11's table of
// attacks: request smuggling, NUL and control bytes, bad or negative Content-Length, HTTP/9.9,
// endless headers and bodies), fed whole and one byte at a time; chunked bodies counted against
// the limit as they arrive; pipelined requests; and that nothing past the head is parsed
// before the caller accepts the body.
#include <QTest>

#include "server/http/httpparser.h"

using calnet::server::http::HttpParser;
using calnet::server::http::Request;
using State = HttpParser::State;

namespace {

// Feeds everything, accepting the body when the head is ready; the final state.
State run(HttpParser& p, const QByteArray& bytes, bool oneByteAtATime = false) {
    State s = State::NeedMore;
    if (oneByteAtATime) {
        for (char c : bytes) {
            s = p.feed(&c, 1);
            if (s == State::HeadReady)
                s = p.acceptBody();
            if (s == State::Error || s == State::Complete)
                break;
        }
    } else {
        s = p.feed(bytes);
        if (s == State::HeadReady)
            s = p.acceptBody();
    }
    return s;
}

} // namespace

class tst_HttpParser : public QObject {
    Q_OBJECT

private slots:
    void simpleGet() {
        for (bool slow : {false, true}) {
            HttpParser p;
            QCOMPARE(
                run(p, "GET /api/v1/info?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", slow),
                State::Complete);
            const Request& r = p.request();
            QCOMPARE(r.method, QByteArray("GET"));
            QCOMPARE(r.target, QByteArray("/api/v1/info?x=1"));
            QCOMPARE(r.path, QByteArray("/api/v1/info"));
            QCOMPARE(r.version, 11);
            QCOMPARE(r.header("host"), QByteArray("a"));
            QCOMPARE(r.header("accept"), QByteArray("*/*"));
            QVERIFY(r.keepAlive());
            QVERIFY(r.body.isEmpty());
        }
    }

    void headersAreCaseInsensitiveAndTrimmed() {
        HttpParser p;
        QCOMPARE(run(p, "GET / HTTP/1.1\r\nHOST:  h \t\r\nConnection: Upgrade, close\r\n\r\n"),
                 State::Complete);
        QCOMPARE(p.request().header("host"), QByteArray("h"));
        QVERIFY(p.request().headerHasToken("connection", "close"));
        QVERIFY(p.request().headerHasToken("connection", "UPGRADE"));
        QVERIFY(!p.request().keepAlive());
    }

    void http10() {
        HttpParser p;
        QCOMPARE(run(p, "GET / HTTP/1.0\r\n\r\n"), State::Complete); // no Host needed
        QVERIFY(!p.request().keepAlive());
        HttpParser k;
        QCOMPARE(run(k, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), State::Complete);
        QVERIFY(k.request().keepAlive());
    }

    void contentLengthBody() {
        for (bool slow : {false, true}) {
            HttpParser p;
            QCOMPARE(run(p, "POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", slow),
                     State::Complete);
            QCOMPARE(p.request().body, QByteArray("hello"));
            QCOMPARE(p.request().contentLength, 5);
        }
    }

    void chunkedBody() {
        for (bool slow : {false, true}) {
            HttpParser p;
            const QByteArray req =
                "POST /r HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n";
            QCOMPARE(run(p, req, slow), State::Complete);
            QCOMPARE(p.request().body, QByteArray("hello world"));
            QVERIFY(p.request().chunked);
        }
    }

    // Nothing after the head is consumed until the caller says so: a 401 can go out before
    // one byte of a 50 MB body is read.
    void headBeforeBody() {
        HttpParser p;
        QCOMPARE(
            p.feed("POST /api/v1/admin/x HTTP/1.1\r\nHost: a\r\nContent-Length: 60000\r\n\r\nAAAA"),
            State::HeadReady);
        QCOMPARE(p.request().body.size(), 0);
        QCOMPARE(p.feed("BBBB"), State::HeadReady);
        QCOMPARE(p.unparsed(), QByteArray("AAAABBBB"));
    }

    void pipelined() {
        HttpParser p;
        QCOMPARE(
            run(p, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c"),
            State::Complete);
        QCOMPARE(p.request().path, QByteArray("/a"));
        QCOMPARE(p.reset(), State::HeadReady);
        QCOMPARE(p.acceptBody(), State::Complete);
        QCOMPARE(p.request().path, QByteArray("/b"));
        QCOMPARE(p.reset(), State::NeedMore);
        QVERIFY(p.started());
        QCOMPARE(p.feed(" HTTP/1.1\r\nHost: x\r\n\r\n"), State::HeadReady);
        QCOMPARE(p.request().path, QByteArray("/c"));
    }

    void refused_data() {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        auto row = [](const char* name, const QByteArray& r, int status) {
            QTest::newRow(name) << r << status;
        };
        const QByteArray h = "Host: a\r\n";
        row("HTTP/9.9", "GET / HTTP/9.9\r\n" + h + "\r\n", 505);
        row("HTTP/2.0", "GET / HTTP/2.0\r\n" + h + "\r\n", 505);
        row("garbage version", "GET / HTTQ/1.1\r\n" + h + "\r\n", 400);
        row("lowercase version", "GET / http/1.1\r\n" + h + "\r\n", 400);
        row("two spaces", "GET  / HTTP/1.1\r\n" + h + "\r\n", 400);
        row("no target", "GET HTTP/1.1\r\n" + h + "\r\n", 400);
        row("absolute-form", "GET http://x/ HTTP/1.1\r\n" + h + "\r\n", 400);
        row("space in target", "GET /a b HTTP/1.1\r\n" + h + "\r\n", 400);
        row("NUL in target", QByteArray("GET /a\0b HTTP/1.1\r\n", 19) + h + "\r\n", 400);
        row("method not a token", "GE{T / HTTP/1.1\r\n" + h + "\r\n", 400);
        row("NUL in header value", "GET / HTTP/1.1\r\n" + h + QByteArray("X: a\0b\r\n", 8) + "\r\n",
            400);
        row("control byte in value",
            "GET / HTTP/1.1\r\n" + h +
                "X: a\x01"
                "b\r\n\r\n",
            400);
        row("DEL in value", "GET / HTTP/1.1\r\n" + h + "X: a\x7f\r\n\r\n", 400);
        row("bare CR in value", "GET / HTTP/1.1\r\n" + h + "X: a\rb\r\n\r\n", 400);
        row("bare LF line end", "GET / HTTP/1.1\n" + h + "\r\n", 400);
        row("folded header", "GET / HTTP/1.1\r\n" + h + "X: a\r\n  b\r\n\r\n", 400);
        row("space before colon", "GET / HTTP/1.1\r\n" + h + "X : a\r\n\r\n", 400);
        row("no colon", "GET / HTTP/1.1\r\n" + h + "Xa\r\n\r\n", 400);
        row("no Host in 1.1", "GET / HTTP/1.1\r\n\r\n", 400);
        row("two Hosts", "GET / HTTP/1.1\r\n" + h + h + "\r\n", 400);
        row("negative Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n",
            400);
        row("Content-Length with sign", "POST / HTTP/1.1\r\n" + h + "Content-Length: +5\r\n\r\n",
            400);
        row("Content-Length list", "POST / HTTP/1.1\r\n" + h + "Content-Length: 5, 5\r\n\r\n", 400);
        row("Content-Length hex", "POST / HTTP/1.1\r\n" + h + "Content-Length: 0x10\r\n\r\n", 400);
        row("Content-Length empty", "POST / HTTP/1.1\r\n" + h + "Content-Length: \r\n\r\n", 400);
        row("conflicting Content-Lengths",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
        row("Content-Length huge",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999\r\n\r\n", 400);
        row("Content-Length over the limit",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 500000000\r\n\r\n", 413);
        row("CL and TE (smuggling)",
            "POST / HTTP/1.1\r\n" + h +
                "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400);
        row("TE and CL (smuggling)",
            "POST / HTTP/1.1\r\n" + h +
                "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
            400);
        row("TE gzip", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501);
        row("TE chunked twice",
            "POST / HTTP/1.1\r\n" + h +
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            501);
        row("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
        row("bad chunk size",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
        row("chunk size too long",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n123456789\r\n", 400);
        row("chunk without CRLF",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 400);
        row("chunked over the limit",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n10001\r\n", 413);
        // Found by fuzz_httpparser: a chunk line past its limit whose end is already here was
        // judged on its size (413) when read whole, on its length (400) when split.
        row("chunk line too long, big size",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1764215;" +
                QByteArray(1100, 'e') + "\r\n",
            400);
        row("trailers too long",
            "POST / HTTP/1.1\r\n" + h +
                "Transfer-Encoding: chunked\r\n\r\n0\r\nX: " + QByteArray(5000, 't') + "\r\n\r\n",
            431);
    }
    void refused() {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        for (bool slow : {false, true}) {
            HttpParser p;
            QCOMPARE(run(p, request, slow), State::Error);
            QCOMPARE(p.status(), status);
        }
    }

    // A body that never ends (chunks of 1 KiB forever) is refused once it passes 64 KiB, and
    // the parser never holds more than that.
    void endlessChunkedBody() {
        HttpParser p;
        QCOMPARE(p.feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 State::HeadReady);
        QCOMPARE(p.acceptBody(), State::NeedMore);
        const QByteArray chunk = "400\r\n" + QByteArray(1024, 'x') + "\r\n";
        int sent = 0;
        State s = State::NeedMore;
        while (s == State::NeedMore && sent < 1000) {
            s = p.feed(chunk);
            ++sent;
            QVERIFY(p.request().body.size() <= 64 * 1024);
            QVERIFY(p.buffered() <= std::size_t(chunk.size()));
        }
        QCOMPARE(s, State::Error);
        QCOMPARE(p.status(), 413);
        QCOMPARE(sent, 65); // the 65th chunk would pass the limit
    }

    // A header line that never ends, and many small headers: refused at 16 KiB.
    void endlessHead() {
        HttpParser p;
        QCOMPARE(p.feed("GET / HTTP/1.1\r\nHost: a\r\nX: "), State::NeedMore);
        State s = State::NeedMore;
        int fed = 0;
        while (s == State::NeedMore && fed < 10'000) {
            s = p.feed(QByteArray(100, 'a'));
            ++fed;
            QVERIFY(p.buffered() <= HttpParser::kMaxHeadBytes);
        }
        QCOMPARE(s, State::Error);
        QCOMPARE(p.status(), 431);

        HttpParser many;
        QByteArray head = "GET / HTTP/1.1\r\nHost: a\r\n";
        for (int i = 0; i < 150; ++i)
            head += "X" + QByteArray::number(i) + ": 1\r\n";
        QCOMPARE(run(many, head + "\r\n"), State::Error);
        QCOMPARE(many.status(), 431);

        HttpParser longLine;
        QCOMPARE(run(longLine, "GET /" + QByteArray(9000, 'a')), State::Error);
        QCOMPARE(longLine.status(), 414);
    }

    void limitsAreConfigurable() {
        HttpParser p(HttpParser::Limits{10});
        QCOMPARE(run(p, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"), State::Error);
        QCOMPARE(p.status(), 413);
        HttpParser q(HttpParser::Limits{10});
        QCOMPARE(run(q, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"),
                 State::Complete);
    }

    void blankLinesBeforeARequest() {
        HttpParser p;
        QCOMPARE(run(p, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), State::Complete);
        HttpParser q;
        QCOMPARE(run(q, QByteArray(40, '\n')), State::Error);
        // Too many CRLFs before a request line are refused however they arrive: the count
        // goes on across feeds (fuzz.httpparser found one byte at a time let any number by).
        for (const bool bytewise : {false, true}) {
            HttpParser r;
            QCOMPARE(run(r, QByteArray("\r\n").repeated(6) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                         bytewise),
                     State::Error);
            QCOMPARE(r.status(), 400);
            HttpParser ok;
            QCOMPARE(run(ok, QByteArray("\r\n").repeated(4) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                         bytewise),
                     State::Complete);
        }
    }
};

QTEST_APPLESS_MAIN(tst_HttpParser)
#include "tst_httpparser.moc"
