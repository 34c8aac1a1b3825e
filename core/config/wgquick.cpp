// wg-quick configuration parser and writer.
//
// Parsing flow, one pass over the text:
//   size check -> strip BOM -> per line: length / control-character checks -> cut '#' comment ->
//   trim -> "[Section]" header or "Key = value" -> key table lookup (case-insensitive) ->
//   duplicate check -> per-key value parser into the model.
// After the last line, whole-file checks run: every peer has a PublicKey, no two peers share one,
// there is an [Interface] with a PrivateKey, and the MTU suits IPv6 when an IPv6 Address is set.
// Errors never stop the pass (up to kMaxConfigErrors), so one run reports everything.
//
// Values come from wg(8) (src/config.c) and wg-quick(8) (src/wg-quick/linux.bash) as documented
// in their man pages; the strictness decisions are listed in wgquick.h.
#include "core/config/wgquick.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <map>
#include <utility>

#include <sodium/utils.h>

#include "core/config/keyencoding.h"

namespace calnet::config {

namespace {

enum class Section : std::uint8_t { Interface, Peer };

enum class Key : std::uint8_t {
    PrivateKey,
    ListenPort,
    FwMark,
    Address,
    Dns,
    Mtu,
    Table,
    PreUp,
    PostUp,
    PreDown,
    PostDown,
    SaveConfig,
    PublicKey,
    PresharedKey,
    AllowedIps,
    Endpoint,
    PersistentKeepalive,
    Count
};

struct KeyInfo {
    Key key;
    std::string_view name; // canonical spelling, used in messages and by the writer
    Section section;
    bool repeatable; // list keys accumulate; every other key may appear once per section
};

constexpr std::array<KeyInfo, static_cast<std::size_t>(Key::Count)> kKeys{{
    {Key::PrivateKey, "PrivateKey", Section::Interface, false},
    {Key::ListenPort, "ListenPort", Section::Interface, false},
    {Key::FwMark, "FwMark", Section::Interface, false},
    {Key::Address, "Address", Section::Interface, true},
    {Key::Dns, "DNS", Section::Interface, true},
    {Key::Mtu, "MTU", Section::Interface, false},
    {Key::Table, "Table", Section::Interface, false},
    {Key::PreUp, "PreUp", Section::Interface, true},
    {Key::PostUp, "PostUp", Section::Interface, true},
    {Key::PreDown, "PreDown", Section::Interface, true},
    {Key::PostDown, "PostDown", Section::Interface, true},
    {Key::SaveConfig, "SaveConfig", Section::Interface, false},
    {Key::PublicKey, "PublicKey", Section::Peer, false},
    {Key::PresharedKey, "PresharedKey", Section::Peer, false},
    {Key::AllowedIps, "AllowedIPs", Section::Peer, true},
    {Key::Endpoint, "Endpoint", Section::Peer, false},
    {Key::PersistentKeepalive, "PersistentKeepalive", Section::Peer, false},
}};

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr char kNotAPrefix[] =
    " is not an IP address with an optional /prefix length (0-32 for IPv4, 0-128 for IPv6)";

bool isSpace(char c) {
    return c == ' ' || c == '\t';
}
bool isDigit(char c) {
    return c >= '0' && c <= '9';
}
bool isAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isBase64Char(char c) {
    return isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=';
}

char toLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (toLower(a[i]) != toLower(b[i]))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isSpace(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back()))
        s.remove_suffix(1);
    return s;
}

const KeyInfo* findKey(std::string_view name) {
    for (const KeyInfo& info : kKeys)
        if (equalsIgnoreCase(info.name, name))
            return &info;
    return nullptr;
}

std::string_view sectionName(Section s) {
    return s == Section::Interface ? "[Interface]" : "[Peer]";
}

