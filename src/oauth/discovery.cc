#include "oauth/discovery.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/encoding.h"
#include "oauth/error_response.h"
#include "oauth/sanitize.h"
#include "oauth/www_authenticate.h"

namespace tether::oauth {
namespace {

using core::Errc;
using core::Error;

// The host of a URL as boost::urls reads it (lower case, IPv6 without brackets), for the
// comparison with libcurl's reading; empty when it has none.
std::string boostHost(const boost::urls::url_view& u) {
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      return u.host_ipv4_address().to_string();
    case boost::urls::host_type::ipv6:
      return core::toLower(u.host_ipv6_address().to_string());
    case boost::urls::host_type::name:
      return core::toLower(u.encoded_host());
    default:
      return {};
  }
}

// Two spellings of one host: equal names, or equal addresses.
bool sameHost(std::string_view a, std::string_view b) {
  if (core::iequals(a, b)) return true;
  auto x = http::IpAddress::parse(a);
  auto y = http::IpAddress::parse(b);
  return x && y && *x == *y;
}

bool listed(const std::vector<std::string>& list, std::string_view host) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& entry) { return sameHost(entry, host); });
}

bool isLoopbackName(std::string_view host) {
  return host == "localhost" || host.ends_with(".localhost");
}

// The connect-time half of the policy: decides on each address a discovery request's host
// resolved to, and on each socket the client opens (see http::ConnectGuard).
class DiscoveryConnectGuard final : public http::ConnectGuard {
 public:
  explicit DiscoveryConnectGuard(DiscoveryPolicy policy) : policy_(std::move(policy)) {}

  std::string refusal(const http::UrlTarget& target,
                      const http::IpAddress& address) const override {
    // Hosts the operator named are trusted wherever they lead.
    if (listed(policy_.own_hosts, target.host) || listed(policy_.allowed_hosts, target.host)) {
      return {};
    }
    if (!policy_.allowed_hosts.empty()) {
      return target.host + " is not in discovery.allowed_hosts; add it there to allow it";
    }
    const auto c = http::classifyAddress(address);
    if (c.cls == http::AddressClass::kPublic) {
      if (target.scheme == "http") {
        return target.host + " resolves to " + address.str() +
               ", not a loopback address: plain http is allowed only on loopback";
      }
      return {};
    }
    return target.host + " resolves to " + http::describeAddress(address, c) +
           ", not allowed for discovery; list the host in discovery.allowed_hosts to allow it";
  }

 private:
  DiscoveryPolicy policy_;
};

std::string joinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (s.empty() || s.find(' ') != std::string::npos) continue;
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::string statusList(const std::vector<std::pair<std::string, std::string>>& tried) {
  std::string out;
  for (const auto& [url, why] : tried) {
    if (!out.empty()) out += ", ";
    out += url + " (" + why + ")";
  }
  return out;
}

}  // namespace

std::shared_ptr<const http::ConnectGuard> makeDiscoveryConnectGuard(DiscoveryPolicy policy) {
  return std::make_shared<DiscoveryConnectGuard>(std::move(policy));
}

std::string urlHost(std::string_view url) {
  auto target = http::parseClientUrl(url);
  return target ? target->host : std::string();
}

