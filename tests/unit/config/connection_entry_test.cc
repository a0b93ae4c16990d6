// One connections: entry on its own (config/connection_entry.h): the same checks and
// messages as inside a file, fields relative to the entry, YAML snippets as JSON.
#include "config/connection_entry.h"

#include <gtest/gtest.h>

namespace tether::config {
namespace {

const EnvLookup kNoEnv = [](std::string_view) { return std::optional<std::string>(); };

ParsedEntry parse(std::string_view text) {
  return parseConnectionEntry(text, kNoEnv, std::chrono::minutes(42));
}

TEST(ConnectionEntryTest, AValidEntryParsesAsAnApiConnection) {
  auto p = parse(R"({"kind":"mcp","name":"made","url":"http://127.0.0.1:9/mcp",
                     "auth":{"mode":"oauth","issuer":"http://127.0.0.1:7","client_id":"c"}})");
  ASSERT_TRUE(p.connection.has_value()) << p.problems.front().message;
  EXPECT_EQ(p.connection->name, "made");
  EXPECT_EQ(p.connection->source, ConnectionConfig::Source::kApi);
  ASSERT_TRUE(p.connection->auth.oauth.has_value());
  EXPECT_EQ(p.connection->auth.oauth->default_token_lifetime, std::chrono::minutes(42));
}

TEST(ConnectionEntryTest, ProblemsNameTheFieldInsideTheEntryWithTheFilesMessage) {
  const std::string entry =
      R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/","auth":{"mode":"oauth","grant":"implicit"}})";
  auto p = parse(entry);
  ASSERT_FALSE(p.connection.has_value());
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_EQ(p.problems[0].field, "auth.grant");
  auto file = parseConfig("storage: {allow_plaintext: true}\nconnections:\n  - " + entry + "\n",
                          "t.yaml", kNoEnv);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find(connectionFieldPath(0, "auth.grant") + ": " +
                                      p.problems[0].message),
            std::string::npos)
      << file.error().message;
}

TEST(ConnectionEntryTest, EnvironmentReferencesAreNotExpandedForTheApi) {
  auto p = parse(R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/",
                     "auth":{"mode":"bearer","token":"${TETHER_ADMIN_KEY}"}})");
  ASSERT_FALSE(p.connection.has_value());
  EXPECT_EQ(p.problems[0].field, "auth.token");
  EXPECT_NE(p.problems[0].message.find("TETHER_ADMIN_KEY"), std::string::npos);
}

TEST(ConnectionEntryTest, NotAMapOrNotJsonIsOneProblemForTheWholeEntry) {
  EXPECT_EQ(parse("[1, 2]").problems.at(0).field, "");
  EXPECT_EQ(parse("{\"kind\": ").problems.at(0).field, "");
  EXPECT_EQ(parse(std::string(70 * 1024, ' ')).problems.at(0).field, "");
}

TEST(ConnectionEntryTest, YamlSnippetsBecomeJsonTheParserAccepts) {
  auto json = connectionEntryJson(
      "kind: api\nname: weather\nurl: http://127.0.0.1:9/\ntimeout: 30s\n"
      "auth:\n  mode: api_key\n  key: \"k-1\"\n");
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"kind":"api","name":"weather","url":"http://127.0.0.1:9/","timeout":"30s",)"
                   R"("auth":{"mode":"api_key","key":"k-1"}})");
  EXPECT_TRUE(parse(*json).connection.has_value());
  EXPECT_FALSE(connectionEntryJson("- a\n- b\n").ok());
  EXPECT_FALSE(connectionEntryJson("kind: [").ok());
}

}  // namespace
}  // namespace tether::config
