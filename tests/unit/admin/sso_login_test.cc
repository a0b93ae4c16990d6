// Portal single sign-on (admin/sso_login.h, sso_id_token.h) against a loopback OpenID
// provider served over real HTTP: the role a subject gets, and every callback check a
// person signing in can meet (bad state, another browser, too slow, wrong iss, nonce
// mismatch, an expired code, a forged or expired ID token), each a clear sentence that
// never echoes the code, the state or a token.
#include "admin/sso_login.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <mutex>

#include "core/encoding.h"
#include "http/server.h"
#include "http/tls_server.h"
#include "mockidp/jwt_signer.h"
#include "oauth/pkce.h"
#include "support/test_certs.h"

namespace tether::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace json = boost::json;

const std::string kCode = "the-authorization-code-0123456789";

/// The query parameters of a URL (decoded).
std::map<std::string, std::string> queryOf(const std::string& url) {
  std::map<std::string, std::string> out;
  const auto q = url.find('?');
  if (q == std::string::npos) return out;
  std::string_view rest(url);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    out[std::string(pair.substr(0, eq))] = core::formUrlDecode(pair.substr(eq + 1)).value();
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

/// A small OpenID provider on loopback: discovery, JWKS and a token endpoint that redeems
/// kCode once (with the PKCE verifier matching the challenge it was shown) for an ID token
/// whose claims the test sets.
class TestIdp {
 public:
  /// `tls`: served over https with these credentials.
  explicit TestIdp(std::shared_ptr<http::TlsCredentials> tls = nullptr) : tls_(tls != nullptr) {
    // RSA key generation is slow: one pair of keys for every test of the suite.
    static const auto keys = [] {
      return std::make_pair(std::shared_ptr(std::move(mockidp::JwtSigner::generate()).value()),
                            std::shared_ptr(std::move(mockidp::JwtSigner::generate()).value()));
    }();
    signer_ = keys.first;
    other_signer_ = keys.second;
    router_.add("GET", "/.well-known/openid-configuration",
                [this](http::Request&, http::Responder r) {
                  json::object d{{"issuer", issuer()},
                                 {"authorization_endpoint", issuer() + "/authorize"},
                                 {"token_endpoint", issuer() + "/token"},
                                 {"jwks_uri", issuer() + "/jwks"},
                                 {"authorization_response_iss_parameter_supported", true}};
                  r.send(http::Response::json(200, json::serialize(d)));
                });
    router_.add("GET", "/jwks", [this](http::Request&, http::Responder r) {
      std::lock_guard lock(mu_);
      ++jwks_fetches;
      r.send(http::Response::json(200, signer_->jwksJson()));
    });
    router_.add("POST", "/token", [this](http::Request& req, http::Responder r) {
      std::lock_guard lock(mu_);
      std::map<std::string, std::string> form = queryOf("?" + req.body);
      const bool pkce_ok = oauth::s256Challenge(form["code_verifier"]) == challenge;
      if (form["code"] != kCode || redeemed_ || !pkce_ok ||
          form["grant_type"] != "authorization_code") {
        return r.send(http::Response::json(
            400, R"({"error":"invalid_grant","error_description":"code expired or used"})"));
      }
      redeemed_ = true;
      const auto& s = forge ? *other_signer_ : *signer_;
      r.send(http::Response::json(
          200, json::serialize(json::object{{"access_token", "at-secret-value"},
                                            {"token_type", "Bearer"},
                                            {"id_token", s.sign(json::serialize(claims))}})));
    });
    http::ServerOptions o;
    o.port = 0;
    o.tls = std::move(tls);
    server_ = std::make_unique<http::Server>(o, router_, nullptr);
    EXPECT_TRUE(server_->start().ok());
  }
  ~TestIdp() { server_->stop(); }

  std::string issuer() const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(server_->port());
  }

  std::mutex mu_;
  json::object claims;    // the next ID token's claims
  std::string challenge;  // the PKCE challenge of the authorization request
  bool forge = false;     // sign with a key not in the JWKS
  int jwks_fetches = 0;

 private:
  std::shared_ptr<mockidp::JwtSigner> signer_, other_signer_;
  bool redeemed_ = false;
  bool tls_ = false;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
};

