// Tests for AllowedIps: the kernel's allowedips self-test (selftest/allowedips.c) as data rows,
// scripted ownership and removal rules, and the kernel's randomized test at its sizes against a
// linear-scan list.
#include <QByteArray>
#include <QTest>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "core/net/ipaddress.h"
#include "core/wireguard/allowedips.h"

using calnet::net::Family;
using calnet::net::IpAddress;
using calnet::net::IpPrefix;

namespace {

struct Peer {
    int id = 0;
};
using Table = calnet::wireguard::AllowedIps<const Peer*>;

// Addresses are built from bytes only: IpAddress's parser lives in another translation unit.
IpAddress ip4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddress x;
    x.family = Family::V4;
    x.bytes[0] = a;
    x.bytes[1] = b;
    x.bytes[2] = c;
    x.bytes[3] = d;
    return x;
}

// Four big-endian 32-bit words, like the kernel's ip6().
IpAddress ip6(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
    IpAddress x;
    x.family = Family::V6;
    const std::array<std::uint32_t, 4> words = {a, b, c, d};
    for (std::size_t i = 0; i < 16; ++i) {
        x.bytes[i] = static_cast<std::uint8_t>(words[i / 4] >> (24 - 8 * (i % 4)));
    }
    return x;
}

IpPrefix pfx(const IpAddress& address, unsigned length) {
    IpPrefix p;
    p.address = address;
    p.length = static_cast<std::uint8_t>(length);
    return p;
}

unsigned widthOf(Family f) {
    return f == Family::V4 ? 32 : 128;
}

QString describe(const IpAddress& a) {
    const int n = a.family == Family::V4 ? 4 : 16;
    return QString::fromLatin1(
        QByteArray(reinterpret_cast<const char*>(a.bytes.data()), n).toHex(':'));
}

QString describe(const IpPrefix& p) {
    return describe(p.address) + QLatin1Char('/') + QString::number(p.length);
}

// The kernel's self-test peers a..h; '-' stands for "no peer".
std::array<Peer, 8> gNamed = {{{'a'}, {'b'}, {'c'}, {'d'}, {'e'}, {'f'}, {'g'}, {'h'}}};

const Peer* named(char c) {
    return c == '-' ? nullptr : &gNamed.at(static_cast<std::size_t>(c - 'a'));
}

// QChar, so that QCOMPARE prints both sides on failure.
QChar nameOf(const Peer* p) {
    return QLatin1Char(p == nullptr ? '-' : static_cast<char>(p->id));
}

// ---- Scripted cases ---------------------------------------------------------------------------

enum class OpKind { Insert, Remove, RemoveValue, Lookup, Size, Nodes };
struct Op {
    OpKind kind = OpKind::Lookup;
    char peer = '-';
    IpPrefix prefix;
    char expect = '-';     // Lookup: owner; Remove: 'y' / 'n'
    std::size_t count = 0; // Size, Nodes
    friend bool operator==(const Op&, const Op&) = default;
};
using Script = std::vector<Op>;

Op ins(char peer, const IpPrefix& p) {
    return {OpKind::Insert, peer, p, '-', 0};
}
Op del(char peer, const IpPrefix& p, bool removed) {
    return {OpKind::Remove, peer, p, removed ? 'y' : 'n', 0};
}
Op drop(char peer) {
    return {OpKind::RemoveValue, peer, {}, '-', 0};
}
Op look(const IpAddress& a, char owner) {
    return {OpKind::Lookup, '-', pfx(a, 0), owner, 0};
}
Op sizeIs(std::size_t n) {
    return {OpKind::Size, '-', {}, '-', n};
}
Op nodesAre(std::size_t n) {
    return {OpKind::Nodes, '-', {}, '-', n};
}

// ---- The kernel's static table ----------------------------------------------------------------

struct Route {
    char owner;
    IpPrefix prefix;
};

// wg_allowedips_selftest(), in its order. Two inserts replace earlier owners; several need their
// host bits masked.
std::vector<Route> kernelRoutes() {
    return {
        {'a', pfx(ip4(192, 168, 4, 0), 24)},
        {'b', pfx(ip4(192, 168, 4, 4), 32)},
        {'c', pfx(ip4(192, 168, 0, 0), 16)},
        {'d', pfx(ip4(192, 95, 5, 64), 27)},
        {'c', pfx(ip4(192, 95, 5, 65), 27)}, // replaces d, host bit set
        {'d', pfx(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128)},
        {'c', pfx(ip6(0x26075300, 0x60006b00, 0, 0), 64)},
        {'e', pfx(ip4(0, 0, 0, 0), 0)},
        {'e', pfx(ip6(0, 0, 0, 0), 0)},
        {'f', pfx(ip6(0, 0, 0, 0), 0)}, // replaces e
        {'g', pfx(ip6(0x24046800, 0, 0, 0), 32)},
        {'h', pfx(ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 64)}, // host bits set
        {'a', pfx(ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 128)},
        {'c', pfx(ip6(0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef), 128)},
        {'b', pfx(ip6(0x24446800, 0xf0e40800, 0xeeaebeef, 0), 98)},
        {'g', pfx(ip4(64, 15, 112, 0), 20)},
        {'h', pfx(ip4(64, 15, 123, 211), 25)}, // host bits set
        {'a', pfx(ip4(10, 0, 0, 0), 25)},
        {'b', pfx(ip4(10, 0, 0, 128), 25)},
        {'a', pfx(ip4(10, 1, 0, 0), 30)},
        {'b', pfx(ip4(10, 1, 0, 4), 30)},
        {'c', pfx(ip4(10, 1, 0, 8), 29)},
        {'d', pfx(ip4(10, 1, 0, 16), 29)},
    };
}

void insertAll(Table& t, const std::vector<Route>& routes) {
    for (const Route& r : routes) {
        t.insert(r.prefix, named(r.owner));
    }
}

// ---- Naive reference --------------------------------------------------------------------------

