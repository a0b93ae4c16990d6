// /metrics of the real `tether serve` as Prometheus scrapes it: every family the alert rules
// and the dashboard need exists with the right TYPE, the per-connection gauges follow a real
// connect (mock IdP process) and an admin token delete, and every family named by
// deploy/prometheus/alerts.yaml and deploy/grafana/tether-dashboard.json is one the binary
// exports (the dashboard's PromQL also goes through promtool's parser).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "http/http_client.h"
#include "support/process.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using ::testing::HasSubstr;
using testing::sourceDir;

const std::string kAdminKey = "metrics-admin-key-0123456789abcdef";

// The families of issue 19 (and those the dashboard draws) with their Prometheus type.
const std::map<std::string, std::string> kFamilies = {
    {"tether_connection_state", "gauge"},
    {"tether_connection_failure_reason", "gauge"},
    {"tether_token_expiry_timestamp_seconds", "gauge"},
    {"tether_refresh_deadline_timestamp_seconds", "gauge"},
    {"tether_keeper_heartbeat_timestamp_seconds", "gauge"},
    {"tether_keeper_interval_seconds", "gauge"},
    {"tether_keeper_lag_seconds", "histogram"},
    {"tether_connect_flows_total", "counter"},
    {"tether_oauth_refresh_total", "counter"},
    {"tether_oauth_refresh_duration_seconds", "histogram"},
};

// Produced by the webhook worker (s6-webhooks branch). Until it is merged they are checked
// only when the binary exports them.
const std::map<std::string, std::string> kWebhookFamilies = {
    {"tether_webhook_deliveries_total", "counter"},
    {"tether_webhook_queue_depth", "gauge"},
};
constexpr bool kRequireWebhookFamilies = true;

