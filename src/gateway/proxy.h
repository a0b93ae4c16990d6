#pragma once
/// The data plane (DESIGN.md §8): `/mcp/{name}` relays MCP Streamable HTTP and
/// `/api/{name}/{path...}` relays plain HTTP to each connection's upstream, with the
/// connection's credential injected and the caller's own never forwarded.
///
/// Per call: check the caller (Host among the listener's names, no `Sec-Fetch-Site:
/// cross-site`, Origin allow-list, gateway client key: gateway/client_guard.h, or with
/// `inbound:` a bearer token of the organisation's IdP: gateway/inbound_auth.h, whose
/// subject goes to the access log and, as `user:<sub>`, to the auth events); find the
/// connection (404 naming it when unknown); refuse an `/api` target that could step outside
/// the connection's base path or is not plain ASCII (400: upstream_url.h); get the credential
/// (static bearer / API key from the config, or an OAuth access token from the connection's
/// lifecycle::TokenProvider); relay through the UpstreamClient (SSE and large bodies
/// streamed chunk by chunk, small answers sent whole). When no token can be had the caller
/// gets an actionable error from the one error table (needs_reauth: 424 naming the
/// connection and its portal link; temporarily unavailable: 503 with Retry-After), as a
/// JSON-RPC error object for MCP POSTs — never a bare 401, which would send MCP clients
/// into an OAuth dance against the gateway. An upstream 401 to an OAuth token makes the
/// proxy invalidate it, acquire again and replay the (kept) request once; a second 401, or
/// one to a static credential, becomes the same kind of actionable error. Upstream
/// unreachable: 502; no answer in time: 504; both name the connection.
///
/// Request bodies are buffered by the server up to the route limit (413 beyond);
/// responses stream both ways as described in gateway/upstream_client.h. Every relayed
/// answer gets nosniff and `Content-Security-Policy: sandbox` and loses Set-Cookie unless
/// the connection sets forward_set_cookie (applyRelayPolicy in gateway/header_policy.h).
///
/// The connection set and the caller checks (client keys, allowed origins) can be replaced
/// while serving (update(): SIGHUP, connections made through the admin API). Each call reads
/// one immutable snapshot of them (one pointer copy under a mutex held for nothing else) and
/// holds its connection by shared_ptr: a call in flight finishes on the settings it started
/// with; a removed connection answers 404 to new calls.
///
/// Thread-safety: update() may run on any thread (serialized); handlers run on the server's I/O
/// threads and each call stays on the thread that received it (token callbacks arriving on a worker
/// thread are posted back). Shutdown order: stop the http::Server, join the token
/// providers' worker threads, then destroy the Proxy and the Server (a token callback posts
/// to the server's io_context, which lives until the Server is destroyed; one that arrives
/// after the Proxy is gone is ignored).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"
#include "gateway/inbound_auth.h"
#include "gateway/last_use.h"
#include "gateway/upstream_client.h"
#include "http/router.h"
#include "lifecycle/token_provider.h"
#include "store/types.h"

namespace tether::gateway {

/// The token provider of an OAuth connection, or null when it has none (yet: calls then get
/// 503 naming the connection). Called for each OAuth connection when a set is installed
/// (create(), update()), not per call: install the set again when the providers change. A
/// call holds the provider it started with until it ends.
using ProviderLookup = std::function<std::shared_ptr<lifecycle::TokenProvider>(
    config::ConnectionKind kind, std::string_view name)>;

struct ProxyOptions {
  /// Base of portal links in needs_reauth errors (Config::public_url).
  std::string public_url = "http://127.0.0.1:8080";
  /// Gateway client keys (Config::clients.keys); empty: callers are not authenticated.
  std::vector<config::AccessKey> client_keys;
  /// Config::allowed_origins (normalised origins). See ClientGuard for the empty case.
  std::vector<std::string> allowed_origins;
  /// The listener the gateway routes are served on and Config::server.allowed_hosts: the
  /// names accepted in Host (HostGuard). Port 0: any port.
  config::HostPort listen;
  std::vector<std::string> allowed_hosts;
  /// Largest request body on the proxy routes (413 beyond); 0: the server's default.
  size_t max_request_body_bytes = 0;
  /// First-byte deadline of connections without their own `timeout`.
  std::chrono::milliseconds default_timeout{60'000};
  /// Connect deadline, stream idle deadline, header and body limits. `first_byte_timeout`
  /// is replaced per connection (its timeout, else default_timeout).
  UpstreamLimits limits;
  UpstreamClientOptions pool;
  /// Extra trusted CA bundle (PEM) for https upstreams with a private CA; empty: system
  /// roots only.
  std::string upstream_ca_bundle;
  /// `inbound:` (used only when ProxyDeps::validator is set): the issuer, audience and
  /// scopes callers' bearer tokens are checked against (gateway/inbound_auth.h).
  InboundOptions inbound;
};

struct ProxyDeps {
  ProviderLookup providers;                  // required when any connection uses oauth
  core::MetricsRegistry* metrics = nullptr;  // optional
  const core::Clock* clock = nullptr;        // Retry-After; default: the system clock
  std::unique_ptr<UpstreamClient> upstream;  // default: makeUpstreamClient(options.pool)
  /// Where each call to a connection is recorded ("Last used"); optional, must outlive the
  /// proxy. Slots are made in create().
  LastUseTracker* last_use = nullptr;
  /// Set when `inbound:` is configured: callers may present the issuer's bearer tokens
  /// (besides client keys) and the RFC 9728 metadata routes are served.
  std::shared_ptr<identity::Validator> validator;
};

class Proxy {
 public:
  /// Checks every connection's URL. kConfig naming the connection when one is unusable.
  static core::Result<std::unique_ptr<Proxy>> create(
      const std::vector<config::ConnectionConfig>& connections, ProxyOptions options,
      ProxyDeps deps);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  /// Replaces the connection set and the caller checks (`clients.keys`, `allowed_origins`;
  /// the other options are fixed at create()) in one swap, resolving each OAuth connection's
  /// provider again. Checks every connection first: kConfig naming the first unusable one,
  /// and then nothing changes.
  ///
  /// `rebuild`, when given, names the connections whose settings (or token provider)
  /// changed: only those and the ones not yet served are built again; every other one keeps
  /// its running object (one change among N costs one build, not N). Null: all are built.
  core::Status update(const std::vector<config::ConnectionConfig>& connections,
                      const std::vector<config::AccessKey>& client_keys,
                      const std::vector<std::string>& allowed_origins,
                      const std::set<store::ConnectionKey>* rebuild = nullptr);

  /// How many per-connection objects update() and create() have built so far (tests,
  /// diagnostics: a change of one connection must build one).
  uint64_t connectionsBuilt() const;

  /// Adds POST/GET/DELETE `/mcp/{name}` and any-method `/api/{name}/{path*}`, and with
  /// inbound tokens on the protected-resource metadata routes.
  void registerRoutes(http::Router& router);

 private:
  class Impl;
  explicit Proxy(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;  // shared: late token callbacks hold it weakly
};

/// ProxyOptions from the loaded configuration (public_url, clients.keys, allowed_origins,
/// listen, server.allowed_hosts, inbound).
ProxyOptions proxyOptionsFromConfig(const config::Config& config);

}  // namespace tether::gateway
