// The assembled process in-process: app::Process takes its clock from its caller (main
// passes the system clock), so the whole binary can run on a test clock.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "app/app.h"
#include "config/config.h"
#include "core/clock.h"
#include "store/store.h"
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

std::string get(uint16_t port, const std::string& target) {
  testing::RawConnection c(port);
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(c.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nAuthorization: Bearer " + std::string(kAdminKey) +
                     "\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(c.readUntilClosed(milliseconds(10'000)));
  return c.received();
}

uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

void waitReady(Process& process) {
  const auto ready_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!process.ready() && std::chrono::steady_clock::now() < ready_by) {
    std::this_thread::sleep_for(milliseconds(10));  // waiting for the store to open
  }
  ASSERT_TRUE(process.ready());
}

// "Use it" names the data plane, not the admin listener, when admin.listen is set; a call
// through the gateway shows as "Last used" once the process has flushed it (at stop here).
TEST_F(ProcessTest, UseItPointsAtTheDataPlaneAndCallsAreRecordedAsLastUsed) {
  const uint16_t admin_port = freePort();
  const std::string yaml = R"(listen: 127.0.0.1:0
storage: {path: ")" + (dir_ / "tether.db").string() +
                           R"(", allow_plaintext: true}
admin:
  listen: 127.0.0.1:)" + std::to_string(admin_port) +
                           R"(
  keys: [")" + std::string(kAdminKey) +
                           R"("]
connections:
  - kind: api
    name: plain
    url: http://127.0.0.1:9/v1
    auth: {mode: bearer, token: upstream-token}
)";
  auto loaded = config::parseConfig(yaml, "process_test.yaml", {});
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  core::ManualClock clock(core::TimePoint(std::chrono::seconds(1'931'500'000)));
  {
    Process process(std::move(loaded).value().config, clock);
    ASSERT_TRUE(process.start().ok());
    waitReady(process);
    const std::string detail = get(admin_port, "/api/v1/admin/connections/api/plain");
    ASSERT_EQ(testing::statusOf(detail), 200) << detail;
    EXPECT_THAT(testing::bodyOf(detail),
                HasSubstr("\"gateway_url\":\"http://127.0.0.1:" + std::to_string(process.port()) +
                          "/api/plain/\""));
    EXPECT_THAT(testing::bodyOf(detail), HasSubstr("\"last_used_at\":null"));
    // The upstream does not answer (port 9): the call still reached the connection.
    const std::string called = get(process.port(), "/api/plain/items");
    EXPECT_EQ(testing::statusOf(called), 502) << called;
    process.stop();
  }
  store::StoreOptions options;
  options.backend = store::SqliteOptions{(dir_ / "tether.db").string()};
  options.sealer = store::makePlaintextSealer();
  options.clock = &clock;
  auto reopened = store::openStore(std::move(options));
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ((*reopened)->activity({"api", "plain"}).value().last_used_at, clock.now());
}

// /readyz answers 200 only once the connect and admin routes can serve: the store opens
// before the lifecycle, flows and stored connections are attached, and a load balancer that
// trusted a 200 from that moment got 503 "the store is not open yet" from a connect start
// (stepup_e2e_test failed that way in CI). Many OAuth connections make the attach long
// enough for the poll below to see the window.
TEST_F(ProcessTest, ReadyMeansTheConnectRoutesServe) {
  std::string yaml = R"(listen: 127.0.0.1:0
storage: {path: ")" + (dir_ / "tether.db").string() +
                     R"(", allow_plaintext: true}
admin:
  keys: [")" + std::string(kAdminKey) +
                     R"("]
connections:
)";
  constexpr int kConnections = 200;
  for (int i = 0; i < kConnections; ++i) {
    yaml += "  - {kind: mcp, name: c" + std::to_string(i) +
            ", url: 'http://127.0.0.1:9/mcp', auth: {mode: oauth, authorization_url: "
            "'http://127.0.0.1:9/authorize', token_url: 'http://127.0.0.1:9/token', "
            "client_id: demo}}\n";
  }
  auto loaded = config::parseConfig(yaml, "process_test.yaml", {});
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  core::ManualClock clock(core::TimePoint(std::chrono::seconds(1'931'500'000)));
  Process process(std::move(loaded).value().config, clock);
  ASSERT_TRUE(process.start().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (testing::statusOf(get(process.port(), "/readyz")) != 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "never ready";
  }
  // Ready: the first thing a client does must work.
  testing::RawConnection c(process.port());
  ASSERT_TRUE(c.connected());
  const std::string body = "{}";
  ASSERT_TRUE(c.send("POST /api/v1/admin/connections/mcp/c" + std::to_string(kConnections - 1) +
                     "/oauth/start HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(process.port()) +
                     "\r\nAuthorization: Bearer " + std::string(kAdminKey) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body));
  ASSERT_TRUE(c.readUntilClosed(milliseconds(10'000)));
  EXPECT_EQ(testing::statusOf(c.received()), 200) << c.received();
  process.stop();
}

}  // namespace
}  // namespace tether::app
