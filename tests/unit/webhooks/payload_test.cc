// Which state change is which event, and what a payload holds (and never holds).

#include "webhooks/payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace tether::webhooks {
namespace {

using config::WebhookEvent;
using store::ConnectionState;
using store::StateRecord;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

StateRecord row(ConnectionState s, std::string reason = "", std::string code = "") {
  StateRecord r;
  r.key = {"mcp", "demo"};
  r.state = s;
  r.reason = std::move(reason);
  r.last_error_code = std::move(code);
  return r;
}

TEST(EventForChangeTest, EachTransitionIsOneEvent) {
  const auto failing = row(ConnectionState::kRefreshFailing, "http_503");
  const auto connected = row(ConnectionState::kConnected);
  const auto reauth = row(ConnectionState::kNeedsReauth, "invalid_grant", "invalid_grant");
  EXPECT_THAT(eventForChange(connected, failing), Optional(WebhookEvent::kRefreshFailing));
  EXPECT_EQ(eventForChange(failing, failing), std::nullopt) << "once per episode";
  EXPECT_THAT(eventForChange(failing, connected), Optional(WebhookEvent::kRecovered));
  EXPECT_THAT(eventForChange(std::nullopt, connected), Optional(WebhookEvent::kConnected));
  EXPECT_THAT(eventForChange(row(ConnectionState::kNotConnected), connected),
              Optional(WebhookEvent::kConnected));
  EXPECT_THAT(eventForChange(reauth, connected), Optional(WebhookEvent::kConnected));
  EXPECT_THAT(eventForChange(failing, reauth), Optional(WebhookEvent::kNeedsReauth));
  EXPECT_EQ(eventForChange(connected, connected), std::nullopt);
  EXPECT_EQ(eventForChange(connected, row(ConnectionState::kNotConnected)), std::nullopt);
}

// The event follows the state the lifecycle wrote: needs_client_fix (the IdP rejected
// Tether's client credentials, the grant is kept) is needs_client_fix, and healing it is
// connected; a needs_reauth row is needs_reauth whatever its reason (a rejected client Tether
// registered itself does need a reconnect).
TEST(EventForChangeTest, TheEventFollowsTheState) {
  for (const char* code : {"invalid_client", "unauthorized_client"}) {
    const auto fix = row(ConnectionState::kNeedsClientFix, code, code);
    EXPECT_THAT(eventForChange(row(ConnectionState::kConnected), fix),
                Optional(WebhookEvent::kNeedsClientFix))
        << code;
    EXPECT_THAT(eventForChange(fix, row(ConnectionState::kConnected)),
                Optional(WebhookEvent::kConnected))
        << code;
    EXPECT_EQ(eventForChange(fix, fix), std::nullopt) << "once per episode";
  }
  EXPECT_THAT(
      eventForChange(row(ConnectionState::kConnected),
                     row(ConnectionState::kNeedsReauth, "client_rejected", "invalid_client")),
      Optional(WebhookEvent::kNeedsReauth));
}

TEST(PayloadTest, HoldsTheFactsAndAPortalLink) {
  auto r = row(ConnectionState::kRefreshFailing, "http_503", "temporarily_unavailable");
  r.consecutive_failures = 2;
  r.next_attempt_at = core::TimePoint(std::chrono::seconds(1767225600));
  const std::string body = buildPayload(
      factsFor(WebhookEvent::kRefreshFailing, r, "idp.example.com", "https://tether.example",
               core::TimePoint(std::chrono::seconds(1767225540))));
  const auto v = boost::json::parse(body).as_object();
  EXPECT_EQ(v.at("type"), "refresh_failing");
  EXPECT_EQ(v.at("timestamp"), "2025-12-31T23:59:00.000Z");
  const auto& d = v.at("data").as_object();
  EXPECT_EQ(d.at("connection").at("kind"), "mcp");
  EXPECT_EQ(d.at("connection").at("name"), "demo");
  EXPECT_EQ(d.at("state"), "refresh_failing");
  EXPECT_EQ(d.at("idp_host"), "idp.example.com");
  EXPECT_EQ(d.at("idp_error_code"), "temporarily_unavailable");
  EXPECT_EQ(d.at("reason"), "http_503");
  EXPECT_EQ(d.at("consecutive_failures"), 2);
  EXPECT_EQ(d.at("next_attempt_at"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(d.at("portal_url"), "https://tether.example/portal/connections/mcp/demo");
}

// What an IdP sends is never passed on as free text: only code-shaped values survive, and
// the record has no field for a token, a secret or an error_description to begin with.
TEST(PayloadTest, NothingFreeFormFromTheIdpReachesTheReceiver) {
  auto r = row(ConnectionState::kNeedsReauth, "invalid_grant",
               "invalid_grant\"}, \"access_token\": \"tok-NEVER-PRINT");
  const std::string body =
      buildPayload(factsFor(WebhookEvent::kNeedsReauth, r, "idp.example.com/<script>",
                            "https://t.example", core::TimePoint{}));
  EXPECT_THAT(body, Not(HasSubstr("NEVER-PRINT")));
  EXPECT_THAT(body, Not(HasSubstr("script")));
  const auto v = boost::json::parse(body).as_object();
  EXPECT_TRUE(v.at("data").at("idp_error_code").is_null());
  EXPECT_TRUE(v.at("data").at("idp_host").is_null());
  for (const char* forbidden : {"token", "secret", "error_description", "refresh_token"}) {
    EXPECT_FALSE(v.at("data").as_object().contains(forbidden)) << forbidden;
  }
}

TEST(PayloadTest, PortalUrlEncodesTheName) {
  EXPECT_EQ(portalUrl("https://t.example", {"api", "a b"}),
            "https://t.example/portal/connections/api/a%20b");
}

}  // namespace
}  // namespace tether::webhooks
