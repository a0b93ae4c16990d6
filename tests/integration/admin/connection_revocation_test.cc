// Deleting a connection revokes its refresh token at the IdP (RFC 7009, issue #14 point 5):
// the real `tether serve` binary, a connection made and connected through the admin API
// against the mock IdP (in this process, to read its counters and script its faults). The
// IdP sees one revocation of that refresh token, which then no longer refreshes; an IdP that
// answers 500 or hangs, or has no revocation endpoint, leaves the delete a 204 within the
// revocation deadline, with a log line naming the connection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/random.h"
#include "http/http_client.h"
#include "mockidp/mock_idp.h"
#include "support/process.h"

namespace tether {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kAdminKey = "revocation-admin-key-NEVER-PRINT-0123";
const std::string kClientSecret = "revocation-client-secret-NEVER-PRINT";
const std::string kEncryptionKey(64, 'e');

struct Reply {
  int status = 0;
  std::string body;
  boost::json::value json;
};

class ConnectionRevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mockidp::MockIdpOptions o;
    o.clients = {{"tether-client", kClientSecret, {}}};
    o.settings.rotation = mockidp::Rotation::kNone;  // one refresh token per grant
    idp_ = std::make_unique<mockidp::MockIdp>(o);
    ASSERT_TRUE(idp_->start().ok());

    dir_ =
        std::filesystem::temp_directory_path() / ("tether-revoke-" + core::newId().substr(0, 10));
    std::filesystem::create_directories(dir_);
    const auto path = dir_ / "tether.yaml";
    std::ofstream(path) << "listen: 127.0.0.1:0\nlog: { level: info }\n"
                        << "storage: { driver: sqlite, path: " << (dir_ / "t.db").string()
                        << " }\nencryption: { key: \"${TETHER_ENCRYPTION_KEY}\" }\n"
                        << "admin: { keys: [ \"${TETHER_ADMIN_KEY}\" ] }\nconnections: []\n";
    serve_ = std::make_unique<Child>(
        std::vector<std::string>{binaryDir() + "/tether", "serve", "--config", path.string()},
        std::vector<std::string>{"TETHER_ENCRYPTION_KEY=" + kEncryptionKey,
                                 "TETHER_ADMIN_KEY=" + kAdminKey});
    const uint16_t port = testing::waitListening(*serve_);
    ASSERT_NE(port, 0) << serve_->err();
    base_ = "http://127.0.0.1:" + std::to_string(port);
    const auto end = std::chrono::steady_clock::now() + seconds(20);
    while (call("GET", "/readyz", "", false).status != 200) {
      ASSERT_LT(std::chrono::steady_clock::now(), end) << "not ready: " << serve_->err();
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  void TearDown() override {
    if (serve_) {
      serve_->signal(SIGTERM);
      EXPECT_EQ(serve_->wait(seconds(15)), 0);
      // Nothing secret in anything Tether logged.
      EXPECT_THAT(serve_->err(), Not(HasSubstr("NEVER-PRINT")));
      for (const auto& t : issued_) EXPECT_THAT(serve_->err(), Not(HasSubstr(t)));
    }
    idp_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Reply call(const std::string& method, const std::string& path, const std::string& body = "",
             bool admin = true) {
    http::ClientRequest req;
    req.method = method;
    req.url = path.starts_with("http") ? path : base_ + path;
    req.body = body;
    req.follow_redirects = !admin;
    req.total_timeout = seconds(30);
    if (admin) req.headers = {{"Authorization", "Bearer " + kAdminKey}};
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    auto r = http_->send(req);
    Reply out;
    if (!r.ok()) return out;
    out.status = r.response.status;
    out.body = r.response.body;
    boost::system::error_code ec;
    out.json = boost::json::parse(out.body, ec);
    return out;
  }

  // Creates mcp/<name> through the API (OAuth at the mock IdP) and connects it as an
  // operator does: start the flow, then the browser follows the (auto-approved) sign-in.
  // Returns the refresh token Tether now holds (the IdP's only live one).
  // `registered`: no client_id, so Tether registers itself at the IdP (RFC 7591).
  std::string createAndConnect(const std::string& name, bool registered = false) {
    const std::string client =
        registered ? ""
                   : R"(,"client_id":"tether-client","client_secret":")" + kClientSecret + "\"";
    const std::string entry = R"({"kind":"mcp","name":")" + name +
                              R"(","url":"http://127.0.0.1:1/mcp","auth":{"mode":"oauth",)"
                              R"("issuer":")" +
                              idp_->issuer() + "\"" + client + "}}";
    auto created = call("POST", "/api/v1/admin/connections", entry);
    EXPECT_EQ(created.status, 201) << created.body;
    auto started = call("POST", "/api/v1/admin/connections/mcp/" + name + "/oauth/start", "{}");
    EXPECT_EQ(started.status, 200) << started.body;
    if (started.status != 200) return "";
    const std::string url(started.json.at("authorization_url").as_string());
    call("GET", url, "", false);  // the browser: the IdP, then Tether's callback
    const auto end = std::chrono::steady_clock::now() + seconds(10);
    for (;;) {
      auto detail = call("GET", "/api/v1/admin/connections/mcp/" + name);
      if (detail.body.find("\"state\":\"connected\"") != std::string::npos) break;
      if (std::chrono::steady_clock::now() > end) {
        ADD_FAILURE() << "not connected: " << detail.body;
        return "";
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    auto live = idp_->liveRefreshTokens();
    EXPECT_EQ(live.size(), 1u);
    if (live.empty()) return "";
    issued_.push_back(live.front());
    return live.front();
  }

  // A refresh_token grant at the mock IdP with Tether's client: the IdP's answer status.
  int refreshAtIdp(const std::string& refresh_token) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = idp_->tokenUrl();
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = "grant_type=refresh_token&refresh_token=" + refresh_token +
               "&client_id=tether-client&client_secret=" + kClientSecret;
    req.total_timeout = seconds(10);
    auto r = http_->send(req);
    return r.ok() ? r.response.status : 0;
  }

