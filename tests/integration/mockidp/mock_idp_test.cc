// The mock IdP's protocol endpoints and knobs, driven in-process over loopback with the
// real outbound client and a ManualClock shared with the test.

#include "mockidp/mock_idp.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "http/headers.h"
#include "http/http_client.h"
#include "oauth/pkce.h"
#include "oauth/requests.h"
#include "oauth/token_endpoint_client.h"

namespace tether::mockidp {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

class MockIdpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MockIdpOptions o;
    o.clients = {{"app", "app-secret", {"http://127.0.0.1:9/callback"}}};
    idp_ = std::make_unique<MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());
    http_ = http::makeHttpClient();
  }

  http::ClientResult call(std::string method, const std::string& path, std::string body = {},
                          http::Headers headers = {}) {
    http::ClientRequest r;
    r.method = std::move(method);
    r.url = path.rfind("http", 0) == 0 ? path : idp_->issuer() + path;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return http_->send(r);
  }

  json::object getJson(const std::string& path) {
    const auto r = call("GET", path);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.response.status, 200);
    return json::parse(r.response.body).as_object();
  }

  oauth::OAuthClientConfig config() const {
    oauth::OAuthClientConfig c;
    c.authorization_url = idp_->authorizeUrl();
    c.token_url = idp_->tokenUrl();
    c.client_id = "app";
    c.client_secret = "app-secret";
    c.scopes = "openid offline_access";
    c.resource = "https://mcp.example/mcp";
    c.use_proxy = false;
    return c;
  }

  // /authorize through HTTP; returns the Location of the 302.
  std::string authorize(const oauth::PkcePair& pkce, const std::string& state) {
    auto url = oauth::buildAuthorizationUrl(config(),
                                            {"http://127.0.0.1:9/callback", state, pkce.challenge});
    EXPECT_TRUE(url.ok());
    const auto r = call("GET", url.value());
    EXPECT_EQ(r.response.status, 302);
    return std::string(http::findHeader(r.response.headers, "Location").value_or(""));
  }

  static std::string queryValue(const std::string& url, const std::string& key) {
    const auto pairs = http::parseForm(url.substr(url.find('?') + 1));
    return http::formValue(pairs, key).value_or("");
  }

  core::ManualClock clock_;
  std::unique_ptr<MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_;
};

