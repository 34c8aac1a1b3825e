// ChaCha20-Poly1305 for x86-64 vector units; see chachapoly_x86.h for the flow. Section numbers
// refer to RFC 8439.
#include "core/crypto/chachapoly_x86.h"

#include <bit>
#include <cstdlib>
#include <cstring>

#include <sodium/crypto_verify_16.h>
#include <sodium/utils.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_epi32() to their builtins, which then warns
// inside the header wherever they are inlined (GCC bug 105593, fixed in 13). The pragma covers
// the header's own lines only; this file's code keeps the warning.
#if defined(__clang__)
#include <immintrin.h>
#else
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif
#define CALNET_CHACHAPOLY_X86 1
#endif

namespace calnet::crypto {

namespace {

static_assert(std::endian::native == std::endian::little, "loads below assume little-endian");

using u64 = std::uint64_t;
__extension__ typedef unsigned __int128 u128; // GCC and Clang on 64-bit targets

u64 load64(const std::uint8_t* p) noexcept {
    u64 v;
    std::memcpy(&v, p, 8);
    return v;
}
void store64(std::uint8_t* p, u64 v) noexcept {
    std::memcpy(p, &v, 8);
}

#ifdef CALNET_CHACHAPOLY_X86

// ---- Poly1305, eight blocks at a time with AVX-512 IFMA -------------------------------------
//
// Radix 2^44: x = x0 + x1·2^44 + x2·2^88. Lane j of the accumulator takes blocks j, j+8, j+16,
// …; each group of eight is added after the accumulator was multiplied by r^8 (Horner over
// groups), and at the end lane j is multiplied by r^(8-j) and the lanes are summed:
//   h·r^N + Σ m_i·r^(N-i) = Σ_j (lane j)·r^(8-j)   (h, the accumulator so far, joins lane 0).
// vpmadd52{l,h}uq multiply the low 52 bits of two lanes and add the low or high 52 bits of the
// 104-bit product; a column's high half lands 8 bits into the next 44-bit column, and columns
// past 2^130 fold back times 5 (2^132 ≡ 20 for the limb products, as s = 20·r).

constexpr u64 kMask44 = (u64(1) << 44) - 1;
constexpr u64 kMask42 = (u64(1) << 42) - 1;

struct Limbs44 {
    u64 l[3];
};

// Partly reduced (x2 < 2^42 + 1) radix-2^44 limbs of a radix-2^64 value below 2^134.
Limbs44 toLimbs44(u64 h0, u64 h1, u64 h2) noexcept {
    return {{h0 & kMask44, ((h0 >> 44) | (h1 << 20)) & kMask44, (h1 >> 24) | (h2 << 40)}};
}

// Carries a sum of limbs (each < 2^62) into x0, x1 < 2^44, x2 < 2^42 + 1, folding 2^130 as 5.
Limbs44 carry44(u64 x0, u64 x1, u64 x2) noexcept {
    x1 += x0 >> 44;
    x0 &= kMask44;
    x2 += x1 >> 44;
    x1 &= kMask44;
    x0 += (x2 >> 42) * 5;
    x2 &= kMask42;
    x1 += x0 >> 44;
    x0 &= kMask44;
    x2 += x1 >> 44;
    x1 &= kMask44;
    return {{x0, x1, x2}};
}

// a·b mod 2^130 - 5 (partly reduced), for the powers of r.
Limbs44 mul44(const Limbs44& a, const Limbs44& b) noexcept {
    const u64 s1 = b.l[1] * 20, s2 = b.l[2] * 20;
    const u128 d0 = u128(a.l[0]) * b.l[0] + u128(a.l[1]) * s2 + u128(a.l[2]) * s1;
    u128 d1 = u128(a.l[0]) * b.l[1] + u128(a.l[1]) * b.l[0] + u128(a.l[2]) * s2;
    u128 d2 = u128(a.l[0]) * b.l[2] + u128(a.l[1]) * b.l[1] + u128(a.l[2]) * b.l[0];
    d1 += u64(d0 >> 44);
    d2 += u64(d1 >> 44);
    const u64 top = u64(d2 >> 42); // < 2^49: the limbs were below 2^45
    return carry44((u64(d0) & kMask44) + top * 5, u64(d1) & kMask44, u64(d2) & kMask42);
}

#define CALNET_IFMA __attribute__((target("avx512f,avx512ifma")))

struct Vec44 {
    __m512i l0, l1, l2;
};

// x·(r0, r1, r2) per lane, with s1 = 20·r1 and s2 = 20·r2; limbs in and out below 2^45.
CALNET_IFMA inline Vec44 mulIfma(const Vec44& x, __m512i r0, __m512i r1, __m512i r2, __m512i s1,
                                 __m512i s2) noexcept {
    const __m512i z = _mm512_setzero_si512();
    __m512i d0l = _mm512_madd52lo_epu64(z, x.l0, r0);
    __m512i d0h = _mm512_madd52hi_epu64(z, x.l0, r0);
    __m512i d1l = _mm512_madd52lo_epu64(z, x.l0, r1);
    __m512i d1h = _mm512_madd52hi_epu64(z, x.l0, r1);
    __m512i d2l = _mm512_madd52lo_epu64(z, x.l0, r2);
    __m512i d2h = _mm512_madd52hi_epu64(z, x.l0, r2);
    d0l = _mm512_madd52lo_epu64(d0l, x.l1, s2);
    d0h = _mm512_madd52hi_epu64(d0h, x.l1, s2);
    d1l = _mm512_madd52lo_epu64(d1l, x.l1, r0);
    d1h = _mm512_madd52hi_epu64(d1h, x.l1, r0);
    d2l = _mm512_madd52lo_epu64(d2l, x.l1, r1);
    d2h = _mm512_madd52hi_epu64(d2h, x.l1, r1);
    d0l = _mm512_madd52lo_epu64(d0l, x.l2, s1);
    d0h = _mm512_madd52hi_epu64(d0h, x.l2, s1);
    d1l = _mm512_madd52lo_epu64(d1l, x.l2, s2);
    d1h = _mm512_madd52hi_epu64(d1h, x.l2, s2);
    d2l = _mm512_madd52lo_epu64(d2l, x.l2, r0);
    d2h = _mm512_madd52hi_epu64(d2h, x.l2, r0);
    // Columns at 2^0, 2^44, 2^88; the high half of the 2^88 column sits at 2^140 = 2^130·2^10.
    const __m512i m44 = _mm512_set1_epi64(std::int64_t(kMask44));
    const __m512i m42 = _mm512_set1_epi64(std::int64_t(kMask42));
    __m512i e0 = d0l;
    __m512i e1 = _mm512_add_epi64(d1l, _mm512_slli_epi64(d0h, 8));
    __m512i e2 = _mm512_add_epi64(d2l, _mm512_slli_epi64(d1h, 8));
    e1 = _mm512_add_epi64(e1, _mm512_srli_epi64(e0, 44));
    e0 = _mm512_and_si512(e0, m44);
    e2 = _mm512_add_epi64(e2, _mm512_srli_epi64(e1, 44));
    e1 = _mm512_and_si512(e1, m44);
    const __m512i top = _mm512_add_epi64(_mm512_srli_epi64(e2, 42), _mm512_slli_epi64(d2h, 10));
    e2 = _mm512_and_si512(e2, m42);
    e0 = _mm512_add_epi64(e0, _mm512_add_epi64(top, _mm512_slli_epi64(top, 2)));
    e1 = _mm512_add_epi64(e1, _mm512_srli_epi64(e0, 44));
    e0 = _mm512_and_si512(e0, m44);
    return {e0, e1, e2};
}

CALNET_IFMA inline __m512i times20(__m512i v) noexcept {
    return _mm512_add_epi64(_mm512_slli_epi64(v, 4), _mm512_slli_epi64(v, 2));
}

// Absorbs `groups` groups of eight 16-byte blocks (each with the 2^128 bit) into h (radix
// 2^64, updated in place); r is the clamped key half.
CALNET_IFMA void poly1305Ifma(u64 h[3], u64 rlo, u64 rhi, const std::uint8_t* m,
                              std::size_t groups) noexcept {
    Limbs44 p[9];
    p[1] = toLimbs44(rlo, rhi, 0);
    for (int k = 2; k <= 8; ++k)
        p[k] = mul44(p[k - 1], p[1]);
    const __m512i r0 = _mm512_set1_epi64(std::int64_t(p[8].l[0]));
    const __m512i r1 = _mm512_set1_epi64(std::int64_t(p[8].l[1]));
    const __m512i r2 = _mm512_set1_epi64(std::int64_t(p[8].l[2]));
    const __m512i s1 = times20(r1), s2 = times20(r2);
    const __m512i m44 = _mm512_set1_epi64(std::int64_t(kMask44));
    const __m512i hibit = _mm512_set1_epi64(std::int64_t(1) << 40); // 2^128 = 2^(88 + 40)
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);

