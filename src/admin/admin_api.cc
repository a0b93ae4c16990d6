#include "admin/admin_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>

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
namespace json = boost::json;

core::Result<store::ConnectionKey> connectionOf(const http::Request& r) {
  store::ConnectionKey key{r.param("kind"), r.param("name")};
  if (key.kind != "mcp" && key.kind != "api") {
    return Error(Errc::kNotFound, "unknown connection kind \"" + key.kind.substr(0, 16) +
                                      "\" (expected mcp or api)");
  }
  return key;
}

json::value timeOrNull(const std::optional<core::TimePoint>& t) {
  if (!t) return nullptr;
  return json::value(core::formatRfc3339(*t));
}

std::string sessionCookie(std::string_view value, bool secure, std::optional<int64_t> max_age) {
  std::string c = std::string(kSessionCookie) + "=" + std::string(value) +
                  "; Path=/; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  if (max_age) c += "; Max-Age=" + std::to_string(*max_age);
  return c;
}

/// The auth-events page size: 30 by default, else a number from 1 to 500.
core::Result<int> eventLimit(const std::optional<std::string>& text) {
  if (!text) return 30;
  return boundedNumber(*text, "limit", 1, 500);
}

json::object eventJson(const store::AuthEvent& e) {
  json::object o;
  o["id"] = e.id;
  o["at"] = core::formatRfc3339(e.at);
  o["type"] = std::string(store::eventTypeName(e.type));
  o["actor"] = e.actor;
  o["idp_host"] = e.idp_host;
  o["correlation_id"] = e.correlation_id;
  boost::system::error_code ec;
  auto detail = json::parse(e.detail_json, ec);
  o["detail"] = !ec && detail.is_object() ? detail : json::object{};
  return o;
}

}  // namespace

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

// ---- connections ---------------------------------------------------------------------

void AdminApi::list(http::Request& request, http::Responder responder) {
  if (!authorize(request, responder, false)) return;
  auto query = parseListQuery([&](std::string_view n) { return request.queryParam(n); });
  if (!query.ok()) return responder.send(errorResponse(query.error()));
  withStore(std::move(responder), [this, q = *query](store::Store& store, http::Responder& r) {
    // The page's one store query: a search or filter that leaves a few hundred connections
    // reads only their rows (key lookups), else the bulk answer for all of them.
    constexpr size_t kNarrowed = 500;
    const auto all = views();
    std::vector<ConnectionView> narrowed;
    const bool narrowing = !q.q.empty() || !q.kind.empty() || !q.auth.empty();
    if (narrowing) narrowed = matchingViews(*all, q);
    const bool few = narrowing && narrowed.size() <= kNarrowed;
    core::Result<std::vector<store::HealthRow>> rows = std::vector<store::HealthRow>{};
    if (few) {
      std::vector<store::ConnectionKey> keys;
      keys.reserve(narrowed.size());
      for (const auto& v : narrowed) keys.push_back(v.key);
      rows = store.healthOf(keys);
    } else {
      rows = store.bulkHealth();
    }
    if (!rows.ok()) return r.send(errorResponse(rows.error()));
    const auto& shown = few ? narrowed : *all;
    auto res = http::Response::json(200, listJson(selectPage(shown, *rows, q), q));
    res.headers.push_back({"Cache-Control", "no-store"});
    r.send(std::move(res));
  });
}

void AdminApi::health(http::Request& request, http::Responder responder) {
  if (!authorize(request, responder, false)) return;
  withStore(std::move(responder), [this](store::Store& store, http::Responder& r) {
    auto rows = store.bulkHealth();  // one query however many connections exist
    if (!rows.ok()) return r.send(errorResponse(rows.error()));
    // Both lists are ordered by (kind, name): one merge walk, JSON written directly (this
    // answer covers every connection, 10,000 and more).
    const auto connections = views();
    std::string out;
    out.reserve(64 + connections->size() * 150);
    out += "{\"connections\":[";
    auto row = rows->begin();
    bool first = true;
    for (const auto& c : *connections) {
      while (row != rows->end() && row->key < c.key) ++row;
      const store::HealthRow* h = row != rows->end() && row->key == c.key ? &*row : nullptr;
      const bool oauth = c.auth_mode == "oauth";
      if (!first) out += ',';
      first = false;
      out += "{\"kind\":";
      out += core::jsonString(c.key.kind);
      out += ",\"name\":";
      out += core::jsonString(c.key.name);
      out += oauth ? ",\"has_oauth\":true" : ",\"has_oauth\":false";
      if (oauth && h) {
        out += h->needs_reauth ? ",\"needs_reauth\":true" : ",\"needs_reauth\":false";
        out += h->token_acquired ? ",\"token_acquired\":true" : ",\"token_acquired\":false";
        out += ",\"state\":\"";
        out += store::connectionStateName(h->state);
        out += "\",\"idp_error_code\":";
        out += core::jsonString(h->last_error_code);
      } else {
        out += ",\"needs_reauth\":false,\"token_acquired\":false,\"state\":\"";
        out += oauth ? "not_connected" : "not_applicable";
        out += "\",\"idp_error_code\":\"\"";
      }
      out += '}';
    }
    out += "]}";
    auto res = http::Response::json(200, std::move(out));
    res.headers.push_back({"Cache-Control", "no-store"});
    r.send(std::move(res));
  });
}

