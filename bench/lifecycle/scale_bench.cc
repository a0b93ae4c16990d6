// Lifecycle at scale (issue #5 benchmarks): N connections with 1-hour access tokens on one
// replica (SQLite) against the mock IdP in its own process, so the CPU measured here is
// Tether's. Prints the due-set query time, memory per idle connection and the keeper's CPU
// share at the steady refresh rate (N / 3600 per second).
//
//   lifecycle_scale [--connections 100000] [--seconds 60] [--idp build/tether-mock-idp]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <regex>

#include "bench_env.h"
#include "core/encoding.h"
#include "core/log.h"
#include "lifecycle/lifecycle.h"
#include "oauth/pkce.h"
#include "oauth/token_endpoint_client.h"
#include "support/process.h"

using namespace tether;
using Clock = std::chrono::steady_clock;

namespace {

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long rssBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  int n = 100'000;
  int seconds = 60;
  std::string idp_binary;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--connections") n = std::stoi(argv[i + 1]);
    if (a == "--seconds") seconds = std::stoi(argv[i + 1]);
    if (a == "--idp") idp_binary = argv[i + 1];
  }
  if (idp_binary.empty()) {
    const std::string self = std::filesystem::canonical("/proc/self/exe").string();
    idp_binary = std::filesystem::path(self).parent_path().parent_path() / "tether-mock-idp";
  }
  core::log::init(core::log::Format::kJson, core::LogLevel::kError);

  testing::Child idp({idp_binary, "--port", "0", "--rotation", "none", "--access-token-lifetime",
                      "1h", "--client", "tether-client:tether-secret", "--log-level", "error"});
  if (!idp.waitForStdout("listening on ", std::chrono::seconds(20))) {
    std::fprintf(stderr, "mock IdP did not start: %s\n", idp.err().c_str());
    return 2;
  }
  std::smatch m;
  const std::string out = idp.out();
  std::regex_search(out, m, std::regex(R"(listening on (http://\S+))"));
  const std::string issuer = m[1];

  core::ManualClock clock;
  const auto dir =
      std::filesystem::temp_directory_path() / ("tether-scale-" + core::newId().substr(0, 8));
  auto store = bench::openTempStore(dir, clock);
  auto http = http::makeHttpClient();

  // One real refresh token (rotation none: every connection may use the same one).
  oauth::OAuthClientConfig cfg;
  cfg.token_url = issuer + "/token";
  cfg.client_id = "tether-client";
  cfg.client_secret = "tether-secret";
  cfg.use_proxy = false;
  const auto pkce = oauth::generatePkce();
  http::ClientRequest authorize;
  authorize.url = issuer + "/authorize?response_type=code&client_id=tether-client&redirect_uri=" +
                  core::percentEncode("http://127.0.0.1/cb") +
                  "&state=s&code_challenge=" + pkce.challenge + "&code_challenge_method=S256";
  auto redirect = http->send(authorize);
  const std::string location(http::findHeader(redirect.response.headers, "Location").value_or(""));
  std::regex_search(location, m, std::regex(R"([?&]code=([^&]+))"));
  oauth::TokenEndpointClient client(*http, cfg, clock);
  auto grant = client.exchangeCode(core::formUrlDecode(m[1].str()).value(), pkce.verifier,
                                   "http://127.0.0.1/cb");
  if (!grant.ok()) {
    std::fprintf(stderr, "connect failed: %s\n", grant.classification.code.c_str());
    return 2;
  }

  lifecycle::Settings settings;
  settings.keeper_concurrency = 8;
  std::vector<lifecycle::ConnectionSpec> specs;
  specs.reserve(static_cast<size_t>(n));
  const auto t_insert = Clock::now();
  const core::TimePoint now = clock.now();
  for (int i = 0; i < n; ++i) {
    lifecycle::ConnectionSpec spec;
    spec.key = {"mcp", "c" + std::to_string(i)};
    spec.oauth = cfg;
    spec.idp_host = "127.0.0.1";
    store::TokenRecord t;
    t.key = spec.key;
    t.access_token = grant.tokens->access_token;
    t.refresh_token = grant.tokens->refresh_token;
    t.authenticated_at = now - std::chrono::minutes(30);
    t.last_refreshed_at = now - std::chrono::minutes(30);
    // Expiries spread over the hour after the 5-minute lead: a steady ~N/3600 per second.
    t.expires_at = now + std::chrono::minutes(5) +
                   std::chrono::milliseconds(static_cast<int64_t>(3'600'000.0 * i / n));
    if (!store->putToken(t, 0).ok()) return 2;
    (void)store->setNextDue(t.key, lifecycle::nextDue(t, settings, std::nullopt, 0));
    specs.push_back(std::move(spec));
  }
  const double insert_s = ms(Clock::now() - t_insert) / 1000;

  // Due-set query: the keeper's batch, over all N rows.
  std::vector<double> query_ms;
  for (int i = 0; i < 21; ++i) {
    const auto t0 = Clock::now();
    auto due = store->dueConnections(now + std::chrono::minutes(30), 512);
    query_ms.push_back(ms(Clock::now() - t0));
    if (!due.ok() || due.value().size() != 512) return 2;
  }
  std::sort(query_ms.begin(), query_ms.end());

  // Memory per idle connection: sources with their access token cached.
  const long rss_before = rssBytes();
  events::Recorder recorder(*store, clock, nullptr);
  lifecycle::LifecycleOptions options;
  options.settings = settings;
  options.owner = "bench";
  lifecycle::Lifecycle lc(std::move(specs), *store, *http, recorder, clock, nullptr, options);
  lc.start(false);
  for (const auto& s : lc.sources()) {
    if (!s->token().ok()) return 2;
  }
  const long rss_after = rssBytes();
  const double bytes_per_connection = static_cast<double>(rss_after - rss_before) / n;

  // Keeper at the steady rate: `seconds` simulated seconds, one tick each.
  size_t refreshed = 0;
  const double cpu0 = cpuSeconds();
  const auto wall0 = Clock::now();
  for (int s = 0; s < seconds; ++s) {
    clock.advance(std::chrono::seconds(1));
    refreshed += lc.keeper().tick();
  }
  const double cpu = cpuSeconds() - cpu0;
  const double wall = ms(Clock::now() - wall0) / 1000;
  const double rate = n / 3600.0;
  const double cpu_per_refresh_ms = refreshed ? cpu * 1000 / static_cast<double>(refreshed) : 0;
  const double share = cpu_per_refresh_ms / 1000 * rate * 100;
  lc.stop();

  std::printf("lifecycle scale: %d connections, SQLite, mock IdP in its own process\n", n);
  std::printf("  insert %d token rows: %.1f s\n", n, insert_s);
  std::printf("  due-set query (first 512 of %d): median %.2f ms, max %.2f ms (target < 50 ms)\n",
              n, query_ms[query_ms.size() / 2], query_ms.back());
  std::printf("  memory per idle connection (token cached): %.0f bytes (target < 2048)\n",
              bytes_per_connection);
  std::printf("  keeper: %zu refreshes in %d simulated s (%.1f s wall); CPU %.3f ms per refresh\n",
              refreshed, seconds, wall, cpu_per_refresh_ms);
  std::printf(
      "  keeper CPU share at the steady %.1f refreshes/s: %.1f %% of a core (target < 25 %%)\n",
      rate, share);
  std::filesystem::remove_all(dir);
  return 0;
}