    const Limbs44 h44 = toLimbs44(h[0], h[1], h[2]);
    Vec44 acc{_mm512_setr_epi64(std::int64_t(h44.l[0]), 0, 0, 0, 0, 0, 0, 0),
              _mm512_setr_epi64(std::int64_t(h44.l[1]), 0, 0, 0, 0, 0, 0, 0),
              _mm512_setr_epi64(std::int64_t(h44.l[2]), 0, 0, 0, 0, 0, 0, 0)};
    for (std::size_t g = 0; g < groups; ++g, m += 128) {
        const __m512i a = _mm512_loadu_si512(m);
        const __m512i b = _mm512_loadu_si512(m + 64);
        const __m512i lo = _mm512_permutex2var_epi64(a, even, b); // low 64 bits of blocks 0..7
        const __m512i hi = _mm512_permutex2var_epi64(a, odd, b);  // high 64 bits
        if (g > 0)
            acc = mulIfma(acc, r0, r1, r2, s1, s2);
        acc.l0 = _mm512_add_epi64(acc.l0, _mm512_and_si512(lo, m44));
        acc.l1 = _mm512_add_epi64(
            acc.l1,
            _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(lo, 44), _mm512_slli_epi64(hi, 20)),
                             m44));
        acc.l2 = _mm512_add_epi64(acc.l2, _mm512_or_si512(_mm512_srli_epi64(hi, 24), hibit));
    }
    // Lane j times r^(8 - j), then the sum of the lanes.
    const __m512i q0 =
        _mm512_setr_epi64(std::int64_t(p[8].l[0]), std::int64_t(p[7].l[0]), std::int64_t(p[6].l[0]),
                          std::int64_t(p[5].l[0]), std::int64_t(p[4].l[0]), std::int64_t(p[3].l[0]),
                          std::int64_t(p[2].l[0]), std::int64_t(p[1].l[0]));
    const __m512i q1 =
        _mm512_setr_epi64(std::int64_t(p[8].l[1]), std::int64_t(p[7].l[1]), std::int64_t(p[6].l[1]),
                          std::int64_t(p[5].l[1]), std::int64_t(p[4].l[1]), std::int64_t(p[3].l[1]),
                          std::int64_t(p[2].l[1]), std::int64_t(p[1].l[1]));
    const __m512i q2 =
        _mm512_setr_epi64(std::int64_t(p[8].l[2]), std::int64_t(p[7].l[2]), std::int64_t(p[6].l[2]),
                          std::int64_t(p[5].l[2]), std::int64_t(p[4].l[2]), std::int64_t(p[3].l[2]),
                          std::int64_t(p[2].l[2]), std::int64_t(p[1].l[2]));
    acc = mulIfma(acc, q0, q1, q2, times20(q1), times20(q2));
    const Limbs44 sum =
        carry44(u64(_mm512_reduce_add_epi64(acc.l0)), u64(_mm512_reduce_add_epi64(acc.l1)),
                u64(_mm512_reduce_add_epi64(acc.l2)));
    h[0] = sum.l[0] | (sum.l[1] << 44);
    h[1] = (sum.l[1] >> 20) | (sum.l[2] << 24);
    h[2] = sum.l[2] >> 40;
    sodium_memzero(p, sizeof p);
}

