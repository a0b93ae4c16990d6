// The YAML reader on its own: typed getters, unknown and duplicate keys, and the
// "file:line: path: what" shape of every message.

#include "config/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/config/config_test_util.h"

namespace tether::config {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class ReaderTest : public ::testing::Test {
 protected:
  Entry entry(std::string_view yaml, std::string path = "s") {
    node_ = YAML::Load(std::string(yaml));
    return Entry{node_, 3, std::move(path)};
  }
  EnvLookup env_ = testing::defaultEnv();
  Reader r_{"f.yaml", env_};
  YAML::Node node_;
};

TEST_F(ReaderTest, MessagesNameFileLineAndPath) {
  EXPECT_EQ(r_.where(7, "a.b"), "f.yaml:7: a.b: ");
  EXPECT_EQ(r_.where(1, ""), "f.yaml:1: ");
  r_.error(4, "server.io_threads", "must be from 1 to 256, got 0");
  EXPECT_EQ(r_.errorCount(), 1u);
  EXPECT_EQ(r_.errorReport(), "f.yaml:4: server.io_threads: must be from 1 to 256, got 0");
  r_.warn(2, "public_url", "not set");
  EXPECT_THAT(r_.takeWarnings(), ::testing::ElementsAre("f.yaml:2: public_url: not set"));
}

TEST_F(ReaderTest, ErrorsPastTheCapAreCounted) {
  for (int i = 0; i < 60; ++i) r_.error(i + 1, "k", "bad");
  EXPECT_EQ(r_.errorCount(), 60u);
  const std::string report = r_.errorReport();
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 50);
  EXPECT_THAT(report, HasSubstr("\n(10 more errors not shown)"));
}

TEST_F(ReaderTest, MapRefusesUnknownAndDuplicateKeys) {
  auto m = r_.readMap(entry("a: 1\nzz: 2\na: 3\n"), {"a", "b"});
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->has("a"));
  EXPECT_FALSE(m->has("zz"));
  EXPECT_EQ(m->get("a")->path, "s.a");
  EXPECT_EQ(m->get("a")->line, 1);
  EXPECT_EQ(r_.errorReport(),
            "f.yaml:2: s.zz: unknown key (allowed: a, b)\n"
            "f.yaml:3: s.a: duplicate key (first set at line 1)");
}

TEST_F(ReaderTest, NullIsAnEmptyMapOrListAndOtherTypesAreNamed) {
  EXPECT_TRUE(r_.readMap(entry("~"), {"a"})->entries().empty());
  EXPECT_THAT(*r_.readList(entry("~")), IsEmpty());
  EXPECT_FALSE(r_.readMap(entry("[1, 2]"), {"a"}).has_value());
  EXPECT_FALSE(r_.readList(entry("{a: 1}")).has_value());
  EXPECT_EQ(r_.errorReport(),
            "f.yaml:3: s: expected a map, got a list\nf.yaml:3: s: expected a list, got a map");
}

TEST_F(ReaderTest, ListItemsGetTheirLinesAndIndexes) {
  auto items = r_.readList(entry("- a\n- b\n"));
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[1].path, "s[1]");
  EXPECT_EQ((*items)[1].line, 2);
}

TEST_F(ReaderTest, TypedScalars) {
  EXPECT_EQ(r_.integer(entry("42"), 1, 100), 42);
  EXPECT_EQ(r_.boolean(entry("TRUE")), true);
  EXPECT_EQ(r_.duration(entry("5m")), std::chrono::minutes(5));
  EXPECT_EQ(r_.duration(entry("0s"), /*allow_zero=*/true), std::chrono::milliseconds(0));
  EXPECT_EQ(r_.oneOf<int>(entry("b"), {{"a", 1}, {"b", 2}}), 2);
  EXPECT_EQ(r_.str(entry("x-${HOOK_SECRET}")), "x-" + std::string(testing::kHookSecret));
  EXPECT_EQ(r_.errorCount(), 0u);
}

