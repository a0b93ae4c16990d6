#include "oauth/registration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace tether::oauth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kWhere = "https://idp.example/reg";

boost::json::object parsed(const std::string& body) { return boost::json::parse(body).as_object(); }

TEST(RegistrationTest, ApplicationTypeIsNativeOnLoopbackAndWebElsewhere) {
  EXPECT_EQ(applicationTypeFor("http://127.0.0.1:8080"), "native");
  EXPECT_EQ(applicationTypeFor("http://127.9.0.1"), "native");
  EXPECT_EQ(applicationTypeFor("http://[::1]:8080"), "native");
  EXPECT_EQ(applicationTypeFor("http://localhost:8080/"), "native");
  EXPECT_EQ(applicationTypeFor("https://tether.example"), "web");
  EXPECT_EQ(applicationTypeFor("https://10.0.0.5"), "web");
}

// A strict server refuses scopes it does not list (oidc-provider: "scope must only contain
// Authorization Server supported scope values"): resource scopes such as mcp:tools go.
TEST(RegistrationTest, ScopeIsReducedToTheServersScopesSupported) {
  EXPECT_EQ(supportedScopes("mcp:tools offline_access", {"openid", "offline_access"}),
            "offline_access");
  EXPECT_EQ(supportedScopes("mcp:tools", {"openid", "offline_access"}), "");
  EXPECT_EQ(supportedScopes("a  b a c", {"a", "b", "c"}), "a b c");
  EXPECT_EQ(supportedScopes("mcp:tools", {}), "");  // nothing listed: nothing claimed
}

TEST(RegistrationTest, ScopeReductionIsBoundedOnHostileInput) {
  std::string many;
  for (int i = 0; i < 5000; ++i) {
    many += 's';  // appended piecewise: g++ 12 reports a false -Wrestrict on "s" + string
    many += std::to_string(i);
    many += ' ';
  }
  many += std::string(64 * 1024, 'x');
  const std::string out = supportedScopes(many, {"s1", "s4999", std::string(64 * 1024, 'x')});
  EXPECT_EQ(out, "s1");  // past 256 scopes, and longer than 256 bytes: not considered
}

TEST(RegistrationTest, AuthMethodIsOneTheServerSupports) {
  AuthorizationServerMetadata md;
  EXPECT_EQ(tokenEndpointAuthMethodFor(md), "none");
  md.token_endpoint_auth_methods_supported = {"client_secret_post", "none"};
  EXPECT_EQ(tokenEndpointAuthMethodFor(md), "none");
  md.token_endpoint_auth_methods_supported = {"client_secret_post", "client_secret_basic"};
  EXPECT_EQ(tokenEndpointAuthMethodFor(md), "client_secret_basic");
  md.token_endpoint_auth_methods_supported = {"private_key_jwt", "client_secret_post"};
  EXPECT_EQ(tokenEndpointAuthMethodFor(md), "client_secret_post");
}

TEST(RegistrationTest, RequestCarriesWhatAStrictServerAccepts) {
  AuthorizationServerMetadata md;
  md.scopes_supported = {"openid", "offline_access"};
  const auto req = registrationRequestFor(md, "https://tether.example/oauth/callback",
                                          "https://tether.example", "mcp:tools offline_access");
  const auto body = parsed(registrationBody(req));
  EXPECT_EQ(body.at("application_type").as_string(), "web");
  EXPECT_EQ(body.at("client_name").as_string(), "Tether");
  EXPECT_EQ(body.at("scope").as_string(), "offline_access");
  EXPECT_EQ(body.at("token_endpoint_auth_method").as_string(), "none");
  EXPECT_EQ(body.at("redirect_uris").as_array().at(0).as_string(),
            "https://tether.example/oauth/callback");
  EXPECT_EQ(boost::json::serialize(body.at("grant_types")),
            R"(["authorization_code","refresh_token"])");
  EXPECT_EQ(boost::json::serialize(body.at("response_types")), R"(["code"])");

  std::vector<std::string> dropped;
  const auto plain = parsed(registrationBody(withoutOptionalFields(req, dropped)));
  EXPECT_EQ(dropped, (std::vector<std::string>{"scope", "application_type", "client_name"}));
  EXPECT_FALSE(plain.contains("scope"));
  EXPECT_FALSE(plain.contains("application_type"));
  EXPECT_FALSE(plain.contains("client_name"));
  EXPECT_TRUE(plain.contains("redirect_uris"));
}

TEST(RegistrationTest, NoScopeIsSentWhenNoneIsSupported) {
  AuthorizationServerMetadata md;
  const auto req = registrationRequestFor(md, "http://127.0.0.1:1/oauth/callback",
                                          "http://127.0.0.1:1", "mcp:tools");
  const auto body = parsed(registrationBody(req));
  EXPECT_FALSE(body.contains("scope"));
  EXPECT_EQ(body.at("application_type").as_string(), "native");
}

