// AllowedIps: cryptokey routing (whitepaper §2). Maps inner addresses to the peer that owns them:
// outgoing packets are routed by longest-prefix match on the destination, incoming ones are
// accepted only if their source maps back to the peer that sent them.
//
// One path-compressed binary trie per family, as in the kernel's allowedips.c:
//   - every node holds a masked prefix (key, length); a child extends its parent's prefix and
//     sits in the slot named by the address bit right after the parent's length;
//   - a node with Value{} is a pure branch point and always has two children: insert only
//     creates branch points with two children, and removal deletes or splices away any branch
//     point left with fewer. So n prefixes take at most 2n - 1 nodes per family, and removing
//     every prefix leaves no node behind.
//   - lookup walks down while the node's prefix matches, remembering the last node that has a
//     value. Keys are two big-endian 64-bit words with precomputed masks, so a match test is two
//     masked XORs; the walk is a loop, at most 129 steps, and never allocates.
//
// A prefix belongs to one peer (WireGuard semantics): inserting an existing prefix moves it.
// Not thread-safe; the owner serialises configuration changes against lookups. Only the plain
// fields of net::IpPrefix / net::IpAddress are used here.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "core/net/ipaddress.h"

namespace calnet::wireguard {

template <class Value> class AllowedIps {
    static_assert(std::default_initializable<Value> && std::copyable<Value> &&
                      std::equality_comparable<Value>,
                  "Value must be cheap to copy, comparable, and Value{} must mean \"none\"");

public:
    AllowedIps() = default;
    AllowedIps(const AllowedIps&) = delete;
    AllowedIps& operator=(const AllowedIps&) = delete;
    AllowedIps(AllowedIps&& other) noexcept
        : root4_(std::move(other.root4_)), root6_(std::move(other.root6_)),
          size_(std::exchange(other.size_, 0)) {}
    AllowedIps& operator=(AllowedIps&& other) noexcept {
        root4_ = std::move(other.root4_);
        root6_ = std::move(other.root6_);
        size_ = std::exchange(other.size_, 0);
        return *this;
    }
    ~AllowedIps() = default;

    // Host bits are masked off. Inserting Value{} or an unknown family does nothing; a length
    // beyond the family's width is clamped (the config parser rejects those first).
    void insert(const net::IpPrefix& prefix, Value value);
    // Removes the exact (masked) prefix if value owns it; returns whether it did.
    bool remove(const net::IpPrefix& prefix, Value value);
    // Removes every prefix value owns (a peer leaving). O(nodes): configuration path only.
    void removeValue(Value value);
    // Longest-prefix match; addressBytes holds 4 (V4) or 16 (V6) bytes in network order.
    [[nodiscard]] Value lookup(net::Family family, const std::uint8_t* addressBytes) const noexcept;
    [[nodiscard]] Value lookup(const net::IpAddress& address) const noexcept {
        return lookup(address.family, address.bytes.data());
    }
    // Masked prefixes owned by value, in trie order: IPv4 before IPv6, then by address, a
    // shorter prefix before the longer ones it contains (ascending IpPrefix order).
    [[nodiscard]] std::vector<net::IpPrefix> prefixesOf(Value value) const;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    void clear() noexcept {
        root4_.reset();
        root6_.reset();
        size_ = 0;
    }
    // Nodes including branch points; for tests of pruning. O(nodes).
    [[nodiscard]] std::size_t nodeCount() const noexcept;

private:
    using Key = std::array<std::uint64_t, 2>; // address bits, big-endian; V4 in key[0] high half

    struct Node {
        Key key{};  // masked to length
        Key mask{}; // length leading one bits
        std::uint8_t length = 0;
        Value value{};
        std::array<std::unique_ptr<Node>, 2> child;
    };
    using Slot = std::unique_ptr<Node>;

    // Lengths strictly grow going down, so a path visits at most 129 nodes (/0 .. /128).
    static constexpr std::size_t kMaxDepth = 129;

    static bool isNone(const Value& v) noexcept { return v == Value{}; }

    static unsigned maxBits(net::Family family) noexcept {
        return family == net::Family::V4 ? 32 : 128;
    }

    static Key loadKey(net::Family family, const std::uint8_t* b) noexcept {
        Key k{};
        if (family == net::Family::V4) {
            k[0] = std::uint64_t{b[0]} << 56 | std::uint64_t{b[1]} << 48 |
                   std::uint64_t{b[2]} << 40 | std::uint64_t{b[3]} << 32;
            return k;
        }
        for (unsigned i = 0; i < 8; ++i) {
            k[0] = k[0] << 8 | b[i];
            k[1] = k[1] << 8 | b[8 + i];
        }
        return k;
    }

    static Key maskFor(unsigned length) noexcept {
        auto word = [length](unsigned start) -> std::uint64_t {
            if (length <= start) {
                return 0;
            }
            if (length >= start + 64) {
                return ~std::uint64_t{0};
            }
            return ~std::uint64_t{0} << (64 - (length - start));
        };
        return {word(0), word(64)};
    }

    // Bit pos (0 = most significant) of the key; pos < 128.
    static unsigned bitAt(const Key& k, unsigned pos) noexcept {
        return static_cast<unsigned>(k[pos / 64] >> (63 - pos % 64)) & 1U;
    }

    static unsigned commonBits(const Key& a, const Key& b) noexcept {
        unsigned n = static_cast<unsigned>(std::countl_zero(a[0] ^ b[0]));
        if (n == 64) {
            n += static_cast<unsigned>(std::countl_zero(a[1] ^ b[1]));
        }
        return n;
    }

    static bool matches(const Node& n, const Key& k) noexcept {
        return (((k[0] ^ n.key[0]) & n.mask[0]) | ((k[1] ^ n.key[1]) & n.mask[1])) == 0;
    }

    static Slot makeNode(const Key& key, unsigned length, const Value& value) {
        auto n = std::make_unique<Node>();
        n->mask = maskFor(length);
        n->key = {key[0] & n->mask[0], key[1] & n->mask[1]};
        n->length = static_cast<std::uint8_t>(length);
        n->value = value;
        return n;
    }

    // Restores the invariant at one node: a branch point with one child is replaced by that
    // child, one with none disappears.
    static void prune(Slot& slot) noexcept {
        Node* n = slot.get();
        if (n == nullptr || !isNone(n->value) || (n->child[0] && n->child[1])) {
            return;
        }
        // Detach first: assigning straight from a member of *n would touch freed memory.
        Slot survivor = std::move(n->child[0] ? n->child[0] : n->child[1]);
        slot = std::move(survivor);
    }

    // Post-order, so children are pruned before their parent is judged. Depth <= kMaxDepth.
    std::size_t removeAll(Slot& slot, const Value& value) noexcept {
        Node* n = slot.get();
        if (n == nullptr) {
            return 0;
        }
        std::size_t removed = removeAll(n->child[0], value) + removeAll(n->child[1], value);
        if (n->value == value) {
            n->value = Value{};
            ++removed;
        }
        prune(slot);
        return removed;
    }

    Slot* rootFor(net::Family family) noexcept {
        switch (family) {
        case net::Family::V4:
            return &root4_;
        case net::Family::V6:
            return &root6_;
        }
        return nullptr;
    }

    static net::IpPrefix toPrefix(net::Family family, const Node& n) {
        net::IpPrefix p;
        p.address.family = family;
        const unsigned bytes = family == net::Family::V4 ? 4 : 16;
        for (unsigned i = 0; i < bytes; ++i) {
            p.address.bytes[i] = static_cast<std::uint8_t>(n.key[i / 8] >> (56 - 8 * (i % 8)));
        }
        p.length = n.length;
        return p;
    }

    // Pre-order, child 0 before child 1: ascending address, shorter prefix first. The stack
    // holds at most one pending sibling per level plus the two children just pushed, so a fixed
    // array of kMaxDepth + 1 suffices and nothing allocates.
    template <class F> static void visit(const Node* root, F&& f) {
        std::array<const Node*, kMaxDepth + 1> stack{};
        std::size_t top = 0;
        if (root != nullptr) {
            stack[top++] = root;
        }
        while (top > 0) {
            const Node* n = stack[--top];
            f(*n);
            if (n->child[1]) {
                stack[top++] = n->child[1].get();
            }
            if (n->child[0]) {
                stack[top++] = n->child[0].get();
            }
        }
    }

    Slot root4_;
    Slot root6_;
    std::size_t size_ = 0; // nodes with a value
};

template <class Value> void AllowedIps<Value>::insert(const net::IpPrefix& prefix, Value value) {
    const net::Family family = prefix.address.family;
    Slot* slot = rootFor(family);
    if (slot == nullptr || isNone(value)) {
        return;
    }
    const unsigned length = std::min<unsigned>(prefix.length, maxBits(family));
    const Key mask = maskFor(length);
    Key key = loadKey(family, prefix.address.bytes.data());
    key = {key[0] & mask[0], key[1] & mask[1]};

    while (true) {
        Node* n = slot->get();
        if (n == nullptr) {
            *slot = makeNode(key, length, value);
            ++size_;
            return;
        }
        const unsigned common = std::min({commonBits(key, n->key), length, unsigned{n->length}});
        if (common == n->length) {
            if (n->length == length) { // same prefix: (re)assign its owner
                if (isNone(n->value)) {
                    ++size_;
                }
                n->value = std::move(value);
                return;
            }
            // n is a proper prefix of key, so n->length < length <= 128.
            slot = &n->child[bitAt(key, n->length)];
            continue;
        }
        // key and n part ways (or key ends) inside n's prefix: a new node goes above n.
        // Allocate everything before relinking, so a throwing allocation leaves the trie as is.
        if (common == length) { // key is a proper prefix of n
            Slot above = makeNode(key, length, value);
            above->child[bitAt(n->key, common)] = std::move(*slot);
            *slot = std::move(above);
        } else { // they differ at bit `common`: a branch point with both as children
            Slot leaf = makeNode(key, length, value);
            Slot branch = makeNode(key, common, Value{});
            branch->child[bitAt(key, common)] = std::move(leaf);
            branch->child[bitAt(n->key, common)] = std::move(*slot);
            *slot = std::move(branch);
        }
        ++size_;
        return;
    }
}

template <class Value> bool AllowedIps<Value>::remove(const net::IpPrefix& prefix, Value value) {
    const net::Family family = prefix.address.family;
    Slot* slot = rootFor(family);
    if (slot == nullptr || isNone(value)) {
        return false;
    }
    const unsigned length = std::min<unsigned>(prefix.length, maxBits(family));
    const Key key = loadKey(family, prefix.address.bytes.data()); // host bits ignored by matches

    std::array<Slot*, kMaxDepth> path{};
    std::size_t depth = 0;
    while (Node* n = slot->get()) {
        if (n->length > length || !matches(*n, key)) {
            return false;
        }
        path[depth++] = slot;
        if (n->length == length) {
            if (!(n->value == value)) {
                return false; // someone else's prefix, or only a branch point
            }
            n->value = Value{};
            --size_;
            // Deepest first: pruning a node never touches the slots of its ancestors.
            while (depth > 0) {
                prune(*path[--depth]);
            }
            return true;
        }
        slot = &n->child[bitAt(key, n->length)];
    }
    return false;
}

template <class Value> void AllowedIps<Value>::removeValue(Value value) {
    if (isNone(value)) {
        return;
    }
    size_ -= removeAll(root4_, value);
    size_ -= removeAll(root6_, value);
}

template <class Value>
Value AllowedIps<Value>::lookup(net::Family family,
                                const std::uint8_t* addressBytes) const noexcept {
    const Node* n = nullptr;
    if (family == net::Family::V4) {
        n = root4_.get();
    } else if (family == net::Family::V6) {
        n = root6_.get();
    } else {
        return Value{};
    }
    const unsigned bits = maxBits(family);
    const Key key = loadKey(family, addressBytes);
    const Node* best = nullptr;
    while (n != nullptr && matches(*n, key)) {
        if (!isNone(n->value)) {
            best = n;
        }
        if (n->length >= bits) {
            break;
        }
        n = n->child[bitAt(key, n->length)].get();
    }
    return best != nullptr ? best->value : Value{};
}

template <class Value> std::vector<net::IpPrefix> AllowedIps<Value>::prefixesOf(Value value) const {
    std::vector<net::IpPrefix> out;
    if (isNone(value)) {
        return out;
    }
    for (const auto family : {net::Family::V4, net::Family::V6}) {
        visit(family == net::Family::V4 ? root4_.get() : root6_.get(), [&](const Node& n) {
            if (n.value == value) {
                out.push_back(toPrefix(family, n));
            }
        });
    }
    return out;
}

template <class Value> std::size_t AllowedIps<Value>::nodeCount() const noexcept {
    std::size_t count = 0;
    visit(root4_.get(), [&count](const Node&) { ++count; });
    visit(root6_.get(), [&count](const Node&) { ++count; });
    return count;
}

} // namespace calnet::wireguard
