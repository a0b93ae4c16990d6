#pragma once
/// The access log's fast path into core/log: one line in write()'s exact format (JSON or
/// text, the same timestamp, level and escaping), without the generic redaction of values
/// the caller knows to hold no secret. A per-request line through write() costs about 26k
/// instructions, most of them redactText() passes over route patterns, numbers and ids the
/// server made itself (bench/http/request_log_bench.cc).
///
/// Use only where every unredacted value is known-safe: produced by the server or taken from
/// configuration that is not secret (a route pattern, a connection or client-key name, a
/// generated id, a peer address, a number). Anything a client chose goes with `redact`.
/// Thread-safe, like write().

#include <span>
#include <string_view>

#include "core/errors.h"

namespace tether::core::log {

/// One field of writeFields(). `raw`: a number, written unquoted in JSON. `redact`: the value
/// goes through redactText() as every value of write() does.
struct LineField {
  std::string_view key;
  std::string_view value;
  bool raw = false;
  bool redact = false;
};

/// A number spelled as write()'s Field spells it (shortest round-trip for a double), on the
/// stack.
class NumberText {
 public:
  explicit NumberText(double v);
  explicit NumberText(long long v);
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[40];
  size_t size_ = 0;
};

/// Writes one line at `level` if enabled. `message` is a constant (written unredacted).
void writeFields(LogLevel level, std::string_view message, std::span<const LineField> fields);

}  // namespace tether::core::log
