#include "store/flow_store.h"

#include <gtest/gtest.h>

namespace tether::store {
namespace {

using core::Errc;

// A FlowStore whose takeFlow answers what the test sets.
class ScriptedFlows final : public FlowStore {
 public:
  core::Result<TakenFlow> next = TakenFlow{};

  core::Result<CreateFlowResult> createPendingFlow(const PendingFlow&) override {
    return core::Error(Errc::kInternal, "unused");
  }
  core::Result<TakenFlow> takeFlow(std::string_view) override { return next; }
  core::Result<int64_t> expirePendingFlows() override { return 0; }
  core::Result<bool> cancelPendingFlow(const ConnectionKey&) override { return false; }
};

PendingFlow flowOf(const ConnectionKey& key) {
  PendingFlow f;
  f.state = "state-one";
  f.key = key;
  f.pkce_verifier = "verifier-one";
  f.expires_at = core::fromUnixSeconds(1'800'000'000);
  return f;
}

TEST(FlowStoreTest, TakePendingFlowReturnsATakenFlow) {
  ScriptedFlows flows;
  flows.next = TakenFlow{FlowTakeOutcome::kTaken, flowOf({"mcp", "demo"})};
  auto taken = flows.takePendingFlow("s");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(taken->key, (ConnectionKey{"mcp", "demo"}));
  EXPECT_EQ(taken->pkce_verifier, "verifier-one");
}

TEST(FlowStoreTest, UnknownAndExpiredFlowsAreNotFoundWithAMessageForPeople) {
  ScriptedFlows flows;
  flows.next = TakenFlow{FlowTakeOutcome::kUnknown, {}};
  auto unknown = flows.takePendingFlow("s");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  EXPECT_NE(unknown.error().message.find("unknown or already used"), std::string::npos);

  flows.next = TakenFlow{FlowTakeOutcome::kExpired, flowOf({"mcp", "demo"})};
  auto expired = flows.takePendingFlow("s");
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, Errc::kNotFound);
  EXPECT_NE(expired.error().message.find("mcp/demo"), std::string::npos);
  EXPECT_NE(expired.error().message.find("expired at 2027-01-15T08:00:00.000Z"), std::string::npos)
      << expired.error().message;
}

TEST(FlowStoreTest, StoreFailuresPassThrough) {
  ScriptedFlows flows;
  flows.next = core::Error(Errc::kUnavailable, "store: take pending flow: database locked");
  auto failed = flows.takePendingFlow("s");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::kUnavailable);
  EXPECT_EQ(failed.error().message, "store: take pending flow: database locked");
}

}  // namespace
}  // namespace tether::store
