#pragma once
/// The interactive connect flow (authorization code + PKCE S256) of OAuth connections:
/// start → the operator's browser at the IdP → callback → tokens stored → connected.
///
/// - start: resolves the connection's authorization server (configured endpoints, the
///   issuer's metadata, or for an MCP connection known only by URL the MCP spec's
///   discovery chain), picks the client (flows/client_selection.h: configured, Client ID
///   Metadata Document, or an RFC 7591 registration stored sealed per issuer), asks for
///   offline_access when the server offers it, and stores a pending flow for 10 minutes. One
///   flow per connection at a time: a start while one is pending returns that one (same
///   state, same URL), here or on any replica.
/// - callback: takes the flow once (single use, not expired), checks the RFC 9207 `iss`,
///   exchanges the code, writes the tokens under the connection's store lock, records
///   connect_completed (or connect_failed with the sanitized IdP code) and tells the
///   lifecycle. A failure never touches the connection's existing tokens.
///
/// Every flow has a correlation id carried into each of its log lines and events.
///
/// Thread-safety: all methods may be called from any thread; they block on the store and
/// the IdP (never call them on a server I/O thread).

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"
#include "events/recorder.h"
#include "http/http_client.h"
#include "oauth/client_config.h"
#include "oauth/discovery.h"
#include "store/store.h"

namespace tether::flows {

/// One OAuth connection as the connect flow needs it (from the configuration).
struct FlowConnection {
  store::ConnectionKey key;
  std::string upstream_url;
  bool client_credentials = false;  // no browser flow for these
  /// Configured issuer; empty: the configured endpoints, or discovery from the upstream.
  std::string issuer;
  /// Configured settings: endpoints (may be empty), client (client_id empty when it is to
  /// be registered), scopes, extra parameters, CA bundle, timeouts. `resource` is the
  /// upstream URL, or empty when resource indicators are off.
  oauth::OAuthClientConfig oauth;
  bool client_id_configured = false;
};

struct FlowOptions {
  /// Tether's public base URL: the redirect URI is public_url + "/oauth/callback", and
  /// return URLs must have its origin.
  std::string public_url;
  core::Duration ttl = std::chrono::minutes(10);
  std::vector<std::string> allowed_hosts;  // discovery.allowed_hosts
  size_t max_document_bytes = 256 * 1024;
  std::chrono::milliseconds discovery_timeout{10'000};
};

/// The answer to a start.
struct StartedFlow {
  std::string authorization_url;
  std::string state;
  std::string redirect_uri;
  core::TimePoint expires_at{};
  std::string correlation_id;
  bool created = false;  // false: the flow already pending was returned
};

/// The callback's answer: a redirect (location set) or an HTML page.
struct CallbackPage {
  int status = 200;
  std::string location;
  std::string html;
};

/// What a connect flow leaves behind for the lifecycle: the OAuth settings that refresh
/// the connection from now on, and the IdP host for events.
struct ResolvedConnection {
  oauth::OAuthClientConfig oauth;
  std::string idp_host;
};

/// The outcome of a flow, looked up by correlation id (for `tether login`).
enum class FlowOutcome { kPending, kCompleted, kFailed };
struct FlowStatus {
  FlowOutcome outcome = FlowOutcome::kPending;
  std::string reason;  // on failure: Tether's reason or the IdP's sanitized code
  std::string idp_error;
};
std::string_view flowOutcomeName(FlowOutcome outcome);  // pending | completed | failed

/// How a callback ended, for tether_connect_flows_total{kind,name,outcome}: connected,
/// denied (the user refused: access_denied), failed (any other refusal or error), expired
/// (the flow's 10 minutes had passed). A flow never called back is not counted.
enum class CallbackOutcome { kConnected, kDenied, kFailed, kExpired };
inline constexpr size_t kCallbackOutcomes = 4;
inline std::string_view callbackOutcomeName(CallbackOutcome outcome) {
  constexpr std::string_view kNames[kCallbackOutcomes] = {"connected", "denied", "failed",
                                                          "expired"};
  return kNames[static_cast<size_t>(outcome)];
}

class Flows {
 public:
  /// Called after a flow stored fresh tokens (on the callback's thread).
  using ConnectedHook = std::function<void(const store::ConnectionKey&, const ResolvedConnection&)>;

