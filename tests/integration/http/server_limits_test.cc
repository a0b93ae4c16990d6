// What one caller cannot grow or break (issue 20): metric series, the status line, the
// number of connections served, and the accept loop when the process is out of descriptors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/log.h"
#include "server_fixture.h"

namespace tether::http {
namespace {

size_t seriesOf(const std::string& rendered, const std::string& family) {
  size_t n = 0;
  for (size_t at = rendered.find("\n" + family + "{"); at != std::string::npos;
       at = rendered.find("\n" + family + "{", at + 1)) {
    ++n;
  }
  return n;
}

TEST_F(ServerTest, ClientChosenMethodsDoNotCreateMetricSeries) {
  router_.add("GET", "/m", [](Request&, Responder r) { r.send(Response::text(200, "")); });
  start();
  RawConnection c(port());
  c.send("GET /m HTTP/1.1\r\nHost: t\r\n\r\n");
  c.readUntil("\r\n\r\n", milliseconds(2000));
  const size_t before = seriesOf(metrics_.render(), "tether_http_requests_total");
  std::mt19937 rng(20);
  const std::string letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (int batch = 0; batch < 20; ++batch) {
    c.clear();
    std::string pipelined;
    for (int i = 0; i < 100; ++i) {
      std::string method = "X";
      for (int k = 0; k < 8; ++k) method += letters[rng() % letters.size()];
      pipelined += method + " /m HTTP/1.1\r\nHost: t\r\n\r\n";
      pipelined += method + " /nowhere-" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
    }
    ASSERT_TRUE(c.send(pipelined));
    // 200 answers, each with a JSON body mentioning the path: wait for the last one.
    c.readUntil("/nowhere-99", milliseconds(5000));
    ASSERT_THAT(c.received(), HasSubstr("/nowhere-99"));
  }
  const std::string rendered = metrics_.render();
  EXPECT_LE(seriesOf(rendered, "tether_http_requests_total"), before + 4);
  EXPECT_THAT(rendered, HasSubstr("method=\"OTHER\""));
  EXPECT_THAT(rendered, Not(HasSubstr("/nowhere")));
}

TEST_F(ServerTest, AStatusOutsideTheValidRangeIsAnswered500) {
  router_.add("GET", "/s/{code}", [](Request& req, Responder r) {
    r.send(Response::text(std::stoi(req.param("code")), "relayed"));
  });
  router_.add("GET", "/stream", [](Request&, Responder r) {
    auto w = r.startStream(99, {});
    w->write("x");
    w->finish();
  });
  start();
  for (const std::string code : {"99", "0", "600", "1000", "-1"}) {
    RawConnection c(port());
    c.send("GET /s/" + code + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
    EXPECT_EQ(c.received().substr(0, 13), "HTTP/1.1 500 ") << code << ": " << c.received();
  }
  RawConnection c(port());
  c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
  EXPECT_EQ(c.received().substr(0, 13), "HTTP/1.1 500 ") << c.received();
}

TEST_F(ServerTest, PastMaxConnectionsTheNextOneWaitsUntilOneCloses) {
  router_.add("GET", "/", [](Request&, Responder r) { r.send(Response::text(200, "ok")); });
  ServerOptions o;
  o.max_connections = 2;
  start(o);
  auto first = std::make_unique<RawConnection>(port());
  RawConnection second(port());
  for (RawConnection* c : {first.get(), &second}) {
    c->send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    c->readUntil("ok", milliseconds(2000));
    ASSERT_EQ(statusOf(c->received()), 200);
  }
  RawConnection third(port());
  ASSERT_TRUE(third.connected());  // the kernel's backlog takes it
  third.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  third.readUntil("ok", milliseconds(400));
  EXPECT_EQ(statusOf(third.received()), 0) << "served past max_connections";
  EXPECT_EQ(server_->openConnections(), 2u);
  first.reset();
  third.readUntil("ok", milliseconds(3000));
  EXPECT_EQ(statusOf(third.received()), 200);
}

// Out of file descriptors, a pending connection makes every accept fail at once: the loop
// must back off (no busy spin) and log a bounded number of lines, then serve the connection
// once descriptors are free again.
TEST_F(ServerTest, AcceptFailuresBackOffAndAreLoggedAtABoundedRate) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizer runtimes need descriptors of their own (UBSan's vptr check opens a pipe to
  // probe memory) and report false errors once the table is full.
  GTEST_SKIP() << "fills the descriptor table: not under sanitizers";
#endif
  router_.add("GET", "/", [](Request&, Responder r) { r.send(Response::text(200, "ok")); });
  start();
  std::vector<std::string> lines;
  std::mutex mu;
  core::log::setSinkForTesting([&](std::string_view l) {
    std::lock_guard lock(mu);
    if (l.find("accept") != std::string_view::npos) lines.emplace_back(l);
  });
  // The client's descriptor exists before the table is full; it connects after.
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit low = old;
  low.rlim_cur = std::min<rlim_t>(old.rlim_cur, 512);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (int fd; (fd = ::dup(client)) >= 0;) filler.push_back(fd);
  timespec cpu0{}, cpu1{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  const auto wall0 = std::chrono::steady_clock::now();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  const std::string request = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
  ::send(client, request.data(), request.size(), MSG_NOSIGNAL);
  // No descriptor to accept it with: not served while the table is full.
  bool served_while_full = false;
  const auto full_until = std::chrono::steady_clock::now() + milliseconds(800);
  while (!served_while_full && std::chrono::steady_clock::now() < full_until) {
    pollfd p{client, POLLIN, 0};
    served_while_full = ::poll(&p, 1, 50) > 0;
  }
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  for (int fd : filler) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &old);
  const double cpu = (cpu1.tv_sec - cpu0.tv_sec) + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
  EXPECT_TRUE(connected);
  EXPECT_FALSE(served_while_full);
  EXPECT_GT(filler.size(), 0u);
  // Once descriptors are free again, the waiting connection is served.
  std::string got;
  const auto end = std::chrono::steady_clock::now() + milliseconds(10000);
  while (got.find("ok") == std::string::npos && std::chrono::steady_clock::now() < end) {
    pollfd q{client, POLLIN, 0};
    if (::poll(&q, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(client);
  core::log::setSinkForTesting(nullptr);
  EXPECT_EQ(statusOf(got), 200) << got;
  EXPECT_LT(cpu, wall * 0.25) << "the accept loop spins";
  std::lock_guard lock(mu);
  EXPECT_GE(lines.size(), 1u);
  EXPECT_LE(lines.size(), 3u);
}

}  // namespace
}  // namespace tether::http