class SsoLoginTest : public ::testing::Test {
 protected:
  SsoLoginTest() {
    config_.issuer = idp_.issuer();
    config_.client_id = "tether-portal";
    config_.admin_groups = {"ops-admins"};
    config_.viewer_groups = {"ops-viewers"};
    http_ = http::makeHttpClient();
    clock_.set(core::TimePoint(std::chrono::seconds(1'800'000'000)));
    login_ = std::make_unique<SsoLogin>(config_, *http_, clock_, std::string(32, 'k'), [] {
      return "https://tether.example/portal/sso/callback";
    });
  }

  /// Starts a sign-in: the IdP learns the challenge, the ID token gets the right claims.
  void begin() {
    auto start = login_->start();
    ASSERT_TRUE(start.ok()) << start.error().message;
    flow_cookie_ = start->flow_cookie;
    auto q = queryOf(start->location);
    EXPECT_EQ(q["response_type"], "code");
    EXPECT_EQ(q["client_id"], "tether-portal");
    EXPECT_EQ(q["code_challenge_method"], "S256");
    EXPECT_EQ(q["redirect_uri"], "https://tether.example/portal/sso/callback");
    EXPECT_EQ(q["scope"], "openid email profile");
    state_ = q["state"];
    nonce_ = q["nonce"];
    std::lock_guard lock(idp_.mu_);
    idp_.challenge = q["code_challenge"];
    idp_.claims = {{"iss", idp_.issuer()},   {"sub", "alice-sub"},
                   {"aud", "tether-portal"}, {"exp", 1'800'000'000 + 300},
                   {"iat", 1'800'000'000},   {"nonce", nonce_},
                   {"name", "Alice Admin"},  {"groups", json::array{"staff", "ops-admins"}}};
  }

  SsoCallback goodCallback() const { return {kCode, state_, idp_.issuer(), std::nullopt}; }

  /// The sign-in fails with a message holding `why` and none of the flow's values.
  void expectRefused(const core::Result<SsoIdentity>& r, std::string_view why) {
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.error().message, HasSubstr(std::string(why)));
    for (const std::string& secret : {kCode, state_, nonce_, flow_cookie_}) {
      EXPECT_THAT(r.error().message, Not(HasSubstr(secret)));
    }
  }

  TestIdp idp_;
  config::SsoConfig config_;
  std::unique_ptr<http::HttpClient> http_;
  core::ManualClock clock_;
  std::unique_ptr<SsoLogin> login_;
  std::string flow_cookie_, state_, nonce_;
};

TEST(SsoRoleTest, GroupsAndSubjectsMapToRolesAdminFirstEveryoneElseIsAUser) {
  config::SsoConfig c;
  c.admin_groups = {"ops-admins"};
  c.admin_subjects = {"root-sub"};
  c.viewer_groups = {"ops-viewers"};
  c.viewer_subjects = {"auditor-sub"};
  EXPECT_EQ(ssoRole(c, "alice", {"staff", "ops-admins"}), Role::kAdmin);
  EXPECT_EQ(ssoRole(c, "root-sub", {}), Role::kAdmin);
  EXPECT_EQ(ssoRole(c, "bob", {"ops-viewers", "ops-admins"}), Role::kAdmin);
  EXPECT_EQ(ssoRole(c, "carol", {"ops-viewers"}), Role::kViewer);
  EXPECT_EQ(ssoRole(c, "auditor-sub", {"staff"}), Role::kViewer);
  EXPECT_EQ(ssoRole(c, "dave", {"staff"}), Role::kUser);
  EXPECT_EQ(ssoRole(c, "dave", {}), Role::kUser);
  // Group names are compared exactly: no case folding, no prefix match.
  EXPECT_EQ(ssoRole(c, "erin", {"OPS-ADMINS", "ops-admins-old"}), Role::kUser);
}

TEST_F(SsoLoginTest, AnAdminGroupMemberSignsInWithTheIdpsSubjectNameAndRole) {
  begin();
  auto id = login_->finish(goodCallback(), flow_cookie_);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->subject, "alice-sub");
  EXPECT_EQ(id->name, "Alice Admin");
  EXPECT_EQ(id->role, Role::kAdmin);
}

TEST_F(SsoLoginTest, SomeoneInNoConfiguredGroupIsAPlainUser) {
  begin();
  idp_.claims["groups"] = json::array{"staff"};
  idp_.claims["sub"] = "bob-sub";
  auto id = login_->finish(goodCallback(), flow_cookie_);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->role, Role::kUser);
}

TEST_F(SsoLoginTest, ACallbackWhoseStateIsNotThisBrowsersIsRefused) {
  begin();
  auto cb = goodCallback();
  cb.state = "a-forged-state-value";
  expectRefused(login_->finish(cb, flow_cookie_), "state does not match");
}

TEST_F(SsoLoginTest, ACallbackWithoutTheFlowCookieOrWithAForgedOneIsRefused) {
  begin();
  expectRefused(login_->finish(goodCallback(), ""), "not started in this browser");
  // Change the MAC's first character: the last one of unpadded base64 carries bits that
  // decoding drops, so changing it may leave the MAC's bytes as they were.
  std::string forged = flow_cookie_;
  const size_t mac_at = forged.find('.') + 1;
  forged[mac_at] = forged[mac_at] == 'A' ? 'B' : 'A';
  expectRefused(login_->finish(goodCallback(), forged), "not started in this browser");
}

TEST_F(SsoLoginTest, ASignInOlderThanTenMinutesMustStartAgain) {
  begin();
  clock_.advance(std::chrono::minutes(11));
  expectRefused(login_->finish(goodCallback(), flow_cookie_), "longer than 10 minutes");
}

TEST_F(SsoLoginTest, ACallbackFromAnotherIssuerIsRefused) {
  begin();
  auto cb = goodCallback();
  cb.iss = "https://evil.example";
  expectRefused(login_->finish(cb, flow_cookie_), "issuer (iss) is not");
  cb.iss.reset();  // the IdP promises iss (RFC 9207): its absence is a refusal too
  expectRefused(login_->finish(cb, flow_cookie_), "lacks the issuer (iss)");
}

TEST_F(SsoLoginTest, AnIdTokenWithAnotherNonceIsRefused) {
  begin();
  idp_.claims["nonce"] = "nonce-of-another-sign-in";
  expectRefused(login_->finish(goodCallback(), flow_cookie_), "nonce does not match");
}

TEST_F(SsoLoginTest, AnExpiredOrUsedCodeSaysSoAndAsksToStartAgain) {
  begin();
  ASSERT_TRUE(login_->finish(goodCallback(), flow_cookie_).ok());
  // The same callback again: the IdP refuses the code (single use, or expired).
  auto again = login_->finish(goodCallback(), flow_cookie_);
  expectRefused(again, "invalid_grant");
  EXPECT_THAT(again.error().message, HasSubstr("start the sign-in again"));
}

TEST_F(SsoLoginTest, TheIdpsOwnErrorIsShownAsItsCodeOnly) {
  begin();
  SsoCallback cb{std::nullopt, state_, idp_.issuer(), "access_denied<script>"};
  auto r = login_->finish(cb, flow_cookie_);
  expectRefused(r, "did not sign you in (access_denied");
  EXPECT_THAT(r.error().message, Not(HasSubstr("<script>")));
}

TEST_F(SsoLoginTest, AnIdTokenForAnotherAudienceOrExpiredIsRefused) {
  begin();
  idp_.claims["aud"] = "some-other-client";
  expectRefused(login_->finish(goodCallback(), flow_cookie_), "audience (aud)");
}

TEST_F(SsoLoginTest, AnExpiredIdTokenIsRefused) {
  begin();
  idp_.claims["exp"] = 1'800'000'000 - 120;  // past the 60 s skew
  expectRefused(login_->finish(goodCallback(), flow_cookie_), "expired (exp)");
}

TEST_F(SsoLoginTest, AnIdTokenSignedWithAKeyOutsideTheJwksIsRefusedAndRefetchesOnce) {
  begin();
  idp_.forge = true;
  expectRefused(login_->finish(goodCallback(), flow_cookie_), "signing key is not among");
  std::lock_guard lock(idp_.mu_);
  EXPECT_EQ(idp_.jwks_fetches, 1);  // the refresh for an unknown kid waits a minute
}

TEST(SsoUnreachableTest, AnUnreachableIdpIsSaidSoAndNotAskedAgainAtEveryClick) {
  config::SsoConfig config;
  config.issuer = "http://127.0.0.1:9";  // discard: nothing listens
  config.client_id = "tether-portal";
  auto http = http::makeHttpClient();
  core::ManualClock clock;
  SsoLogin login(config, *http, clock, std::string(32, 'k'), [] { return std::string(); });
  auto first = login.start();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, core::Errc::kUnavailable);
  EXPECT_THAT(first.error().message, HasSubstr("OpenID configuration cannot be reached"));
  const auto before = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(login.start().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));
}

