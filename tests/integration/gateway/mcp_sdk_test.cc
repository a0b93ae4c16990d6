// Real peers nobody here wrote: the official MCP TypeScript SDK as client and as upstream
// server (e2e/*.mjs, Node), with an in-process gateway between them whose fake token
// provider hands out the upstream's expected token. The client script prints a JSON report;
// the assertions are on it and on the upstream's own counters.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <sstream>

#include "support/process.h"
#include "support/raw_http.h"
#include "unit/gateway/fake_token_provider.h"
#include "unit/gateway/test_gateway.h"

// Designated initializers that leave members at their defaults read best for test setups.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace tether::gateway {
namespace {

using namespace std::chrono_literals;
using testing::FakeTokenProvider;
using testing::Gateway;
namespace json = boost::json;

constexpr std::string_view kClientKey = "e2e-gateway-client-key-0001";
constexpr std::string_view kUpstreamToken = "upstream-token-1";

bool isFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string findNode() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (isFile(dir + "/node")) return dir + "/node";
  }
  return {};
}

std::string e2e(const std::string& script) { return testing::sourceDir() + "/e2e/" + script; }

// A Node MCP upstream (e2e/mcp-upstream.mjs) on an ephemeral port.
class NodeUpstream {
 public:
  NodeUpstream(const std::string& node, std::vector<std::string> args) {
    std::vector<std::string> argv = {node, e2e("mcp-upstream.mjs"), "--port", "0", "--control"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = std::make_unique<testing::Child>(argv);
    if (!child_->waitForStderr("listening on http://", 20s)) {
      ADD_FAILURE() << "the Node upstream did not start: " << child_->err();
      return;
    }
    const std::string& err = child_->err();
    const size_t at = err.find("http://");
    url_ = err.substr(at, err.find_first_of("\r\n", at) - at);
    port_ = static_cast<uint16_t>(std::stoi(url_.substr(url_.rfind(':') + 1)));
  }

  const std::string& url() const { return url_; }

  json::object stats() {
    testing::RawConnection c(port_);
    c.send("GET /control/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.readUntilClosed(5s);
    const std::string body = testing::bodyOf(c.received());
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "bad stats: " << c.received();
      return {};
    }
    return v.as_object();
  }

 private:
  std::unique_ptr<testing::Child> child_;
  std::string url_;
  uint16_t port_ = 0;
};

class McpSdkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = findNode();
    ASSERT_FALSE(node_.empty()) << "node is not on PATH (scripts/install-deps.sh installs it)";
    ASSERT_TRUE(
        isFile(testing::sourceDir() + "/node_modules/@modelcontextprotocol/sdk/package.json"))
        << "the MCP SDK is not installed: run `npm ci` at the repository root "
           "(scripts/install-deps.sh does)";
  }

  json::object runClient(const std::string& url, std::string_view scenario,
                         std::string_view key = kClientKey) {
    std::vector<std::string> argv = {node_,        e2e("mcp-sdk-check.mjs"), "--url", url,
                                     "--scenario", std::string(scenario)};
    if (!key.empty()) {
      argv.push_back("--key");
      argv.push_back(std::string(key));
    }
    const auto r = testing::run(argv, {}, 60s);
    EXPECT_EQ(r.code, 0) << r.err;
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "no JSON report from the client; stdout: " << r.out << "\nstderr: " << r.err;
      return {};
    }
    return v.as_object();
  }

  static ProxyOptions withClientKey() {
    ProxyOptions options;
    config::AccessKey key;
    key.id = "client-1";
    key.key = std::string(kClientKey);
    options.client_keys = {key};
    return options;
  }

  static config::ConnectionConfig mcp(std::string name, std::string url, config::AuthMode mode) {
    config::ConnectionConfig c;
    c.kind = config::ConnectionKind::kMcp;
    c.name = std::move(name);
    c.url = std::move(url);
    c.auth.mode = mode;
    if (mode == config::AuthMode::kOAuth) c.auth.oauth = config::OAuthConfig{};
    return c;
  }

  static std::string gatewayUrl(const Gateway& gw, std::string_view name) {
    return "http://127.0.0.1:" + std::to_string(gw.port()) + "/mcp/" + std::string(name);
  }

  static std::vector<std::string> strings(const json::value& v) {
    std::vector<std::string> out;
    if (!v.is_array()) return out;
    for (const auto& e : v.as_array()) {
      out.push_back(e.is_string() ? std::string(e.as_string()) : json::serialize(e));
    }
    return out;
  }

  std::string node_;
};