  /// `store`, `http`, `recorder` and `clock` (and `metrics`, which may be null) must
  /// outlive this object. With `metrics`, every outcome of every connection with a browser
  /// flow starts at 0 in tether_connect_flows_total.
  Flows(std::vector<FlowConnection> connections, store::Store& store, http::HttpClient& http,
        events::Recorder& recorder, const core::Clock& clock, FlowOptions options,
        ConnectedHook on_connected = {}, core::MetricsRegistry* metrics = nullptr);
  ~Flows();

  /// Starts (or returns the pending) flow. `started_by` is the actor ("admin:<id>"),
  /// `return_url` where the browser goes after success (same origin as public_url, else
  /// the portal). Errors: kNotFound (no such OAuth connection), kInvalidArgument
  /// (client_credentials connection; metadata refused: issuer mismatch, no S256, a host
  /// the policy refuses, a document too large), kUnavailable (IdP or store unreachable).
  core::Result<StartedFlow> start(const store::ConnectionKey& key, const std::string& started_by,
                                  const std::string& return_url);

  /// Handles GET /oauth/callback with its decoded query parameters.
  CallbackPage callback(const std::map<std::string, std::string>& query);

  /// The OAuth settings a connection refreshes with after a past flow (stored endpoints and
  /// registered client over the configured settings); nullopt when the configuration is
  /// complete on its own or nothing was resolved yet.
  core::Result<std::optional<ResolvedConnection>> resolved(const store::ConnectionKey& key);

  /// How the flow with `correlation_id` ended, from the connection's auth events (so any
  /// replica answers): kPending while neither outcome is recorded and the flow may still
  /// complete, kFailed with reason "expired" once its lifetime (plus a minute for a code
  /// exchange in progress) has passed. kNotFound when the connection's recent history (200
  /// events) has no flow with that id.
  core::Result<FlowStatus> status(const store::ConnectionKey& key,
                                  const std::string& correlation_id);

  /// The redirect URI registered and sent to IdPs.
  const std::string& redirectUri() const { return redirect_uri_; }
  /// Where the browser goes when no (acceptable) return URL was given.
  std::string portalUrl() const { return options_.public_url + "/portal/"; }

  /// True when `key` is an OAuth connection this object knows.
  bool has(const store::ConnectionKey& key) const;

  /// Replaces the set of OAuth connections (app/live_connections.h). A flow already started
  /// keeps the settings it started with; its callback uses the connection's current ones
  /// (and fails naming it when it was removed). Thread-safe.
  void setConnections(std::vector<FlowConnection> connections);

 private:
  struct Resolution;
  core::Result<Resolution> resolve(const FlowConnection& conn, const std::string& correlation);
  core::Result<std::pair<std::string, bool>> clientFor(const FlowConnection& conn,
                                                       const oauth::AuthorizationServerMetadata& md,
                                                       const std::string& issuer,
                                                       const std::string& scopes,
                                                       const std::string& correlation,
                                                       const std::string& actor);
  std::string acceptableReturnUrl(const std::string& requested) const;
  CallbackPage fail(const store::PendingFlow& flow, const std::string& reason,
                    const std::string& idp_error, std::optional<int> http_status, int page_status,
                    const std::string& title, const std::string& what_to_do);
  using ConnectionMap = std::map<store::ConnectionKey, FlowConnection>;
  std::shared_ptr<const FlowConnection> find(const store::ConnectionKey& key) const;
  void count(const store::ConnectionKey& key, CallbackOutcome outcome);
  std::mutex& keyMutex(const store::ConnectionKey& key);

  mutable std::mutex connections_mu_;  // guards the pointer copy only
  std::shared_ptr<const ConnectionMap> connections_;
  core::MetricsRegistry* metrics_ = nullptr;
  store::Store& store_;
  http::HttpClient& http_;
  events::Recorder& recorder_;
  const core::Clock& clock_;
  FlowOptions options_;
  ConnectedHook on_connected_;
  std::string redirect_uri_;
  std::string public_origin_;

  std::mutex mu_;  // guards outcomes_, key_mutexes_ and started_
  std::map<store::ConnectionKey, std::array<core::Counter*, kCallbackOutcomes>> outcomes_;
  std::map<store::ConnectionKey, std::unique_ptr<std::mutex>> key_mutexes_;
  // Flows started by this process and not yet called back: a repeated start answers from
  // here without a store round trip or a second discovery.
  std::map<store::ConnectionKey, StartedFlow> started_;
};

/// A minimal HTML page (title, message, what to do next); every argument is escaped.
std::string renderPage(std::string_view title, std::string_view message, std::string_view next_step,
                       std::string_view link_url = {}, std::string_view link_text = {});

}  // namespace tether::flows
