// The admin API's bulk OAuth health endpoint over 10,000 connections (target < 50 ms), end
// to end over loopback HTTP (auth, one store query, JSON), next to the store query alone
// measured in the same run (the floor the endpoint is compared with).

#include <benchmark/benchmark.h>
#include <openssl/sha.h>

#include <cstdio>

#include "admin/admin_api.h"
#include "bench_database.h"
#include "core/log.h"
#include "http/http_client.h"
#include "http/server.h"

namespace tether::admin {
namespace {

constexpr int kConnections = 10'000;
const std::string kKey = "bench-admin-key-0123456789";

std::string sha256Raw(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

struct Fixture {
  Fixture() {
    core::log::init(core::log::Format::kText, core::LogLevel::kWarn);
    db = store::bench::BenchDatabase::sqlite(kConnections);
    if (!db || !db->store()) return;
    AdminDeps deps;
    deps.keys = {{"bench", kKey, sha256Raw(kKey), false}};
    for (int i = 0; i < kConnections; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "conn-%06d", i);
      deps.connections.push_back(
          {{"mcp", name}, "mcp.example.com", "oauth", std::nullopt, "mcp.example.com", ""});
    }
    deps.store = [this] { return db->store(); };
    deps.pool = &pool;
    api = std::make_unique<AdminApi>(std::move(deps));
    api->registerRoutes(router);
    http::ServerOptions o;
    o.port = 0;
    server = std::make_unique<http::Server>(o, router, nullptr);
    if (!server->start().ok()) server.reset();
  }
  ~Fixture() {
    if (server) server->stop();
    pool.shutdown();
  }

  std::unique_ptr<store::bench::BenchDatabase> db;
  core::ThreadPool pool{2, "admin-bench"};
  http::Router router;
  std::unique_ptr<AdminApi> api;
  std::unique_ptr<http::Server> server;
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_HealthEndpoint_SQLite(benchmark::State& state) {
  auto& f = fixture();
  if (!f.server) return state.SkipWithError("setup failed");
  auto http = http::makeHttpClient();
  http::ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(f.server->port()) +
            "/api/v1/admin/connections/oauth-health";
  req.headers = {{"Authorization", "Bearer " + kKey}};
  req.max_response_bytes = 16 << 20;
  size_t bytes = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    auto r = http->send(req);
    if (!r.ok() || r.response.status != 200) return state.SkipWithError("request failed");
    bytes = r.response.body.size();
  }
  state.counters["connections"] = kConnections;
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_HealthEndpoint_SQLite)->Unit(benchmark::kMillisecond)->UseRealTime();

// The peer: the one store query the endpoint answers from.
void BM_HealthQueryOnly_SQLite(benchmark::State& state) {
  auto& f = fixture();
  if (!f.db || !f.db->store()) return state.SkipWithError("setup failed");
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    auto rows = f.db->store()->bulkHealth();
    if (!rows.ok()) return state.SkipWithError(rows.error().message.c_str());
    benchmark::DoNotOptimize(rows->size());
  }
}
BENCHMARK(BM_HealthQueryOnly_SQLite)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tether::admin