core::Status checkDiscoveryUrl(std::string_view url, const DiscoveryPolicy& policy,
                               std::string_view what) {
  const std::string shown = displayUrl(url);
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + shown + "\" is not an absolute URL");
  }
  const auto& u = *parsed;
  // The host is the one the HTTP client will connect to (libcurl's reading of the URL).
  const auto target = http::parseClientUrl(url);
  if (!target || core::toLower(u.scheme()) != target->scheme) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + shown + "\" is not an http(s) URL with a host");
  }
  if (u.has_userinfo()) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + shown + "\" carries credentials; refusing it");
  }
  if (u.has_fragment()) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + shown + "\" has a fragment; refusing it");
  }
  const std::string& host = target->host;
  const auto literal = http::IpAddress::parse(host);
  const std::string other = boostHost(u);
  // Where the URL parsers used around Tether disagree on the host (boost::urls reads
  // "127.0.0.1.evil.example" as 127.0.0.1), a check by one would not hold for the other.
  // Numeric IPv4 spellings ("0x7f000001") differ only in form and are judged as addresses.
  const bool other_is_address = u.host_type() == boost::urls::host_type::ipv4 ||
                                u.host_type() == boost::urls::host_type::ipv6;
  if (!sameHost(other, host) && (!literal || other_is_address)) {
    return Error(Errc::kInvalidArgument, std::string(what) + " \"" + shown +
                                             "\" has a host that URL parsers read "
                                             "differently (" +
                                             (other.empty() ? "none" : other) + " or " + host +
                                             "); refusing it");
  }
  const auto cls = literal ? std::optional(http::classifyAddress(*literal)) : std::nullopt;
  const bool loopback = literal ? cls->cls == http::AddressClass::kLoopback : isLoopbackName(host);
  if (target->scheme == "http" && !loopback) {
    return Error(Errc::kInvalidArgument, std::string(what) + " \"" + shown +
                                             "\" uses plain http; only https is allowed (plain "
                                             "http only on loopback)");
  }
  if (listed(policy.own_hosts, host)) return core::okStatus();
  if (!policy.allowed_hosts.empty()) {
    if (listed(policy.allowed_hosts, host)) return core::okStatus();
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + shown + "\" is on host " + host +
                     ", which is not in discovery.allowed_hosts; add it there to allow it");
  }
  if (literal && cls->cls != http::AddressClass::kPublic) {
    // Named as written ("0x7f000002"), then as the address it is.
    const std::string& written = other.empty() ? host : other;
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + shown + "\" is on host " + written + ", " +
                     http::describeAddress(*literal, *cls) +
                     " the connection was not configured with, not allowed for discovery; list "
                     "it in discovery.allowed_hosts to allow it");
  }
  if (isLoopbackName(host)) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " \"" + shown + "\" is on host " + host +
                     ", a loopback name the connection was not configured with; list it in "
                     "discovery.allowed_hosts to allow it");
  }
  // A name: its addresses are checked when the client resolves it (DiscoveryConnectGuard).
  return core::okStatus();
}

Discovery::Discovery(http::HttpClient& http, DiscoveryOptions options)
    : http_(http),
      options_(std::move(options)),
      guard_(std::make_shared<DiscoveryConnectGuard>(options_.policy)) {}

core::Result<Discovery::Fetched> Discovery::fetch(http::ClientRequest request,
                                                  std::string_view what) const {
  if (auto st = checkDiscoveryUrl(request.url, options_.policy, what); !st.ok()) {
    return st.error();
  }
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  request.max_response_bytes = options_.max_document_bytes;
  request.follow_redirects = false;
  request.ca_bundle_path = options_.ca_bundle;
  request.use_proxy = options_.use_proxy;
  request.connect_guard = guard_;
  const std::string url = request.url;
  auto result = http_.send(request);
  if (!result.ok()) {
    std::string why;
    if (result.error == http::TransportError::kTooLarge) {
      why = "the answer is larger than " + std::to_string(options_.max_document_bytes / 1024) +
            " KiB";
    } else if (result.error == http::TransportError::kTimeout) {
      why = "no answer within " + std::to_string(options_.total_timeout.count()) + " ms";
    } else if (result.error == http::TransportError::kInvalidRequest) {
      // The connect guard refused an address the host resolved to (or the URL itself).
      return Error(Errc::kInvalidArgument,
                   std::string(what) + " " + displayUrl(url) + " refused: " + result.error_message);
    } else {
      why = std::string(http::transportErrorName(result.error)) + ": " + result.error_message;
    }
    return Error(result.error == http::TransportError::kTooLarge ? Errc::kInvalidArgument
                                                                 : Errc::kUnavailable,
                 "fetching " + std::string(what) + " " + url + " failed: " + why);
  }
  return Fetched{result.response.status, std::move(result.response.body),
                 std::move(result.response.headers)};
}

