// The real `tether` binary, as an operator runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
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
using testing::run;
using testing::sourceDir;

std::string tether() { return binaryDir() + "/tether"; }
std::string fixture(const std::string& name) { return sourceDir() + "/tests/data/cli/" + name; }

TEST(CliTest, VersionAndHelp) {
  auto v = run({tether(), "--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_THAT(v.out, HasSubstr("tether 0."));
  auto h = run({tether(), "--help"});
  EXPECT_EQ(h.code, 0);
  EXPECT_THAT(h.out, HasSubstr("serve"));
  EXPECT_THAT(h.out, HasSubstr("config"));
  auto none = run({tether()});
  EXPECT_NE(none.code, 0);
}

struct BadConfig {
  const char* file;
  const char* expected;  // file:line: key — the message must name both
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, ConfigCheckNamesLineAndKeyAndNeverPrintsASecret) {
  const auto& p = GetParam();
  auto r = run({tether(), "config", "check", fixture(p.file)});
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr(p.expected)) << r.err;
  EXPECT_THAT(r.err + r.out, Not(HasSubstr("NEVER-PRINT"))) << r.err;
  EXPECT_THAT(r.err + r.out, Not(HasSubstr("NEVERPRINT"))) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    TenBadConfigs, BadConfigTest,
    ::testing::Values(BadConfig{"unknown_key.yaml", "unknown_key.yaml:5: keeper.intervall"},
                      BadConfig{"bad_duration.yaml", "bad_duration.yaml:4: keeper.interval"},
                      BadConfig{"duplicate_name.yaml",
                                "duplicate_name.yaml:8: connections[1].name"},
                      BadConfig{"missing_env.yaml", "TETHER_TEST_SURELY_UNSET_VAR"},
                      BadConfig{"bad_url.yaml", "bad_url.yaml:6: connections[0].url"},
                      BadConfig{"url_userinfo.yaml", "url_userinfo.yaml:6: connections[0].url"},
                      BadConfig{"bad_name.yaml", "bad_name.yaml:5: connections[0].name"},
                      BadConfig{"bad_grant.yaml", "bad_grant.yaml:9: connections[0].auth.grant"},
                      BadConfig{"short_key.yaml", "short_key.yaml:3: encryption.key"},
                      BadConfig{"unknown_auth_key.yaml",
                                "unknown_auth_key.yaml:12: connections[0].auth.client_secrte"},
                      BadConfig{"bad_mode.yaml", "bad_mode.yaml:8: connections[0].auth.mode"},
                      BadConfig{"no_key_no_optout.yaml", "encryption"},
                      BadConfig{"malformed.yaml", "malformed.yaml:"}),
    [](const auto& info) {
      std::string n = info.param.file;
      return n.substr(0, n.find('.'));
    });

TEST(CliTest, MissingEnvVarErrorNamesFileLineAndKey) {
  auto r = run({tether(), "config", "check", fixture("missing_env.yaml")});
  EXPECT_THAT(r.err, HasSubstr("missing_env.yaml:9: connections[0].auth.token"));
}

TEST(CliTest, ConfigCheckPrintsEffectiveConfigWithSecretsMasked) {
  auto r = run({tether(), "config", "check", fixture("good.yaml")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("client_secret: \"********\""));
  EXPECT_THAT(r.out, HasSubstr("interval: 5m"));  // defaults filled in
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("NEVER-PRINT")));
}

using testing::waitListening;