  // The connection_deleted event's detail.reason, read back through the API (the event
  // is written off the request path: waited for, with a deadline).
  std::string deletedReason(const std::string& name) {
    const auto end = std::chrono::steady_clock::now() + seconds(10);
    for (;;) {
      auto r = call("GET", "/api/v1/admin/connections/deleted/mcp/" + name);
      if (r.status == 200 && r.json.is_object()) {
        for (const auto& e : r.json.at("auth_events").as_array()) {
          if (e.at("type").as_string() == "connection_deleted") {
            const auto* reason = e.at("detail").as_object().if_contains("reason");
            return reason ? std::string(reason->as_string()) : "";
          }
        }
      }
      if (std::chrono::steady_clock::now() > end) return "<no connection_deleted event>";
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<Child> serve_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::filesystem::path dir_;
  std::string base_;
  std::vector<std::string> issued_;
};

TEST_F(ConnectionRevocationTest, DeleteRevokesTheRefreshTokenAtTheIdp) {
  const std::string rt = createAndConnect("gone");
  ASSERT_FALSE(rt.empty());
  ASSERT_EQ(refreshAtIdp(rt), 200);  // it works before the delete
  idp_->resetCounters();

  auto deleted = call("DELETE", "/api/v1/admin/connections/mcp/gone");
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  // The revocation happened before the answer: exactly one call, for that token.
  EXPECT_EQ(idp_->counter("requests.revoke"), 1u);
  EXPECT_EQ(idp_->counter(mockidp::counters::kRefreshTokensRevoked), 1u);
  EXPECT_TRUE(idp_->liveRefreshTokens().empty());
  EXPECT_EQ(refreshAtIdp(rt), 400);  // invalid_grant: the grant is gone at the IdP too
  EXPECT_THAT(deletedReason("gone"), HasSubstr("refresh token revoked at the IdP"));
  EXPECT_TRUE(serve_->waitForStderr("its refresh token was revoked at the IdP", seconds(5)));
}

// A client Tether registered itself: the revocation authenticates as that client.
TEST_F(ConnectionRevocationTest, ARegisteredClientRevokesAsItself) {
  const std::string rt = createAndConnect("registered", /*registered=*/true);
  ASSERT_FALSE(rt.empty());
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 1u);
  auto deleted = call("DELETE", "/api/v1/admin/connections/mcp/registered");
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(idp_->counter("requests.revoke"), 1u);
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientAuthFailures), 0u);
  EXPECT_EQ(idp_->counter(mockidp::counters::kRefreshTokensRevoked), 1u);
  EXPECT_TRUE(idp_->liveRefreshTokens().empty());
}

