#include "gateway/client_guard.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

namespace tether::gateway {
namespace {

config::AccessKey keyOf(const std::string& key, bool hash_only = false) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d);
  config::AccessKey k;
  k.id = "client-1";
  if (!hash_only) k.key = key;
  k.sha256 = std::string(reinterpret_cast<char*>(d), sizeof d);
  return k;
}

TEST(ClientGuardTest, NormalizesOrigins) {
  EXPECT_EQ(normalizeOrigin("HTTP://LocalHost:80"), "http://localhost");
  EXPECT_EQ(normalizeOrigin("https://x.example:443/"), "https://x.example");
  EXPECT_EQ(normalizeOrigin("http://[::1]:6274"), "http://[::1]:6274");
  EXPECT_EQ(normalizeOrigin("null"), "");
  EXPECT_EQ(normalizeOrigin("file:///etc"), "");
  EXPECT_EQ(normalizeOrigin("http://x/path"), "");
}

TEST(ClientGuardTest, EmptyListAllowsLoopbackAndThePortalOnly) {
  ClientGuard g({}, {}, "https://tether.example.com");
  EXPECT_TRUE(g.originAllowed("http://localhost:6274"));
  EXPECT_TRUE(g.originAllowed("http://127.0.0.1:3000"));
  EXPECT_TRUE(g.originAllowed("http://[::1]:3000"));
  EXPECT_TRUE(g.originAllowed("http://app.localhost"));
  EXPECT_TRUE(g.originAllowed("https://tether.example.com"));
  EXPECT_FALSE(g.originAllowed("https://evil.example"));
  EXPECT_FALSE(g.originAllowed("http://localhost.evil.example"));
  EXPECT_FALSE(g.originAllowed("null"));
  EXPECT_TRUE(g.check({}).ok());  // no Origin: a non-browser client
  auto st = g.check({{"Origin", "https://evil.example"}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, core::Errc::kPermissionDenied);
}

TEST(ClientGuardTest, ExplicitListReplacesTheLoopbackDefault) {
  ClientGuard g({}, {"https://app.example"}, "http://127.0.0.1:8080");
  EXPECT_TRUE(g.originAllowed("https://app.example:443"));
  EXPECT_FALSE(g.originAllowed("http://localhost:6274"));
  EXPECT_TRUE(g.originAllowed("http://127.0.0.1:8080"));  // the portal itself
}

TEST(ClientGuardTest, KeysAreCheckedWhenConfigured) {
  const std::string key = "client-key-0123456789abcdef";
  ClientGuard g({keyOf("other-key-0123456789"), keyOf(key, /*hash_only=*/true)}, {}, "");
  EXPECT_TRUE(g.requiresKey());
  EXPECT_TRUE(g.keyAccepted("Bearer " + key));
  EXPECT_TRUE(g.keyAccepted("bearer " + key));
  EXPECT_FALSE(g.keyAccepted("Bearer " + key + "x"));
  EXPECT_FALSE(g.keyAccepted("Basic " + key));
  EXPECT_FALSE(g.keyAccepted("Bearer "));
  auto missing = g.check({});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, core::Errc::kUnauthenticated);
  auto wrong = g.check({{"Authorization", "Bearer nope"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message.find("nope"), std::string::npos);
  EXPECT_TRUE(g.check({{"authorization", "Bearer " + key}}).ok());
}

TEST(ClientGuardTest, NoKeysMeansNoAuthentication) {
  ClientGuard g({}, {}, "");
  EXPECT_FALSE(g.requiresKey());
  EXPECT_TRUE(g.check({{"Authorization", "Bearer anything"}}).ok());
}

}  // namespace
}  // namespace tether::gateway