core::Result<ResourceChallenge> Discovery::probe(std::string_view resource_url) const {
  http::ClientRequest req;
  req.method = "POST";
  req.url = std::string(resource_url);
  req.headers = {{"Content-Type", "application/json"},
                 {"Accept", "application/json, text/event-stream"}};
  req.body = R"({"jsonrpc":"2.0","id":"tether-discovery","method":"ping"})";
  auto got = fetch(std::move(req), "the MCP upstream");
  if (!got.ok()) return std::move(got).takeError();
  ResourceChallenge out;
  out.status = got->status;
  for (const auto& h : got->headers) {
    if (!core::iequals(h.name, "WWW-Authenticate")) continue;
    for (const auto& c : parseWwwAuthenticate(h.value)) {
      if (!core::iequals(c.scheme, "Bearer")) continue;
      if (auto v = c.param("resource_metadata"); v && out.resource_metadata.empty()) {
        out.resource_metadata = std::string(*v);
      }
      if (auto v = c.param("scope"); v && out.scope.empty()) out.scope = std::string(*v);
    }
  }
  return out;
}

core::Result<std::pair<std::string, std::string>> Discovery::firstDocument(
    const std::vector<std::string>& urls, std::string_view what, std::string_view subject) const {
  std::vector<std::pair<std::string, std::string>> tried;
  for (const auto& url : urls) {
    http::ClientRequest req;
    req.url = url;
    req.headers = {{"Accept", "application/json"}};
    auto got = fetch(std::move(req), what);
    if (!got.ok()) {
      // A refused URL or an oversized document ends the search; an unreachable one does not.
      if (got.error().code == Errc::kInvalidArgument) return std::move(got).takeError();
      tried.emplace_back(url, got.error().message);
      continue;
    }
    if (got->status != 200) {
      tried.emplace_back(url, "HTTP " + std::to_string(got->status));
      continue;
    }
    return std::make_pair(url, std::move(got->body));
  }
  return Error(Errc::kNotFound, "no " + std::string(what) + " for " + std::string(subject) +
                                    ": tried " + statusList(tried));
}

core::Result<ProtectedResourceMetadata> Discovery::protectedResource(
    std::string_view resource_url, std::string_view metadata_url) const {
  std::vector<std::string> urls;
  if (!metadata_url.empty()) {
    urls.emplace_back(metadata_url);
  } else {
    urls = protectedResourceMetadataUrls(resource_url);
  }
  if (urls.empty()) {
    return Error(Errc::kInvalidArgument,
                 "the upstream URL " + std::string(resource_url) + " does not parse");
  }
  auto doc = firstDocument(urls, "protected resource metadata", resource_url);
  if (!doc.ok()) return std::move(doc).takeError();
  const std::string& url = doc->first;
  auto parsed = parseProtectedResourceMetadata(doc->second);
  if (!parsed.ok()) {
    return Error(Errc::kInvalidArgument, parsed.error().message + " (from " + url + ")");
  }
  if (!resourceCovers(parsed->resource, resource_url)) {
    return Error(Errc::kInvalidArgument, "protected resource metadata at " + url +
                                             " is for resource \"" + displayUrl(parsed->resource) +
                                             "\", not for " + std::string(resource_url) +
                                             " (RFC 9728 §3.3: refusing it)");
  }
  if (parsed->authorization_servers.empty()) {
    return Error(Errc::kInvalidArgument,
                 "protected resource metadata at " + url + " lists no authorization_servers");
  }
  return parsed;
}

core::Result<AuthorizationServerMetadata> Discovery::authorizationServer(
    std::string_view issuer) const {
  if (auto st = checkDiscoveryUrl(issuer, options_.policy, "the issuer"); !st.ok()) {
    return st.error();
  }
  const auto urls = authorizationServerMetadataUrls(issuer);
  if (urls.empty()) {
    return Error(Errc::kInvalidArgument,
                 "the issuer " + displayUrl(issuer) + " is not a URL without query and fragment");
  }
  auto doc = firstDocument(urls, "authorization server metadata", issuer);
  if (!doc.ok()) return std::move(doc).takeError();
  const std::string& url = doc->first;
  auto parsed = parseAuthorizationServerMetadata(doc->second, issuer);
  if (!parsed.ok()) {
    return Error(Errc::kInvalidArgument, parsed.error().message + " (from " + url + ")");
  }
  for (auto [what, value] : {std::pair<std::string_view, const std::string*>{
                                 "authorization_endpoint", &parsed->authorization_endpoint},
                             {"token_endpoint", &parsed->token_endpoint},
                             {"registration_endpoint", &parsed->registration_endpoint}}) {
    if (value->empty()) continue;
    if (auto st = checkDiscoveryUrl(*value, options_.policy, what); !st.ok()) {
      return Error(Errc::kInvalidArgument, st.error().message + " (from " + url + ")");
    }
  }
  return parsed;
}

