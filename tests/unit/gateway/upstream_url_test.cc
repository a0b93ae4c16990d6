#include "gateway/upstream_url.h"

#include <gtest/gtest.h>

namespace tether::gateway {
namespace {

TEST(UpstreamUrlTest, ParsesOriginAndBase) {
  auto e = parseUpstreamUrl("https://API.Example.com/v1/mcp?tenant=7");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->origin.tls);
  EXPECT_EQ(e->origin.host, "api.example.com");
  EXPECT_EQ(e->origin.port, 443);
  EXPECT_FALSE(e->origin.host_is_ip);
  EXPECT_EQ(e->origin.host_header, "api.example.com");
  EXPECT_EQ(e->base_path, "/v1/mcp");
  EXPECT_EQ(e->base_query, "tenant=7");
  EXPECT_EQ(mcpTarget(*e), "/v1/mcp?tenant=7");
}

TEST(UpstreamUrlTest, PortsIpLiteralsAndKeys) {
  auto a = parseUpstreamUrl("http://127.0.0.1:9100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->origin.host_header, "127.0.0.1:9100");
  EXPECT_TRUE(a->origin.host_is_ip);
  EXPECT_EQ(a->base_path, "/");
  auto b = parseUpstreamUrl("http://[::1]:8443/x", "/ca.pem");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->origin.host, "::1");
  EXPECT_EQ(b->origin.host_header, "[::1]:8443");
  EXPECT_NE(a->origin.key, b->origin.key);
  auto c = parseUpstreamUrl("http://127.0.0.1:9100/other");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(a->origin.key, c->origin.key);  // same origin, same pool
  auto d = parseUpstreamUrl("http://127.0.0.1:80/");
  EXPECT_EQ(d->origin.host_header, "127.0.0.1");
}

TEST(UpstreamUrlTest, RejectsWhatCannotBeAnUpstream) {
  EXPECT_FALSE(parseUpstreamUrl("ftp://x/").ok());
  EXPECT_FALSE(parseUpstreamUrl("not a url").ok());
  EXPECT_FALSE(parseUpstreamUrl("https://user:pw@x/").ok());
}

TEST(UpstreamUrlTest, ApiRemainderKeepsTheRawPath) {
  EXPECT_EQ(apiRemainder("/api/github"), "");
  EXPECT_EQ(apiRemainder("/api/github/"), "/");
  EXPECT_EQ(apiRemainder("/api/github/repos/a%2Fb/issues"), "/repos/a%2Fb/issues");
}

TEST(UpstreamUrlTest, ApiTargetJoinsPathAndQuery) {
  auto e = parseUpstreamUrl("https://api.example.com/v3/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*apiTarget(*e, "/repos/x", "page=2"), "/v3/repos/x?page=2");
  EXPECT_EQ(*apiTarget(*e, "", ""), "/v3/");
  auto root = parseUpstreamUrl("https://api.example.com?key=1");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*apiTarget(*root, "/a/", "b=2"), "/a/?key=1&b=2");
  EXPECT_EQ(*apiTarget(*root, "/a", ""), "/a?key=1");
}

TEST(UpstreamUrlTest, ApiTargetRefusesDotSegments) {
  auto e = parseUpstreamUrl("https://api.example.com/v3");
  ASSERT_TRUE(e.ok());
  for (const char* bad : {"/../admin", "/a/./b", "/a/..", "/%2e%2e/x", "/.%2E/x", "/%2E"}) {
    auto t = apiTarget(*e, bad, "");
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.error().code, core::Errc::kInvalidArgument);
    }
  }
  EXPECT_TRUE(apiTarget(*e, "/...", "").ok());
  EXPECT_TRUE(apiTarget(*e, "/a..b/.well-known", "").ok());
}

TEST(UpstreamUrlTest, ApiTargetRefusesEncodedSeparatorsAndBackslashes) {
  auto e = parseUpstreamUrl("https://api.example.com/v3");
  ASSERT_TRUE(e.ok());
  for (const char* bad : {"/a%2fb", "/..%2Fadmin", "/%2e%2e%2f", "/..%5cx", "/a%5Cb", "/a\\b"}) {
    auto t = apiTarget(*e, bad, "");
    EXPECT_FALSE(t.ok()) << bad;
  }
  EXPECT_TRUE(apiTarget(*e, "/a%2", "").ok());  // too short to be an escape: passed on as is
  EXPECT_TRUE(apiTarget(*e, "/a%20b", "x=%2F").ok());
}

TEST(UpstreamUrlTest, RequestTargetMustBePlainAsciiWithoutFragment) {
  EXPECT_TRUE(checkRequestTarget("/api/x/a%C3%A9?q=%23").ok());
  for (const char* bad : {"/api/x/a#b", "/api/x?q#", "/api/x/caf\xc3\xa9", "/api/x/\x7f",
                          "/api/x/a\tb", "/api/x/a b"}) {
    auto st = checkRequestTarget(bad);
    EXPECT_FALSE(st.ok()) << bad;
  }
}

}  // namespace
}  // namespace tether::gateway
