#pragma once
/// Pending interactive OAuth flows. Part of the blocking store API (see store/store.h).

#include <cstdint>
#include <string_view>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// What `FlowStore::takeFlow` found for a state: callers tell an expired flow from an
/// unknown one by this value, never by an error message.
enum class FlowTakeOutcome {
  kTaken,    // the flow was pending and unexpired: it is returned and now consumed
  kUnknown,  // no flow for this state (never created, already taken, or cancelled)
  kExpired,  // the flow was pending but past its expiry: consumed, not usable
};

/// Result of `FlowStore::takeFlow`.
struct TakenFlow {
  FlowTakeOutcome outcome = FlowTakeOutcome::kUnknown;
  /// kTaken: the flow, `state` included. kExpired: the flow as stored (its key and
  /// expires_at say which and when). kUnknown: empty.
  PendingFlow flow;
};

/// Pending interactive OAuth flows, keyed by a SHA-256 of the `state` parameter.
class FlowStore {
 public:
  virtual ~FlowStore() = default;

  /// Stores `flow` (state, key, verifier, return URL, ... and expires_at) unless an
  /// unexpired flow is already pending for the connection; then returns that one.
  virtual core::Result<CreateFlowResult> createPendingFlow(const PendingFlow& flow) = 0;

  /// Takes the flow for `state` exactly once (atomically deleted; an expired flow is
  /// consumed too) and says what it found. Errors only for a store failure, or
  /// kInvalidArgument for an empty or oversized state.
  virtual core::Result<TakenFlow> takeFlow(std::string_view state) = 0;

  /// `takeFlow` for callers that need only the usable flow: kNotFound when the flow is
  /// unknown, already taken, or expired (the message says which, for people).
  core::Result<PendingFlow> takePendingFlow(std::string_view state);

  /// Deletes every expired flow; returns how many.
  virtual core::Result<int64_t> expirePendingFlows() = 0;

  /// Deletes the connection's pending flow, if any (admin cancel, reconnect restart).
  virtual core::Result<bool> cancelPendingFlow(const ConnectionKey& key) = 0;
};

}  // namespace tether::store
