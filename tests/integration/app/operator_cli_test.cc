// The operator commands (`tether connections`, `status`, `events`, `refresh`,
// `delete-token`, `webhooks test`) as an operator runs them: the real `tether` binary
// against a real `tether serve` whose OAuth connection is connected through the mock IdP
// (a process too). `webhooks test` runs against a loopback server that answers the admin
// API's webhook contract (GET /webhooks, POST /webhooks/{i}/test).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "http/http_client.h"
#include "http/server.h"
#include "support/process.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::RunResult;
using ::testing::StartsWith;

const std::string kAdminKey = "cli-admin-key-NEVER-PRINT-0123456789";
const std::string kClientSecret = "cli-client-secret-NEVER-PRINT";
const std::string kEncryptionKey(64, 'c');
const std::string kViewerKey = "cli-viewer-key-NEVER-PRINT-0123456789";

std::string tether() { return binaryDir() + "/tether"; }

size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

boost::json::value parse(const std::string& s) {
  boost::system::error_code ec;
  auto v = boost::json::parse(s, ec);
  return ec ? boost::json::value() : v;
}

// What every run must respect: no token, no secret, no admin key in anything printed.
void expectNoSecret(const RunResult& r) {
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("NEVER-PRINT")));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("eyJ")));  // a JWT (the mock IdP's tokens)
}

// A usage error: exit 2, one line on stderr with the reason and the help hint, no stdout.
void expectUsage(const RunResult& r, const std::string& reason, const std::string& hint) {
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, StartsWith("tether: "));
  EXPECT_THAT(r.err, HasSubstr(reason));
  EXPECT_THAT(r.err, HasSubstr("see " + hint + " --help"));
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.out, "");
  expectNoSecret(r);
}

// A failure: exit 1, one line on stderr naming `subject`.
void expectFailed(const RunResult& r, const std::string& subject) {
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, StartsWith("tether: "));
  EXPECT_THAT(r.err, HasSubstr(subject));
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  expectNoSecret(r);
}

class OperatorCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("tether-opcli-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    idp_ = new Child({binaryDir() + "/tether-mock-idp", "--port", "0", "--client",
                      "tether-client:" + kClientSecret});
    ASSERT_TRUE(idp_->waitForStdout("listening on ", seconds(30))) << idp_->err();
    ASSERT_TRUE(idp_->waitForStdout("\n", seconds(5)));
    std::smatch m;
    const std::string out = idp_->out();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(listening on (\S+))")));
    issuer_ = m[1];

    const auto path = dir_ / "tether.yaml";
    std::ofstream(path) << "listen: 127.0.0.1:0\nlog: { level: info }\n"
                        << "storage: { driver: sqlite, path: " << (dir_ / "t.db").string()
                        << " }\nencryption: { key: \"${TETHER_ENCRYPTION_KEY}\" }\n"
                        << "admin: { keys: [ \"${TETHER_ADMIN_KEY}\", { id: ops, key: "
                           "\"${VIEWER_KEY}\", role: viewer } ] }\nconnections:\n"
                        << "  - kind: mcp\n    name: demo\n    url: http://127.0.0.1:1/mcp\n"
                        << "    auth:\n      mode: oauth\n      issuer: " << issuer_
                        << "\n      client_id: tether-client\n"
                        << "      client_secret: \"${CLIENT_SECRET}\"\n"
                        << "  - kind: mcp\n    name: idle\n    url: http://127.0.0.1:1/mcp\n"
                        << "    auth:\n      mode: oauth\n      issuer: " << issuer_
                        << "\n      client_id: tether-client\n"
                        << "      client_secret: \"${CLIENT_SECRET}\"\n"
                        << "  - kind: api\n    name: static\n    url: http://127.0.0.1:1/v1/\n"
                        << "    auth:\n      mode: bearer\n      token: \"${STATIC_TOKEN}\"\n";
    serve_ = new Child({tether(), "serve", "--config", path.string()},
                       {"TETHER_ENCRYPTION_KEY=" + kEncryptionKey, "TETHER_ADMIN_KEY=" + kAdminKey,
                        "CLIENT_SECRET=" + kClientSecret, "STATIC_TOKEN=static-NEVER-PRINT",
                        "VIEWER_KEY=" + kViewerKey});
    const uint16_t port = testing::waitListening(*serve_);
    ASSERT_NE(port, 0) << serve_->err();
    base_ = "http://127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 200 && api("GET", base_ + "/readyz", false).status != 200; ++i) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    connectDemo();
  }

  static void TearDownTestSuite() {
    if (serve_) {
      serve_->signal(SIGTERM);
      EXPECT_EQ(serve_->wait(seconds(15)), 0);
      EXPECT_THAT(serve_->err(), Not(HasSubstr("NEVER-PRINT")));
    }
    delete serve_;
    delete idp_;
    serve_ = nullptr;
    idp_ = nullptr;
    std::filesystem::remove_all(dir_);
  }

  struct Reply {
    int status = 0;
    std::string body;
  };
  static Reply api(const std::string& method, const std::string& url, bool admin = true,
                   const std::string& body = {}) {
    static auto http = http::makeHttpClient();
    http::ClientRequest req;
    req.method = method;
    req.url = url;
    req.body = body;
    req.follow_redirects = !admin;
    if (admin) req.headers = {{"Authorization", "Bearer " + kAdminKey}};
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    auto r = http->send(req);
    return r.ok() ? Reply{r.response.status, r.response.body} : Reply{};
  }

  // Connects mcp/demo: starts its flow and follows the sign-in (the mock IdP auto-approves).
  static void connectDemo() {
    auto started =
        api("POST", base_ + "/api/v1/admin/connections/mcp/demo/oauth/start", true, "{}");
    ASSERT_EQ(started.status, 200) << started.body;
    const auto url = parse(started.body).at("authorization_url").as_string();
    api("GET", std::string(url), false);  // the browser: IdP, then Tether's callback
    auto detail = api("GET", base_ + "/api/v1/admin/connections/mcp/demo");
    ASSERT_THAT(detail.body, HasSubstr("\"state\":\"connected\"")) << detail.body;
  }

  // `tether ARGS... --url BASE` with the admin key in the environment.
  static RunResult cli(std::vector<std::string> args, std::vector<std::string> env = {},
                       bool with_url = true) {
    args.insert(args.begin(), tether());
    if (with_url) {
      args.push_back("--url");
      args.push_back(base_);
    }
    if (env.empty()) env = {"TETHER_ADMIN_KEY=" + kAdminKey};
    return testing::run(args, env, seconds(60));
  }

  static inline std::filesystem::path dir_;
  static inline Child* idp_ = nullptr;
  static inline Child* serve_ = nullptr;
  static inline std::string issuer_;
  static inline std::string base_;
};

