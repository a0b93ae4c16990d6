#pragma once
/// `tether login <kind>/<name>`: starts a connection's connect flow on a running Tether
/// (admin API), prints the authorization URL, opens a browser (at most once per connection
/// per 5 minutes unless forced), waits for the flow to complete and prints the outcome.

#include <chrono>
#include <string>

#include "core/clock.h"

namespace tether::app {

struct LoginOptions {
  std::string connection;  // "kind/name"
  std::string url;         // Tether's base URL
  std::string admin_key;   // from TETHER_ADMIN_KEY
  bool force_browser = false;
  bool open_browser = true;
  std::chrono::seconds timeout{0};  // 0: until the flow expires
  /// File remembering when a browser was last opened per connection.
  std::string state_file;
  /// Time for the wait's deadline and the browser's reopen rule; null: the system clock.
  const core::Clock* clock = nullptr;
};

/// Exit code: 0 connected, 1 failed / timed out / refused, 2 usage error. Writes to
/// stdout (the URL, progress, result) and stderr (errors).
int login(const LoginOptions& options);

/// $XDG_STATE_HOME/tether/login-browser (default ~/.local/state/tether/login-browser).
std::string defaultLoginStateFile();

}  // namespace tether::app