TEST_F(MockIdpTest, DiscoveryDocuments) {
  for (const char* path :
       {"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
    const auto d = getJson(path);
    EXPECT_EQ(d.at("issuer").as_string(), idp_->issuer());
    EXPECT_EQ(d.at("token_endpoint").as_string(), idp_->tokenUrl());
    EXPECT_EQ(d.at("code_challenge_methods_supported").as_array().at(0).as_string(), "S256");
  }
  EXPECT_EQ(idp_->counter("requests.discovery"), 2u);
}

TEST_F(MockIdpTest, AuthorizationCodeFlowWithPkce) {
  const auto pkce = oauth::generatePkce();
  const std::string location = authorize(pkce, "st-1");
  ASSERT_EQ(location.rfind("http://127.0.0.1:9/callback?", 0), 0u) << location;
  EXPECT_EQ(queryValue(location, "state"), "st-1");
  EXPECT_EQ(queryValue(location, "iss"), idp_->issuer());
  const std::string code = queryValue(location, "code");
  ASSERT_FALSE(code.empty());

  oauth::TokenEndpointClient client(*http_, config(), clock_);
  const auto r = client.exchangeCode(code, pkce.verifier, "http://127.0.0.1:9/callback");
  ASSERT_TRUE(r.ok()) << r.classification.code;
  EXPECT_FALSE(r.tokens->refresh_token.empty());
  EXPECT_EQ(r.tokens->scope, "openid offline_access");
  // Codes are single-use.
  const auto again = client.exchangeCode(code, pkce.verifier, "http://127.0.0.1:9/callback");
  EXPECT_TRUE(again.classification.terminal());
  EXPECT_EQ(again.classification.code, "invalid_grant");
}

TEST_F(MockIdpTest, WrongVerifierOrRedirectIsInvalidGrant) {
  const auto pkce = oauth::generatePkce();
  oauth::TokenEndpointClient client(*http_, config(), clock_);
  auto code = queryValue(authorize(pkce, "s"), "code");
  auto r = client.exchangeCode(code, oauth::generatePkce().verifier, "http://127.0.0.1:9/callback");
  EXPECT_EQ(r.classification.code, "invalid_grant");
  code = queryValue(authorize(pkce, "s"), "code");
  r = client.exchangeCode(code, pkce.verifier, "http://127.0.0.1:9/other");
  EXPECT_EQ(r.classification.code, "invalid_grant");
}

TEST_F(MockIdpTest, AuthorizeRequiresPkceS256) {
  const auto r = call("GET", "/authorize?response_type=code&client_id=app&state=x&redirect_uri=" +
                                 core::formUrlEncode("http://127.0.0.1:9/callback"));
  EXPECT_EQ(r.response.status, 302);
  const std::string location(http::findHeader(r.response.headers, "Location").value_or(""));
  EXPECT_EQ(queryValue(location, "error"), "invalid_request");
  const auto bad = call("GET", "/authorize?response_type=code&client_id=app&redirect_uri=" +
                                   core::formUrlEncode("http://evil.example/cb"));
  EXPECT_EQ(bad.response.status, 400);  // never redirect to an unregistered URI
}

TEST_F(MockIdpTest, ConsentPageForHumans) {
  idp_->update([](MockIdpSettings& s) { s.auto_approve = false; });
  const auto pkce = oauth::generatePkce();
  auto url =
      oauth::buildAuthorizationUrl(config(), {"http://127.0.0.1:9/callback", "s", pkce.challenge});
  const auto page = call("GET", url.value());
  ASSERT_EQ(page.response.status, 200);
  const auto& body = page.response.body;
  const size_t at = body.find("name=\"request\" value=\"");
  ASSERT_NE(at, std::string::npos);
  const size_t start = at + 22;
  const std::string id = body.substr(start, body.find('"', start) - start);
  const auto decided = call("POST", "/authorize/decision", "request=" + id + "&decision=approve",
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(decided.response.status, 302);
  const std::string location(http::findHeader(decided.response.headers, "Location").value_or(""));
  EXPECT_FALSE(queryValue(location, "code").empty());
}

TEST_F(MockIdpTest, AccessTokensAreRs256JwtsVerifiableWithTheJwks) {
  const auto [access, refresh] = idp_->issueTokens("app", "read");
  const auto jwks = getJson("/jwks");
  const auto& key = jwks.at("keys").as_array().at(0).as_object();
  EXPECT_EQ(key.at("alg").as_string(), "RS256");
  const auto n = core::base64Decode(std::string_view(key.at("n").as_string())).value();
  const auto e = core::base64Decode(std::string_view(key.at("e").as_string())).value();

  // Build the public key from the JWK and verify the signature like an upstream would.
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  BIGNUM* bn_n =
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), int(n.size()), nullptr);
  BIGNUM* bn_e =
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), int(e.size()), nullptr);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  ASSERT_EQ(EVP_PKEY_fromdata_init(pctx), 1);
  ASSERT_EQ(EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
  const size_t dot = access.rfind('.');
  const auto sig = core::base64Decode(access.substr(dot + 1)).value();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey), 1);
  EXPECT_EQ(EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(access.data()), dot),
            1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params);
  BN_free(bn_n);
  BN_free(bn_e);
  OSSL_PARAM_BLD_free(bld);

  const auto claims = json::parse(core::base64Decode(access.substr(access.find('.') + 1,
                                                                   dot - access.find('.') - 1))
                                      .value())
                          .as_object();
  EXPECT_EQ(claims.at("iss").as_string(), idp_->issuer());
  EXPECT_EQ(claims.at("exp").as_int64(), core::toUnixSeconds(clock_.now()) + 3600);
  EXPECT_FALSE(refresh.empty());
}

TEST_F(MockIdpTest, IntrospectionFollowsTheClock) {
  const auto [access, refresh] = idp_->issueTokens("app");
  const http::Headers form{{"Content-Type", "application/x-www-form-urlencoded"}};
  auto r =
      call("POST", "/introspect", "client_id=app&client_secret=app-secret&token=" + access, form);
  EXPECT_EQ(json::parse(r.response.body).at("active").as_bool(), true);
  r = call("POST", "/introspect", "client_id=app&client_secret=app-secret&token=" + refresh, form);
  EXPECT_EQ(json::parse(r.response.body).at("token_type").as_string(), "refresh_token");
  clock_.advance(seconds(3601));
  r = call("POST", "/introspect", "client_id=app&client_secret=app-secret&token=" + access, form);
  EXPECT_EQ(json::parse(r.response.body).at("active").as_bool(), false);
  r = call("POST", "/introspect", "token=" + access, form);
  EXPECT_EQ(r.response.status, 401);
}

