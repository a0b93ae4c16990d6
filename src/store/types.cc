#include "store/types.h"

namespace tether::store {

std::string_view connectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::kNotConnected:
      return "not_connected";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kRefreshFailing:
      return "refresh_failing";
    case ConnectionState::kNeedsReauth:
      return "needs_reauth";
    case ConnectionState::kNeedsClientFix:
      return "needs_client_fix";
  }
  return "not_connected";
}

std::optional<ConnectionState> parseConnectionState(std::string_view name) {
  for (auto s : {ConnectionState::kNotConnected, ConnectionState::kConnected,
                 ConnectionState::kRefreshFailing, ConnectionState::kNeedsReauth,
                 ConnectionState::kNeedsClientFix}) {
    if (connectionStateName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace tether::store