// Text from the file quoted into a message. Anything with a long base64/hex-looking run is
// withheld: a key pasted onto the wrong line must not end up in a log.
std::string quoted(std::string_view text) {
    std::size_t run = 0;
    for (char c : text) {
        run = isBase64Char(c) ? run + 1 : 0;
        if (run >= 40)
            return "(value withheld: it looks like key material)";
    }
    constexpr std::size_t kMaxShown = 64;
    std::string out = "'";
    out += text.substr(0, kMaxShown);
    if (text.size() > kMaxShown)
        out += "...";
    out += "'";
    return out;
}

// Decimal without sign or leading zeros (iproute2 would read "01420" as octal), at most `max`.
std::optional<std::uint64_t> parseDecimal(std::string_view text, std::uint64_t max) {
    if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0'))
        return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (!isDigit(c))
            return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value > max)
        return std::nullopt;
    return value;
}

// wg(8): "off", decimal, or hexadecimal with a lowercase "0x" prefix; 32 bits.
std::optional<std::uint32_t> parseFwMark(std::string_view text) {
    if (equalsIgnoreCase(text, "off"))
        return 0;
    if (text.size() > 2 && text.starts_with("0x")) {
        std::uint32_t value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, ec] = std::from_chars(text.data() + 2, end, value, 16);
        if (ec != std::errc{} || stop != end)
            return std::nullopt; // not hex, or over 32 bits
        return value;
    }
    auto value = parseDecimal(text, UINT32_MAX);
    if (!value)
        return std::nullopt;
    return static_cast<std::uint32_t>(*value);
}

// Table: "off", "auto", a table number, or a name from iproute2's rt_tables.
bool isValidTable(std::string_view text) {
    if (text == "off" || text == "auto")
        return true;
    if (isDigit(text.front()))
        return parseDecimal(text, UINT32_MAX).has_value();
    if (!isAlpha(text.front()) || text.size() > 64)
        return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return isAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.';
    });
}

enum class ListResult : std::uint8_t { Ok, EmptyEntry, Stopped };

// Calls fn(entry) for each entry of a list value until fn returns false. wg(8) splits
// AllowedIPs on commas only; wg-quick(8) word-splits Address and DNS on commas and whitespace
// (spaceSeparates). An empty value is an empty list ("AllowedIPs =" clears the list in wg), but
// an empty entry such as the middle of "a,,b" or the end of "a," is refused as a likely typo.
template <typename Fn>
ListResult forEachListEntry(std::string_view value, bool spaceSeparates, Fn&& fn) {
    if (value.empty())
        return ListResult::Ok;
    while (true) {
        const std::size_t comma = value.find(',');
        std::string_view part = trim(value.substr(0, comma));
        if (part.empty())
            return ListResult::EmptyEntry;
        while (!part.empty()) {
            std::size_t end = 0;
            while (end < part.size() && !(spaceSeparates && isSpace(part[end])))
                ++end;
            if (!fn(part.substr(0, end)))
                return ListResult::Stopped;
            part = trim(part.substr(end));
        }
        if (comma == std::string_view::npos)
            return ListResult::Ok;
        value = value.substr(comma + 1);
    }
}

struct KeyLines {
    std::array<int, static_cast<std::size_t>(Key::Count)> line{}; // 0 = not seen yet

    int& operator[](Key k) { return line[static_cast<std::size_t>(k)]; }
};

class Parser {
public:
    WgQuickParseResult run(std::string_view text) {
        if (text.size() > kMaxConfigBytes) {
            error(0, "the file is larger than 1 MiB");
            return finish();
        }
        if (text.substr(0, kBom.size()) == kBom)
            text.remove_prefix(kBom.size());

        int number = 0;
        std::size_t pos = 0;
        while (pos < text.size() && !full()) {
            const std::size_t newline = text.find('\n', pos);
            const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
            ++number;
            processLine(number, text.substr(pos, end - pos));
            pos = end + 1;
        }
        if (!full())
            checkWholeFile();
        return finish();
    }

private:
    enum class State : std::uint8_t { None, Interface, DuplicateInterface, Peer, UnknownSection };

