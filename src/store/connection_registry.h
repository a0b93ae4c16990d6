#pragma once
/// The registry of configured connections and the bulk health view over it. Part of the
/// blocking store API (see store/store.h).

#include <span>
#include <vector>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// The registry of configured connections and the bulk health view over it.
class ConnectionRegistry {
 public:
  virtual ~ConnectionRegistry() = default;

  /// Makes the registry equal to `connections` (upserts them, removes others). Tokens,
  /// state and events of removed connections are kept (they reappear if re-added).
  virtual core::Status syncConnections(std::span<const ConnectionInfo> connections) = 0;

  /// Upserts `upserted` and removes `removed` (absent keys are ignored), in one transaction,
  /// leaving every other row alone: what one change of the running set costs is the
  /// changed rows, not the whole registry. Tokens, state and events are kept as above.
  virtual core::Status updateConnections(std::span<const ConnectionInfo> upserted,
                                         std::span<const ConnectionKey> removed) = 0;

  virtual core::Result<std::vector<ConnectionInfo>> listConnections() = 0;

  /// One row per registered connection (ordered by key), from a single query however many
  /// connections exist.
  virtual core::Result<std::vector<HealthRow>> bulkHealth() = 0;

  /// bulkHealth's rows for `keys` only (at most 500; unregistered keys are left out), from
  /// one query of primary-key lookups: a searched list page. kInvalidArgument past 500.
  virtual core::Result<std::vector<HealthRow>> healthOf(std::span<const ConnectionKey> keys) = 0;

  /// Records when proxied calls last reached connections, in one transaction (statements of
  /// up to 200 rows); an older time than the stored one is ignored. Keys need not be
  /// registered.
  virtual core::Status recordLastUse(std::span<const LastUse> uses) = 0;

  /// Records a connect flow's outcome: a failure (kept until a later completion) or a
  /// completion with the consenting account (clearing the failure).
  virtual core::Status recordConnectOutcome(const ConnectOutcome& outcome) = 0;

  /// The connection's activity record (all empty when none was written).
  virtual core::Result<ConnectionActivity> activity(const ConnectionKey& key) = 0;
};

}  // namespace tether::store
