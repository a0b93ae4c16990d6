// The admin API's connection reads: the list (search, filters, pages), bulk health, one
// connection's detail and its auth events.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "admin/admin_api.h"
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

json::value timeOrNull(const std::optional<core::TimePoint>& t) {
  if (!t) return nullptr;
  return json::value(core::formatRfc3339(*t));
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
      if (version) {
        std::string etag(1, '"');  // (not "\"" + ...: GCC 12 reports a false -Wrestrict on it)
        etag += std::to_string(*version);
        etag += '"';
        res.headers.push_back({"ETag", std::move(etag)});
      }
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

}  // namespace tether::admin
