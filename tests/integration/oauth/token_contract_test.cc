// Contract test: every fault shape the mock IdP can produce goes through the REAL outbound
// client (libcurl) over loopback and must come back with the class, code and Retry-After
// that DESIGN.md §3 prescribes.

#include <gtest/gtest.h>

#include "http/http_client.h"
#include "mockidp/mock_idp.h"
#include "oauth/retry_after.h"
#include "oauth/token_endpoint_client.h"

namespace tether::oauth {
namespace {

using mockidp::FaultRule;
using std::chrono::seconds;

struct ContractCase {
  std::string name;
  std::string fault;  // mock IdP fault rule, flag form ("" = none)
  OutcomeClass cls;
  std::string code;  // expected code; "transport_*" matches any transport code
  std::optional<seconds> retry_after = std::nullopt;
  int http_status = 0;  // 0: not checked (transport failures)
};

std::vector<ContractCase> contractCases() {
  const auto T = OutcomeClass::kTransient;
  const auto X = OutcomeClass::kTerminal;
  const auto S = OutcomeClass::kSuccess;
  return {
      {"no fault", "", S, "", std::nullopt, 200},
      {"pass rule", "pass", S, "", std::nullopt, 200},
      {"HTML 403 from a WAF", "html_403", T, "http_403", std::nullopt, 403},
      {"HTML 401", "html_401", T, "http_401", std::nullopt, 401},
      {"empty 400", "empty_400", T, "http_400", std::nullopt, 400},
      {"408", "status_408", T, "http_408", std::nullopt, 408},
      {"429 Retry-After seconds", "status_429,retry_after=120", T, "http_429", seconds(120), 429},
      {"429 without Retry-After", "status_429", T, "http_429", std::nullopt, 429},
      {"429 Retry-After HTTP-date", "status_429,retry_after=date+90", T, "http_429", seconds(90),
       429},
      {"429 Retry-After capped at 1 h", "status_429,retry_after=86400", T, "http_429",
       seconds(3600), 429},
      {"503 Retry-After HTTP-date", "status_503,retry_after=date+300", T, "http_503", seconds(300),
       503},
      {"503 Retry-After seconds", "status_503,retry_after=30", T, "http_503", seconds(30), 503},
      {"503 without Retry-After", "status_503", T, "http_503", std::nullopt, 503},
      {"500", "status_500", T, "http_500", std::nullopt, 500},
      {"502", "status_502,body=<html>bad gateway</html>,content_type=text/html", T, "http_502",
       std::nullopt, 502},
      {"400 invalid_grant JSON", "oauth_error,error=invalid_grant", X, "invalid_grant",
       std::nullopt, 400},
      {"401 invalid_client JSON", "oauth_error,error=invalid_client,status=401", X,
       "invalid_client", std::nullopt, 401},
      {"400 unauthorized_client JSON", "oauth_error,error=unauthorized_client", X,
       "unauthorized_client", std::nullopt, 400},
      {"400 unsupported_grant_type JSON", "oauth_error,error=unsupported_grant_type", X,
       "unsupported_grant_type", std::nullopt, 400},
      {"400 invalid_scope JSON", "oauth_error,error=invalid_scope", X, "invalid_scope",
       std::nullopt, 400},
      {"403 invalid_grant JSON", "oauth_error,error=invalid_grant,status=403", X, "invalid_grant",
       std::nullopt, 403},
      {"400 invalid_request JSON", "oauth_error,error=invalid_request", T, "invalid_request",
       std::nullopt, 400},
      {"400 server_error JSON", "oauth_error,error=server_error", T, "server_error", std::nullopt,
       400},
      {"400 temporarily_unavailable JSON", "oauth_error,error=temporarily_unavailable", T,
       "temporarily_unavailable", std::nullopt, 400},
      {"400 unknown code JSON", "oauth_error,error=slow_down", T, "slow_down", std::nullopt, 400},
      {"500 invalid_grant JSON is not terminal", "oauth_error,error=invalid_grant,status=500", T,
       "invalid_grant", std::nullopt, 500},
      {"404 invalid_grant JSON is not terminal", "oauth_error,error=invalid_grant,status=404", T,
       "invalid_grant", std::nullopt, 404},
      {"400 invalid_grant form", "oauth_error,error=invalid_grant,format=form", X, "invalid_grant",
       std::nullopt, 400},
      {"401 invalid_client form", "oauth_error,error=invalid_client,status=401,format=form", X,
       "invalid_client", std::nullopt, 401},
      {"400 invalid_request form", "oauth_error,error=invalid_request,format=form", T,
       "invalid_request", std::nullopt, 400},
      {"401 WWW-Authenticate invalid_client, empty body",
       "oauth_error,error=invalid_client,status=401,format=www_authenticate", X, "invalid_client",
       std::nullopt, 401},
      {"401 WWW-Authenticate invalid_grant",
       "oauth_error,error=invalid_grant,status=401,format=www_authenticate", X, "invalid_grant",
       std::nullopt, 401},
      {"400 WWW-Authenticate invalid_request",
       "oauth_error,error=invalid_request,status=400,format=www_authenticate", T, "invalid_request",
       std::nullopt, 400},
      {"503 temporarily_unavailable JSON with Retry-After",
       "oauth_error,error=temporarily_unavailable,status=503,retry_after=45", T,
       "temporarily_unavailable", seconds(45), 503},
      {"200 with HTML", "html_200", T, "malformed_response", std::nullopt, 200},
      {"200 without access_token", "no_access_token", T, "malformed_response", std::nullopt, 200},
      {"200 with an error member",
       R"({"kind":"status","status":200,"body":"{\"error\":\"invalid_grant\"}","content_type":"application/json"})",
       T, "malformed_response", std::nullopt, 200},
      {"201 with tokens",
       R"({"kind":"status","status":201,"body":"{\"access_token\":\"a\",\"expires_in\":60}","content_type":"application/json"})",
       S, "", std::nullopt, 201},
      {"oversized body", "oversized", T, "response_too_large"},
      {"302 redirect", "redirect", T, "http_302", std::nullopt, 302},
      {"307 redirect", "redirect,status=307", T, "http_307", std::nullopt, 307},
      {"dropped connection", "drop", T, "transport_*"},
  };
}

class TokenContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mockidp::MockIdpOptions o;
    o.clients = {{"contract-client", "contract-secret", {}}};
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());
    http_ = http::makeHttpClient();
    config_.token_url = idp_->tokenUrl();
    config_.client_id = "contract-client";
    config_.client_secret = "contract-secret";
    config_.use_proxy = false;
    client_ = std::make_unique<TokenEndpointClient>(*http_, config_, clock_);
  }
  void TearDown() override {
    if (idp_) idp_->stop();
  }

  uint64_t refreshCalls() const { return idp_->counter("requests.token.refresh_token"); }

  core::ManualClock clock_;
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_;
  OAuthClientConfig config_;
  std::unique_ptr<TokenEndpointClient> client_;
};

TEST_F(TokenContractTest, EveryFaultShapeIsClassifiedAsTheDesignSays) {
  const auto cases = contractCases();
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    idp_->clearFaults();
    if (!c.fault.empty()) {
      auto rule = mockidp::parseFaultRule(c.fault);
      ASSERT_TRUE(rule.ok()) << rule.error().message;
      rule->grant = "refresh_token";
      idp_->addFault(std::move(rule).value());
    }
    const std::string rt = idp_->issueTokens("contract-client").second;
    const uint64_t before = refreshCalls();
    const GrantResult r = client_->refresh(rt);
    EXPECT_EQ(outcomeClassName(r.classification.outcome_class), outcomeClassName(c.cls));
    if (c.code == "transport_*") {
      EXPECT_EQ(r.classification.code.rfind("transport_", 0), 0u) << r.classification.code;
    } else {
      EXPECT_EQ(r.classification.code, c.code);
    }
    EXPECT_EQ(r.classification.retry_after, c.retry_after);
    if (c.http_status) {
      EXPECT_EQ(r.classification.http_status, c.http_status);
    }
    EXPECT_TRUE(r.classification.request_sent);
    EXPECT_EQ(r.requests, 1);
    EXPECT_EQ(refreshCalls() - before, 1u) << "exactly one IdP call";
    EXPECT_EQ(r.tokens.has_value(), c.cls == OutcomeClass::kSuccess);
  }
  EXPECT_EQ(idp_->counter("requests.redirect_target"), 0u) << "a redirect was followed";
}

TEST_F(TokenContractTest, RedirectIsNotFollowed) {
  idp_->addFault(mockidp::parseFaultRule("redirect,status=308").value());
  const auto r = client_->refresh(idp_->issueTokens("contract-client").second);
  EXPECT_TRUE(r.classification.transient());
  EXPECT_EQ(r.classification.http_status, 308);
  EXPECT_EQ(idp_->counter("requests.redirect_target"), 0u);
}

TEST_F(TokenContractTest, AnswerLostAfterSendIsTransientAndVisible) {
  idp_->update([](mockidp::MockIdpSettings& s) { s.rotation = mockidp::Rotation::kOneTimeUse; });
  const std::string rt = idp_->issueTokens("contract-client").second;
  idp_->addFault(mockidp::parseFaultRule("drop_after,grant=refresh_token").value());
  const auto lost = client_->refresh(rt);
  EXPECT_TRUE(lost.classification.transient());
  EXPECT_TRUE(lost.classification.request_sent);
  EXPECT_EQ(idp_->counter("refresh_tokens_issued"), 2u);  // the IdP did rotate
  // Retrying with the spent token is what the lifecycle layer must avoid blindly: the
  // one-time-use IdP calls it reuse and revokes the family.
  const auto replay = client_->refresh(rt);
  EXPECT_TRUE(replay.classification.terminal());
  EXPECT_EQ(replay.classification.code, "invalid_grant");
  EXPECT_EQ(idp_->counter("refresh_reuse_attempts"), 1u);
}

