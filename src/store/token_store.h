#pragma once
/// Sealed OAuth tokens, one row per connection, and the token-change notifications every
/// store on the same database shares. Part of the blocking store API (see store/store.h).

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// RAII registration of a callback; destroying it unsubscribes, waiting for a callback in
/// flight on another thread to return (destroying it from inside the callback is fine).
/// Move-only; may outlive the store.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, {})) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::exchange(other.cancel_, {});
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  void reset() {
    if (cancel_) std::exchange(cancel_, {})();
  }

 private:
  std::function<void()> cancel_;
};

/// Called for every token change, after its commit, on a store-owned thread (the PostgreSQL
/// LISTEN thread, or the SQLite dispatcher thread) — never on the writer's thread, so a
/// writer may hold a lock its callback also takes. Callbacks of one store run one at a
/// time in arrival order; they must be quick and must not block. Do not destroy the
/// Subscription while holding a lock the callback takes.
using TokenChangeCallback = std::function<void(const TokenChange&)>;

/// Sealed OAuth tokens, one row per connection, with compare-and-swap writes.
class TokenStore {
 public:
  virtual ~TokenStore() = default;

  /// The connection's tokens, opened; nullopt when it has none. kCrypto when a sealed
  /// column does not open.
  virtual core::Result<std::optional<TokenRecord>> getToken(const ConnectionKey& key) = 0;

  /// Writes `token` only if the stored version still equals `expected_version` (0: only if
  /// no row exists). Returns the new version; kConflict when the row changed meanwhile.
  virtual core::Result<int64_t> putToken(const TokenRecord& token, int64_t expected_version) = 0;

  /// Deletes the row; with `expected_version`, only while it still has that version
  /// (kConflict otherwise). Returns false when there was no row.
  virtual core::Result<bool> deleteToken(const ConnectionKey& key,
                                         std::optional<int64_t> expected_version) = 0;

  /// Deletes the row only if it still holds `refresh_token`, in one atomic statement that
  /// compares the SHA-256 fingerprint column (the refresh token itself is never stored
  /// in plaintext). Used after an IdP rejected that token: if another refresher rotated
  /// it meanwhile, the row is kept (kTokenChanged).
  virtual core::Result<ConditionalDelete> deleteTokenIfRefreshTokenIs(
      const ConnectionKey& key, std::string_view refresh_token) = 0;

  /// Registers `callback` for token changes made through any store on the same database:
  /// other replicas via PostgreSQL LISTEN/NOTIFY, other `Store` objects on the same SQLite
  /// file in this process. Also called for this store's own writes.
  virtual Subscription subscribeTokenChanges(TokenChangeCallback callback) = 0;
};

}  // namespace tether::store
