#pragma once
/// The operator commands against a running Tether's admin API:
///
///   tether connections               every connection: state, token expiry, last refresh,
///                                    what needs attention
///   tether status KIND/NAME          one connection's status card
///   tether events KIND/NAME          its auth events, newest first (--limit N, 1-500)
///   tether refresh KIND/NAME         refresh its access token now
///   tether delete-token KIND/NAME    delete its stored tokens
///   tether webhooks test [INDEX]     send a test delivery to one (or every) webhook
///
/// Each takes `--url` (default $TETHER_URL, else http://127.0.0.1:8080), the admin key from
/// $TETHER_ADMIN_KEY or `--admin-key-file FILE` (never from a flag that `ps` would show),
/// and `--json` (the admin API's JSON on stdout instead of text). Exit codes: 0 done,
/// 1 failed (the server refused or said no, not found, unreachable), 2 usage (one line on
/// stderr with the help hint). Nothing printed holds a token or the admin key.

#include <memory>
#include <optional>

#include "core/clock.h"

namespace CLI {
class App;
}

namespace tether::app {

class OperatorCommands {
 public:
  /// Adds the commands above to `cli`. `clock` gives "now" for relative times; both must
  /// outlive this object.
  OperatorCommands(CLI::App& cli, const core::Clock& clock);
  ~OperatorCommands();
  OperatorCommands(const OperatorCommands&) = delete;
  OperatorCommands& operator=(const OperatorCommands&) = delete;

  /// After `cli.parse`: runs the command that was parsed and returns its exit code, or
  /// nullopt when the command line named none of these commands.
  std::optional<int> run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::app
