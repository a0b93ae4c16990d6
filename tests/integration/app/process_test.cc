// The assembled process in-process: app::Process takes its clock from its caller (main
// passes the system clock), so the whole binary can run on a test clock.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "app/app.h"
#include "config/config.h"
#include "core/clock.h"
#include "support/raw_http.h"

namespace tether::app {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr std::string_view kAdminKey = "process-test-admin-key-0001";

config::Config testConfig(const std::filesystem::path& dir) {
  const std::string yaml = R"(listen: 127.0.0.1:0
storage: {path: ")" + (dir / "tether.db").string() +
                           R"(", allow_plaintext: true}
admin:
  keys: [")" + std::string(kAdminKey) +
                           R"("]
connections:
  - kind: mcp
    name: demo
    url: http://127.0.0.1:9/mcp
    auth:
      mode: oauth
      authorization_url: http://127.0.0.1:9/authorize
      token_url: http://127.0.0.1:9/token
      client_id: demo
)";
  auto loaded = config::parseConfig(yaml, "process_test.yaml", {});
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  return std::move(loaded).value().config;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-process-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(ProcessTest, RunsOnTheClockItIsGiven) {
  // 2031-03-17: far from the real date, so a module reading the system clock would show.
  core::ManualClock clock(core::TimePoint(std::chrono::seconds(1'931'500'000)));
  Process process(testConfig(dir_), clock);
  ASSERT_TRUE(process.start().ok());
  const auto ready_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!process.ready() && std::chrono::steady_clock::now() < ready_by) {
    std::this_thread::sleep_for(milliseconds(10));  // waiting for the store to open
  }
  ASSERT_TRUE(process.ready());

  testing::RawConnection c(process.port());
  ASSERT_TRUE(c.connected());
  const std::string body = "{}";
  ASSERT_TRUE(c.send(
      "POST /api/v1/admin/connections/mcp/demo/oauth/start HTTP/1.1\r\n"
      "Host: 127.0.0.1:" +
      std::to_string(process.port()) + "\r\nAuthorization: Bearer " + std::string(kAdminKey) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body));
  ASSERT_TRUE(c.readUntilClosed(milliseconds(10'000)));
  const std::string raw = c.received();
  ASSERT_EQ(testing::statusOf(raw), 200) << raw;
  // A connect flow lives 10 minutes from "now": the test clock's now.
  EXPECT_THAT(testing::bodyOf(raw),
              HasSubstr("\"expires_at\":\"" +
                        core::formatRfc3339(clock.now() + std::chrono::minutes(10)) + "\""));
  process.stop();
}

}  // namespace
}  // namespace tether::app
