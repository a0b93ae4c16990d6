#include "gateway/proxy.h"

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/encoding.h"
#include "core/log.h"
#include "gateway/client_guard.h"
#include "gateway/error_reply.h"
#include "gateway/header_policy.h"
#include "gateway/inbound_auth_caller.h"
#include "gateway/protocol.h"
#include "gateway/step_up.h"
#include "http/trace_context.h"
#include "oauth/scopes.h"
#include "oauth/www_authenticate.h"

namespace tether::gateway {

namespace {

using config::AuthMode;
using config::ConnectionKind;

constexpr size_t kStatusSlots = 600;

// One configured connection, resolved when its set is installed (create, update). Immutable
// then; a call holds it by shared_ptr, so an update never pulls it from under a call.
struct Connection {
  ConnectionKind kind = ConnectionKind::kMcp;
  store::ConnectionKey key;                            // {"mcp"|"api", name}
  std::string label;                                   // "mcp/name"
  std::string_view access_log_label;                   // the same, interned: outlives every request
  std::shared_ptr<lifecycle::TokenProvider> provider;  // oauth; null until there is one
  AuthMode mode = AuthMode::kNone;
  bool forward_set_cookie = false;
  std::string static_header;  // bearer: Authorization; api_key: the configured header
  std::string static_value;
  std::shared_ptr<const UpstreamEndpoint> endpoint;
  std::string mcp_target;
  std::chrono::milliseconds first_byte_timeout{0};
  std::string reconnect_url;
  LastUseTracker::Slot* last_use = nullptr;  // "Last used" in the portal; null: not tracked
  core::Histogram* latency = nullptr;
  core::Counter* replays = nullptr;
  // tether_proxy_requests_total by status, resolved lazily (lock-free once resolved).
  mutable std::array<std::atomic<core::Counter*>, kStatusSlots> by_status{};
};

// One proxied call. Shared by the callbacks that carry it across threads and attempts.
struct Call {
  std::shared_ptr<const Connection> conn;
  Surface surface = Surface::kMcp;
  void* io_context = nullptr;
  std::thread::id io_thread;
  std::string method;
  std::string target;
  std::string header_lines;     // relayed client headers and X-Request-Id, serialized
  bool invalid_header = false;  // one of them could not be relayed (appendHeaderLine)
  std::shared_ptr<const std::string> body;
  std::string request_id;
  std::string actor{kToolCallActor};  // "user:<sub>" for a caller known by its token
  bool jsonrpc = false;               // MCP POST: errors as JSON-RPC objects
  int attempts = 0;
  lifecycle::TokenProvider* provider = nullptr;
  std::shared_ptr<const lifecycle::AccessToken> token;
  std::optional<http::Responder> responder;
  // Set by the head filter from an upstream 403 with error="insufficient_scope".
  std::optional<oauth::InsufficientScope> insufficient_scope;
};
using CallPtr = std::shared_ptr<Call>;

bool sameKeys(const std::vector<config::AccessKey>& a, const std::vector<config::AccessKey>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].sha256 != b[i].sha256) return false;
  }
  return true;
}

using ConnectionTable = std::map<std::string, std::shared_ptr<const Connection>, std::less<>>;

// What one call reads: the caller checks and the connections, swapped whole by update().
struct Snapshot {
  std::shared_ptr<const ClientGuard> guard;
  ConnectionTable mcp;
  ConnectionTable api;
};

}  // namespace

class Proxy::Impl : public std::enable_shared_from_this<Proxy::Impl> {
 public:
  Impl(ProxyOptions options, ProxyDeps deps)
      : options_(std::move(options)),
        providers_(std::move(deps.providers)),
        metrics_(deps.metrics),
        last_use_(deps.last_use),
        clock_(deps.clock ? deps.clock : &core::systemClock()),
        upstream_(deps.upstream ? std::move(deps.upstream) : makeUpstreamClient(options_.pool)),
        hosts_(options_.listen, options_.public_url, options_.allowed_hosts) {
    if (deps.validator) {
      inbound_ =
          std::make_unique<InboundCallers>(options_.inbound, std::move(deps.validator), metrics_,
                                           [this](void* io_context, std::function<void()> fn) {
                                             upstream_->post(io_context, std::move(fn));
                                           });
    }
  }

