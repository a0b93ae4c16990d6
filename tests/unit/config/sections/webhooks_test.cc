// webhooks.

#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using WebhooksSectionTest = SectionTest;

TEST_F(WebhooksSectionTest, EventsDefaultToAllThree) {
  std::vector<WebhookConfig> hooks;
  parseWebhooks(reader_,
                entry("- url: https://hooks.example.com/t\n  secret: \"${HOOK_SECRET}\"\n"
                      "- url: https://hooks.example.com/u\n  secret: x\n  events: [recovered]\n",
                      "webhooks"),
                hooks);
  EXPECT_EQ(errors(), "");
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0].secret, testing::kHookSecret);
  EXPECT_THAT(hooks[0].events,
              ElementsAre(WebhookEvent::kNeedsReauth, WebhookEvent::kRefreshFailing,
                          WebhookEvent::kRecovered));
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
            "${HOOK_SECRET})\n"
            "t.yaml:2: webhooks[0].events[1]: duplicate event \"recovered\"");
}

TEST_F(WebhooksSectionTest, EmptyEventListIsRefused) {
  std::vector<WebhookConfig> hooks;
  parseWebhooks(reader_,
                entry("- {url: \"https://h.example\", secret: hook-NEVER-PRINT-secret, events: []}",
                      "webhooks"),
                hooks);
  EXPECT_THAT(errors(), HasSubstr("webhooks[0].events: expected at least one of needs_reauth"));
  EXPECT_THAT(errors(), Not(HasSubstr("NEVER-PRINT")));
}

}  // namespace
}  // namespace tether::config::sections
