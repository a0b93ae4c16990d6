// The live connection set in-process (app/live_connections.h), under concurrent use: callers
// and the admin API read while apply() swaps sets (also run under ThreadSanitizer). After
// each apply, what a caller sees is the new set.
#include "app/live_connections.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "app/app.h"
#include "config/config.h"
#include "core/clock.h"
#include "integration/app/loopback_upstream.h"
#include "lifecycle/token_source.h"
#include "support/raw_http.h"

namespace tether::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kAdminKey = "live-connections-admin-key-01";

config::ConnectionConfig api(std::string name, uint16_t port) {
  config::ConnectionConfig c;
  c.kind = config::ConnectionKind::kApi;
  c.name = std::move(name);
  c.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  return c;
}

config::ConnectionConfig oauth(std::string scopes) {
  config::ConnectionConfig c;
  c.kind = config::ConnectionKind::kMcp;
  c.name = "demo";
  c.url = "http://127.0.0.1:9/mcp";
  c.auth.mode = config::AuthMode::kOAuth;
  c.auth.oauth.emplace();
  c.auth.oauth->authorization_url = "http://127.0.0.1:9/authorize";
  c.auth.oauth->token_url = "http://127.0.0.1:9/token";
  c.auth.oauth->client_id = "demo";
  c.auth.oauth->scopes = std::move(scopes);
  return c;
}

std::string call(uint16_t port, const std::string& target, bool admin = false) {
  testing::RawConnection c(port);
  std::string head = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nConnection: close\r\n";
  if (admin) head += "Authorization: Bearer " + std::string(kAdminKey) + "\r\n";
  c.send(head + "\r\n");
  c.readUntilClosed(seconds(10));
  return c.received();
}

class LiveConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("tether-live-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string yaml =
        "listen: 127.0.0.1:0\nstorage: {path: \"" + (dir_ / "tether.db").string() +
        "\", allow_plaintext: true}\nadmin: {keys: [\"" + std::string(kAdminKey) + "\"]}\n";
    auto loaded = config::parseConfig(yaml, "live_test.yaml", {});
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    config_ = std::move(loaded).value().config;
    config_.connections = {api("echo", a_.port()), oauth("read")};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  config::Config config_;
  testing::Upstream a_{"upstream-a"};
  testing::Upstream b_{"upstream-b"};
};

TEST_F(LiveConnectionsTest, CallersAndTheAdminApiSeeEachAppliedSetWhileSetsChange) {
  core::ManualClock clock(core::TimePoint(seconds(1'900'000'000)));
  Process process(config_, clock);
  ASSERT_TRUE(process.start().ok());
  const auto ready_by = std::chrono::steady_clock::now() + seconds(20);
  while (!process.ready() && std::chrono::steady_clock::now() < ready_by) {
    std::this_thread::sleep_for(milliseconds(10));  // waiting for the store to open
  }
  ASSERT_TRUE(process.ready());
  const uint16_t port = process.port();
  ASSERT_THAT(call(port, "/api/echo/1"), HasSubstr("upstream-a /1"));

  // Callers and the admin list run throughout; every answer is one of the sets' answers.
  std::atomic<bool> done{false};
  std::atomic<int> calls{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&, t] {
      while (!done.load()) {
        const std::string r =
            t == 0 ? call(port, "/api/echo/x") : call(port, "/api/v1/admin/connections", true);
        const int status = testing::statusOf(r);
        if (status != 200 && status != 404) unexpected.fetch_add(1);
        calls.fetch_add(1);
      }
    });
  }
  const std::vector<std::vector<config::ConnectionConfig>> sets = {
      {api("echo", b_.port()), oauth("read write"), api("extra", a_.port())},
      {api("echo", a_.port())},
      {api("echo", b_.port()), oauth("read")},
  };
  for (int round = 0; round < 12; ++round) {
    const auto& set = sets[static_cast<size_t>(round) % sets.size()];
    auto diff = process.connections().apply(set);
    ASSERT_TRUE(diff.ok()) << diff.error().message;
    EXPECT_FALSE(diff->empty());
    EXPECT_EQ(process.connections().current()->connections.size(), set.size());
    // Right after apply() returns, a new call sees the new set.
    const bool on_b = set[0].url == api("echo", b_.port()).url;
    EXPECT_THAT(call(port, "/api/echo/y"), HasSubstr(on_b ? "upstream-b /y" : "upstream-a /y"));
    const bool has_demo = set.size() > 1 && set[1].name == "demo";
    const std::string demo = call(port, "/mcp/demo");
    EXPECT_EQ(testing::statusOf(demo) == 404, !has_demo) << demo;
    const std::string list = call(port, "/api/v1/admin/connections", true);
    EXPECT_EQ(list.find("\"demo\"") != std::string::npos, has_demo) << list;
    EXPECT_EQ(list.find("\"extra\"") != std::string::npos, set.size() == 3) << list;
  }
  done = true;
  for (auto& t : callers) t.join();
  EXPECT_GT(calls.load(), 0);
  EXPECT_EQ(unexpected.load(), 0);

  // A list naming one connection twice, or with an unusable URL, changes nothing.
  auto twice = process.connections().apply({api("echo", a_.port()), api("echo", b_.port())});
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.error().message, HasSubstr("api/echo is listed twice"));
  auto bad = api("echo", a_.port());
  bad.url = "ftp://127.0.0.1/";
  auto unusable = process.connections().apply({bad});
  ASSERT_FALSE(unusable.ok());
  EXPECT_THAT(unusable.error().message, HasSubstr("api/echo"));
  EXPECT_THAT(call(port, "/api/echo/z"), HasSubstr("upstream-b /z"));
  EXPECT_THAT(call(port, "/mcp/demo"), Not(HasSubstr("404 Not Found")));
  process.stop();
}