  // Builds the whole set aside, then publishes it in one swap; on an error nothing changes.
  core::Status update(const std::vector<config::ConnectionConfig>& connections,
                      const std::vector<config::AccessKey>& client_keys,
                      const std::vector<std::string>& allowed_origins,
                      const std::set<store::ConnectionKey>* rebuild = nullptr) {
    std::lock_guard writer(update_mu_);
    auto next = std::make_shared<Snapshot>();
    auto current = snapshot();
    for (const auto& c : connections) {
      if (rebuild && current && keepConnection(*current, *next, c, *rebuild)) continue;
      if (auto st = addConnection(*next, c); !st.ok()) return st;
    }
    if (current && current->guard && sameKeys(client_keys, client_keys_) &&
        allowed_origins == allowed_origins_) {
      next->guard = current->guard;
    } else {
      next->guard =
          std::make_shared<const ClientGuard>(client_keys, allowed_origins, options_.public_url);
      // A request's subject views its guard's key ids until the access log is written:
      // a replaced guard stays alive (client keys change only by a reload: few of them).
      if (current && current->guard) retired_guards_.push_back(current->guard);
      client_keys_ = client_keys;
      allowed_origins_ = allowed_origins;
    }
    std::shared_ptr<const Snapshot> published = std::move(next);
    std::lock_guard lock(snapshot_mu_);
    snapshot_.swap(published);
    return {};
  }

  std::shared_ptr<const Snapshot> snapshot() const {
    std::lock_guard lock(snapshot_mu_);
    return snapshot_;
  }

  // Moves `c`'s running object into `into` when it need not be built again; false when
  // it must be (named in `rebuild`, or not served yet).
  static bool keepConnection(const Snapshot& from, Snapshot& into,
                             const config::ConnectionConfig& c,
                             const std::set<store::ConnectionKey>& rebuild) {
    if (rebuild.contains({std::string(config::kindName(c.kind)), c.name})) return false;
    const auto& table = c.kind == ConnectionKind::kMcp ? from.mcp : from.api;
    auto it = table.find(c.name);
    if (it == table.end()) return false;
    auto& to = c.kind == ConnectionKind::kMcp ? into.mcp : into.api;
    return to.emplace(c.name, it->second).second;
  }

  core::Status addConnection(Snapshot& into, const config::ConnectionConfig& c) {
    built_.fetch_add(1, std::memory_order_relaxed);
    auto conn = std::make_shared<Connection>();
    conn->kind = c.kind;
    conn->key = {std::string(config::kindName(c.kind)), c.name};
    conn->label = conn->key.str();
    conn->access_log_label = *labels_.insert(conn->label).first;
    if (c.auth.mode == AuthMode::kOAuth) {
      if (!providers_) {
        return core::Error(core::Errc::kConfig, "connection " + conn->label +
                                                    " uses oauth but no token providers "
                                                    "were given to the proxy");
      }
      conn->provider = providers_(c.kind, c.name);
    }
    conn->mode = c.auth.mode;
    conn->forward_set_cookie = c.forward_set_cookie;
    if (c.auth.mode == AuthMode::kBearer) {
      conn->static_header = std::string(kAuthorization);
      conn->static_value = "Bearer " + c.auth.bearer_token;
    } else if (c.auth.mode == AuthMode::kApiKey) {
      conn->static_header = c.auth.api_key_header;
      conn->static_value = c.auth.api_key;
    }
    auto endpoint = parseUpstreamUrl(c.url, options_.upstream_ca_bundle);
    if (!endpoint.ok()) {
      return core::Error(core::Errc::kConfig,
                         "connection " + conn->label + ": " + endpoint.error().message);
    }
    conn->endpoint = std::make_shared<const UpstreamEndpoint>(std::move(endpoint).value());
    conn->mcp_target = mcpTarget(*conn->endpoint);
    conn->first_byte_timeout = c.timeout.value_or(options_.default_timeout);
    conn->reconnect_url = reconnectUrl(options_.public_url, conn->key.kind, conn->key.name);
    if (last_use_) conn->last_use = last_use_->slot(conn->key);
    if (metrics_) {
      const core::Labels labels{{"kind", conn->key.kind}, {"name", conn->key.name}};
      conn->latency = &metrics_->histogram(
          "tether_proxy_upstream_latency_seconds",
          "Time from sending a proxied request upstream to its response head", labels);
      conn->replays = &metrics_->counter(
          "tether_proxy_token_replays_total",
          "Proxied requests replayed with a refreshed token after an upstream 401", labels);
    }
    auto& table = c.kind == ConnectionKind::kMcp ? into.mcp : into.api;
    if (!table.emplace(c.name, std::move(conn)).second) {
      return core::Error(
          core::Errc::kConfig,
          "duplicate connection " + std::string(config::kindName(c.kind)) + "/" + c.name);
    }
    return {};
  }

