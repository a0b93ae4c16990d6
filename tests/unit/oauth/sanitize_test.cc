#include "oauth/sanitize.h"

#include <gtest/gtest.h>

namespace tether::oauth {
namespace {

bool isValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

TEST(SanitizeTest, PlainCodesPassUnchanged) {
  EXPECT_EQ(sanitizeIdpString("invalid_grant"), "invalid_grant");
  EXPECT_EQ(sanitizeIdpString("Token is not active"), "Token is not active");
  EXPECT_EQ(sanitizeIdpString("Zürich ✓"), "Zürich ✓");
  EXPECT_EQ(sanitizeIdpString(""), "");
}

TEST(SanitizeTest, FiveKilobyteCodeIsCutTo200Bytes) {
  const std::string code(5 * 1024, 'x');
  const std::string out = sanitizeIdpString(code);
  EXPECT_EQ(out, std::string(200, 'x'));
}

TEST(SanitizeTest, CrLfAndAnsiEscapesAreDropped) {
  EXPECT_EQ(sanitizeIdpString("invalid_grant\r\nX-Injected: 1"), "invalid_grantX-Injected: 1");
  EXPECT_EQ(sanitizeIdpString("\x1b[31minvalid_grant\x1b[0m"), "invalid_grant");
  EXPECT_EQ(sanitizeIdpString("\x1b[2J\x1b[1;1Hfake"), "fake");
  // A lone ESC (not a complete sequence) is dropped, the rest stays visible.
  EXPECT_EQ(sanitizeIdpString("a\x1b"
                              "b"),
            "ab");
  EXPECT_EQ(sanitizeIdpString(std::string("a\0b\tc\x7f"
                                          "d",
                                          7)),
            "abcd");
  // C1 controls (U+0085 NEL, U+009B CSI) and bidi overrides (U+202E) are dropped too.
  EXPECT_EQ(sanitizeIdpString("a\xc2\x85"
                              "b\xc2\x9b"
                              "c\xe2\x80\xae"
                              "d"),
            "abcd");
}

TEST(SanitizeTest, InvalidUtf8BytesAreDropped) {
  EXPECT_EQ(sanitizeIdpString("ab\xff\xfe"
                              "c\xc3"),
            "abc");
  EXPECT_EQ(sanitizeIdpString("\xc0\xaf"), "");        // overlong '/'
  EXPECT_EQ(sanitizeIdpString("\xed\xa0\x80x"), "x");  // UTF-16 surrogate
}

TEST(SanitizeTest, UrlShapedContentIsReplaced) {
  EXPECT_EQ(sanitizeIdpString("https://evil.example/phish?x=1"), "[url]");
  EXPECT_EQ(sanitizeIdpString("see http://a.b/c for details"), "see [url] for details");
  EXPECT_EQ(sanitizeIdpString("javascript://%0aalert(1)"), "[url]");
  // Control characters cannot hide a URL from the check: they go first.
  EXPECT_EQ(sanitizeIdpString("ht\x1btp:/\r/x.y"), "[url]");
  EXPECT_EQ(sanitizeIdpString("ratio 1:2"), "ratio 1:2");
}

TEST(SanitizeTest, MultiByteCodeIsCutOnACharacterBoundary) {
  std::string code;
  for (int i = 0; i < 100; ++i) code += "€";  // 3 bytes each: 300 bytes
  const std::string out = sanitizeIdpString(code);
  EXPECT_EQ(out.size(), 198u);  // 66 whole characters; 200 would split the 67th
  EXPECT_TRUE(isValidUtf8(out));
  std::string emoji = "x";
  for (int i = 0; i < 60; ++i) emoji += "😀";  // 4 bytes each
  const std::string cut = sanitizeIdpString(emoji);
  EXPECT_LE(cut.size(), 200u);
  EXPECT_EQ(cut.size(), 197u);
  EXPECT_TRUE(isValidUtf8(cut));
}

TEST(SanitizeTest, HugeInputIsBounded) {
  std::string huge(10 << 20, '\n');
  huge += "tail";
  EXPECT_EQ(sanitizeIdpString(huge), "");  // only the first 64 KiB are looked at
}

}  // namespace
}  // namespace tether::oauth
