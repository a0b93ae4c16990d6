// `tether serve` and SIGHUP: the configuration is read again, never an exit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "integration/app/loopback_upstream.h"
#include "support/process.h"
#include "support/raw_http.h"
#include "support/test_certs.h"
#include "support/tls_client.h"

namespace tether {
namespace {

using std::chrono::seconds;
using testing::binaryDir;
using testing::Child;
using ::testing::HasSubstr;
using ::testing::Not;

std::string tether() { return binaryDir() + "/tether"; }

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-reload-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "tether.yaml").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void writeConfig(const std::string& extra, const std::string& level = "info") {
    std::ofstream(path_) << "listen: 127.0.0.1:0\nlog: { level: " << level << " }\n"
                         << "storage: { driver: sqlite, path: " << (dir_ / "t.db").string()
                         << ", allow_plaintext: true }\n"
                         << extra << "\n";
  }

  static int healthz(testing::RawConnection& c) {
    c.clear();
    c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    c.readUntil("\"ok\"", seconds(5));
    return testing::statusOf(c.received());
  }

  std::filesystem::path dir_;
  std::string path_;
  static inline int counter_ = 0;
};

// The regression: SIGHUP used to end the process at once (exit 129, nothing drained).
TEST_F(ReloadTest, SighupKeepsServingAndAnExistingConnectionKeepsWorking) {
  writeConfig("");
  Child c({tether(), "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  testing::RawConnection kept(port);
  ASSERT_EQ(healthz(kept), 200);
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("configuration reloaded", seconds(10))) << c.err();
  EXPECT_EQ(healthz(kept), 200) << kept.received();
  testing::RawConnection fresh(port);
  EXPECT_EQ(healthz(fresh), 200);
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
}

TEST_F(ReloadTest, AnInvalidConfigOnSighupIsLoggedAndTheProcessRunsUnchanged) {
  writeConfig("");
  Child c({tether(), "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  writeConfig("keeper: { interval: banana, concurrency: 0 }");
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("configuration not reloaded", seconds(10))) << c.err();
  // Every problem named.
  EXPECT_TRUE(c.waitForStderr("keeper.concurrency", seconds(5))) << c.err();
  EXPECT_TRUE(c.waitForStderr("keeper.interval", seconds(5))) << c.err();
  testing::RawConnection fresh(port);
  EXPECT_EQ(healthz(fresh), 200);
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
}

TEST_F(ReloadTest, SighupAppliesTheLogLevelAndNamesSettingsThatNeedARestart) {
  writeConfig("");
  Child c({tether(), "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  {
    testing::RawConnection h(port);
    ASSERT_EQ(healthz(h), 200);
  }
  ASSERT_TRUE(c.waitForStderr("\"route\":\"/healthz\"", seconds(5))) << c.err();
  // log.level warn: the access log (info) goes quiet; server.max_connections needs a
  // restart; keeper.interval is applied live (the keeper restarts on it).
  writeConfig("keeper: { interval: 7m }\nserver: { max_connections: 77 }", "warn");
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("need a restart", seconds(10))) << c.err();
  EXPECT_THAT(c.err(), HasSubstr("\"settings\":\"server.max_connections\""));
  const size_t before = c.err().size();
  {
    testing::RawConnection h(port);
    ASSERT_EQ(healthz(h), 200);
  }
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
  EXPECT_THAT(c.err().substr(before), Not(HasSubstr("\"route\":\"/healthz\"")));
}

// webhooks[] on SIGHUP: the new endpoints are used at once (a test delivery reaches the new
// receiver, not the removed one), and they are not named as needing a restart.
TEST_F(ReloadTest, SighupReloadsTheWebhookEndpoints) {
  testing::Upstream first("first");
  testing::Upstream second("second");
  const std::string admin = "admin: { keys: [\"reload-webhooks-admin-key-01\"] }\n";
  auto hooks = [](const testing::Upstream& u) {
    return "webhooks:\n  - url: http://127.0.0.1:" + std::to_string(u.port()) +
           "/hook\n    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n";
  };
  writeConfig(admin + hooks(first));
  Child c({tether(), "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  // A test delivery through the admin API: its status (503 until the store is open).
  auto sendTest = [port] {
    testing::RawConnection t(port);
    t.send(
        "POST /api/v1/admin/webhooks/0/test HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
        "Authorization: Bearer reload-webhooks-admin-key-01\r\nConnection: close\r\n\r\n");
    t.readUntilClosed(seconds(15));
    return t.received();
  };
  const auto ready_by = std::chrono::steady_clock::now() + seconds(20);
  std::string answer = sendTest();
  while (testing::statusOf(answer) == 503 && std::chrono::steady_clock::now() < ready_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the store is opening
    answer = sendTest();
  }
  ASSERT_EQ(testing::statusOf(answer), 200) << answer;
  ASSERT_EQ(first.paths().size(), 1u);

  writeConfig(admin + hooks(second));
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("configuration reloaded", seconds(10))) << c.err();
  EXPECT_THAT(c.err(), HasSubstr("webhooks reloaded"));
  EXPECT_THAT(c.err(), Not(HasSubstr("need a restart")));
  answer = sendTest();
  EXPECT_EQ(testing::statusOf(answer), 200) << answer;
  EXPECT_THAT(answer, HasSubstr("\"delivered\":true"));
  EXPECT_EQ(second.paths(), std::vector<std::string>{"/hook"});
  EXPECT_EQ(first.paths().size(), 1u);  // the removed one gets nothing more
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
  EXPECT_THAT(c.err(), Not(HasSubstr("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")));
}

// server.tls on SIGHUP: the files are read again; a new connection gets the new
// certificate, one opened before keeps working. An invalid pair changes nothing.
TEST_F(ReloadTest, SighupServesTheNewCertificateWhileAnOpenTlsConnectionKeepsWorking) {
  testing::TestCa ca;
  const auto first = ca.issueServerCert("first", {"IP:127.0.0.1"});
  const auto second = ca.issueServerCert("second", {"IP:127.0.0.1"});
  const std::string cert = (dir_ / "tls.crt").string();
  const std::string key = (dir_ / "tls.key").string();
  std::filesystem::copy_file(first.cert_path, cert);
  std::filesystem::copy_file(first.key_path, key);
  writeConfig("server: { tls: { cert: \"" + cert + "\", key: \"" + key + "\" } }");
  Child c({tether(), "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  constexpr std::string_view kGet = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

  testing::TlsClient before(port, ca.caCertPath());
  ASSERT_TRUE(before.ok()) << c.err();
  EXPECT_THAT(before.exchange(kGet, "\"ok\""), HasSubstr("200 OK"));

  // A key that is not the certificate's: refused, the old certificate stays.
  std::filesystem::copy_file(second.key_path, key,
                             std::filesystem::copy_options::overwrite_existing);
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("configuration not reloaded", seconds(10))) << c.err();
  EXPECT_THAT(c.err(), HasSubstr("server.tls.key"));
  {
    testing::TlsClient same(port, ca.caCertPath());
    EXPECT_EQ(same.fingerprint(), before.fingerprint());
  }

  std::filesystem::copy_file(second.cert_path, cert,
                             std::filesystem::copy_options::overwrite_existing);
  c.signal(SIGHUP);
  ASSERT_TRUE(c.waitForStderr("TLS certificate reloaded", seconds(10))) << c.err();
  testing::TlsClient after(port, ca.caCertPath());
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after.fingerprint(), before.fingerprint());
  EXPECT_THAT(after.exchange(kGet, "\"ok\""), HasSubstr("200 OK"));
  EXPECT_THAT(before.exchange(kGet, "\"ok\""), HasSubstr("200 OK"));

  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
  EXPECT_THAT(c.err(), Not(HasSubstr("need a restart")));
}

// server.tls covers the admin listener too: with admin.listen set, both ports speak TLS with
// the same certificate and refuse plain HTTP.
TEST_F(ReloadTest, TheAdminListenerSpeaksTlsWithTheSameCertificate) {
  testing::TestCa ca;
  const auto issued = ca.issueServerCert("both", {"IP:127.0.0.1"});
  writeConfig("server: { tls: { cert: \"" + issued.cert_path + "\", key: \"" + issued.key_path +
              "\" } }\nadmin: { listen: 127.0.0.1:0 }");
  Child c({tether(), "serve", "--config", path_, "--log-format", "json"});
  const uint16_t port = testing::waitListening(c);
  ASSERT_NE(port, 0) << c.err();
  ASSERT_TRUE(c.waitForStderr("\"msg\":\"admin listening\"", seconds(10))) << c.err();
  std::smatch m;
  static const std::regex re(R"re("admin listening".*"address":"127\.0\.0\.1:(\d+)")re");
  const std::string err = c.err();
  ASSERT_TRUE(std::regex_search(err, m, re)) << err;
  const auto admin_port = static_cast<uint16_t>(std::stoi(m[1]));
  ASSERT_NE(admin_port, port);

  testing::TlsClient main_port(port, ca.caCertPath());
  testing::TlsClient admin(admin_port, ca.caCertPath());
  ASSERT_TRUE(main_port.ok());
  ASSERT_TRUE(admin.ok()) << "the admin listener did not complete a TLS handshake";
  EXPECT_EQ(admin.fingerprint(), main_port.fingerprint());
  // The admin API answers over TLS (401: no key), and plain HTTP on that port gets 400.
  EXPECT_THAT(
      admin.exchange("GET /api/v1/admin/connections HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "}"),
      HasSubstr("401"));
  testing::RawConnection plain(admin_port);
  plain.send("GET /api/v1/admin/connections HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(plain.readUntilClosed(seconds(5)));
  EXPECT_EQ(testing::statusOf(plain.received()), 400);

  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(seconds(15)), 0) << c.err();
}

}  // namespace
}  // namespace tether
