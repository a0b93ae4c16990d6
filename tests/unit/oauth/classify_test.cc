#include "oauth/classify.h"

#include <gtest/gtest.h>

#include "oauth/retry_after.h"

namespace tether::oauth {
namespace {

using std::chrono::seconds;

const core::TimePoint kNow = core::fromUnixSeconds(1'800'000'000);

Outcome answer(int status, http::Headers headers, std::string body) {
  http::ClientResult r;
  r.request_sent = true;
  r.response.status = status;
  r.response.headers = std::move(headers);
  r.response.body = std::move(body);
  return Outcome::fromResult(std::move(r));
}

const http::Headers kJson{{"Content-Type", "application/json"}};
const http::Headers kHtml{{"Content-Type", "text/html"}};

struct Case {
  const char* name;
  Outcome outcome;
  OutcomeClass cls;
  std::string code;
  std::optional<seconds> retry_after = std::nullopt;
};

std::vector<Case> cases() {
  std::vector<Case> v;
  auto add = [&](const char* name, Outcome o, OutcomeClass c, std::string code,
                 std::optional<seconds> ra = std::nullopt) {
    v.push_back(Case{name, std::move(o), c, std::move(code), ra});
  };
  const auto T = OutcomeClass::kTransient;
  const auto X = OutcomeClass::kTerminal;
  const auto S = OutcomeClass::kSuccess;
  add("200 tokens", answer(200, kJson, R"({"access_token":"a","expires_in":60})"), S, "");
  add("201 tokens", answer(201, kJson, R"({"access_token":"a"})"), S, "");
  add("200 html", answer(200, kHtml, "<html>hi</html>"), T, "malformed_response");
  add("200 no token", answer(200, kJson, R"({"token_type":"Bearer"})"), T, "malformed_response");
  add("200 error", answer(200, kJson, R"({"error":"invalid_grant"})"), T, "malformed_response");
  add("204 empty", answer(204, {}, ""), T, "malformed_response");
  for (const char* code : {"invalid_grant", "invalid_client", "unauthorized_client",
                           "unsupported_grant_type", "invalid_scope"}) {
    for (int status : {400, 401, 403}) {
      add(code, answer(status, kJson, std::string(R"({"error":")") + code + "\"}"), X, code);
    }
    add("404 with terminal code", answer(404, kJson, std::string(R"({"error":")") + code + "\"}"),
        T, code);
    add("500 with terminal code", answer(500, kJson, std::string(R"({"error":")") + code + "\"}"),
        T, code);
  }
  add("400 invalid_request", answer(400, kJson, R"({"error":"invalid_request"})"), T,
      "invalid_request");
  add("400 server_error", answer(400, kJson, R"({"error":"server_error"})"), T, "server_error");
  add("400 temporarily_unavailable", answer(400, kJson, R"({"error":"temporarily_unavailable"})"),
      T, "temporarily_unavailable");
  add("400 unknown", answer(400, kJson, R"({"error":"weird_thing"})"), T, "weird_thing");
  add("401 form invalid_client",
      answer(401, {{"Content-Type", "application/x-www-form-urlencoded"}}, "error=invalid_client"),
      X, "invalid_client");
  add("401 www-authenticate",
      answer(401, {{"WWW-Authenticate", R"(Bearer error="invalid_client")"}}, ""), X,
      "invalid_client");
  add("401 www-authenticate token form",
      answer(401, {{"WWW-Authenticate", "Basic realm=\"a,b\", Bearer error=invalid_grant"}}, ""), X,
      "invalid_grant");
  add("403 html", answer(403, kHtml, "<html><h1>Forbidden</h1></html>"), T, "http_403");
  add("401 html", answer(401, kHtml, "<html>Unauthorized</html>"), T, "http_401");
  add("400 empty", answer(400, {}, ""), T, "http_400");
  add("401 plain text", answer(401, {{"Content-Type", "text/plain"}}, "Unauthorized"), T,
      "http_401");
  add("408", answer(408, {}, ""), T, "http_408");
  add("429 seconds", answer(429, {{"Retry-After", "120"}}, ""), T, "http_429", seconds(120));
  add("429 no retry-after", answer(429, {}, ""), T, "http_429");
  add("429 date", answer(429, {{"Retry-After", formatHttpDate(kNow + seconds(30))}}, ""), T,
      "http_429", seconds(30));
  add("429 capped", answer(429, {{"Retry-After", "86400"}}, ""), T, "http_429", seconds(3600));
  add("503 date", answer(503, {{"Retry-After", formatHttpDate(kNow + seconds(600))}}, ""), T,
      "http_503", seconds(600));
  add("503 json temporarily_unavailable",
      answer(503, {{"Retry-After", "5"}, {"Content-Type", "application/json"}},
             R"({"error":"temporarily_unavailable"})"),
      T, "temporarily_unavailable", seconds(5));
  add("500", answer(500, {}, "oops"), T, "http_500");
  add("500 retry-after ignored", answer(500, {{"Retry-After", "9"}}, ""), T, "http_500");
  add("502", answer(502, kHtml, "<html>bad gateway</html>"), T, "http_502");
  add("302", answer(302, {{"Location", "https://idp/login"}}, ""), T, "http_302");
  add("307 with terminal body", answer(307, kJson, R"({"error":"invalid_grant"})"), T, "http_307");
  add("oversized 200", answer(200, kJson, std::string((1 << 20) + 10, ' ')), T,
      "response_too_large");
  add("oversized 400", answer(400, kJson, std::string((1 << 20) + 10, ' ')), T,
      "response_too_large");
  add("status 0", answer(0, {}, ""), T, "http_0");
  add("status 999", answer(999, {}, ""), T, "http_999");
  add("no refresh token", Outcome::fromLocal(LocalFailure::kNoRefreshToken), X, "no_refresh_token");
  add("refresh expired", Outcome::fromLocal(LocalFailure::kRefreshExpired), X, "refresh_expired");
  return v;
}

TEST(ClassifyTest, DesignTableOnHandWrittenResponses) {
  for (const auto& c : cases()) {
    const Classification got = classify(c.outcome, kNow);
    EXPECT_EQ(outcomeClassName(got.outcome_class), outcomeClassName(c.cls)) << c.name;
    EXPECT_EQ(got.code, c.code) << c.name;
    EXPECT_EQ(got.retry_after, c.retry_after) << c.name;
    if (!c.outcome.local) {
      EXPECT_EQ(got.http_status, c.outcome.result.response.status) << c.name;
      EXPECT_TRUE(got.request_sent) << c.name;
    }
  }
}

TEST(ClassifyTest, EveryTransportErrorIsTransientAndKeepsRequestSent) {
  using E = http::TransportError;
  for (E e : {E::kDns, E::kConnect, E::kTls, E::kTimeout, E::kReset, E::kTooLarge, E::kProtocol,
              E::kInvalidRequest, E::kOther}) {
    for (bool sent : {false, true}) {
      http::ClientResult r;
      r.error = e;
      r.request_sent = sent;
      const auto c = classify(Outcome::fromResult(r), kNow);
      EXPECT_TRUE(c.transient());
      EXPECT_EQ(c.request_sent, sent);
      EXPECT_EQ(c.transport_error, e);
      EXPECT_EQ(c.http_status, 0);
      EXPECT_FALSE(c.code.empty());
    }
  }
  http::ClientResult r;
  r.error = http::TransportError::kTimeout;
  EXPECT_EQ(classify(Outcome::fromResult(r), kNow).code, "transport_timeout");
  r.error = http::TransportError::kTooLarge;
  EXPECT_EQ(classify(Outcome::fromResult(r), kNow).code, "response_too_large");
}

TEST(ClassifyTest, IdpErrorOf200IsKeptBesideMalformed) {
  const auto c = classify(answer(200, kJson, R"({"error":"bad_verification_code"})"), kNow);
  EXPECT_EQ(c.code, "malformed_response");
  EXPECT_EQ(c.idp_error, "bad_verification_code");
}

TEST(ClassifyTest, HostileCodesAreSanitizedAndNeverTerminal) {
  const auto c = classify(answer(400, kJson, R"({"error":"https://evil.example/x"})"), kNow);
  EXPECT_TRUE(c.transient());
  EXPECT_EQ(c.code, "[url]");
  const auto big =
      classify(answer(401, kJson, R"({"error":")" + std::string(5000, 'e') + "\"}"), kNow);
  EXPECT_TRUE(big.transient());
  EXPECT_EQ(big.code.size(), 200u);
}

TEST(ClassifyTest, InterpretReturnsTokensOnSuccess) {
  TokenParseOptions o;
  o.now = kNow;
  o.previous_refresh_token = "old";
  const auto i = interpret(answer(200, kJson, R"({"access_token":"a","expires_in":60})"), o);
  ASSERT_TRUE(i.tokens.has_value());
  EXPECT_EQ(i.tokens->refresh_token, "old");
  EXPECT_TRUE(i.classification.success());
  EXPECT_FALSE(interpret(answer(503, {}, ""), o).tokens.has_value());
}

}  // namespace
}  // namespace tether::oauth
