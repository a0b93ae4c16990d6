#include "oauth/metadata.h"

#include <gtest/gtest.h>

#include "oauth/discovery.h"

namespace tether::oauth {
namespace {

using core::Errc;

TEST(MetadataUrls, ProtectedResourcePathFormThenRoot) {
  EXPECT_EQ(protectedResourceMetadataUrls("https://mcp.example.com/v1/mcp"),
            (std::vector<std::string>{
                "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource"}));
  EXPECT_EQ(
      protectedResourceMetadataUrls("http://127.0.0.1:9100/"),
      (std::vector<std::string>{"http://127.0.0.1:9100/.well-known/oauth-protected-resource"}));
  EXPECT_TRUE(protectedResourceMetadataUrls("not a url").empty());
}

TEST(MetadataUrls, AuthorizationServerFormsInTheSpecOrder) {
  EXPECT_EQ(authorizationServerMetadataUrls("https://auth.example.com/tenant1"),
            (std::vector<std::string>{
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration"}));
  EXPECT_EQ(
      authorizationServerMetadataUrls("https://auth.example.com/"),
      (std::vector<std::string>{"https://auth.example.com/.well-known/oauth-authorization-server",
                                "https://auth.example.com/.well-known/openid-configuration"}));
  EXPECT_TRUE(authorizationServerMetadataUrls("https://auth.example.com/?x=1").empty());
  EXPECT_TRUE(authorizationServerMetadataUrls("https://auth.example.com/#f").empty());
}

TEST(AuthorizationServerMetadata, ParsesWhatTetherUses) {
  auto m = parseAuthorizationServerMetadata(
      R"({"issuer":"https://a.example/t","authorization_endpoint":"https://a.example/t/auth",
          "token_endpoint":"https://a.example/t/token","registration_endpoint":"https://a.example/r",
          "revocation_endpoint":"https://a.example/t/revoke",
          "code_challenge_methods_supported":["plain","S256"],"scopes_supported":["a","b"],
          "authorization_response_iss_parameter_supported":true,"unknown":{"x":1}})",
      "https://a.example/t/");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->token_endpoint, "https://a.example/t/token");
  EXPECT_EQ(m->registration_endpoint, "https://a.example/r");
  EXPECT_EQ(m->revocation_endpoint, "https://a.example/t/revoke");
  EXPECT_TRUE(m->iss_parameter_supported);
  EXPECT_TRUE(requireS256(*m).ok());
}

TEST(AuthorizationServerMetadata, IssuerThatDiffersIsRefusedNamingBoth) {
  auto m = parseAuthorizationServerMetadata(
      R"({"issuer":"https://evil.example","authorization_endpoint":"https://e/a","token_endpoint":"https://e/t"})",
      "https://a.example");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, Errc::kInvalidArgument);
  EXPECT_NE(m.error().message.find("https://evil.example"), std::string::npos);
  EXPECT_NE(m.error().message.find("https://a.example"), std::string::npos);
}

TEST(AuthorizationServerMetadata, MissingOrMistypedMembersAreNamed) {
  auto no_token = parseAuthorizationServerMetadata(
      R"({"issuer":"https://a","authorization_endpoint":"https://a/x"})", "https://a");
  ASSERT_FALSE(no_token.ok());
  EXPECT_NE(no_token.error().message.find("token_endpoint"), std::string::npos);
  auto typed = parseAuthorizationServerMetadata(
      R"({"issuer":"https://a","authorization_endpoint":"https://a/x","token_endpoint":"https://a/t",
          "code_challenge_methods_supported":"S256"})",
      "https://a");
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(typed.error().message.find("code_challenge_methods_supported"), std::string::npos);
  EXPECT_FALSE(parseAuthorizationServerMetadata("<html>", "https://a").ok());
  EXPECT_FALSE(parseAuthorizationServerMetadata("[1]", "https://a").ok());
}

