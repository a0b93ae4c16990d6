// tether_connect_flows_total{kind,name,outcome}: each way a connect flow's callback ends is
// counted once, under the configured connection, against the real mock IdP on loopback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/url/parse.hpp>

#include "flows/flows.h"
#include "mockidp/mock_idp.h"
#include "support/sealed_sqlite.h"

namespace tether {
namespace {

using std::chrono::minutes;
using ::testing::HasSubstr;

class FlowMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mockidp::MockIdpOptions o;
    o.clients = {{"tether-client", "tether-secret", {}}};
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());
    db_ = std::make_unique<testing::SealedSqlite>(clock_, "tether-flowmetrics-");
    recorder_ = std::make_unique<events::Recorder>(db_->store(), clock_, nullptr);
    flows::FlowConnection c;
    c.key = {"mcp", "demo"};
    c.upstream_url = "http://127.0.0.1:1/mcp";
    c.issuer = "http://127.0.0.1:" + std::to_string(idp_->port());
    c.oauth.use_proxy = false;
    c.oauth.client_id = "tether-client";
    c.oauth.client_secret = "tether-secret";
    c.oauth.client_auth = oauth::ClientAuthStyle::kBasic;
    c.client_id_configured = true;
    flows::FlowConnection machine = c;  // client_credentials: no browser flow, no series
    machine.key = {"api", "machine"};
    machine.client_credentials = true;
    flows::FlowOptions fo;
    fo.public_url = "http://127.0.0.1:9";  // the callback is called directly below
    flows_ = std::make_unique<flows::Flows>(std::vector<flows::FlowConnection>{c, machine},
                                            db_->store(), *http_, *recorder_, clock_, fo,
                                            flows::Flows::ConnectedHook{}, &metrics_);
  }
  void TearDown() override {
    flows_.reset();
    idp_->stop();
  }

  /// Starts a flow and lets the IdP approve it: the callback's query parameters.
  std::map<std::string, std::string> approved() {
    auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
    EXPECT_TRUE(started.ok()) << started.error().message;
    if (!started.ok()) return {};
    http::ClientRequest req;
    req.url = started->authorization_url;
    auto r = http_->send(req);
    EXPECT_EQ(r.response.status, 302);
    auto loc = http::findHeader(r.response.headers, "Location");
    EXPECT_TRUE(loc.has_value());
    std::map<std::string, std::string> query;
    if (!loc) return query;
    auto url = boost::urls::parse_uri(*loc);
    EXPECT_TRUE(url.has_value());
    for (auto p : url->params()) query[p.key] = p.value;
    return query;
  }

  double count(const std::string& outcome) {
    const std::string series =
        R"(tether_connect_flows_total{kind="mcp",name="demo",outcome=")" + outcome + "\"} ";
    const std::string text = metrics_.render();
    const auto pos = text.find(series);
    if (pos == std::string::npos) return -1;
    return std::stod(text.substr(pos + series.size()));
  }

  core::ManualClock clock_;
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::unique_ptr<testing::SealedSqlite> db_;
  std::unique_ptr<events::Recorder> recorder_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<flows::Flows> flows_;
};

TEST_F(FlowMetricsTest, EveryOutcomeStartsAtZeroForBrowserFlowsOnly) {
  for (const char* o : {"connected", "denied", "failed", "expired"}) EXPECT_EQ(count(o), 0) << o;
  EXPECT_THAT(metrics_.render(), HasSubstr("# TYPE tether_connect_flows_total counter"));
  EXPECT_THAT(metrics_.render(), ::testing::Not(HasSubstr("name=\"machine\"")));
}

TEST_F(FlowMetricsTest, ConnectedDeniedFailedAndExpiredAreEachCountedOnce) {
  auto query = approved();
  auto page = flows_->callback(query);
  EXPECT_EQ(page.status, 200) << page.html;
  EXPECT_EQ(flows_->callback(query).status, 400);  // a replayed state: refused, not counted
  EXPECT_EQ(count("connected"), 1);
  EXPECT_EQ(count("failed"), 0);

  query = approved();
  query.erase("code");
  query["error"] = "access_denied";
  EXPECT_EQ(flows_->callback(query).status, 400);
  EXPECT_EQ(count("denied"), 1);

  query = approved();
  query["iss"] = "https://attacker.example";
  EXPECT_EQ(flows_->callback(query).status, 400);
  EXPECT_EQ(count("failed"), 1);

  query = approved();
  clock_.advance(minutes(11));
  EXPECT_EQ(flows_->callback(query).status, 400);
  EXPECT_EQ(count("expired"), 1);

  EXPECT_EQ(count("connected"), 1);
  EXPECT_EQ(count("denied"), 1);
  EXPECT_EQ(count("failed"), 1);
}

}  // namespace
}  // namespace tether
