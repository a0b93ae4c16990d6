#pragma once
/// HTTP header list shared by the server and the outbound client: order-preserving,
/// case-insensitive lookup. No Beast or curl types leak through here.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::http {

struct Header {
  std::string name;
  std::string value;
};

using Headers = std::vector<Header>;

/// First value of `name` (case-insensitive), if any.
std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name);

/// Replaces every `name` header by one with `value` (appends when absent).
void setHeader(Headers& headers, std::string_view name, std::string_view value);

/// Removes every `name` header.
void removeHeader(Headers& headers, std::string_view name);

namespace detail {
inline constexpr uint64_t kOnes = 0x0101010101010101ull;
inline constexpr uint64_t kHighBits = 0x8080808080808080ull;
// The high bit of some byte is set when a byte of `v` is zero (and possibly of bytes after
// it, which does not matter for "any").
inline uint64_t zeroByte(uint64_t v) { return (v - kOnes) & ~v & kHighBits; }
inline uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace detail

/// True when `name` may be written as a header name (non-empty; no control characters,
/// spaces, DEL, ':' or non-ASCII bytes). Eight bytes at a time: every header of every
/// proxied message goes through it.
inline bool validHeaderName(std::string_view name) {
  using detail::kHighBits, detail::kOnes;
  const char* p = name.data();
  size_t n = name.size();
  uint64_t bad = 0;
  for (; n >= 8; p += 8, n -= 8) {
    const uint64_t v = detail::load8(p);
    // byte >= 0x80 | byte < 0x21 | byte == 0x7f (a borrow or carry out of a bad byte can
    // only mark later bytes as well).
    bad |= (v | (v - 0x21 * kOnes) | (v + kOnes)) & kHighBits;
    bad |= detail::zeroByte(v ^ (':' * kOnes));
  }
  bool bad_tail = name.empty();
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    bad_tail |= (c <= 0x20) | (c >= 0x7f) | (c == ':');
  }
  return bad == 0 && !bad_tail;
}

/// True when `value` may be written as a header value (no CR, LF or NUL).
inline bool validHeaderValue(std::string_view value) {
  using detail::kOnes;
  const char* p = value.data();
  size_t n = value.size();
  uint64_t bad = 0;
  for (; n >= 8; p += 8, n -= 8) {
    const uint64_t v = detail::load8(p);
    bad |= detail::zeroByte(v) | detail::zeroByte(v ^ ('\r' * kOnes)) |
           detail::zeroByte(v ^ ('\n' * kOnes));
  }
  bool bad_tail = false;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    bad_tail |= (c == '\r') | (c == '\n') | (c == '\0');
  }
  return bad == 0 && !bad_tail;
}

/// Appends `name: value` CRLF to `out` (one resize, no checks: see validHeaderName() and
/// validHeaderValue()).
inline void appendFieldLine(std::string& out, std::string_view name, std::string_view value) {
  const size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

/// Parses `a=1&b=two+words` (form or query) into pairs (core::parseForm: at most
/// core::kMaxFormPairs pairs; malformed escapes keep the raw text).
std::vector<std::pair<std::string, std::string>> parseForm(std::string_view text);

/// First value of `key` in a parsed form.
std::optional<std::string> formValue(const std::vector<std::pair<std::string, std::string>>& form,
                                     std::string_view key);

}  // namespace tether::http
