// server.tls (certificate and key files checked at load), log.access, and public_url with TLS.

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "support/test_certs.h"
#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using ::testing::HasSubstr;

class ServerTlsTest : public SectionTest {
 protected:
  void SetUp() override {
    a_ = ca_.issueServerCert("a", {"IP:127.0.0.1"});
    b_ = ca_.issueServerCert("b", {"IP:127.0.0.1"});
  }
  std::string tls(const std::string& cert, const std::string& key) {
    return "tls: { cert: \"" + cert + "\", key: \"" + key + "\" }";
  }
  std::string file(const std::string& name, const std::string& content) {
    const std::string path = ca_.dir() + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  // a_'s key written again under a passphrase.
  std::string encryptedKey() {
    FILE* in = std::fopen(a_.key_path.c_str(), "r");
    EVP_PKEY* key = PEM_read_PrivateKey(in, nullptr, nullptr, nullptr);
    std::fclose(in);
    const std::string path = ca_.dir() + "/encrypted.key";
    FILE* out = std::fopen(path.c_str(), "w");
    char pass[] = "passphrase";
    PEM_write_PKCS8PrivateKey(out, key, EVP_aes_256_cbc(), pass, 10, nullptr, nullptr);
    std::fclose(out);
    EVP_PKEY_free(key);
    return path;
  }

  tether::testing::TestCa ca_;
  tether::testing::CertKeyFiles a_;
  tether::testing::CertKeyFiles b_;
};

TEST_F(ServerTlsTest, AMatchingPairIsAccepted) {
  ServerConfig s;
  parseServer(reader_, entry(tls(a_.cert_path, a_.key_path), "server"), s);
  EXPECT_EQ(errors(), "");
  ASSERT_TRUE(s.tls);
  EXPECT_EQ(s.tls->cert_file, a_.cert_path);
  EXPECT_EQ(s.tls->key_file, a_.key_path);
}

TEST_F(ServerTlsTest, MissingKeysAndFilesAreNamed) {
  ServerConfig s;
  parseServer(reader_, entry("tls: { cert: \"" + a_.cert_path + "\" }", "server"), s);
  EXPECT_THAT(errors(), HasSubstr("server.tls.key: required"));
  EXPECT_FALSE(s.tls);
  parseServer(reader_, entry(tls(ca_.dir() + "/nope.pem", a_.key_path), "server"), s);
  EXPECT_THAT(errors(), HasSubstr("server.tls.cert: cannot read"));
  EXPECT_THAT(errors(), HasSubstr("No such file or directory"));
  EXPECT_FALSE(s.tls);
}

TEST_F(ServerTlsTest, AnUnreadableFileIsNamed) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  const std::string key = file("locked.key", "x");
  std::filesystem::permissions(key, std::filesystem::perms::none);
  ServerConfig s;
  parseServer(reader_, entry(tls(a_.cert_path, key), "server"), s);
  EXPECT_THAT(errors(), HasSubstr("server.tls.key: cannot read"));
  EXPECT_THAT(errors(), HasSubstr("Permission denied"));
}

TEST_F(ServerTlsTest, AKeyOfAnotherCertificateIsRefused) {
  ServerConfig s;
  parseServer(reader_, entry(tls(a_.cert_path, b_.key_path), "server"), s);
  EXPECT_THAT(errors(), HasSubstr("server.tls.key: \"" + b_.key_path +
                                  "\" is not the private key of the certificate"));
  EXPECT_FALSE(s.tls);
}

TEST_F(ServerTlsTest, AnEncryptedKeyIsRefused) {
  ServerConfig s;
  parseServer(reader_, entry(tls(a_.cert_path, encryptedKey()), "server"), s);
  EXPECT_THAT(errors(), HasSubstr("server.tls.key:"));
  EXPECT_THAT(errors(), HasSubstr("is encrypted"));
  EXPECT_FALSE(s.tls);
}

TEST_F(ServerTlsTest, FilesThatAreNotPemAreNamed) {
  ServerConfig s;
  parseServer(reader_, entry(tls(file("c.pem", "hello"), a_.key_path), "server"), s);
  EXPECT_THAT(errors(), HasSubstr("server.tls.cert: "));
  EXPECT_THAT(errors(), HasSubstr("holds no PEM certificate"));
  parseServer(reader_, entry(tls(a_.cert_path, a_.cert_path), "server"), s);
  EXPECT_THAT(errors(), HasSubstr("holds no PEM private key"));
  EXPECT_FALSE(s.tls);
}

TEST_F(ServerTlsTest, LogAccessDefaultsOnAndReadsABoolean) {
  LogConfig log;
  EXPECT_TRUE(log.access);
  parseLog(reader_, entry("{access: false}", "log"), log);
  EXPECT_FALSE(log.access);
  parseLog(reader_, entry("{access: loud}", "log"), log);
  EXPECT_THAT(errors(), HasSubstr("log.access"));
}

TEST_F(ServerTlsTest, PublicUrlDefaultsToHttpsAndAnHttpOneIsWarnedAbout) {
  const std::string base =
      "listen: 127.0.0.1:8443\nstorage: { allow_plaintext: true }\nserver: { " +
      tls(a_.cert_path, a_.key_path) + " }\n";
  auto defaulted = parseConfig(base, "t.yaml", env_);
  ASSERT_TRUE(defaulted.ok()) << defaulted.error().message;
  EXPECT_EQ(defaulted->config.public_url, "https://127.0.0.1:8443");
  auto http = parseConfig(base + "public_url: http://tether.example\n", "t.yaml", env_);
  ASSERT_TRUE(http.ok()) << http.error().message;
  std::string warnings;
  for (const auto& w : http->warnings) warnings += w + "\n";
  EXPECT_THAT(warnings, HasSubstr("public_url: is http:// while server.tls is set"));
}

}  // namespace
}  // namespace tether::config::sections
