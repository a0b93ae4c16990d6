#pragma once
/// Append-only auth events (the operator's history). Part of the blocking store API (see
/// store/store.h).

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// Append-only auth events with an index per connection and one on time.
class EventStore {
 public:
  virtual ~EventStore() = default;

  /// Appends `event`; returns its id. kInvalidArgument for a type outside EventType, an
  /// empty key, or a detail that is not a JSON object.
  virtual core::Result<int64_t> appendEvent(const AuthEvent& event) = 0;

  /// The newest `limit` events of one connection, newest first; equal times are ordered
  /// by id, newest first (stable).
  virtual core::Result<std::vector<AuthEvent>> recentEvents(const ConnectionKey& key,
                                                            int limit) = 0;

  /// The newest event of every connection that has events, in one query, ordered by key.
  virtual core::Result<std::vector<AuthEvent>> latestEventPerConnection() = 0;

  /// Deletes events older than now - `retention` (through the time index); returns how many.
  virtual core::Result<int64_t> pruneEvents(Duration retention) = 0;
};

}  // namespace tether::store