bool hasIfma() noexcept {
    static const bool yes =
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
    return yes;
}

#endif // CALNET_CHACHAPOLY_X86

// ---- Poly1305 (§2.5), radix 2^64 -------------------------------------------------------------
//
// The accumulator h = h0 + h1·2^64 + h2·2^128 stays below 2^131 between blocks (only partly
// reduced); r = r0 + r1·2^64 is clamped, so r1 is a multiple of 4 and the h·r terms at 2^128
// and above fold back as ·5/4: s1 = r1 + r1/4.
class Poly1305 {
public:
    explicit Poly1305(const std::uint8_t key[32]) noexcept
        : r0_(load64(key) & 0x0ffffffc0fffffffULL), r1_(load64(key + 8) & 0x0ffffffc0ffffffcULL),
          s1_(r1_ + (r1_ >> 2)), pad0_(load64(key + 16)), pad1_(load64(key + 24)) {}
    ~Poly1305() { sodium_memzero(this, sizeof *this); }
    Poly1305(const Poly1305&) = delete;
    Poly1305& operator=(const Poly1305&) = delete;

    // Whole 16-byte blocks; hibit is the 2^128 bit every full block carries (0 only for the
    // padded last block of a plain Poly1305 message).
    void blocks(const std::uint8_t* m, std::size_t count, u64 hibit = 1) noexcept {
        u64 h0 = h0_, h1 = h1_, h2 = h2_;
        const u64 r0 = r0_, r1 = r1_, s1 = s1_;
        for (; count > 0; --count, m += 16) {
#ifdef CALNET_CHACHAPOLY_X86
            // The same arithmetic as below, with the carries spelled as adc: GCC keeps the
            // 128-bit temporaries of the portable form on the stack (1.5 vs 2 cycles a byte).
            unsigned long long a, b;
            unsigned char c = _addcarry_u64(0, h0, load64(m), &a);
            c = _addcarry_u64(c, h1, load64(m + 8), &b);
            h0 = a;
            h1 = b;
            h2 += c + hibit;
            const u128 p00 = u128(h0) * r0, p11 = u128(h1) * s1;
            const u128 p01 = u128(h0) * r1, p10 = u128(h1) * r0;
            c = _addcarry_u64(0, u64(p00), u64(p11), &a);
            const u64 d0lo = a;
            const u64 d0hi = u64(p00 >> 64) + u64(p11 >> 64) + c;
            c = _addcarry_u64(0, u64(p01), u64(p10), &a);
            u64 d1hi = u64(p01 >> 64) + u64(p10 >> 64) + c;
            c = _addcarry_u64(0, a, h2 * s1, &a);
            d1hi += c;
            c = _addcarry_u64(0, a, d0hi, &a);
            d1hi += c;
            const u64 d1lo = a;
            const u64 d2 = h2 * r0 + d1hi;
            const u64 cc = (d2 >> 2) + (d2 & ~u64(3));
            h2 = d2 & 3;
            c = _addcarry_u64(0, d0lo, cc, &a);
            c = _addcarry_u64(c, d1lo, 0, &b);
            h0 = a;
            h1 = b;
            h2 += c;
#else
            u128 t = u128(h0) + load64(m);
            h0 = u64(t);
            t = u128(h1) + load64(m + 8) + u64(t >> 64);
            h1 = u64(t);
            h2 += u64(t >> 64) + hibit;
            // h * r mod 2^130 - 5, columns at 2^0, 2^64 and 2^128.
            const u128 d0 = u128(h0) * r0 + u128(h1) * s1;
            u128 d1 = u128(h0) * r1 + u128(h1) * r0 + u128(h2 * s1);
            u64 d2 = h2 * r0;
            h0 = u64(d0);
            d1 += u64(d0 >> 64);
            h1 = u64(d1);
            d2 += u64(d1 >> 64);
            // Everything from 2^130 up, times 5, back to the bottom.
            const u64 c = (d2 >> 2) + (d2 & ~u64(3));
            h2 = d2 & 3;
            t = u128(h0) + c;
            h0 = u64(t);
            t = u128(h1) + u64(t >> 64);
            h1 = u64(t);
            h2 += u64(t >> 64);
#endif
        }
        h0_ = h0;
        h1_ = h1;
        h2_ = h2;
    }

