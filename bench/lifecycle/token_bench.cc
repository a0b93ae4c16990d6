// Hot path: TokenSource::token() on a valid cached token, from 1 and 32 threads.
#include <benchmark/benchmark.h>

#include "bench_env.h"
#include "lifecycle/lifecycle.h"

namespace {

using namespace tether;

struct Env {
  core::ManualClock clock;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tether-bench-" + core::newId().substr(0, 8));
  std::unique_ptr<store::Store> store = bench::openTempStore(dir, clock);
  std::unique_ptr<http::HttpClient> http = http::makeHttpClient();
  events::Recorder recorder{*store, clock, nullptr};
  std::unique_ptr<lifecycle::Lifecycle> lc;
  std::shared_ptr<lifecycle::TokenSource> source;

  Env() {
    lifecycle::ConnectionSpec spec;
    spec.key = {"mcp", "bench"};
    spec.oauth.token_url = "http://127.0.0.1:9/never-called";
    store::TokenRecord t;
    t.key = spec.key;
    t.access_token = std::string(800, 'a');  // a JWT-sized token
    t.refresh_token = "rt";
    t.authenticated_at = clock.now();
    t.expires_at = clock.now() + std::chrono::hours(1);
    (void)store->putToken(t, 0);
    lc = std::make_unique<lifecycle::Lifecycle>(std::vector<lifecycle::ConnectionSpec>{spec},
                                                *store, *http, recorder, clock, nullptr,
                                                lifecycle::LifecycleOptions{});
    source = lc->source(spec.key);
    if (!source->token().ok()) std::abort();  // loads the cache
  }
  ~Env() {
    lc->stop();
    std::filesystem::remove_all(dir);
  }
};

Env& env() {
  static Env e;
  return e;
}

void BM_TokenCached(benchmark::State& state) {
  auto source = env().source;
  for (auto _ : state) {
    auto r = source->token();
    benchmark::DoNotOptimize(r.ok());
  }
}
BENCHMARK(BM_TokenCached)->Threads(1)->Threads(32)->UseRealTime();

}  // namespace