namespace {

// MCP 2025-03-26 ("Server Metadata Discovery", "Fallbacks"): the authorization server is
// the MCP server's origin; its RFC 8414 metadata there, else the default endpoints
// /authorize, /token and /register at the origin, with PKCE S256 (mandatory in that
// version). No resource identifier is known, so none is sent.
core::Result<DiscoveredServer> legacyServer(const Discovery& discovery,
                                            std::string_view resource_url, std::string scope) {
  auto parsed = boost::urls::parse_uri(resource_url);
  if (!parsed || parsed->encoded_host().empty()) {
    return Error(Errc::kInvalidArgument, "the upstream URL " + displayUrl(resource_url) +
                                             " has no origin to discover an authorization "
                                             "server at");
  }
  DiscoveredServer out;
  out.issuer = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host_and_port());
  out.scopes = std::move(scope);
  auto server = discovery.authorizationServer(out.issuer);
  if (server.ok()) {
    out.metadata = std::move(server).value();
    return out;
  }
  if (server.error().code != Errc::kNotFound) return std::move(server).takeError();
  out.metadata.issuer = out.issuer;
  out.metadata.authorization_endpoint = out.issuer + "/authorize";
  out.metadata.token_endpoint = out.issuer + "/token";
  out.metadata.registration_endpoint = out.issuer + "/register";
  out.metadata.code_challenge_methods_supported = {"S256"};
  return out;
}

}  // namespace

core::Result<DiscoveredServer> Discovery::discoverForResource(std::string_view resource_url) const {
  auto challenge = probe(resource_url);
  if (!challenge.ok()) return std::move(challenge).takeError();
  // Without a resource_metadata parameter (or without a 401 at all: not every server
  // challenges an unauthenticated ping) the well-known URLs still apply. A named URL is
  // checked against the policy like any other discovered URL.
  auto resource = protectedResource(resource_url, challenge->resource_metadata);
  if (!resource.ok()) {
    // MCP 2025-03-26 servers publish no RFC 9728 document: their origin is the
    // authorization server (only for a 401 that named no metadata document).
    if (resource.error().code != Errc::kNotFound || challenge->status != 401 ||
        !challenge->resource_metadata.empty()) {
      return std::move(resource).takeError();
    }
    return legacyServer(*this, resource_url, challenge->scope);
  }
  DiscoveredServer out;
  out.resource = resource->resource;
  out.issuer = resource->authorization_servers.front();
  auto server = authorizationServer(out.issuer);
  if (!server.ok()) return std::move(server).takeError();
  out.metadata = std::move(server).value();
  out.scopes =
      !challenge->scope.empty() ? challenge->scope : joinScopes(resource->scopes_supported);
  return out;
}

core::Result<RegisteredClient> Discovery::registerClient(std::string_view registration_endpoint,
                                                         const RegistrationRequest& request) const {
  auto send = [&](const RegistrationRequest& r) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = std::string(registration_endpoint);
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    req.body = registrationBody(r);
    return fetch(std::move(req), "the registration endpoint");
  };
  auto got = send(request);
  if (!got.ok()) return std::move(got).takeError();
  std::vector<std::string> dropped;
  if (refusedForMetadata(got->status, got->headers, got->body)) {
    const RegistrationRequest plain = withoutOptionalFields(request, dropped);
    if (!dropped.empty()) {
      got = send(plain);
      if (!got.ok()) return std::move(got).takeError();
    }
  }
  auto client = parseRegistrationResponse(got->status, got->headers, std::move(got->body),
                                          registration_endpoint);
  if (!client.ok()) return std::move(client).takeError();
  client->dropped_fields = std::move(dropped);
  return client;
}

}  // namespace tether::oauth