    // Whole blocks, eight at a time with AVX-512 IFMA where the CPU has it.
    void bulk(const std::uint8_t* m, std::size_t count) noexcept {
#ifdef CALNET_CHACHAPOLY_X86
        if (count >= 8 && hasIfma()) {
            u64 h[3] = {h0_, h1_, h2_};
            poly1305Ifma(h, r0_, r1_, m, count / 8);
            h0_ = h[0];
            h1_ = h[1];
            h2_ = h[2];
            m += (count / 8) * 128;
            count %= 8;
        }
#endif
        blocks(m, count);
    }

    // Bytes zero-padded to whole blocks (the AEAD's pad16).
    void padded(std::span<const std::uint8_t> data) noexcept {
        const std::size_t whole = data.size() / 16;
        bulk(data.data(), whole);
        if (const std::size_t rest = data.size() % 16) {
            std::uint8_t last[16] = {};
            std::memcpy(last, data.data() + whole * 16, rest);
            blocks(last, 1);
        }
    }

    void finish(std::uint8_t tag[16]) noexcept {
        // h < 2p here; h - p when h + 5 reaches 2^130, in constant time.
        u128 t = u128(h0_) + 5;
        const u64 g0 = u64(t);
        t = u128(h1_) + u64(t >> 64);
        const u64 g1 = u64(t);
        const u64 g2 = h2_ + u64(t >> 64);
        const u64 mask = u64(0) - (g2 >> 2);
        u64 h0 = (h0_ & ~mask) | (g0 & mask);
        u64 h1 = (h1_ & ~mask) | (g1 & mask);
        // + s, mod 2^128.
        t = u128(h0) + pad0_;
        h0 = u64(t);
        h1 = h1 + pad1_ + u64(t >> 64);
        store64(tag, h0);
        store64(tag + 8, h1);
    }

private:
    u64 r0_, r1_, s1_;
    u64 pad0_, pad1_;
    u64 h0_ = 0, h1_ = 0, h2_ = 0;
};

// The AEAD tag (§2.8): aad | pad16 | ciphertext | pad16 | le64 len(aad) | le64 len(ciphertext).
void aeadTag(std::uint8_t tag[16], const std::uint8_t polyKey[32],
             std::span<const std::uint8_t> aad, std::span<const std::uint8_t> ciphertext) noexcept {
    Poly1305 p(polyKey);
    p.padded(aad);
    p.padded(ciphertext);
    std::uint8_t lengths[16];
    store64(lengths, aad.size());
    store64(lengths + 8, ciphertext.size());
    p.blocks(lengths, 1);
    p.finish(tag);
}

#ifdef CALNET_CHACHAPOLY_X86

// ---- ChaCha20 (§2.3) ---------------------------------------------------------------------------

#define CALNET_AVX2 __attribute__((target("avx2")))
#define CALNET_AVX512 __attribute__((target("avx2,avx512f,avx512vl,avx512bw")))

constexpr std::uint32_t kSigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

// The 16-word input state with block counter 0 (§2.3: constants, key, counter, nonce).
struct State {
    alignas(64) std::uint32_t w[16];
    State(const AeadKey& key, const AeadNonce& nonce) noexcept {
        std::memcpy(w, kSigma, 16);
        std::memcpy(w + 4, key.data(), 32);
        w[12] = 0;
        std::memcpy(w + 13, nonce.data(), 12);
    }
    ~State() { sodium_memzero(w, sizeof w); }
    State(const State&) = delete;
    State& operator=(const State&) = delete;
};

// One ChaCha quarter round (§2.1) on four registers of any width, given its rotations.
#define CALNET_QR(a, b, c, d, ADD, XOR, R16, R12, R8, R7)                                          \
    a = ADD(a, b);                                                                                 \
    d = R16(XOR(d, a));                                                                            \
    c = ADD(c, d);                                                                                 \
    b = R12(XOR(b, c));                                                                            \
    a = ADD(a, b);                                                                                 \
    d = R8(XOR(d, a));                                                                             \
    c = ADD(c, d);                                                                                 \
    b = R7(XOR(b, c))

