#include "gateway/header_policy.h"

#include <gtest/gtest.h>

#include "gateway/protocol.h"
#include "gateway/upstream_client.h"

namespace tether::gateway {
namespace {

bool has(const http::Headers& headers, std::string_view name) {
  return http::findHeader(headers, name).has_value();
}

TEST(HeaderPolicyTest, HopByHopNames) {
  for (auto name : kHopByHopHeaders) EXPECT_TRUE(isHopByHop(name)) << name;
  EXPECT_TRUE(isHopByHop("connection"));
  EXPECT_TRUE(isHopByHop("Proxy-Authorization"));
  EXPECT_TRUE(isHopByHop("proxy-connection"));
  EXPECT_FALSE(isHopByHop("Content-Type"));
  EXPECT_FALSE(isHopByHop("Mcp-Session-Id"));
}

TEST(HeaderPolicyTest, ConnectionNamesExtraHopByHopHeaders) {
  const http::Headers h = {{"Connection", "keep-alive, X-Hop ,x-other"}, {"X-Hop", "1"}};
  EXPECT_TRUE(namedByConnection(h, "x-hop"));
  EXPECT_TRUE(namedByConnection(h, "X-Other"));
  EXPECT_FALSE(namedByConnection(h, "X-Kept"));
}

TEST(HeaderPolicyTest, McpRelaysOnlyTheAllowList) {
  const http::Headers inbound = {
      {"Host", "gateway:8080"},
      {"Authorization", "Bearer client-key"},
      {"Cookie", "session=abc"},
      {"Origin", "http://localhost:6274"},
      {"Content-Type", "application/json"},
      {"Accept", "application/json, text/event-stream"},
      {"mcp-session-id", "s-1"},
      {"MCP-Protocol-Version", "2025-11-25"},
      {"Last-Event-ID", "42"},
      {"Mcp-Method", "tools/call"},
      {"Mcp-Name", "echo"},
      {"Connection", "keep-alive"},
      {"Transfer-Encoding", "chunked"},
      {"Proxy-Authorization", "Basic eA=="},
      {"X-Custom", "1"},
      {"User-Agent", "node"},
  };
  const auto out = upstreamRequestHeaders(Surface::kMcp, inbound);
  for (auto name : kMcpRequestHeaders) EXPECT_TRUE(has(out, name)) << name;
  EXPECT_EQ(out.size(), kMcpRequestHeaders.size());
  EXPECT_EQ(*http::findHeader(out, "Mcp-Session-Id"), "s-1");
}

TEST(HeaderPolicyTest, ApiRelaysAllButCredentialsFramingAndHopByHop) {
  const http::Headers inbound = {
      {"Host", "gateway:8080"},
      {"Authorization", "Bearer client-key"},
      {"Cookie", "a=b"},
      {"Origin", "http://localhost"},
      {"Content-Length", "12"},
      {"Transfer-Encoding", "chunked"},
      {"Expect", "100-continue"},
      {"Connection", "X-Hop"},
      {"X-Hop", "secret-hop"},
      {"Keep-Alive", "timeout=5"},
      {"Proxy-Authorization", "x"},
      {"TE", "trailers"},
      {"Upgrade", "websocket"},
      {"X-Request-Id", "client-chosen"},
      {"Accept", "application/json"},
      {"X-Custom", "kept"},
      {"Content-Type", "text/plain"},
  };
  const auto out = upstreamRequestHeaders(Surface::kApi, inbound);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(has(out, "Accept"));
  EXPECT_TRUE(has(out, "X-Custom"));
  EXPECT_TRUE(has(out, "Content-Type"));
}

TEST(HeaderPolicyTest, ResponseKeepsSessionAndDropsHopByHopAndChallenges) {
  http::Headers h = {
      {"Content-Type", "text/event-stream"},
      {"Mcp-Session-Id", "s-2"},
      {"Connection", "keep-alive, X-Internal"},
      {"X-Internal", "1"},
      {"Keep-Alive", "timeout=5"},
      {"Transfer-Encoding", "chunked"},
      {"Content-Length", "10"},
      {"WWW-Authenticate", "Bearer resource_metadata=\"x\""},
      {"X-Request-Id", "upstream-id"},
      {"Proxy-Authenticate", "Basic"},
      {"Cache-Control", "no-cache"},
  };
  filterResponseHeaders(h);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].name, "Content-Type");
  EXPECT_EQ(h[1].name, "Mcp-Session-Id");
  EXPECT_EQ(h[2].name, "Cache-Control");
}

