// listen, public_url, log and server.

#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ListenersSectionTest = SectionTest;

TEST_F(ListenersSectionTest, Listen) {
  HostPort hp;
  parseListen(reader_, entry("\"[::1]:9000\"", "listen"), hp);
  EXPECT_EQ(hp.toString(), "[::1]:9000");
  parseListen(reader_, entry("localhost", "listen"), hp);
  EXPECT_EQ(hp.toString(), "[::1]:9000");  // unchanged by a bad value
  EXPECT_THAT(errors(), HasSubstr("t.yaml:1: listen: expected host:port"));
}

TEST_F(ListenersSectionTest, PublicUrlLosesItsTrailingSlashes) {
  std::string url = "unchanged";
  parsePublicUrl(reader_, entry("https://tether.example.com//", "public_url"), url);
  EXPECT_EQ(url, "https://tether.example.com");
  parsePublicUrl(reader_, entry("https://tether.example.com/?a=1", "public_url"), url);
  EXPECT_EQ(url, "https://tether.example.com");
  EXPECT_THAT(errors(), HasSubstr("public_url: must not have a query"));
}

TEST_F(ListenersSectionTest, ClientMetadataUrlIsAnHttpsDocumentUrl) {
  std::string url;
  parseClientMetadataUrl(
      reader_, entry("https://docs.example/tether/client.json", "client_metadata_url"), url);
  EXPECT_EQ(errors(), "");
  EXPECT_EQ(url, "https://docs.example/tether/client.json");
  const std::vector<std::pair<const char*, const char*>> bad = {
      {"http://docs.example/c.json", "must be an https URL"},
      {"https://docs.example/", "must have a path"},
      {"https://docs.example", "must have a path"},
      {"https://docs.example/c.json?v=1", "must not have a query"}};
  size_t reported = 0;
  for (const auto& [value, says] : bad) {
    std::string kept = "kept";
    parseClientMetadataUrl(reader_, entry(value, "client_metadata_url"), kept);
    EXPECT_EQ(kept, "kept") << value;
    const std::string all = errors();
    EXPECT_THAT(all.substr(reported), HasSubstr(std::string("client_metadata_url: ") + says))
        << value;
    reported = all.size();
  }
}

TEST_F(ListenersSectionTest, Log) {
  LogConfig log;
  parseLog(reader_, entry("{level: debug, format: text}", "log"), log);
  EXPECT_EQ(log.level, core::LogLevel::kDebug);
  EXPECT_EQ(log.format, core::log::Format::kText);
  parseLog(reader_, entry("{level: loud}", "log"), log);
  EXPECT_EQ(errors(),
            "t.yaml:1: log.level: expected one of debug, info, warn, error, got \"loud\"");
}

TEST_F(ListenersSectionTest, ServerValuesAndDefaults) {
  ServerConfig s;
  parseServer(reader_,
              entry("io_threads: 4\nread_timeout: 20s\nallowed_hosts: [Tether.Internal, "
                    "\"[::1]:80\"]\n",
                    "server"),
              s);
  EXPECT_EQ(errors(), "");
  EXPECT_EQ(s.io_threads, 4);
  EXPECT_EQ(s.read_timeout, seconds(20));
  EXPECT_EQ(s.idle_timeout, seconds(60));  // default kept
  EXPECT_THAT(s.allowed_hosts, ElementsAre("tether.internal", "[::1]:80"));
}

TEST_F(ListenersSectionTest, ServerErrors) {
  ServerConfig s;
  parseServer(reader_, entry("io_threads: 0\nio_thread: 4\nallowed_hosts: [\"*.x\"]\n", "server"),
              s);
  EXPECT_EQ(s.io_threads, 2);
  EXPECT_EQ(errorCount(), 3u);
  EXPECT_THAT(errors(), HasSubstr("t.yaml:1: server.io_threads: must be from 1 to 256, got 0"));
  EXPECT_THAT(errors(), HasSubstr("t.yaml:2: server.io_thread: unknown key (allowed: io_threads,"));
  EXPECT_THAT(errors(), HasSubstr("t.yaml:3: server.allowed_hosts[0]: expected a host name"));
}

}  // namespace
}  // namespace tether::config::sections
