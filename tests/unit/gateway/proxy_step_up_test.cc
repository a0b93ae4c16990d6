// MCP step-up through the proxy: an upstream 403 with error="insufficient_scope" is told to
// the lifecycle and becomes an actionable error naming the connection, the scopes and its
// reconnect link; any other 403 is relayed untouched; hostile scope lists are refused.
#include <gtest/gtest.h>

// Designated initializers that leave members at their defaults read best for test setups.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <boost/json.hpp>

#include "gateway/proxy.h"
#include "gateway/step_up.h"
#include "unit/gateway/fake_token_provider.h"
#include "unit/gateway/proxy_fixture.h"

namespace tether::gateway {
namespace {

using namespace std::chrono_literals;
using namespace testing::proxy;
using testing::FakeTokenProvider;
namespace json = boost::json;

config::ConnectionConfig oauthMcp(std::string name, std::string url) {
  auto c = connection(config::ConnectionKind::kMcp, std::move(name), std::move(url),
                      config::AuthMode::kOAuth);
  c.auth.oauth = config::OAuthConfig{};
  return c;
}

Reply call(uint16_t port, int id) {
  Reply r = testing::proxy::fetch(port, "POST", "/mcp/demo", kMcpPostHeaders,
                                  jsonrpc(id, "tools/call"), 10s);
  EXPECT_TRUE(r.closed) << "no complete answer in time";
  return r;
}

std::string stepUpChallenge(const std::string& scope) {
  return "Bearer error=\"insufficient_scope\", scope=\"" + scope +
         "\", resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource\"";
}

TEST(ProxyStepUpTest, InsufficientScopeAsksTheLifecycleAndAnswersWithTheReconnectLink) {
  FakeTokenProvider tokens("tok-1", 7);
  tokens.setStepUp({lifecycle::StepUp::Kind::kReauth, "mcp:basic mcp:write", 1});
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(403, R"({"error":"insufficient_scope"})",
                        {{"WWW-Authenticate", stepUpChallenge("mcp:basic mcp:write")},
                         {"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = call(gw.port(), 31);
  EXPECT_EQ(r.status, 424) << r.raw;  // needs_reauth: never a bare 401 or 403 challenge
  EXPECT_FALSE(r.header("WWW-Authenticate"));
  EXPECT_EQ(tokens.step_up_calls.load(), 1);
  EXPECT_EQ(tokens.lastStepUp(), std::make_pair(int64_t{7}, std::string("mcp:basic mcp:write")));
  EXPECT_EQ(tokens.invalidate_calls.load(), 0);  // no refresh: a new consent is needed
  EXPECT_EQ(upstream.requests().size(), 1u);     // and no replay
  const auto doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("id").as_int64(), 31);
  const auto& error = doc.at("error").as_object();
  const std::string message(error.at("message").as_string());
  EXPECT_NE(message.find("mcp/demo"), std::string::npos) << message;
  EXPECT_NE(message.find("mcp:basic mcp:write"), std::string::npos) << message;
  EXPECT_NE(message.find("https://tether.example/portal/connections/mcp/demo"), std::string::npos);
  EXPECT_EQ(error.at("data").at("code").as_string(), "needs_reauth");
  EXPECT_EQ(error.at("data").at("reconnect_url").as_string(),
            "https://tether.example/portal/connections/mcp/demo");
}

TEST(ProxyStepUpTest, TheLoopBoundGivesAPermissionErrorThatSaysWhy) {
  FakeTokenProvider tokens("tok-1", 7);
  tokens.setStepUp({lifecycle::StepUp::Kind::kLimitReached, "mcp:admin", 3});
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(403, "", {{"WWW-Authenticate", stepUpChallenge("mcp:admin")}});
  }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = call(gw.port(), 32);
  EXPECT_EQ(r.status, 403) << r.raw;
  const auto doc = json::parse(r.body).as_object();
  const std::string message(doc.at("error").at("message").as_string());
  EXPECT_NE(message.find("after 3 insufficient_scope answers"), std::string::npos) << message;
  EXPECT_EQ(doc.at("error").at("data").at("code").as_string(), "permission_denied");
}

TEST(ProxyStepUpTest, AnyOther403IsRelayedAsTheUpstreamSentIt) {
  FakeTokenProvider tokens("tok-1", 7);
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(403, R"({"error":"forbidden by policy"})",
                        {{"WWW-Authenticate", "Bearer error=\"invalid_token\""},
                         {"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = call(gw.port(), 33);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"error":"forbidden by policy"})");
  EXPECT_EQ(tokens.step_up_calls.load(), 0);
}

TEST(ProxyStepUpTest, AStaticCredentialsInsufficientScopeIsRelayedUntouched) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(403, "no", {{"WWW-Authenticate", stepUpChallenge("admin")}});
  }));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply r = call(gw.port(), 34);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "no");
}

TEST(ProxyStepUpTest, FiveHundredScopesAreRefusedWithoutTouchingTheGrant) {
  FakeTokenProvider tokens("tok-1", 7);
  std::string many;
  for (int i = 0; i < 500; ++i) many += (i ? " s" : "s") + std::to_string(i);
  TestServer upstream(serveHttp([many](const ReceivedRequest&) {
    return httpResponse(403, "", {{"WWW-Authenticate", stepUpChallenge(many)}});
  }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = call(gw.port(), 35);
  EXPECT_EQ(r.status, 502) << r.raw;
  EXPECT_EQ(tokens.step_up_calls.load(), 0);
  const auto doc = json::parse(r.body).as_object();
  const std::string message(doc.at("error").at("message").as_string());
  EXPECT_NE(message.find("more than 100 scopes"), std::string::npos) << message;
  EXPECT_LT(message.size(), 600u);  // the list itself is never echoed
}

TEST(StepUpErrorTest, EachOutcomeNamesTheConnectionAndWhatToDo) {
  const oauth::InsufficientScope challenge{{"files:write"}, ""};
  const std::string url = "https://t.example/portal/connections/mcp/x";
  using K = lifecycle::StepUp::Kind;
  EXPECT_EQ(stepUpError({K::kStale, {}, 0}, challenge, "mcp/x", url).code,
            core::Errc::kTemporarilyUnavailable);
  EXPECT_EQ(stepUpError({K::kRefused, {}, 0}, challenge, "mcp/x", url).code,
            core::Errc::kUpstreamError);
  EXPECT_EQ(stepUpError({K::kUnsupported, {}, 0}, challenge, "mcp/x", url).code,
            core::Errc::kPermissionDenied);
  const auto reauth =
      stepUpError({K::kReauth, "files:read files:write", 1}, challenge, "mcp/x", url);
  EXPECT_EQ(reauth.code, core::Errc::kNeedsReauth);
  EXPECT_NE(reauth.message.find("\"files:read files:write\""), std::string::npos);
  EXPECT_NE(reauth.message.find(url), std::string::npos);
}

}  // namespace
}  // namespace tether::gateway
