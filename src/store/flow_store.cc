#include "store/flow_store.h"

#include <fmt/format.h>

namespace tether::store {

core::Result<PendingFlow> FlowStore::takePendingFlow(std::string_view state) {
  TETHER_TRY_ASSIGN(TakenFlow taken, takeFlow(state));
  switch (taken.outcome) {
    case FlowTakeOutcome::kTaken:
      return std::move(taken.flow);
    case FlowTakeOutcome::kExpired:
      return core::Error(
          core::Errc::kNotFound,
          fmt::format("store: take pending flow {}: the OAuth flow expired at {}",
                      taken.flow.key.str(), core::formatRfc3339(taken.flow.expires_at)));
    case FlowTakeOutcome::kUnknown:
      break;
  }
  return core::Error(core::Errc::kNotFound,
                     "store: take pending flow: no pending OAuth flow for this state (unknown or "
                     "already used)");
}

}  // namespace tether::store
