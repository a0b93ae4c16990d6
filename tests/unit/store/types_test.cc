#include "store/types.h"

#include <gtest/gtest.h>

namespace tether::store {
namespace {

TEST(StoreTypesTest, ConnectionStateNamesRoundTrip) {
  for (auto s : {ConnectionState::kNotConnected, ConnectionState::kConnected,
                 ConnectionState::kRefreshFailing, ConnectionState::kNeedsReauth}) {
    EXPECT_EQ(parseConnectionState(connectionStateName(s)), s);
  }
  EXPECT_FALSE(parseConnectionState("zombie"));
}

TEST(StoreTypesTest, ConnectionKeyPrintsAsKindSlashName) {
  EXPECT_EQ((ConnectionKey{"mcp", "demo"}).str(), "mcp/demo");
  EXPECT_LT((ConnectionKey{"api", "z"}), (ConnectionKey{"mcp", "a"}));
}

}  // namespace
}  // namespace tether::store
