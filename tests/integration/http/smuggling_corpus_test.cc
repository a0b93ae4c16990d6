// The smuggling/desync corpus (edge_cases.cc) against the real `tether serve`, alone and
// behind nginx with upstream keep-alive, with a recording upstream behind Tether. Per case:
// every request gets exactly one answer and reaches the upstream once with the same framing,
// or is refused (4xx) and the connection closed; a SMUGGLED path never reaches the upstream;
// and two probe requests from a fresh client afterwards are answered and forwarded as sent
// (behind nginx they ride the upstream connection the case used: a desync shows there).
//
// EDGE_CASES=id,id,... runs only those cases. Every wait has a deadline.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "edge_cases.h"
#include "edge_check.h"
#include "recording_upstream.h"
#include "support/process.h"
#include "support/raw_http.h"

namespace tether::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kAnswerDeadline = milliseconds(5000);  // all answers of a case
constexpr auto kCloseDeadline = milliseconds(1000);   // a close that must follow an answer
constexpr auto kGrace = milliseconds(100);            // extra answers after the expected ones
// The children run under coreutils timeout (which passes our signals on): should this test
// die without its destructors, no tether or nginx outlives it by more than this.
constexpr const char* kTimeout = "/usr/bin/timeout";
constexpr const char* kKillAfter = "--kill-after=5s";
constexpr const char* kLifetime = "300s";

uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool waitConnectable(uint16_t port, milliseconds deadline) {
  const auto end = Clock::now() + deadline;
  while (Clock::now() < end) {
    RawConnection c(port);
    if (c.connected()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

/// Tether (and nginx in front of it) for the whole suite, over one recording upstream.
class Edge {
 public:
  static Edge& get() {
    static Edge edge;
    return edge;
  }

  RecordingUpstream upstream;
  std::unique_ptr<Child> tether;
  std::unique_ptr<Child> nginx;
  uint16_t tether_port = 0;
  uint16_t nginx_port = 0;
  std::string setup_error;
  std::filesystem::path dir;

  /// Reads what the children wrote so far, so their pipes never fill (tether writes an
  /// access log line per request). Child::waitForStderr reads nothing with a deadline under
  /// a millisecond left, so the wait is a few of them.
  void drainLogs() {
    if (tether) tether->waitForStderr(std::string(1, '\x01'), milliseconds(5));
    if (nginx) nginx->waitForStderr(std::string(1, '\x01'), milliseconds(5));
  }

 private:
  Edge() {
    dir = std::filesystem::temp_directory_path() / ("tether-edge-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    if (upstream.port() == 0) {
      setup_error = "recording upstream could not bind";
      return;
    }
    const auto cfg = dir / "tether.yaml";
    std::ofstream(cfg) << "listen: 127.0.0.1:0\n"
                       << "log: { level: info }\n"
                       << "server: { max_header_bytes: 4096, max_body_bytes: 4096, "
                          "read_timeout: 2s, idle_timeout: 30s }\n"
                       << "storage: { driver: sqlite, path: " << (dir / "t.db").string()
                       << ", allow_plaintext: true }\n"
                       << "connections:\n"
                       << "  - kind: api\n    name: rec\n"
                       << "    url: http://127.0.0.1:" << upstream.port() << "/up/\n"
                       << "    auth: { mode: bearer, token: edge-upstream-token }\n";
    tether = std::make_unique<Child>(std::vector<std::string>{kTimeout, kKillAfter, kLifetime,
                                                              binaryDir() + "/tether", "serve",
                                                              "--config", cfg.string()});
    tether_port = waitListening(*tether);
    if (tether_port == 0) {
      setup_error = "tether serve did not start: " + tether->err();
      return;
    }
    startNginx();
  }
  ~Edge() {
    if (nginx) {
      nginx->signal(SIGQUIT);
      nginx->wait(milliseconds(5000));
    }
    if (tether) {
      tether->signal(SIGTERM);
      tether->wait(milliseconds(10000));
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  void startNginx() {
    const std::string bin = TETHER_NGINX;
    if (bin.empty() || !std::filesystem::exists(bin)) {
      setup_error = "nginx not found (Debian nginx-light); the corpus needs it";
      return;
    }
    const auto ndir = dir / "nginx";
    std::filesystem::create_directories(ndir);
    nginx_port = freePort();
    const std::string d = ndir.string();
    // Upstream keep-alive as a deployment runs it: nginx reuses its connections to Tether,
    // so one client's leftover bytes would meet the next client's request.
    std::ofstream(ndir / "nginx.conf")
        << "worker_processes 1;\ndaemon off;\nerror_log " << d << "/error.log info;\npid " << d
        << "/nginx.pid;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n"
        << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n"
        << "  fastcgi_temp_path " << d << "/fcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n"
        << "  scgi_temp_path " << d << "/scgi;\n"
        << "  upstream tether { server 127.0.0.1:" << tether_port << "; keepalive 4; }\n"
        << "  server {\n    listen 127.0.0.1:" << nginx_port << ";\n"
        << "    location / {\n      proxy_pass http://tether;\n      proxy_http_version 1.1;\n"
        << "      proxy_set_header Connection \"\";\n"
        << "      proxy_set_header Host 127.0.0.1:" << tether_port << ";\n    }\n  }\n}\n";
    const passwd* pw = ::getpwuid(::getuid());
    const std::string user = std::string("user ") + (pw ? pw->pw_name : "root") + ";";
    std::vector<std::string> argv{kTimeout, kKillAfter, kLifetime,         bin,  "-p",
                                  d,        "-c",       d + "/nginx.conf", "-e", d + "/error.log"};
    if (::getuid() == 0) {
      argv.push_back("-g");
      argv.push_back(user);
    }
    nginx = std::make_unique<Child>(argv);
    if (!waitConnectable(nginx_port, milliseconds(10000))) {
      std::ifstream log(d + "/error.log");
      std::stringstream s;
      s << log.rdbuf();
      setup_error = "nginx did not start: " + nginx->err() + s.str();
    }
  }
};

/// A client that sends segments and reads everything back, with deadlines.
class Client {
 public:
  explicit Client(uint16_t port) : conn_(port) {}
  bool connected() const { return conn_.connected(); }
  void send(const std::string& bytes) { conn_.send(bytes); }
  /// Reads until `enough(answers)` holds or EOF or `end`.
  template <typename Pred>
  void readUntil(Pred enough, Clock::time_point end) {
    while (!conn_.eof() && !enough(parseAnswers(conn_.received(), false)) && Clock::now() < end) {
      const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
      conn_.readUntil(std::string_view("\x01\x02\x03", 3), std::min(left, milliseconds(20)));
    }
  }
  std::vector<Answer> answers() const { return parseAnswers(conn_.received(), conn_.eof()); }
  bool eof() const { return conn_.eof(); }

 private:
  RawConnection conn_;
};

/// Runs one case on a fresh connection to `port`; the problems found (empty: it holds).
std::vector<std::string> runCase(const EdgeCase& c, uint16_t port, bool behind_nginx,
                                 int probe_seq) {
  Edge& edge = Edge::get();
  edge.upstream.take();
  std::vector<std::string> problems;
  Client client(port);
  if (!client.connected()) return {"could not connect"};
  for (size_t i = 0; i < c.segments.size(); ++i) {
    if (i > 0) std::this_thread::sleep_for(milliseconds(c.delay_ms));
    client.send(c.segments[i]);
  }
  size_t want = 0;
  for (const auto& e : c.expected) want += e.outcome != Outcome::kNever;
  client.readUntil([want](const std::vector<Answer>& a) { return a.size() >= want; },
                   Clock::now() + kAnswerDeadline);
  // Does what arrived oblige the server to close? Then wait for the close; else a short
  // grace to see answers nobody asked for.
  const Verdict early = judge(c, client.answers(), true, {}, behind_nginx);
  const size_t seen = client.answers().size();
  client.readUntil([seen](const std::vector<Answer>& a) { return a.size() > seen; },
                   Clock::now() + (early.must_close ? kCloseDeadline : kGrace));
  std::this_thread::sleep_for(milliseconds(20));  // a forwarded request still in flight
  auto records = edge.upstream.take();
  Verdict v = judge(c, client.answers(), client.eof(), records, behind_nginx);
  problems = std::move(v.problems);

  // Probes: fresh clients after the case must get their own answers, forwarded as sent.
  for (int p = 0; p < 2; ++p) {
    const std::string path = "/probe-" + std::to_string(probe_seq) + "-" + std::to_string(p);
    Client probe(port);
    probe.send("GET /api/rec" + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
               "\r\n\r\n");
    probe.readUntil([](const std::vector<Answer>& a) { return !a.empty(); },
                    Clock::now() + kAnswerDeadline);
    const auto answers = probe.answers();
    const std::string want_body = recordedAnswer("GET", "/up" + path, 0);
    if (answers.empty() || answers[0].status != 200 || answers[0].body != want_body) {
      problems.push_back("probe " + path + " after the case: " +
                         (answers.empty() ? std::string("no answer")
                                          : std::to_string(answers[0].status) + " \"" +
                                                answers[0].body.substr(0, 120) + "\""));
    }
    std::this_thread::sleep_for(milliseconds(5));
    for (const auto& r : edge.upstream.take()) {
      if (r.garbage || r.target != "/up" + path) {
        problems.push_back("while probing, the upstream got " +
                           (r.garbage ? std::string("garbage") : r.method + " " + r.target) + ": " +
                           r.raw_head.substr(0, 200));
      }
    }
  }
  edge.drainLogs();
  return problems;
}

std::vector<EdgeCase> selectedCases(const std::string& host) {
  auto cases = edgeCases(host);
  const char* only = std::getenv("EDGE_CASES");
  if (!only || !*only) return cases;
  const std::string filter = std::string(",") + only + ",";
  std::vector<EdgeCase> out;
  for (auto& c : cases) {
    if (filter.find("," + c.id + ",") != std::string::npos) out.push_back(std::move(c));
  }
  return out;
}

void runCorpus(uint16_t port, bool behind_nginx) {
  Edge& edge = Edge::get();
  const auto cases = selectedCases("127.0.0.1:" + std::to_string(port));
  std::vector<std::string> failing;
  static int probe_seq = 0;
  for (const auto& c : cases) {
    const auto problems = runCase(c, port, behind_nginx, probe_seq++);
    if (problems.empty()) continue;
    failing.push_back(c.id);
    std::string text;
    for (const auto& p : problems) text += "\n    - " + p;
    ADD_FAILURE() << "[" << c.id << "] " << c.description << text;
  }
  std::string summary;
  for (const auto& id : failing) summary += " " + id;
  std::printf("%s: %zu cases, %zu failing:%s\n", behind_nginx ? "behind nginx" : "tether alone",
              cases.size(), failing.size(), summary.c_str());
  edge.drainLogs();
}

TEST(SmugglingCorpusTest, HasAtLeastFiftyDistinctCases) {
  const auto cases = edgeCases("127.0.0.1:1");
  size_t requests = 0;
  std::set<std::string> ids;
  for (const auto& c : cases) {
    EXPECT_TRUE(ids.insert(c.id).second) << "duplicate id " << c.id;
    EXPECT_FALSE(c.description.empty()) << c.id;
    requests += c.expected.size();
  }
  EXPECT_GE(cases.size(), 50u);
  EXPECT_GE(requests, 50u);
}

TEST(SmugglingCorpusTest, TetherAlone) {
  Edge& edge = Edge::get();
  ASSERT_NE(edge.tether_port, 0) << edge.setup_error;
  runCorpus(edge.tether_port, false);
}

TEST(SmugglingCorpusTest, BehindNginxWithUpstreamKeepAlive) {
  Edge& edge = Edge::get();
  ASSERT_TRUE(edge.setup_error.empty()) << edge.setup_error;
  ASSERT_NE(edge.nginx_port, 0);
  runCorpus(edge.nginx_port, true);
}

}  // namespace
}  // namespace tether::testing