  void registerRoutes(http::Router& router) {
    http::RouteOptions route;
    route.max_body_bytes = options_.max_request_body_bytes;
    // A token too large for the request head is the caller's credential trouble too (401).
    if (inbound_) route.oversized_credentials = inbound_->oversized(Surface::kMcp);
    for (const char* method : {"POST", "GET", "DELETE"}) {
      router.add(
          method, kMcpRoute,
          [this](http::Request& req, http::Responder r) {
            handle(Surface::kMcp, req, std::move(r));
          },
          route);
    }
    if (inbound_) route.oversized_credentials = inbound_->oversized(Surface::kApi);
    router.add(
        "*", kApiRoute,
        [this](http::Request& req, http::Responder r) { handle(Surface::kApi, req, std::move(r)); },
        route);
    if (inbound_) inbound_->auth().registerRoutes(router);
  }

 private:
  // ---- request intake ------------------------------------------------------------------

  void handle(Surface surface, http::Request& req, http::Responder responder) {
    const bool jsonrpc = surface == Surface::kMcp && req.method == "POST";
    const auto current = snapshot();
    // The caller first: who has no key learns nothing, not even which connections exist.
    // A browser page on a foreign host name (DNS rebinding) or of another site is refused
    // before that, whatever it presents.
    core::Status st = hosts_.check(req.headers);
    if (st.ok()) st = checkFetchSite(req.headers);
    std::string_view bearer;
    if (st.ok()) {
      st = current->guard->checkCaller(req.headers, inbound_ != nullptr, &req.subject, &bearer);
    }
    if (!st.ok()) {
      ErrorShape shape;
      shape.jsonrpc = jsonrpc;
      shape.request_body = req.body;
      if (inbound_ && st.error().code == core::Errc::kUnauthenticated) {
        responder.send(
            inbound_->auth().refusal(st.error(), shape, surface, req.param("name"), nullptr));
      } else {
        responder.send(errorResponse(st.error(), shape));
      }
      return;
    }
    if (!bearer.empty()) {
      // A token of the inbound issuer (a configured key was matched by the guard already).
      std::string audience;
      bool pending = false;
      if (!inbound_->tryAdmit(surface, req, responder, bearer, audience, &pending)) {
        if (!pending) return;  // refused
        inbound_->admitLater(surface, req, std::move(responder), std::string(bearer),
                             std::move(audience), weak_from_this(),
                             [this, surface, current](http::Request& req, http::Responder r) {
                               proceed(surface, req, std::move(r), *current);
                             });
        return;
      }
    }
    proceed(surface, req, std::move(responder), *current);
  }

