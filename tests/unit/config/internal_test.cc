#include "config/internal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "unit/config/config_test_util.h"

namespace tether::config::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

EnvLookup env() { return testing::mapEnv({{"A", "alpha"}, {"B", "beta"}, {"EMPTY", ""}}); }

TEST(InterpolateEnvTest, ExpandsEveryReference) {
  EXPECT_EQ(interpolateEnv("plain", env()).value(), "plain");
  EXPECT_EQ(interpolateEnv("${A}", env()).value(), "alpha");
  EXPECT_EQ(interpolateEnv("x${A}-${B}y${A}", env()).value(), "xalpha-betayalpha");
  EXPECT_EQ(interpolateEnv("[${EMPTY}]", env()).value(), "[]");
  EXPECT_EQ(interpolateEnv("cost $5 and $ {A}", env()).value(), "cost $5 and $ {A}");
}

TEST(InterpolateEnvTest, DoubleDollarEscapesALiteralReference) {
  EXPECT_EQ(interpolateEnv("$${A}", env()).value(), "${A}");
  EXPECT_EQ(interpolateEnv("$${A}${B}", env()).value(), "${A}beta");
  EXPECT_EQ(interpolateEnv("$$", env()).value(), "$$");
}

TEST(InterpolateEnvTest, MissingVariableIsNamed) {
  auto r = interpolateEnv("pre-${A}-${NOPE}-post", env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "${NOPE} is not set");
}

TEST(InterpolateEnvTest, MalformedReferencesDoNotEchoTheValue) {
  for (const char* raw : {"s3cr3t-NEVER-PRINT${A", "${}", "${1A}", "${A B}s3cr3t-NEVER-PRINT"}) {
    auto r = interpolateEnv(raw, env());
    ASSERT_FALSE(r.ok()) << raw;
    EXPECT_THAT(r.error().message, Not(HasSubstr("NEVER-PRINT"))) << raw;
    EXPECT_THAT(r.error().message, HasSubstr("$${")) << raw;  // says how to escape
  }
}

TEST(CheckHttpUrlTest, AcceptsHttpAndHttps) {
  auto a = checkHttpUrl("https://IdP.Example.com:8443/path?q=1");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->scheme, "https");
  EXPECT_EQ(a->host, "idp.example.com");
  EXPECT_FALSE(a->loopback);
  auto b = checkHttpUrl("HTTP://[::1]:9000");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->scheme, "http");
  EXPECT_EQ(b->host, "::1");
  EXPECT_TRUE(b->loopback);
}

TEST(CheckHttpUrlTest, RejectsWithTheReason) {
  struct Case {
    const char* url;
    const char* reason;
  };
  for (const Case& c :
       {Case{"", "got an empty string"},
        Case{"idp.example.com/token", "expected an absolute http(s) URL"},
        Case{"/token", "expected an absolute http(s) URL"},
        Case{"ftp://idp.example.com", "got scheme \"ftp\""}, Case{"https:/token", "with a host"},
        Case{"https://u:p@idp.example.com", "user name or password"},
        Case{"https://u@idp.example.com", "user name or password"},
        Case{"https://idp.example.com/#x", "must not have a fragment"},
        Case{"https://idp.example.com:0/", "port must be a number"},
        Case{"https://idp.example.com:70000/", "port must be a number"},
        Case{"https://idp example.com/", "expected an absolute http(s) URL"}}) {
    auto r = checkHttpUrl(c.url);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_THAT(r.error().message, HasSubstr(c.reason)) << c.url;
  }
}

TEST(CheckHttpUrlTest, NeverEchoesUserinfo) {
  for (const char* url : {"https://demo:s3cr3t-NEVER-PRINT@idp.example.com/token",
                          "https://demo:s3cr3t-NEVER-PRINT@idp example.com/token",
                          "ftp://demo:s3cr3t-NEVER-PRINT@idp.example.com/"}) {
    auto r = checkHttpUrl(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_THAT(r.error().message, Not(HasSubstr("NEVER-PRINT"))) << url;
  }
}

TEST(LoopbackTest, RecognisesLoopbackOnly) {
  for (const char* h :
       {"localhost", "LOCALHOST", "app.localhost", "127.0.0.1", "127.255.0.9", "::1"}) {
    EXPECT_TRUE(isLoopbackHost(h)) << h;
  }
  for (const char* h : {"example.com", "localhost.example.com", "128.0.0.1", "10.0.0.1", "0.0.0.0",
                        "::", "::2", "fe80::1"}) {
    EXPECT_FALSE(isLoopbackHost(h)) << h;
  }
}

// The rule itself (core::normalizeOrigin) is tested in tests/unit/core/origin_test.cc.
TEST(BadOriginMessageTest, SaysWhatAnOriginHolds) {
  EXPECT_EQ(badOriginMessage("http://localhost:6274/app"),
            "expected an origin such as http://localhost:6274 (scheme, host and optional port "
            "only), got \"http://localhost:6274/app\"");
  EXPECT_EQ(badOriginMessage("localhost:6274")
                .find("expected an origin such as http://localhost:6274 (scheme, host and optional "
                      "port only): expected an absolute http(s) URL"),
            0u);
  EXPECT_EQ(badOriginMessage("http://u:NEVER-PRINT@x.example").find("NEVER-PRINT"),
            std::string::npos);
}

TEST(ParseListenTest, HostAndPort) {
  EXPECT_EQ(parseListen("127.0.0.1:8080")->toString(), "127.0.0.1:8080");
  EXPECT_EQ(parseListen("0.0.0.0:0")->port, 0);
  auto v6 = parseListen("[::1]:8080");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->toString(), "[::1]:8080");
  EXPECT_EQ(parseListen("Gateway.Local:443")->host, "gateway.local");
  for (const char* bad : {"8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http",
                          "127.0.0.1:65536", "::1:8080", "[::1]8080", "[nope]:80", "a b:80"}) {
    EXPECT_FALSE(parseListen(bad).ok()) << bad;
  }
}