// A flat list scanned in full for the longest match. Masks are built bit by bit, independently
// of the trie's word arithmetic. An index map only keeps insert/remove from being quadratic.
class NaiveAllowedIps {
public:
    struct Entry {
        std::uint64_t hi = 0, lo = 0, maskHi = 0, maskLo = 0;
        unsigned length = 0;
        const Peer* owner = nullptr;
        IpPrefix prefix; // masked
    };

    void insert(const IpPrefix& p, const Peer* owner) {
        Entry e = makeEntry(p);
        e.owner = owner;
        auto& list = listFor(p.address.family);
        auto& index = indexFor(p.address.family);
        const auto [it, fresh] = index.try_emplace(keyOf(e), list.size());
        if (fresh) {
            list.push_back(e);
        } else {
            list[it->second].owner = owner;
        }
    }

    bool remove(const IpPrefix& p, const Peer* owner) {
        const Entry e = makeEntry(p);
        auto& list = listFor(p.address.family);
        auto& index = indexFor(p.address.family);
        const auto it = index.find(keyOf(e));
        if (it == index.end() || list[it->second].owner != owner) {
            return false;
        }
        const std::size_t at = it->second;
        index.erase(it);
        if (at + 1 != list.size()) { // move the last entry into the hole
            list[at] = list.back();
            index[keyOf(list[at])] = at;
        }
        list.pop_back();
        return true;
    }

    void removeValue(const Peer* owner) {
        for (const Family f : {Family::V4, Family::V6}) {
            for (const IpPrefix& p : prefixesOf(owner, f)) {
                remove(p, owner);
            }
        }
    }

    [[nodiscard]] const Peer* lookup(const IpAddress& a) const {
        const Entry* e = match(a);
        return e == nullptr ? nullptr : e->owner;
    }

    [[nodiscard]] const Entry* match(const IpAddress& a) const {
        const auto [hi, lo] = words(a);
        const auto& list = entries(a.family);
        const Entry* best = nullptr;
        for (const Entry *e = list.data(), *end = list.data() + list.size(); e != end; ++e) {
            if ((hi & e->maskHi) == e->hi && (lo & e->maskLo) == e->lo &&
                (best == nullptr || e->length > best->length)) {
                best = e;
            }
        }
        return best;
    }

    [[nodiscard]] std::vector<IpPrefix> prefixesOf(const Peer* owner) const {
        auto out = prefixesOf(owner, Family::V4);
        const auto v6 = prefixesOf(owner, Family::V6);
        out.insert(out.end(), v6.begin(), v6.end());
        return out;
    }

    [[nodiscard]] std::size_t size() const { return v4_.size() + v6_.size(); }
    [[nodiscard]] const std::vector<Entry>& entries(Family f) const {
        return f == Family::V4 ? v4_ : v6_;
    }

private:
    using Key = std::tuple<std::uint64_t, std::uint64_t, unsigned>;

    static std::pair<std::uint64_t, std::uint64_t> words(const IpAddress& a) {
        std::uint64_t hi = 0, lo = 0;
        for (unsigned i = 0; i < 8; ++i) {
            hi = hi << 8 | a.bytes[i];
            lo = lo << 8 | (a.family == Family::V4 ? 0 : a.bytes[8 + i]);
        }
        if (a.family == Family::V4) {
            hi &= 0xffffffff00000000ULL; // only bytes[0..3] are the address
        }
        return {hi, lo};
    }

    static Entry makeEntry(const IpPrefix& p) {
        Entry e;
        e.length = std::min<unsigned>(p.length, widthOf(p.address.family));
        for (unsigned bit = 0; bit < e.length; ++bit) {
            (bit < 64 ? e.maskHi : e.maskLo) |= std::uint64_t{1} << (63 - bit % 64);
        }
        const auto [hi, lo] = words(p.address);
        e.hi = hi & e.maskHi;
        e.lo = lo & e.maskLo;
        e.prefix.address.family = p.address.family;
        for (unsigned i = 0; i < widthOf(p.address.family) / 8; ++i) {
            const std::uint64_t w = i < 8 ? e.hi : e.lo;
            e.prefix.address.bytes[i] = static_cast<std::uint8_t>(w >> (56 - 8 * (i % 8)));
        }
        e.prefix.length = static_cast<std::uint8_t>(e.length);
        return e;
    }

    static Key keyOf(const Entry& e) { return {e.hi, e.lo, e.length}; }