const char* kIsoRelative = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((in \S+|\S+ ago|now)\))";

TEST_F(OperatorCliTest, ConnectionsShowsEveryConnectionAsATableAndAsTheApisJson) {
  auto r = cli({"connections"});
  ASSERT_EQ(r.code, 0) << r.err;
  expectNoSecret(r);
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, MatchesRegex("CONNECTION +STATE +ACCESS TOKEN EXPIRES +LAST REFRESH +"
                                  "ATTENTION\n(.|\n)*"));
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(std::string(R"(\nmcp/demo +connected +)") + kIsoRelative + " +")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nmcp/idle +not connected +- +- +-\n)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\napi/static +not applicable \(bearer\) +-)")))
      << r.out;
  // Aligned: the STATE column starts at one offset on every line.
  std::istringstream in(r.out);
  std::vector<size_t> starts;
  for (std::string line; std::getline(in, line);) {
    const auto gap = line.find("  ");
    starts.push_back(line.find_first_not_of(' ', gap));
  }
  ASSERT_EQ(starts.size(), 4u) << r.out;
  EXPECT_TRUE(std::all_of(starts.begin(), starts.end(), [&](size_t s) { return s == starts[0]; }))
      << r.out;

  auto j = cli({"connections", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  expectNoSecret(j);
  const auto v = parse(j.out);
  ASSERT_TRUE(v.is_object()) << j.out;
  const auto& list = v.at("connections").as_array();
  ASSERT_EQ(list.size(), 3u);
  // Each element is exactly the connection's detail from the admin API.
  for (const auto& c : list) {
    const std::string path = "/api/v1/admin/connections/" + std::string(c.at("kind").as_string()) +
                             "/" + std::string(c.at("name").as_string());
    EXPECT_EQ(c, parse(api("GET", base_ + path).body)) << path;
  }
}

TEST_F(OperatorCliTest, StatusShowsOneConnectionAndANotFoundOneFails) {
  auto r = cli({"status", "mcp/demo"});
  ASSERT_EQ(r.code, 0) << r.err;
  expectNoSecret(r);
  EXPECT_THAT(r.out, MatchesRegex("connection +mcp/demo\n(.|\n)*"));
  EXPECT_THAT(r.out, HasSubstr("\nstate "));
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nstate +connected\n)"))) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(std::string(R"(\naccess token +expires )") + kIsoRelative + "\n")))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("refresh token"));
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nidentity provider +127\.0\.0\.1\n)")))
      << r.out;

  auto j = cli({"status", "mcp/demo", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(parse(j.out), parse(api("GET", base_ + "/api/v1/admin/connections/mcp/demo").body));

  auto s = cli({"status", "api/static"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_TRUE(std::regex_search(s.out, std::regex(R"(\nstate +not applicable)"))) << s.out;

  auto missing = cli({"status", "mcp/nope"});
  expectFailed(missing, "mcp/nope");
  EXPECT_EQ(missing.out, "");
  auto missing_json = cli({"status", "mcp/nope", "--json"});
  expectFailed(missing_json, "mcp/nope");
  EXPECT_EQ(parse(missing_json.out).at("error").at("code"), "not_found") << missing_json.out;
}

TEST_F(OperatorCliTest, EventsListsTheHistoryNewestFirstWithALimit) {
  auto r = cli({"events", "mcp/demo"});
  ASSERT_EQ(r.code, 0) << r.err;
  expectNoSecret(r);
  EXPECT_THAT(r.out, MatchesRegex("TIME +EVENT +ACTOR +IDP HOST +DETAIL\n(.|\n)*"));
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(std::string("\n") + kIsoRelative + " +connect completed +")))
      << r.out;

  // Numbers in the detail as written by a person: duration_ms=3.9, not 3.9E0.
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"( duration_ms=[0-9.]+ )"))) << r.out;

  auto j = cli({"events", "mcp/demo", "--limit", "1", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  const auto events = parse(j.out).at("events").as_array();
  ASSERT_EQ(events.size(), 1u) << j.out;
  EXPECT_EQ(parse(j.out), parse(api("GET", base_ + "/api/v1/admin/connections/mcp/demo/"
                                                   "auth-events?limit=1")
                                    .body));

  auto none = cli({"events", "api/static"});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_EQ(none.out, "no auth events for api/static\n");

  expectUsage(cli({"events", "mcp/demo", "--limit", "0"}), "--limit", "tether events");
  expectUsage(cli({"events", "mcp/demo", "--limit", "many"}), "--limit", "tether events");
  expectFailed(cli({"events", "mcp/nope"}), "mcp/nope");
}

TEST_F(OperatorCliTest, RefreshSucceedsThenFailsWhenTheIdpRevokesTheGrant) {
  auto r = cli({"refresh", "mcp/demo"});
  ASSERT_EQ(r.code, 0) << r.err;
  expectNoSecret(r);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(std::string(R"(^Refreshed mcp/demo: the access token expires )") +
                        kIsoRelative + R"(\.\n$)")))
      << r.out;
  auto j = cli({"refresh", "mcp/demo", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  expectNoSecret(j);
  EXPECT_EQ(parse(j.out).at("refreshed"), true) << j.out;

  // Never connected, not OAuth: the server says no, exit 1.
  expectFailed(cli({"refresh", "mcp/idle"}), "mcp/idle");
  expectFailed(cli({"refresh", "api/static"}), "api/static");

  // The IdP refuses the refresh token: exit 1 with its code; the list shows the badge.
  auto fault = api("POST", issuer_ + "/control/faults", false,
                   R"({"kind":"oauth_error","error":"invalid_grant","grant":"refresh_token"})");
  ASSERT_EQ(fault.status / 100, 2) << fault.body;
  auto refused = cli({"refresh", "mcp/demo"});
  expectFailed(refused, "refreshing mcp/demo failed");
  EXPECT_EQ(refused.out, "");
  auto list = cli({"connections"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_TRUE(std::regex_search(
      list.out, std::regex(R"(\nmcp/demo +needs reauth +.*reauth \(invalid_grant\): reconnect)")))
      << list.out;
  auto status = cli({"status", "mcp/demo"});
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(\nattention +reauth \(invalid_grant\))")))
      << status.out;
  connectDemo();
}

TEST_F(OperatorCliTest, DeleteTokenDeletesOnceThenSaysThereWasNone) {
  auto r = cli({"delete-token", "mcp/demo"});
  ASSERT_EQ(r.code, 0) << r.err;
  expectNoSecret(r);
  EXPECT_THAT(r.out, StartsWith("Deleted the stored tokens of mcp/demo."));
  auto again = cli({"delete-token", "mcp/demo", "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(parse(again.out), parse(R"({"deleted":false})")) << again.out;
  auto text = cli({"delete-token", "mcp/demo"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out, "mcp/demo had no stored token; nothing was deleted.\n");
  auto status = cli({"status", "mcp/demo"});
  EXPECT_TRUE(std::regex_search(status.out, std::regex(R"(\naccess token +none stored\n)")))
      << status.out;
  expectFailed(cli({"delete-token", "api/static"}), "api/static");
  connectDemo();
}

TEST_F(OperatorCliTest, UsageErrorsExit2WithOneLineAndTheHelpHint) {
  expectUsage(cli({"connectoins"}), "unknown command 'connectoins'", "tether");
  expectUsage(cli({"status"}), "connection is required", "tether status");
  expectUsage(cli({"status", "demo"}), "expected KIND/NAME", "tether status");
  expectUsage(cli({"refresh", "web/demo"}), "mcp or api", "tether refresh");
  expectUsage(cli({"delete-token", "mcp/../x"}), "not a connection name", "tether delete-token");
  expectUsage(cli({"events"}), "connection is required", "tether events");
  expectUsage(cli({"status", "mcp/demo", "--bogus"}), "--bogus", "tether status");
  expectUsage(cli({"connections", "extra"}), "extra", "tether connections");
  expectUsage(cli({"webhooks"}), "'webhooks' needs a command (test", "tether webhooks");
  expectUsage(cli({"webhooks", "test", "first"}), "INDEX", "tether webhooks test");
  const std::string missing = (dir_ / "no-such-key").string();
  expectUsage(cli({"connections", "--admin-key-file", missing}), missing, "tether connections");
  expectUsage(cli({"connections"}, {"TETHER_ADMIN_KEY="}), "TETHER_ADMIN_KEY",
              "tether connections");
  expectUsage(cli({"connections", "--url", "ftp://127.0.0.1/"}, {}, false), "ftp://",
              "tether connections");
  expectUsage(cli({"connections", "--url", "http://admin:NEVER-PRINT@127.0.0.1:1"}, {}, false),
              "must not hold credentials", "tether connections");
}

TEST_F(OperatorCliTest, AWrongKeyOrAnUnreachableTetherExit1AndNeverEchoTheKey) {
  for (const auto* json : {"", "--json"}) {
    std::vector<std::string> args{"connections"};
    if (*json) args.push_back(json);
    auto wrong = cli(args, {"TETHER_ADMIN_KEY=wrong-key-NEVER-PRINT"});
    expectFailed(wrong, "admin key is not valid");
    EXPECT_THAT(wrong.err, HasSubstr("TETHER_ADMIN_KEY"));
  }
  // A viewer key may look but not change anything.
  auto look = cli({"status", "mcp/demo"}, {"TETHER_ADMIN_KEY=" + kViewerKey});
  EXPECT_EQ(look.code, 0) << look.err;
  auto change = cli({"refresh", "mcp/demo"}, {"TETHER_ADMIN_KEY=" + kViewerKey});
  expectFailed(change, "viewer role");
  EXPECT_THAT(change.err, Not(HasSubstr("check TETHER_ADMIN_KEY")));  // the key is right

  // A Tether that accepts the connection and never answers: --timeout holds.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string silent = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const auto start = std::chrono::steady_clock::now();
  auto slow = cli({"refresh", "mcp/demo", "--url", silent, "--timeout", "1"}, {}, false);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  expectFailed(slow, "Tether at " + silent + " did not answer in time");
  ::close(fd);

  // A port nothing listens on.
  http::Router none;
  http::ServerOptions o;
  o.port = 0;
  auto gone = std::make_unique<http::Server>(o, none, nullptr);
  ASSERT_TRUE(gone->start().ok());
  const std::string dead = "http://127.0.0.1:" + std::to_string(gone->port());
  gone->stop();
  gone.reset();
  for (const auto* cmd : {"connections", "status", "events", "refresh", "delete-token"}) {
    std::vector<std::string> args{cmd};
    if (std::string(cmd) != "connections") args.push_back("mcp/demo");
    args.insert(args.end(), {"--url", dead, "--json"});
    auto r = cli(args, {}, false);
    expectFailed(r, "cannot reach Tether at " + dead);
    EXPECT_EQ(r.out, "") << cmd;
  }
}

// This Tether has no webhook configured: testing one fails (exit 1) with a line that says
// so, whether or not the binary has the webhook admin API yet.
TEST_F(OperatorCliTest, WebhooksTestWithoutWebhooksFails) {
  expectFailed(cli({"webhooks", "test"}), "webhook");
  expectFailed(cli({"webhooks", "test", "0"}), "webhook 0");
}

TEST_F(OperatorCliTest, TheKeyComesFromAFileAndTheUrlFromTetherUrl) {
  const auto key_file = dir_ / "admin.key";
  std::ofstream(key_file) << kAdminKey << "\n";
  auto r = testing::run({tether(), "status", "mcp/demo", "--admin-key-file", key_file.string()},
                        {"TETHER_ADMIN_KEY=", "TETHER_URL=" + base_ + "/"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("mcp/demo"));
  std::ofstream(dir_ / "empty.key") << "\n";
  expectUsage(cli({"status", "mcp/demo", "--admin-key-file", (dir_ / "empty.key").string()}),
              "is empty", "tether status");
}

// `tether webhooks test` against a loopback server answering the admin API's contract:
// GET /api/v1/admin/webhooks lists them, POST /api/v1/admin/webhooks/{index}/test answers
// {"delivered":bool,"status":int,"error":string?}.
TEST(OperatorCliWebhooksTest, TestsOneOrEveryWebhookAndExits1WhenOneIsNotDelivered) {
  http::Router routes;
  std::mutex mu;
  std::vector<std::string> auth_seen;
  routes.add("GET", "/api/v1/admin/webhooks", [&](http::Request& req, http::Responder r) {
    std::lock_guard lock(mu);
    auth_seen.push_back(std::string(req.header("Authorization").value_or("")));
    r.send(http::Response::json(
        200, R"({"webhooks":[{"url":"https://a.example/h"},{"url":"https://b.example/h"}]})"));
  });
  routes.add("POST", "/api/v1/admin/webhooks/{index}/test",
             [&](http::Request& req, http::Responder r) {
               std::lock_guard lock(mu);
               auth_seen.push_back(std::string(req.header("Authorization").value_or("")));
               const std::string i = req.param("index");
               std::string body = R"({"delivered":true,"status":204})";
               int status = 200;
               if (i == "1") {
                 body = R"({"delivered":false,"status":500,"error":"the receiver answered 500"})";
               } else if (i != "0") {
                 status = 404;
                 body = R"x({"error":{"code":"not_found","message":"no webhook )x" + i +
                        R"x( (2 are configured)"}})x";
               }
               r.send(http::Response::json(status, body));
             });
  http::ServerOptions o;
  o.port = 0;
  http::Server fake(o, routes, nullptr);
  ASSERT_TRUE(fake.start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(fake.port());
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {tether(), "webhooks", "test"});
    args.insert(args.end(), {"--url", url});
    return testing::run(args, {"TETHER_ADMIN_KEY=" + kAdminKey}, seconds(30));
  };

  auto one = run({"0"});
  EXPECT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "webhook 0: delivered (HTTP 204)\n");
  auto one_json = run({"0", "--json"});
  EXPECT_EQ(one_json.code, 0);
  EXPECT_EQ(parse(one_json.out), parse(R"({"delivered":true,"status":204})"));

  auto bad = run({"1"});
  expectFailed(bad, "webhook 1: not delivered (HTTP 500): the receiver answered 500");
  auto bad_json = run({"1", "--json"});
  EXPECT_EQ(bad_json.code, 1);
  EXPECT_EQ(parse(bad_json.out).at("delivered"), false);

  expectFailed(run({"7"}), "no webhook 7 (2 are configured)");

  auto all = run({});
  EXPECT_EQ(all.code, 1);
  EXPECT_EQ(all.out,
            "webhook 0: delivered (HTTP 204)\nwebhook 1: not delivered (HTTP 500): "
            "the receiver answered 500\n");
  EXPECT_THAT(all.err, HasSubstr("not every webhook"));
  auto all_json = run({"--json"});
  EXPECT_EQ(all_json.code, 1);
  EXPECT_EQ(parse(all_json.out), parse(R"({"webhooks":[{"index":0,"delivered":true,"status":204},)"
                                       R"({"index":1,"delivered":false,"status":500,)"
                                       R"("error":"the receiver answered 500"}]})"));
  fake.stop();
  std::lock_guard lock(mu);
  ASSERT_FALSE(auth_seen.empty());
  for (const auto& a : auth_seen) EXPECT_EQ(a, "Bearer " + kAdminKey);
}

}  // namespace
}  // namespace tether