  // `current`: the snapshot handle() took (held by it, or by the pending caller's closure).
  void proceed(Surface surface, http::Request& req, http::Responder responder,
               const Snapshot& current) {
    const bool jsonrpc = surface == Surface::kMcp && req.method == "POST";
    const std::string name = req.param("name");
    const auto& table = surface == Surface::kMcp ? current.mcp : current.api;
    auto it = table.find(name);
    if (it == table.end()) {
      const std::string kind = surface == Surface::kMcp ? "mcp" : "api";
      ErrorShape shape;
      shape.jsonrpc = jsonrpc;
      shape.request_body = req.body;
      responder.send(errorResponse(
          core::Error(core::Errc::kNotFound, "no " + kind + " connection named \"" +
                                                 name.substr(0, 64) + "\" is configured"),
          shape));
      return;
    }
    const Connection& conn = *it->second;
    req.connection = conn.access_log_label;  // the access log's (outlives the request)
    if (!req.io_context) {
      responder.send(http::Response::error(
          core::Error(core::Errc::kInternal, "the proxy needs the request's io_context")));
      return;
    }

    auto call = std::make_shared<Call>();
    call->conn = it->second;
    call->surface = surface;
    call->io_context = req.io_context;
    call->io_thread = std::this_thread::get_id();
    call->method = req.method;
    call->jsonrpc = jsonrpc;
    call->request_id = req.request_id;
    if (auto it = req.params.find(kSubjectParam); it != req.params.end()) {
      call->actor = "user:" + it->second;
    }
    if (surface == Surface::kMcp) {
      call->target = conn.mcp_target;
    } else {
      auto checked = checkRequestTarget(req.target);
      auto target = checked.ok() ? apiTarget(*conn.endpoint, apiRemainder(req.path), req.query)
                                 : core::Result<std::string>(std::move(checked).takeError());
      if (!target.ok()) {
        ErrorShape shape;
        shape.connection = conn.label;
        countStatus(conn, 400);
        responder.send(errorResponse(target.error(), shape));
        return;
      }
      call->target = std::move(target).value();
    }
    // Serialized once, straight from the request (no copy of each header; the server's
    // parsers already refused names and values that could split a message). An API key
    // header the caller sent is not relayed: the connection's own replaces it.
    const std::string_view credential_header =
        conn.mode == AuthMode::kApiKey ? std::string_view(conn.static_header) : std::string_view();
    call->header_lines.reserve(256);
    forEachUpstreamRequestHeader(surface, req.headers, credential_header,
                                 [&call](const http::Header& h) {
                                   http::appendFieldLine(call->header_lines, h.name, h.value);
                                 });
    // The server accepted the id only if it is short and plain, or generated it.
    http::appendFieldLine(call->header_lines, kRequestId, req.request_id);
    // W3C trace context, unchanged, when the server found the traceparent valid (never
    // relayed above: an invalid one is dropped with its tracestate).
    if (!req.traceparent.empty()) {
      http::appendFieldLine(call->header_lines, http::kTraceparent, req.traceparent);
      for (const auto& h : req.headers) {
        if (core::iequals(h.name, http::kTracestate)) {
          http::appendFieldLine(call->header_lines, h.name, h.value);
        }
      }
    }
    if (!req.body.empty()) call->body = std::make_shared<const std::string>(std::move(req.body));
    call->responder.emplace(std::move(responder));
    if (conn.last_use) last_use_->touch(*conn.last_use);

    if (conn.mode == AuthMode::kOAuth) {
      call->provider = conn.provider.get();  // alive while the call holds its connection
      if (!call->provider) {
        finishWithError(call,
                        core::Error(core::Errc::kUnavailable,
                                    "connection " + conn.label +
                                        " has no token source (is it configured for oauth?)"));
        return;
      }
      acquire(call);
      return;
    }
    send(call);
  }

  // ---- credentials -----------------------------------------------------------------------

  void acquire(const CallPtr& call) {
    // The provider may answer from its own worker thread, possibly late: the callback holds
    // the proxy weakly and hops back to the request's thread.
    std::weak_ptr<Impl> weak = weak_from_this();
    call->provider->acquire(call->actor, [weak, call](const lifecycle::TokenResult& r) {
      auto self = weak.lock();
      if (!self) return;
      std::shared_ptr<const lifecycle::AccessToken> token;
      std::optional<lifecycle::TokenError> error;
      if (r.ok()) {
        token = r.value();
      } else {
        error = r.error();
      }
      if (std::this_thread::get_id() == call->io_thread) {
        self->onToken(call, std::move(token), std::move(error));
        return;
      }
      self->upstream_->post(call->io_context, [weak, call, token = std::move(token),
                                               error = std::move(error)]() mutable {
        if (auto self = weak.lock()) self->onToken(call, std::move(token), std::move(error));
      });
    });
  }