// Ten double rounds (§2.3): columns, then diagonals.
#define CALNET_ROUNDS(x, ADD, XOR, R16, R12, R8, R7)                                               \
    for (int round = 0; round < 10; ++round) {                                                     \
        CALNET_QR(x[0], x[4], x[8], x[12], ADD, XOR, R16, R12, R8, R7);                            \
        CALNET_QR(x[1], x[5], x[9], x[13], ADD, XOR, R16, R12, R8, R7);                            \
        CALNET_QR(x[2], x[6], x[10], x[14], ADD, XOR, R16, R12, R8, R7);                           \
        CALNET_QR(x[3], x[7], x[11], x[15], ADD, XOR, R16, R12, R8, R7);                           \
        CALNET_QR(x[0], x[5], x[10], x[15], ADD, XOR, R16, R12, R8, R7);                           \
        CALNET_QR(x[1], x[6], x[11], x[12], ADD, XOR, R16, R12, R8, R7);                           \
        CALNET_QR(x[2], x[7], x[8], x[13], ADD, XOR, R16, R12, R8, R7);                            \
        CALNET_QR(x[3], x[4], x[9], x[14], ADD, XOR, R16, R12, R8, R7);                            \
    }

// -- AVX2: 8 blocks, one state word of all eight per 256-bit register --------------------------

CALNET_AVX2 inline __m256i add8(__m256i a, __m256i b) {
    return _mm256_add_epi32(a, b);
}
CALNET_AVX2 inline __m256i xor8(__m256i a, __m256i b) {
    return _mm256_xor_si256(a, b);
}
// Rotations by whole bytes are one byte shuffle; the others two shifts and an OR.
CALNET_AVX2 inline __m256i rot16x8(__m256i x) {
    const __m256i m = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3,
                                       0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    return _mm256_shuffle_epi8(x, m);
}
CALNET_AVX2 inline __m256i rot8x8(__m256i x) {
    const __m256i m = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, 3, 0,
                                       1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
    return _mm256_shuffle_epi8(x, m);
}
CALNET_AVX2 inline __m256i rot12x8(__m256i x) {
    return _mm256_or_si256(_mm256_slli_epi32(x, 12), _mm256_srli_epi32(x, 20));
}
CALNET_AVX2 inline __m256i rot7x8(__m256i x) {
    return _mm256_or_si256(_mm256_slli_epi32(x, 7), _mm256_srli_epi32(x, 25));
}

// Eight keystream blocks, counters counter .. counter + 7, into out[0 .. 512): the body of
// chacha8 (AVX2 rotations) and chacha8vl (AVX-512VL's vprold on 256-bit registers).
#define CALNET_CHACHA8_BODY(R16, R12, R8, R7)                                                      \
    __m256i x[16];                                                                                 \
    __m256i in[16];                                                                                \
    for (int i = 0; i < 16; ++i)                                                                   \
        in[i] = _mm256_set1_epi32(int(s.w[i]));                                                    \
    in[12] = _mm256_add_epi32(_mm256_set1_epi32(int(counter)),                                     \
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));                          \
    for (int i = 0; i < 16; ++i)                                                                   \
        x[i] = in[i];                                                                              \
    CALNET_ROUNDS(x, add8, xor8, R16, R12, R8, R7)                                                 \
    for (int i = 0; i < 16; ++i)                                                                   \
        x[i] = _mm256_add_epi32(x[i], in[i]);                                                      \
    /* Register i holds word i of blocks 0..7. 4×4 word transposes within 128-bit halves:      */ \
    /* x[4g + k] then holds words 4g..4g+3 of blocks k | k + 4 ...                              */ \
    for (int g = 0; g < 4; ++g) {                                                                  \
        __m256i* q = x + 4 * g;                                                                    \
        const __m256i t0 = _mm256_unpacklo_epi32(q[0], q[1]);                                      \
        const __m256i t1 = _mm256_unpackhi_epi32(q[0], q[1]);                                      \
        const __m256i t2 = _mm256_unpacklo_epi32(q[2], q[3]);                                      \
        const __m256i t3 = _mm256_unpackhi_epi32(q[2], q[3]);                                      \
        q[0] = _mm256_unpacklo_epi64(t0, t2);                                                      \
        q[1] = _mm256_unpackhi_epi64(t0, t2);                                                      \
        q[2] = _mm256_unpacklo_epi64(t1, t3);                                                      \
        q[3] = _mm256_unpackhi_epi64(t1, t3);                                                      \
    }                                                                                              \
    /* ... and the 128-bit halves of the four groups make whole blocks. */                         \
    for (int j = 0; j < 4; ++j) {                                                                  \
        auto* lo = reinterpret_cast<__m256i*>(out + 64 * j);                                       \
        auto* hi = reinterpret_cast<__m256i*>(out + 64 * (j + 4));                                 \
        _mm256_storeu_si256(lo, _mm256_permute2x128_si256(x[j], x[4 + j], 0x20));                  \
        _mm256_storeu_si256(lo + 1, _mm256_permute2x128_si256(x[8 + j], x[12 + j], 0x20));         \
        _mm256_storeu_si256(hi, _mm256_permute2x128_si256(x[j], x[4 + j], 0x31));                  \
        _mm256_storeu_si256(hi + 1, _mm256_permute2x128_si256(x[8 + j], x[12 + j], 0x31));         \
    }

