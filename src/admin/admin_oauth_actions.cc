// The admin API's OAuth actions on one connection: start a connect flow and follow it,
// refresh now, delete the token; and the public OAuth callback.
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

}  // namespace

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
