#include "store/sql/store_context.h"

#include <fmt/format.h>

#include <chrono>

namespace tether::store::sql {

using core::Errc;
using core::Error;
using core::Status;

int64_t toMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint fromMs(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

std::optional<int64_t> optMs(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return toMs(*t);
}

std::optional<TimePoint> optTime(const Value& v) {
  if (v.isNull()) return std::nullopt;
  return fromMs(v.asInt());
}

std::optional<TimePoint> optTime(const RowView& row, int column) {
  if (row.isNull(column)) return std::nullopt;
  return fromMs(row.integer(column));
}

Error withContext(const Error& e, std::string_view op, std::string_view subject) {
  if (subject.empty()) return Error(e.code, fmt::format("store: {}: {}", op, e.message));
  return Error(e.code, fmt::format("store: {} {}: {}", op, subject, e.message));
}

Status checkKey(const ConnectionKey& key, std::string_view op) {
  if (key.kind.empty() || key.name.empty()) {
    return withContext(Error(Errc::kInvalidArgument, "connection kind and name must not be empty"),
                       op, "");
  }
  if (key.kind.size() > kMaxKeyPart || key.name.size() > kMaxKeyPart) {
    return withContext(Error(Errc::kInvalidArgument, "connection kind or name is too long"), op,
                       "");
  }
  return core::okStatus();
}

Status checkText(std::string_view field, std::string_view value, size_t max) {
  if (value.size() > max) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("{} is too long ({} bytes, at most {})", field, value.size(), max));
  }
  return core::okStatus();
}

Status checkTexts(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  for (const auto& [field, value] : fields) TETHER_TRY(checkText(field, value));
  return core::okStatus();
}

std::string tokenAad(const ConnectionKey& key, std::string_view column) {
  return sealingAad("tokens", {key.kind, key.name}, column);
}
std::string flowAad(std::string_view state_hash, std::string_view column) {
  return sealingAad("pending_flows", {state_hash}, column);
}
std::string clientAad(std::string_view issuer, std::string_view column) {
  return sealingAad("oauth_clients", {issuer}, column);
}
std::string keyCheckAad() { return sealingAad("meta", {"key_check"}, "value"); }

core::Result<std::string> StoreContext::openValue(std::string_view sealed, std::string_view aad,
                                                  std::string_view what) const {
  auto plain = sealer_->open(sealed, aad);
  if (!plain.ok()) {
    return Error(Errc::kCrypto, fmt::format("cannot open {}: {}", what, plain.error().message));
  }
  return plain;
}

}  // namespace tether::store::sql
