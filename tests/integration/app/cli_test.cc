// The real `tether` binary, as an operator runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "support/process.h"
#include "support/raw_http.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using testing::run;
using testing::sourceDir;
using ::testing::HasSubstr;
using ::testing::Not;

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
                      BadConfig{"duplicate_name.yaml", "duplicate_name.yaml:8: connections[1].name"},
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

// Starts `tether serve` on a free port and returns the port it logged.
uint16_t waitListening(Child& c) {
  if (!c.waitForStderr("\"msg\":\"listening\"", seconds(20))) return 0;
  std::smatch m;
  static const std::regex re(R"re("address":"127\.0\.0\.1:(\d+)")re");
  if (!std::regex_search(c.err(), m, re)) return 0;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

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

}  // namespace
}  // namespace tether
