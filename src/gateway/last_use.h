#pragma once
/// When proxied calls last reached each connection ("Last used" in the portal), recorded
/// without slowing the data plane: the proxy stores the wall time in a per-connection
/// atomic (a relaxed load, and a relaxed store at most once a second per connection; no lock,
/// no allocation), and a flusher hands the connections used since its previous flush to a
/// sink (the store's `recordLastUse`, one batched statement) every interval and once more at
/// stop. The gateway never sees the store: the sink is a function the process passes.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/types.h"

namespace tether::gateway {

/// Per-connection last-use times. Slots are created before serving (`slot`, not
/// thread-safe with the rest); afterwards `touch` is safe from any thread and `changed` /
/// `markFlushed` from one flusher at a time (they lock).
class LastUseTracker {
 public:
  /// One connection's slot: milliseconds since the epoch, 0 = unused since start.
  using Slot = std::atomic<int64_t>;

  explicit LastUseTracker(const core::Clock& clock) : clock_(clock) {}

  /// The slot of `key` (created on first call; stable address). Call before serving.
  Slot* slot(const store::ConnectionKey& key);

  /// Hot path: records "now" in `slot` unless it already holds a time less than a second old.
  void touch(Slot& slot) const;

  /// The connections whose time moved since their last `markFlushed`, ordered by key.
  std::vector<store::LastUse> changed() const;

  /// Remembers `flushed` as written (a later `changed` leaves them out until used again).
  void markFlushed(std::span<const store::LastUse> flushed);

 private:
  struct Entry {
    Slot at{0};
    int64_t flushed = 0;  // guarded by mu_
  };
  const core::Clock& clock_;
  std::map<store::ConnectionKey, std::unique_ptr<Entry>> entries_;
  mutable std::mutex mu_;
};

/// Writes a tracker's changes through `sink` every `interval` on its own thread (declared in
/// app/pools.h), and once more at `stop`. A failed write is logged and retried next time.
class LastUseFlusher {
 public:
  using Sink = std::function<core::Status(std::span<const store::LastUse>)>;

  LastUseFlusher(LastUseTracker& tracker, Sink sink, core::Duration interval);
  ~LastUseFlusher();
  LastUseFlusher(const LastUseFlusher&) = delete;
  LastUseFlusher& operator=(const LastUseFlusher&) = delete;

  /// Starts the thread (at most once).
  void start();
  /// One flush, on the caller's thread: how many connections were written, or the sink's
  /// error (the changes are kept for the next flush).
  core::Result<size_t> flushNow();
  /// Stops the thread and flushes what is left. Idempotent.
  void stop();

 private:
  void run();

  LastUseTracker& tracker_;
  Sink sink_;
  core::Duration interval_;
  std::mutex flush_mu_;  // one flush at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

/// How often the process writes last-use times (and so how stale "Last used" may be).
inline constexpr core::Duration kLastUseFlushInterval = std::chrono::seconds(15);

}  // namespace tether::gateway
