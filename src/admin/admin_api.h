#pragma once
/// The admin REST API under /api/v1/admin/ and the public OAuth callback. Every admin
/// route requires an admin key (`Authorization: Bearer`, constant-time) or a portal session
/// cookie; with the cookie, mutations must carry the session's `X-CSRF-Token`. Errors are
/// `{"error":{"code","message"}}`; keys with the viewer role get 403 on mutations through the one
/// error table (a store failure is a 500 with a JSON error, never a stack trace). Handlers that
/// touch the store or an IdP run on the blocking pool, never on a server I/O thread. Every mutation
/// is logged with the key id as actor. Never a token or secret in an answer.
///
/// Routes:
///   POST   /api/v1/admin/session                   {"key"} → cookie + {"key_id","csrf_token"}
///   GET    /api/v1/admin/session                   → {"key_id","csrf_token"} | 401
///   DELETE /api/v1/admin/session                   → 204, cookie cleared, session revoked in
///                                                    the store (every role may sign out)
///   GET    /api/v1/admin/connections               → every connection with its state
///   GET    /api/v1/admin/connections/oauth-health  → one store query for all
///   GET    /api/v1/admin/connections/{kind}/{name} → detail with the OAuth status
///   GET    /api/v1/admin/connections/{kind}/{name}/auth-events?limit=30
///   POST   /api/v1/admin/connections/{kind}/{name}/oauth/start   {"return_url"?}
///   GET    /api/v1/admin/connections/{kind}/{name}/oauth/flows/{correlation_id}
///   POST   /api/v1/admin/connections/{kind}/{name}/oauth/refresh (409 when re-auth needed)
///   DELETE /api/v1/admin/connections/{kind}/{name}/oauth/token
///   GET    /oauth/callback                         (public; the state is the credential)
///   GET    /api/v1/admin/portal-config             (public) → {"sso": {"name","start_url"}|null}
///   GET    /portal/sso/start, /portal/sso/callback (admin.sso set; see admin/sso_login.h)
///
/// Roles: an admin key is admin (viewer with `role: viewer`); an SSO session carries the
/// role granted at sign-in. `user` gets 403 on every admin route; viewer on mutations.

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_auth.h"
#include "admin/session.h"
#include "admin/sso_login.h"
#include "core/thread_pool.h"
#include "events/recorder.h"
#include "flows/flows.h"
#include "http/router.h"
#include "lifecycle/token_source.h"
#include "store/store.h"

namespace tether::admin {

/// A configured connection as the admin API shows it.
struct ConnectionView {
  store::ConnectionKey key;
  std::string url_host;
  std::string auth_mode;  // none | bearer | api_key | oauth
  std::optional<core::Duration> refresh_max_lifetime;
  std::string upstream;           // host[:port][/path] of the upstream URL (what the list searches)
  std::string issuer;             // the IdP's issuer URL when configured (OAuth)
  std::string source = "config";  // "config" (the file) | "api" (made through the admin API)
};

struct AdminDeps {
  std::vector<config::AccessKey> keys;
  std::vector<ConnectionView> connections;
  /// Null until the store is open (the routes answer 503 then).
  std::function<flows::Flows*()> flows;
  std::function<store::Store*()> store;
  std::function<events::Recorder*()> recorder;
  std::function<std::shared_ptr<lifecycle::TokenSource>(const store::ConnectionKey&)> sources;
  core::ThreadPool* pool = nullptr;    // required; must outlive the routes
  const core::Clock* clock = nullptr;  // default: the system clock
  /// HMAC key for session cookies (>= 32 bytes); empty: random per process.
  std::string session_secret;
  bool secure_cookies = false;        // public_url is https
  bool client_keys_required = false;  // clients.keys set: gateway callers need a key
  /// The data plane's base URL for "Use it" (public_url, or the main listener's URL when
  /// admin.listen puts the admin plane elsewhere); unset or empty: unknown. Called per
  /// detail request from the admin pool (the port is known only once listening).
  std::function<std::string()> gateway_base_url;
  /// admin.sso: portal single sign-on (needs `http`, and `public_url` for the redirect URI).
  std::optional<config::SsoConfig> sso;
  http::HttpClient* http = nullptr;         // must outlive the routes
  std::function<std::string()> public_url;  // read at each sign-in
};

inline constexpr std::string_view kSsoStartPath = "/portal/sso/start";
inline constexpr std::string_view kSsoCallbackPath = "/portal/sso/callback";

class AdminApi {
 public:
  explicit AdminApi(AdminDeps deps);