// One change among many connections costs one of everything (not one per running
// connection): a replica applying N changes one by one does O(N) work, not O(N^2).
TEST_F(LiveConnectionsTest, OneChangeAmongFiveHundredBuildsOneAndWritesOne) {
  core::ManualClock clock(core::TimePoint(seconds(1'900'000'000)));
  Process process(config_, clock);
  ASSERT_TRUE(process.start().ok());
  const auto ready_by = std::chrono::steady_clock::now() + seconds(20);
  while (!process.ready() && std::chrono::steady_clock::now() < ready_by) {
    std::this_thread::sleep_for(milliseconds(10));  // waiting for the store to open
  }
  ASSERT_TRUE(process.ready());
  const uint16_t port = process.port();
  std::vector<config::ConnectionConfig> set = {oauth("read")};
  for (int i = 0; i < 499; ++i) {
    std::string name = "c";  // (not "c" + ...: GCC 12's -Wrestrict false positive)
    name += std::to_string(i);
    set.push_back(api(std::move(name), a_.port()));
  }
  ASSERT_TRUE(process.connections().apply(set).ok());
  ASSERT_THAT(call(port, "/api/c250/x"), HasSubstr("upstream-a /x"));

  auto& live = process.connections();
  auto before = live.stats();
  const auto demo = live.source({"mcp", "demo"});
  ASSERT_NE(demo, nullptr);
  set[251].url = api("c250", b_.port()).url;  // set[0] is demo: set[251] is c250
  auto diff = live.apply(set);
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  ASSERT_EQ(diff->changed.size(), 1u);
  auto after = live.stats();
  EXPECT_EQ(after.proxy_connections_built - before.proxy_connections_built, 1u);
  EXPECT_EQ(after.registry_rows - before.registry_rows, 1u);
  EXPECT_EQ(after.sources_built - before.sources_built, 0u);
  EXPECT_EQ(live.source({"mcp", "demo"}), demo);  // untouched: the same source
  EXPECT_THAT(call(port, "/api/c250/x"), HasSubstr("upstream-b /x"));
  EXPECT_THAT(call(port, "/api/c251/x"), HasSubstr("upstream-a /x"));

  // One added: one built, one row. One removed: nothing built, one row, and it 404s.
  before = after;
  set.push_back(api("added", b_.port()));
  ASSERT_TRUE(live.apply(set).ok());
  after = live.stats();
  EXPECT_EQ(after.proxy_connections_built - before.proxy_connections_built, 1u);
  EXPECT_EQ(after.registry_rows - before.registry_rows, 1u);
  EXPECT_THAT(call(port, "/api/added/y"), HasSubstr("upstream-b /y"));
  before = after;
  set.erase(set.begin() + 10);  // c9
  ASSERT_TRUE(live.apply(set).ok());
  after = live.stats();
  EXPECT_EQ(after.proxy_connections_built - before.proxy_connections_built, 0u);
  EXPECT_EQ(after.registry_rows - before.registry_rows, 1u);
  EXPECT_EQ(testing::statusOf(call(port, "/api/c9/x")), 404);
  EXPECT_THAT(call(port, "/api/c8/x"), HasSubstr("upstream-a /x"));
  // The admin list (the registry joined to the views) shows the set as it is.
  EXPECT_THAT(call(port, "/api/v1/admin/connections?q=added", true), HasSubstr("\"added\""));
  const std::string list = call(port, "/api/v1/admin/connections?q=c9", true);
  EXPECT_THAT(list, HasSubstr("\"c90\""));
  EXPECT_THAT(list, Not(HasSubstr("\"c9\"")));
  process.stop();
}

// An edit of an OAuth connection's client secret keeps its token source and the token in
// its memory (no new token from the IdP); any other OAuth change builds a new source.
TEST_F(LiveConnectionsTest, AClientSecretEditKeepsTheTokenSourceAndItsToken) {
  core::ManualClock clock(core::TimePoint(seconds(1'900'000'000)));
  Process process(config_, clock);
  ASSERT_TRUE(process.start().ok());
  const auto ready_by = std::chrono::steady_clock::now() + seconds(20);
  while (!process.ready() && std::chrono::steady_clock::now() < ready_by) {
    std::this_thread::sleep_for(milliseconds(10));  // waiting for the store to open
  }
  ASSERT_TRUE(process.ready());
  auto& live = process.connections();
  testing::Upstream idp("idp");
  auto machine = oauth("read");
  machine.name = "machine";
  machine.auth.oauth->grant = config::Grant::kClientCredentials;
  machine.auth.oauth->authorization_url.clear();
  machine.auth.oauth->token_url = "http://127.0.0.1:" + std::to_string(idp.port()) + "/token";
  machine.auth.oauth->client_id = "machine";
  machine.auth.oauth->client_secret = "first-secret";
  ASSERT_TRUE(live.apply({api("echo", a_.port()), machine}).ok());
  const auto source = live.source({"mcp", "machine"});
  ASSERT_NE(source, nullptr);
  auto token = source->token();
  ASSERT_TRUE(token.ok()) << token.error().reason;
  EXPECT_EQ((*token)->value, "idp-token-1");
  ASSERT_EQ(idp.tokensIssued(), 1);

  auto rotated = machine;
  rotated.auth.oauth->client_secret = "second-secret";
  const auto before = live.stats();
  auto diff = live.apply({api("echo", a_.port()), rotated});
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  ASSERT_EQ(diff->changed.size(), 1u);
  const auto after = live.stats();
  EXPECT_EQ(after.sources_kept - before.sources_kept, 1u);
  EXPECT_EQ(after.sources_built - before.sources_built, 0u);
  EXPECT_EQ(live.source({"mcp", "machine"}), source);  // the same object
  EXPECT_EQ(source->oauthConfig().client_secret, "second-secret");
  auto again = source->token();
  ASSERT_TRUE(again.ok()) << again.error().reason;
  EXPECT_EQ((*again)->value, "idp-token-1");  // the token in memory, no new one
  EXPECT_EQ(idp.tokensIssued(), 1);

  // A change beyond the client settings: a new source.
  auto rescoped = rotated;
  rescoped.auth.oauth->scopes = "read write";
  ASSERT_TRUE(live.apply({api("echo", a_.port()), rescoped}).ok());
  EXPECT_NE(live.source({"mcp", "machine"}), source);
  EXPECT_EQ(live.stats().sources_built - after.sources_built, 1u);
  process.stop();
}

}  // namespace
}  // namespace tether::app
