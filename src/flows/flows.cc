#include "flows/flows.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/encoding.h"
#include "core/log.h"
#include "core/random.h"
#include "flows/client_selection.h"
#include "flows/scope_selection.h"
#include "flows/stored_client.h"
#include "oauth/pkce.h"
#include "oauth/requests.h"
#include "oauth/sanitize.h"

namespace tether::flows {
namespace {

using core::Errc;
using core::Error;
using store::EventType;

// Auth events a status lookup reads back for a flow (newest first).
constexpr int kStatusHistory = 200;
// How long after a flow's expiry a callback may still be exchanging its code.
constexpr auto kExchangeGrace = std::chrono::minutes(1);

// scheme://host[:port] in lower case, default ports dropped; empty if `url` does not parse.
std::string originOf(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return {};
  const auto& u = *parsed;
  const std::string scheme = core::toLower(u.scheme());
  if ((scheme != "http" && scheme != "https") || u.encoded_host().empty()) return {};
  std::string out = scheme + "://" + core::toLower(u.encoded_host_and_port());
  const std::string_view default_port = scheme == "https" ? ":443" : ":80";
  if (out.ends_with(default_port)) out.resize(out.size() - default_port.size());
  return out;
}

// The state parameter of an authorization URL Tether built.
std::string stateOf(std::string_view authorization_url) {
  auto parsed = boost::urls::parse_uri(authorization_url);
  if (!parsed) return {};
  auto params = parsed->params();
  auto it = params.find("state");
  return it == params.end() ? std::string() : std::string((*it).value);
}

}  // namespace

std::string_view flowOutcomeName(FlowOutcome outcome) {
  switch (outcome) {
    case FlowOutcome::kPending:
      return "pending";
    case FlowOutcome::kCompleted:
      return "completed";
    case FlowOutcome::kFailed:
      return "failed";
  }
  return "pending";
}

struct Flows::Resolution {
  store::OAuthEndpoints endpoints;
  oauth::AuthorizationServerMetadata metadata;  // empty when only configured endpoints
  bool have_metadata = false;
};

Flows::Flows(std::vector<FlowConnection> connections, store::Store& store, http::HttpClient& http,
             events::Recorder& recorder, const core::Clock& clock, FlowOptions options,
             ConnectedHook on_connected, core::MetricsRegistry* metrics)
    : store_(store),
      http_(http),
      recorder_(recorder),
      clock_(clock),
      options_(std::move(options)),
      on_connected_(std::move(on_connected)) {
  while (!options_.public_url.empty() && options_.public_url.back() == '/') {
    options_.public_url.pop_back();
  }
  redirect_uri_ = options_.public_url + "/oauth/callback";
  public_origin_ = originOf(options_.public_url);
  metrics_ = metrics;
  setConnections(std::move(connections));
}

void Flows::setConnections(std::vector<FlowConnection> connections) {
  auto next = std::make_shared<ConnectionMap>();
  for (auto& c : connections) {
    if (metrics_ && !c.client_credentials) {
      std::lock_guard lock(mu_);
      if (!outcomes_.contains(c.key)) {
        auto& counters = outcomes_[c.key];
        for (size_t i = 0; i < kCallbackOutcomes; ++i) {
          counters[i] = &metrics_->counter(
              "tether_connect_flows_total", "Connect flow callbacks by connection and outcome",
              {{"kind", c.key.kind},
               {"name", c.key.name},
               {"outcome", std::string(callbackOutcomeName(static_cast<CallbackOutcome>(i)))}});
        }
      }
    }
    auto key = c.key;
    next->emplace(std::move(key), std::move(c));
  }
  std::shared_ptr<const ConnectionMap> published = std::move(next);
  {
    std::lock_guard lock(connections_mu_);
    connections_.swap(published);
  }
  // A flow started on old settings stays pending in the store (a repeated start finds it
  // there); only this process's shortcut is forgotten.
  std::lock_guard lock(mu_);
  started_.clear();
}

void Flows::count(const store::ConnectionKey& key, CallbackOutcome outcome) {
  // Only configured connections: a label never comes from the request.
  core::Counter* counter = nullptr;
  {
    std::lock_guard lock(mu_);
    if (auto it = outcomes_.find(key); it != outcomes_.end()) {
      counter = it->second[static_cast<size_t>(outcome)];
    }
  }
  if (counter) counter->inc();
}

Flows::~Flows() = default;

bool Flows::has(const store::ConnectionKey& key) const { return find(key) != nullptr; }

std::shared_ptr<const FlowConnection> Flows::find(const store::ConnectionKey& key) const {
  std::shared_ptr<const ConnectionMap> connections;
  {
    std::lock_guard lock(connections_mu_);
    connections = connections_;
  }
  auto it = connections->find(key);
  // Aliasing: the entry keeps its whole (immutable) set alive while a flow uses it.
  return it == connections->end() ? nullptr
                                  : std::shared_ptr<const FlowConnection>(connections, &it->second);
}

std::mutex& Flows::keyMutex(const store::ConnectionKey& key) {
  std::lock_guard lock(mu_);
  auto& m = key_mutexes_[key];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

std::string Flows::acceptableReturnUrl(const std::string& requested) const {
  if (requested.empty()) return {};
  const bool has_control = std::any_of(requested.begin(), requested.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\';
  });
  if (!has_control) {
    if (requested.front() == '/' && !requested.starts_with("//")) {
      return public_origin_ + requested;
    }
    auto parsed = boost::urls::parse_uri(requested);
    if (parsed && !parsed->has_userinfo() && !public_origin_.empty() &&
        originOf(requested) == public_origin_) {
      return requested;
    }
  }
  core::log::warn(
      "connect flow: return URL refused (not the gateway's own origin); the "
      "portal is used instead",
      {{"return_url", oauth::displayUrl(requested)}, {"origin", public_origin_}});
  return portalUrl();
}

core::Result<Flows::Resolution> Flows::resolve(const FlowConnection& conn,
                                               const std::string& correlation) {
  oauth::DiscoveryOptions dopts;
  dopts.policy.allowed_hosts = options_.allowed_hosts;
  for (const std::string* url :
       {&conn.upstream_url, &conn.issuer, &conn.oauth.authorization_url, &conn.oauth.token_url}) {
    if (auto host = oauth::urlHost(*url); !host.empty()) dopts.policy.own_hosts.push_back(host);
  }
  dopts.max_document_bytes = options_.max_document_bytes;
  dopts.total_timeout = options_.discovery_timeout;
  dopts.ca_bundle = conn.oauth.ca_bundle;
  oauth::Discovery discovery(http_, dopts);

  Resolution r;
  r.endpoints.key = conn.key;
  r.endpoints.issuer = conn.issuer;
  r.endpoints.scopes = conn.oauth.scopes;
  r.endpoints.resource = conn.oauth.resource;
  const bool configured = !conn.oauth.authorization_url.empty() && !conn.oauth.token_url.empty();
  std::string discovered_scopes;
  if (!conn.issuer.empty() && (!configured || !conn.client_id_configured)) {
    auto md = discovery.authorizationServer(conn.issuer);
    if (!md.ok()) return std::move(md).takeError();
    r.metadata = std::move(md).value();
    r.have_metadata = true;
  } else if (!configured) {
    auto found = discovery.discoverForResource(conn.upstream_url);
    if (!found.ok()) return std::move(found).takeError();
    r.endpoints.issuer = found->issuer;
    discovered_scopes = found->scopes;
    // RFC 8707: the resource the protected-resource metadata names (unless turned off).
    if (!conn.oauth.resource.empty()) r.endpoints.resource = found->resource;
    r.metadata = std::move(found->metadata);
    r.have_metadata = true;
    core::log::info("connect flow: authorization server discovered from the upstream",
                    {{"connection", conn.key.str()},
                     {"correlation_id", correlation},
                     {"issuer", r.endpoints.issuer}});
  }
  if (r.have_metadata) {
    if (auto st = oauth::requireS256(r.metadata); !st.ok()) return st.error();
    r.endpoints.authorization_endpoint = r.metadata.authorization_endpoint;
    r.endpoints.token_endpoint = r.metadata.token_endpoint;
    r.endpoints.registration_endpoint = r.metadata.registration_endpoint;
    r.endpoints.iss_parameter_supported = r.metadata.iss_parameter_supported;
  }
  // Scope selection (flows/scope_selection.h), with what a step-up left for this connect.
  auto state = store_.getState(conn.key);
  const auto scopes = selectScopes(
      {conn.oauth.scopes, discovered_scopes, state.ok() && *state ? (*state)->step_up_scopes : ""});
  r.endpoints.scopes = scopes.scopes;
  core::log::info("connect flow: scopes selected", {{"connection", conn.key.str()},
                                                    {"correlation_id", correlation},
                                                    {"scopes", scopes.scopes},
                                                    {"source", scopes.source},
                                                    {"warning", scopes.warning}});
  // Endpoints the operator configured win over discovered ones.
  if (!conn.oauth.authorization_url.empty()) {
    r.endpoints.authorization_endpoint = conn.oauth.authorization_url;
  }
  if (!conn.oauth.token_url.empty()) r.endpoints.token_endpoint = conn.oauth.token_url;
  return r;
}

core::Result<std::pair<std::string, bool>> Flows::clientFor(
    const FlowConnection& conn, const oauth::AuthorizationServerMetadata& md,
    const std::string& issuer, const std::string& scopes, const std::string& correlation,
    const std::string& actor) {
  const std::string key =
      clientKey(issuer, md.token_endpoint.empty() ? conn.oauth.token_url : md.token_endpoint);
  const ClientSelectionDeps deps{store_, http_, recorder_, options_, redirect_uri_};
  auto chosen = chooseClient(deps, conn, md, key, scopes, correlation, actor);
  if (!chosen.ok()) return std::move(chosen).takeError();
  return std::make_pair(chosen->client_id, chosen->source != ClientSource::kConfigured);
}

core::Result<StartedFlow> Flows::start(const store::ConnectionKey& key,
                                       const std::string& started_by,
                                       const std::string& return_url) {
  const auto conn = find(key);
  if (!conn) {
    return Error(Errc::kNotFound, "no OAuth connection " + key.str() + " is configured");
  }
  if (conn->client_credentials) {
    return Error(Errc::kInvalidArgument,
                 "connection " + key.str() +
                     " uses the client_credentials grant; it needs no browser sign-in (Tether "
                     "fetches its tokens itself)");
  }
  std::lock_guard key_lock(keyMutex(key));
  const core::TimePoint now = clock_.now();
  {
    std::lock_guard lock(mu_);
    auto it = started_.find(key);
    if (it != started_.end()) {
      if (it->second.expires_at > now) {
        StartedFlow same = it->second;
        same.created = false;
        return same;
      }
      started_.erase(it);
    }
  }
  const std::string correlation = core::newId();
  auto resolution = resolve(*conn, correlation);
  if (!resolution.ok()) {
    core::log::warn("connect flow refused", {{"connection", key.str()},
                                             {"correlation_id", correlation},
                                             {"error", resolution.error().message}});
    // A document the IdP or upstream served was refused: a bad gateway, not a bad request.
    if (resolution.error().code == Errc::kInvalidArgument) {
      return Error(Errc::kUpstreamError, resolution.error().message);
    }
    return std::move(resolution).takeError();
  }
  store::OAuthEndpoints& endpoints = resolution->endpoints;
  const bool offline = askOfflineAccess(*conn, resolution->metadata, endpoints.scopes);
  auto client = clientFor(*conn, resolution->metadata, endpoints.issuer, endpoints.scopes,
                          correlation, started_by);
  if (!client.ok()) return std::move(client).takeError();
  if (auto st = store_.putEndpoints(endpoints); !st.ok()) return st.error();

  oauth::OAuthClientConfig cfg = conn->oauth;
  cfg.authorization_url = endpoints.authorization_endpoint;
  cfg.token_url = endpoints.token_endpoint;
  cfg.client_id = client->first;
  cfg.scopes = endpoints.scopes;
  cfg.resource = endpoints.resource;
  if (offline) addConsentPrompt(resolution->metadata, cfg.extra_params);
  const auto pkce = oauth::generatePkce();
  oauth::AuthorizationRequest areq;
  areq.redirect_uri = redirect_uri_;
  areq.state = core::randomToken(32);
  areq.code_challenge = pkce.challenge;
  auto url = oauth::buildAuthorizationUrl(cfg, areq);
  if (!url.ok()) {
    return Error(
        Errc::kInvalidArgument,
        "connection " + key.str() + ": cannot build the authorization URL: " + url.error().message);
  }
  (void)store_.expirePendingFlows();
  store::PendingFlow flow;
  flow.state = areq.state;
  flow.key = key;
  flow.pkce_verifier = pkce.verifier;
  flow.return_url = acceptableReturnUrl(return_url);
  flow.started_by = started_by;
  flow.issuer = endpoints.issuer;
  flow.correlation_id = correlation;
  flow.client_id = client->first;
  flow.authorization_url = *url;
  flow.expires_at = now + options_.ttl;
  auto created = store_.createPendingFlow(flow);
  if (!created.ok()) return std::move(created).takeError();

  StartedFlow out;
  out.redirect_uri = redirect_uri_;
  out.created = created->created;
  if (created->created) {
    out.authorization_url = *url;
    out.state = areq.state;
    out.expires_at = flow.expires_at;
    out.correlation_id = correlation;
    events::Detail detail;
    // How the authorization server was found (shown in the history).
    detail.reason = !resolution->have_metadata ? "configured_endpoints"
                    : conn->issuer.empty()     ? "discovered_from_upstream"
                                               : "issuer_metadata";
    recorder_.record({EventType::kConnectStarted, key, started_by,
                      oauth::urlHost(endpoints.token_endpoint), correlation, detail});
    core::log::info("connect flow started", {{"connection", key.str()},
                                             {"correlation_id", correlation},
                                             {"started_by", started_by},
                                             {"issuer", endpoints.issuer},
                                             {"expires_at", core::formatRfc3339(flow.expires_at)}});
  } else {
    // Another replica (or an earlier process) has one pending: hand out that one.
    out.authorization_url = created->flow.authorization_url;
    out.state = stateOf(created->flow.authorization_url);
    out.expires_at = created->flow.expires_at;
    out.correlation_id = created->flow.correlation_id;
  }
  std::lock_guard lock(mu_);
  started_[key] = out;
  return out;
}

core::Result<FlowStatus> Flows::status(const store::ConnectionKey& key,
                                       const std::string& correlation_id) {
  auto events = store_.recentEvents(key, kStatusHistory);
  if (!events.ok()) return std::move(events).takeError();
  std::optional<core::TimePoint> started_at;
  for (const auto& e : *events) {
    if (e.correlation_id != correlation_id) continue;
    if (e.type == EventType::kConnectStarted) {
      started_at = e.at;
      continue;
    }
    if (e.type != EventType::kConnectCompleted && e.type != EventType::kConnectFailed) continue;
    FlowStatus s;
    s.outcome =
        e.type == EventType::kConnectCompleted ? FlowOutcome::kCompleted : FlowOutcome::kFailed;
    boost::system::error_code ec;
    auto v = boost::json::parse(e.detail_json, ec);
    if (!ec && v.is_object()) {
      if (const auto* r = v.as_object().if_contains("reason"); r && r->is_string()) {
        s.reason = std::string(r->as_string());
      }
      if (const auto* r = v.as_object().if_contains("idp_error"); r && r->is_string()) {
        s.idp_error = std::string(r->as_string());
      }
    }
    return s;
  }
  if (!started_at) {
    // Not in the history: unknown (a typo, another connection's id, or older than the last
    // kStatusHistory events). Reporting "pending" here left `tether login` waiting forever.
    return Error(Errc::kNotFound, "connection " + key.str() + " has no connect flow " +
                                      correlation_id.substr(0, 64) + " in its recent history");
  }
  // A flow nobody completed within its lifetime cannot complete any more. The grace covers
  // a callback that took the flow just in time and is still exchanging the code.
  if (clock_.now() >= *started_at + options_.ttl + kExchangeGrace) {
    FlowStatus s;
    s.outcome = FlowOutcome::kFailed;
    s.reason = "expired";
    return s;
  }
  return FlowStatus{};
}

}  // namespace tether::flows
