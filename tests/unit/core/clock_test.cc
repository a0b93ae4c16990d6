#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace tether::core {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

TEST(ManualClock, AdvanceMovesWallAndMonotonicReadingsTogether) {
  ManualClock clock;
  const TimePoint wall = clock.now();
  const MonoPoint mono = clock.monotonic();
  clock.advance(seconds(90));
  EXPECT_EQ(clock.now() - wall, seconds(90));
  EXPECT_EQ(clock.monotonic() - mono, seconds(90));
}

TEST(ManualClock, SettingTheWallClockBackNeverMovesTheMonotonicReadingBack) {
  ManualClock clock;
  const MonoPoint mono = clock.monotonic();
  clock.set(clock.now() - hours(5));
  EXPECT_EQ(clock.monotonic(), mono);
  clock.advance(seconds(1));
  EXPECT_EQ(clock.monotonic() - mono, seconds(1));
}

TEST(SystemClock, MonotonicReadingNeverDecreases) {
  const Clock& clock = systemClock();
  MonoPoint last = clock.monotonic();
  for (int i = 0; i < 1000; ++i) {
    const MonoPoint next = clock.monotonic();
    ASSERT_GE(next, last);
    last = next;
  }
}

}  // namespace
}  // namespace tether::core
