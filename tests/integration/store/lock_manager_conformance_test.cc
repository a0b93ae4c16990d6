// LockManager conformance (both backends).

#include "conformance_fixture.h"

namespace tether::store::testing {
namespace {

TEST_P(StoreConformanceTest, LockAllowsOneHolderAndHonoursTheDeadline) {
  Store* replica2 = otherReplica();
  ASSERT_NE(replica2, nullptr);
  auto held = store_->locks().tryLock(kDemo);
  ASSERT_TRUE(held.ok()) << held.error().message;
  ASSERT_TRUE(held->held());

  auto busy = replica2->locks().tryLock(kDemo);
  ASSERT_TRUE(busy.ok()) << busy.error().message;
  EXPECT_FALSE(busy->held());
  // Not reentrant, even through the same manager.
  EXPECT_FALSE(store_->locks().tryLock(kDemo).value().held());
  // Another connection's lock is independent.
  EXPECT_TRUE(replica2->locks().tryLock(kOther).value().held());

  const auto start = std::chrono::steady_clock::now();
  auto timed_out = replica2->locks().lock(kDemo, milliseconds(300));
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, Errc::kTimeout);
  EXPECT_NE(timed_out.error().message.find("mcp/demo"), std::string::npos);
  EXPECT_GE(waited, milliseconds(280));
  EXPECT_LT(waited, seconds(5));

  // A waiter gets the lock once the holder lets go.
  auto waiter =
      std::async(std::launch::async, [&] { return replica2->locks().lock(kDemo, seconds(20)); });
  held->release();
  auto got = waiter.get();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->held());
  EXPECT_FALSE(store_->locks().tryLock(kDemo).value().held());
  got->release();
  EXPECT_TRUE(store_->locks().tryLock(kDemo).value().held());
}

}  // namespace
}  // namespace tether::store::testing