CALNET_AVX2 void chacha8(const State& s, std::uint32_t counter, std::uint8_t* out) noexcept {
    CALNET_CHACHA8_BODY(rot16x8, rot12x8, rot8x8, rot7x8)}

CALNET_AVX2 void xorBytes8(std::uint8_t* out, const std::uint8_t* in, const std::uint8_t* ks,
                           std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ks + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_xor_si256(a, b));
    }
    for (; i < n; ++i)
        out[i] = std::uint8_t(in[i] ^ ks[i]);
}

// -- AVX-512: 16 blocks, one state word of all sixteen per 512-bit register ---------------------

CALNET_AVX512 inline __m512i add16(__m512i a, __m512i b) {
    return _mm512_add_epi32(a, b);
}
CALNET_AVX512 inline __m512i xor16(__m512i a, __m512i b) {
    return _mm512_xor_si512(a, b);
}
CALNET_AVX512 inline __m512i rot16x16(__m512i x) {
    return _mm512_rol_epi32(x, 16);
}
CALNET_AVX512 inline __m512i rot12x16(__m512i x) {
    return _mm512_rol_epi32(x, 12);
}
CALNET_AVX512 inline __m512i rot8x16(__m512i x) {
    return _mm512_rol_epi32(x, 8);
}
CALNET_AVX512 inline __m512i rot7x16(__m512i x) {
    return _mm512_rol_epi32(x, 7);
}

CALNET_AVX512 inline __m256i rot16vl(__m256i x) {
    return _mm256_rol_epi32(x, 16);
}
CALNET_AVX512 inline __m256i rot12vl(__m256i x) {
    return _mm256_rol_epi32(x, 12);
}
CALNET_AVX512 inline __m256i rot8vl(__m256i x) {
    return _mm256_rol_epi32(x, 8);
}
CALNET_AVX512 inline __m256i rot7vl(__m256i x) {
    return _mm256_rol_epi32(x, 7);
}

CALNET_AVX512 void chacha8vl(const State& s, std::uint32_t counter, std::uint8_t* out) noexcept {
    CALNET_CHACHA8_BODY(rot16vl, rot12vl, rot8vl, rot7vl)}

// Four keystream blocks into out[0 .. 256), for short messages: each 512-bit register holds one
// row of the four states (one block per 128-bit lane), and the diagonal round rotates rows b,
// c, d by one, two and three words within each lane.
CALNET_AVX512 inline __m512i stateRow(const State& s, int i) noexcept {
    return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s.w + i)));
}

CALNET_AVX512 void chacha4(const State& s, std::uint32_t counter, std::uint8_t* out) noexcept {
    const __m512i a0 = stateRow(s, 0), b0 = stateRow(s, 4), c0 = stateRow(s, 8);
    const __m512i d0 = _mm512_add_epi32(
        stateRow(s, 12), _mm512_setr_epi32(int(counter), 0, 0, 0, int(counter + 1), 0, 0, 0,
                                           int(counter + 2), 0, 0, 0, int(counter + 3), 0, 0, 0));
    __m512i a = a0, b = b0, c = c0, d = d0;
    for (int round = 0; round < 10; ++round) {
        CALNET_QR(a, b, c, d, add16, xor16, rot16x16, rot12x16, rot8x16, rot7x16);
        b = _mm512_shuffle_epi32(b, _MM_PERM_ADCB); // words 1 2 3 0
        c = _mm512_shuffle_epi32(c, _MM_PERM_BADC); // 2 3 0 1
        d = _mm512_shuffle_epi32(d, _MM_PERM_CBAD); // 3 0 1 2
        CALNET_QR(a, b, c, d, add16, xor16, rot16x16, rot12x16, rot8x16, rot7x16);
        b = _mm512_shuffle_epi32(b, _MM_PERM_CBAD);
        c = _mm512_shuffle_epi32(c, _MM_PERM_BADC);
        d = _mm512_shuffle_epi32(d, _MM_PERM_ADCB);
    }
    a = _mm512_add_epi32(a, a0);
    b = _mm512_add_epi32(b, b0);
    c = _mm512_add_epi32(c, c0);
    d = _mm512_add_epi32(d, d0);
    const __m512i u0 = _mm512_shuffle_i32x4(a, b, 0x44);
    const __m512i u1 = _mm512_shuffle_i32x4(a, b, 0xee);
    const __m512i u2 = _mm512_shuffle_i32x4(c, d, 0x44);
    const __m512i u3 = _mm512_shuffle_i32x4(c, d, 0xee);
    _mm512_storeu_si512(out, _mm512_shuffle_i32x4(u0, u2, 0x88));
    _mm512_storeu_si512(out + 64, _mm512_shuffle_i32x4(u0, u2, 0xdd));
    _mm512_storeu_si512(out + 128, _mm512_shuffle_i32x4(u1, u3, 0x88));
    _mm512_storeu_si512(out + 192, _mm512_shuffle_i32x4(u1, u3, 0xdd));
}

