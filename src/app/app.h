#pragma once
/// The process: turns a loaded configuration into a running Tether (listeners, store,
/// lifecycle, connect flow, data plane, admin API, operational endpoints), and the command
/// line around it. `Process` is what `tether serve` runs and what integration tests start
/// in-process; the data plane itself is src/gateway/. Each module maps its own part of the
/// configuration (`<module>/from_config.h`); this file only wires them together.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"

namespace tether::app {

class LiveConnections;

/// A readiness probe: returns an error when a dependency is not ready (e.g. the store).
using ReadinessCheck = std::function<core::Status()>;

class Process {
 public:
  /// `clock` (the system clock in `main`, a ManualClock in tests) is handed to every module
  /// that reads the time; it must outlive the Process.
  Process(config::Config config, const core::Clock& clock);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Binds the listener and starts serving. Errors name the address.
  core::Status start();
  /// Graceful stop: drains in-flight requests for at most server.drain_timeout. Idempotent.
  void stop();
  /// The bound port (after start).
  uint16_t port() const;

  /// SIGHUP: the listeners' TLS certificate and key read again from `tls`; new handshakes
  /// use them, established connections keep theirs. On error nothing changes (and when the
  /// process was started without TLS, it says a restart is needed).
  core::Status reloadTls(const config::TlsConfig& tls);
  /// SIGHUP: `log.access` applied to both listeners.
  void setAccessLog(bool on);
  /// Before start(): the config file's path (the admin API names it for a declared
  /// connection, which it refuses to change).
  void setConfigFile(std::string path);
  /// What `POST /api/v1/admin/reload` runs (what SIGHUP does); unset: that route answers 503.
  void setReloadHandler(std::function<core::Result<std::string>()> reload);
  /// SIGHUP: the file's connections run with the stored ones (app/stored_connections.h);
  /// true when the running set changed. kConfig naming a name both declared and stored.
  core::Result<bool> applyDeclaredConnections(std::vector<config::ConnectionConfig> declared);
  /// SIGHUP: the file's `webhooks[]` (webhooks::Service::setHooks); kConfig naming a
  /// webhook whose secret is malformed (then nothing changes).
  core::Status applyWebhooks(std::vector<config::WebhookConfig> hooks);
  /// The running connection set and the other live settings (connections, clients.keys,
  /// allowed_origins, keeper and events timings): SIGHUP and the admin API change them
  /// there. Valid after start().
  LiveConnections& connections();

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

/// `tether ...` — returns the process exit code. `clock` is the process's one source of
/// time (main passes the system clock).
int runCli(int argc, char** argv, const core::Clock& clock);

/// The version string printed by `tether --version`.
const char* versionString();

}  // namespace tether::app