TEST_F(McpSdkTest, FullSessionThroughTheGateway) {
  NodeUpstream upstream(node_, {"--token", std::string(kUpstreamToken)});
  ASSERT_FALSE(upstream.url().empty());
  // The upstream really requires its token: the client's own key is refused there.
  const auto direct = runClient(upstream.url(), "expect-error");
  ASSERT_TRUE(direct.contains("error")) << json::serialize(direct);
  EXPECT_EQ(direct.at("error").at("code").as_int64(), 401);

  FakeTokenProvider tokens(std::string(kUpstreamToken), 1);
  Gateway gw({.connections = {mcp("demo", upstream.url(), config::AuthMode::kOAuth)},
              .options = withClientKey(),
              .provider = &tokens});
  const auto report = runClient(gatewayUrl(gw, "demo"), "full");
  ASSERT_FALSE(report.contains("failed")) << json::serialize(report);

  const auto& init = report.at("initialize").as_object();
  EXPECT_EQ(init.at("server").at("name"), "tether-demo-upstream");
  EXPECT_TRUE(init.at("session_id").is_string());  // Mcp-Session-Id came back through us
  EXPECT_EQ(strings(report.at("tools")),
            (std::vector<std::string>{"ack", "add", "countdown", "echo", "lockstep", "whoami"}));
  EXPECT_EQ(report.at("echo"), "echo: through tether");
  EXPECT_EQ(report.at("add"), "42");
  // Each progress notification reached the client before the final answer; the lockstep
  // tool only produced the next one after the client had acknowledged the previous one.
  EXPECT_EQ(strings(report.at("lockstep")),
            (std::vector<std::string>{"progress:1", "progress:2", "progress:3",
                                      "result:done after 3 acknowledged steps"}));
  EXPECT_EQ(strings(report.at("countdown")),
            (std::vector<std::string>{"progress:1", "progress:2", "progress:3", "result:liftoff"}));
  EXPECT_EQ(report.at("resource"), "Hello from the Tether demo upstream");
  EXPECT_EQ(report.at("prompt"), "Summarize token refresh in one sentence.");
  EXPECT_EQ(report.at("delete").at("cleared"), true);
  EXPECT_EQ(report.at("after_delete").at("status").as_int64(), 404);

  auto stats = upstream.stats();
  EXPECT_EQ(stats.at("deletes").as_int64(), 1);
  EXPECT_EQ(stats.at("sessions_open").as_int64(), 0);
  EXPECT_GE(stats.at("by_method").at("GET").as_int64(), 1);  // the client's server stream
  // 1 direct attempt refused before the gateway run; none through the gateway.
  EXPECT_EQ(stats.at("unauthorized").as_int64(), 1);
  for (const auto& t : stats.at("tokens_seen").as_array()) {
    EXPECT_EQ(t.as_string(), kUpstreamToken);  // never the client's key
  }
  EXPECT_EQ(tokens.invalidate_calls.load(), 0);
}

