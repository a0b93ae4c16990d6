#pragma once
/// Revoking a deleted connection's refresh token at its IdP (RFC 7009), so a grant Tether
/// no longer holds does not stay valid at the IdP. Used by the connections API after a
/// DELETE (admin/connections_api.h).
///
/// The revocation endpoint is the `revocation_endpoint` of the IdP's RFC 8414 / OIDC
/// metadata, read from the connection's issuer (the configured one, else the one its connect
/// flow resolved). The client authentication is the connection's token endpoint's: the
/// configured client, or the client Tether registered at that issuer. An IdP without a
/// revocation endpoint, or a connection whose issuer is unknown, gets no call and no error.
/// A failure (metadata or revocation unreachable, slow or not 200) is logged with the
/// connection's name and the reason and never undoes the delete. The token is never logged.
///
/// Thread-safety: thread-safe. BLOCKING (store and IdP I/O, each bounded): call it on a
/// worker pool, never on a server I/O thread.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "http/http_client.h"
#include "store/store.h"

namespace tether::admin {

struct RevokerOptions {
  /// Measures the deadline and the duration (must outlive the calls).
  const core::Clock* clock = &core::systemClock();
  /// discovery.allowed_hosts: the metadata and the revocation endpoint must pass the
  /// discovery policy (the connection's own hosts are always allowed).
  std::vector<std::string> discovery_allowed_hosts;
  /// Deadline of each metadata document read (up to three well-known URLs are tried).
  std::chrono::milliseconds metadata_timeout{2'000};
  /// Deadline of the revocation call, cut to what is left of `total_timeout`.
  std::chrono::milliseconds revocation_timeout{5'000};
  /// The whole revocation, metadata included, ends within about this long.
  std::chrono::milliseconds total_timeout{8'000};
};

/// What happened to the refresh token of a deleted connection.
struct RevocationReport {
  enum class Outcome {
    kRevoked,     // the IdP answered 200
    kNoEndpoint,  // nothing to call: no OAuth, no issuer, or no revocation_endpoint
    kFailed,      // the metadata or the revocation failed (logged)
  };
  Outcome outcome = Outcome::kNoEndpoint;
  int http_status = 0;    // the revocation endpoint's status; 0 when not called / no answer
  std::string idp_error;  // its RFC 6749 §5.2 code, sanitized; may be empty
  /// One sentence for logs and the connection_deleted event (no token, no secret).
  std::string reason;
  double duration_ms = 0;
};

/// BLOCKING: revokes `refresh_token`, the deleted token of `connection`, at its IdP (see
/// above). Reads the connection's resolved endpoints and registered client from `store`.
RevocationReport revokeDeletedConnection(store::Store& store, http::HttpClient& http,
                                         const config::ConnectionConfig& connection,
                                         const std::string& refresh_token,
                                         const RevokerOptions& options);

}  // namespace tether::admin
