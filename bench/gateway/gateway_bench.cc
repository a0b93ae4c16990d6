// Per-call work of the proxy outside the network: header filtering both ways, target
// building, client-key and origin checks, and the error replies.

#include <benchmark/benchmark.h>

#include "gateway/client_guard.h"
#include "gateway/error_reply.h"
#include "gateway/header_policy.h"
#include "gateway/upstream_url.h"

namespace tether::gateway {
namespace {

const http::Headers kInbound = {
    {"Host", "127.0.0.1:8080"},
    {"User-Agent", "node"},
    {"Authorization", "Bearer gateway-client-key-0001"},
    {"Content-Type", "application/json"},
    {"Accept", "application/json, text/event-stream"},
    {"Mcp-Session-Id", "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"},
    {"MCP-Protocol-Version", "2025-11-25"},
    {"Content-Length", "58"},
    {"Connection", "keep-alive"},
};

void BM_McpRequestHeaders(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(upstreamRequestHeaders(Surface::kMcp, kInbound));
}
BENCHMARK(BM_McpRequestHeaders);

void BM_ApiRequestHeaders(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(upstreamRequestHeaders(Surface::kApi, kInbound));
}
BENCHMARK(BM_ApiRequestHeaders);

void BM_FilterResponseHeaders(benchmark::State& state) {
  const http::Headers upstream = {{"Content-Type", "text/event-stream"},
                                  {"Cache-Control", "no-cache"},
                                  {"Mcp-Session-Id", "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"},
                                  {"Connection", "keep-alive"},
                                  {"Date", "Sun, 22 Nov 2026 06:42:05 GMT"},
                                  {"Transfer-Encoding", "chunked"}};
  for (auto _ : state) {
    http::Headers h = upstream;
    filterResponseHeaders(h);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_FilterResponseHeaders);

void BM_ApiTarget(benchmark::State& state) {
  const auto e = parseUpstreamUrl("https://api.example.com/v3/").value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(apiTarget(e, "/repos/tether/issues/7/comments", "per_page=50"));
  }
}
BENCHMARK(BM_ApiTarget);

void BM_ClientKeyAndOrigin(benchmark::State& state) {
  config::AccessKey key;
  key.key = "gateway-client-key-0001";
  ClientGuard guard({key}, {}, "http://127.0.0.1:8080");
  const http::Headers h = {{"Origin", "http://localhost:6274"},
                           {"Authorization", "Bearer gateway-client-key-0001"}};
  for (auto _ : state) benchmark::DoNotOptimize(guard.check(h));
}
BENCHMARK(BM_ClientKeyAndOrigin);

void BM_JsonRpcErrorReply(benchmark::State& state) {
  const core::Error e(
      core::Errc::kNeedsReauth,
      "connection mcp/demo must be re-authorized (invalid_grant): connect it "
      "again from the Tether portal at https://t.example/portal/connections/mcp/demo");
  ErrorShape shape;
  shape.jsonrpc = true;
  shape.request_body = R"({"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"x"}})";
  shape.connection = "mcp/demo";
  for (auto _ : state) benchmark::DoNotOptimize(errorResponse(e, shape));
}
BENCHMARK(BM_JsonRpcErrorReply);

}  // namespace
}  // namespace tether::gateway
