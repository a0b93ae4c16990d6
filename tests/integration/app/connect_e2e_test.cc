// The connect flow as operators run it (issue #6): the real `tether serve`, `tether login`,
// the mock IdP as a process, and a real OpenID provider (oidc-provider from npm) driven by a
// real browser (playwright-core with Debian's chromium).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "http/http_client.h"
#include "support/process.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::sourceDir;

const std::string kAdminKey = "e2e-admin-key-0123456789abcdef";
const std::string kEncryptionKey(64, 'a');

std::string tether() { return binaryDir() + "/tether"; }

class ConnectE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (serve_) {
      serve_->signal(SIGTERM);
      EXPECT_EQ(serve_->wait(seconds(15)), 0);
      // Nothing secret in what Tether printed.
      EXPECT_THAT(serve_->err(), Not(HasSubstr(kAdminKey)));
      EXPECT_THAT(serve_->err(), Not(HasSubstr("demo-secret-NEVER-PRINT")));
    }
    serve_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Reads "listening on <url>" from a peer's stdout.
  static std::string issuerOf(Child& c) {
    if (!c.waitForStdout("listening on ", seconds(30))) return {};
    if (!c.waitForStdout("\n", seconds(5))) return {};
    std::smatch m;
    static const std::regex re(R"(listening on (\S+))");
    const std::string out = c.out();
    return std::regex_search(out, m, re) ? std::string(m[1]) : std::string();
  }

  // Starts `tether serve` with one OAuth connection; returns its base URL.
  std::string serve(const std::string& connection_yaml) {
    const auto path = dir_ / "tether.yaml";
    std::ofstream(path) << "listen: 127.0.0.1:0\nlog: { level: info }\n"
                        << "storage: { driver: sqlite, path: " << (dir_ / "t.db").string()
                        << " }\nencryption: { key: \"${TETHER_ENCRYPTION_KEY}\" }\n"
                        << "admin: { keys: [ \"${TETHER_ADMIN_KEY}\" ] }\nconnections:\n"
                        << connection_yaml;
    serve_ = std::make_unique<Child>(
        std::vector<std::string>{tether(), "serve", "--config", path.string()},
        std::vector<std::string>{"TETHER_ENCRYPTION_KEY=" + kEncryptionKey,
                                 "TETHER_ADMIN_KEY=" + kAdminKey,
                                 "DEMO_SECRET=demo-secret-NEVER-PRINT"});
    const uint16_t port = testing::waitListening(*serve_);
    if (port == 0) return {};
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 200; ++i) {  // until the store is open
      if (request("GET", base + "/readyz").status == 200) return base;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return {};
  }

  struct Reply {
    int status = 0;
    std::string body;
    boost::json::object json;
  };
  Reply request(const std::string& method, const std::string& url, bool admin = false) {
    http::ClientRequest req;
    req.method = method;
    req.url = url;
    if (admin) req.headers = {{"Authorization", "Bearer " + kAdminKey}};
    auto r = http_->send(req);
    Reply out;
    if (!r.ok()) return out;
    out.status = r.response.status;
    out.body = r.response.body;
    boost::system::error_code ec;
    auto v = boost::json::parse(out.body, ec);
    if (!ec && v.is_object()) out.json = v.as_object();
    return out;
  }

  std::vector<std::string> loginEnv(const std::string& browser) {
    return {"TETHER_ADMIN_KEY=" + kAdminKey, "BROWSER=" + browser,
            "XDG_STATE_HOME=" + (dir_ / "state").string()};
  }

  int linesIn(const std::filesystem::path& file) {
    std::ifstream in(file);
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Child> serve_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  static inline int counter_ = 0;
};

