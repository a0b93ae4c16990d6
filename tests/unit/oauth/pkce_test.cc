#include "oauth/pkce.h"

#include <gtest/gtest.h>

#include <set>

namespace tether::oauth {
namespace {

TEST(PkceTest, Rfc7636AppendixBVector) {
  EXPECT_EQ(s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(PkceTest, VerifierLengthAndAlphabet) {
  for (size_t len :
       {size_t{0}, size_t{43}, size_t{44}, size_t{64}, size_t{100}, size_t{128}, size_t{500}}) {
    const PkcePair p = generatePkce(len);
    EXPECT_GE(p.verifier.size(), 43u);
    EXPECT_LE(p.verifier.size(), 128u);
    if (len >= 43 && len <= 128) {
      EXPECT_EQ(p.verifier.size(), len);
    }
    EXPECT_TRUE(isValidVerifier(p.verifier)) << p.verifier;
    EXPECT_EQ(p.challenge, s256Challenge(p.verifier));
    EXPECT_EQ(p.challenge.size(), 43u);
  }
  EXPECT_EQ(generatePkce().verifier.size(), 64u);
}

TEST(PkceTest, VerifiersAreUnpredictable) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(generatePkce(43).verifier);
  EXPECT_EQ(seen.size(), 200u);
}

TEST(PkceTest, VerifierValidation) {
  EXPECT_TRUE(isValidVerifier(std::string(43, 'a')));
  EXPECT_TRUE(isValidVerifier(std::string(128, '~')));
  EXPECT_FALSE(isValidVerifier(std::string(42, 'a')));
  EXPECT_FALSE(isValidVerifier(std::string(129, 'a')));
  EXPECT_FALSE(isValidVerifier(std::string(43, '+')));
  EXPECT_FALSE(isValidVerifier(std::string(42, 'a') + "="));
}

}  // namespace
}  // namespace tether::oauth