TEST_F(McpSdkTest, StatelessJsonAnswersWithAStaticBearer) {
  NodeUpstream upstream(node_, {"--token", "static-secret-2", "--stateless", "--json-response"});
  ASSERT_FALSE(upstream.url().empty());
  auto conn = mcp("plain", upstream.url(), config::AuthMode::kBearer);
  conn.auth.bearer_token = "static-secret-2";
  Gateway gw({.connections = {conn}, .options = withClientKey()});
  const auto report = runClient(gatewayUrl(gw, "plain"), "basic");
  ASSERT_FALSE(report.contains("failed")) << json::serialize(report);
  EXPECT_TRUE(report.at("initialize").at("session_id").is_null());  // sessionless
  EXPECT_EQ(report.at("echo"), "echo: through tether");
  EXPECT_EQ(report.at("resource"), "Hello from the Tether demo upstream");
  EXPECT_EQ(report.at("prompt"), "Summarize token refresh in one sentence.");
}

TEST_F(McpSdkTest, UpstreamRejectsTheOldTokenOnceAndTheCallSucceeds) {
  NodeUpstream upstream(node_, {"--token", "rotated-token-2"});
  ASSERT_FALSE(upstream.url().empty());
  FakeTokenProvider tokens("revoked-token-1", 1);
  tokens.setRefreshTo("rotated-token-2", 2);
  Gateway gw({.connections = {mcp("demo", upstream.url(), config::AuthMode::kOAuth)},
              .options = withClientKey(),
              .provider = &tokens});
  const auto report = runClient(gatewayUrl(gw, "demo"), "basic");
  ASSERT_FALSE(report.contains("failed")) << json::serialize(report);
  EXPECT_EQ(report.at("echo"), "echo: through tether");
  EXPECT_EQ(tokens.invalidate_calls.load(), 1);
  EXPECT_EQ(upstream.stats().at("unauthorized").as_int64(), 1);
}

TEST_F(McpSdkTest, NeedsReauthReachesTheSdkClientWithThePortalUrl) {
  NodeUpstream upstream(node_, {"--token", std::string(kUpstreamToken)});
  ASSERT_FALSE(upstream.url().empty());
  FakeTokenProvider tokens;
  lifecycle::TokenError te;
  te.kind = lifecycle::TokenError::Kind::kNeedsReauth;
  te.reason = "invalid_grant";
  tokens.setError(te);
  Gateway gw({.connections = {mcp("demo", upstream.url(), config::AuthMode::kOAuth)},
              .options = withClientKey(),
              .provider = &tokens});
  const auto report = runClient(gatewayUrl(gw, "demo"), "expect-error");
  ASSERT_TRUE(report.contains("error")) << json::serialize(report);
  const auto& error = report.at("error").as_object();
  EXPECT_EQ(error.at("code").as_int64(), 424);  // not 401: no OAuth dance against us
  const std::string message(error.at("message").as_string());
  EXPECT_NE(message.find("mcp/demo"), std::string::npos) << message;
  EXPECT_NE(message.find("https://tether.example/portal/connections/mcp/demo"), std::string::npos)
      << message;
  EXPECT_NE(message.find("\"jsonrpc\":\"2.0\""), std::string::npos) << message;
  EXPECT_EQ(upstream.stats().at("requests").as_int64(), 0);
}

TEST_F(McpSdkTest, TemporarilyUnavailableReachesTheSdkClientAs503) {
  NodeUpstream upstream(node_, {"--token", std::string(kUpstreamToken)});
  ASSERT_FALSE(upstream.url().empty());
  FakeTokenProvider tokens;
  lifecycle::TokenError te;
  te.kind = lifecycle::TokenError::Kind::kTemporarilyUnavailable;
  te.reason = "http_503";
  te.retry_at = core::systemClock().now() + 30s;
  tokens.setError(te);
  Gateway gw({.connections = {mcp("demo", upstream.url(), config::AuthMode::kOAuth)},
              .options = withClientKey(),
              .provider = &tokens});
  const auto report = runClient(gatewayUrl(gw, "demo"), "expect-error");
  ASSERT_TRUE(report.contains("error")) << json::serialize(report);
  EXPECT_EQ(report.at("error").at("code").as_int64(), 503);
  const std::string message(report.at("error").at("message").as_string());
  EXPECT_NE(message.find("mcp/demo"), std::string::npos) << message;
}

}  // namespace
}  // namespace tether::gateway
