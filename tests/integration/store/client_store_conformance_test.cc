// ClientStore conformance (both backends): clients and resolved endpoints.

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

TEST_P(StoreConformanceTest, OAuthClientsRoundTripSealed) {
  OAuthClient c;
  c.issuer = "https://idp.example.com";
  c.client_id = "tether-client";
  c.client_secret = "client-secret-value";
  c.registration_json = R"({"registration_access_token":"rat"})";
  ASSERT_TRUE(store_->putClient(c).ok());
  auto got = store_->getClient(c.issuer).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->client_id, "tether-client");
  EXPECT_EQ(got->client_secret, "client-secret-value");
  EXPECT_EQ(got->registration_json, c.registration_json);
  EXPECT_EQ(got->created_at, now());

  clock_.advance(minutes(1));
  c.client_secret.reset();
  ASSERT_TRUE(store_->putClient(c).ok());
  got = store_->getClient(c.issuer).value();
  EXPECT_FALSE(got->client_secret.has_value());
  EXPECT_EQ(got->created_at, now() - minutes(1));
  EXPECT_EQ(got->updated_at, now());
  EXPECT_TRUE(store_->deleteClient(c.issuer).value());
  EXPECT_FALSE(store_->getClient(c.issuer).value().has_value());
}

TEST_P(StoreConformanceTest, ResolvedEndpointsRoundTripPerConnection) {
  EXPECT_FALSE(store_->getEndpoints(kDemo).value().has_value());
  OAuthEndpoints e;
  e.key = kDemo;
  e.issuer = "https://idp.example.com/tenant";
  e.authorization_endpoint = "https://idp.example.com/tenant/authorize";
  e.token_endpoint = "https://idp.example.com/tenant/token";
  e.registration_endpoint = "https://idp.example.com/tenant/register";
  e.scopes = "mcp:tools offline_access";
  e.resource = "https://mcp.example.com/mcp";
  e.iss_parameter_supported = true;
  ASSERT_TRUE(store_->putEndpoints(e).ok());
  auto got = store_->getEndpoints(kDemo).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->issuer, e.issuer);
  EXPECT_EQ(got->authorization_endpoint, e.authorization_endpoint);
  EXPECT_EQ(got->token_endpoint, e.token_endpoint);
  EXPECT_EQ(got->registration_endpoint, e.registration_endpoint);
  EXPECT_EQ(got->scopes, e.scopes);
  EXPECT_EQ(got->resource, e.resource);
  EXPECT_TRUE(got->iss_parameter_supported);
  EXPECT_EQ(got->updated_at, now());
  EXPECT_FALSE(store_->getEndpoints(kOther).value().has_value());
  // Replaced as a whole by the next discovery.
  e.token_endpoint = "https://idp2.example.com/token";
  e.iss_parameter_supported = false;
  e.registration_endpoint.clear();
  ASSERT_TRUE(store_->putEndpoints(e).ok());
  got = store_->getEndpoints(kDemo).value();
  EXPECT_EQ(got->token_endpoint, "https://idp2.example.com/token");
  EXPECT_FALSE(got->iss_parameter_supported);
  EXPECT_EQ(got->registration_endpoint, "");
  e.token_endpoint.clear();
  EXPECT_EQ(store_->putEndpoints(e).error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace tether::store::testing