void AdminApi::detail(http::Request& request, http::Responder responder) {
  if (!authorize(request, responder, false)) return;
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  const auto view = find(*key);
  if (!view) {
    return responder.send(
        errorResponse(Error(Errc::kNotFound, "no connection " + key->str() + " is configured")));
  }
  withStore(std::move(responder), [this, view](store::Store& store, http::Responder& r) {
    json::object o{{"kind", view->key.kind},
                   {"name", view->key.name},
                   {"url_host", view->url_host},
                   {"source", view->source},
                   {"auth_mode", view->auth_mode}};
    detail::addUseIt(o, *view, deps_.client_keys_required,
                     deps_.gateway_base_url ? deps_.gateway_base_url() : std::string());
    auto activity = store.activity(view->key);
    if (!activity.ok()) return r.send(errorResponse(activity.error()));
    detail::addLastUse(o, *activity);
    // A connection made through the API: its definition (secrets "set" / "not set") and the
    // version an edit sends back in If-Match, as the write routes answer them.
    std::optional<int64_t> version;
    if (view->source == "api") {
      auto stored = store.definitions().getDefinition(view->key);
      if (!stored.ok()) return r.send(errorResponse(stored.error()));
      if (*stored && !(*stored)->deleted_at) {
        auto definition = json::parse(definitionAnswer(**stored)).as_object();
        version = (*stored)->version;
        o["version"] = *version;
        for (const char* k : {"source", "version", "created_at", "updated_at"}) definition.erase(k);
        o["definition"] = std::move(definition);
      }
    }
    auto answer = [version](json::object body) {
      auto res = jsonResponse(200, body);
      if (version) res.headers.push_back({"ETag", "\"" + std::to_string(*version) + "\""});
      return res;
    };
    if (view->auth_mode != "oauth") {
      o["oauth"] = nullptr;
      return r.send(answer(std::move(o)));
    }
    auto token = store.getToken(view->key);
    if (!token.ok()) return r.send(errorResponse(token.error()));
    auto state = store.getState(view->key);
    if (!state.ok()) return r.send(errorResponse(state.error()));
    auto recent = store.recentEvents(view->key, 50);
    if (!recent.ok()) return r.send(errorResponse(recent.error()));
    const auto& t = *token;
    const auto& s = *state;
    const lifecycle::ConnectionView shown =
        lifecycle::viewOf(t, s, *recent, view->refresh_max_lifetime, deps_.clock->now());
    json::object oauth;
    oauth["state"] = std::string(store::connectionStateName(shown.state));
    oauth["status"] = shown.status;
    oauth["has_token"] = shown.has_token;
    oauth["error_code"] = shown.error_code;
    oauth["expires_at"] = timeOrNull(t ? t->expires_at : std::nullopt);
    oauth["refresh_expires_at"] = timeOrNull(t ? t->refresh_expires_at : std::nullopt);
    oauth["last_refreshed_at"] = timeOrNull(t ? t->last_refreshed_at : std::nullopt);
    oauth["authenticated_at"] =
        timeOrNull(t ? std::optional<core::TimePoint>(t->authenticated_at) : std::nullopt);
    oauth["authenticated_by"] = t ? json::value(t->authenticated_by) : json::value(nullptr);
    oauth["scope"] = t ? json::value(t->scope) : json::value(nullptr);
    oauth["has_refresh_token"] = t && t->refresh_token.has_value();
    oauth["idp_host"] = t ? t->idp_host : std::string();
    oauth["next_attempt_at"] = timeOrNull(s ? s->next_attempt_at : std::nullopt);
    oauth["consecutive_failures"] = s ? s->consecutive_failures : 0;
    oauth["last_error_code"] = s ? s->last_error_code : std::string();
    oauth["reason"] = s ? s->reason : std::string();
    oauth["step_up_scopes"] = s ? s->step_up_scopes : std::string();  // MCP step-up
    // The newest revocation in the recent history: when, why and which IdP said so.
    json::value revocation = nullptr;
    if (const auto& rev = shown.last_revocation) {
      revocation = json::object{{"at", core::formatRfc3339(rev->at)},
                                {"reason", rev->reason},
                                {"idp_host", rev->idp_host}};
    }
    oauth["last_revocation"] = revocation;
    oauth["refresh_deadline"] = timeOrNull(shown.refresh_deadline);
    detail::addPlanning(oauth, *view, t, s, shown);
    detail::addConsentingAccount(oauth, *activity, t);
    oauth["reauthorize_soon"] = shown.reauthorize_soon;
    o["oauth"] = std::move(oauth);
    r.send(answer(std::move(o)));
  });
}

