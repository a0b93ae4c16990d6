#pragma once
/// "Exactly one refresher per connection" locks. Part of the blocking store API (see
/// store/store.h): taking a lock may wait, and releasing one does I/O on PostgreSQL.

#include <memory>
#include <utility>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// A held refresh lock; releases on destruction (which does I/O on PostgreSQL). Move-only.
/// A default-constructed or failed-try guard holds nothing.
class LockGuard {
 public:
  /// Implementation hook; `release` must be idempotent.
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual void release() = 0;
  };

  LockGuard() = default;
  LockGuard(ConnectionKey key, std::unique_ptr<Impl> impl)
      : key_(std::move(key)), impl_(std::move(impl)) {}
  LockGuard(LockGuard&&) noexcept = default;
  LockGuard& operator=(LockGuard&& other) noexcept {
    if (this != &other) {
      release();
      key_ = std::move(other.key_);
      impl_ = std::move(other.impl_);
    }
    return *this;
  }
  ~LockGuard() { release(); }

  bool held() const { return impl_ != nullptr; }
  const ConnectionKey& key() const { return key_; }
  void release() {
    if (impl_) {
      impl_->release();
      impl_.reset();
    }
  }

 private:
  ConnectionKey key_;
  std::unique_ptr<Impl> impl_;
};

/// "Exactly one refresher per connection" locks keyed on (kind, name). PostgreSQL:
/// session advisory locks on dedicated connections (shared by every replica on the
/// database). SQLite: an in-process table shared by every Store on the same file. Not
/// reentrant: a second lock of a held key fails or waits even in the same thread.
class LockManager {
 public:
  virtual ~LockManager() = default;

  /// Takes the lock if free right now; a guard with held() == false if someone has it.
  virtual core::Result<LockGuard> tryLock(const ConnectionKey& key) = 0;

  /// Waits up to `timeout` (real time: the wait is against other threads, processes or the
  /// PostgreSQL server) for the lock; kTimeout when the deadline passes.
  virtual core::Result<LockGuard> lock(const ConnectionKey& key, Duration timeout) = 0;
};

}  // namespace tether::store
