#include "oauth/token_endpoint_client.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "http/headers.h"

namespace tether::oauth {
namespace {

using std::chrono::seconds;

constexpr char kEncodedAuth[] = "Basic dGV0aGVyLWNsaWVudDolMkI4cjV4czNZTEZDJTJGTEhLJTNE";
constexpr char kRawAuth[] = "Basic dGV0aGVyLWNsaWVudDorOHI1eHMzWUxGQy9MSEs9";

/// Answers with a scripted function and records every request.
class FakeHttpClient final : public http::HttpClient {
 public:
  std::function<http::ClientResult(const http::ClientRequest&)> handler;

  http::ClientResult send(const http::ClientRequest& request) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    return handler(request);
  }
  void sendAsync(http::ClientRequest request,
                 std::function<void(http::ClientResult)> done) override {
    done(send(request));
  }
  std::vector<http::ClientRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<http::ClientRequest> requests_;
};

http::ClientResult answer(int status, std::string body) {
  http::ClientResult r;
  r.request_sent = true;
  r.response.status = status;
  r.response.headers = {{"Content-Type", "application/json"}};
  r.response.body = std::move(body);
  return r;
}

// An IdP that accepts only one of the Basic forms.
auto acceptsOnly(std::string accepted) {
  return [accepted](const http::ClientRequest& req) {
    if (http::findHeader(req.headers, "Authorization") != accepted) {
      return answer(401, R"({"error":"invalid_client"})");
    }
    return answer(200, R"({"access_token":"at","expires_in":300,"refresh_token":"rt2"})");
  };
}

OAuthClientConfig config(ClientAuthStyle style = ClientAuthStyle::kBasic,
                         std::string secret = "+8r5xs3YLFC/LHK=") {
  OAuthClientConfig c;
  c.token_url = "http://127.0.0.1:1/token";
  c.client_id = "tether-client";
  c.client_secret = std::move(secret);
  c.client_auth = style;
  return c;
}

class TokenEndpointClientTest : public ::testing::Test {
 protected:
  FakeHttpClient http_;
  core::ManualClock clock_;
};

TEST_F(TokenEndpointClientTest, RefreshSuccessCountsFromTheClock) {
  http_.handler = acceptsOnly(kEncodedAuth);
  TokenEndpointClient client(http_, config(), clock_);
  const auto r = client.refresh("rt1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.requests, 1);
  EXPECT_EQ(r.tokens->access_expires_at, clock_.now() + seconds(300));
  EXPECT_TRUE(r.tokens->refresh_token_rotated);
  EXPECT_EQ(http_.requests().at(0).body, "grant_type=refresh_token&refresh_token=rt1");
}

TEST_F(TokenEndpointClientTest, RawSecretIdpFallsBackOnceAndRemembers) {
  http_.handler = acceptsOnly(kRawAuth);
  TokenEndpointClient client(http_, config(), clock_);
  auto r = client.refresh("rt1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.requests, 2);
  EXPECT_EQ(client.basicForm(), BasicForm::kRaw);
  r = client.refresh("rt2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.requests, 1);
  const auto reqs = http_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(http::findHeader(reqs[0].headers, "Authorization"), kEncodedAuth);
  EXPECT_EQ(http::findHeader(reqs[1].headers, "Authorization"), kRawAuth);
  EXPECT_EQ(http::findHeader(reqs[2].headers, "Authorization"), kRawAuth);
}

TEST_F(TokenEndpointClientTest, RememberedRawFormFallsBackToEncodedWhenTheIdpChanges) {
  http_.handler = acceptsOnly(kEncodedAuth);
  TokenEndpointClient client(http_, config(), clock_, BasicForm::kRaw);
  EXPECT_EQ(client.refresh("rt").requests, 2);
  EXPECT_EQ(client.basicForm(), BasicForm::kEncoded);
}

TEST_F(TokenEndpointClientTest, NoFallbackWhenBothFormsAreTheSame) {
  http_.handler = [](const http::ClientRequest&) {
    return answer(401, R"({"error":"invalid_client"})");
  };
  TokenEndpointClient client(http_, config(ClientAuthStyle::kBasic, "plainSecret123"), clock_);
  const auto r = client.refresh("rt");
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.classification.code, "invalid_client");
  EXPECT_EQ(r.requests, 1);
}

TEST_F(TokenEndpointClientTest, BothFormsRejectedIsTerminalAndForgetsNothing) {
  http_.handler = [](const http::ClientRequest&) {
    return answer(401, R"({"error":"invalid_client"})");
  };
  TokenEndpointClient client(http_, config(), clock_);
  const auto r = client.refresh("rt");
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.requests, 2);
  EXPECT_EQ(client.basicForm(), BasicForm::kEncoded);
}

TEST_F(TokenEndpointClientTest, NoFallbackForOtherStylesOrOtherErrors) {
  http_.handler = [](const http::ClientRequest&) {
    return answer(401, R"({"error":"invalid_client"})");
  };
  for (auto style : {ClientAuthStyle::kBasicRaw, ClientAuthStyle::kPost, ClientAuthStyle::kNone}) {
    TokenEndpointClient client(http_, config(style), clock_);
    EXPECT_EQ(client.refresh("rt").requests, 1) << clientAuthStyleName(style);
  }
  http_.handler = [](const http::ClientRequest&) {
    return answer(400, R"({"error":"invalid_grant"})");
  };
  TokenEndpointClient client(http_, config(), clock_);
  EXPECT_EQ(client.refresh("rt").requests, 1);
  http_.handler = [](const http::ClientRequest&) { return answer(503, ""); };
  EXPECT_EQ(client.refresh("rt").requests, 1);
}

TEST_F(TokenEndpointClientTest, FallbackRemembersWhenTheGrantIsRejectedButTheClientIsNot) {
  http_.handler = [](const http::ClientRequest& req) {
    if (http::findHeader(req.headers, "Authorization") != kRawAuth) {
      return answer(401, R"({"error":"invalid_client"})");
    }
    return answer(400, R"({"error":"invalid_grant"})");
  };
  TokenEndpointClient client(http_, config(), clock_);
  const auto r = client.refresh("spent");
  EXPECT_EQ(r.classification.code, "invalid_grant");
  EXPECT_EQ(client.basicForm(), BasicForm::kRaw);
}

TEST_F(TokenEndpointClientTest, EmptyRefreshTokenIsALocalTerminalFailure) {
  http_.handler = acceptsOnly(kEncodedAuth);
  TokenEndpointClient client(http_, config(), clock_);
  const auto r = client.refresh("");
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.classification.code, "no_refresh_token");
  EXPECT_EQ(r.requests, 0);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(TokenEndpointClientTest, TransportFailureAfterSendStaysVisible) {
  http_.handler = [](const http::ClientRequest&) {
    http::ClientResult r;
    r.error = http::TransportError::kReset;
    r.request_sent = true;
    return r;
  };
  TokenEndpointClient client(http_, config(), clock_);
  const auto r = client.refresh("rt");
  EXPECT_TRUE(r.classification.transient());
  EXPECT_TRUE(r.classification.request_sent);
  EXPECT_EQ(r.classification.code, "transport_reset");
}

TEST_F(TokenEndpointClientTest, CodeExchangeAndClientCredentials) {
  http_.handler = acceptsOnly(kEncodedAuth);
  auto c = config();
  c.resource = "https://api.example";
  c.scopes = "read write";
  TokenEndpointClient client(http_, c, clock_);
  EXPECT_TRUE(client.exchangeCode("abc", "v", "http://localhost/cb").ok());
  EXPECT_TRUE(client.clientCredentials().ok());
  const auto reqs = http_.requests();
  EXPECT_EQ(reqs[0].body,
            "grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&"
            "code_verifier=v&resource=https%3A%2F%2Fapi.example");
  EXPECT_EQ(reqs[1].body,
            "grant_type=client_credentials&scope=read+write&resource=https%3A%2F%2Fapi.example");
}

TEST_F(TokenEndpointClientTest, ConcurrentRefreshesShareTheMemory) {
  http_.handler = acceptsOnly(kRawAuth);
  TokenEndpointClient client(http_, config(), clock_);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { EXPECT_TRUE(client.refresh("rt").ok()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(client.basicForm(), BasicForm::kRaw);
  EXPECT_TRUE(client.refresh("rt").requests == 1);
}

}  // namespace
}  // namespace tether::oauth
