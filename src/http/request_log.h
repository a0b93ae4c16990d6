#pragma once
/// What the HTTP server records of each request it answered: the access log line and the
/// request metrics. Internal to the server (src/http implementation files only).
///
/// The access log (`log.access`, on by default) writes one `info` line per request: method,
/// route (the pattern, never the raw path or query: OAuth callbacks carry `code` and
/// `state` there), connection and subject when a handler named them, status, duration,
/// request id, trace id (from a valid `traceparent`) and the peer's address. An answer with
/// a 5xx status is logged at `warn` even with the access log off.
///
/// Thread-safety: record() on I/O thread `thread` only (per-thread caches); setAccessLog()
/// from any thread.

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "http/message.h"

namespace tether::http {

class RequestRecorder {
 public:
  /// `metrics` may be null (no metrics); `threads`: the server's I/O threads.
  RequestRecorder(core::MetricsRegistry* metrics, size_t threads, bool access_log);

  void setAccessLog(bool on) { access_log_.store(on, std::memory_order_relaxed); }

  /// One answered request. `request` is null when no request was parsed (a refused head).
  void record(size_t thread, std::string_view route, std::string_view method, int status,
              std::chrono::steady_clock::time_point started, const Request* request);

 private:
  // Resolved metric series of one I/O thread: the hot path builds its key in a reused
  // buffer and touches only atomics.
  struct SeriesCache {
    std::unordered_map<std::string, std::pair<core::Counter*, core::Histogram*>> series;
    std::string key;
    // The last series used: consecutive requests on a thread mostly share it.
    std::string last_route;
    std::string last_method;
    int last_status = -1;
    std::pair<core::Counter*, core::Histogram*> last{nullptr, nullptr};
  };

  void log(std::string_view route, std::string_view method, int status, double seconds,
           const Request* request) const;

  core::MetricsRegistry* metrics_;
  std::vector<SeriesCache> series_;  // [i]: I/O thread i's
  std::atomic<bool> access_log_;
};

}  // namespace tether::http
