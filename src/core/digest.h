#pragma once
/// The one place for SHA-256, HMAC-SHA-256 and comparisons of secrets. Every key check in
/// Tether (admin keys, client keys, session signatures, CSRF tokens) compares digests here,
/// in constant time, so timing never says which byte or which key differed.

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

namespace tether::core {

/// SHA-256 of `data`: 32 raw bytes.
std::string sha256(std::string_view data);

/// SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256Hex(std::string_view data);

/// HMAC-SHA-256 of `data` under `key`: 32 raw bytes.
std::string hmacSha256(std::string_view key, std::string_view data);

/// True when `a` and `b` are equal. The time taken depends on their sizes only, never on
/// where they differ.
bool constantTimeEqual(std::string_view a, std::string_view b);

/// The entry of `items` whose digest (`digest_of(item)`, 32 raw bytes) equals
/// sha256(`presented`), or null. Every entry is compared (no early exit), so the time
/// taken says nothing about which one matched.
template <class Range, class DigestOf>
auto findBySha256(const Range& items, std::string_view presented, DigestOf digest_of)
    -> decltype(&*std::begin(items)) {
  const std::string digest = sha256(presented);
  decltype(&*std::begin(items)) match = nullptr;
  for (const auto& item : items) {
    if (constantTimeEqual(digest_of(item), digest)) match = &item;
  }
  return match;
}

}  // namespace tether::core
