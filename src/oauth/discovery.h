#pragma once
/// Finding a connection's authorization server and registering Tether as its client:
/// the MCP authorization spec's discovery chain (401 challenge → RFC 9728 protected-resource
/// metadata → RFC 8414 / OIDC authorization-server metadata) and RFC 7591 dynamic client
/// registration, over the outbound HTTP client.
///
/// Every URL an upstream or a metadata document names is checked before it is fetched
/// (`checkDiscoveryUrl`): https only (plain http only on loopback), no credentials in the
/// URL, and a host the policy allows, so an upstream cannot point Tether at internal
/// addresses. The host is the one the HTTP client connects to (libcurl's reading of the URL,
/// numeric IPv4 spellings normalised); a URL whose host another parser reads differently is
/// refused. A host name is checked again on the addresses it resolves to, every one of them,
/// and the connection is pinned to those (http::ConnectGuard): a name that leads to an
/// internal address is refused unless the operator listed or configured it. Documents are
/// fetched with a size limit and a deadline, without following redirects.
///
/// Thread-safety: a Discovery may be used from many threads. Its calls block (HttpClient::
/// send): never call them on a server I/O thread.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/http_client.h"
#include "oauth/metadata.h"
#include "oauth/registration.h"

namespace tether::oauth {

struct DiscoveryPolicy {
  /// discovery.allowed_hosts (lower case). Empty: any host whose every address is public
  /// (http::classifyAddress: not loopback, private, link-local, unique-local, CGNAT,
  /// unspecified, multicast, broadcast, reserved, nor such an IPv4 address embedded in IPv6),
  /// and the `own_hosts`. Non-empty: only these hosts and `own_hosts`. A listed host is
  /// allowed whatever it resolves to.
  std::vector<std::string> allowed_hosts;
  /// The hosts the operator configured for the connection (upstream URL, issuer, endpoints),
  /// always allowed.
  std::vector<std::string> own_hosts;
};

/// OK when Tether may fetch `url` under `policy` as far as the URL shows; kInvalidArgument
/// naming `what`, the URL's host and the rule otherwise (e.g. "authorization server
/// "https://0x7f000002/" is on host 127.0.0.2, a loopback address 127.0.0.2 ..., not allowed
/// for discovery; list it in discovery.allowed_hosts to allow it"). The addresses a host
/// name resolves to are checked when Discovery connects.
core::Status checkDiscoveryUrl(std::string_view url, const DiscoveryPolicy& policy,
                               std::string_view what);

/// The connect guard Discovery puts on its requests, for other calls to URLs a metadata
/// document named (the RFC 7009 revocation endpoint, the inbound issuer's discovered `jwks_uri`): every address the host resolves
/// to must pass `policy`.
std::shared_ptr<const http::ConnectGuard> makeDiscoveryGuard(const DiscoveryPolicy& policy);

/// The host of an http(s) URL as the HTTP client reads it (http::parseClientUrl: lower case,
/// IPv6 without brackets, numeric IPv4 normalised); empty if it does not parse.
std::string urlHost(std::string_view url);

struct DiscoveryOptions {
  DiscoveryPolicy policy;
  size_t max_document_bytes = 256 * 1024;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{10'000};
  std::string ca_bundle;  // PEM trusted in addition to the system roots; empty: none
  bool use_proxy = true;
};

/// What an unauthenticated request to an MCP upstream said about its authorization.
struct ResourceChallenge {
  int status = 0;
  std::string resource_metadata;  // RFC 9728 §5.1 parameter; empty when absent
  std::string scope;              // the challenge's scope parameter; empty when absent
};

/// The outcome of discovery for one resource.
struct DiscoveredServer {
  std::string resource;  // the protected resource's identifier (RFC 9728), empty if unknown
  std::string issuer;
  AuthorizationServerMetadata metadata;
  /// Scopes to ask for: the 401 challenge's, else the resource's scopes_supported, else
  /// empty (the caller falls back to the configured ones).
  std::string scopes;
};

class Discovery {
 public:
  /// `http` must outlive this object.
  Discovery(http::HttpClient& http, DiscoveryOptions options);

  /// An unauthenticated JSON-RPC POST to the MCP endpoint, to read its 401 challenge.
  core::Result<ResourceChallenge> probe(std::string_view resource_url) const;

  /// Protected-resource metadata: from `metadata_url` when the challenge named one, else
  /// the well-known path form, then the root. Checks the document's `resource` covers
  /// `resource_url`.
  core::Result<ProtectedResourceMetadata> protectedResource(std::string_view resource_url,
                                                            std::string_view metadata_url) const;

  /// Authorization-server metadata for `issuer` from the first well-known URL that has a
  /// document (RFC 8414 path-insert, OIDC path-insert, OIDC path-append); the document's
  /// issuer must equal `issuer` and its endpoints must pass the URL policy.
  core::Result<AuthorizationServerMetadata> authorizationServer(std::string_view issuer) const;

  /// The whole chain for an MCP upstream known only by URL: probe, protected-resource
  /// metadata, its first authorization server's metadata.
  core::Result<DiscoveredServer> discoverForResource(std::string_view resource_url) const;

  /// RFC 7591 registration at `registration_endpoint` (checked like every discovered URL,
  /// no redirect followed, the answer bounded by max_document_bytes). A server that refuses
  /// the metadata (400 invalid_client_metadata) is asked once more without the optional
  /// members; RegisteredClient::dropped_fields says which were left out. Errors name the
  /// endpoint (see parseRegistrationResponse); nothing is stored here.
  core::Result<RegisteredClient> registerClient(std::string_view registration_endpoint,
                                                const RegistrationRequest& request) const;

 private:
  struct Fetched {
    int status = 0;
    std::string body;
    http::Headers headers;
  };
  core::Result<Fetched> fetch(http::ClientRequest request, std::string_view what) const;
  /// (url, body) of the first URL that answers 200; kNotFound listing what each answered.
  core::Result<std::pair<std::string, std::string>> firstDocument(
      const std::vector<std::string>& urls, std::string_view what, std::string_view subject) const;

  http::HttpClient& http_;
  DiscoveryOptions options_;
  std::shared_ptr<const http::ConnectGuard> guard_;  // options_.policy, at connect time
};

}  // namespace tether::oauth
