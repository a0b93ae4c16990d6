#include "identity/issuer_client.h"

#include <boost/json.hpp>

#include "core/form.h"
#include "oauth/requests.h"

namespace tether::identity {

namespace {

std::string trimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// RFC 8414 §3.1 path-insert, then OIDC's path-append.
std::vector<std::string> metadataUrls(const std::string& issuer) {
  const std::string base = trimSlash(issuer);
  std::vector<std::string> urls;
  const size_t scheme = base.find("://");
  const size_t path = scheme == std::string::npos ? std::string::npos : base.find('/', scheme + 3);
  if (path == std::string::npos) {
    urls.push_back(base + "/.well-known/openid-configuration");
    urls.push_back(base + "/.well-known/oauth-authorization-server");
  } else {
    urls.push_back(base + "/.well-known/openid-configuration");
    urls.push_back(base.substr(0, path) + "/.well-known/oauth-authorization-server" +
                   base.substr(path));
    urls.push_back(base.substr(0, path) + "/.well-known/openid-configuration" + base.substr(path));
  }
  return urls;
}

}  // namespace

IssuerClient::IssuerClient(http::HttpClient& http, IssuerClientOptions options)
    : http_(http), options_(std::move(options)) {
  if (auto host = oauth::urlHost(options_.issuer); !host.empty()) {
    options_.policy.own_hosts.push_back(host);
  }
  if (auto host = oauth::urlHost(options_.jwks_uri); !host.empty()) {
    options_.policy.own_hosts.push_back(host);
  }
  if (auto host = oauth::urlHost(options_.introspection_endpoint); !host.empty()) {
    options_.policy.own_hosts.push_back(host);
  }
  guard_ = oauth::makeDiscoveryGuard(options_.policy);
}

core::Result<std::string> IssuerClient::get(http::ClientRequest request, std::string_view what) {
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  request.max_response_bytes = options_.max_jwks_bytes;
  request.follow_redirects = false;
  request.ca_bundle_path = options_.ca_bundle;
  request.use_proxy = options_.use_proxy;
  const std::string url = request.url;
  auto r = http_.send(request);
  if (!r.ok()) {
    std::string why =
        r.error == http::TransportError::kTooLarge
            ? "the answer is larger than " + std::to_string(options_.max_jwks_bytes / 1024) + " KiB"
            : std::string(http::transportErrorName(r.error)) + ": " + r.error_message;
    return core::Error(core::Errc::kUnavailable,
                       "fetching " + std::string(what) + " " + url + " failed: " + why);
  }
  if (r.response.status != 200) {
    return core::Error(core::Errc::kUnavailable, std::string(what) + " " + url + " answered HTTP " +
                                                     std::to_string(r.response.status));
  }
  return std::move(r.response.body);
}

core::Result<std::string> IssuerClient::jwksUri() {
  if (!options_.jwks_uri.empty()) return options_.jwks_uri;
  {
    std::lock_guard lock(mu_);
    if (!discovered_jwks_uri_.empty()) return discovered_jwks_uri_;
  }
  std::string tried;
  for (const auto& url : metadataUrls(options_.issuer)) {
    http::ClientRequest req;
    req.url = url;
    req.headers = {{"Accept", "application/json"}};
    auto body = get(req, "the inbound issuer's metadata");
    if (!body.ok()) {
      tried += (tried.empty() ? "" : "; ") + body.error().message;
      continue;
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(*body, ec);
    const auto* jwks = !ec && v.is_object() ? v.as_object().if_contains("jwks_uri") : nullptr;
    if (!jwks || !jwks->is_string()) {
      return core::Error(core::Errc::kInvalidArgument,
                         "the inbound issuer's metadata " + url + " has no jwks_uri");
    }
    std::string uri(jwks->as_string().data(), jwks->as_string().size());
    TETHER_TRY(oauth::checkDiscoveryUrl(uri, options_.policy, "the inbound issuer's jwks_uri"));
    std::lock_guard lock(mu_);
    discovered_jwks_uri_ = uri;
    return uri;
  }
  return core::Error(core::Errc::kUnavailable,
                     "no metadata found for the inbound issuer " + options_.issuer + ": " + tried);
}

core::Result<std::string> IssuerClient::fetchJwks() {
  TETHER_TRY_ASSIGN(std::string uri, jwksUri());
  http::ClientRequest req;
  req.url = uri;
  req.headers = {{"Accept", "application/jwk-set+json, application/json"}};
  // A jwks_uri the metadata named: its host's addresses must pass the discovery policy.
  if (options_.jwks_uri.empty()) req.connect_guard = guard_;
  return get(std::move(req), "the inbound JWK Set");
}

core::Result<std::string> IssuerClient::introspect(const std::string& token) {
  if (options_.introspection_endpoint.empty()) {
    return core::Error(core::Errc::kConfig, "no introspection endpoint is configured");
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = options_.introspection_endpoint;
  req.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
      {"Authorization", oauth::basicAuthorization(options_.client_id, options_.client_secret,
                                                  oauth::BasicForm::kEncoded)}};
  req.body = core::encodeForm({{"token", token}, {"token_type_hint", "access_token"}});
  return get(std::move(req), "the introspection endpoint");
}

}  // namespace tether::identity
