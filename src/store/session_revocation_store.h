#pragma once
/// Signed-out portal sessions. Part of the blocking store API (see store/store.h).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// Signed-out portal sessions, shared by every store on the database: a sign-out holds
/// after a restart and on every replica. Ids are the sessions' random nonces (at most
/// kMaxSessionIdBytes); only sessions whose signature was checked belong here.
class SessionRevocationStore {
 public:
  static constexpr size_t kMaxSessionIdBytes = 128;

  virtual ~SessionRevocationStore() = default;

  /// Records that the session is signed out until `expires_at` (the session's own expiry;
  /// after it the cookie is refused anyway). Idempotent. Also deletes every revocation
  /// whose expiry passed (store clock), so the table holds at most one session lifetime
  /// of sign-outs. kInvalidArgument for an empty or too long id.
  virtual core::Status revokeSession(std::string_view session_id, TimePoint expires_at) = 0;

  /// True while a revocation of the session is recorded and unexpired.
  virtual core::Result<bool> isSessionRevoked(std::string_view session_id) = 0;

  /// Deletes expired revocations; returns how many.
  virtual core::Result<int64_t> pruneSessionRevocations() = 0;
};

}  // namespace tether::store
