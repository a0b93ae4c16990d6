// Connections as data on three replicas (issue #14 acceptance): three real `tether serve`
// processes on one PostgreSQL database. A connection created through replica 1's admin API
// is proxied by replicas 2 and 3 within 2 s; its upstream URL edited on replica 2 is used by
// all three; deleted on replica 3, it answers 404 everywhere.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "http/http_client.h"
#include "http/server.h"
#include "support/pg_database.h"
#include "support/process.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;

const std::string kAdminKey = "replicas-admin-key-0123456789abcdef";

/// A loopback upstream that answers every request with its own name.
struct NamedUpstream {
  explicit NamedUpstream(std::string name) {
    router.add("*", "/{rest*}", [name](http::Request&, http::Responder r) {
      r.send(http::Response::text(200, name));
    });
    http::ServerOptions o;
    o.port = 0;
    server = std::make_unique<http::Server>(o, router, nullptr);
    EXPECT_TRUE(server->start().ok());
    url = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
  }
  ~NamedUpstream() { server->stop(); }
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::string url;
};

class ConnectionsReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::createPgDatabase("tether_conn");
    ASSERT_TRUE(db.ok()) << db.error().message;
    dir_ = std::filesystem::temp_directory_path() / ("tether-replicas-" + db->name);
    std::filesystem::create_directories(dir_);
    const auto path = dir_ / "tether.yaml";
    std::ofstream(path) << "listen: 127.0.0.1:0\nlog: { level: info }\n"
                        << "storage: { driver: postgres, dsn: \"" << db->dsn
                        << "\" }\nencryption: { key: \"" << std::string(64, 'e') << "\" }\n"
                        << "admin: { keys: [ \"${TETHER_ADMIN_KEY}\" ] }\n"
                        << "connections:\n  - kind: mcp\n    name: declared\n"
                        << "    url: http://127.0.0.1:1/mcp\n";
    for (int i = 0; i < 3; ++i) {
      replicas_.push_back(std::make_unique<Child>(
          std::vector<std::string>{binaryDir() + "/tether", "serve", "--config", path.string()},
          std::vector<std::string>{"TETHER_ADMIN_KEY=" + kAdminKey}));
      const uint16_t port = testing::waitListening(*replicas_.back());
      ASSERT_NE(port, 0) << replicas_.back()->err();
      bases_.push_back("http://127.0.0.1:" + std::to_string(port));
    }
    for (const auto& b : bases_) {
      const auto end = std::chrono::steady_clock::now() + seconds(30);
      while (get(b + "/readyz").status != 200 && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(milliseconds(50));
      }
      ASSERT_EQ(get(b + "/readyz").status, 200) << b;
    }
  }

  void TearDown() override {
    for (auto& r : replicas_) {
      r->signal(SIGTERM);
      EXPECT_EQ(r->wait(seconds(15)), 0) << r->err();
      EXPECT_EQ(r->err().find(kAdminKey), std::string::npos);
    }
    std::filesystem::remove_all(dir_);
  }

  struct Reply {
    int status = 0;
    std::string body;
  };
  Reply send(const std::string& method, const std::string& url, const std::string& body = {},
             bool admin = false) {
    http::ClientRequest req;
    req.method = method;
    req.url = url;
    req.body = body;
    if (admin) req.headers.push_back({"Authorization", "Bearer " + kAdminKey});
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    req.total_timeout = seconds(10);
    auto r = http_->send(req);
    return {r.ok() ? r.response.status : 0, r.response.body};
  }
  Reply get(const std::string& url) { return send("GET", url); }

  /// Waits (at most `deadline`) until every replica answers `path` with `status` and
  /// `body`; returns how long it took, or nullopt.
  std::optional<milliseconds> untilAll(const std::string& path, int status, const std::string& body,
                                       milliseconds deadline) {
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + deadline;
    for (;;) {
      bool all = true;
      for (const auto& b : bases_) {
        auto r = get(b + path);
        all = all && r.status == status && (body.empty() || r.body == body);
      }
      const auto now = std::chrono::steady_clock::now();
      if (all) return std::chrono::duration_cast<milliseconds>(now - start);
      if (now >= end) return std::nullopt;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  std::filesystem::path dir_;
  std::vector<std::unique_ptr<Child>> replicas_;
  std::vector<std::string> bases_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient({});
};

TEST_F(ConnectionsReplicasTest, CreateEditDeleteReachEveryReplicaWithinTwoSeconds) {
  NamedUpstream first("first"), second("second");
  const std::string admin = "/api/v1/admin/connections";

  // Create on replica 1: replica 1 serves it when the answer comes, 2 and 3 within 2 s.
  auto created = send("POST", bases_[0] + admin,
                      R"({"kind":"api","name":"weather","url":")" + first.url + R"("})", true);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(get(bases_[0] + "/api/weather/now").body, "first");
  auto took = untilAll("/api/weather/now", 200, "first", seconds(2));
  ASSERT_TRUE(took.has_value()) << "not every replica proxies the new connection within 2 s";

  // Edit its URL on replica 2: all three use the new one within 2 s.
  auto edited =
      send("PATCH", bases_[1] + admin + "/api/weather", R"({"url":")" + second.url + R"("})", true);
  ASSERT_EQ(edited.status, 200) << edited.body;
  took = untilAll("/api/weather/now", 200, "second", seconds(2));
  ASSERT_TRUE(took.has_value()) << "not every replica uses the new URL within 2 s";

  // The declared connection is read-only through the API, on every replica.
  EXPECT_EQ(send("DELETE", bases_[2] + admin + "/mcp/declared", "", true).status, 409);

  // Delete on replica 3: all answer 404 within 2 s.
  EXPECT_EQ(send("DELETE", bases_[2] + admin + "/api/weather", "", true).status, 204);
  took = untilAll("/api/weather/now", 404, "", seconds(2));
  ASSERT_TRUE(took.has_value()) << "a replica still serves the deleted connection after 2 s";
}

// The CLI against a running replica: create from a YAML snippet (secret only in the file),
// edit by flag, a refused edit names the field, delete; nothing printed holds the secret.
TEST_F(ConnectionsReplicasTest, CliCreatesEditsAndDeletesConnections) {
  NamedUpstream first("first"), second("second");
  const auto snippet = dir_ / "cli.yaml";
  std::ofstream(snippet) << "kind: api\nname: cli\nurl: " << first.url
                         << "\nauth:\n  mode: bearer\n  token: cli-secret-NEVER-PRINT\n";
  const std::vector<std::string> env = {"TETHER_ADMIN_KEY=" + kAdminKey};
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {binaryDir() + "/tether", "connections"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--url");
    argv.push_back(bases_[0]);
    auto r = testing::run(argv, env);
    EXPECT_EQ((r.out + r.err).find("NEVER-PRINT"), std::string::npos) << r.out << r.err;
    return r;
  };
  auto created = cli({"create", "-f", snippet.string()});
  EXPECT_EQ(created.code, 0) << created.out << created.err;
  EXPECT_NE(created.out.find("Created api/cli"), std::string::npos) << created.out;
  ASSERT_TRUE(untilAll("/api/cli/x", 200, "first", seconds(2)).has_value());

  auto edited = cli({"edit", "api/cli", "--upstream-url", second.url, "--if-match", "1"});
  EXPECT_EQ(edited.code, 0) << edited.out << edited.err;
  ASSERT_TRUE(untilAll("/api/cli/x", 200, "second", seconds(2)).has_value());

  auto refused = cli({"edit", "api/cli", "--upstream-timeout", "soon"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("field timeout"), std::string::npos) << refused.err;

  auto usage = cli({"create"});
  EXPECT_EQ(usage.code, 2) << usage.err;

  auto deleted = cli({"delete", "api/cli"});
  EXPECT_EQ(deleted.code, 0) << deleted.out << deleted.err;
  ASSERT_TRUE(untilAll("/api/cli/x", 404, "", seconds(2)).has_value());
}

}  // namespace
}  // namespace tether
