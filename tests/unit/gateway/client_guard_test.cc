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

namespace tether::gateway {
namespace {

TEST(HostGuardTest, AcceptsTheListenerNamesOnly) {
  HostGuard g({"10.0.0.5", 8080}, "https://Tether.Example.com",
              {"tether.internal", "ops.example:9000", "[fe80::1]"});
  for (const char* ok : {"10.0.0.5:8080", "127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080",
                         "[::1]:8080", "[0:0:0:0:0:0:0:1]:8080", "localhost", "tether.example.com",
                         "tether.example.com:443", "tether.internal:1234", "tether.internal",
                         "ops.example:9000", "ops.example", "[fe80::1]:80"}) {
    EXPECT_TRUE(g.allowed(ok)) << ok;
  }
  for (const char* bad :
       {"rebound.test", "rebound.test:8080", "127.0.0.1:9999", "localhost:8081", "10.0.0.5:81",
        "ops.example:9001", "", "user@localhost:8080", "localhost:", "localhost:99999",
        "127.0.0.1.evil.example:8080", "2130706433:8080", "tether.example.com.evil:443",
        "[v1.x]:8080", "local host:8080"}) {
    EXPECT_FALSE(g.allowed(bad)) << bad;
  }
}

TEST(HostGuardTest, WildcardListenAndPortZero) {
  HostGuard wildcard({"0.0.0.0", 8080}, "http://127.0.0.1:8080", {});
  EXPECT_FALSE(wildcard.allowed("0.0.0.0:8080"));
  EXPECT_TRUE(wildcard.allowed("127.0.0.1:8080"));
  EXPECT_FALSE(wildcard.allowed("192.168.1.10:8080"));
  HostGuard any_port({"127.0.0.1", 0}, "http://127.0.0.1:0", {});
  EXPECT_TRUE(any_port.allowed("127.0.0.1:41234"));
  EXPECT_TRUE(any_port.allowed("localhost:5"));
  EXPECT_FALSE(any_port.allowed("rebound.test:41234"));
}

TEST(HostGuardTest, MissingHostPassesAndARefusalNamesTheRule) {
  HostGuard g({"127.0.0.1", 8080}, "http://127.0.0.1:8080", {});
  EXPECT_TRUE(g.check({}).ok());
  auto st = g.check({{"Host", "evil\x7f.example:8080" + std::string(500, 'x')}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, core::Errc::kPermissionDenied);
  EXPECT_NE(st.error().message.find("server.allowed_hosts"), std::string::npos);
  EXPECT_NE(st.error().message.find("evil?.example"), std::string::npos) << st.error().message;
  EXPECT_LT(st.error().message.size(), 400u);
}

TEST(HostGuardTest, CrossSiteFetchesAreRefused) {
  EXPECT_TRUE(checkFetchSite({}).ok());
  EXPECT_TRUE(checkFetchSite({{"Sec-Fetch-Site", "same-origin"}}).ok());
  EXPECT_TRUE(checkFetchSite({{"Sec-Fetch-Site", "none"}}).ok());
  EXPECT_FALSE(checkFetchSite({{"Sec-Fetch-Site", "cross-site"}}).ok());
  EXPECT_FALSE(checkFetchSite({{"sec-fetch-site", "Cross-Site"}}).ok());
}

}  // namespace
}  // namespace tether::gateway
