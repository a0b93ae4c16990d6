#pragma once
/// Internal: the queries behind store::SessionRevocationStore (table session_revocations,
/// migration 4), written once for both backends. Blocking, like the rest of the store.

#include <cstdint>
#include <string_view>

#include "core/result.h"
#include "store/sql/sql.h"

namespace tether::store::sql {

/// Inserts the revocation (idempotent) and deletes expired ones, in one write transaction.
core::Status revokeSession(Backend& backend, std::string_view session_id, int64_t expires_ms,
                           int64_t now_ms);

/// True while an unexpired revocation of `session_id` is recorded.
core::Result<bool> isSessionRevoked(Backend& backend, std::string_view session_id, int64_t now_ms);

/// Deletes revocations with expires_at <= now; returns how many.
core::Result<int64_t> pruneSessionRevocations(Backend& backend, int64_t now_ms);

}  // namespace tether::store::sql
