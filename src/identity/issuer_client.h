#pragma once
/// The inbound issuer over the network: its JWK Set (from `jwks_uri`, or from the
/// `jwks_uri` of its metadata when none is configured) and RFC 7662 token introspection
/// with the configured client credentials (HTTP Basic).
///
/// Every fetch goes through the outbound http::HttpClient with a connect and total
/// deadline, a size cap and no redirects. A `jwks_uri` learned from metadata must pass
/// oauth::checkDiscoveryUrl (https unless loopback, a host the discovery policy allows; the
/// issuer's own host is always allowed), and it is fetched with the discovery policy's
/// connect-time guard (oauth::makeDiscoveryGuard): a name that resolves to an
/// internal address is refused before any connection unless the operator listed it in
/// `discovery.allowed_hosts`. Errors name the URL, never a token or the secret.
///
/// Thread-safety: calls block (HttpClient::send) and may run on several threads at once;
/// never call them on a server I/O thread.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "http/http_client.h"
#include "oauth/discovery.h"

namespace tether::identity {

struct IssuerClientOptions {
  std::string issuer;
  std::string jwks_uri;  // empty: from the issuer's metadata
  std::string introspection_endpoint;
  std::string client_id;
  std::string client_secret;  // SECRET
  oauth::DiscoveryPolicy policy;
  size_t max_jwks_bytes = 256 * 1024;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{10'000};
  std::string ca_bundle;
  bool use_proxy = true;
};

class IssuerClient {
 public:
  /// `http` must outlive this object.
  IssuerClient(http::HttpClient& http, IssuerClientOptions options);

  /// The JWK Set document's body (200 only). kUnavailable / kInvalidArgument naming the URL.
  core::Result<std::string> fetchJwks();
  /// The introspection answer's body (200 only).
  core::Result<std::string> introspect(const std::string& token);

 private:
  core::Result<std::string> get(http::ClientRequest request, std::string_view what);
  core::Result<std::string> jwksUri();

  http::HttpClient& http_;
  IssuerClientOptions options_;
  std::shared_ptr<const http::ConnectGuard> guard_;  // options_.policy, at connect time
  std::mutex mu_;
  std::string discovered_jwks_uri_;
};

}  // namespace tether::identity
