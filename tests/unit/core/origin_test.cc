#include "core/origin.h"

#include <gtest/gtest.h>

namespace tether::core {
namespace {

// The one origin rule: the config loader validates allowed_origins with it and the gateway
// judges an Origin header with it, so what the file accepts is what a request matches.

TEST(NormalizeOriginTest, LowerCasesAndDropsTheSlash) {
  EXPECT_EQ(normalizeOrigin("HTTP://LocalHost:6274/").value(), "http://localhost:6274");
  EXPECT_EQ(normalizeOrigin("https://portal.example.com").value(), "https://portal.example.com");
  EXPECT_EQ(normalizeOrigin("http://[::1]:3000").value(), "http://[::1]:3000");
  for (const char* bad :
       {"http://localhost:6274/app", "http://localhost?x=1", "localhost:6274", "*", "null"}) {
    EXPECT_FALSE(normalizeOrigin(bad).ok()) << bad;
  }
}

// Moved from the gateway's client guard test (it returned "" where this returns an error).
TEST(NormalizeOriginTest, DropsTheDefaultPortAndRefusesNonOrigins) {
  EXPECT_EQ(normalizeOrigin("HTTP://LocalHost:80").value(), "http://localhost");
  EXPECT_EQ(normalizeOrigin("https://x.example:443/").value(), "https://x.example");
  EXPECT_EQ(normalizeOrigin("http://[::1]:6274").value(), "http://[::1]:6274");
  EXPECT_FALSE(normalizeOrigin("null").ok());
  EXPECT_FALSE(normalizeOrigin("file:///etc").ok());
  EXPECT_FALSE(normalizeOrigin("http://x/path").ok());
}

TEST(NormalizeOriginTest, OneSpellingPerOrigin) {
  // Whatever spelling the file or the browser uses, the same origin compares equal.
  EXPECT_EQ(normalizeOrigin("http://localhost:80/").value(),
            normalizeOrigin("http://LOCALHOST").value());
  EXPECT_EQ(normalizeOrigin("https://x.example:8443").value(), "https://x.example:8443");
  EXPECT_EQ(normalizeOrigin("http://x.example:443").value(), "http://x.example:443");
  EXPECT_EQ(normalizeOrigin("http://[0:0:0:0:0:0:0:1]:3000").value(), "http://[::1]:3000");
  EXPECT_EQ(normalizeOrigin("http://127.0.0.1:3000").value(), "http://127.0.0.1:3000");
  EXPECT_EQ(normalizeOrigin("http://x.example:0080").value(), "http://x.example");
}

TEST(NormalizeOriginTest, RefusesWhatIsNotAnHttpOrigin) {
  for (const char* bad :
       {"", "http://", "http://:80", "http://x:0", "http://x:99999", "http://user:pw@x.example",
        "http://x.example/#frag", "http://x.example#frag", "ws://x.example", "http://[v1.fe]",
        "https://x.example?"}) {
    auto n = normalizeOrigin(bad);
    EXPECT_FALSE(n.ok()) << bad;
    if (!n.ok()) {
      EXPECT_EQ(n.error().code, Errc::kInvalidArgument);
      EXPECT_EQ(n.error().message.find("user:pw"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace tether::core
