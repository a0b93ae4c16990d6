#pragma once
/// The admin REST API under /api/v1/admin/ and the public OAuth callback. Every admin
/// route requires an admin key (AdminAuth); errors are `{"error":{"code","message"}}`
/// through the one error table. Handlers that touch the store or an IdP run on the given
/// blocking pool, never on a server I/O thread.
///
/// Routes (this file grows with the admin issue):
///   POST /api/v1/admin/connections/{kind}/{name}/oauth/start     body: {"return_url"?}
///   GET  /api/v1/admin/connections/{kind}/{name}/oauth/flows/{correlation_id}
///   POST /api/v1/admin/connections/{kind}/{name}/oauth/refresh   (refresh now; 409 when
///        the connection needs re-authorization, 503 + Retry-After while the IdP fails)
///   GET  /oauth/callback                                          (public; state is the
///   credential)

#include <functional>

#include "admin/admin_auth.h"
#include "core/thread_pool.h"
#include "flows/flows.h"
#include "http/router.h"
#include "lifecycle/token_source.h"

namespace tether::admin {

class AdminApi {
 public:
  /// Returns the connect flows once the store is open; null before (answers 503).
  using FlowsAccess = std::function<flows::Flows*()>;
  /// The token source of an OAuth connection; null when unknown or before the store opens.
  using SourceAccess =
      std::function<std::shared_ptr<lifecycle::TokenSource>(const store::ConnectionKey&)>;

  /// `pool` must outlive the routes.
  AdminApi(AdminAuth auth, FlowsAccess flows, SourceAccess sources, core::ThreadPool& pool);

  void registerRoutes(http::Router& router);

 private:
  void start(http::Request& request, http::Responder responder);
  void flowStatus(http::Request& request, http::Responder responder);
  void callback(http::Request& request, http::Responder responder);
  void refresh(http::Request& request, http::Responder responder);

  AdminAuth auth_;
  FlowsAccess flows_;
  SourceAccess sources_;
  core::ThreadPool& pool_;
};

}  // namespace tether::admin
