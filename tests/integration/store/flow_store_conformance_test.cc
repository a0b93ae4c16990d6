// FlowStore conformance (both backends): single use, expiry, concurrent takes.

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

TEST_P(StoreConformanceTest, PendingFlowsAreSingleUse) {
  PendingFlow f;
  f.state = "state-abc";
  f.key = kDemo;
  f.pkce_verifier = "verifier-secret-123";
  f.return_url = "/portal/connections/mcp/demo";
  f.started_by = "admin:alice";
  f.issuer = "https://idp.example.com";
  f.correlation_id = "corr-1";
  f.client_id = "registered-client";
  f.authorization_url = "https://idp.example.com/authorize?state=state-abc";
  f.expires_at = now() + minutes(10);
  auto created = store_->createPendingFlow(f);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->created);

  // Another start for the same connection gets the pending one back.
  PendingFlow g = f;
  g.state = "state-other";
  g.pkce_verifier = "other-verifier";
  auto existing = store_->createPendingFlow(g);
  ASSERT_TRUE(existing.ok()) << existing.error().message;
  EXPECT_FALSE(existing->created);
  EXPECT_EQ(existing->flow.pkce_verifier, "verifier-secret-123");
  EXPECT_EQ(existing->flow.state, "");
  EXPECT_EQ(existing->flow.started_by, "admin:alice");
  // The first flow's authorization URL comes back, so a second start hands out the same.
  EXPECT_EQ(existing->flow.authorization_url, f.authorization_url);
  EXPECT_EQ(existing->flow.client_id, "registered-client");

  EXPECT_EQ(store_->takePendingFlow("state-other").error().code, Errc::kNotFound);
  auto taken = store_->takePendingFlow("state-abc");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->key, kDemo);
  EXPECT_EQ(taken->pkce_verifier, "verifier-secret-123");
  EXPECT_EQ(taken->return_url, "/portal/connections/mcp/demo");
  EXPECT_EQ(taken->issuer, "https://idp.example.com");
  EXPECT_EQ(taken->correlation_id, "corr-1");
  EXPECT_EQ(taken->created_at, now());
  auto twice = store_->takePendingFlow("state-abc");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, Errc::kNotFound);

  // Expired flows cannot be taken (the attempt consumes them).
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  clock_.advance(minutes(11));
  auto late = store_->takePendingFlow("state-abc");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Errc::kNotFound);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  // A flow must expire in the future.
  EXPECT_EQ(store_->createPendingFlow(f).error().code, Errc::kInvalidArgument);
  // An expired flow does not block a new start.
  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  clock_.advance(minutes(11));
  g.expires_at = now() + minutes(10);
  auto replaced = store_->createPendingFlow(g);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_TRUE(replaced->created);
  // expirePendingFlows purges what is past its time; cancel removes one.
  PendingFlow other_conn = f;
  other_conn.key = kOther;
  other_conn.state = "state-o";
  other_conn.expires_at = now() + minutes(1);
  ASSERT_TRUE(store_->createPendingFlow(other_conn).value().created);
  clock_.advance(minutes(2));
  EXPECT_EQ(store_->expirePendingFlows().value(), 1);
  EXPECT_TRUE(store_->cancelPendingFlow(kDemo).value());
  EXPECT_FALSE(store_->cancelPendingFlow(kDemo).value());
  EXPECT_EQ(store_->takePendingFlow("state-other").error().code, Errc::kNotFound);
}

// The connect callback tells an expired sign-in link from an unknown one by this outcome,
// never by the text of an error message.
TEST_P(StoreConformanceTest, TakeFlowTellsExpiredFromUnknownWithoutParsingMessages) {
  PendingFlow f;
  f.state = "state-late";
  f.key = kDemo;
  f.pkce_verifier = "verifier-late";
  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);

  auto unknown = store_->takeFlow("state-never-created");
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  EXPECT_EQ(unknown->outcome, FlowTakeOutcome::kUnknown);

  clock_.advance(minutes(11));
  auto expired = store_->takeFlow("state-late");
  ASSERT_TRUE(expired.ok()) << expired.error().message;
  EXPECT_EQ(expired->outcome, FlowTakeOutcome::kExpired);
  EXPECT_EQ(expired->flow.key, kDemo);
  EXPECT_EQ(expired->flow.expires_at, f.expires_at);
  // Consumed by the attempt: the same state is unknown now.
  EXPECT_EQ(store_->takeFlow("state-late").value().outcome, FlowTakeOutcome::kUnknown);

  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  auto taken = store_->takeFlow("state-late");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->outcome, FlowTakeOutcome::kTaken);
  EXPECT_EQ(taken->flow.state, "state-late");
  EXPECT_EQ(taken->flow.pkce_verifier, "verifier-late");
  EXPECT_EQ(store_->takeFlow("").error().code, Errc::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ConcurrentTakesOfOneFlowHaveOneWinner) {
  PendingFlow f;
  f.state = "race-state";
  f.key = kDemo;
  f.pkce_verifier = "v";
  f.expires_at = now() + minutes(10);
  ASSERT_TRUE(store_->createPendingFlow(f).value().created);
  Store* replica2 = otherReplica();
  ASSERT_NE(replica2, nullptr);
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  auto take = [&](Store* s) {
    start.wait();
    return s->takePendingFlow("race-state").ok();
  };
  auto a = std::async(std::launch::async, take, store_.get());
  auto b = std::async(std::launch::async, take, replica2);
  go.set_value();
  EXPECT_EQ(int(a.get()) + int(b.get()), 1);
}

}  // namespace
}  // namespace tether::store::testing
