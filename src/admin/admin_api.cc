#include "admin/admin_api.h"

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/errors.h"
#include "core/form.h"
#include "core/log.h"
#include "events/recorder.h"

namespace tether::admin {
namespace {

using core::Errc;
using core::Error;

http::Response errorResponse(const Error& e) {
  return http::Response::json(core::errorInfo(e.code).http_status, core::errorJson(e));
}

// The (kind, name) of the route, or an error naming what is wrong.
core::Result<store::ConnectionKey> connectionOf(const http::Request& r) {
  store::ConnectionKey key{r.param("kind"), r.param("name")};
  if (key.kind != "mcp" && key.kind != "api") {
    return Error(Errc::kNotFound, "unknown connection kind \"" + key.kind.substr(0, 16) +
                                      "\" (expected mcp or api)");
  }
  return key;
}

}  // namespace

AdminApi::AdminApi(AdminAuth auth, FlowsAccess flows, SourceAccess sources, core::ThreadPool& pool)
    : auth_(std::move(auth)), flows_(std::move(flows)), sources_(std::move(sources)), pool_(pool) {}

void AdminApi::registerRoutes(http::Router& router) {
  router.add("POST", "/api/v1/admin/connections/{kind}/{name}/oauth/start",
             [this](http::Request& r, http::Responder res) { start(r, std::move(res)); });
  router.add("GET", "/api/v1/admin/connections/{kind}/{name}/oauth/flows/{correlation}",
             [this](http::Request& r, http::Responder res) { flowStatus(r, std::move(res)); });
  router.add("POST", "/api/v1/admin/connections/{kind}/{name}/oauth/refresh",
             [this](http::Request& r, http::Responder res) { refresh(r, std::move(res)); });
  router.add("GET", "/oauth/callback",
             [this](http::Request& r, http::Responder res) { callback(r, std::move(res)); });
}

void AdminApi::start(http::Request& request, http::Responder responder) {
  auto actor = auth_.authenticate(request);
  if (!actor.ok()) return responder.send(errorResponse(actor.error()));
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  std::string return_url;
  if (!request.body.empty()) {
    boost::system::error_code ec;
    auto v = boost::json::parse(request.body, ec);
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
  flows::Flows* flows = flows_();
  if (!flows) {
    return responder.send(errorResponse(
        Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
  }
  if (!flows->has(*key)) {
    return responder.send(errorResponse(
        Error(Errc::kNotFound, "no OAuth connection " + key->str() + " is configured")));
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  const std::string by = events::adminActor(*actor);
  pool_.post([flows, shared, k = *key, by, return_url] {
    auto started = flows->start(k, by, return_url);
    if (!started.ok()) return shared->send(errorResponse(started.error()));
    boost::json::object o;
    o["authorization_url"] = started->authorization_url;
    o["state"] = started->state;
    o["redirect_uri"] = started->redirect_uri;
    o["expires_at"] = core::formatRfc3339(started->expires_at);
    o["correlation_id"] = started->correlation_id;
    o["created"] = started->created;
    shared->send(http::Response::json(200, boost::json::serialize(o)));
  });
}

void AdminApi::flowStatus(http::Request& request, http::Responder responder) {
  auto actor = auth_.authenticate(request);
  if (!actor.ok()) return responder.send(errorResponse(actor.error()));
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  flows::Flows* flows = flows_();
  if (!flows) {
    return responder.send(errorResponse(
        Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
  }
  if (!flows->has(*key)) {
    return responder.send(errorResponse(
        Error(Errc::kNotFound, "no OAuth connection " + key->str() + " is configured")));
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  pool_.post([flows, shared, k = *key, corr = request.param("correlation")] {
    auto status = flows->status(k, corr);
    if (!status.ok()) return shared->send(errorResponse(status.error()));
    boost::json::object o;
    o["status"] = std::string(flows::flowOutcomeName(status->outcome));
    if (!status->reason.empty()) o["reason"] = status->reason;
    if (!status->idp_error.empty()) o["idp_error"] = status->idp_error;
    shared->send(http::Response::json(200, boost::json::serialize(o)));
  });
}

void AdminApi::refresh(http::Request& request, http::Responder responder) {
  auto actor = auth_.authenticate(request);
  if (!actor.ok()) return responder.send(errorResponse(actor.error()));
  auto key = connectionOf(request);
  if (!key.ok()) return responder.send(errorResponse(key.error()));
  auto source = sources_ ? sources_(*key) : nullptr;
  if (!source) {
    if (!flows_()) {
      return responder.send(errorResponse(
          Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
    }
    return responder.send(errorResponse(
        Error(Errc::kNotFound, "no OAuth connection " + key->str() + " is configured")));
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  const std::string by = events::adminActor(*actor);
  core::log::info("admin: refresh now", {{"connection", key->str()}, {"actor", by}});
  pool_.post([source, shared, k = *key, by] {
    auto result = source->refreshNow(by);
    if (!result.ok()) {
      const auto& e = *result.error;
      core::Error err = e.toError(k);
      if (e.kind == lifecycle::TokenError::Kind::kNeedsReauth) {
        err = Error(Errc::kConflict, err.message);
      }
      auto res = errorResponse(err);
      if (e.retry_at) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                              *e.retry_at - core::systemClock().now())
                              .count();
        res.headers.push_back({"Retry-After", std::to_string(std::max<int64_t>(1, secs))});
      }
      return shared->send(std::move(res));
    }
    boost::json::object o;
    o["refreshed"] = true;
    o["expires_at"] = core::formatRfc3339(result.token->expires_at);
    shared->send(http::Response::json(200, boost::json::serialize(o)));
  });
}

void AdminApi::callback(http::Request& request, http::Responder responder) {
  std::map<std::string, std::string> query;
  for (const char* name : {"state", "code", "error", "iss"}) {
    if (auto v = request.queryParam(name)) query[name] = *v;
  }
  flows::Flows* flows = flows_();
  if (!flows) {
    return responder.send(http::Response::html(
        503, flows::renderPage("Tether is starting", "Its database is not open yet.",
                               "Reload this page in a moment.")));
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  pool_.post([flows, shared, query = std::move(query)] {
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
