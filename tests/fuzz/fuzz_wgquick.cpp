// libFuzzer target for the wg-quick parser and writer (core/config/wgquick.h).
//
// Flow per input: bytes -> parseWgQuick -> result invariants -> if it parsed: writeWgQuick ->
// parseWgQuick again -> the same model, and the written text is a fixed point of write∘parse.
// Invariants checked on every input, valid or not:
//   - a config is returned exactly when there are no errors;
//   - at most kMaxConfigErrors errors plus the one "too many errors" note;
//   - every error names a line that exists (0 = the whole file) and has a non-empty reason;
//   - errors come ordered by line, line 0 last;
//   - no reason holds a run of 40+ base64 characters (the header promises that reasons never
//     contain key material; a 32-byte key is 43-44 base64 characters).
// Any violation aborts, which libFuzzer reports as a crash with the input saved.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config/wgquick.h"

namespace {

// Inputs are capped well below kMaxConfigBytes: the parser is linear, so large inputs only slow
// the fuzzer down; the 1 MiB limit itself is covered by tst_wgquick.
constexpr std::size_t kMaxInputBytes = 64 * 1024;
constexpr std::size_t kKeyMaterialRun = 40;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz_wgquick: invariant violated: %s\n%.*s\n", what,
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

bool isBase64Char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

bool hasKeyMaterialRun(std::string_view text) {
    std::size_t run = 0;
    for (char c : text) {
        run = isBase64Char(c) ? run + 1 : 0;
        if (run >= kKeyMaterialRun)
            return true;
    }
    return false;
}

void checkErrors(const calnet::config::WgQuickParseResult& result, std::string_view text) {
    using calnet::config::kMaxConfigErrors;
    if (result.config.has_value() == !result.errors.empty())
        fail("config present together with errors, or neither");
    if (result.errors.size() > kMaxConfigErrors + 1)
        fail("more errors than kMaxConfigErrors + 1");
    std::size_t lines = 1;
    for (char c : text)
        lines += c == '\n' ? 1 : 0;
    int previous = 1;
    bool seenWholeFile = false;
    for (const auto& error : result.errors) {
        if (error.line < 0 || static_cast<std::size_t>(error.line) > lines)
            fail("error line out of range", error.reason);
        if (error.reason.empty())
            fail("empty error reason");
        if (hasKeyMaterialRun(error.reason))
            fail("error reason looks like key material", error.reason);
        if (error.line == 0) {
            seenWholeFile = true;
        } else {
            if (seenWholeFile || error.line < previous)
                fail("errors not ordered by line, line 0 last", error.reason);
            previous = error.line;
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > kMaxInputBytes)
        return -1; // not added to the corpus
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const auto first = calnet::config::parseWgQuick(text);
    checkErrors(first, text);
    if (!first.config)
        return 0;

    const std::string written = calnet::config::writeWgQuick(*first.config);
    const auto second = calnet::config::parseWgQuick(written);
    if (!second.config) {
        const auto& e = second.errors.front();
        fail("writeWgQuick output does not parse",
             "line " + std::to_string(e.line) + ": " + e.reason + "\n--- written:\n" + written);
    }
    if (!(*second.config == *first.config))
        fail("parse(write(c)) != c", written);
    if (calnet::config::writeWgQuick(*second.config) != written)
        fail("write(parse(write(c))) != write(c)", written);
    return 0;
}
