#pragma once
/// Injected time. Lifecycle code never calls `std::chrono::*::now()` directly; it asks a
/// `Clock`, so tests can move hours of token life forward in microseconds.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tether::core {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::milliseconds;

/// Source of wall-clock time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

/// Process-wide real clock instance.
const Clock& systemClock();

/// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::seconds(1'800'000'000)))
      : ns_(toNs(start)) {}
  TimePoint now() const override {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::nanoseconds(ns_.load(std::memory_order_acquire))));
  }
  void advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void set(TimePoint t) { ns_.store(toNs(t), std::memory_order_release); }

 private:
  static int64_t toNs(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> ns_;
};

/// Seconds since the Unix epoch.
inline int64_t toUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline TimePoint fromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

/// RFC 3339 UTC with milliseconds, e.g. 2026-11-22T10:42:00.123Z.
std::string formatRfc3339(TimePoint t);

}  // namespace tether::core