TEST_F(ConnectE2eTest, LoginConnectsThroughTheMockIdpAndOpensTheBrowserOncePerFiveMinutes) {
  Child idp({binaryDir() + "/tether-mock-idp", "--port", "0", "--client",
             "tether-client:demo-secret-NEVER-PRINT"});
  const std::string issuer = issuerOf(idp);
  ASSERT_FALSE(issuer.empty()) << idp.err();
  const std::string base = serve(
      "  - kind: mcp\n    name: demo\n    url: http://127.0.0.1:1/mcp\n    auth:\n"
      "      mode: oauth\n      issuer: " +
      issuer + "\n      client_id: tether-client\n      client_secret: \"${DEMO_SECRET}\"\n");
  ASSERT_FALSE(base.empty()) << serve_->err();

  // A "browser" that follows the sign-in (the mock IdP auto-approves) and notes each use.
  const auto browser = dir_ / "browser.sh";
  std::ofstream(browser) << "#!/bin/sh\necho \"$1\" >> " << (dir_ / "opened").string()
                         << "\nexec curl -s -o /dev/null -L --max-redirs 5 \"$1\"\n";
  std::filesystem::permissions(browser, std::filesystem::perms::owner_all);

  Child first({tether(), "login", "mcp/demo", "--url", base}, loginEnv(browser.string()));
  EXPECT_EQ(first.wait(seconds(60)), 0) << first.out() << first.err();
  EXPECT_THAT(first.out(), HasSubstr(issuer + "/authorize?"));
  EXPECT_THAT(first.out(), HasSubstr("(opened in the browser)"));
  EXPECT_THAT(first.out(), HasSubstr("Connected mcp/demo."));
  EXPECT_EQ(linesIn(dir_ / "opened"), 1);

  // Within 5 minutes the browser is not opened again; the operator follows the URL.
  Child second({tether(), "login", "mcp/demo", "--url", base}, loginEnv(browser.string()));
  ASSERT_TRUE(second.waitForStdout("Waiting for the sign-in", seconds(30))) << second.err();
  EXPECT_THAT(second.out(), HasSubstr("browser not opened again"));
  std::smatch m;
  const std::string out = second.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((http://\S+/authorize\?\S+))")));
  http::ClientRequest follow;
  follow.url = m[1];
  follow.follow_redirects = true;
  EXPECT_TRUE(http_->send(follow).ok());
  EXPECT_EQ(second.wait(seconds(60)), 0) << second.out();
  EXPECT_THAT(second.out(), HasSubstr("Connected mcp/demo."));
  EXPECT_EQ(linesIn(dir_ / "opened"), 1);

  // --force opens it anyway.
  Child forced({tether(), "login", "mcp/demo", "--url", base, "--force"},
               loginEnv(browser.string()));
  EXPECT_EQ(forced.wait(seconds(60)), 0) << forced.out();
  EXPECT_EQ(linesIn(dir_ / "opened"), 2);

  // The stored tokens refresh at the IdP.
  auto refreshed = request("POST", base + "/api/v1/admin/connections/mcp/demo/oauth/refresh", true);
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(refreshed.json["refreshed"], true);
  EXPECT_THAT(refreshed.body, Not(HasSubstr("access_token")));

  // Usage errors are clear and non-zero.
  auto bad = testing::run({tether(), "login", "demo", "--url", base});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("<kind>/<name>"));
  EXPECT_THAT(bad.err, HasSubstr("(see tether login --help)"));
  Child no_key({tether(), "login", "mcp/demo", "--url", base}, {"TETHER_ADMIN_KEY="});
  EXPECT_EQ(no_key.wait(seconds(30)), 2);
  EXPECT_THAT(no_key.err(), HasSubstr("TETHER_ADMIN_KEY"));
  Child wrong({tether(), "login", "mcp/nope", "--url", base}, loginEnv(browser.string()));
  EXPECT_EQ(wrong.wait(seconds(30)), 1);
  EXPECT_THAT(wrong.err(), HasSubstr("mcp/nope"));
}

TEST_F(ConnectE2eTest, RealOpenIdProviderThroughARealBrowserAndTheTokensRefresh) {
  Child provider({TETHER_NODE, sourceDir() + "/e2e/oidc-provider.mjs", "--port", "0", "--client-id",
                  "tether-e2e", "--any-loopback-port", "--redirect-uri",
                  "http://127.0.0.1/oauth/callback"});
  const std::string issuer = issuerOf(provider);
  ASSERT_FALSE(issuer.empty()) << provider.err();
  const std::string base = serve(
      "  - kind: mcp\n    name: oidc\n    url: http://127.0.0.1:1/mcp\n    auth:\n"
      "      mode: oauth\n      issuer: " +
      issuer +
      "\n      client_id: tether-e2e\n      scopes: \"openid offline_access\"\n"
      "      extra_params: { prompt: consent }\n");
  ASSERT_FALSE(base.empty()) << serve_->err();

  auto started = request("POST", base + "/api/v1/admin/connections/mcp/oidc/oauth/start", true);
  ASSERT_EQ(started.status, 200) << started.body;
  const std::string url(started.json["authorization_url"].as_string());
  EXPECT_THAT(url, HasSubstr(issuer));
  EXPECT_THAT(url, HasSubstr("code_challenge_method=S256"));

  const std::string shots = binaryDir() + "/test-artifacts/connect-oidc";
  std::filesystem::create_directories(shots);
  Child browser({TETHER_NODE, sourceDir() + "/e2e/browser-login.mjs", "--url", url, "--until",
                 base + "/oauth/callback", "--login", "alice", "--screenshots", shots,
                 "--timeout-ms", "60000"});
  ASSERT_EQ(browser.wait(seconds(120)), 0) << browser.out() << browser.err();
  boost::system::error_code ec;
  auto page = boost::json::parse(browser.out(), ec);
  ASSERT_FALSE(ec) << browser.out();
  EXPECT_EQ(page.at("status"), 200) << browser.out();
  EXPECT_THAT(std::string(page.at("text").as_string()),
              HasSubstr("Tether is now connected to mcp/oidc"));

  // The tokens refresh at the real provider, twice: the rotated refresh token was kept.
  for (int i = 0; i < 2; ++i) {
    auto refreshed =
        request("POST", base + "/api/v1/admin/connections/mcp/oidc/oauth/refresh", true);
    EXPECT_EQ(refreshed.status, 200) << refreshed.body;
  }
  auto flow = request("GET",
                      base + "/api/v1/admin/connections/mcp/oidc/oauth/flows/" +
                          std::string(started.json["correlation_id"].as_string()),
                      true);
  EXPECT_EQ(flow.json["status"], "completed") << flow.body;
  provider.signal(SIGTERM);
  EXPECT_EQ(provider.wait(seconds(15)), 0);
}

}  // namespace
}  // namespace tether
