#pragma once
/// The `listen`, `log` and `server` sections of the configuration (see config/config.h).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/log.h"

namespace tether::config {

using std::chrono::milliseconds;

/// A listen address. `host` is a name or an IP literal (IPv6 without brackets).
struct HostPort {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = let the OS pick (tests)

  /// "host:port", IPv6 in brackets ("[::1]:8080").
  std::string toString() const;
};

struct LogConfig {
  core::LogLevel level = core::LogLevel::kInfo;
  core::log::Format format = core::log::Format::kJson;
  /// One `info` line per request (method, route, connection, status, duration, subject,
  /// request and trace ids); `log.access`.
  bool access = true;
};

/// `server.tls`: the listeners (main and admin.listen) speak TLS with this certificate.
/// Both files are checked at load (readable PEM, key unencrypted and matching the
/// certificate) and read again on SIGHUP.
struct TlsConfig {
  std::string cert_file;  // PEM: the leaf certificate, then any intermediates
  std::string key_file;   // PEM: its private key, unencrypted
};

struct ServerConfig {
  int io_threads = 2;                   // 1..256
  size_t max_header_bytes = 16 * 1024;  // 1 KiB..1 MiB
  size_t max_body_bytes = 1024 * 1024;  // 1 KiB..1 GiB
  milliseconds read_timeout = std::chrono::seconds(15);
  milliseconds idle_timeout = std::chrono::seconds(60);
  milliseconds write_timeout = std::chrono::seconds(30);
  milliseconds drain_timeout = std::chrono::seconds(10);
  /// Connections served at once per listener (1..1,000,000); past it the server stops
  /// accepting until one closes.
  size_t max_connections = 10'000;
  /// Extra names the listeners answer to (DNS-rebinding protection), besides the listen
  /// address (unless a wildcard), public_url's authority and the loopback names with the
  /// listener's port. Normalised: lower case, "host", "host:port", "[v6]" or "[v6]:port".
  std::vector<std::string> allowed_hosts;
  /// Set: every listener speaks TLS only (1.2 and 1.3).
  std::optional<TlsConfig> tls;
};

}  // namespace tether::config