// The revocation endpoint fails: the delete is still done (204), the token is gone from
// Tether, and the log names the connection and why.
TEST_F(ConnectionRevocationTest, AFailingRevocationEndpointIsLoggedNotFatal) {
  const std::string rt = createAndConnect("fails");
  ASSERT_FALSE(rt.empty());
  idp_->addFault(
      mockidp::parseFaultRule(R"({"endpoint":"revoke","kind":"status","status":500})").value());
  auto deleted = call("DELETE", "/api/v1/admin/connections/mcp/fails");
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(idp_->counter("requests.revoke"), 1u);
  EXPECT_EQ(call("GET", "/api/v1/admin/connections/mcp/fails").status, 404);
  ASSERT_TRUE(serve_->waitForStderr("could not be revoked at the IdP", seconds(5)))
      << serve_->err();
  const std::string err = serve_->err();
  const std::string line = err.substr(err.rfind('\n', err.find("could not be revoked")) + 1);
  EXPECT_THAT(line.substr(0, line.find('\n')), HasSubstr("\"connection\":\"mcp/fails\""));
  EXPECT_THAT(line.substr(0, line.find('\n')), HasSubstr("HTTP 500"));
  EXPECT_THAT(deletedReason("fails"), HasSubstr("revoking the refresh token at the IdP failed"));
}

TEST_F(ConnectionRevocationTest, AHangingRevocationEndpointEndsAtTheDeadline) {
  const std::string rt = createAndConnect("hangs");
  ASSERT_FALSE(rt.empty());
  idp_->addFault(
      mockidp::parseFaultRule(R"({"endpoint":"revoke","kind":"slow","delay_ms":60000})").value());
  const auto t0 = std::chrono::steady_clock::now();
  auto deleted = call("DELETE", "/api/v1/admin/connections/mcp/hangs");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  // The revocation deadline is 5 s; the answer comes after it, not after the IdP.
  EXPECT_LT(took, seconds(15));
  ASSERT_TRUE(serve_->waitForStderr("could not be revoked at the IdP", seconds(5)))
      << serve_->err();
  const std::string err = serve_->err();
  const std::string line = err.substr(err.rfind('\n', err.find("could not be revoked")) + 1);
  EXPECT_THAT(line.substr(0, line.find('\n')), HasSubstr("\"connection\":\"mcp/hangs\""));
  EXPECT_THAT(line.substr(0, line.find('\n')), HasSubstr("did not answer within"));
  idp_->clearFaults();
}

// An IdP without RFC 7009: no call, no error, the delete as usual.
TEST_F(ConnectionRevocationTest, AnIdpWithoutARevocationEndpointGetsNoCall) {
  idp_->update([](mockidp::MockIdpSettings& s) { s.revocation_endpoint = false; });
  const std::string rt = createAndConnect("plain");
  ASSERT_FALSE(rt.empty());
  auto deleted = call("DELETE", "/api/v1/admin/connections/mcp/plain");
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(idp_->counter("requests.revoke"), 0u);
  EXPECT_THAT(deletedReason("plain"), HasSubstr("not revoked (no revocation endpoint known)"));
  EXPECT_THAT(serve_->err(), Not(HasSubstr("could not be revoked")));
}

}  // namespace
}  // namespace tether