TEST(AuthorizationServerMetadata, WithoutS256TheFlowIsRefused) {
  AuthorizationServerMetadata m;
  m.issuer = "https://a.example";
  m.code_challenge_methods_supported = {"plain"};
  auto st = requireS256(m);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("S256"), std::string::npos);
  m.code_challenge_methods_supported.clear();  // absent: no PKCE advertised
  EXPECT_FALSE(requireS256(m).ok());
}

TEST(ProtectedResourceMetadata, ParsesAndChecksMembers) {
  auto m = parseProtectedResourceMetadata(
      R"({"resource":"https://mcp.example/mcp","authorization_servers":["https://a.example"],
          "scopes_supported":["mcp:tools"]})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->authorization_servers.front(), "https://a.example");
  EXPECT_EQ(m->scopes_supported.front(), "mcp:tools");
  EXPECT_FALSE(parseProtectedResourceMetadata(R"({"authorization_servers":[]})").ok());
  auto bad = parseProtectedResourceMetadata(R"({"resource":"x","authorization_servers":[1]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("authorization_servers"), std::string::npos);
}

TEST(ResourceCovers, SameOriginAndPathPrefixOnASegmentBoundary) {
  EXPECT_TRUE(resourceCovers("https://mcp.example/mcp", "https://mcp.example/mcp"));
  EXPECT_TRUE(resourceCovers("https://MCP.example", "https://mcp.example/mcp"));
  EXPECT_TRUE(resourceCovers("https://mcp.example/", "https://mcp.example/mcp"));
  EXPECT_TRUE(resourceCovers("https://mcp.example/v1", "https://mcp.example/v1/mcp"));
  EXPECT_FALSE(resourceCovers("https://mcp.example/v1", "https://mcp.example/v10/mcp"));
  EXPECT_FALSE(resourceCovers("https://other.example/mcp", "https://mcp.example/mcp"));
  EXPECT_FALSE(resourceCovers("http://mcp.example/mcp", "https://mcp.example/mcp"));
  EXPECT_FALSE(resourceCovers("https://mcp.example:8443/mcp", "https://mcp.example/mcp"));
}

TEST(DiscoveryPolicy, HttpsEverywhereHttpOnlyOnLoopback) {
  DiscoveryPolicy open;
  EXPECT_TRUE(checkDiscoveryUrl("https://auth.example.com/x", open, "issuer").ok());
  auto plain = checkDiscoveryUrl("http://auth.example.com/x", open, "issuer");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("plain http"), std::string::npos);
  EXPECT_FALSE(checkDiscoveryUrl("ftp://auth.example.com/x", open, "issuer").ok());
  EXPECT_FALSE(checkDiscoveryUrl("https://user:pw@auth.example.com/", open, "issuer").ok());
  EXPECT_FALSE(checkDiscoveryUrl("https://auth.example.com/#f", open, "issuer").ok());
}

TEST(DiscoveryPolicy, InternalAddressesNeedToBeConfiguredOrAllowed) {
  DiscoveryPolicy open;
  open.own_hosts = {"127.0.0.1"};
  EXPECT_TRUE(checkDiscoveryUrl("http://127.0.0.1:9/x", open, "issuer").ok());
  for (const char* url :
       {"http://127.0.0.2:9/x", "https://10.1.2.3/", "https://169.254.169.254/latest",
        "https://192.168.1.1/", "https://172.16.0.1/", "https://[::1]/", "https://[fe80::1]/",
        "https://[::ffff:10.0.0.1]/", "https://0.0.0.0/", "http://localhost:1/"}) {
    auto st = checkDiscoveryUrl(url, open, "authorization server");
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_NE(st.error().message.find("discovery.allowed_hosts"), std::string::npos) << url;
  }
  EXPECT_TRUE(checkDiscoveryUrl("https://172.32.0.1/", open, "x").ok());  // public
}

