// webhooks.

#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using WebhooksSectionTest = SectionTest;

TEST_F(WebhooksSectionTest, EventsDefaultToAll) {
  std::vector<WebhookConfig> hooks;
  parseWebhooks(reader_,
                entry("- url: https://hooks.example.com/t\n  secret: \"${HOOK_SECRET}\"\n"
                      "- url: https://hooks.example.com/u\n  secret: \"${HOOK_SECRET}\"\n"
                      "  events: [recovered]\n",
                      "webhooks"),
                hooks);
  EXPECT_EQ(errors(), "");
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0].secret, testing::kHookSecret);
  EXPECT_THAT(hooks[0].events,
              ElementsAre(WebhookEvent::kNeedsReauth, WebhookEvent::kNeedsClientFix,
                          WebhookEvent::kRefreshFailing, WebhookEvent::kRecovered,
                          WebhookEvent::kConnected, WebhookEvent::kReauthorizeSoon));
  EXPECT_THAT(hooks[1].events, ElementsAre(WebhookEvent::kRecovered));
}

TEST_F(WebhooksSectionTest, AnInvalidHookIsDroppedWithItsReasons) {
  std::vector<WebhookConfig> hooks;
  parseWebhooks(
      reader_,
      entry("- url: https://hooks.example.com/t\n  events: [recovered, recovered]\n", "webhooks"),
      hooks);
  EXPECT_TRUE(hooks.empty());
  EXPECT_EQ(errors(),
            "t.yaml:1: webhooks[0].secret: required (expected a signing secret, e.g. "
            "${HOOK_SECRET} holding whsec_...)\n"
            "t.yaml:2: webhooks[0].events[1]: duplicate event \"recovered\"");
}

TEST_F(WebhooksSectionTest, EmptyEventListIsRefused) {
  std::vector<WebhookConfig> hooks;
  parseWebhooks(reader_,
                entry("- {url: \"https://h.example\", secret: \"${HOOK_SECRET}\", events: []}",
                      "webhooks"),
                hooks);
  EXPECT_THAT(errors(), HasSubstr("webhooks[0].events: expected at least one of needs_reauth"));
  EXPECT_THAT(errors(), Not(HasSubstr("NEVER-PRINT")));
}

TEST_F(WebhooksSectionTest, HeadersAndCaBundle) {
  std::vector<WebhookConfig> hooks;
  parseWebhooks(reader_,
                entry("- url: https://hooks.example.com/t\n  secret: \"${HOOK_SECRET}\"\n"
                      "  headers: { Authorization: \"Bearer tok-NEVER-PRINT\", X-Env: prod }\n"
                      "  ca_bundle: " + testing::kDataDir + "/ca.pem\n",
                      "webhooks"),
                hooks);
  EXPECT_EQ(errors(), "");
  ASSERT_EQ(hooks.size(), 1u);
  ASSERT_EQ(hooks[0].headers.size(), 2u);
  EXPECT_EQ(hooks[0].headers[0].first, "Authorization");
  EXPECT_EQ(hooks[0].headers[0].second, "Bearer tok-NEVER-PRINT");
  EXPECT_EQ(hooks[0].ca_bundle, testing::kDataDir + "/ca.pem");
}

TEST_F(WebhooksSectionTest, BadHeadersAndSecretsNameTheFieldAndNeverTheValue) {
  std::vector<WebhookConfig> hooks;
  parseWebhooks(reader_,
                entry("- url: https://hooks.example.com/t\n  secret: \"whsec_c2hvcnQ=\"\n"
                      "  headers: { \"Bad Name\": x, X-A: \"a\\r\\nInjected: NEVER-PRINT\","
                      " x-a: y, Host: h }\n",
                      "webhooks"),
                hooks);
  EXPECT_TRUE(hooks.empty());
  EXPECT_THAT(errors(), HasSubstr("t.yaml:2: webhooks[0].secret: expected a Standard Webhooks"));
  EXPECT_THAT(errors(), HasSubstr("webhooks[0].headers: expected header names"));
  EXPECT_THAT(errors(), HasSubstr("webhooks[0].headers.X-A: a header value must not hold"));
  EXPECT_THAT(errors(), HasSubstr("webhooks[0].headers.x-a: duplicate header"));
  EXPECT_THAT(errors(), HasSubstr("webhooks[0].headers.Host: reserved"));
  EXPECT_THAT(errors(), Not(HasSubstr("NEVER-PRINT")));
  EXPECT_THAT(errors(), Not(HasSubstr("c2hvcnQ")));
}

TEST_F(WebhooksSectionTest, DeliverySettings) {
  WebhookDeliveryConfig d;
  parseWebhookDelivery(reader_,
                       entry("{warn_before: 3d, max_age: 2h, timeout: 5s, concurrency: 2}",
                             "webhook_delivery"),
                       d);
  EXPECT_EQ(errors(), "");
  EXPECT_EQ(d.warn_before, std::chrono::hours(72));
  EXPECT_EQ(d.max_age, std::chrono::hours(2));
  EXPECT_EQ(d.timeout, std::chrono::seconds(5));
  EXPECT_EQ(d.concurrency, 2);
}

TEST(WebhookConfigTest, MaskedUrlHidesTheQuery) {
  WebhookConfig w;
  w.url = "https://hooks.example.com/x?token=abc&b=2";
  EXPECT_EQ(w.maskedUrl(), "https://hooks.example.com/x?********");
  w.url = "https://hooks.example.com/x";
  EXPECT_EQ(w.maskedUrl(), "https://hooks.example.com/x");
}

}  // namespace
}  // namespace tether::config::sections