void AdminApi::events(http::Request& request, http::Responder responder) {
  if (!authorize(request, responder, false)) return;
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  if (!find(*key)) {
    return responder.send(
        errorResponse(Error(Errc::kNotFound, "no connection " + key->str() + " is configured")));
  }
  auto limit = eventLimit(request.queryParam("limit"));
  if (!limit.ok()) return responder.send(errorResponse(limit.error()));
  withStore(std::move(responder),
            [k = *key, limit = *limit](store::Store& store, http::Responder& r) {
              auto events = store.recentEvents(k, limit);
              if (!events.ok()) return r.send(errorResponse(events.error()));
              json::array out;
              for (const auto& e : *events) out.push_back(eventJson(e));
              r.send(jsonResponse(200, json::object{{"events", std::move(out)}}));
            });
}

// ---- OAuth actions -------------------------------------------------------------------

void AdminApi::start(http::Request& request, http::Responder responder) {
  auto caller = authorize(request, responder, true);
  if (!caller) return;
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  std::string return_url;
  if (!request.body.empty()) {
    boost::system::error_code ec;
    auto v = json::parse(request.body, ec);
    if (ec || !v.is_object()) {
      return responder.send(errorResponse(
          Error(Errc::kInvalidArgument, "the request body must be a JSON object (or empty)")));
    }
    if (const auto* u = v.as_object().if_contains("return_url")) {
      if (!u->is_string()) {
        return responder.send(
            errorResponse(Error(Errc::kInvalidArgument, "return_url must be a string")));
      }
      return_url = std::string(u->as_string());
    }
  }
  flows::Flows* flows = flowsFor(*key, responder);
  if (!flows) return;
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  const std::string by = caller->actor;
  core::log::info("admin: connect started", {{"connection", key->str()}, {"actor", by}});
  deps_.pool->post([flows, shared, k = *key, by, return_url] {
    auto started = flows->start(k, by, return_url);
    if (!started.ok()) return shared->send(errorResponse(started.error()));
    shared->send(
        jsonResponse(200, json::object{{"authorization_url", started->authorization_url},
                                       {"state", started->state},
                                       {"redirect_uri", started->redirect_uri},
                                       {"expires_at", core::formatRfc3339(started->expires_at)},
                                       {"correlation_id", started->correlation_id},
                                       {"created", started->created}}));
  });
}

void AdminApi::flowStatus(http::Request& request, http::Responder responder) {
  if (!authorize(request, responder, false)) return;
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  flows::Flows* flows = flowsFor(*key, responder);
  if (!flows) return;
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  deps_.pool->post([flows, shared, k = *key, corr = request.param("correlation")] {
    auto status = flows->status(k, corr);
    if (!status.ok()) return shared->send(errorResponse(status.error()));
    json::object o{{"status", std::string(flows::flowOutcomeName(status->outcome))}};
    if (!status->reason.empty()) o["reason"] = status->reason;
    if (!status->idp_error.empty()) o["idp_error"] = status->idp_error;
    shared->send(jsonResponse(200, o));
  });
}

