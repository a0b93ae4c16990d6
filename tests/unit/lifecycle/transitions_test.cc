// The lifecycle's state machine, transition by transition, without a store or HTTP: what a
// connection shows (state, reason, code, failure count, next attempt) after each outcome.
#include "lifecycle/transitions.h"

#include <gtest/gtest.h>

namespace tether::lifecycle {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using store::ConnectionState;

const TimePoint kT0 = core::fromUnixSeconds(1'800'000'000);

State failing(int failures) {
  State s;
  s.state = ConnectionState::kRefreshFailing;
  s.reason = "http_503";
  s.last_error_code = "temporarily_unavailable";
  s.failures = failures;
  s.first_failure_at = kT0 - minutes(10);
  s.next_attempt_at = kT0 + seconds(20);
  s.last_transient_event_at = kT0 - minutes(10);
  s.suppressed_transient = 3;
  return s;
}

event::TransientFailure outage(std::string idp_code = "temporarily_unavailable") {
  return {"http_503", std::move(idp_code), std::nullopt, 0.5};
}

TEST(TransitionsTest, SuccessHealsEverythingAndSaysItRecovered) {
  const auto t = apply(failing(4), event::Succeeded{}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kConnected);
  EXPECT_EQ(t.state.reason, "");
  EXPECT_EQ(t.state.last_error_code, "");
  EXPECT_EQ(t.state.failures, 0);
  EXPECT_FALSE(t.state.next_attempt_at);
  EXPECT_FALSE(t.state.first_failure_at);
  EXPECT_TRUE(t.effects.recovered);
  EXPECT_TRUE(t.effects.write_state);
  // From a healthy state it is no recovery.
  EXPECT_FALSE(apply(State{}, event::Succeeded{}, kT0, Settings{}).effects.recovered);
}

TEST(TransitionsTest, FirstTransientFailureBacksOffAndIsRecorded) {
  State s;
  s.state = ConnectionState::kConnected;
  Settings settings;  // backoff from 10 s
  const auto t = apply(s, outage(), kT0, settings);
  EXPECT_EQ(t.state.state, ConnectionState::kRefreshFailing);
  EXPECT_EQ(t.state.failures, 1);
  EXPECT_EQ(t.state.first_failure_at, kT0);
  EXPECT_EQ(t.state.reason, "http_503");
  EXPECT_EQ(t.state.last_error_code, "temporarily_unavailable");
  ASSERT_TRUE(t.state.next_attempt_at);
  EXPECT_EQ(*t.state.next_attempt_at, kT0 + backoffDelay(1, settings, std::nullopt, 0.5));
  EXPECT_TRUE(t.effects.record_transient);
  EXPECT_TRUE(t.effects.write_state);
  EXPECT_TRUE(backingOff(t.state, kT0));
  EXPECT_FALSE(backingOff(t.state, *t.state.next_attempt_at));
}

TEST(TransitionsTest, TransientFailuresDuringAnOutageAreRecordedOncePerInterval) {
  Settings settings;  // one event per 15 minutes
  auto t = apply(failing(1), outage(), kT0, settings);
  EXPECT_FALSE(t.effects.record_transient);  // the last one was 10 minutes ago
  EXPECT_EQ(t.state.failures, 2);
  EXPECT_EQ(t.state.first_failure_at, kT0 - minutes(10));  // the outage's start stays
  EXPECT_EQ(t.state.suppressed_transient, 4);
  t = apply(t.state, outage(), kT0 + minutes(5), settings);
  EXPECT_TRUE(t.effects.record_transient);
  EXPECT_EQ(t.effects.suppressed, 4);  // the event says how many were left out
  EXPECT_EQ(t.state.suppressed_transient, 0);
  EXPECT_EQ(t.state.last_transient_event_at, kT0 + minutes(5));
}

TEST(TransitionsTest, RetryAfterIsTheFloorOfTheBackoffAndTheCodeFallsBackToTheReason) {
  event::TransientFailure e{"http_429", "", seconds(600), 0.0};
  const auto t = apply(State{}, e, kT0, Settings{});
  EXPECT_GE(*t.state.next_attempt_at, kT0 + seconds(600));
  EXPECT_EQ(t.state.last_error_code, "http_429");
}

TEST(TransitionsTest, TerminalFailureNeedsAHumanAndStopsRetrying) {
  const auto t =
      apply(failing(2), event::TerminalFailure{"invalid_grant", "invalid_grant"}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kNeedsReauth);
  EXPECT_EQ(t.state.reason, "invalid_grant");
  EXPECT_EQ(t.state.failures, 3);
  EXPECT_EQ(t.state.revoked_at, kT0);
  EXPECT_FALSE(t.state.next_attempt_at);
  EXPECT_TRUE(t.effects.write_state);
  EXPECT_TRUE(keeperSkips(t.state, kT0, false));
  // A local deadline carries no IdP code: the reason is the code.
  const auto expired =
      apply(State{}, event::TerminalFailure{"refresh_expired", ""}, kT0, Settings{});
  EXPECT_EQ(expired.state.last_error_code, "refresh_expired");
}

TEST(TransitionsTest, APersistFailureKeepsTheConnectionUsable) {
  const auto t = apply(failing(2), event::PersistFailed{}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kConnected);
  EXPECT_EQ(t.state.failures, 0);
  EXPECT_FALSE(t.state.next_attempt_at);
  EXPECT_FALSE(t.effects.write_state);  // the store is what failed
  // The keeper comes back for the write even while a backoff runs.
  State backing = failing(1);
  EXPECT_TRUE(keeperSkips(backing, kT0, false));
  EXPECT_FALSE(keeperSkips(backing, kT0, true));
  EXPECT_EQ(nextPersistDelay(seconds(1), Settings{}), seconds(2));
  EXPECT_EQ(nextPersistDelay(seconds(20), Settings{}), seconds(30));  // capped
}

TEST(TransitionsTest, TheRefreshDeadlineAndAMissingRefreshTokenAreDecidedLocally) {
  store::TokenRecord row;
  row.version = 3;
  row.authenticated_at = kT0;
  row.expires_at = kT0 + hours(1);
  row.refresh_token = "rt";
  EXPECT_EQ(localVerdict(row, false, hours(24), kT0 + hours(2)), Verdict::kCallIdp);
  EXPECT_EQ(localVerdict(row, false, hours(24), kT0 + hours(24)), Verdict::kRefreshExpired);
  row.refresh_token.reset();
  EXPECT_EQ(localVerdict(row, false, std::nullopt, kT0 + minutes(30)), Verdict::kAdopt);
  EXPECT_EQ(localVerdict(row, false, std::nullopt, kT0 + hours(1)), Verdict::kNoRefreshToken);
  // client_credentials has no refresh token and no deadline: always ask the IdP.
  EXPECT_EQ(localVerdict(row, true, hours(1), kT0 + hours(5)), Verdict::kCallIdp);
}

TEST(TransitionsTest, AdoptingAStoredTokenHealsOnlyWhatItShould) {
  State reauth;
  reauth.state = ConnectionState::kNeedsReauth;
  EXPECT_EQ(apply(reauth, event::Adopted{}, kT0, Settings{}).state.state,
            ConnectionState::kConnected);
  // The same token that keeps failing to refresh does not end the outage; a newer one does.
  EXPECT_EQ(apply(failing(1), event::Adopted{false}, kT0, Settings{}).state.state,
            ConnectionState::kRefreshFailing);
  EXPECT_EQ(apply(failing(1), event::Adopted{true}, kT0, Settings{}).state.state,
            ConnectionState::kConnected);
}

TEST(TransitionsTest, NoStoredTokenMeansNotConnectedUnlessTheStoreSaysReauth) {
  State s;
  s.state = ConnectionState::kConnected;
  EXPECT_EQ(apply(s, event::NoToken{}, kT0, Settings{}).state.state,
            ConnectionState::kNotConnected);
  store::StateRecord stored;
  stored.state = ConnectionState::kNeedsReauth;
  stored.reason = "invalid_grant";
  stored.last_error_code = "invalid_grant";
  const auto t = apply(s, event::NoToken{stored}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kNeedsReauth);
  EXPECT_EQ(t.state.reason, "invalid_grant");
  // A reconnect on any replica lets the next call read the store again.
  EXPECT_EQ(apply(t.state, event::TokenWritten{}, kT0, Settings{}).state.state,
            ConnectionState::kNotConnected);
}

TEST(TransitionsTest, AnAdminDeleteLeavesNotConnectedWithItsReasonAndNoFailures) {
  const auto t = apply(failing(3), event::Deleted{}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kNotConnected);
  EXPECT_EQ(t.state.reason, "deleted_by_admin");
  EXPECT_EQ(t.state.failures, 0);
  EXPECT_FALSE(t.state.next_attempt_at);
  EXPECT_TRUE(t.effects.write_state);
}

TEST(TransitionsTest, TheKeeperComesBackWhenThereIsSomethingToDo) {
  Settings settings;
  store::TokenRecord token;
  token.authenticated_at = kT0;
  token.expires_at = kT0 + hours(1);
  token.refresh_token = "rt";
  State ok;
  ok.state = ConnectionState::kConnected;
  EXPECT_EQ(keeperNextDue(ok, token, false, std::nullopt, kT0, settings, std::nullopt, 0),
            nextDue(token, settings, std::nullopt, 0));
  const State f = failing(1);
  EXPECT_EQ(keeperNextDue(f, std::nullopt, false, std::nullopt, kT0, settings, std::nullopt, 0),
            f.next_attempt_at);
  // A pending write comes first when sooner.
  EXPECT_EQ(keeperNextDue(f, std::nullopt, false, kT0 + seconds(1), kT0, settings, std::nullopt, 0),
            kT0 + seconds(1));
  State reauth;
  reauth.state = ConnectionState::kNeedsReauth;
  EXPECT_FALSE(
      keeperNextDue(reauth, std::nullopt, false, std::nullopt, kT0, settings, std::nullopt, 0));
  // client_credentials without a token: fetch one now.
  EXPECT_EQ(
      keeperNextDue(State{}, std::nullopt, true, std::nullopt, kT0, settings, std::nullopt, 0),
      kT0);
}

TEST(TransitionsTest, StateRowsRoundTrip) {
  const State f = failing(2);
  const auto row = toRecord(f, {"mcp", "a"}, kT0 + minutes(1));
  EXPECT_EQ(row.key.str(), "mcp/a");
  EXPECT_EQ(row.consecutive_failures, 2);
  EXPECT_EQ(row.next_due_at, kT0 + minutes(1));
  const State back = fromRecord(row);
  EXPECT_EQ(back.state, f.state);
  EXPECT_EQ(back.reason, f.reason);
  EXPECT_EQ(back.last_error_code, f.last_error_code);
  EXPECT_EQ(back.next_attempt_at, f.next_attempt_at);
}

// DESIGN.md §3: invalid_client / unauthorized_client say Tether's client is wrong, not the
// grant. The connection needs a client fix (not a reconnect), keeps no timer and is not
// recorded as revoked.
TEST(TransitionsTest, ARejectedClientNeedsAClientFixAndIsNotRevoked) {
  EXPECT_TRUE(rejectsClient("invalid_client"));
  EXPECT_TRUE(rejectsClient("unauthorized_client"));
  EXPECT_FALSE(rejectsClient("invalid_grant"));
  EXPECT_FALSE(rejectsClient("invalid_scope"));
  State s;
  s.state = ConnectionState::kConnected;
  const auto t =
      apply(s, event::ClientRejected{"invalid_client", "invalid_client"}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kNeedsClientFix);
  EXPECT_EQ(t.state.reason, "invalid_client");
  EXPECT_EQ(t.state.last_error_code, "invalid_client");
  EXPECT_EQ(t.state.failures, 1);
  EXPECT_EQ(t.state.first_failure_at, kT0);
  EXPECT_FALSE(t.state.revoked_at) << "the grant was not revoked";
  EXPECT_FALSE(t.state.next_attempt_at) << "no retry on a timer";
  EXPECT_TRUE(t.effects.write_state);
  // From refresh_failing too: the backoff ends, the outage's start stays.
  const auto f =
      apply(failing(3), event::ClientRejected{"unauthorized_client", ""}, kT0, Settings{});
  EXPECT_EQ(f.state.state, ConnectionState::kNeedsClientFix);
  EXPECT_EQ(f.state.last_error_code, "unauthorized_client");  // the reason when no IdP code
  EXPECT_FALSE(f.state.next_attempt_at);
  EXPECT_EQ(f.state.first_failure_at, kT0 - minutes(10));
}

TEST(TransitionsTest, TheKeeperLeavesAClientFixAloneEvenForClientCredentials) {
  Settings settings;
  State s;
  s.state = ConnectionState::kNeedsClientFix;
  EXPECT_TRUE(keeperSkips(s, kT0, false));
  EXPECT_TRUE(keeperSkips(s, kT0, true));
  store::TokenRecord token;
  token.version = 3;
  token.expires_at = kT0 + hours(1);
  EXPECT_EQ(keeperNextDue(s, token, false, std::nullopt, kT0, settings, std::nullopt, 0),
            std::nullopt);
  EXPECT_EQ(keeperNextDue(s, std::nullopt, true, std::nullopt, kT0, settings, std::nullopt, 0),
            std::nullopt)
      << "a client_credentials connection without a token waits for new settings too";
}

TEST(TransitionsTest, NewClientSettingsRefreshAtOnceOnlyWhenSomethingWaitsForThem) {
  State fix;
  fix.state = ConnectionState::kNeedsClientFix;
  fix.reason = "invalid_client";
  auto t = apply(fix, event::ClientSettingsChanged{}, kT0, Settings{});
  EXPECT_TRUE(t.effects.refresh_now);
  EXPECT_EQ(t.state.state, ConnectionState::kNeedsClientFix) << "until the refresh answers";
  EXPECT_FALSE(t.effects.write_state);
  // Backing off: the new settings are tried now, not at the end of the backoff.
  t = apply(failing(2), event::ClientSettingsChanged{}, kT0, Settings{});
  EXPECT_TRUE(t.effects.refresh_now);
  EXPECT_FALSE(backingOff(t.state, kT0));
  for (auto st : {ConnectionState::kConnected, ConnectionState::kNeedsReauth,
                  ConnectionState::kNotConnected}) {
    State other;
    other.state = st;
    EXPECT_FALSE(apply(other, event::ClientSettingsChanged{}, kT0, Settings{}).effects.refresh_now)
        << store::connectionStateName(st);
  }
}

TEST(TransitionsTest, AClientFixHealsByASuccessWithTheSameGrant) {
  State fix;
  fix.state = ConnectionState::kNeedsClientFix;
  fix.reason = "invalid_client";
  fix.last_error_code = "invalid_client";
  fix.failures = 2;
  fix.first_failure_at = kT0 - hours(1);
  const auto t = apply(fix, event::Succeeded{}, kT0, Settings{});
  EXPECT_EQ(t.state.state, ConnectionState::kConnected);
  EXPECT_EQ(t.state.failures, 0);
  EXPECT_EQ(t.state.last_error_code, "");
  EXPECT_TRUE(t.effects.recovered);
  // A newer stored token (healed on another replica) heals too; the same one does not.
  EXPECT_EQ(apply(fix, event::Adopted{true}, kT0, Settings{}).state.state,
            ConnectionState::kConnected);
  EXPECT_EQ(apply(fix, event::Adopted{false}, kT0, Settings{}).state.state,
            ConnectionState::kNeedsClientFix);
  // The state row round-trips (a restart keeps waiting for new settings).
  const State back = fromRecord(toRecord(fix, {"mcp", "a"}, std::nullopt));
  EXPECT_EQ(back.state, ConnectionState::kNeedsClientFix);
  EXPECT_EQ(back.last_error_code, "invalid_client");
}

}  // namespace
}  // namespace tether::lifecycle