    struct PeerState {
        int headerLine = 0;
        KeyLines keys;
        bool publicKeyValid = false;
    };

    [[nodiscard]] bool full() const { return errors_.size() >= kMaxConfigErrors; }

    void error(int line, std::string reason) {
        if (full())
            return;
        errors_.push_back({line, std::move(reason)});
        if (full())
            errors_.push_back(
                {0, "too many errors; stopped after " + std::to_string(kMaxConfigErrors)});
    }

    void processLine(int number, std::string_view line) {
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1); // CRLF
        if (line.size() > kMaxConfigLineLength) {
            error(number, "the line is longer than " + std::to_string(kMaxConfigLineLength) +
                              " characters");
            return;
        }
        for (char c : line) {
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f) {
                static constexpr char kHex[] = "0123456789abcdef";
                error(number, std::string("the line contains a control character (0x") +
                                  kHex[u >> 4] + kHex[u & 0xf] + ")");
                return;
            }
        }
        // '#' starts a comment anywhere, in wg(8) and wg-quick(8) alike.
        line = trim(line.substr(0, line.find('#')));
        if (line.empty())
            return;
        if (line.front() == '[') {
            processSection(number, line);
            return;
        }
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            error(number, "expected 'Key = value' or a [Section] header, but there is no '='");
            return;
        }
        processKey(number, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
    }

    void processSection(int number, std::string_view line) {
        const std::size_t close = line.find(']');
        if (close == std::string_view::npos) {
            error(number, "the section header has no closing ']'");
            state_ = State::UnknownSection;
            return;
        }
        const std::string_view name = line.substr(1, close - 1);
        if (close + 1 != line.size()) {
            error(number, "unexpected text after the section header");
            state_ = State::UnknownSection;
            return;
        }
        if (equalsIgnoreCase(name, "Interface")) {
            if (interfaceLine_ != 0) {
                error(number, "a second [Interface] section (the first is on line " +
                                  std::to_string(interfaceLine_) + ")");
                // Its keys are still checked, into a model that is thrown away.
                scratch_ = WgQuickInterface{};
                scratchKeys_ = KeyLines{};
                state_ = State::DuplicateInterface;
                return;
            }
            interfaceLine_ = number;
            state_ = State::Interface;
            return;
        }
        if (equalsIgnoreCase(name, "Peer")) {
            config_.peers.emplace_back();
            peers_.push_back({number, KeyLines{}, false});
            state_ = State::Peer;
            return;
        }
        error(number, "unknown section " + quoted(line) + "; expected [Interface] or [Peer]");
        state_ = State::UnknownSection; // its keys would only repeat the same error
    }

    void processKey(int number, std::string_view name, std::string_view value) {
        if (state_ == State::UnknownSection)
            return;
        const KeyInfo* info = findKey(name);
        if (state_ == State::None) {
            error(number, (info ? std::string(info->name) : describeUnknownKey(name)) +
                              " appears before any [Interface] or [Peer] section");
            return;
        }
        const Section here = state_ == State::Peer ? Section::Peer : Section::Interface;
        if (!info) {
            error(number,
                  "unknown " + describeUnknownKey(name) + " in " + std::string(sectionName(here)));
            return;
        }
        if (info->section != here) {
            error(number, std::string(info->name) + " belongs in " +
                              std::string(sectionName(info->section)) + ", not in " +
                              std::string(sectionName(here)));
            return;
        }
        KeyLines& seen = state_ == State::Peer        ? peers_.back().keys
                         : state_ == State::Interface ? interfaceKeys_
                                                      : scratchKeys_;
        if (!info->repeatable && seen[info->key] != 0) {
            error(number, "duplicate " + std::string(info->name) + " (first given on line " +
                              std::to_string(seen[info->key]) + ")");
            return;
        }
        seen[info->key] = number;

        if (here == Section::Interface)
            interfaceValue(number, *info, value,
                           state_ == State::Interface ? config_.interface : scratch_);
        else
            peerValue(number, *info, value, config_.peers.back());
    }

    static std::string describeUnknownKey(std::string_view name) {
        const bool plain =
            !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
                return isAlpha(c) || isDigit(c) || c == '_' || c == '-';
            });
        if (plain)
            return "key '" + std::string(name) + "'";
        return name.empty() ? std::string("empty key") : "key " + quoted(name);
    }

    void interfaceValue(int number, const KeyInfo& info, std::string_view value,
                        WgQuickInterface& iface) {
        if (value.empty() && info.key != Key::Address && info.key != Key::Dns) {
            error(number, std::string(info.name) + " has no value");
            return;
        }
        switch (info.key) {
        case Key::PrivateKey: {
            crypto::PrivateKey key;
            if (!decodeKeyBase64Into(value, key.span())) {
                error(number, "PrivateKey is not a valid key (expected 44 base64 characters "
                              "ending in '=', as `wg genkey` prints)");
                return;
            }
            if (key.isZero()) {
                error(number, "PrivateKey is all zeros");
                return;
            }
            iface.privateKey = std::move(key);
            return;
        }
        case Key::ListenPort: {
            auto port = parseDecimal(value, 65535);
            if (!port) {
                error(number, "ListenPort " + quoted(value) + " is not a number 0-65535");
                return;
            }
            if (*port != 0)
                iface.listenPort = static_cast<std::uint16_t>(*port);
            return;
        }
        case Key::FwMark: {
            auto mark = parseFwMark(value);
            if (!mark) {
                error(number, "FwMark " + quoted(value) +
                                  " is neither off nor a number 0-4294967295 (decimal or 0x hex)");
                return;
            }
            if (*mark != 0)
                iface.fwMark = *mark;
            return;
        }
        case Key::Address: {
            const ListResult r = forEachListEntry(value, true, [&](std::string_view entry) {
                auto prefix = net::IpPrefix::parse(entry);
                if (!prefix) {
                    error(number, "Address " + quoted(entry) + kNotAPrefix);
                    return false;
                }
                iface.addresses.push_back(*prefix);
                return true;
            });
            if (r == ListResult::EmptyEntry)
                error(number, "Address has an empty entry in its comma-separated list");
            return;
        }
        case Key::Dns: {
            const ListResult r = forEachListEntry(value, true, [&](std::string_view entry) {
                if (auto address = net::IpAddress::parse(entry)) {
                    iface.dnsServers.push_back(*address);
                    return true;
                }
                // wg-quick treats digits-and-dots or anything with ':' as a server address.
                const bool looksLikeAddress = entry.find(':') != std::string_view::npos ||
                                              std::all_of(entry.begin(), entry.end(), [](char c) {
                                                  return isDigit(c) || c == '.';
                                              });
                if (looksLikeAddress) {
                    error(number, "DNS " + quoted(entry) + " is not a valid IP address");
                    return false;
                }
                if (!net::isValidHostname(entry)) {
                    error(number,
                          "DNS " + quoted(entry) + " is neither an IP address nor a domain name");
                    return false;
                }
                iface.dnsSearch.emplace_back(entry);
                return true;
            });
            if (r == ListResult::EmptyEntry)
                error(number, "DNS has an empty entry in its comma-separated list");
            return;
        }
        case Key::Mtu: {
            auto mtu = parseDecimal(value, kMaxMtu);
            if (!mtu || *mtu < kMinMtu) {
                error(number, "MTU " + quoted(value) + " is not a number " +
                                  std::to_string(kMinMtu) + "-" + std::to_string(kMaxMtu));
                return;
            }
            iface.mtu = static_cast<std::uint32_t>(*mtu);
            return;
        }
        case Key::Table: {
            if (equalsIgnoreCase(value, "off") || equalsIgnoreCase(value, "auto")) {
                if (value != "off" && value != "auto") {
                    // wg-quick compares these case-sensitively after parsing, so "Off" would
                    // be taken for a table name.
                    error(number,
                          "Table " + quoted(value) + " must be written in lowercase (off or auto)");
                    return;
                }
            } else if (!isValidTable(value)) {
                error(number, "Table " + quoted(value) +
                                  " is not off, auto, a table number or a table name");
                return;
            }
            iface.table = std::string(value);
            return;
        }
        case Key::PreUp:
        case Key::PostUp:
        case Key::PreDown:
        case Key::PostDown:
            (info.key == Key::PreUp     ? iface.preUp
             : info.key == Key::PostUp  ? iface.postUp
             : info.key == Key::PreDown ? iface.preDown
                                        : iface.postDown)
                .emplace_back(value); // verbatim: wg-quick hands it to bash, "%i" and all
            return;
        case Key::SaveConfig:
            if (equalsIgnoreCase(value, "true")) {
                iface.saveConfig = true;
            } else if (equalsIgnoreCase(value, "false")) {
                iface.saveConfig = false;
            } else {
                error(number, "SaveConfig " + quoted(value) + " is neither true nor false");
            }
            return;
        default:
            return;
        }
    }

    void peerValue(int number, const KeyInfo& info, std::string_view value, WgQuickPeer& peer) {
        if (value.empty() && info.key != Key::AllowedIps) {
            error(number, std::string(info.name) + " has no value");
            return;
        }
        switch (info.key) {
        case Key::PublicKey: {
            if (!decodeKeyBase64Into(value, peer.publicKey)) {
                error(number, "PublicKey is not a valid key (expected 44 base64 characters "
                              "ending in '=', as `wg pubkey` prints)");
                return;
            }
            if (sodium_is_zero(peer.publicKey.data(), peer.publicKey.size())) {
                error(number, "PublicKey is all zeros");
                return;
            }
            peers_.back().publicKeyValid = true;
            return;
        }
        case Key::PresharedKey: {
            crypto::Secret<32> key;
            if (!decodeKeyBase64Into(value, key.span())) {
                error(number, "PresharedKey is not a valid key (expected 44 base64 characters "
                              "ending in '=', as `wg genpsk` prints)");
                return;
            }
            // All zeros is the protocol's value for "no preshared key" (whitepaper §5.4.2).
            if (!key.isZero())
                peer.presharedKey = std::move(key);
            return;
        }
        case Key::AllowedIps: {
            const ListResult r = forEachListEntry(value, false, [&](std::string_view entry) {
                auto prefix = net::IpPrefix::parse(entry);
                if (!prefix) {
                    error(number, "AllowedIPs " + quoted(entry) + kNotAPrefix);
                    return false;
                }
                peer.allowedIps.push_back(*prefix);
                return true;
            });
            if (r == ListResult::EmptyEntry)
                error(number, "AllowedIPs has an empty entry in its comma-separated list");
            return;
        }
        case Key::Endpoint: {
            auto endpoint = net::EndpointSpec::parse(value);
            if (!endpoint) {
                error(number, "Endpoint " + quoted(value) +
                                  " is not host:port or [IPv6]:port with a port 1-65535");
                return;
            }
            peer.endpoint = std::move(*endpoint);
            return;
        }
        case Key::PersistentKeepalive: {
            std::optional<std::uint64_t> seconds;
            if (equalsIgnoreCase(value, "off"))
                seconds = 0;
            else
                seconds = parseDecimal(value, 65535);
            if (!seconds) {
                error(number, "PersistentKeepalive " + quoted(value) +
                                  " is neither off nor a number 0-65535");
                return;
            }
            if (*seconds != 0)
                peer.persistentKeepalive = static_cast<std::uint16_t>(*seconds);
            return;
        }
        default:
            return;
        }
    }

    void checkWholeFile() {
        std::map<crypto::PublicKey, std::size_t> byKey;
        for (std::size_t i = 0; i < peers_.size(); ++i) {
            const int keyLine = peers_[i].keys[Key::PublicKey];
            if (keyLine == 0) {
                error(peers_[i].headerLine, "[Peer] has no PublicKey");
                continue;
            }
            if (!peers_[i].publicKeyValid)
                continue; // already reported on its line
            auto [it, inserted] = byKey.emplace(config_.peers[i].publicKey, i);
            if (!inserted)
                error(keyLine, "PublicKey is the same as that of the [Peer] on line " +
                                   std::to_string(peers_[it->second].headerLine));
        }

        if (interfaceLine_ == 0) {
            error(0, "there is no [Interface] section");
        } else if (interfaceKeys_[Key::PrivateKey] == 0) {
            error(0, "[Interface] has no PrivateKey");
        }

        const WgQuickInterface& iface = config_.interface;
        if (iface.mtu && *iface.mtu < kMinMtuIpv6) {
            auto v6 = std::find_if(
                iface.addresses.begin(), iface.addresses.end(),
                [](const net::IpPrefix& p) { return p.address.family == net::Family::V6; });
            if (v6 != iface.addresses.end())
                error(interfaceKeys_[Key::Mtu],
                      "MTU " + std::to_string(*iface.mtu) + " is below " +
                          std::to_string(kMinMtuIpv6) +
                          ", the IPv6 minimum (RFC 8200 §5), but Address has " + v6->toString());
        }
    }

    WgQuickParseResult finish() {
        std::stable_sort(errors_.begin(), errors_.end(),
                         [](const ConfigError& a, const ConfigError& b) {
                             const int la = a.line == 0 ? INT_MAX : a.line;
                             const int lb = b.line == 0 ? INT_MAX : b.line;
                             return la < lb;
                         });
        WgQuickParseResult result;
        if (errors_.empty())
            result.config = std::move(config_);
        result.errors = std::move(errors_);
        return result;
    }

    State state_ = State::None;
    WgQuickConfig config_;
    int interfaceLine_ = 0;
    KeyLines interfaceKeys_;
    WgQuickInterface scratch_; // a rejected second [Interface]
    KeyLines scratchKeys_;
    std::vector<PeerState> peers_; // parallel to config_.peers
    std::vector<ConfigError> errors_;
};