TEST(HeaderPolicyTest, RelayPolicyDropsCookiesAndSniffingHintsInTheSamePass) {
  const http::Headers upstream = {
      {"Content-Type", "text/html"},
      {"Set-Cookie", "tether_session=forged"},
      {"set-cookie2", "old=1"},
      {"X-Content-Type-Options", "sniff-please"},
      {"Connection", "X-Internal"},
      {"X-Internal", "1"},
      {"Content-Security-Policy", "default-src 'self'"},
      {"WWW-Authenticate", "Bearer"},
  };
  http::Headers h = upstream;
  relayResponseHeaders(h, false);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].name, "Content-Type");
  EXPECT_EQ(h[1].name, "Content-Security-Policy");  // the upstream's own policy stays

  http::Headers opted = upstream;
  relayResponseHeaders(opted, true);
  ASSERT_EQ(opted.size(), 4u);
  EXPECT_EQ(opted[1].value, "tether_session=forged");
  EXPECT_EQ(opted[2].value, "old=1");
}

TEST(HeaderPolicyTest, RelayPolicyLinesAreTheSandboxAndNosniffFields) {
  std::string expected;
  ASSERT_TRUE(appendHeaderLine(expected, kContentTypeOptions, "nosniff"));
  ASSERT_TRUE(appendHeaderLine(expected, kContentSecurityPolicy, kRelayedContentPolicy));
  EXPECT_EQ(kRelayPolicyHeaderLines, expected);
}

TEST(HeaderPolicyTest, RelayedHeadersAreSerializedWithoutTheCredentialHeader) {
  const http::Headers inbound = {
      {"X-Api-Key", "client-supplied"},
      {"Accept", "*/*"},
      {"x-api-key", "again"},
      {"X-Trace", "t-1"},
  };
  std::string lines;
  forEachUpstreamRequestHeader(Surface::kApi, inbound, "X-Api-Key", [&](const http::Header& h) {
    EXPECT_TRUE(appendHeaderLine(lines, h.name, h.value));
  });
  EXPECT_EQ(lines, "Accept: */*\r\nX-Trace: t-1\r\n");
}

TEST(HeaderPolicyTest, HeaderLinesRefuseWhatCouldSplitTheRequest) {
  std::string lines;
  EXPECT_FALSE(appendHeaderLine(lines, "X-Ok", "a\r\nInjected: 1"));
  EXPECT_FALSE(appendHeaderLine(lines, "Bad Name", "v"));
  EXPECT_FALSE(appendHeaderLine(lines, "", "v"));
  EXPECT_TRUE(lines.empty());
  EXPECT_TRUE(appendHeaderLine(lines, "X-Ok", "tab\tand obs-text \xe9"));
  EXPECT_EQ(lines, "X-Ok: tab\tand obs-text \xe9\r\n");
}

// The checks work eight bytes at a time: every forbidden byte at every position of names and
// values up to 40 bytes long, against the byte-by-byte rule.
TEST(HeaderPolicyTest, HeaderValidityAtEveryPositionAndByte) {
  for (size_t len = 1; len <= 40; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'a');
        s[pos] = static_cast<char>(b);
        const auto c = static_cast<unsigned char>(b);
        const bool name_ok = c > 0x20 && c < 0x7f && c != ':';
        const bool value_ok = c != '\r' && c != '\n' && c != 0;
        ASSERT_EQ(http::validHeaderName(s), name_ok) << len << " " << pos << " " << b;
        ASSERT_EQ(http::validHeaderValue(s), value_ok) << len << " " << pos << " " << b;
      }
    }
  }
  EXPECT_FALSE(http::validHeaderName(""));
  EXPECT_TRUE(http::validHeaderValue(""));
}

}  // namespace
}  // namespace tether::gateway
