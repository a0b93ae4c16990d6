#include "identity/validator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "core/thread_pool.h"
#include "support/jwt_signer.h"

namespace tether::identity {
namespace {

using testing::TestKey;
using namespace std::chrono_literals;

constexpr std::string_view kIssuer = "https://idp.example";
constexpr std::string_view kAudience = "https://tether.example/mcp/docs";

class ValidatorTest : public ::testing::Test {
 protected:
  ValidatorTest() : rsa_(TestKey::Type::kRsa, "k1"), rotated_(TestKey::Type::kRsa, "k2") {
    jwks_ = testing::jwksJson({&rsa_});
  }

  std::shared_ptr<Validator> make(ValidatorOptions o = {}) {
    o.issuer = std::string(kIssuer);
    ValidatorDeps deps;
    deps.clock = &clock_;
    deps.fetch_jwks = [this]() -> core::Result<std::string> {
      fetches_.fetch_add(1);
      std::lock_guard lock(mu_);
      return jwks_;
    };
    deps.introspect = [this](const std::string& token) -> core::Result<std::string> {
      introspections_.fetch_add(1);
      std::lock_guard lock(mu_);
      return introspection_answer_(token);
    };
    deps.run_blocking = [this](std::function<void()> f) { pool_.post(std::move(f)); };
    return Validator::create(std::move(o), std::move(deps));
  }

  boost::json::object claims(int64_t exp_in = 300) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    return {{"iss", kIssuer},      {"aud", kAudience}, {"sub", "alice"},
            {"exp", now + exp_in}, {"iat", now},       {"scope", "mcp:tools"}};
  }

  static Verdict run(Validator& v, const std::string& token,
                     std::string_view audience = kAudience) {
    std::promise<Verdict> p;
    auto f = p.get_future();
    v.validate(token, std::string(audience), [&p](Verdict r) { p.set_value(std::move(r)); });
    if (f.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "no verdict within 10 s";
      return Rejection{Check::kMalformed, "timeout"};
    }
    return f.get();
  }

  static void expectRejected(const Verdict& v, Check check) {
    ASSERT_FALSE(v.ok()) << "accepted; expected " << checkName(check);
    EXPECT_EQ(v.error().check, check) << checkName(v.error().check) << ": " << v.error().detail;
  }

  core::ManualClock clock_;
  core::ThreadPool pool_{2, "validator-test"};
  TestKey rsa_;
  TestKey rotated_;
  std::mutex mu_;
  std::string jwks_;
  std::function<core::Result<std::string>(const std::string&)> introspection_answer_;
  std::atomic<int> fetches_{0};
  std::atomic<int> introspections_{0};
};

TEST_F(ValidatorTest, AcceptsAValidTokenAndNamesTheCaller) {
  auto v = make();
  auto r = run(*v, testing::signJwt(rsa_, claims()));
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ((*r)->subject, "alice");
  EXPECT_EQ(fetches_.load(), 1);
  // The key is cached: the next token is decided at once, without I/O.
  auto again = v->tryValidate(testing::signJwt(rsa_, claims()), kAudience);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->ok());
  EXPECT_EQ(fetches_.load(), 1);
}

TEST_F(ValidatorTest, ARememberedTokenStillExpiresAndDiesWithItsKey) {
  auto v = make();
  const std::string token = testing::signJwt(rsa_, claims(/*exp_in=*/120));
  ASSERT_TRUE(run(*v, token).ok());
  ASSERT_TRUE(v->tryValidate(token, kAudience)->ok());  // remembered
  // Another audience is checked in full.
  expectRejected(*v->tryValidate(token, "https://tether.example/mcp/other"), Check::kAudience);
  clock_.advance(181s);  // past exp + skew
  expectRejected(*v->tryValidate(token, kAudience), Check::kExpired);

  // A key the issuer removed stops its tokens at the next JWK Set fetch.
  const std::string fresh = testing::signJwt(rsa_, claims());
  ASSERT_TRUE(v->tryValidate(fresh, kAudience)->ok());
  {
    std::lock_guard lock(mu_);
    jwks_ = testing::jwksJson({&rotated_});
  }
  ASSERT_TRUE(run(*v, testing::signJwt(rotated_, claims())).ok());  // unknown kid: refetch
  expectRejected(run(*v, fresh), Check::kUnknownKey);
}

