#pragma once
/// Internal: what every SQLite-backed Store on the same file in this process shares — the
/// in-process refresh locks and the token-change subscribers. SQLite has no server to
/// coordinate through, so one process (one Tether instance) owns a database file.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "store/sql/sql.h"

namespace tether::store::sql {

class LocalCoordinator {
 public:
  /// The coordinator for a canonical file path (created on first use, shared while any
  /// store on that path lives). Thread-safe.
  static std::shared_ptr<LocalCoordinator> forPath(const std::string& canonical_path);

  LocalCoordinator();
  ~LocalCoordinator();
  LocalCoordinator(const LocalCoordinator&) = delete;
  LocalCoordinator& operator=(const LocalCoordinator&) = delete;

  const std::shared_ptr<Subscribers>& subscribers() const { return subscribers_; }

  /// Queues a token change for the subscribers. Callbacks run in order on the
  /// coordinator's own thread, never on the writer's: a writer may hold locks its own
  /// callback takes.
  void announce(const TokenChange& change);

  /// Lock table. `timeout` <= 0 means try once; else waits until `clock`'s monotonic
  /// reading passes now + `timeout`.
  bool acquire(const ConnectionKey& key, Duration timeout, const core::Clock& clock);
  void release(const ConnectionKey& key);

 private:
  // Shared with the dispatcher thread, which may outlive the coordinator when the last
  // reference is dropped from inside a callback.
  struct Queue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<TokenChange> changes;
    bool stopping = false;
  };
  static void run(std::shared_ptr<Queue> queue, std::shared_ptr<Subscribers> subscribers);

  std::shared_ptr<Subscribers> subscribers_ = std::make_shared<Subscribers>();
  std::shared_ptr<Queue> queue_ = std::make_shared<Queue>();
  std::thread dispatcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<ConnectionKey> held_;
};

/// LockManager over a LocalCoordinator; `clock` measures lock waits.
std::unique_ptr<LockManager> makeLocalLockManager(std::shared_ptr<LocalCoordinator> coordinator,
                                                  const core::Clock& clock);

}  // namespace tether::store::sql
