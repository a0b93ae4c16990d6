// The server with `server.tls` on loopback: protocol versions (openssl s_client, curl),
// plain HTTP on the TLS port, the handshake deadline, ALPN, and a certificate reload that new
// connections see while an established one keeps working.
#include "http/tls_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "http/router.h"
#include "http/server.h"
#include "support/process.h"
#include "support/raw_http.h"
#include "support/test_certs.h"
#include "support/tls_client.h"

namespace tether::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::run;

constexpr std::string_view kGet = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    first_ = ca_.issueServerCert("first", {"IP:127.0.0.1", "DNS:localhost"});
    second_ = ca_.issueServerCert("second", {"IP:127.0.0.1", "DNS:localhost"});
    auto tls = TlsCredentials::load(first_.cert_path, first_.key_path);
    ASSERT_TRUE(tls.ok()) << tls.error().message;
    tls_ = *tls;
    router_.add("GET", "/hello",
                [](Request&, Responder r) { r.send(Response::text(200, "hello over tls")); });
    ServerOptions options;
    options.port = 0;
    options.read_timeout = milliseconds(500);
    options.tls = tls_;
    server_ = std::make_unique<Server>(options, router_, nullptr);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override { server_->stop(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  // openssl s_client with `args`, nothing on stdin: {exit code, stdout + stderr}.
  testing::RunResult sClient(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/bin/sh", "-c", ""};
    std::string cmd = "openssl s_client -connect " + address() + " -CAfile " + ca_.caCertPath();
    for (const auto& a : args) cmd += " '" + a + "'";
    argv[2] = cmd + " </dev/null 2>&1";
    return run(argv, {}, seconds(20));
  }

  testing::TestCa ca_;
  testing::CertKeyFiles first_;
  testing::CertKeyFiles second_;
  std::shared_ptr<TlsCredentials> tls_;
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(TlsServerTest, Tls12And13AreAcceptedWithAlpnHttp11) {
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    auto r = sClient({version, "-brief", "-alpn", "h2,http/1.1"});
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr(std::string("Protocol version: TLSv1.") + version[6])) << r.out;
    EXPECT_THAT(r.out, HasSubstr("Verification: OK")) << r.out;
  }
  auto alpn = sClient({"-alpn", "h2,http/1.1"});
  EXPECT_THAT(alpn.out, HasSubstr("ALPN protocol: http/1.1")) << alpn.out;
  // TLS 1.2 offers only ECDHE with AEAD ciphers.
  auto cbc = sClient({"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA"});
  EXPECT_NE(cbc.code, 0) << cbc.out;
}

TEST_F(TlsServerTest, CurlGetsAnAnswerOverTls12And13) {
  for (const char* version : {"1.2", "1.3"}) {
    auto r =
        run({"/usr/bin/curl", "-sS", "--cacert", ca_.caCertPath(), std::string("--tlsv") + version,
             "--tls-max", version, "https://" + address() + "/hello"},
            {}, seconds(20));
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "hello over tls") << r.err;
  }
}

TEST_F(TlsServerTest, Tls10And11AreRefusedByTheServer) {
  // The client's own security level would refuse them first: lowered to 0, so the refusal
  // seen is the server's (a protocol_version alert).
  for (const char* version : {"-tls1", "-tls1_1"}) {
    auto r = sClient({version, "-cipher", "DEFAULT:@SECLEVEL=0"});
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("alert protocol version")) << r.out;
    EXPECT_THAT(r.out, Not(HasSubstr("BEGIN CERTIFICATE")));
  }
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortGetsA400AndTheConnectionClosed) {
  testing::RawConnection c(server_->port());
  c.send(kGet);
  ASSERT_TRUE(c.readUntilClosed(seconds(5)));
  EXPECT_EQ(testing::statusOf(c.received()), 400) << c.received();
  EXPECT_THAT(c.received(), HasSubstr("HTTPS port"));
  auto curl = run({"/usr/bin/curl", "-sS", "http://" + address() + "/hello"}, {}, seconds(20));
  EXPECT_THAT(curl.out, HasSubstr("HTTPS port"));
}

TEST_F(TlsServerTest, AClientThatSendsNothingIsClosedAfterTheReadTimeout) {
  testing::RawConnection silent(server_->port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(silent.readUntilClosed(seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
  EXPECT_EQ(silent.received(), "");
  // A handshake that stops half way is bounded the same way.
  testing::RawConnection half(server_->port());
  half.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  ASSERT_TRUE(half.readUntilClosed(seconds(5)));
}

TEST_F(TlsServerTest, AReloadServesTheNewCertificateWhileAnOpenConnectionKeepsWorking) {
  testing::TlsClient before(server_->port(), ca_.caCertPath());
  ASSERT_TRUE(before.ok());
  EXPECT_THAT(before.exchange(kGet, "hello over tls"), HasSubstr("200 OK"));
  const std::string old_fp = before.fingerprint();

  ASSERT_TRUE(tls_->reload(second_.cert_path, second_.key_path).ok());
  testing::TlsClient after(server_->port(), ca_.caCertPath());
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after.fingerprint(), old_fp);
  EXPECT_THAT(after.exchange(kGet, "hello over tls"), HasSubstr("200 OK"));
  // The connection made before the reload goes on with its certificate.
  EXPECT_THAT(before.exchange(kGet, "hello over tls"), HasSubstr("200 OK"));

  // A failed reload (a key that is not the certificate's) changes nothing.
  auto bad = tls_->reload(first_.cert_path, second_.key_path);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("server.tls.key"));
  testing::TlsClient still(server_->port(), ca_.caCertPath());
  EXPECT_EQ(still.fingerprint(), after.fingerprint());
}

}  // namespace
}  // namespace tether::http
