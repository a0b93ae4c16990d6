#pragma once
/// Wiring: turns a loaded configuration into a running gateway (HTTP server, operational
/// endpoints, and the modules later issues add), and the command line around it.
/// `Gateway` is what `tether serve` runs and what integration tests start in-process.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/metrics.h"
#include "core/result.h"

namespace tether::app {

/// A readiness probe: returns an error when a dependency is not ready (e.g. the store).
using ReadinessCheck = std::function<core::Status()>;

class Gateway {
 public:
  explicit Gateway(config::Config config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /// Binds the listener and starts serving. Errors name the address.
  core::Status start();
  /// Graceful stop: drains in-flight requests for at most server.drain_timeout. Idempotent.
  void stop();
  /// The bound port (after start).
  uint16_t port() const;

  core::MetricsRegistry& metrics();
  void addReadinessCheck(std::string name, ReadinessCheck check);

  /// True once the store is open and the lifecycle runs (the store may take a while: a
  /// PostgreSQL that is down at start is retried with backoff while /readyz says 503).
  bool ready() const;
  /// Set when the store can never open with this configuration (wrong key, plaintext
  /// mismatch, newer schema): the process should exit non-zero with this message.
  std::optional<core::Error> fatalError() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// `tether ...` — returns the process exit code.
int runCli(int argc, char** argv);

/// The version string printed by `tether --version`.
const char* versionString();

}  // namespace tether::app