TEST(CliTest, ServeAnswersHealthAndMetricsThenDrainsOnSigterm) {
  Child c({tether(), "serve", "--config", fixture("good.yaml")});
  const uint16_t port = waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  {
    testing::RawConnection h(port);
    h.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(h.readUntilClosed(seconds(5)));
    EXPECT_EQ(testing::statusOf(h.received()), 200);
    EXPECT_THAT(h.received(), HasSubstr(R"({"status":"ok"})"));
  }
  {
    testing::RawConnection m(port);
    m.send("GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(m.readUntilClosed(seconds(5)));
    EXPECT_THAT(m.received(), HasSubstr("tether_build_info{version="));
    EXPECT_THAT(m.received(), HasSubstr("tether_http_requests_total{route=\"/healthz\""));
  }
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
  EXPECT_THAT(c.err(), HasSubstr("stopping"));
  EXPECT_THAT(c.err(), Not(HasSubstr("NEVER-PRINT")));
}

TEST(CliTest, SigintInTheMiddleOfAKeepAliveConnectionStillExitsZero) {
  Child c({tether(), "serve", "--config", fixture("good.yaml"), "--log-format", "json"});
  const uint16_t port = waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  testing::RawConnection h(port);
  h.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  h.readUntil("ok", seconds(5));
  c.signal(SIGINT);
  EXPECT_EQ(c.wait(seconds(15)), 0);
  EXPECT_TRUE(h.readUntilClosed(seconds(5)));
}

TEST(CliTest, ServeWithABadConfigExitsNonZeroWithTheReason) {
  auto r = run({tether(), "serve", "--config", fixture("bad_grant.yaml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("connections[0].auth.grant"));
  EXPECT_THAT(r.err, Not(HasSubstr("NEVER-PRINT")));
}

// A usage error says why in one line on stderr and exits 2, like an invalid configuration.
void expectUsageError(const std::vector<std::string>& argv, const std::string& reason) {
  auto r = run(argv);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(reason));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, ::testing::StartsWith("tether: ")) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(CliTest, UnknownOrMissingCommandsExit2WithAOneLineReason) {
  expectUsageError({tether(), "srve"}, "unknown command 'srve'");
  expectUsageError({tether(), "srve", "--config", fixture("good.yaml")}, "unknown command 'srve'");
  expectUsageError({tether(), "config", "chek", fixture("good.yaml")}, "unknown command 'chek'");
  expectUsageError({tether(), "keys"}, "'keys' needs a command (rotate");
  expectUsageError({tether()}, "a command is required (serve, config, keys, login");
  expectUsageError({tether(), "serve", "--config", fixture("good.yaml"), "--bogus"}, "--bogus");
  // What CLI11 finds is said with the help hint of the command.
  expectUsageError({tether(), "serve", "--config", fixture("good.yaml"), "--bogus"},
                   "(see tether serve --help)");
  expectUsageError({tether(), "keys", "--bogus"}, "see tether keys --help");
}

TEST(CliTest, AMissingConfigFileExits2WithAOneLineReason) {
  const std::string missing = sourceDir() + "/tests/data/cli/no-such-file.yaml";
  expectUsageError({tether(), "serve", "--config", missing}, missing);
  expectUsageError({tether(), "config", "check", missing}, missing);
  expectUsageError({tether(), "keys", "rotate", "--config", missing}, missing);
  expectUsageError({tether(), "serve"}, "--config is required");
}

}  // namespace
}  // namespace tether

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kKey1(64, '1');
const std::string kKey2(64, '2');

// `tether serve` with a store: a config in a temp dir, keys from the environment.
class ServeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string config(const std::string& storage, const std::string& encryption) {
    const auto path = dir_ / ("tether-" + std::to_string(counter_++) + ".yaml");
    std::ofstream(path) << "listen: 127.0.0.1:0\nlog: { level: info }\nstorage: " << storage << "\n"
                        << encryption << "\n";
    return path.string();
  }
  std::string sqlite() const {
    return "{ driver: sqlite, path: " + (dir_ / "var/t.db").string() + " }";
  }

  /// GET `path` on a running serve; the status (0 when no answer).
  static int get(uint16_t port, const std::string& path, std::string* body = nullptr) {
    testing::RawConnection c(port);
    c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    c.readUntilClosed(seconds(5));
    if (body) *body = testing::bodyOf(c.received());
    return testing::statusOf(c.received());
  }
  /// Polls /readyz (bounded) until it answers `want`.
  static bool waitReady(uint16_t port, int want) {
    for (int i = 0; i < 200; ++i) {
      if (get(port, "/readyz") == want) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }

  std::filesystem::path dir_;
  static inline int counter_ = 0;
};

TEST_F(ServeStoreTest, ReadyOnceTheSqliteStoreIsOpenAndTheFileHoldsNoKey) {
  const auto cfg = config(sqlite(), "encryption: { key: \"${TETHER_TEST_KEY}\" }");
  Child c({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey1});
  const uint16_t port = waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  ASSERT_TRUE(waitReady(port, 200)) << c.err();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "var/t.db"));  // var/ created as needed
  EXPECT_TRUE(c.waitForStderr("\"msg\":\"store open\"", seconds(5))) << c.err();
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0);
  EXPECT_THAT(c.err(), Not(HasSubstr(kKey1)));
}

