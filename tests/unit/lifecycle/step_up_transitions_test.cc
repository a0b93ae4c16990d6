// MCP step-up as a transition: an upstream's 403 insufficient_scope turns the grant
// needs_reauth (reason insufficient_scope) asking for the union of granted and challenged
// scopes, and a loop stops at Settings::max_step_ups with one event.
#include <gtest/gtest.h>

#include "lifecycle/transitions.h"

namespace tether::lifecycle {
namespace {

using store::ConnectionState;

const TimePoint kT0 = core::fromUnixSeconds(1'800'000'000);

State connectedState() {
  State s;
  s.state = ConnectionState::kConnected;
  return s;
}

TEST(StepUpTransitionTest, NewScopesTurnTheGrantNeedsReauthAskingForTheUnion) {
  const auto t =
      apply(connectedState(), event::InsufficientScope{"mcp:basic", "mcp:basic mcp:write"}, kT0,
            Settings{});
  EXPECT_EQ(t.effects.step_up, StepUpEffect::kReauth);
  EXPECT_TRUE(t.effects.write_state);
  EXPECT_EQ(t.state.state, ConnectionState::kNeedsReauth);
  EXPECT_EQ(t.state.reason, "insufficient_scope");
  EXPECT_EQ(t.state.last_error_code, "insufficient_scope");
  EXPECT_EQ(t.state.step_up_scopes, "mcp:basic mcp:write");
  EXPECT_EQ(t.state.step_ups, 1);
  // The row carries them to the next connect (any replica, after a restart).
  const auto row = toRecord(t.state, {"mcp", "x"}, std::nullopt);
  EXPECT_EQ(row.step_up_scopes, "mcp:basic mcp:write");
  EXPECT_EQ(fromRecord(row).step_ups, 1);
}

TEST(StepUpTransitionTest, AReconnectKeepsTheScopesAndTheCount) {
  auto t = apply(connectedState(), event::InsufficientScope{"a", "b"}, kT0, Settings{});
  t = apply(t.state, event::Succeeded{}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kConnected);
  EXPECT_EQ(t.state.step_up_scopes, "a b");
  EXPECT_EQ(t.state.step_ups, 1);
}

TEST(StepUpTransitionTest, TheSameScopesAgainAndAgainStopAtTheBoundWithOneEvent) {
  Settings settings;  // max_step_ups = 3
  State s = connectedState();
  // The authorization server grants what is asked, the upstream refuses anyway.
  auto t = apply(s, event::InsufficientScope{"mcp:admin", "mcp:admin"}, kT0, settings);
  EXPECT_EQ(t.effects.step_up, StepUpEffect::kReauth);
  t = apply(apply(t.state, event::Succeeded{}, kT0, settings).state,
            event::InsufficientScope{"mcp:admin", "mcp:admin"}, kT0, settings);
  EXPECT_EQ(t.effects.step_up, StepUpEffect::kReauth);
  EXPECT_EQ(t.state.step_ups, 2);
  t = apply(apply(t.state, event::Succeeded{}, kT0, settings).state,
            event::InsufficientScope{"mcp:admin", "mcp:admin"}, kT0, settings);
  EXPECT_EQ(t.effects.step_up, StepUpEffect::kLimitReached);
  EXPECT_TRUE(t.effects.write_state);
  EXPECT_EQ(t.state.state, ConnectionState::kConnected);  // the grant keeps working
  EXPECT_EQ(t.state.step_ups, 3);
  t = apply(t.state, event::InsufficientScope{"mcp:admin", "mcp:admin"}, kT0, settings);
  EXPECT_EQ(t.effects.step_up, StepUpEffect::kLimitHeld);  // recorded once only
  EXPECT_FALSE(t.effects.write_state);
  EXPECT_EQ(t.state.state, ConnectionState::kConnected);
}

TEST(StepUpTransitionTest, ANewScopeStartsTheCountAgain) {
  State s = connectedState();
  s.step_up_scopes = "a b";
  s.step_ups = 2;
  const auto t = apply(s, event::InsufficientScope{"a b", "c"}, kT0, Settings{});
  EXPECT_EQ(t.effects.step_up, StepUpEffect::kReauth);
  EXPECT_EQ(t.state.step_ups, 1);
  EXPECT_EQ(t.state.step_up_scopes, "a b c");
}

TEST(StepUpTransitionTest, AUnionPastTheBoundsChangesNothing) {
  std::string granted, challenged;
  for (int i = 0; i < 80; ++i) granted += " g" + std::to_string(i);
  for (int i = 0; i < 80; ++i) challenged += " c" + std::to_string(i);
  const auto t =
      apply(connectedState(), event::InsufficientScope{granted, challenged}, kT0, Settings{});
  EXPECT_EQ(t.effects.step_up, StepUpEffect::kRefused);
  EXPECT_FALSE(t.effects.write_state);
  EXPECT_EQ(t.state.state, ConnectionState::kConnected);
  EXPECT_TRUE(t.state.step_up_scopes.empty());
}

}  // namespace
}  // namespace tether::lifecycle
