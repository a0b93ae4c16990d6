// RFC 7009 revocation requests: the form, the client authentication of the token endpoint,
// the token only in the body, the URL policy before any byte is sent, and how answers are
// reported (never with the token).
#include "oauth/revocation.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "core/encoding.h"
#include "http/headers.h"

namespace tether::oauth {
namespace {

using std::chrono::milliseconds;

constexpr char kToken[] = "rt-SECRET+/=";

OAuthClientConfig client(ClientAuthStyle style) {
  OAuthClientConfig c;
  c.token_url = "https://idp.example/token";
  c.client_id = "tether-client";
  c.client_secret = style == ClientAuthStyle::kNone ? "" : "s3cret";
  c.client_auth = style;
  c.resource = "https://mcp.example/mcp";
  c.scopes = "a b";
  return c;
}

/// Records each request and answers as scripted (the unit under test is the request and
/// the reading of the answer, not the transport).
class ScriptedClient final : public http::HttpClient {
 public:
  std::function<http::ClientResult(const http::ClientRequest&)> handler;
  http::ClientResult send(const http::ClientRequest& request) override {
    {
      std::lock_guard lock(mu_);
      requests.push_back(request);
    }
    return handler(request);
  }
  void sendAsync(http::ClientRequest request,
                 std::function<void(http::ClientResult)> done) override {
    done(send(request));
  }
  std::mutex mu_;
  std::vector<http::ClientRequest> requests;
};

http::ClientResult answer(int status, std::string body = "") {
  http::ClientResult r;
  r.request_sent = true;
  r.response.status = status;
  r.response.headers = {{"Content-Type", "application/json"}};
  r.response.body = std::move(body);
  return r;
}

TEST(RevocationRequest, PostsTheTokenWithItsHintAndTheTokenEndpointsClientAuth) {
  const auto basic =
      buildRevocationRequest(client(ClientAuthStyle::kBasic), "https://idp.example/revoke", kToken);
  EXPECT_EQ(basic.method, "POST");
  EXPECT_EQ(basic.url, "https://idp.example/revoke");
  EXPECT_EQ(basic.body, "token=rt-SECRET%2B%2F%3D&token_type_hint=refresh_token");
  EXPECT_EQ(http::findHeader(basic.headers, "Authorization"),
            "Basic " + core::base64Encode("tether-client:s3cret"));
  EXPECT_EQ(http::findHeader(basic.headers, "Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_FALSE(basic.follow_redirects);
  EXPECT_EQ(basic.max_response_bytes, kMaxRevocationAnswerBytes);
  // Neither resource nor scope: RFC 7009 takes the token and its hint only.
  EXPECT_EQ(basic.body.find("resource"), std::string::npos);
  EXPECT_EQ(basic.body.find("scope"), std::string::npos);

  const auto post =
      buildRevocationRequest(client(ClientAuthStyle::kPost), "https://idp.example/revoke", kToken);
  EXPECT_FALSE(http::findHeader(post.headers, "Authorization").has_value());
  EXPECT_NE(post.body.find("&client_id=tether-client&client_secret=s3cret"), std::string::npos);

  const auto none =
      buildRevocationRequest(client(ClientAuthStyle::kNone), "https://idp.example/revoke", kToken);
  EXPECT_FALSE(http::findHeader(none.headers, "Authorization").has_value());
  EXPECT_NE(none.body.find("&client_id=tether-client"), std::string::npos);
  EXPECT_EQ(none.body.find("client_secret"), std::string::npos);

  // The token is in the body only.
  for (const auto* r : {&basic, &post, &none}) {
    EXPECT_EQ(r->url.find("rt-SECRET"), std::string::npos);
    for (const auto& [k, v] : r->headers) EXPECT_EQ(v.find("rt-SECRET"), std::string::npos) << k;
  }
}

TEST(Revocation, A200IsRevokedAndTheDeadlineAndGuardAreSet) {
  ScriptedClient http;
  http.handler = [](const http::ClientRequest&) { return answer(200); };
  RevocationOptions options;
  options.policy.own_hosts = {"idp.example"};
  options.timeout = milliseconds(1500);
  auto r = revokeRefreshToken(http, client(ClientAuthStyle::kBasic), "https://idp.example/revoke",
                              kToken, options);
  EXPECT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.http_status, 200);
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].total_timeout, milliseconds(1500));
  EXPECT_LE(http.requests[0].connect_timeout, milliseconds(1500));
  EXPECT_NE(http.requests[0].connect_guard, nullptr);
}

TEST(Revocation, FailuresSayWhyWithoutTheToken) {
  ScriptedClient http;
  RevocationOptions options;
  options.policy.own_hosts = {"idp.example"};
  const std::string url = "https://idp.example/revoke";

  http.handler = [](const http::ClientRequest&) {
    return answer(400, R"({"error":"unsupported_token_type"})");
  };
  auto refused = revokeRefreshToken(http, client(ClientAuthStyle::kPost), url, kToken, options);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.outcome, RevocationResult::Outcome::kFailed);
  EXPECT_EQ(refused.http_status, 400);
  EXPECT_EQ(refused.idp_error, "unsupported_token_type");
  EXPECT_NE(refused.reason.find("HTTP 400"), std::string::npos) << refused.reason;

  http.handler = [](const http::ClientRequest&) {
    http::ClientResult r;
    r.error = http::TransportError::kTimeout;
    r.error_message = "Operation timed out";
    return r;
  };
  options.timeout = milliseconds(700);
  auto slow = revokeRefreshToken(http, client(ClientAuthStyle::kPost), url, kToken, options);
  EXPECT_EQ(slow.outcome, RevocationResult::Outcome::kFailed);
  EXPECT_EQ(slow.http_status, 0);
  EXPECT_NE(slow.reason.find("did not answer within 700 ms"), std::string::npos) << slow.reason;

  for (const auto& r : {refused, slow}) {
    EXPECT_EQ(r.reason.find("rt-SECRET"), std::string::npos);
    EXPECT_EQ(r.reason.find("s3cret"), std::string::npos);
  }
}

// A metadata document may name any URL: one the discovery policy refuses is never called.
TEST(Revocation, AnEndpointThePolicyRefusesIsNotCalled) {
  ScriptedClient http;
  http.handler = [](const http::ClientRequest&) { return answer(200); };
  RevocationOptions options;
  options.policy.own_hosts = {"idp.example"};
  for (const char* url : {"http://idp.example/revoke", "https://user:pw@idp.example/revoke",
                          "https://10.0.0.1/revoke"}) {
    SCOPED_TRACE(url);
    auto r = revokeRefreshToken(http, client(ClientAuthStyle::kBasic), url, kToken, options);
    EXPECT_EQ(r.outcome, RevocationResult::Outcome::kRefused);
    EXPECT_FALSE(r.reason.empty());
  }
  EXPECT_TRUE(http.requests.empty());
}

}  // namespace
}  // namespace tether::oauth