void AdminApi::refresh(http::Request& request, http::Responder responder) {
  auto caller = authorize(request, responder, true);
  if (!caller) return;
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  auto source = deps_.sources ? deps_.sources(*key) : nullptr;
  if (!source) {
    if (deps_.store && !deps_.store()) {
      return responder.send(errorResponse(
          Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
    }
    return responder.send(errorResponse(
        Error(Errc::kNotFound, "no OAuth connection " + key->str() + " is configured")));
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  const std::string by = caller->actor;
  core::log::info("admin: refresh now", {{"connection", key->str()}, {"actor", by}});
  const core::Clock* clock = deps_.clock;
  deps_.pool->post([source, shared, k = *key, by, clock] {
    auto result = source->refreshNow(by);
    if (!result.ok()) {
      const auto& e = result.error();
      core::Error err = e.toError(k);
      if (e.kind == lifecycle::TokenError::Kind::kNeedsReauth) {
        err = Error(Errc::kConflict, err.message);
      }
      auto res = errorResponse(err);
      if (e.retry_at) {
        const auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(*e.retry_at - clock->now()).count();
        res.headers.push_back({"Retry-After", std::to_string(std::max<int64_t>(1, secs))});
      }
      return shared->send(std::move(res));
    }
    // A rejected client or a transient failure still hands out the current (unexpired)
    // token: say it failed.
    if (const auto st = source->status(); st.state == store::ConnectionState::kNeedsClientFix) {
      return shared->send(errorResponse(Error(
          Errc::kConflict, "refreshing " + k.str() +
                               " failed: the identity provider rejected Tether's client "
                               "credentials (" +
                               st.last_error_code + "); the current token stays in use until " +
                               core::formatRfc3339(result.value()->expires_at) +
                               "; fix the connection's client settings")));
    } else if (st.state == store::ConnectionState::kRefreshFailing) {
      std::string msg = "refreshing " + k.str() + " failed (" +
                        (st.last_error_code.empty() ? st.reason : st.last_error_code) +
                        "); the current token stays in use until " +
                        core::formatRfc3339(result.value()->expires_at);
      if (st.next_attempt_at) msg += "; next attempt " + core::formatRfc3339(*st.next_attempt_at);
      auto res = errorResponse(Error(Errc::kTemporarilyUnavailable, msg));
      if (st.next_attempt_at) {
        const auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(*st.next_attempt_at - clock->now())
                .count();
        res.headers.push_back({"Retry-After", std::to_string(std::max<int64_t>(1, secs))});
      }
      return shared->send(std::move(res));
    }
    shared->send(jsonResponse(
        200, json::object{{"refreshed", true},
                          {"expires_at", core::formatRfc3339(result.value()->expires_at)}}));
  });
}

void AdminApi::deleteToken(http::Request& request, http::Responder responder) {
  auto caller = authorize(request, responder, true);
  if (!caller) return;
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  const auto view = find(*key);
  if (!view || view->auth_mode != "oauth") {
    return responder.send(errorResponse(
        Error(Errc::kNotFound, "no OAuth connection " + key->str() + " is configured")));
  }
  auto source = deps_.sources ? deps_.sources(*key) : nullptr;
  if (!source) {
    return responder.send(errorResponse(
        Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
  }
  const std::string by = caller->actor;
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  // Through the lifecycle: it waits for a refresh in flight, so none can bring the token or
  // a "connected" state back after the delete.
  deps_.pool->post([source, shared, k = *key, by] {
    auto deleted = source->deleteToken(by);
    if (!deleted.ok()) return shared->send(errorResponse(deleted.error()));
    core::log::info("admin: token deleted",
                    {{"connection", k.str()}, {"actor", by}, {"deleted", *deleted}});
    shared->send(jsonResponse(200, json::object{{"deleted", *deleted}}));
  });
}

void AdminApi::callback(http::Request& request, http::Responder responder) {
  std::map<std::string, std::string> query;
  for (const char* name : {"state", "code", "error", "iss"}) {
    if (auto v = request.queryParam(name)) query[name] = *v;
  }
  flows::Flows* flows = deps_.flows ? deps_.flows() : nullptr;
  if (!flows) {
    return responder.send(http::Response::html(
        503, flows::renderPage("Tether is starting", "Its database is not open yet.",
                               "Reload this page in a moment.")));
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  deps_.pool->post([flows, shared, query = std::move(query)] {
    auto page = flows->callback(query);
    http::Response res;
    if (!page.location.empty()) {
      res = http::Response::redirect(page.location, page.status);
    } else {
      res = http::Response::html(page.status, page.html);
    }
    // The URL carried a code and a state: keep it out of caches and Referer headers.
    res.headers.push_back({"Cache-Control", "no-store"});
    res.headers.push_back({"Referrer-Policy", "no-referrer"});
    shared->send(std::move(res));
  });
}

}  // namespace tether::admin
