// build/tether-mock-idp as a real process: start-up flags, the control API over HTTP and
// --help.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/http_client.h"
#include "support/process.h"

namespace tether::mockidp {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

std::string binary() { return tether::testing::binaryDir() + "/tether-mock-idp"; }

class MockIdpBinaryTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> args) {
    args.insert(args.begin(), binary());
    child_ = std::make_unique<tether::testing::Child>(args);
    ASSERT_TRUE(child_->waitForStderr("mock IdP listening", seconds(20))) << child_->err();
    const std::string& err = child_->err();
    const size_t at = err.find("\"issuer\":\"") + 10;
    issuer_ = err.substr(at, err.find('"', at) - at);
    http_ = http::makeHttpClient();
  }
  void TearDown() override {
    if (child_) {
      child_->signal(SIGTERM);
      EXPECT_EQ(child_->wait(seconds(20)), 0);
    }
  }
  http::ClientResult call(std::string method, const std::string& path, std::string body = {},
                          std::string content_type = "application/json",
                          std::string authorization = {}) {
    http::ClientRequest r;
    r.method = std::move(method);
    r.url = issuer_ + path;
    r.body = std::move(body);
    r.headers.push_back({"Content-Type", std::move(content_type)});
    if (!authorization.empty()) r.headers.push_back({"Authorization", std::move(authorization)});
    return http_->send(r);
  }
  uint64_t counter(const std::string& name) {
    const auto r = call("GET", "/control/counters");
    const auto o = json::parse(r.response.body).as_object();
    return o.contains(name) ? o.at(name).to_number<uint64_t>() : 0;
  }
  http::ClientResult clientCredentials() {
    // tether-client:tether-secret
    return call("POST", "/token", "grant_type=client_credentials",
                "application/x-www-form-urlencoded", "Basic dGV0aGVyLWNsaWVudDp0ZXRoZXItc2VjcmV0");
  }

  std::unique_ptr<tether::testing::Child> child_;
  std::unique_ptr<http::HttpClient> http_;
  std::string issuer_;
};

TEST_F(MockIdpBinaryTest, StartUpFaultsThenControlApi) {
  start({"--port", "0", "--fault", "status_503,grant=client_credentials,times=2,retry_after=7"});
  auto r = clientCredentials();
  EXPECT_EQ(r.response.status, 503);
  EXPECT_EQ(http::findHeader(r.response.headers, "Retry-After"), "7");
  EXPECT_EQ(clientCredentials().response.status, 503);
  EXPECT_EQ(clientCredentials().response.status, 200);
  EXPECT_EQ(counter("requests.token.client_credentials"), 3u);

  r = call("POST", "/control/faults", R"({"kind":"html_403","grant":"client_credentials"})");
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(clientCredentials().response.status, 403);
  r = call("POST", "/control/faults", "nonsense_kind");
  EXPECT_EQ(r.response.status, 400);

  EXPECT_EQ(call("DELETE", "/control/counters").response.status, 200);
  EXPECT_EQ(counter("requests.token.client_credentials"), 0u);
}

TEST_F(MockIdpBinaryTest, ClockSettingsAndRevocation) {
  start({"--port", "0", "--access-token-lifetime", "5m", "--rotation", "one_time_use", "--client",
         "c1:s+cr/t="});
  auto clock = json::parse(call("GET", "/control/clock").response.body).as_object();
  const int64_t t0 = clock.at("now").as_int64();
  clock =
      json::parse(call("POST", "/control/clock", R"({"advance":"2h"})").response.body).as_object();
  EXPECT_GE(clock.at("now").as_int64() - t0, 7200);

  const auto settings = json::parse(call("GET", "/control/settings").response.body).as_object();
  EXPECT_EQ(settings.at("access_token_lifetime").as_int64(), 300);
  EXPECT_EQ(settings.at("rotation").as_string(), "one_time_use");
  auto r =
      call("POST", "/control/settings", R"({"basic_mode":"raw","access_token_lifetime":"1m"})");
  EXPECT_EQ(json::parse(r.response.body).at("basic_mode").as_string(), "raw");
  EXPECT_EQ(call("POST", "/control/settings", R"({"rotation":"sometimes"})").response.status, 400);

  // Raw mode: the raw secret is accepted (c1:s+cr/t=).
  const std::string raw_auth = "Basic YzE6cytjci90PQ==";
  r = call("POST", "/token", "grant_type=client_credentials", "application/x-www-form-urlencoded",
           raw_auth);
  ASSERT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(json::parse(r.response.body).at("expires_in").as_int64(), 60);

  EXPECT_EQ(call("POST", "/control/revoke", R"({"client_id":"c1"})").response.status, 200);
  r = call("POST", "/token", "grant_type=client_credentials", "application/x-www-form-urlencoded",
           raw_auth);
  EXPECT_EQ(r.response.status, 401);
  EXPECT_EQ(json::parse(r.response.body).at("error").as_string(), "invalid_client");
}

TEST_F(MockIdpBinaryTest, HelpDocumentsTheKnobs) {
  const auto r = tether::testing::run({binary(), "--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* word : {"--rotation", "--basic-mode", "--refresh-idle-timeout", "--fault",
                           "FAULTS", "CONTROL API", "/control/counters", "drop_after"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  }
  EXPECT_NE(tether::testing::run({binary(), "--fault", "explode"}).code, 0);
}

}  // namespace
}  // namespace tether::mockidp
