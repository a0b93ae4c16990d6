// client_credentials connections configured with only an `issuer`: there is no connect flow
// to find their token endpoint, so the runner reads it from the issuer's metadata (RFC 8414,
// then OpenID Connect discovery; oauth::Discovery) before the first grant of each process,
// i.e. at start and whenever the configured issuer changes. Metadata that is missing or
// refused is a configuration error (token_endpoint_unknown); an issuer that does not answer
// is a transient one (discovery_unavailable).
#include <algorithm>

#include "core/log.h"
#include "lifecycle/source_runner.h"
#include "oauth/discovery.h"

namespace tether::lifecycle::detail {

bool SourceRunner::needsTokenEndpoint() const {
  if (!spec_.client_credentials || spec_.issuer.empty() || !spec_.oauth.token_url.empty()) {
    return false;
  }
  auto r = resolved();
  return !r || r->oauth.token_url.empty();
}

std::optional<event::TransientFailure> SourceRunner::discoverTokenEndpoint(
    const std::string& correlation) {
  oauth::DiscoveryOptions options;
  options.policy.allowed_hosts = spec_.discovery_allowed_hosts;
  if (auto host = oauth::urlHost(spec_.issuer); !host.empty()) {
    options.policy.own_hosts.push_back(host);
  }
  options.ca_bundle = spec_.oauth.ca_bundle;
  options.use_proxy = spec_.oauth.use_proxy;
  options.connect_timeout = spec_.oauth.connect_timeout;
  options.total_timeout =
      std::min<std::chrono::milliseconds>(spec_.oauth.total_timeout, std::chrono::seconds(10));
  oauth::Discovery discovery(*deps_.http, options);
  auto metadata = discovery.authorizationServer(spec_.issuer);
  if (!metadata.ok()) {
    // Not found, or refused (issuer mismatch, a host the policy refuses, too large): only
    // the operator can fix that. Unreachable: try again with the usual backoff.
    const bool configuration = metadata.error().code != core::Errc::kUnavailable &&
                               metadata.error().code != core::Errc::kTimeout;
    core::log::error(configuration
                         ? "client_credentials: no token endpoint can be found for the issuer; "
                           "set auth.token_url or fix auth.issuer"
                         : "client_credentials: the issuer's metadata could not be fetched; "
                           "will retry",
                     {{"connection", spec_.key.str()},
                      {"issuer", spec_.issuer},
                      {"error", metadata.error().message},
                      {"correlation_id", correlation}});
    event::TransientFailure failure;
    failure.code = configuration ? "token_endpoint_unknown" : "discovery_unavailable";
    failure.configuration = configuration;
    if (configuration) failure.retry_after = deps_.settings.backoff_max;
    return failure;
  }
  oauth::OAuthClientConfig config = spec_.oauth;
  config.token_url = metadata->token_endpoint;
  const std::string host = oauth::urlHost(metadata->token_endpoint);
  core::log::info("client_credentials: token endpoint found in the issuer's metadata",
                  {{"connection", spec_.key.str()},
                   {"issuer", spec_.issuer},
                   {"token_endpoint", metadata->token_endpoint},
                   {"correlation_id", correlation}});
  setOAuthConfig(std::move(config), host.empty() ? spec_.idp_host : host);
  return std::nullopt;
}

}  // namespace tether::lifecycle::detail
