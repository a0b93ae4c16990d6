#include "store/sql/local_coordinator.h"

#include <fmt/format.h>

#include <map>

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;

class LocalLock final : public LockGuard::Impl {
 public:
  LocalLock(std::shared_ptr<LocalCoordinator> coordinator, ConnectionKey key)
      : coordinator_(std::move(coordinator)), key_(std::move(key)) {}
  void release() override {
    if (coordinator_) std::exchange(coordinator_, nullptr)->release(key_);
  }
  ~LocalLock() override { release(); }

 private:
  std::shared_ptr<LocalCoordinator> coordinator_;
  ConnectionKey key_;
};

class LocalLockManager final : public LockManager {
 public:
  LocalLockManager(std::shared_ptr<LocalCoordinator> coordinator, const core::Clock& clock)
      : coordinator_(std::move(coordinator)), clock_(clock) {}

  Result<LockGuard> tryLock(const ConnectionKey& key) override {
    if (!coordinator_->acquire(key, Duration(0), clock_)) return LockGuard();
    return LockGuard(key, std::make_unique<LocalLock>(coordinator_, key));
  }

  Result<LockGuard> lock(const ConnectionKey& key, Duration timeout) override {
    if (!coordinator_->acquire(key, timeout, clock_)) {
      return Error(Errc::kTimeout, fmt::format("store: lock {}: still held elsewhere after {} ms",
                                               key.str(), timeout.count()));
    }
    return LockGuard(key, std::make_unique<LocalLock>(coordinator_, key));
  }

 private:
  std::shared_ptr<LocalCoordinator> coordinator_;
  const core::Clock& clock_;
};

}  // namespace

std::shared_ptr<LocalCoordinator> LocalCoordinator::forPath(const std::string& canonical_path) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<LocalCoordinator>> registry;
  std::lock_guard lock(mu);
  std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = registry[canonical_path];
  if (auto existing = slot.lock()) return existing;
  auto created = std::make_shared<LocalCoordinator>();
  slot = created;
  return created;
}

LocalCoordinator::LocalCoordinator() : dispatcher_(&LocalCoordinator::run, queue_, subscribers_) {}

LocalCoordinator::~LocalCoordinator() {
  {
    std::lock_guard lock(queue_->mu);
    queue_->stopping = true;
  }
  queue_->cv.notify_all();
  // The last reference may be dropped by a callback running on the dispatcher itself.
  if (dispatcher_.get_id() == std::this_thread::get_id()) {
    dispatcher_.detach();
  } else {
    dispatcher_.join();
  }
}

void LocalCoordinator::announce(const TokenChange& change) {
  {
    std::lock_guard lock(queue_->mu);
    queue_->changes.push_back(change);
  }
  queue_->cv.notify_one();
}

void LocalCoordinator::run(std::shared_ptr<Queue> queue, std::shared_ptr<Subscribers> subscribers) {
  std::unique_lock lock(queue->mu);
  for (;;) {
    queue->cv.wait(lock, [&] { return queue->stopping || !queue->changes.empty(); });
    if (queue->changes.empty()) return;  // stopping, and everything was delivered
    TokenChange change = std::move(queue->changes.front());
    queue->changes.pop_front();
    lock.unlock();
    subscribers->dispatch(change);
    lock.lock();
  }
}

bool LocalCoordinator::acquire(const ConnectionKey& key, Duration timeout,
                               const core::Clock& clock) {
  std::unique_lock lock(mu_);
  if (timeout.count() <= 0) return held_.insert(key).second;
  const core::MonoPoint deadline = clock.monotonic() + timeout;
  while (held_.count(key) != 0) {
    const auto remaining = deadline - clock.monotonic();
    if (remaining <= remaining.zero()) return false;
    cv_.wait_for(lock, remaining);
  }
  held_.insert(key);
  return true;
}

void LocalCoordinator::release(const ConnectionKey& key) {
  {
    std::lock_guard lock(mu_);
    held_.erase(key);
  }
  cv_.notify_all();
}

std::unique_ptr<LockManager> makeLocalLockManager(std::shared_ptr<LocalCoordinator> coordinator,
                                                  const core::Clock& clock) {
  return std::make_unique<LocalLockManager>(std::move(coordinator), clock);
}

}  // namespace tether::store::sql
