#pragma once
/// Every thread of the process, declared in one place. The pools the process owns are
/// members here; the others are sized here (or by the setting named) and owned by the
/// module that runs on them:
///
///   pool        threads                    runs
///   I/O         server.io_threads          each listener's accept and request handling
///                                          (http::Server; admin.listen gets its own)
///   blocking    kBlockingThreads           readiness checks (store round trips) answered
///                                          for the I/O threads (ProcessPools::blocking)
///   admin       kAdminThreads              admin API and connect-flow handlers: store and
///                                          IdP calls, an IdP may take seconds
///                                          (ProcessPools::admin)
///   refresh     kRefreshThreads            on-demand token refreshes (lifecycle::Lifecycle,
///                                          via LifecycleOptions::refresh_threads)
///   keeper      keeper.concurrency         the keeper's background refreshes
///                                          (lifecycle::Keeper) plus its one loop thread
///   inbound     kInboundThreads            the inbound issuer's JWK Set fetches and token
///                                          introspections (identity::Validator), when
///                                          `inbound:` is configured (ProcessPools::inbound)
///   IdP client  kHttpClientThreads         libcurl transfers to IdPs (http::makeHttpClient
///                                          via HttpClientOptions::worker_threads)
///   store       backend's own              PostgreSQL LISTEN thread, SQLite coordinator
///   last use    1                          writes when connections were last used
///                                          (gateway::LastUseFlusher, every
///                                          kLastUseFlushInterval and at stop)
///   bootstrap   1                          opens the store, then starts the lifecycle
///
/// Thread-safety: the pools are thread-safe; shutdown() is called once, at stop.

#include <cstddef>

#include "core/thread_pool.h"

namespace tether::app {

struct ProcessPools {
  static constexpr size_t kBlockingThreads = 2;
  static constexpr size_t kAdminThreads = 4;
  static constexpr size_t kRefreshThreads = 4;
  static constexpr size_t kHttpClientThreads = 4;
  static constexpr size_t kInboundThreads = 2;

  core::ThreadPool blocking{kBlockingThreads, "blocking"};
  core::ThreadPool admin{kAdminThreads, "admin"};
  core::ThreadPool inbound{kInboundThreads, "inbound"};

  /// Drains and joins the pools the process owns (after the listeners stopped).
  void shutdown() {
    blocking.shutdown();
    admin.shutdown();
    inbound.shutdown();
  }
};

}  // namespace tether::app
