// `tether serve` and SIGHUP with a changed `connections` list (app/live_connections.h): a new
// connection answers, a removed one 404s naming it, a changed upstream URL is used, while a
// long SSE stream through another connection goes on unbroken. A broken file changes nothing.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "integration/app/loopback_upstream.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Upstream;

class ReloadConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-reload-conn-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "tether.yaml").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void writeConfig(const std::string& connections, const std::string& extra = "") {
    std::ofstream(path_) << "listen: 127.0.0.1:0\nlog: { level: info }\n"
                         << "storage: { driver: sqlite, path: " << (dir_ / "t.db").string()
                         << ", allow_plaintext: true }\n"
                         << extra << "connections:\n"
                         << connections;
  }

  static std::string url(const Upstream& u, const std::string& path = "/") {
    return "http://127.0.0.1:" + std::to_string(u.port()) + path;
  }

  // One plain call through the gateway; the whole answer.
  static std::string get(uint16_t port, const std::string& target) {
    testing::RawConnection c(port);
    c.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    c.readUntilClosed(seconds(10));
    return c.received();
  }

  // Waits until stderr holds `needle` at least `n` times.
  static bool waitForCount(Child& c, const std::string& needle, size_t n) {
    const auto end = std::chrono::steady_clock::now() + seconds(15);
    for (;;) {
      size_t count = 0;
      for (size_t at = c.err().find(needle); at != std::string::npos;
           at = c.err().find(needle, at + 1)) {
        ++count;
      }
      if (count >= n) return true;
      if (std::chrono::steady_clock::now() >= end) return false;
      c.waitForStderr("\n" + needle + "-never", milliseconds(50));  // pumps the pipe
    }
  }

  std::filesystem::path dir_;
  std::string path_;
  static inline int counter_ = 0;
};

TEST_F(ReloadConnectionsTest, SighupAddsChangesAndRemovesWhileAStreamGoesOn) {
  Upstream a("upstream-a");
  Upstream b("upstream-b");
  writeConfig("  - { kind: mcp, name: stream, url: '" + url(a, "/sse") + "' }\n" +
              "  - { kind: api, name: moved, url: '" + url(a) + "' }\n" +
              "  - { kind: api, name: gone, url: '" + url(a) + "' }\n");
  Child c({testing::binaryDir() + "/tether", "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();

  // A long SSE stream through mcp/stream: one event before the reload.
  testing::RawConnection stream(port);
  stream.send("GET /mcp/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
  const auto stream_open = std::chrono::steady_clock::now() + seconds(10);
  while (a.openStreams() == 0 && std::chrono::steady_clock::now() < stream_open) {
    stream.readUntil("never", milliseconds(20));
  }
  ASSERT_EQ(a.openStreams(), 1) << stream.received() << c.err();
  a.sendEvent("before-reload");
  stream.readUntil("data: before-reload", seconds(10));
  ASSERT_THAT(stream.received(), HasSubstr("data: before-reload")) << c.err();
  EXPECT_EQ(testing::statusOf(stream.received()), 200);

  EXPECT_THAT(get(port, "/api/moved/x"), HasSubstr("upstream-a /x"));
  EXPECT_THAT(get(port, "/api/gone/x"), HasSubstr("upstream-a /x"));
  EXPECT_EQ(testing::statusOf(get(port, "/api/fresh/x")), 404);

  writeConfig("  - { kind: mcp, name: stream, url: '" + url(a, "/sse") + "' }\n" +
              "  - { kind: api, name: moved, url: '" + url(b) + "' }\n" +
              "  - { kind: api, name: fresh, url: '" + url(a) + "' }\n");
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("configuration reloaded", seconds(15))) << c.err();
  EXPECT_THAT(c.err(), HasSubstr("\"applied\":\"connections\""));
  EXPECT_THAT(c.err(), Not(HasSubstr("need a restart")));

  const std::string fresh = get(port, "/api/fresh/y");
  EXPECT_EQ(testing::statusOf(fresh), 200) << fresh;
  EXPECT_THAT(fresh, HasSubstr("upstream-a /y"));
  EXPECT_THAT(get(port, "/api/moved/y"), HasSubstr("upstream-b /y"));
  const std::string gone = get(port, "/api/gone/y");
  EXPECT_EQ(testing::statusOf(gone), 404) << gone;
  EXPECT_THAT(gone, HasSubstr("no api connection named \\\"gone\\\""));

  // The stream opened before the reload is the same one, and still delivers.
  a.sendEvent("after-reload");
  stream.readUntil("data: after-reload", seconds(10));
  EXPECT_THAT(stream.received(), HasSubstr("data: after-reload")) << c.err();
  EXPECT_FALSE(stream.eof());
  EXPECT_EQ(a.openStreams(), 1);

  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(20)), 0) << c.err();
}

