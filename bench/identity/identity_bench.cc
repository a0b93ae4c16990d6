// The inbound token check on the proxy's hot path: an RS256 JWT whose key is cached
// (parse, signature, claims), and the parts of it, in ns/op.
#include <benchmark/benchmark.h>

#include <future>

#include "core/thread_pool.h"
#include "identity/validator.h"
#include "support/jwt_signer.h"

namespace {

using namespace tether;

constexpr std::string_view kIssuer = "https://idp.example";
constexpr std::string_view kAudience = "https://tether.example/mcp/docs";

struct Fixture {
  explicit Fixture(size_t verified_cache) : key(testing::TestKey::Type::kRsa, "k1") {
    const std::string jwks = testing::jwksJson({&key});
    identity::ValidatorOptions o;
    o.issuer = std::string(kIssuer);
    o.verified_cache_entries = verified_cache;
    identity::ValidatorDeps deps;
    deps.fetch_jwks = [jwks]() -> core::Result<std::string> { return jwks; };
    deps.run_blocking = [this](std::function<void()> f) { pool.post(std::move(f)); };
    validator = identity::Validator::create(o, std::move(deps));
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    token = testing::signJwt(key, {{"iss", kIssuer},
                                   {"aud", kAudience},
                                   {"sub", "alice@example.com"},
                                   {"exp", now + 3600},
                                   {"iat", now},
                                   {"scope", "mcp:tools openid"}});
    std::promise<bool> warm;
    validator->validate(token, std::string(kAudience),
                        [&warm](identity::Verdict v) { warm.set_value(v.ok()); });
    if (!warm.get_future().get()) std::abort();
  }
  core::ThreadPool pool{1, "bench"};
  testing::TestKey key;
  std::shared_ptr<identity::Validator> validator;
  std::string token;
};

Fixture& fixture() {
  static Fixture f(4096);
  return f;
}

// The default: a token seen before (MCP clients reuse theirs until it expires).
void BM_ValidateCachedRs256(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    auto v = f.validator->tryValidate(f.token, kAudience);
    if (!v || !v->ok()) state.SkipWithError("not accepted");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_ValidateCachedRs256)->ThreadRange(1, 2);

// A token seen for the first time: parse, RS256 signature and claims (JWK Set cached).
void BM_ValidateFirstSightRs256(benchmark::State& state) {
  static Fixture f(0);
  for (auto _ : state) {
    auto v = f.validator->tryValidate(f.token, kAudience);
    if (!v || !v->ok()) state.SkipWithError("not accepted");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_ValidateFirstSightRs256);

void BM_ParseJws(benchmark::State& state) {
  auto& f = fixture();
  identity::ClaimNames names;
  for (auto _ : state) {
    auto p = identity::parseJws(f.token, names);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_ParseJws);

void BM_RejectBadSignature(benchmark::State& state) {
  auto& f = fixture();
  std::string bad = f.token;
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  for (auto _ : state) {
    auto v = f.validator->tryValidate(bad, kAudience);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_RejectBadSignature);

}  // namespace
