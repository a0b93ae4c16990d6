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

// A loopback upstream: every request is answered with the upstream's name (and the request
// path), except GET /sse, an event stream that sends one event each time the test says so.
class Upstream {
 public:
  explicit Upstream(std::string name) : name_(std::move(name)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("upstream: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~Upstream() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }

  /// Sends `data` as one SSE event on every open stream.
  void sendEvent(const std::string& data) {
    std::lock_guard lock(mu_);
    events_.push_back(data);
    cv_.notify_all();
  }
  int openStreams() {
    std::lock_guard lock(mu_);
    return open_streams_;
  }

 private:
  void acceptLoop() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      workers_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  void serve(int fd) {
    std::string head;
    const auto end = std::chrono::steady_clock::now() + seconds(10);
    while (head.find("\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (std::chrono::steady_clock::now() >= end || ::poll(&p, 1, 100) < 0) return;
      if (!(p.revents & POLLIN)) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      head.append(buf, static_cast<size_t>(n));
    }
    const size_t sp = head.find(' ');
    const std::string path = head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
    if (path != "/sse") {
      const std::string body = name_ + " " + path;
      send(fd,
           "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
           "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
      return;
    }
    send(fd,
         "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
         "Transfer-Encoding: chunked\r\n\r\n");
    std::unique_lock lock(mu_);
    ++open_streams_;
    size_t sent = events_.size();  // only events asked for from now on
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || sent < events_.size(); });
      if (stopping_) break;
      const std::string event = "data: " + events_[sent++] + "\n\n";
      lock.unlock();
      std::ostringstream chunk;
      chunk << std::hex << event.size() << "\r\n" << event << "\r\n";
      const bool ok = send(fd, chunk.str());
      lock.lock();
      if (!ok) break;
    }
    --open_streams_;
  }

  static bool send(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  std::string name_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // the acceptor's; joined after it
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::string> events_;
  int open_streams_ = 0;
};

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

}  // namespace
}  // namespace tether
