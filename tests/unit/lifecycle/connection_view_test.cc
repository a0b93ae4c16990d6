// The one view of a connection's state that the admin list, health, detail and the portal's
// status card show: what an operator reads for each combination of token, state row and
// history.
#include "lifecycle/connection_view.h"

#include <gtest/gtest.h>

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using store::ConnectionState;

const core::TimePoint kT0 = core::fromUnixSeconds(1'800'000'000);

store::TokenRecord token() {
  store::TokenRecord t;
  t.authenticated_at = kT0;
  t.expires_at = kT0 + hours(1);
  t.refresh_token = "rt";
  t.version = 1;
  return t;
}

store::StateRecord row(ConnectionState state, std::string reason = "", std::string code = "") {
  store::StateRecord s;
  s.state = state;
  s.reason = std::move(reason);
  s.last_error_code = std::move(code);
  return s;
}

std::vector<store::AuthEvent> revokedHistory() {
  store::AuthEvent e;
  e.at = kT0;
  e.type = store::EventType::kRefreshFailedRevoked;
  e.idp_host = "idp.example.com";
  e.detail_json = R"({"idp_error":"invalid_grant","reason":"invalid_grant"})";
  return {e};
}

TEST(ConnectionViewTest, NeverConnectedConnectedAndFailing) {
  auto never = viewOf(std::nullopt, std::nullopt, {}, std::nullopt, kT0);
  EXPECT_EQ(never.state, ConnectionState::kNotConnected);
  EXPECT_EQ(never.status, "never_connected");
  EXPECT_FALSE(never.has_token);

  auto fresh = viewOf(token(), std::nullopt, {}, std::nullopt, kT0);  // no state row yet
  EXPECT_EQ(fresh.state, ConnectionState::kConnected);
  EXPECT_EQ(fresh.status, "connected");
  EXPECT_TRUE(fresh.has_token);

  auto failing = viewOf(token(), row(ConnectionState::kRefreshFailing, "http_503", "http_503"), {},
                        std::nullopt, kT0);
  EXPECT_EQ(failing.status, "refresh_failing");
  EXPECT_EQ(failing.error_code, "http_503");
}

// The IdP rejected Tether's client credentials: its own status, the code, the token still
// held, and (a client_credentials connection has no token row) still needs_client_fix.
TEST(ConnectionViewTest, ARejectedClientShowsNeedsClientFixWithTheGrantKept) {
  auto fix =
      viewOf(token(), row(ConnectionState::kNeedsClientFix, "invalid_client", "invalid_client"), {},
             std::nullopt, kT0);
  EXPECT_EQ(fix.state, ConnectionState::kNeedsClientFix);
  EXPECT_EQ(fix.status, "needs_client_fix");
  EXPECT_EQ(fix.error_code, "invalid_client");
  EXPECT_TRUE(fix.has_token);
  EXPECT_FALSE(fix.last_revocation);
  auto cc = viewOf(std::nullopt, row(ConnectionState::kNeedsClientFix, "unauthorized_client"), {},
                   std::nullopt, kT0);
  EXPECT_EQ(cc.status, "needs_client_fix");
}

// The race of issue 13 left a "connected" row without a token: every view says not_connected.
TEST(ConnectionViewTest, ConnectedWithoutATokenIsNotConnected) {
  auto v = viewOf(std::nullopt, row(ConnectionState::kConnected), {}, std::nullopt, kT0);
  EXPECT_EQ(v.state, ConnectionState::kNotConnected);
  EXPECT_EQ(store::shownConnectionState(ConnectionState::kConnected, false),
            ConnectionState::kNotConnected);
}

TEST(ConnectionViewTest, ARevocationNamesTheIdpsCodeWhileNoTokenWorks) {
  auto reauth = viewOf(std::nullopt, row(ConnectionState::kNeedsReauth, "invalid_grant"),
                       revokedHistory(), std::nullopt, kT0);
  EXPECT_EQ(reauth.status, "needs_reauth");
  EXPECT_EQ(reauth.error_code, "invalid_grant");  // from the revocation
  ASSERT_TRUE(reauth.last_revocation);
  EXPECT_EQ(reauth.last_revocation->idp_host, "idp.example.com");

  // Not connected after a revocation: "revoked", not "never connected".
  auto revoked = viewOf(std::nullopt, std::nullopt, revokedHistory(), std::nullopt, kT0);
  EXPECT_EQ(revoked.status, "revoked");
  // Reconnected since: the old revocation stays in history but the card says connected.
  auto back =
      viewOf(token(), row(ConnectionState::kConnected), revokedHistory(), std::nullopt, kT0);
  EXPECT_EQ(back.status, "connected");
  EXPECT_EQ(back.error_code, "");
}

TEST(ConnectionViewTest, ReauthorizeSoonWithinAWeekOfTheRefreshDeadline) {
  auto v = viewOf(token(), row(ConnectionState::kConnected), {}, hours(24 * 8), kT0);
  EXPECT_EQ(v.refresh_deadline, kT0 + hours(24 * 8));
  EXPECT_FALSE(v.reauthorize_soon);
  EXPECT_TRUE(
      viewOf(token(), row(ConnectionState::kConnected), {}, hours(24 * 8), kT0 + hours(24 * 2))
          .reauthorize_soon);
}

}  // namespace
}  // namespace tether::lifecycle
