// RFC 7009 revocation after a delete: which endpoint, which client, and what to log.
#include "admin/connection_revocation.h"

#include "core/log.h"
#include "flows/stored_client.h"
#include "oauth/discovery.h"
#include "oauth/from_config.h"
#include "oauth/revocation.h"

namespace tether::admin {
namespace {

using Outcome = RevocationReport::Outcome;

void addHost(std::vector<std::string>& hosts, const std::string& url) {
  if (auto h = oauth::urlHost(url); !h.empty()) hosts.push_back(std::move(h));
}

}  // namespace

RevocationReport revokeDeletedConnection(store::Store& store, http::HttpClient& http,
                                         const config::ConnectionConfig& connection,
                                         const std::string& refresh_token,
                                         const RevokerOptions& options) {
  const store::ConnectionKey key{std::string(config::kindName(connection.kind)), connection.name};
  const auto t0 = options.clock->monotonic();
  RevocationReport report;
  auto finish = [&](RevocationReport r) {
    r.duration_ms =
        std::chrono::duration<double, std::milli>(options.clock->monotonic() - t0).count();
    const std::string name = key.str();
    if (r.outcome == Outcome::kFailed) {
      core::log::warn("connection deleted, but its refresh token could not be revoked at the IdP",
                      {{"connection", name}, {"reason", r.reason}, {"http_status", r.http_status}});
    } else if (r.outcome == Outcome::kRevoked) {
      core::log::info("connection deleted: its refresh token was revoked at the IdP",
                      {{"connection", name}, {"duration_ms", r.duration_ms}});
    } else {
      core::log::info("connection deleted: its refresh token was not revoked at the IdP",
                      {{"connection", name}, {"reason", r.reason}});
    }
    return r;
  };
  if (!connection.auth.oauth || refresh_token.empty()) {
    report.reason = "not an OAuth connection with a refresh token";
    return finish(report);
  }
  const config::OAuthConfig& o = *connection.auth.oauth;
  oauth::OAuthClientConfig cfg = oauth::clientConfigFromConfig(connection);
  std::string issuer = o.issuer;
  auto endpoints = store.getEndpoints(key);
  if (endpoints.ok() && *endpoints) {
    if (issuer.empty()) issuer = (*endpoints)->issuer;
    if (cfg.token_url.empty()) cfg.token_url = (*endpoints)->token_endpoint;
  }
  if (issuer.empty()) {
    report.reason = "the IdP's issuer is unknown, so is its revocation endpoint";
    return finish(report);
  }
  if (!o.client_id) {
    // A client Tether registered at this IdP (keyed like the connect flow keys it).
    auto client = store.getClient(issuer);
    if (!client.ok() || !*client) {
      report.outcome = client.ok() ? Outcome::kNoEndpoint : Outcome::kFailed;
      report.reason = client.ok()
                          ? "Tether has no client registered at the IdP any more"
                          : "the registered client could not be read: " + client.error().message;
      return finish(report);
    }
    cfg.client_id = (*client)->client_id;
    cfg.client_secret = (*client)->client_secret.value_or("");
    cfg.client_auth = flows::registeredAuthStyle(**client);
  }
  oauth::DiscoveryOptions dopts;
  dopts.policy.allowed_hosts = options.discovery_allowed_hosts;
  for (const std::string& url : {connection.url, issuer, cfg.token_url}) {
    addHost(dopts.policy.own_hosts, url);
  }
  dopts.ca_bundle = cfg.ca_bundle;
  dopts.use_proxy = cfg.use_proxy;
  dopts.connect_timeout = std::min(cfg.connect_timeout, options.metadata_timeout);
  dopts.total_timeout = options.metadata_timeout;
  oauth::Discovery discovery(http, dopts);
  auto metadata = discovery.authorizationServer(issuer);
  if (!metadata.ok()) {
    report.outcome = Outcome::kFailed;
    report.reason = "the IdP's metadata could not be read: " + metadata.error().message;
    return finish(report);
  }
  if (metadata->revocation_endpoint.empty()) {
    report.reason = "the IdP's metadata lists no revocation_endpoint";
    return finish(report);
  }
  oauth::RevocationOptions ropts;
  ropts.policy = dopts.policy;
  const auto left = options.total_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                options.clock->monotonic() - t0);
  ropts.timeout = std::min(options.revocation_timeout, left);
  if (ropts.timeout < std::chrono::milliseconds(500)) {
    report.outcome = Outcome::kFailed;
    report.reason = "no time was left for the revocation after reading the IdP's metadata";
    return finish(report);
  }
  auto revoked =
      oauth::revokeRefreshToken(http, cfg, metadata->revocation_endpoint, refresh_token, ropts);
  report.outcome = revoked.ok() ? Outcome::kRevoked : Outcome::kFailed;
  report.http_status = revoked.http_status;
  report.idp_error = revoked.idp_error;
  report.reason = revoked.reason;
  return finish(report);
}

}  // namespace tether::admin