TEST_F(MockIdpTest, DynamicClientRegistration) {
  const auto r = call("POST", "/register",
                      R"({"redirect_uris":["http://127.0.0.1:9/cb"],"client_name":"demo"})",
                      {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.response.status, 201);
  const auto o = json::parse(r.response.body).as_object();
  auto c = config();
  c.client_id = std::string(o.at("client_id").as_string());
  c.client_secret = std::string(o.at("client_secret").as_string());
  oauth::TokenEndpointClient client(*http_, c, clock_);
  EXPECT_TRUE(client.clientCredentials().ok());
  EXPECT_EQ(idp_->counter("clients_registered"), 1u);
  const auto bad = call("POST", "/register", "not json");
  EXPECT_EQ(bad.response.status, 400);
}

TEST_F(MockIdpTest, OneTimeUseDetectsReuseAndRevokesTheFamily) {
  idp_->update([](MockIdpSettings& s) { s.rotation = Rotation::kOneTimeUse; });
  oauth::TokenEndpointClient client(*http_, config(), clock_);
  const std::string rt1 = idp_->issueTokens("app").second;
  const auto r1 = client.refresh(rt1);
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(r1.tokens->refresh_token_rotated);
  const std::string rt2 = r1.tokens->refresh_token;
  // The loser of a race replays rt1: invalid_grant, and the whole family dies with it.
  EXPECT_EQ(client.refresh(rt1).classification.code, "invalid_grant");
  EXPECT_EQ(idp_->counter("refresh_reuse_attempts"), 1u);
  EXPECT_EQ(client.refresh(rt2).classification.code, "invalid_grant");
  EXPECT_EQ(idp_->counter("families_revoked"), 1u);
}

TEST_F(MockIdpTest, OneTimeUseGraceWindowAndNoFamilyRevocation) {
  idp_->update([](MockIdpSettings& s) {
    s.rotation = Rotation::kOneTimeUse;
    s.reuse_grace = seconds(10);
    s.revoke_family_on_reuse = false;
  });
  oauth::TokenEndpointClient client(*http_, config(), clock_);
  const std::string rt1 = idp_->issueTokens("app").second;
  const auto r1 = client.refresh(rt1);
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(client.refresh(rt1).ok());  // within the grace window
  clock_.advance(seconds(11));
  EXPECT_EQ(client.refresh(rt1).classification.code, "invalid_grant");
  EXPECT_TRUE(client.refresh(r1.tokens->refresh_token).ok());  // family intact
}

TEST_F(MockIdpTest, AbsoluteRefreshLifetimeDisclosedOrNot) {
  idp_->update([](MockIdpSettings& s) { s.refresh_token_lifetime = seconds(7200); });
  oauth::TokenEndpointClient client(*http_, config(), clock_);
  auto r = client.refresh(idp_->issueTokens("app").second);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.tokens->refresh_expires_at, clock_.now() + seconds(7200));
  idp_->update([](MockIdpSettings& s) { s.disclose_refresh_expires_in = false; });
  clock_.advance(seconds(3600));
  r = client.refresh(r.tokens->refresh_token);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.tokens->refresh_expires_at.has_value());
  clock_.advance(seconds(3601));
  EXPECT_EQ(client.refresh(r.tokens->refresh_token).classification.code, "invalid_grant");
}

TEST_F(MockIdpTest, ScopeOnRefreshMayOnlyNarrow) {
  auto c = config();
  c.send_scope_on_refresh = true;
  c.scopes = "read admin";
  oauth::TokenEndpointClient client(*http_, c, clock_);
  const auto r = client.refresh(idp_->issueTokens("app", "read").second);
  EXPECT_TRUE(r.classification.terminal());
  EXPECT_EQ(r.classification.code, "invalid_scope");
}

TEST_F(MockIdpTest, FaultsOnOtherEndpoints) {
  idp_->addFault(parseFaultRule("html_403,endpoint=discovery").value());
  idp_->addFault(parseFaultRule("drop,endpoint=jwks").value());
  EXPECT_EQ(call("GET", "/.well-known/openid-configuration").response.status, 403);
  EXPECT_EQ(call("GET", "/.well-known/openid-configuration").response.status, 200);
  // A fresh client: libcurl transparently retries an idempotent GET whose *reused*
  // connection died unanswered, which would hide the drop.
  http_ = http::makeHttpClient();
  EXPECT_FALSE(call("GET", "/jwks").ok());
  EXPECT_TRUE(call("GET", "/jwks").ok());
  EXPECT_EQ(idp_->counter("faults_injected"), 2u);
}

TEST_F(MockIdpTest, OwnClockOnlyMovesWhenNotInjected) {
  EXPECT_FALSE(idp_->advanceClock(seconds(5)).ok());
  const MockIdpOptions defaults;
  MockIdp own(defaults);
  const auto before = own.now();
  ASSERT_TRUE(own.advanceClock(seconds(7200)).ok());
  EXPECT_GE(own.now() - before, seconds(7200));
}

}  // namespace
}  // namespace tether::mockidp
