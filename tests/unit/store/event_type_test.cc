#include "store/event_type.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "store/types.h"

namespace tether::store {
namespace {

TEST(EventTypeTest, NamesRoundTripAndAreDistinct) {
  std::set<std::string_view> names;
  for (EventType t : kAllEventTypes) {
    const auto name = eventTypeName(t);
    ASSERT_FALSE(name.empty());
    EXPECT_EQ(parseEventType(name), t);
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kAllEventTypes.size());
  EXPECT_EQ(eventTypeName(EventType::kStepUpRequired), "step_up_required");
  EXPECT_EQ(eventTypeName(EventType::kStepUpLimitReached), "step_up_limit_reached");
  EXPECT_EQ(eventTypeName(EventType::kRefreshRotationPersistenceFailed),
            "refresh_rotation_persistence_failed");
  EXPECT_EQ(eventTypeName(EventType::kClientRegistered), "client_registered");
}

TEST(EventTypeTest, UnknownNamesAndValuesAreRejected) {
  EXPECT_FALSE(parseEventType("refresh_exploded"));
  EXPECT_FALSE(parseEventType(""));
  EXPECT_TRUE(eventTypeName(static_cast<EventType>(999)).empty());
}

TEST(EventTypeTest, LifecycleOutcomeDecidesWhetherTheErrorCodeShows) {
  EXPECT_EQ(eventOutcome(EventType::kRefreshFailedTransient), EventOutcome::kFailure);
  EXPECT_EQ(eventOutcome(EventType::kRefreshFailedRevoked), EventOutcome::kFailure);
  EXPECT_EQ(eventOutcome(EventType::kConnectFailed), EventOutcome::kFailure);
  EXPECT_EQ(eventOutcome(EventType::kTokenDeletedRevoked), EventOutcome::kFailure);
  EXPECT_EQ(eventOutcome(EventType::kStepUpRequired), EventOutcome::kFailure);
  EXPECT_EQ(eventOutcome(EventType::kStepUpLimitReached), EventOutcome::kFailure);
  EXPECT_EQ(eventOutcome(EventType::kRefreshSucceeded), EventOutcome::kSuccess);
  EXPECT_EQ(eventOutcome(EventType::kConnectCompleted), EventOutcome::kSuccess);
  EXPECT_EQ(eventOutcome(EventType::kConnectStarted), EventOutcome::kSuccess);
  EXPECT_EQ(eventOutcome(EventType::kTokenDeletedAdmin), EventOutcome::kSuccess);
  EXPECT_EQ(eventOutcome(EventType::kClientRegistered), EventOutcome::kNeutral);
  EXPECT_EQ(eventOutcome(EventType::kRefreshSkippedNoToken), EventOutcome::kNeutral);
  EXPECT_EQ(eventOutcome(EventType::kRefreshSkippedExpired), EventOutcome::kNeutral);
  EXPECT_EQ(eventOutcome(EventType::kRefreshRotationPersistenceFailed), EventOutcome::kNeutral);
}

}  // namespace
}  // namespace tether::store