/// family -> type, from the "# TYPE" lines.
std::map<std::string, std::string> typesOf(const std::string& text) {
  std::map<std::string, std::string> out;
  static const std::regex re(R"(^# TYPE (\S+) (\S+)$)", std::regex::multiline);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

std::optional<double> sample(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const auto pos = text.find(needle);
  if (pos == std::string::npos) return std::nullopt;
  return std::stod(text.substr(pos + needle.size()));
}

/// Every tether_* name in `text`, with a histogram's _bucket/_sum/_count mapped to its family.
std::set<std::string> familiesNamedIn(const std::string& text) {
  std::set<std::string> out;
  static const std::regex re(R"(tether_[a-z_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) &&
          kFamilies.contains(name.substr(0, name.size() - strlen(suffix))))
        name.resize(name.size() - strlen(suffix));
    }
    out.insert(name);
  }
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("tether-metrics-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (serve_) {
      serve_->signal(SIGTERM);
      EXPECT_EQ(serve_->wait(seconds(15)), 0);
    }
    serve_.reset();
    std::filesystem::remove_all(dir_);
  }

  struct Reply {
    int status = 0;
    std::string body;
  };
  Reply request(const std::string& method, const std::string& path, bool follow = false) {
    http::ClientRequest req;
    req.method = method;
    req.url = path.starts_with("http") ? path : base_ + path;
    req.follow_redirects = follow;
    if (path.starts_with("/api/")) req.headers = {{"Authorization", "Bearer " + kAdminKey}};
    auto r = http_->send(req);
    return r.ok() ? Reply{r.response.status, r.response.body} : Reply{};
  }

  std::string scrape() {
    auto r = request("GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }

  /// Scrapes (bounded) until `series` has `value`: the snapshot is cached for a second.
  bool waitFor(const std::string& series, double value) {
    for (int i = 0; i < 100; ++i) {
      if (sample(scrape(), series) == value) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  /// The alert rules' and the dashboard's PromQL name only `exported` families, and the
  /// dashboard's queries parse (promtool checks them as recording rules).
  void checkQueriesUse(const std::set<std::string>& exported) {
    const YAML::Node rules = YAML::LoadFile(sourceDir() + "/deploy/prometheus/alerts.yaml");
    int alert_rules = 0;
    for (const auto& group : rules["groups"]) {
      for (const auto& rule : group["rules"]) {
        ++alert_rules;
        for (const auto& family : familiesNamedIn(rule["expr"].as<std::string>())) {
          EXPECT_TRUE(exported.contains(family))
              << rule["alert"].as<std::string>() << " queries unknown family " << family;
        }
      }
    }
    EXPECT_GE(alert_rules, 6);

    const auto dashboard =
        boost::json::parse(readFile(sourceDir() + "/deploy/grafana/tether-dashboard.json"));
    std::ofstream recording(dir_ / "dashboard_rules.yaml");
    recording << "groups:\n  - name: dashboard\n    rules:\n";
    int queries = 0;
    for (const auto& panel : dashboard.at("panels").as_array()) {
      const auto* targets = panel.as_object().if_contains("targets");
      if (!targets) continue;
      for (const auto& target : targets->as_array()) {
        std::string expr(target.at("expr").as_string());
        for (const auto& family : familiesNamedIn(expr)) {
          EXPECT_TRUE(exported.contains(family))
              << "dashboard panel " << panel.at("title") << " queries unknown family " << family;
        }
        expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "5m");
        std::replace(expr.begin(), expr.end(), '\n', ' ');
        recording << "      - record: dashboard_query_" << ++queries
                  << "\n        expr: |\n          " << expr << "\n";
      }
    }
    recording.close();
    EXPECT_GE(queries, 10);
    auto checked =
        testing::run({TETHER_PROMTOOL, "check", "rules", (dir_ / "dashboard_rules.yaml").string()});
    EXPECT_EQ(checked.code, 0) << checked.out << checked.err;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Child> serve_;
  std::string base_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
};

TEST_F(MetricsTest, EveryFamilyExistsWithItsTypeAndFollowsAConnection) {
  Child idp({binaryDir() + "/tether-mock-idp", "--port", "0", "--client",
             "tether-client:metrics-secret", "--refresh-token-lifetime", "30d"});
  ASSERT_TRUE(idp.waitForStdout("listening on ", seconds(30))) << idp.err();
  ASSERT_TRUE(idp.waitForStdout("\n", seconds(5)));
  std::smatch m;
  const std::string idp_out = idp.out();
  ASSERT_TRUE(std::regex_search(idp_out, m, std::regex(R"(listening on (\S+))")));
  const std::string issuer = m[1];

  const auto cfg = dir_ / "tether.yaml";
  std::ofstream(cfg) << "listen: 127.0.0.1:0\nlog: { level: info }\n"
                     << "storage: { driver: sqlite, path: " << (dir_ / "t.db").string() << " }\n"
                     << "encryption: { key: \"" << std::string(64, 'a') << "\" }\n"
                     << "admin: { keys: [ \"" << kAdminKey << "\" ] }\nconnections:\n"
                     << "  - kind: mcp\n    name: demo\n    url: http://127.0.0.1:1/mcp\n"
                     << "    auth:\n      mode: oauth\n      issuer: " << issuer
                     << "\n      client_id: tether-client\n"
                     << "      client_secret: metrics-secret\n";
  serve_ = std::make_unique<Child>(
      std::vector<std::string>{binaryDir() + "/tether", "serve", "--config", cfg.string()});
  const uint16_t port = testing::waitListening(*serve_);
  ASSERT_NE(port, 0) << serve_->err();
  base_ = "http://127.0.0.1:" + std::to_string(port);
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    ready = request("GET", "/readyz").status == 200;
    if (!ready) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(ready) << serve_->err();

  const std::string conn = R"(kind="mcp",name="demo")";
  const std::string connected = "tether_connection_state{" + conn + ",state=\"connected\"}";
  const std::string not_connected = "tether_connection_state{" + conn + ",state=\"not_connected\"}";
  EXPECT_TRUE(waitFor(not_connected, 1));
  EXPECT_EQ(sample(scrape(), connected), 0);

  // Connect through the mock IdP (it approves at once), then refresh once.
  auto started = request("POST", "/api/v1/admin/connections/mcp/demo/oauth/start");
  ASSERT_EQ(started.status, 200) << started.body;
  const std::string url(boost::json::parse(started.body).at("authorization_url").as_string());
  EXPECT_EQ(request("GET", url, /*follow=*/true).status, 200);
  auto refreshed = request("POST", "/api/v1/admin/connections/mcp/demo/oauth/refresh");
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;

  ASSERT_TRUE(waitFor(connected, 1)) << scrape();
  const std::string text = scrape();
  EXPECT_EQ(sample(text, not_connected), 0);
  EXPECT_EQ(sample(text, "tether_connect_flows_total{" + conn + ",outcome=\"connected\"}"), 1);
  EXPECT_EQ(sample(text, "tether_connect_flows_total{" + conn + ",outcome=\"denied\"}"), 0);
  const double now = static_cast<double>(::time(nullptr));
  const auto expiry = sample(text, "tether_token_expiry_timestamp_seconds{" + conn + "}");
  ASSERT_TRUE(expiry.has_value()) << text;
  EXPECT_NEAR(*expiry, now + 3600, 120);
  const auto deadline = sample(text, "tether_refresh_deadline_timestamp_seconds{" + conn + "}");
  ASSERT_TRUE(deadline.has_value()) << text;
  EXPECT_NEAR(*deadline, now + 30 * 86400, 600);
  EXPECT_NEAR(sample(text, "tether_keeper_heartbeat_timestamp_seconds").value_or(0), now, 600);

  // Each family, with its type.
  const auto types = typesOf(text);
  for (const auto& [family, type] : kFamilies) {
    auto it = types.find(family);
    ASSERT_NE(it, types.end()) << family << " is missing from /metrics";
    EXPECT_EQ(it->second, type) << family;
  }
  for (const auto& [family, type] : kWebhookFamilies) {
    auto it = types.find(family);
    if (it == types.end()) {
      EXPECT_FALSE(kRequireWebhookFamilies) << family << " is missing from /metrics";
      continue;
    }
    EXPECT_EQ(it->second, type) << family;
  }
  // No per-user or caller-chosen label: every state series names a configured connection.
  EXPECT_THAT(text, ::testing::Not(HasSubstr("subject=")));

  // An operator deletes the token: the gauge says so within the snapshot's second.
  EXPECT_EQ(request("DELETE", "/api/v1/admin/connections/mcp/demo/oauth/token").status, 200);
  EXPECT_TRUE(waitFor(not_connected, 1)) << scrape();
  EXPECT_FALSE(sample(scrape(), "tether_token_expiry_timestamp_seconds{" + conn + "}"));

  // Every family the alert rules and the dashboard query is one this binary exports.
  std::set<std::string> exported;
  for (const auto& [family, _] : types) exported.insert(family);
  for (const auto& [family, _] : kWebhookFamilies) {
    if (!kRequireWebhookFamilies) exported.insert(family);
  }
  checkQueriesUse(exported);
}

}  // namespace
}  // namespace tether
