#pragma once
/// The one rule for the state a connection shows, used by every view: the store's bulk
/// health rows here, and lifecycle/connection_view.h for the admin list, health and detail
/// and the portal. The lifecycle writes the state row; this only reads it with the token.

#include <optional>

#include "store/types.h"

namespace tether::store {

/// The recorded state (`recorded`, the lifecycle's state row), except that "connected"
/// needs a stored token; without a record, "connected" when a token is stored, else
/// "not_connected".
inline ConnectionState shownConnectionState(std::optional<ConnectionState> recorded,
                                            bool has_token) {
  if (!recorded) return has_token ? ConnectionState::kConnected : ConnectionState::kNotConnected;
  if (*recorded == ConnectionState::kConnected && !has_token) return ConnectionState::kNotConnected;
  return *recorded;
}

}  // namespace tether::store
