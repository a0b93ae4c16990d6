#pragma once
/// Connection lifecycle state and the keeper's indexed due set. Part of the blocking store
/// API (see store/store.h).

#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// Connection lifecycle state and the keeper's indexed due set.
class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual core::Result<std::optional<StateRecord>> getState(const ConnectionKey& key) = 0;

  /// Creates or replaces the state row (all fields, next_due_at included). Leaves a
  /// keeper claim on the row in place.
  virtual core::Status putState(const StateRecord& state) = 0;

  /// Sets (or clears, with nullopt) only next_due_at, creating a not_connected row if none.
  virtual core::Status setNextDue(const ConnectionKey& key, std::optional<TimePoint> due) = 0;

  /// Connections with next_due_at <= `until`, earliest first (ties by kind, name), at most
  /// `limit`. Served from an index, never a full scan.
  virtual core::Result<std::vector<DueConnection>> dueConnections(TimePoint until, int limit) = 0;

  /// Like dueConnections, but atomically claims the rows for `owner` for `lease` (from the
  /// store clock's now) and skips rows another owner holds an unexpired claim on, so each
  /// due connection goes to exactly one replica (PostgreSQL: FOR UPDATE SKIP LOCKED).
  virtual core::Result<std::vector<DueConnection>> claimDue(TimePoint until, int limit,
                                                            std::string_view owner,
                                                            Duration lease) = 0;

  /// Drops `owner`'s claim on the row (no-op if someone else holds it).
  virtual core::Status releaseClaim(const ConnectionKey& key, std::string_view owner) = 0;
};

}  // namespace tether::store
