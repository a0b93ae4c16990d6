// The running set = declared ∪ stored (app/stored_connections.h) on a real sealed store:
// start-up clash is an error naming it, own writes apply at once, a write the watcher did not
// hear of is picked up by the version poll, a reload declaring a stored name is refused.
#include "app/stored_connections.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "support/sealed_sqlite.h"

namespace tether::app {
namespace {

config::ConnectionConfig declared(const std::string& name) {
  config::ConnectionConfig c;
  c.kind = config::ConnectionKind::kMcp;
  c.name = name;
  c.url = "http://127.0.0.1:1/mcp";
  return c;
}

std::string entry(const std::string& name, const std::string& url) {
  return R"({"kind":"mcp","name":")" + name + R"(","url":")" + url + R"("})";
}

class StoredConnectionsTest : public ::testing::Test {
 protected:
  std::unique_ptr<StoredConnections> make(std::vector<config::ConnectionConfig> decl,
                                          std::chrono::milliseconds poll = std::chrono::hours(1)) {
    StoredConnections::Options o;
    o.poll_interval = poll;
    return std::make_unique<StoredConnections>(
        db_.store(), std::move(decl),
        [this](std::vector<config::ConnectionConfig> all) {
          std::lock_guard lock(mu_);
          running_ = std::move(all);
          ++applies_;
          cv_.notify_all();
          return core::Result<bool>(true);
        },
        o);
  }
  std::vector<std::string> names() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& c : running_) {
      out.push_back(c.name + (c.source == config::ConnectionConfig::Source::kApi ? "@api" : ""));
    }
    return out;
  }
  bool waitForApplies(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return applies_ >= n; });
  }

  core::ManualClock clock_;
  testing::SealedSqlite db_{clock_, "tether-stored-"};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<config::ConnectionConfig> running_;
  int applies_ = 0;
};

TEST_F(StoredConnectionsTest, RunsDeclaredAndStoredTogether) {
  ASSERT_TRUE(db_.store()
                  .definitions()
                  .putDefinition({"mcp", "made"}, entry("made", "http://127.0.0.1:2/"), "", 0)
                  .ok());
  auto set = make({declared("filed")});
  ASSERT_TRUE(set->load().ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"filed", "made@api"}));
  EXPECT_TRUE(set->isDeclared({"mcp", "filed"}));
  EXPECT_FALSE(set->isDeclared({"mcp", "made"}));
  // A write, then the API's syncNow: applied at once.
  ASSERT_TRUE(db_.store()
                  .definitions()
                  .putDefinition({"mcp", "more"}, entry("more", "http://127.0.0.1:3/"), "", 0)
                  .ok());
  ASSERT_TRUE(set->syncNow().ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"filed", "made@api", "more@api"}));
  // Nothing changed: no apply.
  const int before = applies_;
  ASSERT_TRUE(set->syncNow().ok());
  EXPECT_EQ(applies_, before);
  ASSERT_TRUE(db_.store().definitions().deleteDefinition({"mcp", "made"}, std::nullopt).ok());
  ASSERT_TRUE(set->syncNow().ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"filed", "more@api"}));
}

TEST_F(StoredConnectionsTest, AStoredNameAlsoDeclaredIsAStartUpErrorNamingIt) {
  ASSERT_TRUE(db_.store()
                  .definitions()
                  .putDefinition({"mcp", "both"}, entry("both", "http://127.0.0.1:2/"), "", 0)
                  .ok());
  auto set = make({declared("both")});
  auto st = set->load();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, core::Errc::kConfig);
  EXPECT_NE(st.error().message.find("mcp/both"), std::string::npos);
}

TEST_F(StoredConnectionsTest, AReloadDeclaringAStoredNameIsRefusedAndChangesNothing) {
  ASSERT_TRUE(db_.store()
                  .definitions()
                  .putDefinition({"mcp", "made"}, entry("made", "http://127.0.0.1:2/"), "", 0)
                  .ok());
  auto set = make({declared("filed")});
  ASSERT_TRUE(set->load().ok());
  EXPECT_FALSE(set->setDeclared({declared("filed"), declared("made")}).ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"filed", "made@api"}));
  ASSERT_TRUE(set->setDeclared({declared("other")}).ok());
  EXPECT_EQ(names(), (std::vector<std::string>{"other", "made@api"}));
}

TEST_F(StoredConnectionsTest, TheWatcherPicksUpChangesThroughNotificationAndPoll) {
  auto set = make({}, std::chrono::milliseconds(50));
  ASSERT_TRUE(set->load().ok());
  set->start();
  const int before = applies_;
  ASSERT_TRUE(db_.store()
                  .definitions()
                  .putDefinition({"mcp", "late"}, entry("late", "http://127.0.0.1:2/"), "", 0)
                  .ok());
  ASSERT_TRUE(waitForApplies(before + 1));
  EXPECT_EQ(names(), (std::vector<std::string>{"late@api"}));
  set->stop();
}

}  // namespace
}  // namespace tether::app
