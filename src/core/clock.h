#pragma once
/// Injected time. Lifecycle code never calls `std::chrono::*::now()` directly; it asks a
/// `Clock`, so tests can move hours of token life forward in microseconds.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace tether::core {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::milliseconds;
/// A reading of the monotonic clock: for measuring how long something took and for
/// deadlines, never for what is stored or shown (use `now()` for those).
using MonoPoint = std::chrono::steady_clock::time_point;

/// Source of time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock time: what is stored, compared with IdP expiries, and shown.
  virtual TimePoint now() const = 0;
  /// Monotonic time: durations and local deadlines. Never jumps when the wall clock is set.
  virtual MonoPoint monotonic() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  MonoPoint monotonic() const override { return std::chrono::steady_clock::now(); }
};

/// Process-wide real clock instance.
const Clock& systemClock();

/// A clock that moves only when told to. Thread-safe. `advance` moves both readings;
/// `set` moves the wall clock only (as an operator setting the system time would), so the
/// monotonic reading never goes back.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::seconds(1'800'000'000)))
      : ns_(toNs(start)) {}
  TimePoint now() const override {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::nanoseconds(ns_.load(std::memory_order_acquire))));
  }
  MonoPoint monotonic() const override {
    return MonoPoint(std::chrono::duration_cast<MonoPoint::duration>(
        std::chrono::nanoseconds(mono_ns_.load(std::memory_order_acquire))));
  }
  void advance(std::chrono::nanoseconds d) {
    ns_.fetch_add(d.count(), std::memory_order_acq_rel);
    mono_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  }
  void set(TimePoint t) { ns_.store(toNs(t), std::memory_order_release); }

 private:
  static int64_t toNs(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  std::atomic<int64_t> ns_;
  std::atomic<int64_t> mono_ns_{0};
};

/// Seconds since the Unix epoch.
inline int64_t toUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline TimePoint fromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

/// RFC 3339 UTC with milliseconds, e.g. 2026-11-22T10:42:00.123Z.
std::string formatRfc3339(TimePoint t);

}  // namespace tether::core