TEST_F(ReloadConnectionsTest, ABrokenFileIsLoggedProblemByProblemAndChangesNothing) {
  Upstream a("upstream-a");
  writeConfig("  - { kind: api, name: kept, url: '" + url(a) + "' }\n");
  Child c({testing::binaryDir() + "/tether", "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  ASSERT_THAT(get(port, "/api/kept/z"), HasSubstr("upstream-a /z"));

  // Three problems: a URL that is not one, a duplicate name, a keeper setting out of range;
  // and a valid new connection that must not be half-applied.
  writeConfig(
      "  - { kind: api, name: kept, url: 'not a url' }\n"
      "  - { kind: api, name: added, url: '" +
          url(a) +
          "' }\n"
          "  - { kind: api, name: added, url: '" +
          url(a) + "' }\n",
      "keeper: { concurrency: 0 }\n");
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("configuration not reloaded", seconds(15))) << c.err();
  EXPECT_TRUE(c.waitForStderr("keeper.concurrency", seconds(5))) << c.err();
  EXPECT_TRUE(c.waitForStderr("connections[0].url", seconds(5))) << c.err();
  EXPECT_TRUE(c.waitForStderr("duplicate", seconds(5))) << c.err();

  EXPECT_THAT(get(port, "/api/kept/z"), HasSubstr("upstream-a /z"));
  EXPECT_EQ(testing::statusOf(get(port, "/api/added/z")), 404);
  // Never an exit on SIGHUP: a second one, and the process still answers and stops cleanly.
  c.signal(SIGHUP);
  EXPECT_TRUE(waitForCount(c, "SIGHUP: reloading the configuration", 2)) << c.err();
  EXPECT_TRUE(waitForCount(c, "keeper.concurrency", 2)) << c.err();
  EXPECT_THAT(get(port, "/api/kept/z"), HasSubstr("upstream-a /z"));
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(20)), 0) << c.err();
}

// clients.keys and allowed_origins apply to the next call after a SIGHUP; the keeper restarts
// on new timings.
TEST_F(ReloadConnectionsTest, SighupAppliesClientKeysAllowedOriginsAndKeeperTimings) {
  Upstream a("upstream-a");
  const std::string connections = "  - { kind: api, name: kept, url: '" + url(a) + "' }\n";
  writeConfig(connections);
  Child c({testing::binaryDir() + "/tether", "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  auto call = [port](const std::string& extra_headers) {
    testing::RawConnection r(port);
    r.send("GET /api/kept/k HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers +
           "\r\n");
    r.readUntilClosed(seconds(10));
    return testing::statusOf(r.received());
  };
  ASSERT_EQ(call(""), 200);
  ASSERT_EQ(call("Origin: https://app.example\r\n"), 403);
  // The store is open and the keeper runs on its default interval.
  ASSERT_TRUE(c.waitForStderr("\"msg\":\"keeper started\",\"interval\":\"5m\"", seconds(15)))
      << c.err();

  writeConfig(connections,
              "clients: { keys: ['a-gateway-client-key-0123'] }\n"
              "allowed_origins: ['https://app.example']\n"
              "keeper: { interval: 7m }\n");
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("configuration reloaded", seconds(15))) << c.err();
  EXPECT_THAT(c.err(), HasSubstr("\"applied\":\"clients.keys, allowed_origins, keeper\""));
  EXPECT_TRUE(c.waitForStderr("\"msg\":\"keeper started\",\"interval\":\"7m\"", seconds(10)))
      << c.err();
  EXPECT_EQ(call(""), 401);
  EXPECT_EQ(call("Authorization: Bearer a-gateway-client-key-0123\r\n"), 200);
  EXPECT_EQ(
      call("Authorization: Bearer a-gateway-client-key-0123\r\nOrigin: https://app.example\r\n"),
      200);
  EXPECT_THAT(c.err(), Not(HasSubstr("a-gateway-client-key-0123")));  // never logged
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(20)), 0) << c.err();
}

}  // namespace
}  // namespace tether