TEST(DecodeKey32Test, HexOrBase64Of32Bytes) {
  std::string raw(32, '\0');
  for (int i = 0; i < 32; ++i) raw[i] = static_cast<char>(i);
  EXPECT_EQ(decodeKey32(testing::kEncryptionKeyHex).value(), raw);
  std::string upper(testing::kEncryptionKeyHex);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(decodeKey32(upper).value(), raw);
  EXPECT_EQ(decodeKey32(core::base64Encode(raw)).value(), raw);
  EXPECT_EQ(decodeKey32(core::base64UrlEncode(raw)).value(), raw);
}

TEST(DecodeKey32Test, WrongLengthsAreRejectedWithoutTheValue) {
  const std::string k16 = core::base64Encode("NEVER-PRINT-16by");
  const std::string k48 = core::base64Encode(std::string(48, 'N'));
  const std::string hex62 = std::string(testing::kEncryptionKeyHex).substr(0, 62);
  for (const std::string& text : {k16, k48, hex62, std::string("not a key!"), std::string()}) {
    auto r = decodeKey32(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(r.error().message, HasSubstr("<hidden>"));
    if (!text.empty()) {
      EXPECT_THAT(r.error().message, Not(HasSubstr(text)));
    }
  }
  EXPECT_THAT(decodeKey32(k16).error().message, HasSubstr("decode to 16 bytes"));
}

TEST(NameTest, Pattern) {
  for (const std::string& ok : {std::string("a"), std::string("demo"), std::string("0day"),
                                std::string("my_api-2"), std::string(63, 'x')}) {
    EXPECT_TRUE(isValidName(ok)) << ok;
  }
  for (const std::string& bad :
       {std::string(), std::string("Demo"), std::string("-x"), std::string("_x"),
        std::string("a b"), std::string("a.b"), std::string("a/b"), std::string(64, 'x')}) {
    EXPECT_FALSE(isValidName(bad)) << bad;
  }
}

TEST(DsnTest, MasksKeywordPasswords) {
  EXPECT_EQ(maskDsnPassword("host=db password=pg-NEVER-PRINT dbname=t"),
            "host=db password=******** dbname=t");
  EXPECT_EQ(maskDsnPassword("host=db password = 'a b\\' NEVER' dbname=t"),
            "host=db password = ******** dbname=t");
  EXPECT_EQ(maskDsnPassword("host=db dbname=t"), "host=db dbname=t");
  EXPECT_EQ(maskDsnPassword("host=db password='unterminated NEVER"), "********");
  EXPECT_THAT(dsnPasswords("host=db password='a b\\' NEVER' dbname=t"),
              UnorderedElementsAre("a b' NEVER", "'a b\\' NEVER'"));
  EXPECT_THAT(dsnPasswords("host=db dbname=t"), IsEmpty());
}

TEST(DsnTest, MasksUriPasswords) {
  EXPECT_EQ(maskDsnPassword("postgresql://u:p%40ss@db:5432/t?sslmode=require"),
            "postgresql://u:********@db:5432/t?sslmode=require");
  EXPECT_EQ(maskDsnPassword("postgres://u@db/t?password=NEVER&sslmode=disable"),
            "postgres://u@db/t?password=********&sslmode=disable");
  EXPECT_EQ(maskDsnPassword("postgres://db/t"), "postgres://db/t");
  EXPECT_THAT(dsnPasswords("postgresql://u:p%40ss@db:5432/t"), ElementsAre("p@ss", "p%40ss"));
}

}  // namespace
}  // namespace tether::config::internal
