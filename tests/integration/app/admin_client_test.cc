// The operator commands' admin API client against loopback servers: answers in order when
// many are in flight, every failure as one line naming the URL, deadlines that hold, and
// the admin key sent but never shown.
#include "app/admin_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "http/server.h"

namespace tether::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kKey = "client-test-admin-key-NEVER-PRINT";

class AdminClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    routes_.add("GET", "/api/v1/admin/echo/{n}", [this](http::Request& req, http::Responder r) {
      {
        std::lock_guard lock(mu_);
        auth_.push_back(std::string(req.header("Authorization").value_or("")));
      }
      r.send(http::Response::json(200, R"({"n":")" + req.param("n") + R"("})"));
    });
    routes_.add("GET", "/api/v1/admin/text", [](http::Request&, http::Responder r) {
      r.send(http::Response::text(200, "<html>portal</html>"));
    });
    routes_.add("GET", "/api/v1/admin/refused", [](http::Request&, http::Responder r) {
      r.send(http::Response::json(
          409,
          R"({"error":{"code":"conflict","message":"mcp/demo needs a new sign-in\u001b[2J"}})"));
    });
    routes_.add("GET", "/api/v1/admin/bare-500", [](http::Request&, http::Responder r) {
      r.send(http::Response::text(500, "oops"));
    });
    http::ServerOptions o;
    o.port = 0;
    server_ = std::make_unique<http::Server>(o, routes_, nullptr);
    ASSERT_TRUE(server_->start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  AdminClient client(std::string url = {}) {
    AdminClientOptions o;
    o.url = url.empty() ? url_ + "/" : url;
    o.admin_key = kKey;
    o.timeout = std::chrono::milliseconds(500);
    o.connect_timeout = std::chrono::milliseconds(500);
    return AdminClient(std::move(o));
  }

  http::Router routes_;
  std::unique_ptr<http::Server> server_;
  std::string url_;
  std::mutex mu_;
  std::vector<std::string> auth_;
};

TEST_F(AdminClientTest, ManyAnswersComeBackInTheOrderAskedWithTheKeySent) {
  auto c = client();
  std::vector<std::string> paths;
  for (int i = 0; i < 60; ++i) paths.push_back("/api/v1/admin/echo/" + std::to_string(i));
  const auto answers = c.getAll(paths);
  ASSERT_EQ(answers.size(), paths.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].ok()) << answers[i].error;
    EXPECT_EQ(answers[i].json.at("n").as_string(), std::to_string(i));
  }
  std::lock_guard lock(mu_);
  ASSERT_EQ(auth_.size(), paths.size());
  for (const auto& a : auth_) EXPECT_EQ(a, "Bearer " + kKey);
}

TEST_F(AdminClientTest, EachFailureIsOneLineNamingTheUrlOrSayingTheServersReason) {
  auto c = client();
  auto text = c.call("GET", "/api/v1/admin/text");
  EXPECT_EQ(text.status, 200);
  EXPECT_THAT(text.error, HasSubstr("not JSON"));
  EXPECT_THAT(text.error, HasSubstr(url_));

  auto refused = c.call("GET", "/api/v1/admin/refused");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.error, "mcp/demo needs a new sign-in?[2J");  // no terminal escape
  EXPECT_EQ(refused.json.at("error").at("code"), "conflict");

  auto bare = c.call("GET", "/api/v1/admin/bare-500");
  EXPECT_EQ(bare.error, "Tether at " + url_ + " answered HTTP 500");

  for (const auto& a : {text, refused, bare}) {
    EXPECT_THAT(a.error, Not(HasSubstr("NEVER-PRINT")));
    EXPECT_EQ(a.error.find('\n'), std::string::npos);
  }
}

TEST_F(AdminClientTest, AServerThatNeverAnswersOrIsGoneFailsWithinTheDeadline) {
  // A socket that listens and never accepts: the kernel completes the handshake, nobody
  // answers.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string silent = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  auto c = client(silent);
  const auto start = std::chrono::steady_clock::now();
  auto one = c.call("GET", "/api/v1/admin/connections");
  auto many = c.getAll({"/api/v1/admin/a", "/api/v1/admin/b", "/api/v1/admin/c"});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(one.status, 0);
  EXPECT_THAT(one.error, HasSubstr("Tether at " + silent + " did not answer in time"));
  for (const auto& m : many) EXPECT_THAT(m.error, HasSubstr("did not answer in time"));
  ::close(fd);

  server_->stop();
  server_.reset();  // its listening socket closed: connections are refused
  auto gone = client().call("GET", "/api/v1/admin/connections");
  EXPECT_EQ(gone.status, 0);
  EXPECT_THAT(gone.error, HasSubstr("cannot reach Tether at " + url_));
  EXPECT_THAT(gone.error, Not(HasSubstr("NEVER-PRINT")));
}

TEST(AdminClientUrlTest, OnlyAPlainHttpBaseUrlWithoutCredentialsIsAccepted) {
  EXPECT_EQ(baseUrlProblem("http://127.0.0.1:8080"), "");
  EXPECT_EQ(baseUrlProblem("https://tether.example/base"), "");
  EXPECT_THAT(baseUrlProblem("ftp://127.0.0.1/"), HasSubstr("not an absolute http"));
  EXPECT_THAT(baseUrlProblem("127.0.0.1:8080"), HasSubstr("not an absolute http"));
  const auto creds = baseUrlProblem("http://admin:NEVER-PRINT@127.0.0.1:8080");
  EXPECT_THAT(creds, HasSubstr("must not hold credentials"));
  EXPECT_THAT(creds, Not(HasSubstr("NEVER-PRINT")));
  EXPECT_THAT(baseUrlProblem("http://127.0.0.1:8080/?key=x"), HasSubstr("query"));
  // An '@' in the path is not userinfo.
  EXPECT_EQ(baseUrlProblem("http://127.0.0.1:8080/a@b"), "");
}

}  // namespace
}  // namespace tether::app
