// Connections as data at scale (issue #14): three `tether serve` replicas on one PostgreSQL
// database; N connections created through replica 1's admin API; the time to create them and
// the time until every replica proxies every one of them. Not a Google Benchmark: it prints
// its figures. Needs TETHER_TEST_PG_DSN (scripts/with-postgres.sh) and the built `tether`.
//
//   build/bench/connections_bench [--connections 1000] [--replicas 3] [--parallel 4]

#include <libpq-fe.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/random.h"
#include "http/http_client.h"
#include "http/server.h"
#include "support/process.h"

namespace {

using namespace tether;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

const std::string kAdminKey = "bench-admin-key-0123456789abcdef";

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int status(http::HttpClient& client, const std::string& method, const std::string& url,
           const std::string& body = {}) {
  http::ClientRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.headers.push_back({"Authorization", "Bearer " + kAdminKey});
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  req.total_timeout = seconds(30);
  const auto t = Clock::now();
  auto r = client.send(req);
  if (!r.ok() || msSince(t) > 1000) {
    // A failure or a slow answer is named (what it was, how long it took).
    std::fprintf(stderr, "  %s %s: %s after %.0f ms\n", method.c_str(), url.c_str(),
                 r.ok() ? std::to_string(r.response.status).c_str() : r.error_message.c_str(),
                 msSince(t));
  }
  return r.ok() ? r.response.status : 0;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 1000, replicas = 3, parallel = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--connections") count = std::stoi(argv[i + 1]);
    if (a == "--replicas") replicas = std::stoi(argv[i + 1]);
    if (a == "--parallel") parallel = std::stoi(argv[i + 1]);
  }
  const char* base = std::getenv("TETHER_TEST_PG_DSN");
  if (!base) {
    std::fprintf(stderr, "TETHER_TEST_PG_DSN is not set: run under scripts/with-postgres.sh\n");
    return 2;
  }
  const std::string db = "tether_cbench_" + core::newId().substr(0, 8);
  PGconn* conn = PQconnectdb(base);
  PQclear(PQexec(conn, ("CREATE DATABASE " + db).c_str()));
  PQfinish(conn);

  // One upstream for every connection.
  http::Router router;
  router.add("*", "/{rest*}",
             [](http::Request&, http::Responder r) { r.send(http::Response::text(200, "ok")); });
  http::ServerOptions so;
  so.port = 0;
  http::Server upstream(so, router, nullptr);
  if (!upstream.start().ok()) return 1;
  const std::string upstream_url = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/";

  const auto dir = std::filesystem::temp_directory_path() / db;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tether.yaml")
      << "listen: 127.0.0.1:0\nlog: { level: warn }\n"
      << "storage: { driver: postgres, dsn: \"" << base << " dbname=" << db
      << "\" }\nencryption: { key: \"" << std::string(64, 'b') << "\" }\n"
      << "admin: { keys: [ \"${TETHER_ADMIN_KEY}\" ] }\n";
  std::vector<std::unique_ptr<testing::Child>> children;
  std::vector<std::string> bases;
  for (int i = 0; i < replicas; ++i) {
    children.push_back(std::make_unique<testing::Child>(
        std::vector<std::string>{testing::binaryDir() + "/tether", "serve", "--config",
                                 (dir / "tether.yaml").string(), "--log-level", "info"},
        std::vector<std::string>{"TETHER_ADMIN_KEY=" + kAdminKey}));
    const uint16_t port = testing::waitListening(*children.back());
    if (port == 0) {
      std::fprintf(stderr, "replica %d did not start: %s\n", i, children.back()->err().c_str());
      return 1;
    }
    // Nothing reads its log from now on: a full pipe would block the replica's threads (an
    // access line per request) and stall the requests this measures.
    children.back()->discardOutput();
    bases.push_back("http://127.0.0.1:" + std::to_string(port));
  }
  auto client = http::makeHttpClient({});
  for (const auto& b : bases) {
    for (int i = 0; i < 600 && status(*client, "GET", b + "/readyz") != 200; ++i) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  const auto start = Clock::now();
  std::atomic<int> next{0}, failed{0};
  std::vector<int> statuses(count, 0);
  std::vector<std::future<void>> workers;
  for (int w = 0; w < parallel; ++w) {
    workers.push_back(std::async(std::launch::async, [&] {
      for (int i = next++; i < count; i = next++) {
        const std::string body = R"({"kind":"api","name":"c)" + std::to_string(i) + R"(","url":")" +
                                 upstream_url + R"("})";
        statuses[i] = status(*client, "POST", bases[0] + "/api/v1/admin/connections", body);
        if (statuses[i] != 201) ++failed;
      }
    }));
  }
  for (auto& w : workers) w.get();
  const double create_ms = msSince(start);

  // Until every replica proxies every connection (checked from the last one created back).
  std::vector<int> pending_from(bases.size(), count - 1);
  auto skipFailed = [&](int& i) {
    while (i >= 0 && statuses[i] != 201) --i;
  };
  double all_ms = 0;
  for (;;) {
    bool done = true;
    for (size_t r = 0; r < bases.size(); ++r) {
      skipFailed(pending_from[r]);
      while (pending_from[r] >= 0 &&
             status(*client, "GET", bases[r] + "/api/c" + std::to_string(pending_from[r]) + "/x") ==
                 200) {
        --pending_from[r];
        skipFailed(pending_from[r]);
      }
      done = done && pending_from[r] < 0;
    }
    all_ms = msSince(start);
    if (done || all_ms > 120'000) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::printf(
      "connections_bench: %d connections through the admin API of replica 1 of %d "
      "(%d in parallel)\n",
      count, replicas, parallel);
  std::map<int, int> by_status;
  for (int st : statuses) ++by_status[st];
  for (const auto& [st, n] : by_status) std::printf("  HTTP %d: %d\n", st, n);
  std::printf("  created in %.0f ms (%.1f ms each, %d failed)\n", create_ms, create_ms / count,
              failed.load());
  std::printf(
      "  every replica serves all of them %.0f ms after the first create (%.0f ms after "
      "the last)\n",
      all_ms, all_ms - create_ms);
  for (auto& c : children) {
    c->signal(SIGTERM);
    c->wait(seconds(15));
  }
  upstream.stop();
  std::filesystem::remove_all(dir);
  return failed.load() == 0 ? 0 : 1;
}
