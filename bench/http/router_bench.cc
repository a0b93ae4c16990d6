// Route matching cost for the gateway's route table shape.
#include <benchmark/benchmark.h>

#include "http/router.h"

namespace {

using namespace tether::http;

void addRoutes(Router& router) {
  Handler h = [](Request&, Responder rs) { rs.send(Response::text(200, "")); };
  router.add("GET", "/healthz", h);
  router.add("GET", "/readyz", h);
  router.add("GET", "/metrics", h);
  router.add("GET", "/api/v1/admin/connections", h);
  router.add("GET", "/api/v1/admin/connections/oauth-health", h);
  router.add("GET", "/api/v1/admin/connections/{kind}/{name}", h);
  router.add("GET", "/api/v1/admin/connections/{kind}/{name}/auth-events", h);
  router.add("POST", "/api/v1/admin/connections/{kind}/{name}/oauth/start", h);
  router.add("*", "/mcp/{name}", h);
  router.add("*", "/api/{name}/{path*}", h);
}

Router& routes() {
  static Router r;
  static const bool filled = (addRoutes(r), true);
  (void)filled;
  return r;
}

void BM_MatchMcp(benchmark::State& state) {
  auto& r = routes();
  for (auto _ : state) benchmark::DoNotOptimize(r.match("POST", "/mcp/github"));
}
BENCHMARK(BM_MatchMcp);

void BM_MatchAdminDetail(benchmark::State& state) {
  auto& r = routes();
  for (auto _ : state)
    benchmark::DoNotOptimize(r.match("GET", "/api/v1/admin/connections/mcp/github"));
}
BENCHMARK(BM_MatchAdminDetail);

void BM_MatchApiTail(benchmark::State& state) {
  auto& r = routes();
  for (auto _ : state)
    benchmark::DoNotOptimize(r.match("GET", "/api/billing/v2/invoices/42/lines"));
}
BENCHMARK(BM_MatchApiTail);

}  // namespace
