#include "core/encoding.h"

#include <gtest/gtest.h>

namespace tether::core {
namespace {

TEST(EncodingTest, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64Decode("Zm9vYg==").value(), "foob");
  EXPECT_EQ(base64Decode("-_8").value(), "\xfb\xff");
  EXPECT_FALSE(base64Decode("Zm9v!").ok());
  EXPECT_FALSE(base64Decode("Z").ok());
}

TEST(EncodingTest, HexRoundTripAndErrors) {
  EXPECT_EQ(hexEncode("\x01\xab"), "01ab");
  EXPECT_EQ(hexDecode("01AB").value(), "\x01\xab");
  EXPECT_FALSE(hexDecode("abc").ok());
  EXPECT_FALSE(hexDecode("zz").ok());
}

TEST(EncodingTest, FormEncodingKeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(formUrlEncode("+8r5xs3YLFC/LHK="), "%2B8r5xs3YLFC%2FLHK%3D");
  EXPECT_EQ(formUrlEncode("a b~"), "a+b~");
  EXPECT_EQ(percentEncode("a b"), "a%20b");
  EXPECT_EQ(formUrlDecode("%2B8r+x").value(), "+8r x");
  EXPECT_FALSE(formUrlDecode("%2").ok());
  EXPECT_FALSE(formUrlDecode("%zz").ok());
}

TEST(EncodingTest, CaseInsensitiveCompare) {
  EXPECT_TRUE(iequals("Content-Type", "content-type"));
  EXPECT_FALSE(iequals("Content-Type", "content-typ"));
  EXPECT_EQ(toLower("MiXeD"), "mixed");
}

}  // namespace
}  // namespace tether::core
