// The admin API's webhook routes: the configured hooks, the delivery log, a test delivery.

#include "admin/webhooks_api.h"

#include <boost/json.hpp>
#include <charconv>
#include <memory>

#include "admin/query_params.h"
#include "admin/responses.h"
#include "core/errors.h"
#include "core/log.h"
#include "webhooks/payload.h"

namespace tether::admin {
namespace {

using core::Errc;
using core::Error;
namespace json = boost::json;

json::value timeOrNull(const std::optional<core::TimePoint>& t) {
  if (!t) return nullptr;
  return json::value(core::formatRfc3339(*t));
}

/// Runs `work` with the service on the pool; 503 while the store is not open.
void withService(const WebhooksApiDeps& deps, http::Responder responder,
                 std::function<void(webhooks::Service&, http::Responder&)> work) {
  webhooks::Service* service = deps.service ? deps.service() : nullptr;
  if (!service) {
    return responder.send(errorResponse(
        Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  deps.pool->post([service, shared, work = std::move(work)] { work(*service, *shared); });
}

json::object hookJson(const webhooks::Webhook& h) {
  json::array events;
  for (auto e : h.events) events.emplace_back(config::webhookEventName(e));
  json::array headers;
  for (const auto& [name, value] : h.headers) headers.emplace_back(name);
  return {{"index", h.index},
          {"url", h.masked_url},
          {"events", std::move(events)},
          {"headers", std::move(headers)},
          {"ca_bundle", !h.ca_bundle.empty()}};
}

}  // namespace

void registerWebhookRoutes(AdminApi& api, http::Router& router, WebhooksApiDeps d) {
  auto deps = std::make_shared<const WebhooksApiDeps>(std::move(d));
  const std::string base = "/api/v1/admin/webhooks";

  api.addRoute(router, "GET", base, false,
               [deps](http::Request&, http::Responder r, const std::string&) {
                 withService(*deps, std::move(r), [](webhooks::Service& s, http::Responder& r) {
                   json::array hooks;
                   for (const auto& h : s.hooks()) hooks.push_back(hookJson(h));
                   r.send(jsonResponse(200, json::object{{"webhooks", std::move(hooks)}}));
                 });
               });

  api.addRoute(
      router, "GET", base + "/deliveries", false,
      [deps](http::Request& req, http::Responder r, const std::string&) {
        int limit = 50;
        if (auto text = req.queryParam("limit")) {
          auto v = boundedNumber(*text, "limit", 1, 500);
          if (!v.ok()) return r.send(errorResponse(v.error()));
          limit = *v;
        }
        withService(*deps, std::move(r), [limit](webhooks::Service& s, http::Responder& r) {
          auto rows = s.deliveries(limit);
          if (!rows.ok()) return r.send(errorResponse(rows.error()));
          json::array out;
          for (const store::OutboxMessage& m : *rows) {
            std::string webhook = "(removed)";
            for (const auto& h : s.hooks()) {
              if (h.webhook_key == m.webhook_key) webhook = h.masked_url;
            }
            const bool pending = m.status == store::OutboxStatus::kPending;
            out.push_back(json::object{
                {"id", m.message_id},
                {"event", m.event},
                {"connection", json::object{{"kind", m.key.kind}, {"name", m.key.name}}},
                {"webhook", webhook},
                {"attempts", m.attempts},
                {"last_status", m.last_status},
                {"last_error",
                 m.last_error.empty() ? json::value(nullptr) : json::value(m.last_error)},
                {"state", store::outboxStatusName(m.status)},
                {"created_at", core::formatRfc3339(m.created_at)},
                {"next_attempt_at", pending ? timeOrNull(m.next_attempt_at) : json::value(nullptr)},
                {"finished_at", timeOrNull(m.finished_at)}});
          }
          r.send(jsonResponse(200, json::object{{"deliveries", std::move(out)}}));
        });
      });

  api.addRoute(
      router, "POST", base + "/{index}/test", true,
      [deps](http::Request& req, http::Responder r, const std::string& actor) {
        auto index = boundedNumber(req.param("index"), "the webhook index", 0, 999);
        if (!index.ok()) return r.send(errorResponse(index.error()));
        withService(
            *deps, std::move(r), [i = *index, actor](webhooks::Service& s, http::Responder& r) {
              auto outcome = s.sendTest(static_cast<size_t>(i));
              if (!outcome.ok()) return r.send(errorResponse(outcome.error()));
              core::log::info("webhook test requested", {{"actor", actor}, {"webhook", i}});
              r.send(jsonResponse(
                  200, json::object{{"delivered", outcome->delivered},
                                    {"status", outcome->status},
                                    {"error", outcome->error.empty() ? json::value(nullptr)
                                                                     : json::value(outcome->error)},
                                    {"id", outcome->message_id}}));
            });
      });
}

}  // namespace tether::admin
