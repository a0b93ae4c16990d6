// The admin API: construction, the route table, authentication (keys, sessions, SSO
// sessions) and the session routes. The connection routes live in admin_connection_reads.cc
// and admin_oauth_actions.cc (see admin_api_internal.h).
#include "admin/admin_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "admin/admin_api_internal.h"
#include "admin/connections_api.h"
#include "admin/detail_fields.h"
#include "admin/list_query.h"
#include "admin/query_params.h"
#include "admin/responses.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/errors.h"
#include "core/json_escape.h"
#include "core/log.h"
#include "core/random.h"
#include "lifecycle/connection_view.h"

namespace tether::admin {
namespace {

using core::Errc;
using core::Error;
using detail::connectionOf;
namespace json = boost::json;

std::string sessionCookie(std::string_view value, bool secure, std::optional<int64_t> max_age) {
  std::string c = std::string(kSessionCookie) + "=" + std::string(value) +
                  "; Path=/; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  if (max_age) c += "; Max-Age=" + std::to_string(*max_age);
  return c;
}

}  // namespace

core::Result<store::ConnectionKey> detail::connectionOf(const http::Request& r) {
  store::ConnectionKey key{r.param("kind"), r.param("name")};
  if (key.kind != "mcp" && key.kind != "api") {
    return Error(Errc::kNotFound, "unknown connection kind \"" + key.kind.substr(0, 16) +
                                      "\" (expected mcp or api)");
  }
  return key;
}

AdminApi::AdminApi(AdminDeps deps) : deps_(std::move(deps)), auth_(deps_.keys) {
  setConnections(std::move(deps_.connections));
  if (!deps_.clock) deps_.clock = &core::systemClock();
  std::string secret = deps_.session_secret;
  if (secret.size() < 32) secret = core::randomBytes(32);
  sessions_ = std::make_unique<SessionCodec>(secret, *deps_.clock);
  if (deps_.sso && deps_.http) {
    auto public_url = deps_.public_url;
    sso_ = std::make_unique<SsoLogin>(
        *deps_.sso, *deps_.http, *deps_.clock, std::move(secret), [public_url] {
          return (public_url ? public_url() : std::string()) + std::string(kSsoCallbackPath);
        });
  }
}

void AdminApi::registerRoutes(http::Router& router) {
  auto route = [&](const char* method, const std::string& pattern,
                   void (AdminApi::*handler)(http::Request&, http::Responder)) {
    router.add(method, pattern, [this, handler](http::Request& r, http::Responder res) {
      if (handler != &AdminApi::sessionOpen && handler != &AdminApi::callback &&
          handler != &AdminApi::ssoStart && handler != &AdminApi::ssoCallback &&
          handler != &AdminApi::portalConfig && needsRevocationCheck(r)) {
        return checkRevocationThen(r, std::move(res), handler);
      }
      (this->*handler)(r, std::move(res));
    });
  };
  const std::string base = "/api/v1/admin";
  const std::string conn = base + "/connections/{kind}/{name}";
  route("POST", base + "/session", &AdminApi::sessionOpen);
  route("GET", base + "/session", &AdminApi::sessionGet);
  route("DELETE", base + "/session", &AdminApi::sessionClose);
  route("GET", base + "/connections", &AdminApi::list);
  route("GET", base + "/connections/oauth-health", &AdminApi::health);
  route("GET", conn, &AdminApi::detail);
  route("GET", conn + "/auth-events", &AdminApi::events);
  route("POST", conn + "/oauth/start", &AdminApi::start);
  route("GET", conn + "/oauth/flows/{correlation}", &AdminApi::flowStatus);
  route("POST", conn + "/oauth/refresh", &AdminApi::refresh);
  route("DELETE", conn + "/oauth/token", &AdminApi::deleteToken);
  route("GET", "/oauth/callback", &AdminApi::callback);
  route("GET", base + "/portal-config", &AdminApi::portalConfig);
  if (sso_) {
    route("GET", std::string(kSsoStartPath), &AdminApi::ssoStart);
    route("GET", std::string(kSsoCallbackPath), &AdminApi::ssoCallback);
  }
}

void AdminApi::addRoute(http::Router& router, const char* method, const std::string& pattern,
                        bool mutation, AuthorizedHandler handler) {
  auto shared = std::make_shared<AuthorizedHandler>(std::move(handler));
  router.add(method, pattern, [this, mutation, shared](http::Request& r, http::Responder res) {
    auto run = [this, mutation, shared](http::Request& req, http::Responder out) {
      auto caller = authorize(req, out, mutation);
      if (!caller) return;
      (*shared)(req, std::move(out), caller->actor);
    };
    if (!needsRevocationCheck(r)) return run(r, std::move(res));
    auto owned = std::make_shared<http::Request>(r);
    withStore(std::move(res), [this, owned, run](store::Store& store, http::Responder& out) {
      const auto cookie = cookieValue(*owned->header("Cookie"), kSessionCookie);
      if (auto st = sessions_->checkRevocation(store, *cookie); !st.ok()) {
        return out.send(errorResponse(
            Error(Errc::kUnavailable, "cannot check the portal session: " + st.error().message)));
      }
      run(*owned, std::move(out));
    });
  });
}

bool AdminApi::needsRevocationCheck(const http::Request& request) const {
  if (request.header("Authorization")) return false;  // a key, not the cookie, identifies
  auto cookies = request.header("Cookie");
  auto value = cookies ? cookieValue(*cookies, kSessionCookie) : std::nullopt;
  return value && sessions_->needsRevocationCheck(*value);
}

// The store may say the session was signed out (here, on another replica, or before a
// restart): ask it on the blocking pool, then run the handler there with the answer cached.
void AdminApi::checkRevocationThen(const http::Request& request, http::Responder responder,
                                   void (AdminApi::*handler)(http::Request&, http::Responder)) {
  // A copy: the server still reads the request (route, method) for its log and metrics.
  auto owned = std::make_shared<http::Request>(request);
  withStore(std::move(responder), [this, owned, handler](store::Store& store, http::Responder& r) {
    const auto cookie = cookieValue(*owned->header("Cookie"), kSessionCookie);
    if (auto st = sessions_->checkRevocation(store, *cookie); !st.ok()) {
      return r.send(errorResponse(
          Error(Errc::kUnavailable, "cannot check the portal session: " + st.error().message)));
    }
    (this->*handler)(*owned, std::move(r));
  });
}

std::optional<AdminApi::Caller> AdminApi::authorize(http::Request& request,
                                                    http::Responder& responder, bool mutation) {
  auto caller = identify(request, responder, mutation);
  if (!caller) return caller;
  if (caller->role == Role::kUser) {
    // A signed-in user without an admin or viewer role: only "My connections" is theirs.
    responder.send(errorResponse(
        Error(Errc::kPermissionDenied,
              "this is an operator route: your portal role is user (ask for a place in "
              "admin.sso.admin_groups or viewer_groups)")));
    return std::nullopt;
  }
  if (mutation && caller->role == Role::kViewer) {
    const std::string who =
        caller->key_id.empty() ? "your portal sign-in" : "the admin key \"" + caller->key_id + "\"";
    responder.send(
        errorResponse(Error(Errc::kPermissionDenied,
                            who + " has the viewer role: it may look but not change anything")));
    return std::nullopt;
  }
  return caller;
}

std::optional<AdminApi::Caller> AdminApi::identify(http::Request& request,
                                                   http::Responder& responder, bool mutation) {
  if (request.header("Authorization")) {
    auto key = auth_.authenticate(request);
    if (!key.ok()) {
      responder.send(errorResponse(key.error()));
      return std::nullopt;
    }
    bool read_only = false;
    for (const auto& k : deps_.keys) read_only = read_only || (k.id == *key && k.read_only);
    return Caller{*key, false, read_only ? Role::kViewer : Role::kAdmin, events::adminActor(*key)};
  }
  if (auto cookies = request.header("Cookie")) {
    if (auto value = cookieValue(*cookies, kSessionCookie)) {
      auto session = sessions_->verify(*value, deps_.keys, sso_ != nullptr);
      if (!session) {
        responder.send(errorResponse(Error(Errc::kUnauthenticated,
                                           "the portal session expired or is not valid; sign in "
                                           "again")));
        return std::nullopt;
      }
      if (mutation) {
        auto csrf = request.header("X-CSRF-Token");
        if (!csrf || !core::constantTimeEqual(*csrf, session->csrf_token)) {
          responder.send(errorResponse(
              Error(Errc::kPermissionDenied,
                    "the X-CSRF-Token header is missing or wrong (a portal session needs it for "
                    "every change)")));
          return std::nullopt;
        }
      }
      return Caller{session->key_id, true, session->role, sessionActor(*session)};
    }
  }
  auto none = auth_.authenticate(request);  // the "no key" / "closed" message
  responder.send(
      errorResponse(none.ok() ? Error(Errc::kUnauthenticated, "sign in") : none.error()));
  return std::nullopt;
}

void AdminApi::setConnections(std::vector<ConnectionView> connections) {
  // Ordered like the store's bulk health rows, for a merge walk.
  std::sort(connections.begin(), connections.end(),
            [](const ConnectionView& a, const ConnectionView& b) { return a.key < b.key; });
  auto next = std::make_shared<const std::vector<ConnectionView>>(std::move(connections));
  std::lock_guard lock(views_mu_);
  views_.swap(next);
}

std::shared_ptr<const std::vector<ConnectionView>> AdminApi::views() const {
  std::lock_guard lock(views_mu_);
  return views_;
}

std::shared_ptr<const ConnectionView> AdminApi::find(const store::ConnectionKey& key) const {
  auto views = this->views();
  auto it = std::lower_bound(
      views->begin(), views->end(), key,
      [](const ConnectionView& v, const store::ConnectionKey& k) { return v.key < k; });
  if (it == views->end() || !(it->key == key)) return nullptr;
  return std::shared_ptr<const ConnectionView>(views, &*it);  // keeps its set alive
}

void AdminApi::withStore(http::Responder responder,
                         std::function<void(store::Store&, http::Responder&)> work) {
  store::Store* store = deps_.store ? deps_.store() : nullptr;
  if (!store) {
    responder.send(errorResponse(
        Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
    return;
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  deps_.pool->post([store, shared, work = std::move(work)] { work(*store, *shared); });
}

flows::Flows* AdminApi::flowsFor(const store::ConnectionKey& key, http::Responder& responder) {
  flows::Flows* flows = deps_.flows ? deps_.flows() : nullptr;
  if (!flows) {
    responder.send(errorResponse(
        Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
    return nullptr;
  }
  if (!flows->has(key)) {
    responder.send(errorResponse(
        Error(Errc::kNotFound, "no OAuth connection " + key.str() + " is configured")));
    return nullptr;
  }
  return flows;
}

// ---- sessions ------------------------------------------------------------------------

void AdminApi::sessionOpen(http::Request& request, http::Responder responder) {
  boost::system::error_code ec;
  auto v = json::parse(request.body, ec);
  const json::value* key = !ec && v.is_object() ? v.as_object().if_contains("key") : nullptr;
  if (!key || !key->is_string()) {
    return responder.send(
        errorResponse(Error(Errc::kInvalidArgument, "send {\"key\": \"<admin key>\"} to sign in")));
  }
  if (!auth_.configured()) {
    return responder.send(
        errorResponse(Error(Errc::kUnauthenticated,
                            "the admin API is closed: no admin key is configured (admin.keys)")));
  }
  const config::AccessKey* match =
      core::findBySha256(deps_.keys, std::string_view(key->as_string()),
                         [](const config::AccessKey& k) -> std::string_view { return k.sha256; });
  if (!match) {
    core::log::warn("admin: portal sign-in refused (unknown key)",
                    {{"remote", request.remote_address}});
    return responder.send(
        errorResponse(Error(Errc::kUnauthenticated, "the admin key is not valid")));
  }
  Session session;
  const std::string cookie = sessions_->issue(*match, &session);
  core::log::info("admin: portal sign-in",
                  {{"actor", events::adminActor(match->id)}, {"remote", request.remote_address}});
  auto res = jsonResponse(200, sessionJson(session));
  const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(sessions_->ttl()).count();
  res.headers.push_back({"Set-Cookie", sessionCookie(cookie, deps_.secure_cookies, ttl)});
  responder.send(std::move(res));
}

void AdminApi::sessionGet(http::Request& request, http::Responder responder) {
  std::optional<Session> session;
  if (auto cookies = request.header("Cookie")) {
    if (auto value = cookieValue(*cookies, kSessionCookie)) {
      session = sessions_->verify(*value, deps_.keys, sso_ != nullptr);
    }
  }
  if (!session) {
    return responder.send(
        errorResponse(Error(Errc::kUnauthenticated, "not signed in to the portal")));
  }
  responder.send(jsonResponse(200, sessionJson(*session)));
}

// Every role may sign itself out (a viewer too): identify, not authorize. The revocation
// goes to the store (blocking pool); only a cookie whose signature holds is recorded.
void AdminApi::sessionClose(http::Request& request, http::Responder responder) {
  auto caller = identify(request, responder, /*mutation=*/true);
  if (!caller) return;
  const std::string clear = sessionCookie("", deps_.secure_cookies, 0);
  auto done = [actor = caller->actor, clear](http::Responder& r) {
    core::log::info("admin: portal sign-out", {{"actor", actor}});
    http::Response res;
    res.status = 204;
    res.headers.push_back({"Set-Cookie", clear});
    r.send(std::move(res));
  };
  auto cookies = request.header("Cookie");
  auto value = cookies ? cookieValue(*cookies, kSessionCookie) : std::nullopt;
  if (!value) return done(responder);
  withStore(std::move(responder), [this, cookie = std::string(*value), clear, done](
                                      store::Store& store, http::Responder& r) {
    if (auto st = sessions_->revoke(store, cookie); !st.ok()) {
      auto res = errorResponse(st.error());
      res.headers.push_back({"Set-Cookie", clear});
      return r.send(std::move(res));
    }
    done(r);
  });
}

}  // namespace tether::admin