  void onToken(const CallPtr& call, std::shared_ptr<const lifecycle::AccessToken> token,
               std::optional<lifecycle::TokenError> error) {
    if (!token) {
      const auto te = error.value_or(lifecycle::TokenError{});
      const Connection& conn = *call->conn;
      ErrorShape shape = shapeOf(*call);
      shape.reconnect_url = conn.reconnect_url;
      shape.retry_after_seconds = retryAfterSeconds(te, clock_->now());
      const core::Error e = tokenError(te, conn.key, conn.reconnect_url);
      core::log::write(
          core::errorInfo(e.code).log_level, "no token for proxied call",
          {{"connection", conn.label}, {"reason", te.reason}, {"request_id", call->request_id}});
      reply(call, errorResponse(e, shape));
      return;
    }
    if (call->attempts > 0 && call->token && token->version == call->token->version &&
        token->value == call->token->value) {
      // The provider had nothing newer (it refreshed very recently): replaying the same
      // token would only earn the same 401.
      upstreamRejected(call);
      return;
    }
    call->token = std::move(token);
    send(call);
  }

  // ---- the upstream exchange -------------------------------------------------------------

  void send(const CallPtr& call) {
    const Connection& conn = *call->conn;
    ++call->attempts;
    UpstreamCall up;
    up.endpoint = conn.endpoint;
    up.pool_key = conn.label;  // "mcp/<name>": no upstream socket shared across credentials
    // The request is kept only while a replay may still need it (OAuth, first attempt).
    if (conn.mode == AuthMode::kOAuth && call->attempts == 1) {
      up.method = call->method;
      up.target = call->target;
      up.header_lines = call->header_lines;
    } else {
      up.method = std::move(call->method);
      up.target = std::move(call->target);
      up.header_lines = std::move(call->header_lines);
    }
    up.invalid_header = call->invalid_header;
    up.fixed_response_header_lines = kRelayPolicyHeaderLines;
    bool credential_ok = true;
    if (conn.mode == AuthMode::kOAuth) {
      const auto& t = *call->token;
      credential_ok = appendHeaderLine(up.header_lines, kAuthorization,
                                       (t.type.empty() ? "Bearer" : t.type) + " " + t.value);
    } else if (conn.mode != AuthMode::kNone) {
      credential_ok = appendHeaderLine(up.header_lines, conn.static_header, conn.static_value);
    }
    if (!credential_ok) up.invalid_header = true;
    up.body = call->body;
    up.buffer_unknown_length = call->jsonrpc;
    up.limits = options_.limits;
    up.limits.first_byte_timeout = conn.first_byte_timeout;
    http::Responder responder = std::move(*call->responder);
    call->responder.reset();
    upstream_->exchange(
        call->io_context, std::move(up), std::move(responder),
        // 2xx answers cost one comparison more than before; only a 403 to an OAuth token
        // has its WWW-Authenticate read (MCP step-up). The raw Call pointer is safe: the
        // done callback below holds the call until the exchange ends.
        [forward_set_cookie = conn.forward_set_cookie, is_oauth = conn.mode == AuthMode::kOAuth,
         raw = call.get()](int status, http::Headers& headers) {
          if (status == 401) return false;  // never relayed bare (see the header comment)
          if (status == 403 && is_oauth) {
            raw->insufficient_scope = oauth::insufficientScopeChallenge(headers);
            if (raw->insufficient_scope) return false;
          }
          relayResponseHeaders(headers, forward_set_cookie);
          return true;
        },
        [this, call](ExchangeResult result) { onExchange(call, std::move(result)); });
  }

  void onExchange(const CallPtr& call, ExchangeResult result) {
    const Connection& conn = *call->conn;
    if (conn.latency && result.status != 0) {
      conn.latency->observe(std::chrono::duration<double>(result.head_latency).count());
    }
    if (result.responder) call->responder.emplace(std::move(*result.responder));
    switch (result.outcome) {
      case ExchangeResult::Outcome::kRelayed:
        countStatus(conn, result.status);
        if (result.failure != UpstreamFailure::kNone &&
            result.failure != UpstreamFailure::kCancelled) {
          core::log::warn("proxied stream ended early",
                          {{"connection", conn.label},
                           {"failure", upstreamFailureName(result.failure)},
                           {"error", result.message},
                           {"request_id", call->request_id}});
        }
        return;
      case ExchangeResult::Outcome::kRejected:
        if (call->insufficient_scope) {
          onInsufficientScope(call);
          return;
        }
        onUnauthorized(call);
        return;
      case ExchangeResult::Outcome::kFailed:
        onFailure(call, result);
        return;
    }
  }

