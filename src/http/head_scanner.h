#pragma once
/// A fast path for the HTTP/1.x message heads that nearly every request and answer has:
/// one pass over bytes already buffered, no allocation. It accepts only a strict, plain
/// subset and otherwise answers kFallback, so the caller parses the message with the full
/// parser (Beast) instead, which then decides; for a head it accepts, it yields what that
/// parser would (fields trimmed, Content-Length, keep-alive).
///
/// Accepted: `METHOD SP target SP HTTP/1.x CRLF` (method a token, target printable ASCII)
/// or `HTTP/1.x SP ddd SP reason CRLF`; fields `token ":" *SP value *SP CRLF` with values of
/// printable ASCII and spaces; one Content-Length of plain digits; Connection tokens. Sent
/// to the fallback: anything else, among it obs-fold, HTAB, non-ASCII or control bytes,
/// bare LF, Transfer-Encoding, Upgrade, a repeated or list-valued Content-Length,
/// Connection: upgrade, more than kMaxScannedFields fields, a head longer than the limit.
/// Pure functions; thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tether::http {

inline constexpr size_t kMaxScannedFields = 48;

struct ScannedField {
  std::string_view name;
  std::string_view value;  // without surrounding spaces
};

/// Views into the scanned bytes: valid while they are.
struct ScannedHead {
  std::string_view method;  // requests
  std::string_view target;  // requests
  int status = 0;           // responses
  unsigned version = 11;    // 10 or 11
  std::optional<uint64_t> content_length;
  bool connection_close = false;       // a Connection token "close"
  bool connection_keep_alive = false;  // a Connection token "keep-alive"
  size_t host_fields = 0;              // how many Host fields the head has
  size_t size = 0;                     // bytes of the head, its blank line included
  std::array<ScannedField, kMaxScannedFields> fields;
  size_t field_count = 0;

  /// Whether the connection stays open after this message (HTTP/1.1 unless "close",
  /// HTTP/1.0 only with "keep-alive"), as Beast's keep_alive() for a framed message.
  bool keepAlive() const { return version >= 11 ? !connection_close : connection_keep_alive; }
};

enum class ScanResult {
  kOk,        // `head` describes the head at the start of the bytes
  kFallback,  // incomplete, longer than the limit, or outside the accepted subset
};

/// Scans a request head at the start of `data` (at most `limit` bytes of head).
ScanResult scanRequestHead(std::string_view data, size_t limit, ScannedHead& head);

/// Scans a response head at the start of `data` (at most `limit` bytes of head).
ScanResult scanResponseHead(std::string_view data, size_t limit, ScannedHead& head);

}  // namespace tether::http