  void registerRoutes(http::Router& router);

  /// Replaces the connections the API shows (app/live_connections.h: SIGHUP, connections
  /// made through the API). A request in progress finishes on the set it started with.
  /// Thread-safe.
  void setConnections(std::vector<ConnectionView> connections);

  /// What a route added with `addRoute` is called with: the caller's actor ("admin:<key id>"
  /// or "user:<sso subject>"), on the server's thread (offload blocking work yourself).
  using AuthorizedHandler =
      std::function<void(http::Request&, http::Responder, const std::string& key_id)>;
  /// Adds a route of another admin module (webhooks_api.h) behind the same checks as every
  /// admin route: a key or a session (revocation checked), the viewer role refused on
  /// `mutation` routes, and the CSRF token with a session.
  void addRoute(http::Router& router, const char* method, const std::string& pattern, bool mutation,
                AuthorizedHandler handler);

 private:
  struct Caller {
    std::string key_id;  // empty for an SSO session
    bool via_session = false;
    Role role = Role::kAdmin;
    std::string actor;  // admin:<key id> | user:<subject>
  };
  /// The caller, or the error response (401 / 403) already sent.
  std::optional<Caller> authorize(http::Request& request, http::Responder& responder,
                                  bool mutation);
  std::optional<Caller> identify(http::Request& request, http::Responder& responder, bool mutation);
  /// True when the request's session cookie must be checked against the store's
  /// revocations before a handler may trust it (see SessionCodec).
  bool needsRevocationCheck(const http::Request& request) const;
  /// Checks the session cookie on the blocking pool, then runs `handler` there (503 when
  /// the store cannot answer).
  void checkRevocationThen(const http::Request& request, http::Responder responder,
                           void (AdminApi::*handler)(http::Request&, http::Responder));
  std::shared_ptr<const ConnectionView> find(const store::ConnectionKey& key) const;
  std::shared_ptr<const std::vector<ConnectionView>> views() const;  // sorted by key
  /// The connect flows when `key` is an OAuth connection they know; else the 503 / 404 is
  /// sent and null returned.
  flows::Flows* flowsFor(const store::ConnectionKey& key, http::Responder& responder);
  /// Runs `work` on the blocking pool with the open store; 503 when it is not open yet.
  void withStore(http::Responder responder,
                 std::function<void(store::Store&, http::Responder&)> work);

  void sessionOpen(http::Request& request, http::Responder responder);
  void sessionGet(http::Request& request, http::Responder responder);
  void sessionClose(http::Request& request, http::Responder responder);
  void list(http::Request& request, http::Responder responder);
  void health(http::Request& request, http::Responder responder);
  void detail(http::Request& request, http::Responder responder);
  void events(http::Request& request, http::Responder responder);
  void start(http::Request& request, http::Responder responder);
  void flowStatus(http::Request& request, http::Responder responder);
  void refresh(http::Request& request, http::Responder responder);
  void deleteToken(http::Request& request, http::Responder responder);
  void callback(http::Request& request, http::Responder responder);
  // sso_routes.cc
  void portalConfig(http::Request& request, http::Responder responder);
  void ssoStart(http::Request& request, http::Responder responder);
  void ssoCallback(http::Request& request, http::Responder responder);
  static std::string sessionActor(const Session& session);
  static boost::json::object sessionJson(const Session& session);

  AdminDeps deps_;  // deps_.connections is moved into views_
  AdminAuth auth_;
  mutable std::mutex views_mu_;  // guards the pointer copy only
  std::shared_ptr<const std::vector<ConnectionView>> views_;
  std::unique_ptr<SessionCodec> sessions_;
  std::unique_ptr<SsoLogin> sso_;  // null unless admin.sso is set
};

}  // namespace tether::admin