  void onUnauthorized(const CallPtr& call) {
    const Connection& conn = *call->conn;
    if (conn.mode == AuthMode::kOAuth && call->attempts == 1 && call->token) {
      // The token was believed valid: report it, get a fresh one, replay once.
      call->provider->invalidate(call->token->version);
      if (conn.replays) conn.replays->inc();
      core::log::info("upstream rejected the access token; refreshing and replaying once",
                      {{"connection", conn.label}, {"request_id", call->request_id}});
      acquire(call);
      return;
    }
    upstreamRejected(call);
  }

  // MCP step-up: the upstream wants scopes the token lacks. The lifecycle decides (needs a
  // reconnect asking for the union, or the loop bound is reached); the caller learns which,
  // with the connection's reconnect link. The call is not replayed: a human must consent.
  void onInsufficientScope(const CallPtr& call) {
    const Connection& conn = *call->conn;
    const oauth::InsufficientScope& challenge = *call->insufficient_scope;
    const std::string challenged = oauth::joinScopeList(challenge.scopes);
    lifecycle::StepUp outcome;
    if (challenge.refused.empty() && call->provider && call->token) {
      outcome = call->provider->stepUp(call->token->version, challenged);
    }
    const core::Error e = stepUpError(outcome, challenge, conn.label, conn.reconnect_url);
    core::log::warn("upstream answered 403 insufficient_scope",
                    {{"connection", conn.label},
                     {"scopes", challenged},
                     {"outcome", stepUpKindName(outcome.kind)},
                     {"request_id", call->request_id}});
    ErrorShape shape = shapeOf(*call);
    shape.reconnect_url = conn.reconnect_url;
    reply(call, errorResponse(e, shape));
  }

  // The upstream refused the credential and there is nothing more the gateway can try.
  void upstreamRejected(const CallPtr& call) {
    const Connection& conn = *call->conn;
    core::Error e;
    switch (conn.mode) {
      case AuthMode::kOAuth:
        e = core::Error(core::Errc::kNeedsReauth,
                        "the upstream of connection " + conn.label +
                            " rejected its access token even after a refresh: re-authorize it "
                            "in the Tether portal at " +
                            conn.reconnect_url);
        break;
      case AuthMode::kNone:
        e = core::Error(core::Errc::kUpstreamError,
                        "the upstream of connection " + conn.label +
                            " requires authentication, but the connection has auth mode none: "
                            "configure its auth in the Tether config");
        break;
      default:
        e = core::Error(core::Errc::kUpstreamError,
                        "the upstream of connection " + conn.label +
                            " rejected the configured credential (HTTP 401): check the "
                            "connection's auth in the Tether config");
        break;
    }
    core::log::warn("upstream rejected the connection's credential",
                    {{"connection", conn.label}, {"request_id", call->request_id}});
    ErrorShape shape = shapeOf(*call);
    if (conn.mode == AuthMode::kOAuth) shape.reconnect_url = conn.reconnect_url;
    reply(call, errorResponse(e, shape));
  }

  void onFailure(const CallPtr& call, const ExchangeResult& result) {
    const Connection& conn = *call->conn;
    if (result.failure == UpstreamFailure::kCancelled) {
      if (call->responder) call->responder->abort();
      return;
    }
    core::Error e;
    switch (result.failure) {
      case UpstreamFailure::kTimeout:
        e = core::Error(core::Errc::kTimeout, "the upstream of connection " + conn.label +
                                                  " did not answer in time (" + result.message +
                                                  ")");
        break;
      case UpstreamFailure::kTooLarge:
        e = core::Error(core::Errc::kUpstreamError, "the upstream of connection " + conn.label +
                                                        " sent too much: " + result.message);
        break;
      default:
        e = core::Error(core::Errc::kUpstreamError,
                        "the upstream of connection " + conn.label + " is unreachable or failed (" +
                            upstreamFailureName(result.failure) + ": " + result.message + ")");
        break;
    }
    core::log::warn("proxied call failed", {{"connection", conn.label},
                                            {"failure", upstreamFailureName(result.failure)},
                                            {"error", result.message},
                                            {"request_id", call->request_id}});
    finishWithError(call, e);
  }