    std::vector<IpPrefix> prefixesOf(const Peer* owner, Family f) const {
        std::vector<IpPrefix> out;
        for (const Entry& e : entries(f)) {
            if (e.owner == owner) {
                out.push_back(e.prefix);
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::vector<Entry>& listFor(Family f) { return f == Family::V4 ? v4_ : v6_; }
    std::map<Key, std::size_t>& indexFor(Family f) { return f == Family::V4 ? index4_ : index6_; }

    std::vector<Entry> v4_, v6_;
    std::map<Key, std::size_t> index4_, index6_;
};

// ---- Randomized test at the kernel's sizes ----------------------------------------------------

// selftest/allowedips.c randomized_test():
constexpr std::size_t kNumPeers = 2000;        // NUM_PEERS
constexpr std::size_t kNumRandRoutes = 400;    // NUM_RAND_ROUTES
constexpr std::size_t kNumMutatedRoutes = 100; // NUM_MUTATED_ROUTES
constexpr std::size_t kKernelQueries = kNumRandRoutes * kNumMutatedRoutes * 30; // NUM_QUERIES
// The kernel runs NUM_QUERIES (1.2 M) per family on the full table and again after each of the
// 2000 peer removals, against a linked list: hours. Peer and route counts stay; queries are
// scaled to 1/60 on the full table, and each removal is checked with queries aimed inside every
// removed prefix plus a few random ones, so a Debug build finishes well under a minute.
constexpr std::size_t kNumQueries = kKernelQueries / 60; // 20,000 per family
constexpr std::size_t kRandomQueriesPerRemoval = 4;      // per family

class RandomWorld {
public:
    explicit RandomWorld(std::uint64_t seed) : rng_(seed), peers_(kNumPeers) {
        for (std::size_t i = 0; i < peers_.size(); ++i) {
            peers_[i].id = static_cast<int>(i);
        }
    }

    // Per family: NUM_RAND_ROUTES random routes, each followed by NUM_MUTATED_ROUTES routes that
    // share a random-length leading part of its address; random lengths 1..width, random owner.
    // (The kernel's mutation keeps whole bytes and, for IPv6, only touches the first four; this
    // keeps an exact random bit count over the full address.)
    void build(Table& trie, NaiveAllowedIps& naive) {
        for (const Family f : {Family::V4, Family::V6}) {
            const unsigned width = widthOf(f);
            for (std::size_t i = 0; i < kNumRandRoutes; ++i) {
                const IpAddress base = randomAddress(f);
                const unsigned length = 1 + below(width);
                add(trie, naive, pfx(base, length));
                for (std::size_t j = 0; j < kNumMutatedRoutes; ++j) {
                    // Separate statements: argument evaluation order would vary by compiler.
                    const IpAddress mutated = withRandomTail(base, below(width));
                    const unsigned mutatedLength = 1 + below(width);
                    add(trie, naive, pfx(mutated, mutatedLength));
                }
            }
        }
    }

    // A third uniform (as the kernel), a third inside a stored prefix, a third just outside one
    // (its last prefix bit flipped), so long prefixes get hit too.
    IpAddress query(Family f, const NaiveAllowedIps& naive) {
        const auto& list = naive.entries(f);
        const std::uint64_t kind = rng_() % 3;
        if (kind == 0 || list.empty()) {
            return randomAddress(f);
        }
        const IpPrefix& p = list[static_cast<std::size_t>(rng_() % list.size())].prefix;
        IpAddress a = withRandomTail(p.address, p.length);
        if (kind == 2 && p.length > 0) {
            flipBit(a, p.length - 1U);
        }
        return a;
    }

    IpAddress inside(const IpPrefix& p) { return withRandomTail(p.address, p.length); }

    unsigned below(unsigned n) { return static_cast<unsigned>(rng_() % n); }
    const Peer* peer(std::size_t i) const { return &peers_[i]; }
    std::mt19937_64& rng() { return rng_; }

private:
    void add(Table& trie, NaiveAllowedIps& naive, const IpPrefix& p) {
        const Peer* owner = &peers_[rng_() % peers_.size()];
        trie.insert(p, owner);
        naive.insert(p, owner);
    }

    IpAddress randomAddress(Family f) {
        IpAddress a;
        a.family = f;
        for (unsigned i = 0; i < widthOf(f) / 8; ++i) {
            a.bytes[i] = static_cast<std::uint8_t>(rng_());
        }
        return a;
    }

    // Keeps the first `keep` bits of a, randomizes the rest of the family's width.
    IpAddress withRandomTail(IpAddress a, unsigned keep) {
        for (unsigned bit = keep; bit < widthOf(a.family); ++bit) {
            const auto m = static_cast<std::uint8_t>(0x80U >> (bit % 8));
            a.bytes[bit / 8] = static_cast<std::uint8_t>(
                (rng_() & 1U) != 0 ? a.bytes[bit / 8] | m : a.bytes[bit / 8] & ~m);
        }
        return a;
    }

    static void flipBit(IpAddress& a, unsigned bit) {
        a.bytes[bit / 8] = static_cast<std::uint8_t>(a.bytes[bit / 8] ^ (0x80U >> (bit % 8)));
    }

    std::mt19937_64 rng_;
    std::vector<Peer> peers_;
};

constexpr std::uint64_t kSeed = 0xA11013ED'1F5EEDULL;

} // namespace

Q_DECLARE_METATYPE(calnet::net::IpAddress)
Q_DECLARE_METATYPE(Script)

class TestAllowedIps : public QObject {
    Q_OBJECT

private slots:
    void kernelLookups_data();
    void kernelLookups();
    void kernelTableShape();
    void kernelRemoveByPeer();
    void kernelDeepChains();
    void kernelPrefixesOf();
    void scripts_data();
    void scripts();
    void lookupOverloadsAgree();
    void clearAndMove();
    void randomDifferential();
    void randomRemovePeerByPeer();
    void randomExactRemoval();

private:
    static bool sameAsNaive(const Table& trie, const NaiveAllowedIps& naive, const IpAddress& a);
};

bool TestAllowedIps::sameAsNaive(const Table& trie, const NaiveAllowedIps& naive,
                                 const IpAddress& a) {
    const Peer* got = trie.lookup(a.family, a.bytes.data());
    const Peer* want = naive.lookup(a);
    if (got == want) {
        return true;
    }
    qWarning("lookup %s: trie says peer %d, naive says peer %d", qPrintable(describe(a)),
             got != nullptr ? got->id : -1, want != nullptr ? want->id : -1);
    return false;
}

void TestAllowedIps::kernelLookups_data() {
    QTest::addColumn<IpAddress>("address");
    QTest::addColumn<char>("owner");

    QTest::newRow("192.168.4.20") << ip4(192, 168, 4, 20) << 'a';
    QTest::newRow("192.168.4.0") << ip4(192, 168, 4, 0) << 'a';
    QTest::newRow("192.168.4.4") << ip4(192, 168, 4, 4) << 'b';
    QTest::newRow("192.168.200.182") << ip4(192, 168, 200, 182) << 'c';
    QTest::newRow("192.95.5.68") << ip4(192, 95, 5, 68) << 'c';
    QTest::newRow("192.95.5.96") << ip4(192, 95, 5, 96) << 'e';
    QTest::newRow("2607:5300:6000:6b00::c05f:543")
        << ip6(0x26075300, 0x60006b00, 0, 0xc05f0543) << 'd';
    QTest::newRow("2607:5300:6000:6b00::c02e:1ee")
        << ip6(0x26075300, 0x60006b00, 0, 0xc02e01ee) << 'c';
    QTest::newRow("2607:5300:6000:6b01::") << ip6(0x26075300, 0x60006b01, 0, 0) << 'f';
    QTest::newRow("2404:6800:4004:806::1006") << ip6(0x24046800, 0x40040806, 0, 0x1006) << 'g';
    QTest::newRow("2404:6800:4004:806:0:1234:0:5678")
        << ip6(0x24046800, 0x40040806, 0x1234, 0x5678) << 'g';
    QTest::newRow("2404:67ff:4004:806:0:1234:0:5678")
        << ip6(0x240467ff, 0x40040806, 0x1234, 0x5678) << 'f';
    QTest::newRow("2404:6801:4004:806:0:1234:0:5678")
        << ip6(0x24046801, 0x40040806, 0x1234, 0x5678) << 'f';
    QTest::newRow("2404:6800:4004:800:0:1234:0:5678")
        << ip6(0x24046800, 0x40040800, 0x1234, 0x5678) << 'h';
    QTest::newRow("2404:6800:4004:800::") << ip6(0x24046800, 0x40040800, 0, 0) << 'h';
    QTest::newRow("2404:6800:4004:800:1010:1010:1010:1010")
        << ip6(0x24046800, 0x40040800, 0x10101010, 0x10101010) << 'h';
    QTest::newRow("2404:6800:4004:800:dead:beef:dead:beef")
        << ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef) << 'a';
    QTest::newRow("64.15.116.26") << ip4(64, 15, 116, 26) << 'g';
    QTest::newRow("64.15.127.3") << ip4(64, 15, 127, 3) << 'g';
    QTest::newRow("64.15.123.1") << ip4(64, 15, 123, 1) << 'g';
    QTest::newRow("64.15.123.128") << ip4(64, 15, 123, 128) << 'h';
    QTest::newRow("64.15.123.129") << ip4(64, 15, 123, 129) << 'h';
    QTest::newRow("10.0.0.52") << ip4(10, 0, 0, 52) << 'a';
    QTest::newRow("10.0.0.220") << ip4(10, 0, 0, 220) << 'b';
    QTest::newRow("10.1.0.2") << ip4(10, 1, 0, 2) << 'a';
    QTest::newRow("10.1.0.6") << ip4(10, 1, 0, 6) << 'b';
    QTest::newRow("10.1.0.10") << ip4(10, 1, 0, 10) << 'c';
    QTest::newRow("10.1.0.20") << ip4(10, 1, 0, 20) << 'd';
}

void TestAllowedIps::kernelLookups() {
    QFETCH(IpAddress, address);
    QFETCH(char, owner);
    Table t;
    insertAll(t, kernelRoutes());
    QCOMPARE(nameOf(t.lookup(address.family, address.bytes.data())), QLatin1Char(owner));
}

// 23 inserts, two of them take over an existing prefix.
void TestAllowedIps::kernelTableShape() {
    Table t;
    insertAll(t, kernelRoutes());
    QCOMPARE(t.size(), std::size_t{21});
    QVERIFY(!t.empty());
    QVERIFY(t.nodeCount() >= t.size());
    QVERIFY(t.nodeCount() <= 2 * t.size() - 2); // 2n-1 per family at most

    // d lost 192.95.5.64/27 to c; e lost ::/0 to f.
    QCOMPARE(t.prefixesOf(named('d')),
             (std::vector<IpPrefix>{pfx(ip4(10, 1, 0, 16), 29),
                                    pfx(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128)}));
    QCOMPARE(t.prefixesOf(named('e')), (std::vector<IpPrefix>{pfx(ip4(0, 0, 0, 0), 0)}));
    QCOMPARE(t.prefixesOf(named('f')), (std::vector<IpPrefix>{pfx(ip6(0, 0, 0, 0), 0)}));
    QCOMPARE(t.prefixesOf(named('h')),
             (std::vector<IpPrefix>{pfx(ip4(64, 15, 123, 128), 25),
                                    pfx(ip6(0x24046800, 0x40040800, 0, 0), 64)}));
}

void TestAllowedIps::kernelRemoveByPeer() {
    Table t;
    insertAll(t, kernelRoutes());
    const std::array<IpAddress, 5> hosts = {ip4(1, 0, 0, 0), ip4(64, 0, 0, 0), ip4(128, 0, 0, 0),
                                            ip4(192, 0, 0, 0), ip4(255, 0, 0, 0)};
    for (const IpAddress& h : hosts) {
        t.insert(pfx(h, 32), named('a'));
    }
    QCOMPARE(nameOf(t.lookup(hosts[2])), QLatin1Char('a'));
    t.removeValue(named('a'));
    for (const IpAddress& h : hosts) {
        QCOMPARE(nameOf(t.lookup(h)), QLatin1Char('e')); // back to 0.0.0.0/0
    }
    QVERIFY(t.prefixesOf(named('a')).empty());
    QCOMPARE(nameOf(t.lookup(ip4(10, 0, 0, 52))), QLatin1Char('e'));
    QCOMPARE(nameOf(t.lookup(ip4(10, 0, 0, 220))), QLatin1Char('b'));
    QCOMPARE(t.size(), std::size_t{21 - 4}); // a had 192.168.4/24, 10/25, 10.1/30, one v6 /128

    // A peer's nested prefixes go together.
    Table u;
    u.insert(pfx(ip4(192, 168, 0, 0), 16), named('a'));
    u.insert(pfx(ip4(192, 168, 0, 0), 24), named('a'));
    u.removeValue(named('a'));
    QCOMPARE(nameOf(u.lookup(ip4(192, 168, 0, 1))), QLatin1Char('-'));
    QCOMPARE(u.size(), std::size_t{0});
    QCOMPARE(u.nodeCount(), std::size_t{0});
}

// Deep, one-sided chains: the kernel's guard against recursion-depth bugs when freeing. Both of
// its variants: 128 host routes each missing one bit, and the older 64 pairs plus ::/128.
void TestAllowedIps::kernelDeepChains() {
    Table t;
    std::vector<IpPrefix> inserted;
    for (unsigned i = 0; i < 128; ++i) {
        IpAddress a = ip6(~0U, ~0U, ~0U, ~0U);
        a.bytes[i / 8] = static_cast<std::uint8_t>(a.bytes[i / 8] & ~(0x80U >> (i % 8)));
        inserted.push_back(pfx(a, 128));
        t.insert(inserted.back(), named('a'));
    }
    QCOMPARE(t.size(), std::size_t{128});
    QCOMPARE(t.nodeCount(), std::size_t{2 * 128 - 1});
    for (const IpPrefix& p : inserted) {
        QCOMPARE(nameOf(t.lookup(p.address)), QLatin1Char('a'));
    }
    QCOMPARE(nameOf(t.lookup(ip6(~0U, ~0U, ~0U, ~0U))), QLatin1Char('-'));
    t.removeValue(named('a'));
    QCOMPARE(t.size(), std::size_t{0});
    QCOMPARE(t.nodeCount(), std::size_t{0});

    inserted.clear();
    for (unsigned i = 0; i < 64; ++i) {
        const std::uint64_t part = ~std::uint64_t{0} << i;
        IpAddress high = ip6(~0U, ~0U, 0, 0);
        IpAddress low = ip6(0, 0, 0, 0);
        for (unsigned b = 0; b < 8; ++b) {
            high.bytes[8 + b] = static_cast<std::uint8_t>(part >> (56 - 8 * b));
            low.bytes[b] = static_cast<std::uint8_t>(part >> (56 - 8 * b));
        }
        inserted.push_back(pfx(high, 128));
        inserted.push_back(pfx(low, 128));
    }
    inserted.push_back(pfx(ip6(0, 0, 0, 0), 128));
    for (const IpPrefix& p : inserted) {
        t.insert(p, named('b'));
    }
    QCOMPARE(t.size(), inserted.size());
    // Remove one by one, in insertion order, and the trie must stay minimal all the way down.
    for (std::size_t i = 0; i < inserted.size(); ++i) {
        QVERIFY(t.remove(inserted[i], named('b')));
        QCOMPARE(t.size(), inserted.size() - i - 1);
        QVERIFY(t.nodeCount() <= 2 * t.size());
        QCOMPARE(nameOf(t.lookup(inserted[i].address)), QLatin1Char('-'));
        if (i + 1 < inserted.size()) {
            QCOMPARE(nameOf(t.lookup(inserted.back().address)), QLatin1Char('b'));
        }
    }
    QCOMPARE(t.nodeCount(), std::size_t{0});
}

// The kernel's read-back test: five prefixes of one peer, host bits masked off.
void TestAllowedIps::kernelPrefixesOf() {
    Table t;
    t.insert(pfx(ip4(192, 95, 5, 93), 27), named('a'));
    t.insert(pfx(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128), named('a'));
    t.insert(pfx(ip4(10, 1, 0, 20), 29), named('a'));
    t.insert(pfx(ip6(0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523), 83), named('a'));
    t.insert(pfx(ip6(0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523), 21), named('a'));
    t.insert(pfx(ip4(10, 1, 0, 0), 16), named('b')); // someone else's, must not show up

    const std::vector<IpPrefix> expected = {
        // trie order: IPv4 first, ascending address, shorter first
        pfx(ip4(10, 1, 0, 16), 29),
        pfx(ip4(192, 95, 5, 64), 27),
        pfx(ip6(0x26075000, 0, 0, 0), 21),
        pfx(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128),
        pfx(ip6(0x26075300, 0x6d8a6bf8, 0xdab1e000, 0), 83),
    };
    QCOMPARE(t.prefixesOf(named('a')), expected);
    QVERIFY(std::is_sorted(expected.begin(), expected.end()));
    QCOMPARE(t.prefixesOf(named('b')), (std::vector<IpPrefix>{pfx(ip4(10, 1, 0, 0), 16)}));
    QVERIFY(t.prefixesOf(named('c')).empty());
    QVERIFY(t.prefixesOf(nullptr).empty());

    // An owner change moves the prefix between the lists.
    t.insert(pfx(ip4(10, 1, 0, 17), 29), named('b'));
    QCOMPARE(t.prefixesOf(named('a')).size(), std::size_t{4});
    QCOMPARE(t.prefixesOf(named('b')),
             (std::vector<IpPrefix>{pfx(ip4(10, 1, 0, 0), 16), pfx(ip4(10, 1, 0, 16), 29)}));
}

void TestAllowedIps::scripts_data() {
    QTest::addColumn<Script>("script");

    const auto net8 = pfx(ip4(10, 0, 0, 0), 8);
    const auto net16 = pfx(ip4(10, 1, 0, 0), 16);
    const auto net24 = pfx(ip4(10, 1, 2, 0), 24);
    const auto host = pfx(ip4(10, 1, 2, 3), 32);

    QTest::newRow("overlapping v4, longest wins") << Script{ins('a', net8),
                                                            ins('b', net16),
                                                            ins('c', net24),
                                                            ins('d', host),
                                                            look(ip4(10, 1, 2, 3), 'd'),
                                                            look(ip4(10, 1, 2, 4), 'c'),
                                                            look(ip4(10, 1, 3, 1), 'b'),
                                                            look(ip4(10, 200, 0, 1), 'a'),
                                                            look(ip4(11, 0, 0, 1), '-'),
                                                            look(ip4(9, 255, 255, 255), '-'),
                                                            sizeIs(4),
                                                            nodesAre(4)};
    QTest::newRow("overlapping v4, inserted longest first") << Script{ins('d', host),
                                                                      ins('c', net24),
                                                                      ins('b', net16),
                                                                      ins('a', net8),
                                                                      look(ip4(10, 1, 2, 3), 'd'),
                                                                      look(ip4(10, 1, 2, 4), 'c'),
                                                                      look(ip4(10, 1, 3, 1), 'b'),
                                                                      look(ip4(10, 200, 0, 1), 'a'),
                                                                      look(ip4(11, 0, 0, 1), '-'),
                                                                      sizeIs(4),
                                                                      nodesAre(4)};
    QTest::newRow("/0 per family") << Script{ins('a', pfx(ip4(0, 0, 0, 0), 0)),
                                             look(ip4(255, 255, 255, 255), 'a'),
                                             look(ip4(0, 0, 0, 0), 'a'),
                                             look(ip6(0, 0, 0, 1), '-'),
                                             ins('b', pfx(ip6(0, 0, 0, 0), 0)),
                                             look(ip6(0xffff0000, 0, 0, 0), 'b'),
                                             look(ip4(1, 2, 3, 4), 'a'),
                                             ins('c', pfx(ip4(1, 2, 3, 0), 24)),
                                             look(ip4(1, 2, 3, 4), 'c'),
                                             del('a', pfx(ip4(0, 0, 0, 0), 0), true),
                                             look(ip4(1, 2, 3, 4), 'c'),
                                             look(ip4(1, 2, 4, 4), '-'),
                                             look(ip6(0x01020304, 0, 0, 0), 'b'),
                                             sizeIs(2),
                                             nodesAre(2)};
    QTest::newRow("/0 with host bits is still /0")
        << Script{ins('a', pfx(ip4(203, 0, 113, 9), 0)), look(ip4(8, 8, 8, 8), 'a'),
                  del('a', pfx(ip4(1, 1, 1, 1), 0), true), sizeIs(0), nodesAre(0)};
    QTest::newRow("host bits masked on insert and remove")
        << Script{ins('a', pfx(ip4(192, 168, 1, 77), 24)),
                  look(ip4(192, 168, 1, 1), 'a'),
                  look(ip4(192, 168, 2, 1), '-'),
                  del('a', pfx(ip4(192, 168, 1, 200), 24), true),
                  sizeIs(0),
                  nodesAre(0)};
    QTest::newRow("owner change moves the prefix") << Script{ins('a', net8),
                                                             ins('b', pfx(ip4(10, 99, 0, 0), 8)),
                                                             sizeIs(1),
                                                             look(ip4(10, 1, 1, 1), 'b'),
                                                             del('a', net8, false),
                                                             look(ip4(10, 1, 1, 1), 'b'),
                                                             del('b', net8, true),
                                                             sizeIs(0),
                                                             nodesAre(0)};
    QTest::newRow("owner change of a v6 /128")
        << Script{ins('a', pfx(ip6(0x20010db8, 0, 0, 1), 128)),
                  ins('b', pfx(ip6(0x20010db8, 0, 0, 1), 128)),
                  sizeIs(1),
                  nodesAre(1),
                  look(ip6(0x20010db8, 0, 0, 1), 'b'),
                  drop('a'),
                  look(ip6(0x20010db8, 0, 0, 1), 'b')};
    QTest::newRow("remove needs the owner")
        << Script{ins('a', net8), del('b', net8, false), del('-', net8, false),
                  look(ip4(10, 0, 0, 1), 'a'), sizeIs(1)};
    QTest::newRow("remove is exact match")
        << Script{ins('a', net8),
                  del('a', pfx(ip4(10, 0, 0, 0), 9), false),
                  del('a', pfx(ip4(10, 0, 0, 0), 7), false),
                  del('a', pfx(ip4(10, 0, 0, 0), 16), false),
                  del('a', pfx(ip4(11, 0, 0, 0), 8), false),
                  del('a', pfx(ip6(0x0a000000, 0, 0, 0), 8), false),
                  look(ip4(10, 0, 0, 1), 'a'),
                  sizeIs(1),
                  nodesAre(1)};
    QTest::newRow("a branch point is not a prefix")
        << Script{ins('a', pfx(ip4(10, 0, 0, 0), 24)),
                  ins('b', pfx(ip4(10, 0, 1, 0), 24)),
                  nodesAre(3), // 10.0.0.0/23 joins them
                  del('a', pfx(ip4(10, 0, 0, 0), 23), false),
                  del('b', pfx(ip4(10, 0, 0, 0), 23), false),
                  look(ip4(10, 0, 0, 5), 'a'),
                  look(ip4(10, 0, 1, 5), 'b'),
                  look(ip4(10, 0, 2, 5), '-'),
                  sizeIs(2),
                  ins('c', pfx(ip4(10, 0, 0, 0), 23)), // the branch point becomes a prefix
                  sizeIs(3),
                  nodesAre(3),
                  look(ip4(10, 0, 1, 5), 'b'),
                  del('b', pfx(ip4(10, 0, 1, 0), 24), true),
                  look(ip4(10, 0, 1, 5), 'c'),
                  nodesAre(2),
                  del('c', pfx(ip4(10, 0, 0, 0), 23), true),
                  nodesAre(1),
                  look(ip4(10, 0, 0, 5), 'a')};
    QTest::newRow("removal falls back to the covering prefix")
        << Script{ins('a', net8),
                  ins('b', net16),
                  ins('c', net24),
                  del('b', net16, true),
                  look(ip4(10, 1, 2, 1), 'c'),
                  look(ip4(10, 1, 3, 1), 'a'),
                  nodesAre(2),
                  del('c', net24, true),
                  look(ip4(10, 1, 2, 1), 'a'),
                  sizeIs(1),
                  nodesAre(1)};
    QTest::newRow("removing the middle of a split")
        << Script{ins('a', pfx(ip4(10, 1, 0, 0), 24)),
                  ins('b', pfx(ip4(10, 2, 0, 0), 24)),
                  ins('c', pfx(ip4(10, 0, 0, 0), 14)),
                  ins('d', pfx(ip4(10, 3, 0, 0), 24)),
                  look(ip4(10, 3, 0, 1), 'd'),
                  look(ip4(10, 3, 1, 1), 'c'),
                  del('c', pfx(ip4(10, 0, 0, 0), 14), true),
                  look(ip4(10, 3, 1, 1), '-'),
                  look(ip4(10, 1, 0, 1), 'a'),
                  look(ip4(10, 2, 0, 1), 'b'),
                  look(ip4(10, 3, 0, 1), 'd'),
                  sizeIs(3),
                  nodesAre(5),
                  drop('a'),
                  drop('b'),
                  drop('d'),
                  sizeIs(0),
                  nodesAre(0)};
    QTest::newRow("v4 and v6 are separate tables")
        << Script{ins('a', net8),
                  ins('b', pfx(ip6(0x0a000000, 0, 0, 0), 8)),
                  look(ip6(0x0a000000, 0, 0, 1), 'b'),
                  look(ip4(10, 0, 0, 1), 'a'),
                  del('a', pfx(ip6(0x0a000000, 0, 0, 0), 8), false),
                  drop('a'),
                  look(ip4(10, 0, 0, 1), '-'),
                  look(ip6(0x0a000000, 0, 0, 1), 'b'),
                  sizeIs(1)};
    QTest::newRow("v6 nesting across the 64-bit word boundary")
        << Script{ins('a', pfx(ip6(0x20010db8, 0, 0, 0), 32)),
                  ins('b', pfx(ip6(0x20010db8, 0, 0, 1), 128)),
                  ins('c', pfx(ip6(0x20010db8, 0, 0, 0), 64)),
                  ins('d', pfx(ip6(0x20010db8, 0, 0x80000000, 0), 65)),
                  ins('e', pfx(ip6(0x20010db8, 0, 0, 0), 63)),
                  look(ip6(0x20010db8, 0, 0, 1), 'b'),
                  look(ip6(0x20010db8, 0, 0, 2), 'c'),
                  look(ip6(0x20010db8, 1, 0, 2), 'e'),
                  look(ip6(0x20010db8, 2, 0, 2), 'a'),
                  look(ip6(0x20010db8, 0, 0x80000000, 2), 'd'),
                  look(ip6(0x20010db8, 0, 0x7fffffff, 2), 'c'),
                  look(ip6(0x20010db8, 1, 0x80000000, 0), 'e'),
                  look(ip6(0x20010db9, 0, 0, 1), '-'),
                  sizeIs(5)};
    QTest::newRow("neighbouring host routes") << Script{ins('a', pfx(ip4(1, 2, 3, 4), 32)),
                                                        ins('b', pfx(ip4(1, 2, 3, 5), 32)),
                                                        nodesAre(3),
                                                        look(ip4(1, 2, 3, 4), 'a'),
                                                        look(ip4(1, 2, 3, 5), 'b'),
                                                        look(ip4(1, 2, 3, 6), '-'),
                                                        del('a', pfx(ip4(1, 2, 3, 4), 32), true),
                                                        nodesAre(1),
                                                        look(ip4(1, 2, 3, 5), 'b'),
                                                        look(ip4(1, 2, 3, 4), '-')};
    QTest::newRow("remove by value keeps other owners") << Script{ins('a', net8),
                                                                  ins('b', net16),
                                                                  ins('a', net24),
                                                                  ins('b', host),
                                                                  drop('a'),
                                                                  look(ip4(10, 1, 2, 4), 'b'),
                                                                  look(ip4(10, 1, 2, 3), 'b'),
                                                                  look(ip4(10, 2, 0, 0), '-'),
                                                                  sizeIs(2),
                                                                  nodesAre(2),
                                                                  drop('c'),
                                                                  sizeIs(2),
                                                                  drop('b'),
                                                                  sizeIs(0),
                                                                  nodesAre(0)};
    QTest::newRow("Value{} is never stored")
        << Script{ins('-', net8), sizeIs(0), nodesAre(0), look(ip4(10, 0, 0, 1), '-'),
                  ins('a', net8), drop('-'), sizeIs(1),   look(ip4(10, 0, 0, 1), 'a')};
    QTest::newRow("too-long length is clamped to a host route") << Script{
        ins('a', pfx(ip4(10, 0, 0, 1), 33)), look(ip4(10, 0, 0, 1), 'a'),
        look(ip4(10, 0, 0, 0), '-'), del('a', pfx(ip4(10, 0, 0, 1), 32), true), sizeIs(0)};
}

void TestAllowedIps::scripts() {
    QFETCH(Script, script);
    Table t;
    for (std::size_t i = 0; i < script.size(); ++i) {
        const Op& op = script[i];
        QByteArray where = "op " + QByteArray::number(static_cast<qulonglong>(i + 1));
        if (op.kind == OpKind::Insert || op.kind == OpKind::Remove || op.kind == OpKind::Lookup) {
            where += ' ' + describe(op.prefix).toLatin1();
        }
        switch (op.kind) {
        case OpKind::Insert:
            t.insert(op.prefix, named(op.peer));
            break;
        case OpKind::Remove:
            QVERIFY2(t.remove(op.prefix, named(op.peer)) == (op.expect == 'y'), where.constData());
            break;
        case OpKind::RemoveValue:
            t.removeValue(named(op.peer));
            break;
        case OpKind::Lookup: {
            const QChar got = nameOf(t.lookup(op.prefix.address));
            QVERIFY2(got == QLatin1Char(op.expect),
                     (where + " -> " + got.toLatin1() + ", want " + op.expect).constData());
            break;
        }
        case OpKind::Size:
            QVERIFY2(t.size() == op.count,
                     (where + " size " + QByteArray::number(static_cast<qulonglong>(t.size())))
                         .constData());
            QCOMPARE(t.empty(), op.count == 0);
            break;
        case OpKind::Nodes:
            QVERIFY2(
                t.nodeCount() == op.count,
                (where + " nodes " + QByteArray::number(static_cast<qulonglong>(t.nodeCount())))
                    .constData());
            break;
        }
    }
}

void TestAllowedIps::lookupOverloadsAgree() {
    Table t;
    insertAll(t, kernelRoutes());
    RandomWorld world(kSeed ^ 1);
    NaiveAllowedIps naive;
    for (const Route& r : kernelRoutes()) {
        naive.insert(r.prefix, named(r.owner));
    }
    for (int i = 0; i < 2000; ++i) {
        for (const Family f : {Family::V4, Family::V6}) {
            const IpAddress a = world.query(f, naive);
            QCOMPARE(t.lookup(a), t.lookup(a.family, a.bytes.data()));
            QVERIFY(sameAsNaive(t, naive, a));
        }
    }
    // An unknown family finds nothing rather than guessing.
    IpAddress bogus = ip4(10, 0, 0, 1);
    bogus.family = static_cast<Family>(5);
    QCOMPARE(nameOf(t.lookup(bogus)), QLatin1Char('-'));
}

void TestAllowedIps::clearAndMove() {
    Table t;
    insertAll(t, kernelRoutes());
    Table moved(std::move(t));
    QCOMPARE(moved.size(), std::size_t{21});
    QCOMPARE(nameOf(moved.lookup(ip4(10, 1, 0, 20))), QLatin1Char('d'));
    QCOMPARE(t.size(), std::size_t{0}); // NOLINT(bugprone-use-after-move): defined as empty
    QCOMPARE(t.nodeCount(), std::size_t{0});

    Table other;
    other.insert(pfx(ip4(1, 1, 1, 1), 32), named('a'));
    other = std::move(moved);
    QCOMPARE(nameOf(other.lookup(ip4(1, 1, 1, 1))), QLatin1Char('e'));
    QCOMPARE(other.size(), std::size_t{21});

    other.clear();
    QVERIFY(other.empty());
    QCOMPARE(other.size(), std::size_t{0});
    QCOMPARE(other.nodeCount(), std::size_t{0});
    QCOMPARE(nameOf(other.lookup(ip4(10, 1, 0, 20))), QLatin1Char('-'));
    QCOMPARE(nameOf(other.lookup(ip6(0, 0, 0, 1))), QLatin1Char('-'));
    insertAll(other, kernelRoutes()); // usable after clear
    QCOMPARE(other.size(), std::size_t{21});
}

void TestAllowedIps::randomDifferential() {
    RandomWorld world(kSeed);
    Table trie;
    NaiveAllowedIps naive;
    world.build(trie, naive);

    QCOMPARE(trie.size(), naive.size());
    QVERIFY(naive.size() > kNumRandRoutes * (1 + kNumMutatedRoutes)); // short ones collide
    QVERIFY(trie.nodeCount() <= 2 * trie.size());

    // Random lengths start at /1, so nearly every address matches something; what matters is
    // that many answers come from deep in the trie, not just from the short routes.
    std::size_t deep = 0;
    for (std::size_t i = 0; i < kNumQueries; ++i) {
        for (const Family f : {Family::V4, Family::V6}) {
            const IpAddress a = world.query(f, naive);
            QVERIFY(sameAsNaive(trie, naive, a));
            const auto* e = naive.match(a);
            deep += e != nullptr && e->length > widthOf(f) / 2 ? 1 : 0;
        }
    }
    QVERIFY2(deep > kNumQueries / 2, qPrintable(QString::number(deep)));

    // (4) prefixesOf against the list for a sample of peers (stable trie order = sorted order).
    for (std::size_t i = 0; i < kNumPeers; i += 37) {
        const std::vector<IpPrefix> got = trie.prefixesOf(world.peer(i));
        QCOMPARE(got, naive.prefixesOf(world.peer(i)));
        QVERIFY(std::is_sorted(got.begin(), got.end()));
    }
}

// (3) The kernel's removal loop: drop peers one at a time; after each, lookups aimed inside every
// prefix the peer had (where the answer must change) and a few random ones agree with the list.
void TestAllowedIps::randomRemovePeerByPeer() {
    RandomWorld world(kSeed + 1);
    Table trie;
    NaiveAllowedIps naive;
    world.build(trie, naive);

    for (std::size_t j = 0; j < kNumPeers; ++j) {
        const Peer* victim = world.peer(j);
        const std::vector<IpPrefix> owned = naive.prefixesOf(victim);
        // Full walks (prefixesOf, nodeCount) on every step would dominate the runtime.
        const bool walk = j % 16 == 0;
        if (walk) {
            QCOMPARE(trie.prefixesOf(victim), owned);
        }

        trie.removeValue(victim);
        naive.removeValue(victim);
        QCOMPARE(trie.size(), naive.size());

        for (const IpPrefix& p : owned) {
            QVERIFY(sameAsNaive(trie, naive, world.inside(p)));
        }
        for (std::size_t q = 0; q < kRandomQueriesPerRemoval; ++q) {
            QVERIFY(sameAsNaive(trie, naive, world.query(Family::V4, naive)));
            QVERIFY(sameAsNaive(trie, naive, world.query(Family::V6, naive)));
        }
        if (walk) {
            QVERIFY(trie.prefixesOf(victim).empty());
            QVERIFY(trie.nodeCount() <= 2 * trie.size());
        }
    }
    QCOMPARE(trie.size(), std::size_t{0});
    QVERIFY(trie.empty());
    QCOMPARE(trie.nodeCount(), std::size_t{0});
}

// remove(prefix, value) on every stored prefix in random order, each first with a wrong owner.
void TestAllowedIps::randomExactRemoval() {
    RandomWorld world(kSeed + 2);
    Table trie;
    NaiveAllowedIps naive;
    world.build(trie, naive);

    struct Owned {
        IpPrefix prefix;
        const Peer* owner;
    };
    std::vector<Owned> all;
    for (const Family f : {Family::V4, Family::V6}) {
        for (const auto& e : naive.entries(f)) {
            all.push_back({e.prefix, e.owner});
        }
    }
    std::shuffle(all.begin(), all.end(), world.rng());

    for (std::size_t i = 0; i < all.size(); ++i) {
        const Owned& o = all[i];
        const Peer* wrong = world.peer((static_cast<std::size_t>(o.owner->id) + 1) % kNumPeers);
        QVERIFY2(!trie.remove(o.prefix, wrong), qPrintable(describe(o.prefix)));
        QVERIFY2(trie.remove(o.prefix, o.owner), qPrintable(describe(o.prefix)));
        QVERIFY(!trie.remove(o.prefix, o.owner));
        QVERIFY(naive.remove(o.prefix, o.owner));
        QCOMPARE(trie.size(), naive.size());
        QVERIFY(sameAsNaive(trie, naive, world.inside(o.prefix)));
        if (i % 4096 == 0) {
            QVERIFY(trie.nodeCount() <= 2 * trie.size());
        }
    }
    QCOMPARE(trie.size(), std::size_t{0});
    QCOMPARE(trie.nodeCount(), std::size_t{0});
}

QTEST_APPLESS_MAIN(TestAllowedIps)

#include "tst_allowedips.moc"
