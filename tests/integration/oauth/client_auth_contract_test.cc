// HTTP Basic client authentication against the mock IdP in both of its modes, through the
// real outbound client: a secret whose RFC 6749 §2.3.1 form differs from its raw form must
// work either way, and the form that worked is remembered.

#include <gtest/gtest.h>

#include "http/http_client.h"
#include "mockidp/mock_idp.h"
#include "oauth/token_endpoint_client.h"

namespace tether::oauth {
namespace {

constexpr char kSecret[] = "+8r5xs3YLFC/LHK=";

class ClientAuthContractTest : public ::testing::TestWithParam<mockidp::BasicMode> {
 protected:
  void SetUp() override {
    mockidp::MockIdpOptions o;
    o.clients = {{"tether-client", kSecret, {}}};
    o.settings.basic_mode = GetParam();
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());
    http_ = http::makeHttpClient();
  }

  OAuthClientConfig config(ClientAuthStyle style) const {
    OAuthClientConfig c;
    c.token_url = idp_->tokenUrl();
    c.client_id = "tether-client";
    c.client_secret = kSecret;
    c.client_auth = style;
    c.use_proxy = false;
    return c;
  }

  uint64_t refreshCalls() const { return idp_->counter("requests.token.refresh_token"); }

  core::ManualClock clock_;
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_;
};

TEST_P(ClientAuthContractTest, BasicAuthenticatesAndRemembersTheFormThatWorked) {
  const bool raw_idp = GetParam() == mockidp::BasicMode::kRaw;
  TokenEndpointClient client(*http_, config(ClientAuthStyle::kBasic), clock_);

  auto first = client.refresh(idp_->issueTokens("tether-client").second);
  ASSERT_TRUE(first.ok()) << first.classification.code;
  EXPECT_EQ(first.requests, raw_idp ? 2 : 1);
  EXPECT_EQ(refreshCalls(), raw_idp ? 2u : 1u);
  EXPECT_EQ(client.basicForm(), raw_idp ? BasicForm::kRaw : BasicForm::kEncoded);

  // The second refresh makes one request, not two.
  const uint64_t before = refreshCalls();
  auto second = client.refresh(first.tokens->refresh_token);
  ASSERT_TRUE(second.ok()) << second.classification.code;
  EXPECT_EQ(second.requests, 1);
  EXPECT_EQ(refreshCalls() - before, 1u);
  EXPECT_EQ(idp_->counter("client_auth_failures"), raw_idp ? 1u : 0u);
}

TEST_P(ClientAuthContractTest, BasicRawWorksOnlyWhereTheIdpComparesRaw) {
  const bool raw_idp = GetParam() == mockidp::BasicMode::kRaw;
  TokenEndpointClient client(*http_, config(ClientAuthStyle::kBasicRaw), clock_);
  const auto r = client.refresh(idp_->issueTokens("tether-client").second);
  EXPECT_EQ(r.requests, 1);  // basic_raw forces the raw form: no fallback
  if (raw_idp) {
    EXPECT_TRUE(r.ok());
  } else {
    EXPECT_TRUE(r.classification.terminal());
    EXPECT_EQ(r.classification.code, "invalid_client");
  }
}

TEST_P(ClientAuthContractTest, PostAndClientCredentialsWorkInBothModes) {
  TokenEndpointClient post(*http_, config(ClientAuthStyle::kPost), clock_);
  EXPECT_TRUE(post.refresh(idp_->issueTokens("tether-client").second).ok());
  TokenEndpointClient basic(*http_, config(ClientAuthStyle::kBasic), clock_);
  EXPECT_TRUE(basic.clientCredentials().ok());
}

TEST_P(ClientAuthContractTest, WrongSecretIsTerminalAfterTryingBothForms) {
  auto c = config(ClientAuthStyle::kBasic);
  c.client_secret = "wrong/secret+";
  TokenEndpointClient client(*http_, c, clock_);
  const auto r = client.refresh(idp_->issueTokens("tether-client").second);
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.classification.code, "invalid_client");
  EXPECT_EQ(r.requests, 2);
  EXPECT_EQ(client.basicForm(), BasicForm::kEncoded);
}

INSTANTIATE_TEST_SUITE_P(BothIdpModes, ClientAuthContractTest,
                         ::testing::Values(mockidp::BasicMode::kRfc6749, mockidp::BasicMode::kRaw),
                         [](const auto& info) {
                           return std::string(mockidp::basicModeName(info.param));
                         });

}  // namespace
}  // namespace tether::oauth
