// "Last used": the proxy's per-connection atomics and their batched flush
// (gateway/last_use.h).

#include "gateway/last_use.h"

#include <gtest/gtest.h>

#include <thread>

namespace tether::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const store::ConnectionKey kA{"mcp", "a"}, kB{"api", "b"};

TEST(LastUseTest, TouchedConnectionsAreFlushedOnceUntilUsedAgain) {
  core::ManualClock clock(core::TimePoint(seconds(1'800'000'000)));
  LastUseTracker tracker(clock);
  auto* a = tracker.slot(kA);
  auto* b = tracker.slot(kB);
  EXPECT_EQ(tracker.slot(kA), a);          // stable
  EXPECT_TRUE(tracker.changed().empty());  // never used: nothing to write

  tracker.touch(*a);
  auto changed = tracker.changed();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].key, kA);
  EXPECT_EQ(changed[0].at, clock.now());
  tracker.markFlushed(changed);
  EXPECT_TRUE(tracker.changed().empty());

  // Within a second the slot is not written again (no contention on busy connections).
  clock.advance(milliseconds(500));
  tracker.touch(*a);
  EXPECT_TRUE(tracker.changed().empty());
  clock.advance(milliseconds(600));
  tracker.touch(*a);
  tracker.touch(*b);
  changed = tracker.changed();
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].key, kB);  // ordered by key
  EXPECT_EQ(changed[1].at, clock.now());
}

TEST(LastUseTest, FlusherWritesOneBatchKeepsFailuresAndFlushesAtStop) {
  core::ManualClock clock(core::TimePoint(seconds(1'800'000'000)));
  LastUseTracker tracker(clock);
  auto* a = tracker.slot(kA);
  auto* b = tracker.slot(kB);
  std::vector<std::vector<store::LastUse>> batches;
  bool fail = false;
  // A long interval: the thread never fires during the test; flushNow and stop do.
  LastUseFlusher flusher(
      tracker,
      [&](std::span<const store::LastUse> uses) -> core::Status {
        if (fail) return core::Error(core::Errc::kUnavailable, "store down");
        batches.emplace_back(uses.begin(), uses.end());
        return {};
      },
      std::chrono::hours(1));
  flusher.start();
  tracker.touch(*a);
  tracker.touch(*b);
  ASSERT_EQ(flusher.flushNow().value(), 2u);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(flusher.flushNow().value(), 0u);  // nothing new: no write at all
  EXPECT_EQ(batches.size(), 1u);

  clock.advance(seconds(5));
  tracker.touch(*a);
  fail = true;
  EXPECT_EQ(flusher.flushNow().error().code, core::Errc::kUnavailable);
  fail = false;
  clock.advance(seconds(5));
  tracker.touch(*b);
  flusher.stop();  // the kept change and the new one, once
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(batches[1].size(), 2u);
  EXPECT_EQ(batches[1][1].at, clock.now() - seconds(5));  // a, at its own time
  flusher.stop();
  EXPECT_EQ(batches.size(), 2u);
}

TEST(LastUseTest, TouchesFromManyThreadsWhileFlushing) {
  core::SystemClock clock;
  LastUseTracker tracker(clock);
  std::vector<LastUseTracker::Slot*> slots;
  for (int i = 0; i < 8; ++i) {
    std::string name = "c";  // appended: g++ 12 warns falsely (-Wrestrict) on "c" + string
    name += std::to_string(i);
    slots.push_back(tracker.slot({"mcp", name}));
  }
  std::atomic<size_t> written{0};
  LastUseFlusher flusher(
      tracker,
      [&](std::span<const store::LastUse> uses) -> core::Status {
        written += uses.size();
        return {};
      },
      milliseconds(1));
  flusher.start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) tracker.touch(*slots[(i + t) % slots.size()]);
    });
  }
  for (auto& th : threads) th.join();
  flusher.stop();
  EXPECT_GE(written.load(), slots.size());
  EXPECT_TRUE(tracker.changed().empty());
}

}  // namespace
}  // namespace tether::gateway