  // ---- answers -----------------------------------------------------------------------------

  void finishWithError(const CallPtr& call, const core::Error& e) {
    reply(call, errorResponse(e, shapeOf(*call)));
  }

  static ErrorShape shapeOf(const Call& call) {
    ErrorShape shape;
    shape.jsonrpc = call.jsonrpc;
    if (call.body) shape.request_body = *call.body;
    shape.connection = call.conn->label;
    return shape;
  }

  void reply(const CallPtr& call, http::Response response) {
    countStatus(*call->conn, response.status);
    if (call->responder) {
      call->responder->send(std::move(response));
      call->responder.reset();
    }
  }

  void countStatus(const Connection& conn, int status) {
    if (!metrics_) return;
    const size_t slot =
        status > 0 && static_cast<size_t>(status) < kStatusSlots ? static_cast<size_t>(status) : 0;
    auto& cell = conn.by_status[slot];
    core::Counter* counter = cell.load(std::memory_order_acquire);
    if (!counter) {
      counter = &metrics_->counter(
          "tether_proxy_requests_total", "Proxied calls by connection and answered status",
          {{"kind", conn.key.kind}, {"name", conn.key.name}, {"status", std::to_string(status)}});
      cell.store(counter, std::memory_order_release);
    }
    counter->inc();
  }

  ProxyOptions options_;
  ProviderLookup providers_;
  core::MetricsRegistry* metrics_;
  LastUseTracker* last_use_ = nullptr;
  const core::Clock* clock_;
  std::unique_ptr<UpstreamClient> upstream_;
  HostGuard hosts_;
  mutable std::mutex snapshot_mu_;  // guards only the pointer copy, never held longer
  std::shared_ptr<const Snapshot> snapshot_;
  // update()'s: writers are serialized; what they keep alive for requests in flight.
  std::mutex update_mu_;
  std::vector<config::AccessKey> client_keys_;
  std::vector<std::string> allowed_origins_;
  std::vector<std::shared_ptr<const ClientGuard>> retired_guards_;
  std::set<std::string, std::less<>> labels_;  // every label ever served (access log views)
  std::unique_ptr<InboundCallers> inbound_;    // null: `inbound:` is off
  std::atomic<uint64_t> built_{0};             // connection objects built (connectionsBuilt)

  friend class Proxy;
};

core::Result<std::unique_ptr<Proxy>> Proxy::create(
    const std::vector<config::ConnectionConfig>& connections, ProxyOptions options,
    ProxyDeps deps) {
  const auto keys = options.client_keys;
  const auto origins = options.allowed_origins;
  auto impl = std::make_shared<Impl>(std::move(options), std::move(deps));
  TETHER_TRY(impl->update(connections, keys, origins));
  return std::unique_ptr<Proxy>(new Proxy(std::move(impl)));
}

core::Status Proxy::update(const std::vector<config::ConnectionConfig>& connections,
                           const std::vector<config::AccessKey>& client_keys,
                           const std::vector<std::string>& allowed_origins,
                           const std::set<store::ConnectionKey>* rebuild) {
  return impl_->update(connections, client_keys, allowed_origins, rebuild);
}

uint64_t Proxy::connectionsBuilt() const { return impl_->built_.load(std::memory_order_relaxed); }

Proxy::Proxy(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Proxy::~Proxy() = default;

void Proxy::registerRoutes(http::Router& router) { impl_->registerRoutes(router); }

ProxyOptions proxyOptionsFromConfig(const config::Config& config) {
  ProxyOptions o;
  o.public_url = config.public_url;
  o.client_keys = config.clients.keys;
  o.allowed_origins = config.allowed_origins;
  o.listen = config.listen;
  o.allowed_hosts = config.server.allowed_hosts;
  o.inbound.public_url = config.public_url;
  o.inbound.issuer = config.inbound.issuer;
  o.inbound.audience = config.inbound.audience;
  o.inbound.scopes_supported = config.inbound.required_scopes;
  return o;
}

}  // namespace tether::gateway