// Cuts a string field to what one config line can hold (see writeWgQuick in the header).
std::string_view writable(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (s[i] == '#' || (u < 0x20 && s[i] != '\t') || u == 0x7f) {
            s = s.substr(0, i);
            break;
        }
    }
    return trim(s);
}

// The entries of a list key as text, dropping any that come out empty.
template <typename T, typename Fn>
void collect(std::vector<std::string>& parts, const std::vector<T>& items, Fn&& toText) {
    for (const T& item : items)
        if (std::string text = toText(item); !text.empty())
            parts.push_back(std::move(text));
}

void appendLine(std::string& out, std::string_view key, std::string_view value) {
    out += key;
    out += " = ";
    out += value;
    out += '\n';
}

// "Key = a, b, c" on one line; nothing for an empty list.
void appendListLine(std::string& out, std::string_view key, const std::vector<std::string>& parts) {
    std::string value;
    for (const std::string& part : parts)
        value += (value.empty() ? "" : ", ") + part;
    if (!value.empty())
        appendLine(out, key, value);
}

std::string prefixText(const net::IpPrefix& p) {
    return p.toString();
}

} // namespace

bool operator==(const WgQuickInterface& a, const WgQuickInterface& b) {
    const bool keysEqual = a.privateKey.has_value() == b.privateKey.has_value() &&
                           (!a.privateKey || a.privateKey->equals(*b.privateKey));
    return keysEqual && a.listenPort == b.listenPort && a.fwMark == b.fwMark &&
           a.addresses == b.addresses && a.dnsServers == b.dnsServers &&
           a.dnsSearch == b.dnsSearch && a.mtu == b.mtu && a.table == b.table &&
           a.preUp == b.preUp && a.postUp == b.postUp && a.preDown == b.preDown &&
           a.postDown == b.postDown && a.saveConfig == b.saveConfig;
}

