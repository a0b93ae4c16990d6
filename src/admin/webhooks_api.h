#pragma once
/// The admin API's webhook routes (admin keys or a portal session, like every admin route):
///   GET  /api/v1/admin/webhooks                       → {"webhooks":[{"index","url" (query
///        masked),"events","headers" (names only),"ca_bundle"}]}; never a secret
///   GET  /api/v1/admin/webhooks/deliveries?limit=50   → {"deliveries":[{"id","event",
///        "connection":{"kind","name"},"webhook","attempts","last_status","last_error",
///        "state":"pending|delivered|given_up","created_at","next_attempt_at","finished_at"}]}
///   POST /api/v1/admin/webhooks/{index}/test          → {"delivered","status","error",
///        "id"} (admin role; sends a signed `test` message now)
/// Handlers run on the admin pool (store and HTTP I/O).

#include <functional>

#include "admin/admin_api.h"
#include "core/thread_pool.h"
#include "http/router.h"
#include "webhooks/service.h"

namespace tether::admin {

struct WebhooksApiDeps {
  /// Null until the store is open (the routes answer 503 then).
  std::function<webhooks::Service*()> service;
  core::ThreadPool* pool = nullptr;  // required; must outlive the routes
};

/// Registers the routes on `router` through `api` (its authentication and roles).
void registerWebhookRoutes(AdminApi& api, http::Router& router, WebhooksApiDeps deps);

}  // namespace tether::admin
