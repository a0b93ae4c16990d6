// Standard Webhooks signing: the convention's published vector, secret shapes, ids.

#include "webhooks/signing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace tether::webhooks {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The example of the Standard Webhooks specification (and of its reference libraries).
TEST(SigningTest, MatchesTheStandardWebhooksVector) {
  auto key = signingKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(SigningTest, SignedContentIsIdDotTimestampDotBody) {
  EXPECT_EQ(signedContent("msg_1", 42, "{}"), "msg_1.42.{}");
}

TEST(SigningTest, RefusesOtherSecretShapesWithoutEchoingThem) {
  for (const char* bad : {"plain-NEVER-PRINT", "whsec_", "whsec_c2hvcnQ=", "whsec_!!NEVER-PRINT!!",
                          "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}) {
    auto key = signingKey(bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_THAT(key.error().message, HasSubstr("whsec_ followed by the Base64"));
    EXPECT_THAT(key.error().message, Not(HasSubstr("NEVER-PRINT")));
  }
}

TEST(SigningTest, MessageIdsAreUniqueAndShaped) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = newMessageId();
    EXPECT_EQ(id.size(), 30u);
    EXPECT_TRUE(id.starts_with("msg_"));
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace tether::webhooks
