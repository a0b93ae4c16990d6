#pragma once
/// Internal to the store module: what every part of the SQL store shares (the database,
/// the sealer, the clock) and the helpers its queries have in common: times as epoch
/// milliseconds, argument checks, error context, the sealing AADs, transactions.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.h"
#include "core/result.h"
#include "store/sealer.h"
#include "store/sql/sql.h"
#include "store/types.h"

namespace tether::store::sql {

inline constexpr size_t kMaxKeyPart = 256;
inline constexpr size_t kMaxText = 4096;
inline constexpr size_t kMaxDetail = 16 * 1024;
inline constexpr int kMaxListLimit = 100'000;

/// Times are stored as milliseconds since the Unix epoch.
int64_t toMs(TimePoint t);
TimePoint fromMs(int64_t ms);
std::optional<int64_t> optMs(const std::optional<TimePoint>& t);
std::optional<TimePoint> optTime(const Value& v);
std::optional<TimePoint> optTime(const RowView& row, int column);

/// The error with its message prefixed "store: <op> <subject>: " ("store: <op>: " when
/// `subject` is empty); the code is kept.
core::Error withContext(const core::Error& e, std::string_view op, std::string_view subject);

/// Runs `body` (returning a Status or a Result) and returns its outcome, a failure with
/// `withContext(op, subject)` applied. Lets an operation's body propagate with TETHER_TRY
/// and still name the operation once.
template <class F>
auto annotated(std::string_view op, std::string_view subject, F&& body) -> decltype(body()) {
  auto result = body();
  if (!result.ok()) return withContext(result.error(), op, subject);
  return result;
}

/// kInvalidArgument ("store: <op>: ...") for an empty or oversized kind or name.
core::Status checkKey(const ConnectionKey& key, std::string_view op);

/// kInvalidArgument naming `field` when `value` is longer than `max` bytes.
core::Status checkText(std::string_view field, std::string_view value, size_t max = kMaxText);

/// checkText over (field, value) pairs; the first failure.
core::Status checkTexts(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

/// Sealing associated data of each sealed column (see sealingAad).
std::string tokenAad(const ConnectionKey& key, std::string_view column);
std::string flowAad(std::string_view state_hash, std::string_view column = "pkce_verifier");
std::string clientAad(std::string_view issuer, std::string_view column);
std::string keyCheckAad();
inline constexpr std::string_view kKeyCheckPlaintext = "tether-key-check-v1";

/// The database, sealer and clock of one open store, shared by its parts (which hold a
/// reference; the store owns the context and outlives them). Thread-safe.
class StoreContext {
 public:
  StoreContext(std::unique_ptr<Backend> backend, std::shared_ptr<const Sealer> sealer,
               const core::Clock& clock)
      : backend_(std::move(backend)), sealer_(std::move(sealer)), clock_(clock) {}

  Backend& backend() const { return *backend_; }
  const Sealer& sealer() const { return *sealer_; }
  const core::Clock& clock() const { return clock_; }
  /// The store clock's wall time, in stored form.
  int64_t nowMs() const { return toMs(clock_.now()); }

  /// Opens a sealed value; kCrypto "cannot open <what>: ..." when it does not open.
  core::Result<std::string> openValue(std::string_view sealed, std::string_view aad,
                                      std::string_view what) const;

  /// Runs `fn(session)` in a write transaction on the writer: commit when it succeeds,
  /// roll back when it fails.
  template <class F>
  auto inTransaction(F&& fn) -> decltype(fn(std::declval<Session&>())) {
    using R = decltype(fn(std::declval<Session&>()));
    auto lease = backend_->writer();
    if (!lease.ok()) return R(std::move(lease).takeError());
    Session& s = **lease;
    return sql::inTransaction(s, backend_->beginSql(), [&]() -> R { return fn(s); });
  }

 private:
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<const Sealer> sealer_;
  const core::Clock& clock_;
};

}  // namespace tether::store::sql
