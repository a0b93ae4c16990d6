#include "identity/jwk.h"

#include <gtest/gtest.h>

#include "support/jwt_signer.h"

namespace tether::identity {
namespace {

using testing::TestKey;

TEST(JwkTest, VerifiesEachAlgorithmAndRefusesTampering) {
  const TestKey rsa(TestKey::Type::kRsa, "r");
  const TestKey ec(TestKey::Type::kEc, "e");
  const TestKey ed(TestKey::Type::kEd25519, "d");
  auto set = JwkSet::parse(testing::jwksJson({&rsa, &ec, &ed}));
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->size(), 3u);
  struct Case {
    const TestKey* key;
    std::string alg;
  };
  for (const Case& c :
       std::vector<Case>{{&rsa, "RS256"}, {&rsa, "PS256"}, {&ec, "ES256"}, {&ed, "EdDSA"}}) {
    const std::string input = "header.payload";
    const std::string sig = c.key->sign(c.alg, input);
    auto alg = algFromName(c.alg);
    ASSERT_TRUE(alg);
    auto keys = set->candidates(c.key->kid(), *alg);
    ASSERT_EQ(keys.size(), 1u) << c.alg;
    EXPECT_TRUE(keys[0]->verify(*alg, input, sig)) << c.alg;
    EXPECT_FALSE(keys[0]->verify(*alg, "header.payloaD", sig)) << c.alg;
    std::string bad = sig;
    bad[bad.size() / 2] ^= 1;
    EXPECT_FALSE(keys[0]->verify(*alg, input, bad)) << c.alg;
    EXPECT_FALSE(keys[0]->verify(*alg, input, "")) << c.alg;
  }
  // A key is never used with an algorithm of another type.
  EXPECT_TRUE(set->candidates("r", Alg::kES256).empty());
  EXPECT_TRUE(set->candidates("e", Alg::kRS256).empty());
}

TEST(JwkTest, NeverAcceptsNoneOrHmac) {
  for (const char* name : {"none", "HS256", "HS384", "HS512", "RS384", "", "rs256"}) {
    EXPECT_FALSE(algFromName(name)) << name;
  }
}

TEST(JwkTest, SkipsUnusableKeysAndRefusesBadSets) {
  const TestKey rsa(TestKey::Type::kRsa, "r");
  boost::json::object enc = rsa.jwk();
  enc["use"] = "enc";
  boost::json::object hmac{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "h"}};
  boost::json::object small{{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}, {"kid", "s"}};
  boost::json::object good = rsa.jwk();
  boost::json::object doc{{"keys", boost::json::array{enc, hmac, small, good}}};
  auto set = JwkSet::parse(boost::json::serialize(doc));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->size(), 1u);

  EXPECT_FALSE(JwkSet::parse("not json").ok());
  EXPECT_FALSE(JwkSet::parse(R"({"keys":{}})").ok());
  EXPECT_FALSE(JwkSet::parse(R"({"keys":[]})").ok());
  EXPECT_FALSE(JwkSet::parse(std::string(kMaxJwksBytes + 1, ' ')).ok());
  boost::json::array many;
  for (int i = 0; i < 65; ++i) many.push_back(good);
  EXPECT_FALSE(JwkSet::parse(boost::json::serialize(boost::json::object{{"keys", many}})).ok());
  // An EC point off the curve is not a key.
  boost::json::object off{{"kty", "EC"},
                          {"crv", "P-256"},
                          {"x", testing::b64(std::string(32, 1))},
                          {"y", testing::b64(std::string(32, 2))}};
  EXPECT_FALSE(JwkSet::parse(boost::json::serialize(boost::json::object{{"keys", {off}}})).ok());
}

}  // namespace
}  // namespace tether::identity