TEST_F(TokenContractTest, AnswerLostOnASecondRequestIsNotSilentlyResent) {
  // After a successful call a kept-alive connection could be reused; libcurl re-sends a
  // request whose reused connection died unanswered, which would replay a one-time-use
  // refresh token. The token request must reach the IdP exactly once.
  idp_->update([](mockidp::MockIdpSettings& s) { s.rotation = mockidp::Rotation::kOneTimeUse; });
  const auto ok = client_->refresh(idp_->issueTokens("contract-client").second);
  ASSERT_TRUE(ok.ok());
  idp_->addFault(mockidp::parseFaultRule("drop_after,grant=refresh_token").value());
  const uint64_t before = refreshCalls();
  const auto lost = client_->refresh(ok.tokens->refresh_token);
  EXPECT_TRUE(lost.classification.transient());
  EXPECT_TRUE(lost.classification.request_sent);
  EXPECT_EQ(refreshCalls() - before, 1u);
  EXPECT_EQ(idp_->counter("refresh_reuse_attempts"), 0u);
}

TEST_F(TokenContractTest, SlowAnswerPastTheDeadlineIsATransientTimeout) {
  config_.total_timeout = std::chrono::milliseconds(300);
  TokenEndpointClient impatient(*http_, config_, clock_);
  idp_->addFault(mockidp::parseFaultRule("slow,delay_ms=3000").value());
  const auto r = impatient.refresh(idp_->issueTokens("contract-client").second);
  EXPECT_TRUE(r.classification.transient());
  EXPECT_EQ(r.classification.code, "transport_timeout");
  EXPECT_EQ(r.classification.transport_error, http::TransportError::kTimeout);
}

TEST_F(TokenContractTest, SlowAnswerWithinTheDeadlineSucceeds) {
  idp_->addFault(mockidp::parseFaultRule("slow,delay_ms=50").value());
  EXPECT_TRUE(client_->refresh(idp_->issueTokens("contract-client").second).ok());
}

TEST_F(TokenContractTest, FailNTimesThenRecover) {
  idp_->addFault(mockidp::parseFaultRule("status_503,grant=refresh_token,times=3").value());
  const std::string rt = idp_->issueTokens("contract-client").second;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(client_->refresh(rt).classification.transient());
  const auto r = client_->refresh(rt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(refreshCalls(), 4u);
}

TEST_F(TokenContractTest, RefreshTokenLifecycleKnobs) {
  // Rotation none: the IdP repeats no refresh token; the old one is kept.
  idp_->update([](mockidp::MockIdpSettings& s) {
    s.rotation = mockidp::Rotation::kNone;
    s.refresh_idle_timeout = seconds(1800);
    s.access_token_lifetime = seconds(300);
  });
  const std::string rt = idp_->issueTokens("contract-client").second;
  auto r = client_->refresh(rt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->refresh_token, rt);
  EXPECT_FALSE(r.tokens->refresh_token_rotated);
  EXPECT_EQ(r.tokens->access_expires_at, clock_.now() + seconds(300));
  EXPECT_EQ(r.tokens->refresh_expires_at, clock_.now() + seconds(1800));
  // Idle expiry on the shared clock: 31 minutes without use kill the token.
  clock_.advance(std::chrono::minutes(31));
  r = client_->refresh(rt);
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.classification.code, "invalid_grant");
}

TEST_F(TokenContractTest, MissingExpiresInFallsBackToTheJwtExp) {
  idp_->update([](mockidp::MockIdpSettings& s) {
    s.disclose_expires_in = false;
    s.access_token_lifetime = seconds(600);
  });
  const auto r = client_->refresh(idp_->issueTokens("contract-client").second);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->access_expiry_source, ExpirySource::kJwtExp);
  EXPECT_EQ(r.tokens->access_expires_at, clock_.now() + seconds(600));
}

TEST_F(TokenContractTest, RevokedClientAndFamily) {
  const std::string rt = idp_->issueTokens("contract-client").second;
  ASSERT_TRUE(idp_->revokeFamilyOf(rt));
  auto r = client_->refresh(rt);
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.classification.code, "invalid_grant");
  idp_->revokeClient("contract-client");
  r = client_->clientCredentials();
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.classification.code, "invalid_client");
}

TEST_F(TokenContractTest, RetryAfterDateUsesTheSharedClock) {
  clock_.advance(
      std::chrono::hours(24 * 400));  // far from the real date: only the shared clock agrees
  idp_->addFault(mockidp::parseFaultRule("status_503,retry_after=date+600").value());
  const auto r = client_->refresh(idp_->issueTokens("contract-client").second);
  EXPECT_EQ(r.classification.retry_after, seconds(600));
}

}  // namespace
}  // namespace tether::oauth