// admin.sso.ca_bundle: an IdP whose certificate a private CA issued is reached over https
// when the bundle names that CA (discovery, token endpoint, JWK Set), and not without it.
TEST(SsoOverHttpsTest, TheIdpsPrivateCaIsTrustedThroughCaBundle) {
  testing::TestCa ca;
  const auto files = ca.issueServerCert("idp", {"IP:127.0.0.1"});
  auto tls = http::TlsCredentials::load(files.cert_path, files.key_path);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  TestIdp idp(*tls);
  config::SsoConfig config;
  config.issuer = idp.issuer();
  config.client_id = "tether-portal";
  auto http = http::makeHttpClient();
  core::ManualClock clock;
  clock.set(core::TimePoint(std::chrono::seconds(1'800'000'000)));
  const auto redirect = [] { return std::string("https://tether.example/portal/sso/callback"); };
  {
    SsoLogin untrusted(config, *http, clock, std::string(32, 'k'), redirect);
    auto start = untrusted.start();
    ASSERT_FALSE(start.ok());
    EXPECT_THAT(start.error().message, HasSubstr("cannot be reached (tls)"));
  }
  config.ca_bundle = ca.caCertPath();
  SsoLogin login(config, *http, clock, std::string(32, 'k'), redirect);
  auto start = login.start();
  ASSERT_TRUE(start.ok()) << start.error().message;
  auto q = queryOf(start->location);
  {
    std::lock_guard lock(idp.mu_);
    idp.challenge = q["code_challenge"];
    idp.claims = {{"iss", idp.issuer()},        {"sub", "alice-sub"},   {"aud", "tether-portal"},
                  {"exp", 1'800'000'000 + 300}, {"iat", 1'800'000'000}, {"nonce", q["nonce"]},
                  {"groups", json::array{"x"}}};
  }
  auto id = login.finish({kCode, q["state"], idp.issuer(), std::nullopt}, start->flow_cookie);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->subject, "alice-sub");
}

TEST(SsoIdTokenTest, ClaimChecksNameWhatFailed) {
  IdTokenCheck check{"https://idp.example", "tether", "n-1", "groups",
                     core::TimePoint(std::chrono::seconds(1000))};
  auto ok = checkIdTokenClaims(
      R"({"iss":"https://idp.example","aud":["tether","x"],"azp":"tether","exp":2000,"nonce":"n-1","sub":"s","email":"s@x","groups":"one"})",
      check);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->name, "s@x");
  EXPECT_EQ(ok->groups, std::vector<std::string>{"one"});
  auto several = checkIdTokenClaims(
      R"({"iss":"https://idp.example","aud":["tether","x"],"exp":2000,"nonce":"n-1","sub":"s"})",
      check);
  EXPECT_THAT(several.error().message, HasSubstr("azp"));
  auto no_sub = checkIdTokenClaims(
      R"({"iss":"https://idp.example","aud":"tether","exp":2000,"nonce":"n-1"})", check);
  EXPECT_THAT(no_sub.error().message, HasSubstr("subject (sub)"));
  auto future = checkIdTokenClaims(
      R"({"iss":"https://idp.example","aud":"tether","exp":2000,"iat":1500,"nonce":"n-1","sub":"s"})",
      check);
  EXPECT_THAT(future.error().message, HasSubstr("future (iat)"));
  const identity::JwkSet no_keys;
  auto none = verifyIdToken("eyJhbGciOiJub25lIn0.e30.", no_keys, check);  // alg none
  EXPECT_EQ(none.error().code, core::Errc::kUnauthenticated);
  EXPECT_FALSE(verifyIdToken("not a token", no_keys, check).ok());
  auto huge = verifyIdToken(std::string(kMaxIdTokenBytes + 1, 'a'), no_keys, check);
  EXPECT_THAT(huge.error().message, HasSubstr("larger than"));
}

}  // namespace
}  // namespace tether::admin