TEST_F(ReaderTest, TypedScalarsSayWhatWasExpected) {
  EXPECT_FALSE(r_.integer(entry("0"), 1, 256));
  EXPECT_FALSE(r_.integer(entry("four"), 1, 256));
  EXPECT_FALSE(r_.boolean(entry("yes")));
  EXPECT_FALSE(r_.duration(entry("0s")));
  EXPECT_FALSE(r_.oneOf<int>(entry("c"), {{"a", 1}, {"b", 2}}));
  EXPECT_FALSE(r_.str(entry("[1]")));
  EXPECT_FALSE(r_.nonEmpty(entry("''")));
  EXPECT_FALSE(r_.str(entry("${NOT_SET_ANYWHERE}")));
  EXPECT_EQ(r_.errorReport(),
            "f.yaml:3: s: must be from 1 to 256, got 0\n"
            "f.yaml:3: s: expected a whole number from 1 to 256, got \"four\"\n"
            "f.yaml:3: s: expected true or false, got \"yes\"\n"
            "f.yaml:3: s: must be longer than 0s, got \"0s\"\n"
            "f.yaml:3: s: expected one of a, b, got \"c\"\n"
            "f.yaml:3: s: expected a string, got a list\n"
            "f.yaml:3: s: expected a string, got an empty string\n"
            "f.yaml:3: s: ${NOT_SET_ANYWHERE} is not set");
}

TEST_F(ReaderTest, SecretsAreNeverEchoed) {
  EXPECT_EQ(r_.secret(entry("${API_TOKEN}")), std::string(testing::kApiToken));
  EXPECT_FALSE(r_.secret(entry("{a: 1}"), "a bearer token"));
  EXPECT_THAT(r_.errorReport(), Not(HasSubstr("NEVER-PRINT")));
}

TEST_F(ReaderTest, HttpUrls) {
  EXPECT_EQ(r_.httpUrl(entry("https://idp.example.com/token?x=1")),
            "https://idp.example.com/token?x=1");
  EXPECT_FALSE(r_.httpUrl(entry("https://idp.example.com/?x=1"), /*allow_query=*/false));
  EXPECT_THAT(r_.errorReport(), HasSubstr("f.yaml:3: s: must not have a query (?...)"));
  EXPECT_TRUE(r_.httpUrl(entry("http://idp.example.com/")));
  auto warnings = r_.takeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("f.yaml:3: s: cleartext http to non-loopback host"));
  EXPECT_TRUE(r_.httpUrl(entry("http://127.0.0.1:9/")));
  EXPECT_THAT(r_.takeWarnings(), IsEmpty());
}

TEST_F(ReaderTest, ReadableFile) {
  EXPECT_EQ(r_.readableFile(entry(testing::kDataDir + "/full.yaml")),
            testing::kDataDir + "/full.yaml");
  EXPECT_FALSE(r_.readableFile(entry(testing::kDataDir)));
  EXPECT_FALSE(r_.readableFile(entry("/nonexistent/file")));
  EXPECT_THAT(r_.errorReport(), HasSubstr(": it is a directory"));
  EXPECT_THAT(r_.errorReport(), HasSubstr("cannot read \"/nonexistent/file\": "));
}

TEST(ReaderHelpersTest, PathsAndQuoting) {
  EXPECT_EQ(childPath("", "listen"), "listen");
  EXPECT_EQ(childPath("server", "io_threads"), "server.io_threads");
  EXPECT_EQ(itemPath("connections", 2), "connections[2]");
  EXPECT_EQ(quote("a\"b\n"), "\"a\\\"b\\x0a\"");
  EXPECT_EQ(quote(std::string(100, 'x')), "\"" + std::string(80, 'x') + "...\"");
  EXPECT_TRUE(isPlainKey("io_threads"));
  EXPECT_FALSE(isPlainKey("a b"));
  EXPECT_TRUE(isHeaderSafeCredential("abc-123"));
  EXPECT_FALSE(isHeaderSafeCredential("a b"));
}

}  // namespace
}  // namespace tether::config