TEST(DiscoveryPolicy, AnAllowListLimitsEveryOtherHost) {
  DiscoveryPolicy listed;
  listed.own_hosts = {"mcp.example.com"};
  listed.allowed_hosts = {"auth.example.com", "127.0.0.2"};
  EXPECT_TRUE(checkDiscoveryUrl("https://auth.example.com/", listed, "x").ok());
  EXPECT_TRUE(checkDiscoveryUrl("https://mcp.example.com/", listed, "x").ok());
  EXPECT_TRUE(checkDiscoveryUrl("http://127.0.0.2:80/", listed, "x").ok());
  auto other = checkDiscoveryUrl("https://idp.other.com/", listed, "authorization server");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("idp.other.com"), std::string::npos);
  EXPECT_NE(other.error().message.find("not in discovery.allowed_hosts"), std::string::npos);
}

// Issue 20, 8: IP literals in forms boost::urls reads as names but libcurl connects to.
TEST(DiscoveryPolicy, NonCanonicalAndEmbeddedAddressesAreRefused) {
  DiscoveryPolicy open;
  const std::pair<const char*, const char*> cases[] = {
      {"https://0x7f000002/", "loopback address 127.0.0.2"},
      {"https://2130706434/", "loopback address 127.0.0.2"},
      {"https://0177.0.0.2/", "loopback address 127.0.0.2"},
      {"https://127.2/", "loopback address 127.0.0.2"},
      {"https://0xa9.254.169.254/", "link-local address 169.254.169.254"},
      {"https://%31%32%37.0.0.1/", "loopback address 127.0.0.1"},
      {"https://[::127.0.0.2]/", "127.0.0.2"},
      {"https://[::ffff:127.0.0.2]/", "loopback address"},
      {"https://[::ffff:a9fe:a9fe]/", "link-local address"},
      {"https://[64:ff9b::7f00:2]/", "loopback address"},
      {"https://[64:ff9b::a00:1]/", "private address"},
      {"https://[2002:7f00:2::1]/", "loopback address"},
      {"https://[fc00::1]/", "unique-local address"},
      {"https://100.64.0.1/", "shared address"},
      {"https://0.1.2.3/", "address"},
      {"https://224.0.0.1/", "multicast address"},
      {"https://255.255.255.255/", "broadcast address"},
  };
  for (const auto& [url, why] : cases) {
    auto st = checkDiscoveryUrl(url, open, "authorization server");
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_NE(st.error().message.find(why), std::string::npos) << url << ": " << st.error().message;
    EXPECT_NE(st.error().message.find("discovery.allowed_hosts"), std::string::npos) << url;
  }
  // Public addresses in the same forms stay usable.
  EXPECT_TRUE(checkDiscoveryUrl("https://[64:ff9b::808:808]/", open, "x").ok());
  EXPECT_TRUE(checkDiscoveryUrl("https://[2606:4700::1111]/", open, "x").ok());
}

// Issue 20, 8: a host boost::urls reads as 127.0.0.1 and libcurl resolves by name.
TEST(DiscoveryPolicy, AHostTheTwoParsersReadDifferentlyIsRefused) {
  DiscoveryPolicy listed;
  listed.allowed_hosts = {"127.0.0.1"};
  for (const char* url : {"http://127.0.0.1.evil.example/x", "https://127.0.0.1.evil.example/",
                          "http://127.0.0.1./x"}) {
    auto st = checkDiscoveryUrl(url, listed, "authorization server");
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_NE(st.error().message.find("127.0.0.1."), std::string::npos) << st.error().message;
  }
  DiscoveryPolicy open;
  EXPECT_FALSE(checkDiscoveryUrl("https://127.0.0.1.evil.example/", open, "x").ok());
  EXPECT_TRUE(checkDiscoveryUrl("http://127.0.0.1:9/x", listed, "x").ok());
}

}  // namespace
}  // namespace tether::oauth
