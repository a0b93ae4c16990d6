// The access log's cost per request: RequestRecorder::record() for a proxied MCP call, the
// line formatted as `tether serve` formats it (JSON, with the secrets a configuration
// registers) and handed to a sink that drops it (the write to stderr is not measured).
//
//   build/bench/http_bench --benchmark_filter=AccessLog
//   valgrind --tool=callgrind --toggle-collect='*RequestRecorder::record*'
//     build/bench/http_bench --benchmark_filter=AccessLog --benchmark_min_time=0.05
//   (one command; instructions per line: the collected total divided by the line count it
//   prints at exit, which counts the estimation runs too)
#include <benchmark/benchmark.h>

#include <cstdio>

#include "core/log.h"
#include "core/redact.h"
#include "http/request_log.h"

namespace {

using namespace tether;

struct LineCount {
  long n = 0;
  ~LineCount() {
    if (n) std::fprintf(stderr, "access log lines formatted: %ld\n", n);
  }
} g_lines;

http::Request proxiedCall() {
  http::Request req;
  req.method = "POST";
  req.route = "/mcp/{name}";
  req.connection = "mcp/github";
  req.subject = "ci-bot";
  req.request_id = "a1e8cbf11a0009ac0000000000000469";
  req.remote_address = "127.0.0.1";
  return req;
}

void BM_AccessLogLine(benchmark::State& state) {
  core::log::init(core::log::Format::kJson, core::LogLevel::kInfo);
  core::log::setSinkForTesting([](std::string_view line) { benchmark::DoNotOptimize(line); });
  for (const char* s : {"bench-secret-0123456789", "admin-key-0123456789abcdef",
                        "abababababababababababababababababababababababababababababababab"}) {
    core::registerSecret(s);
  }
  http::RequestRecorder recorder(nullptr, 1, true);
  const auto req = proxiedCall();
  const auto started = std::chrono::steady_clock::now();
  for (auto _ : state) recorder.record(0, req.route, req.method, 200, started, &req);
  g_lines.n += static_cast<long>(state.iterations());
  core::log::setSinkForTesting(nullptr);
  core::clearRegisteredSecrets();
}
BENCHMARK(BM_AccessLogLine);

}  // namespace
