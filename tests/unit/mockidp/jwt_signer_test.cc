#include "mockidp/jwt_signer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/digest.h"
#include "core/encoding.h"

namespace tether::mockidp {
namespace {

TEST(JwtSignerTest, TheKeyIdIsTheStartOfTheModulusDigestAndTokensCarryIt) {
  auto signer = JwtSigner::generate();
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  auto jwks = boost::json::parse((*signer)->jwksJson()).as_object();
  auto& key = jwks["keys"].as_array().at(0).as_object();
  auto n = core::base64Decode(std::string(key["n"].as_string()));
  ASSERT_TRUE(n.ok());
  // kid: base64url of the first 12 bytes of SHA-256 over the modulus (a stable thumbprint).
  const std::string expected = core::base64UrlEncode(core::sha256(*n).substr(0, 12));
  EXPECT_EQ((*signer)->keyId(), expected);
  EXPECT_EQ(key["kid"].as_string(), expected);
  EXPECT_EQ(key["alg"].as_string(), "RS256");

  const std::string token = (*signer)->sign(R"({"sub":"mock-user"})");
  auto header = core::base64Decode(token.substr(0, token.find('.')));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(boost::json::parse(*header).at("kid").as_string(), expected);
  EXPECT_EQ((*signer)->verify(token), R"({"sub":"mock-user"})");
  EXPECT_FALSE((*signer)->verify(token + "x").has_value());
}

}  // namespace
}  // namespace tether::mockidp
