#pragma once
/// The connections made through the admin API, kept running on every replica: the running
/// set is always declared (the config file, `source: config`) ∪ stored (the store,
/// `source: api`), handed whole to an apply function (app/live_connections.h).
///
/// A replica learns of a change three ways: its own admin API calls `syncNow()` after a
/// write; the store's change notification (PostgreSQL LISTEN/NOTIFY from any replica) wakes
/// the watcher thread; and the watcher polls the store's registry version every
/// `poll_interval` (≤ 1 s) as a safety net for a notification lost while the listener
/// reconnected. So a change made on one replica runs on every replica within about a second.
///
/// A stored connection whose (kind, name) is also declared is a start-up error (`load`);
/// later (a reload declaring it, or a race) the declared one wins and an error is logged.
/// A stored definition the parser refuses (written by a newer Tether, say) is skipped with
/// an error log naming it and the field.
///
/// Thread-safety: every method may be called from any thread; syncs are serialized. They
/// block on the store: never call them on an I/O thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "store/store.h"

namespace tether::app {

class StoredConnections {
 public:
  /// Makes the full list run (LiveConnections::apply) and says whether anything changed; an
  /// error leaves the running set as it was (logged, retried at the next change or poll).
  using Apply = std::function<core::Result<bool>(std::vector<config::ConnectionConfig>)>;

  struct Options {
    std::chrono::milliseconds poll_interval{1000};
    std::chrono::milliseconds default_token_lifetime = std::chrono::hours(1);  // keeper's
  };

  /// `store` must outlive this object.
  StoredConnections(store::Store& store, std::vector<config::ConnectionConfig> declared,
                    Apply apply, Options options);
  ~StoredConnections();  // stop()
  StoredConnections(const StoredConnections&) = delete;
  StoredConnections& operator=(const StoredConnections&) = delete;

  /// Start-up: reads the stored set and applies declared ∪ stored. kConfig naming each
  /// connection that is both declared and stored; store errors as they are.
  core::Status load();

  /// Starts the watcher (notifications and the poll).
  void start();
  void stop();

  /// Reads the stored set and applies declared ∪ stored when it changed since the last
  /// apply (`force`: in any case).
  core::Status syncNow(bool force = false);

  /// A reload's declared list: applies it ∪ stored; true when the running set changed.
  /// kConfig naming a connection that is both declared and stored (nothing changes then).
  core::Result<bool> setDeclared(std::vector<config::ConnectionConfig> declared);

  /// True when `key` is declared in the config file.
  bool isDeclared(const store::ConnectionKey& key) const;

  /// The registry version last applied (tests, metrics).
  int64_t appliedVersion() const;

 private:
  core::Result<std::vector<config::ConnectionConfig>> readStored(bool strict);
  core::Result<bool> applyLocked(std::vector<config::ConnectionConfig> stored);
  void run();

  store::Store& store_;
  Apply apply_;
  Options options_;
  mutable std::mutex mu_;  // declared_, applied_version_; held through a sync
  std::vector<config::ConnectionConfig> declared_;
  /// Parsed stored definitions by key, with the row version they were parsed from: a sync
  /// parses only the rows that changed.
  std::map<store::ConnectionKey, std::pair<int64_t, config::ConnectionConfig>> parsed_;
  /// Rows the parser refused, by the version refused (logged once per version).
  std::map<store::ConnectionKey, int64_t> unreadable_;
  int64_t applied_version_ = -1;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  bool stopping_ = false;
  store::Subscription subscription_;
  std::thread thread_;
};

}  // namespace tether::app