// Sixteen keystream blocks, counters counter .. counter + 15, into out[0 .. 1024).
CALNET_AVX512 void chacha16(const State& s, std::uint32_t counter, std::uint8_t* out) noexcept {
    __m512i x[16];
    __m512i in[16];
    for (int i = 0; i < 16; ++i)
        in[i] = _mm512_set1_epi32(int(s.w[i]));
    in[12] =
        _mm512_add_epi32(_mm512_set1_epi32(int(counter)),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    for (int i = 0; i < 16; ++i)
        x[i] = in[i];
    CALNET_ROUNDS(x, add16, xor16, rot16x16, rot12x16, rot8x16, rot7x16)
    for (int i = 0; i < 16; ++i)
        x[i] = _mm512_add_epi32(x[i], in[i]);
    // 4×4 word transposes inside each 128-bit lane: afterwards x[4g + k] holds words
    // 4g..4g+3 of blocks k, k+4, k+8, k+12 (one per lane).
    for (int g = 0; g < 4; ++g) {
        __m512i* q = x + 4 * g;
        const __m512i t0 = _mm512_unpacklo_epi32(q[0], q[1]);
        const __m512i t1 = _mm512_unpackhi_epi32(q[0], q[1]);
        const __m512i t2 = _mm512_unpacklo_epi32(q[2], q[3]);
        const __m512i t3 = _mm512_unpackhi_epi32(q[2], q[3]);
        q[0] = _mm512_unpacklo_epi64(t0, t2);
        q[1] = _mm512_unpackhi_epi64(t0, t2);
        q[2] = _mm512_unpacklo_epi64(t1, t3);
        q[3] = _mm512_unpackhi_epi64(t1, t3);
    }
    // A 4×4 transpose of 128-bit lanes across the four groups gives whole blocks.
    for (int k = 0; k < 4; ++k) {
        const __m512i a = x[k], b = x[4 + k], c = x[8 + k], d = x[12 + k];
        const __m512i u0 = _mm512_shuffle_i32x4(a, b, 0x44); // a.l0 a.l1 b.l0 b.l1
        const __m512i u1 = _mm512_shuffle_i32x4(a, b, 0xee); // a.l2 a.l3 b.l2 b.l3
        const __m512i u2 = _mm512_shuffle_i32x4(c, d, 0x44);
        const __m512i u3 = _mm512_shuffle_i32x4(c, d, 0xee);
        _mm512_storeu_si512(out + 64 * k, _mm512_shuffle_i32x4(u0, u2, 0x88));        // block k
        _mm512_storeu_si512(out + 64 * (k + 4), _mm512_shuffle_i32x4(u0, u2, 0xdd));  // k + 4
        _mm512_storeu_si512(out + 64 * (k + 8), _mm512_shuffle_i32x4(u1, u3, 0x88));  // k + 8
        _mm512_storeu_si512(out + 64 * (k + 12), _mm512_shuffle_i32x4(u1, u3, 0xdd)); // k + 12
    }
}

CALNET_AVX512 void xorBytes16(std::uint8_t* out, const std::uint8_t* in, const std::uint8_t* ks,
                              std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(
            out + i, _mm512_xor_si512(_mm512_loadu_si512(in + i), _mm512_loadu_si512(ks + i)));
    if (i < n) {
        const __mmask64 m = (__mmask64(1) << (n - i)) - 1;
        const __m512i a = _mm512_maskz_loadu_epi8(m, in + i);
        const __m512i b = _mm512_maskz_loadu_epi8(m, ks + i);
        _mm512_mask_storeu_epi8(out + i, m, _mm512_xor_si512(a, b));
    }
}

// ---- The AEAD over a keystream generator --------------------------------------------------------
//
// Isa::kFirst(len) blocks are made first, into a buffer: block 0 gives the Poly1305 key, the
// rest the first bytes of keystream. Later keystream comes in Isa::generate batches.

struct Avx2 {
    CALNET_AVX2 static std::size_t first(const State& s, std::size_t, std::uint8_t* ks) noexcept {
        chacha8(s, 0, ks);
        return 8;
    }
    CALNET_AVX2 static void crypt(const State& s, std::uint32_t counter, std::uint8_t* out,
                                  const std::uint8_t* in, std::size_t n) noexcept {
        alignas(64) std::uint8_t ks[512];
        while (n > 0) {
            chacha8(s, counter, ks);
            const std::size_t take = n < 512 ? n : 512;
            xorBytes8(out, in, ks, take);
            out += take;
            in += take;
            n -= take;
            counter += 8;
        }
        sodium_memzero(ks, sizeof ks);
    }
    CALNET_AVX2 static void xorFirst(std::uint8_t* out, const std::uint8_t* in,
                                     const std::uint8_t* ks, std::size_t n) noexcept {
        xorBytes8(out, in, ks, n);
    }
};

struct Avx512 {
    // The narrowest batch that holds the Poly1305 key block and the message (or, for long
    // messages, the widest): no keystream is made that nobody reads.
    CALNET_AVX512 static std::size_t first(const State& s, std::size_t len,
                                           std::uint8_t* ks) noexcept {
        if (len <= 3 * 64) {
            chacha4(s, 0, ks);
            return 4;
        }
        if (len <= 7 * 64) {
            chacha8vl(s, 0, ks);
            return 8;
        }
        chacha16(s, 0, ks);
        return 16;
    }
    CALNET_AVX512 static void crypt(const State& s, std::uint32_t counter, std::uint8_t* out,
                                    const std::uint8_t* in, std::size_t n) noexcept {
        alignas(64) std::uint8_t ks[1024];
        std::size_t used = 0; // keystream bytes to wipe
        while (n > 0) {
            std::size_t made;
            if (n > 512) {
                chacha16(s, counter, ks);
                made = 1024;
            } else if (n > 256) {
                chacha8vl(s, counter, ks);
                made = 512;
            } else {
                chacha4(s, counter, ks);
                made = 256;
            }
            const std::size_t take = n < made ? n : made;
            xorBytes16(out, in, ks, take);
            out += take;
            in += take;
            n -= take;
            counter += std::uint32_t(made / 64);
            used = std::max(used, made);
        }
        sodium_memzero(ks, used);
    }
    CALNET_AVX512 static void xorFirst(std::uint8_t* out, const std::uint8_t* in,
                                       const std::uint8_t* ks, std::size_t n) noexcept {
        xorBytes16(out, in, ks, n);
    }
};

template <class Isa>
void sealWith(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
              std::span<const std::uint8_t> plaintext,
              std::span<const std::uint8_t> associatedData) noexcept {
    if (out.size() < plaintext.size() + kAeadTagSize)
        std::abort(); // a caller bug, as in aeadSeal
    const State s(key, nonce);
    alignas(64) std::uint8_t ks[1024];
    const std::size_t len = plaintext.size();
    const std::size_t blocks = Isa::first(s, len, ks);
    const std::size_t head = std::min(len, (blocks - 1) * 64);
    Isa::xorFirst(out.data(), plaintext.data(), ks + 64, head);
    if (len > head)
        Isa::crypt(s, std::uint32_t(blocks), out.data() + head, plaintext.data() + head,
                   len - head);
    aeadTag(out.data() + len, ks, associatedData, {out.data(), len});
    sodium_memzero(ks, blocks * 64);
}

template <class Isa>
bool openWith(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
              std::span<const std::uint8_t> ciphertext,
              std::span<const std::uint8_t> associatedData) noexcept {
    if (ciphertext.size() < kAeadTagSize) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    const std::size_t len = ciphertext.size() - kAeadTagSize;
    if (out.size() < len) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    const State s(key, nonce);
    alignas(64) std::uint8_t ks[1024];
    const std::size_t blocks = Isa::first(s, len, ks);
    std::uint8_t tag[16];
    aeadTag(tag, ks, associatedData, {ciphertext.data(), len});
    // Only an authentic message is decrypted (§2.8: the tag is checked before anything else).
    if (crypto_verify_16(tag, ciphertext.data() + len) != 0) {
        sodium_memzero(ks, blocks * 64);
        sodium_memzero(out.data(), len);
        return false;
    }
    const std::size_t head = std::min(len, (blocks - 1) * 64);
    Isa::xorFirst(out.data(), ciphertext.data(), ks + 64, head);
    if (len > head)
        Isa::crypt(s, std::uint32_t(blocks), out.data() + head, ciphertext.data() + head,
                   len - head);
    sodium_memzero(ks, blocks * 64);
    return true;
}

constexpr AeadImpl kAvx2{"calnet-avx2", sealWith<Avx2>, openWith<Avx2>};
constexpr AeadImpl kAvx512{"calnet-avx512", sealWith<Avx512>, openWith<Avx512>};

bool hasAvx2() noexcept {
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
bool hasAvx512() noexcept {
    static const bool yes = hasAvx2() && __builtin_cpu_supports("avx512f") &&
                            __builtin_cpu_supports("avx512vl") &&
                            __builtin_cpu_supports("avx512bw");
    return yes;
}

#endif // CALNET_CHACHAPOLY_X86

} // namespace

void poly1305(std::uint8_t tag[16], const std::uint8_t key[32],
              std::span<const std::uint8_t> message) noexcept {
    Poly1305 p(key);
    const std::size_t whole = message.size() / 16;
    p.bulk(message.data(), whole);
    if (const std::size_t rest = message.size() % 16) {
        // §2.5.1: a short last block gets a 0x01 byte after it and no 2^128 bit.
        std::uint8_t last[16] = {};
        std::memcpy(last, message.data() + whole * 16, rest);
        last[rest] = 1;
        p.blocks(last, 1, 0);
    }
    p.finish(tag);
}

const AeadImpl* simdAeadAvx2() noexcept {
#ifdef CALNET_CHACHAPOLY_X86
    return hasAvx2() ? &kAvx2 : nullptr;
#else
    return nullptr;
#endif
}

const AeadImpl* simdAeadAvx512() noexcept {
#ifdef CALNET_CHACHAPOLY_X86
    return hasAvx512() ? &kAvx512 : nullptr;
#else
    return nullptr;
#endif
}

const AeadImpl* simdAead() noexcept {
    if (const AeadImpl* a = simdAeadAvx512())
        return a;
    return simdAeadAvx2();
}

} // namespace calnet::crypto
