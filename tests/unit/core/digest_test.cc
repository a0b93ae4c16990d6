#include "core/digest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/encoding.h"

namespace tether::core {
namespace {

TEST(Digest, Sha256MatchesTheFips180TestVector) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("abc").size(), 32u);
  EXPECT_EQ(hexEncode(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Digest, HmacSha256MatchesRfc4231Case2) {
  EXPECT_EQ(hexEncode(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, ConstantTimeEqualComparesWholeValues) {
  EXPECT_TRUE(constantTimeEqual("secret", "secret"));
  EXPECT_FALSE(constantTimeEqual("secret", "secreT"));
  EXPECT_FALSE(constantTimeEqual("secret", "secret2"));
  EXPECT_FALSE(constantTimeEqual("", "x"));
  EXPECT_TRUE(constantTimeEqual("", ""));
}

struct Key {
  std::string id;
  std::string digest;
};

TEST(Digest, FindBySha256NamesTheKeyWhoseDigestMatches) {
  const std::vector<Key> keys{{"a", sha256("alpha")}, {"b", sha256("bravo")}};
  auto digest_of = [](const Key& k) -> const std::string& { return k.digest; };
  const Key* found = findBySha256(keys, "bravo", digest_of);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->id, "b");
  EXPECT_EQ(findBySha256(keys, "charlie", digest_of), nullptr);
  EXPECT_EQ(findBySha256(std::vector<Key>{}, "alpha", digest_of), nullptr);
}

}  // namespace
}  // namespace tether::core
