// Parse + classify of token endpoint answers (ns/op): what every refresh pays on top of
// the network round trip.

#include <benchmark/benchmark.h>

#include "core/encoding.h"
#include "oauth/classify.h"
#include "oauth/sanitize.h"

namespace tether::oauth {
namespace {

const core::TimePoint kNow = core::fromUnixSeconds(1'800'000'000);

std::string jwt() {
  const std::string header = R"({"alg":"RS256","typ":"JWT","kid":"k6VbVPgIc6wFP2Qf"})";
  const std::string claims =
      R"({"iss":"https://idp.example.com/realms/acme","sub":"6f1c2a7e-3b1d-4f7a-9c55-0d2b7c1e9a10",)"
      R"("aud":"https://mcp.example.com/mcp","client_id":"tether","iat":1799996400,)"
      R"("exp":1800000000,"jti":"247ac2e10036667612c58b6c090ef68a","scope":"openid email offline_access"})";
  return core::base64UrlEncode(header) + "." + core::base64UrlEncode(claims) + "." +
         core::base64UrlEncode(std::string(256, '\x5a'));
}

http::ClientResult answer(int status, http::Headers headers, std::string body) {
  http::ClientResult r;
  r.request_sent = true;
  r.response.status = status;
  r.response.headers = std::move(headers);
  r.response.body = std::move(body);
  return r;
}

void BM_ParseAndClassifyTokenResponse(benchmark::State& state) {
  const Outcome outcome = Outcome::fromResult(
      answer(200, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
             R"({"access_token":")" + jwt() +
                 R"(","token_type":"Bearer","expires_in":300,"refresh_token":"rt_)" +
                 std::string(43, 'r') +
                 R"(","refresh_expires_in":1800,"scope":"openid email offline_access"})"));
  TokenParseOptions options;
  options.now = kNow;
  options.previous_refresh_token = "rt_old";
  for (auto _ : state) {
    Interpretation i = interpret(outcome, options);
    benchmark::DoNotOptimize(i);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) *
                          int64_t(outcome.result.response.body.size()));
}
BENCHMARK(BM_ParseAndClassifyTokenResponse);

void BM_ParseAndClassifyJwtWithoutExpiresIn(benchmark::State& state) {
  const Outcome outcome =
      Outcome::fromResult(answer(200, {{"Content-Type", "application/json"}},
                                 R"({"access_token":")" + jwt() + R"(","token_type":"Bearer"})"));
  TokenParseOptions options;
  options.now = kNow - std::chrono::seconds(60);
  for (auto _ : state) {
    Interpretation i = interpret(outcome, options);
    benchmark::DoNotOptimize(i);
  }
}
BENCHMARK(BM_ParseAndClassifyJwtWithoutExpiresIn);

void BM_ClassifyInvalidGrant(benchmark::State& state) {
  const Outcome outcome = Outcome::fromResult(
      answer(400, {{"Content-Type", "application/json"}},
             R"({"error":"invalid_grant","error_description":"Token is not active"})"));
  for (auto _ : state) {
    Classification c = classify(outcome, kNow);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_ClassifyInvalidGrant);

void BM_ClassifyHtml403(benchmark::State& state) {
  std::string page = "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>";
  page.append(4000, 'x');
  page += "</body></html>";
  const Outcome outcome = Outcome::fromResult(answer(403, {{"Content-Type", "text/html"}}, page));
  for (auto _ : state) {
    Classification c = classify(outcome, kNow);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_ClassifyHtml403);

void BM_ClassifyWwwAuthenticate401(benchmark::State& state) {
  const Outcome outcome = Outcome::fromResult(answer(
      401,
      {{"WWW-Authenticate", R"(Basic realm="idp", Bearer realm="idp", error="invalid_client")"}},
      ""));
  for (auto _ : state) {
    Classification c = classify(outcome, kNow);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_ClassifyWwwAuthenticate401);

void BM_SanitizeHostileCode(benchmark::State& state) {
  std::string code = "\x1b[31minvalid_grant\r\n see https://evil.example/x ";
  for (int i = 0; i < 100; ++i) code += "€";
  for (auto _ : state) {
    std::string s = sanitizeIdpString(code);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_SanitizeHostileCode);

}  // namespace
}  // namespace tether::oauth