TEST_F(ServeStoreTest, AWrongKeyIsAClearErrorAtStart) {
  {
    const auto cfg = config(sqlite(), "encryption: { key: \"${TETHER_TEST_KEY}\" }");
    Child first({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey1});
    const uint16_t port = waitListening(first);
    ASSERT_TRUE(waitReady(port, 200)) << first.err();
    first.signal(SIGTERM);
    ASSERT_EQ(first.wait(seconds(15)), 0);
  }
  const auto cfg = config(sqlite(), "encryption: { key: \"${TETHER_TEST_KEY}\" }");
  Child second({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey2});
  EXPECT_EQ(second.wait(seconds(15)), 1) << second.err();
  EXPECT_THAT(second.err(), HasSubstr("cannot open the store"));
  EXPECT_THAT(second.err(), HasSubstr("key"));
  EXPECT_THAT(second.err(), Not(HasSubstr(kKey2)));
  EXPECT_THAT(second.err(), Not(HasSubstr(kKey1)));
}

// SQLite serves one process: a second `tether serve` on the same file would run a second
// keeper racing the first over one-time-use refresh tokens. It is refused at start.
TEST_F(ServeStoreTest, ASecondServeOnTheSameSqliteFileExitsNamingTheFile) {
  const auto cfg = config(sqlite(), "encryption: { key: \"${TETHER_TEST_KEY}\" }");
  Child first({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey1});
  const uint16_t port = waitListening(first);
  ASSERT_NE(port, 0) << first.err();
  ASSERT_TRUE(waitReady(port, 200)) << first.err();

  Child second({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey1});
  EXPECT_EQ(second.wait(seconds(30)), 1) << second.err();
  EXPECT_THAT(second.err(), HasSubstr((dir_ / "var/t.db").string()));
  EXPECT_THAT(second.err(), HasSubstr("in use"));
  EXPECT_THAT(second.err(), Not(HasSubstr(kKey1)));

  // The first one serves on, unaffected.
  EXPECT_EQ(get(port, "/readyz"), 200);
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(seconds(15)), 0);
}

TEST_F(ServeStoreTest, PlaintextStorageWarnsAtEveryStart) {
  const auto cfg = config(
      "{ driver: sqlite, path: " + (dir_ / "p.db").string() + ", allow_plaintext: true }", "");
  for (int i = 0; i < 2; ++i) {
    Child c({tether(), "serve", "--config", cfg});
    const uint16_t port = waitListening(c);
    ASSERT_TRUE(waitReady(port, 200)) << c.err();
    EXPECT_THAT(c.err(), HasSubstr("UNENCRYPTED"));
    c.signal(SIGTERM);
    EXPECT_EQ(c.wait(seconds(15)), 0);
  }
}

TEST_F(ServeStoreTest, PostgresDownAtStartIsNotReadyButHealthyAndStopsCleanly) {
  // A port nothing listens on: bind one, close it, use it.
  uint16_t dead_port = 0;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    dead_port = ntohs(a.sin_port);
    ::close(fd);
  }
  const auto cfg =
      config("{ driver: postgres, dsn: \"host=127.0.0.1 port=" + std::to_string(dead_port) +
                 " dbname=tether connect_timeout=1\" }",
             "encryption: { key: \"${TETHER_TEST_KEY}\" }");
  Child c({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey1});
  const uint16_t port = waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  EXPECT_EQ(get(port, "/healthz"), 200);
  std::string body;
  EXPECT_EQ(get(port, "/readyz", &body), 503);
  EXPECT_THAT(body, HasSubstr("\"check\":\"store\""));
  EXPECT_TRUE(c.waitForStderr("store unavailable; retrying", seconds(10))) << c.err();
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
}

