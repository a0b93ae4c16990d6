#include "gateway/error_reply.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace tether::gateway {
namespace {

namespace json = boost::json;

TEST(ErrorReplyTest, JsonRpcIdIsCopiedWhenParsable) {
  EXPECT_EQ(jsonRpcId(R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})"), "7");
  EXPECT_EQ(jsonRpcId(R"({"jsonrpc":"2.0","id":"abc","method":"x"})"), R"("abc")");
  EXPECT_EQ(jsonRpcId(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"), "null");
  EXPECT_EQ(jsonRpcId(R"([{"jsonrpc":"2.0","id":1,"method":"x"}])"), "null");
  EXPECT_EQ(jsonRpcId("{not json"), "null");
  EXPECT_EQ(jsonRpcId(R"({"id":{"nested":1}})"), "null");
  EXPECT_EQ(jsonRpcId(""), "null");
}

TEST(ErrorReplyTest, NeedsReauthAsJsonRpcNamesTheConnectionAndPortal) {
  lifecycle::TokenError te;
  te.kind = lifecycle::TokenError::Kind::kNeedsReauth;
  te.reason = "invalid_grant";
  const std::string url = reconnectUrl("https://tether.example/", "mcp", "github");
  EXPECT_EQ(url, "https://tether.example/portal/connections/mcp/github");
  const core::Error e = tokenError(te, {"mcp", "github"}, url);
  EXPECT_EQ(e.code, core::Errc::kNeedsReauth);
  ErrorShape shape;
  shape.jsonrpc = true;
  shape.request_body = R"({"jsonrpc":"2.0","id":"r1","method":"tools/call"})";
  shape.connection = "mcp/github";
  shape.reconnect_url = url;
  const auto r = errorResponse(e, shape);
  EXPECT_EQ(r.status, 424);
  EXPECT_NE(r.status, 401);
  const auto doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("jsonrpc"), "2.0");
  EXPECT_EQ(doc.at("id"), "r1");
  const auto& err = doc.at("error").as_object();
  EXPECT_EQ(err.at("code").as_int64(), -32012);
  const std::string message(err.at("message").as_string());
  EXPECT_NE(message.find("mcp/github"), std::string::npos);
  EXPECT_NE(message.find(url), std::string::npos);
  EXPECT_EQ(err.at("data").at("reconnect_url").as_string(), url);
  EXPECT_EQ(err.at("data").at("code"), "needs_reauth");
}

TEST(ErrorReplyTest, TemporarilyUnavailableCarriesRetryAfter) {
  const core::TimePoint now = core::fromUnixSeconds(1'800'000'000);
  lifecycle::TokenError te;
  te.kind = lifecycle::TokenError::Kind::kTemporarilyUnavailable;
  te.reason = "http_503";
  te.retry_at = now + std::chrono::milliseconds(41'200);
  EXPECT_EQ(retryAfterSeconds(te, now), 42);
  te.retry_at = now - std::chrono::seconds(3);
  EXPECT_EQ(retryAfterSeconds(te, now), 1);
  te.retry_at.reset();
  EXPECT_EQ(retryAfterSeconds(te, now), std::nullopt);

  ErrorShape shape;
  shape.connection = "api/crm";
  shape.retry_after_seconds = 42;
  const auto r = errorResponse(tokenError(te, {"api", "crm"}, ""), shape);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(*http::findHeader(r.headers, "Retry-After"), "42");
  const auto doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("error").at("code"), "temporarily_unavailable");
  EXPECT_EQ(doc.at("error").at("connection"), "api/crm");
  EXPECT_EQ(doc.at("error").at("retry_after").as_int64(), 42);
}

}  // namespace
}  // namespace tether::gateway