TEST_F(ValidatorTest, EveryAlgorithmItAccepts) {
  const TestKey ec(TestKey::Type::kEc, "e");
  const TestKey ed(TestKey::Type::kEd25519, "d");
  jwks_ = testing::jwksJson({&rsa_, &ec, &ed});
  auto v = make();
  EXPECT_TRUE(run(*v, testing::signJwt(rsa_, claims(), "RS256")).ok());
  EXPECT_TRUE(run(*v, testing::signJwt(rsa_, claims(), "PS256")).ok());
  EXPECT_TRUE(run(*v, testing::signJwt(ec, claims())).ok());
  EXPECT_TRUE(run(*v, testing::signJwt(ed, claims())).ok());
}

TEST_F(ValidatorTest, BadInputTable) {
  auto v = make();
  ASSERT_TRUE(run(*v, testing::signJwt(rsa_, claims())).ok());  // keys loaded
  auto with = [&](std::string key, boost::json::value value) {
    auto c = claims();
    c[key] = std::move(value);
    return testing::signJwt(rsa_, c);
  };
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  auto no_exp = claims();
  no_exp.erase("exp");
  const TestKey stranger(TestKey::Type::kRsa, "k1");  // same kid, other key
  struct Case {
    std::string name;
    std::string token;
    Check check;
  };
  const std::vector<Case> cases = {
      {"expired", with("exp", now - 61), Check::kExpired},
      {"no exp", testing::signJwt(rsa_, no_exp), Check::kExpired},
      {"not yet valid", with("nbf", now + 61), Check::kNotYetValid},
      {"issued in the future", with("iat", now + 3600), Check::kNotYetValid},
      {"wrong iss", with("iss", "https://evil.example"), Check::kIssuer},
      {"wrong aud", with("aud", "https://tether.example/mcp/other"), Check::kAudience},
      {"no subject", with("sub", nullptr), Check::kSubject},
      {"alg none", testing::unsignedJwt(claims()), Check::kAlgorithm},
      {"alg none with a signature", testing::unsignedJwt(claims(), true), Check::kAlgorithm},
      {"HS256 keyed with the public key", testing::hs256WithPublicKey(rsa_, claims()),
       Check::kAlgorithm},
      {"signed by another key", testing::signJwt(stranger, claims()), Check::kSignature},
      {"RS256 header on a PS256 signature",
       [&] {
         auto t = testing::signJwt(rsa_, claims(), "PS256");
         auto h = testing::b64(R"({"alg":"RS256","kid":"k1"})");
         return h + t.substr(t.find('.'));
       }(),
       Check::kSignature},
      {"1 MiB token", std::string(1 << 20, 'a') + ".b.c", Check::kMalformed},
      {"malformed base64url", "eyJ+.eyJ.c2ln", Check::kMalformed},
      {"opaque without introspection", "opaque-token-value", Check::kMalformed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    expectRejected(run(*v, c.token), c.check);
  }
  // Within the skew both edges still pass.
  EXPECT_TRUE(run(*v, with("exp", now - 59)).ok());
  EXPECT_TRUE(run(*v, with("nbf", now + 59)).ok());
  // An audience array naming this resource passes.
  EXPECT_TRUE(run(*v, with("aud", boost::json::array{"x", kAudience})).ok());
}

TEST_F(ValidatorTest, RequiredScopesAreTheOnlyForbiddenAnswer) {
  ValidatorOptions o;
  o.required_scopes = {"mcp:tools", "mcp:admin"};
  auto v = make(o);
  expectRejected(run(*v, testing::signJwt(rsa_, claims())), Check::kScope);
  auto c = claims();
  c["scp"] = boost::json::array{"mcp:admin"};
  EXPECT_TRUE(run(*v, testing::signJwt(rsa_, c)).ok());
}

TEST_F(ValidatorTest, AFloodOfUnknownKidsFetchesAtMostOncePerInterval) {
  auto v = make();
  ASSERT_TRUE(run(*v, testing::signJwt(rsa_, claims())).ok());
  ASSERT_EQ(fetches_.load(), 1);
  // The first unknown kid within the interval is refused at once, without a fetch.
  for (int i = 0; i < 500; ++i) {
    boost::json::object header{{"kid", "attacker-" + std::to_string(i)}};
    expectRejected(run(*v, testing::signJwt(rsa_, claims(), "", header)), Check::kUnknownKey);
  }
  EXPECT_EQ(fetches_.load(), 1);
  clock_.advance(61s);
  for (int i = 0; i < 500; ++i) {
    boost::json::object header{{"kid", "again-" + std::to_string(i)}};
    expectRejected(run(*v, testing::signJwt(rsa_, claims(), "", header)), Check::kUnknownKey);
  }
  EXPECT_EQ(fetches_.load(), 2);
  EXPECT_EQ(v->jwksFetches(), 2u);
}

TEST_F(ValidatorTest, ARotatedKeyIsPickedUpOnItsFirstToken) {
  auto v = make();
  ASSERT_TRUE(run(*v, testing::signJwt(rsa_, claims())).ok());
  {
    std::lock_guard lock(mu_);
    jwks_ = testing::jwksJson({&rsa_, &rotated_});
  }
  clock_.advance(61s);
  auto r = run(*v, testing::signJwt(rotated_, claims()));
  EXPECT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(fetches_.load(), 2);
}

TEST_F(ValidatorTest, AnUnavailableJwksIsRefusedNotCrashed) {
  for (const std::string& doc : {std::string("<html>oops</html>"), std::string(R"({"keys":[]})"),
                                 std::string(300 * 1024, '{')}) {
    {
      std::lock_guard lock(mu_);
      jwks_ = doc;
    }
    auto v = make();
    expectRejected(run(*v, testing::signJwt(rsa_, claims())), Check::kKeysUnavailable);
  }
}

TEST_F(ValidatorTest, AnIssuerDownAtStartIsRetriedEveryFewSeconds) {
  {
    std::lock_guard lock(mu_);
    jwks_ = "503";
  }
  auto v = make();
  const std::string token = testing::signJwt(rsa_, claims());
  expectRejected(run(*v, token), Check::kKeysUnavailable);
  expectRejected(run(*v, token), Check::kKeysUnavailable);  // within 5 s: no new fetch
  EXPECT_EQ(fetches_.load(), 1);
  {
    std::lock_guard lock(mu_);
    jwks_ = testing::jwksJson({&rsa_});
  }
  clock_.advance(6s);
  EXPECT_TRUE(run(*v, token).ok());
  EXPECT_EQ(fetches_.load(), 2);
}

TEST_F(ValidatorTest, AnExecutorShuttingDownRunsTheFetchWithoutDeadlock) {
  pool_.shutdown();  // post() now runs tasks on the calling thread
  auto v = make();
  EXPECT_TRUE(run(*v, testing::signJwt(rsa_, claims())).ok());
}

TEST_F(ValidatorTest, IntrospectionIsCachedWithinTheTokensLifetime) {
  ValidatorOptions o;
  o.introspection = true;
  o.introspection_cache_ttl = 300s;
  auto v = make(o);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  introspection_answer_ = [now](const std::string& token) -> core::Result<std::string> {
    if (token == "good") {
      return boost::json::serialize(boost::json::object{
          {"active", true}, {"sub", "bob"}, {"aud", kAudience}, {"exp", now + 30}});
    }
    return std::string(R"({"active":false})");
  };
  auto r = run(*v, "good");
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ((*r)->subject, "bob");
  EXPECT_TRUE(run(*v, "good").ok());
  EXPECT_EQ(introspections_.load(), 1);  // cached
  expectRejected(run(*v, "good", "https://tether.example/mcp/other"), Check::kAudience);
  expectRejected(run(*v, "revoked"), Check::kInactive);
  // The cache never outlives the token's exp (30 s), although its TTL is 300 s.
  clock_.advance(31s);
  EXPECT_FALSE(v->tryValidate("good", kAudience).has_value());
}

}  // namespace
}  // namespace tether::identity