TEST_F(ServeStoreTest, KeysRotateReSealsUnderTheNewKey) {
  {
    const auto cfg = config(sqlite(), "encryption: { key: \"${TETHER_TEST_KEY}\" }");
    Child first({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey1});
    ASSERT_TRUE(waitReady(waitListening(first), 200)) << first.err();
    first.signal(SIGTERM);
    ASSERT_EQ(first.wait(seconds(15)), 0);
  }
  const auto rotate_cfg =
      config(sqlite(), "encryption: { key: \"${NEW_KEY}\", previous_keys: [ \"${OLD_KEY}\" ] }");
  auto r = testing::run({tether(), "keys", "rotate", "--config", rotate_cfg},
                        {"NEW_KEY=" + kKey2, "OLD_KEY=" + kKey1});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("re-sealed "));
  // The new key alone now opens the store; the old one alone does not.
  const auto cfg = config(sqlite(), "encryption: { key: \"${TETHER_TEST_KEY}\" }");
  {
    Child ok({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey2});
    ASSERT_TRUE(waitReady(waitListening(ok), 200)) << ok.err();
    ok.signal(SIGTERM);
    EXPECT_EQ(ok.wait(seconds(15)), 0);
  }
  Child old({tether(), "serve", "--config", cfg}, {"TETHER_TEST_KEY=" + kKey1});
  EXPECT_EQ(old.wait(seconds(15)), 1) << old.err();
}

}  // namespace
}  // namespace tether

#include "http/server.h"

namespace tether {
namespace {

using std::chrono::seconds;
using testing::Child;
using ::testing::HasSubstr;
using ::testing::Not;

// `tether serve` proxies /api/{name}/... to the connection's upstream with its credentials,
// and never forwards the caller's own Authorization.
TEST_F(ServeStoreTest, ServeProxiesApiCallsWithTheConnectionsCredentials) {
  http::Router upstream_routes;
  std::mutex mu;
  std::string seen_auth, seen_path, seen_query;
  upstream_routes.add("GET", "/v2/{rest*}", [&](http::Request& req, http::Responder r) {
    std::lock_guard lock(mu);
    seen_auth = std::string(req.header("Authorization").value_or(""));
    seen_path = req.path;
    seen_query = req.query;
    r.send(http::Response::json(200, R"({"hello":"from upstream"})"));
  });
  http::ServerOptions o;
  o.port = 0;
  http::Server upstream(o, upstream_routes, nullptr);
  ASSERT_TRUE(upstream.start().ok());

  const auto cfg =
      config("{ driver: sqlite, path: " + (dir_ / "p.db").string() + ", allow_plaintext: true }",
             "connections:\n  - kind: api\n    name: billing\n    url: http://127.0.0.1:" +
                 std::to_string(upstream.port()) +
                 "/v2/\n    auth:\n      mode: bearer\n      token: \"${BILLING_TOKEN}\"\n");
  Child c({tether(), "serve", "--config", cfg}, {"BILLING_TOKEN=billing-token-NEVER-PRINT"});
  const uint16_t port = waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  testing::RawConnection h(port);
  h.send("GET /api/billing/invoices/42?expand=lines HTTP/1.1\r\nHost: 127.0.0.1:" +
         std::to_string(port) +
         "\r\n"
         "Authorization: Bearer callers-own-key\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(h.readUntilClosed(seconds(10)));
  EXPECT_EQ(testing::statusOf(h.received()), 200) << h.received();
  EXPECT_THAT(h.received(), HasSubstr("from upstream"));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen_auth, "Bearer billing-token-NEVER-PRINT");
    EXPECT_EQ(seen_path, "/v2/invoices/42");
    EXPECT_EQ(seen_query, "expand=lines");
  }
  // Unknown connection: 404 naming it.
  testing::RawConnection u(port);
  u.send("GET /api/nope/x HTTP/1.1\r\nHost: localhost:" + std::to_string(port) +
         "\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(u.readUntilClosed(seconds(10)));
  EXPECT_EQ(testing::statusOf(u.received()), 404);
  EXPECT_THAT(u.received(), HasSubstr("nope"));
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0);
  EXPECT_THAT(c.err(), Not(HasSubstr("NEVER-PRINT")));
  upstream.stop();
}

}  // namespace
}  // namespace tether