bool operator==(const WgQuickPeer& a, const WgQuickPeer& b) {
    const bool pskEqual = a.presharedKey.has_value() == b.presharedKey.has_value() &&
                          (!a.presharedKey || a.presharedKey->equals(*b.presharedKey));
    return pskEqual && a.publicKey == b.publicKey && a.allowedIps == b.allowedIps &&
           a.endpoint == b.endpoint && a.persistentKeepalive == b.persistentKeepalive;
}

bool operator==(const WgQuickConfig& a, const WgQuickConfig& b) {
    return a.interface == b.interface && a.peers == b.peers;
}

WgQuickParseResult parseWgQuick(std::string_view text) {
    return Parser{}.run(text);
}

std::string writeWgQuick(const WgQuickConfig& config) {
    // Secret keys are written last, into placeholders, once the string has stopped growing: a
    // reallocation after a key was in the buffer would leave an unwiped copy in freed memory.
    struct SecretSlot {
        std::size_t offset;
        const crypto::Secret<32>* key;
    };
    std::vector<SecretSlot> secrets;
    const std::string placeholder(kKeyBase64Length, '=');

    std::string out;
    const WgQuickInterface& iface = config.interface;
    out += "[Interface]\n";
    if (iface.privateKey) {
        out += "PrivateKey = ";
        secrets.push_back({out.size(), &*iface.privateKey});
        out += placeholder;
        out += '\n';
    }
    if (iface.listenPort && *iface.listenPort != 0)
        appendLine(out, "ListenPort", std::to_string(*iface.listenPort));
    if (iface.fwMark && *iface.fwMark != 0) {
        char hex[8];
        const auto [end, ec] = std::to_chars(hex, hex + sizeof hex, *iface.fwMark, 16);
        appendLine(out, "FwMark", "0x" + std::string(hex, end));
    }
    std::vector<std::string> parts;
    collect(parts, iface.addresses, prefixText);
    appendListLine(out, "Address", parts);
    parts.clear();
    collect(parts, iface.dnsServers, [](const net::IpAddress& a) { return a.toString(); });
    collect(parts, iface.dnsSearch, [](const std::string& d) { return std::string(writable(d)); });
    appendListLine(out, "DNS", parts);
    if (iface.mtu)
        appendLine(out, "MTU", std::to_string(*iface.mtu));
    if (iface.table && !writable(*iface.table).empty())
        appendLine(out, "Table", writable(*iface.table));
    const std::pair<std::string_view, const std::vector<std::string>*> hooks[] = {
        {"PreUp", &iface.preUp},
        {"PostUp", &iface.postUp},
        {"PreDown", &iface.preDown},
        {"PostDown", &iface.postDown},
    };
    for (const auto& [key, commands] : hooks)
        for (const std::string& command : *commands)
            if (!writable(command).empty())
                appendLine(out, key, writable(command));
    if (iface.saveConfig)
        appendLine(out, "SaveConfig", "true");

    for (const WgQuickPeer& peer : config.peers) {
        out += "\n[Peer]\n";
        appendLine(out, "PublicKey", encodeKeyBase64(peer.publicKey));
        if (peer.presharedKey && !peer.presharedKey->isZero()) {
            out += "PresharedKey = ";
            secrets.push_back({out.size(), &*peer.presharedKey});
            out += placeholder;
            out += '\n';
        }
        parts.clear();
        collect(parts, peer.allowedIps, prefixText);
        appendListLine(out, "AllowedIPs", parts);
        if (peer.endpoint)
            appendLine(out, "Endpoint", writable(peer.endpoint->toString()));
        if (peer.persistentKeepalive && *peer.persistentKeepalive != 0)
            appendLine(out, "PersistentKeepalive", std::to_string(*peer.persistentKeepalive));
    }

    for (const SecretSlot& slot : secrets)
        encodeKeyBase64Into(slot.key->span(), std::span<char, kKeyBase64Length>(
                                                  out.data() + slot.offset, kKeyBase64Length));
    return out;
}

} // namespace calnet::config
