// Costs paid on every request or log line: redaction, JSON log formatting, metrics.
#include <benchmark/benchmark.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/redact.h"

namespace {

using namespace tether::core;

void BM_RedactTypicalLogLine(benchmark::State& state) {
  const std::string line =
      "POST /oauth/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz upstream=https://idp.example.com "
      "status=200 duration_ms=12.5 connection=mcp/github";
  for (auto _ : state) benchmark::DoNotOptimize(redactText(line));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_RedactTypicalLogLine);

void BM_FormatJsonLogLine(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(log::formatLine(log::Format::kJson, LogLevel::kInfo,
                                             "refresh succeeded",
                                             {{"connection", "mcp/github"},
                                              {"duration_ms", 12.5},
                                              {"request_id", "0123456789abcdef0123456789abcdef"}}));
  }
}
BENCHMARK(BM_FormatJsonLogLine);

void BM_CounterIncResolved(benchmark::State& state) {
  static MetricsRegistry registry;
  auto& c = registry.counter("bench_total", "bench", {{"route", "/x"}});
  for (auto _ : state) c.inc();
}
BENCHMARK(BM_CounterIncResolved)->Threads(1)->Threads(2);

void BM_CounterLookupAndInc(benchmark::State& state) {
  static MetricsRegistry registry;
  for (auto _ : state) {
    registry.counter("bench_total", "bench", {{"route", "/x"}, {"status", "200"}}).inc();
  }
}
BENCHMARK(BM_CounterLookupAndInc)->Threads(1)->Threads(2);

}  // namespace