TEST(RegistrationTest, OnlyMetadataRefusalsAreRetried) {
  const http::Headers json = {{"Content-Type", "application/json"}};
  EXPECT_TRUE(refusedForMetadata(400, json, R"({"error":"invalid_client_metadata"})"));
  EXPECT_TRUE(refusedForMetadata(400, json, R"({"error":"invalid_scope"})"));
  EXPECT_FALSE(refusedForMetadata(400, json, R"({"error":"invalid_redirect_uri"})"));
  EXPECT_FALSE(refusedForMetadata(401, json, R"({"error":"invalid_client_metadata"})"));
}

TEST(RegistrationTest, AnswerWithClientIdAndSecretIsAccepted) {
  auto got = parseRegistrationResponse(
      201, {{"Content-Type", "application/json"}},
      R"({"client_id":"abc","client_secret":"s3cr3t-from-idp","registration_access_token":"t"})",
      kWhere);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->client_id, "abc");
  EXPECT_EQ(got->client_secret, "s3cr3t-from-idp");
  EXPECT_THAT(got->response_json, HasSubstr("registration_access_token"));
}

// Bad input (issue 21): each a clear error naming the server, never a secret.
TEST(RegistrationTest, HostileAnswersAreRefusedNamingTheServer) {
  struct Case {
    int status;
    http::Headers headers;
    std::string body;
    std::string says;
  };
  const http::Headers json = {{"Content-Type", "application/json"}};
  const std::vector<Case> cases = {
      {200, {{"Content-Type", "text/html; charset=utf-8"}}, "<html>Sign in</html>", "HTML"},
      {200, {}, "<!doctype html><p>login", "HTML"},
      {302, {{"Location", "https://elsewhere.example/reg"}}, "", "redirect (HTTP 302 to"},
      {201, json, R"({"client_secret":"s3cr3t-only"})", "no client_id"},
      {201, json, R"({"client_id":""})", "empty"},
      {201, json, R"({"client_id":42})", "not a string"},
      {201, json, R"({"client_id":"a\nb"})", "not printable"},
      {201, json, "{\"client_id\":\"" + std::string(2000, 'a') + "\"}", "longer than 1 KiB"},
      {201, json, R"({"client_id":"x","client_secret":7})", "client_secret is not a string"},
      {201, json, "[1,2]", "not a JSON object"},
      {201, json, "not json", "not a JSON object"},
      {400, json, R"({"error":"invalid_redirect_uri","error_description":"s3cr3t"})",
       "HTTP 400 invalid_redirect_uri"},
  };
  for (const auto& c : cases) {
    auto got = parseRegistrationResponse(c.status, c.headers, c.body, kWhere);
    ASSERT_FALSE(got.ok()) << c.body;
    EXPECT_EQ(got.error().code, core::Errc::kUpstreamError);
    EXPECT_THAT(got.error().message, HasSubstr("https://idp.example/reg")) << c.body;
    EXPECT_THAT(got.error().message, HasSubstr(c.says)) << c.body;
    EXPECT_THAT(got.error().message, Not(HasSubstr("s3cr3t"))) << c.body;
  }
}

TEST(RegistrationTest, MetadataDocumentNeedsAnHttpsPublicUrl) {
  EXPECT_EQ(clientMetadataUrl("https://tether.example/"),
            "https://tether.example/oauth/client-metadata.json");
  EXPECT_EQ(clientMetadataUrl("HTTPS://tether.example"),
            "HTTPS://tether.example/oauth/client-metadata.json");
  EXPECT_EQ(clientMetadataUrl("http://127.0.0.1:8080"), "");
  EXPECT_EQ(clientMetadataUrl("http://127.0.0.1:8080", "https://docs.example/c.json"),
            "https://docs.example/c.json");
  EXPECT_EQ(parsed(clientMetadataDocument("https://tether.example", "https://docs.example/c.json"))
                .at("client_id")
                .as_string(),
            "https://docs.example/c.json");
  const auto doc = parsed(clientMetadataDocument("https://tether.example/"));
  EXPECT_EQ(doc.at("client_id").as_string(), "https://tether.example/oauth/client-metadata.json");
  EXPECT_EQ(doc.at("client_name").as_string(), "Tether");
  EXPECT_EQ(doc.at("redirect_uris").as_array().at(0).as_string(),
            "https://tether.example/oauth/callback");
  EXPECT_EQ(doc.at("token_endpoint_auth_method").as_string(), "none");
  EXPECT_EQ(boost::json::serialize(doc.at("grant_types")),
            R"(["authorization_code","refresh_token"])");
  EXPECT_EQ(boost::json::serialize(doc.at("response_types")), R"(["code"])");
}

TEST(RegistrationTest, MetadataSaysWhetherTheServerTakesMetadataDocuments) {
  const std::string base =
      R"({"issuer":"https://as.example","authorization_endpoint":"https://as.example/a",)"
      R"("token_endpoint":"https://as.example/t")";
  auto with = parseAuthorizationServerMetadata(
      base + R"(,"client_id_metadata_document_supported":true})", "https://as.example");
  ASSERT_TRUE(with.ok());
  EXPECT_TRUE(with->client_id_metadata_document_supported);
  auto without = parseAuthorizationServerMetadata(
      base + R"(,"client_id_metadata_document_supported":"yes"})", "https://as.example");
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(without->client_id_metadata_document_supported);
}

}  // namespace
}  // namespace tether::oauth
