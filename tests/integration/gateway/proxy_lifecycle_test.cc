// The data plane on the real token lifecycle (issue #7): MCP calls through the gateway to an
// upstream that checks tokens, the TokenSource refreshing at the mock IdP, and the IdP's own
// counters as the evidence for "exactly one refresh" and "no refresh storm".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "core/random.h"
#include "lifecycle/lifecycle.h"
#include "mockidp/mock_idp.h"
#include "oauth/pkce.h"
#include "support/raw_http.h"
#include "test_gateway.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr char kRedirect[] = "http://127.0.0.1/oauth/callback";

class ProxyLifecycleTest : public ::testing::Test {
 protected:
  enum class Upstream { kRejectFirstToken, kRejectAll };

  void SetUp() override {
    mockidp::MockIdpOptions o;
    o.settings.access_token_lifetime = std::chrono::hours(1);
    o.clients = {{"tether-client", "tether-secret", {}}};
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());

    upstream_routes_.add("POST", "/mcp", [this](http::Request& req, http::Responder r) {
      const std::string auth(req.header("Authorization").value_or(""));
      bool reject = false;
      {
        std::lock_guard lock(mu_);
        ++upstream_calls_;
        if (mode_ == Upstream::kRejectAll) {
          reject = true;
        } else if (first_token_.empty() || first_token_ == auth) {
          first_token_ = auth;
          reject = true;
        }
      }
      if (reject) {
        r.send(http::Response::json(401, R"({"error":"invalid_token"})"));
      } else {
        r.send(http::Response::json(200, R"({"jsonrpc":"2.0","id":7,"result":{"tools":[]}})"));
      }
    });
    http::ServerOptions so;
    so.port = 0;
    upstream_ = std::make_unique<http::Server>(so, upstream_routes_, nullptr);
    ASSERT_TRUE(upstream_->start().ok());

    dir_ = std::filesystem::temp_directory_path() / ("tether-gwlc-" + core::newId().substr(0, 10));
    std::filesystem::create_directories(dir_);
    store::SqliteOptions sq;
    sq.path = (dir_ / "t.db").string();
    store::StoreOptions so2;
    so2.backend = sq;
    so2.sealer = std::shared_ptr<const store::Sealer>(store::makePlaintextSealer());
    so2.clock = &clock_;
    store_ = store::openStore(std::move(so2)).value();
    recorder_ = std::make_unique<events::Recorder>(*store_, clock_, nullptr);

    lifecycle::ConnectionSpec spec;
    spec.key = key_;
    spec.oauth.token_url = idp_->tokenUrl();
    spec.oauth.client_id = "tether-client";
    spec.oauth.client_secret = "tether-secret";
    spec.oauth.use_proxy = false;
    lifecycle::LifecycleOptions lo;
    lo.owner = "gw-test";
    lifecycle_ = std::make_unique<lifecycle::Lifecycle>(std::vector{spec}, *store_, *http_,
                                                        *recorder_, clock_, nullptr, lo);
    lifecycle_->start(false);
    connect(spec.oauth);

    config::ConnectionConfig conn;
    conn.kind = config::ConnectionKind::kMcp;
    conn.name = "demo";
    conn.url = "http://127.0.0.1:" + std::to_string(upstream_->port()) + "/mcp";
    conn.auth.mode = config::AuthMode::kOAuth;
    conn.auth.oauth = config::OAuthConfig{};
    testing::GatewaySetup setup;
    setup.connections = {conn};
    setup.provider = lifecycle_->source(key_).get();
    setup.clock = &clock_;
    gateway_ = std::make_unique<testing::Gateway>(std::move(setup));
    // Past the invalidate window of the freshly connected token.
    clock_.advance(seconds(60));
  }

  void TearDown() override {
    gateway_.reset();
    lifecycle_->stop();
    upstream_->stop();
    idp_->stop();
    std::filesystem::remove_all(dir_);
  }

  void connect(const oauth::OAuthClientConfig& cfg) {
    const auto pkce = oauth::generatePkce();
    const std::string code = idp_->issueCode("tether-client", kRedirect, pkce.challenge);
    oauth::TokenEndpointClient client(*http_, cfg, clock_);
    auto grant = client.exchangeCode(code, pkce.verifier, kRedirect);
    ASSERT_TRUE(grant.ok());
    store::TokenRecord r;
    r.key = key_;
    r.access_token = grant.tokens->access_token;
    r.refresh_token = grant.tokens->refresh_token;
    r.expires_at = grant.tokens->access_expires_at;
    r.authenticated_at = clock_.now();
    ASSERT_TRUE(store_->putToken(r, 0).ok());
    lifecycle_->source(key_)->onConnected();
  }

  /// One MCP POST through the gateway; the raw response.
  std::string call() {
    const std::string body = R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})";
    tether::testing::RawConnection c(gateway_->port());
    c.send(
        "POST /mcp/demo HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        "Accept: application/json, text/event-stream\r\nConnection: close\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    c.readUntilClosed(seconds(10));
    return c.received();
  }

  uint64_t refreshes() const { return idp_->counter("requests.token.refresh_token"); }

  core::ManualClock clock_;
  store::ConnectionKey key_{"mcp", "demo"};
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<events::Recorder> recorder_;
  std::unique_ptr<lifecycle::Lifecycle> lifecycle_;
  http::Router upstream_routes_;
  std::unique_ptr<http::Server> upstream_;
  std::unique_ptr<testing::Gateway> gateway_;
  std::mutex mu_;
  Upstream mode_ = Upstream::kRejectFirstToken;
  std::string first_token_;
  int upstream_calls_ = 0;
};

TEST_F(ProxyLifecycleTest, Upstream401OnceMeansExactlyOneRefreshAndTheCallSucceeds) {
  const std::string raw = call();
  EXPECT_EQ(tether::testing::statusOf(raw), 200) << raw;
  EXPECT_THAT(raw, HasSubstr("\"tools\""));
  EXPECT_EQ(refreshes(), 1u);  // at the IdP
  std::lock_guard lock(mu_);
  EXPECT_EQ(upstream_calls_, 2);  // the call and its one replay
}

TEST_F(ProxyLifecycleTest, Upstream401AlwaysGivesAnActionableErrorAndNoRefreshStorm) {
  {
    std::lock_guard lock(mu_);
    mode_ = Upstream::kRejectAll;
  }
  for (int i = 0; i < 10; ++i) {
    const std::string raw = call();
    const int status = tether::testing::statusOf(raw);
    EXPECT_NE(status, 401) << "a bare 401 makes MCP clients start their own OAuth dance";
    EXPECT_EQ(status, 424) << raw;
    EXPECT_THAT(raw, HasSubstr("mcp/demo"));
    EXPECT_THAT(raw, HasSubstr("\"jsonrpc\":\"2.0\""));
    clock_.advance(seconds(1));
  }
  EXPECT_EQ(refreshes(), 1u);  // one refresh for the first rejection, then none
}

}  // namespace
}  // namespace tether
