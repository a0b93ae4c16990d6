#include "http/request_log.h"

#include <charconv>

#include "core/log.h"
#include "core/log_line.h"
#include "http/headers.h"
#include "http/trace_context.h"

namespace tether::http {

namespace {

// The `method` label of the request metrics: the standard methods, else OTHER (a client
// chooses the method string; every label set is closed).
std::string_view metricMethod(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",     "HEAD",  "POST",    "PUT",  "DELETE",
                                                "OPTIONS", "PATCH", "CONNECT", "TRACE"};
  for (std::string_view m : kKnown) {
    if (method == m) return m;
  }
  return "OTHER";
}

}  // namespace

RequestRecorder::RequestRecorder(core::MetricsRegistry* metrics, size_t threads, bool access_log)
    : metrics_(metrics), series_(threads), access_log_(access_log) {}

void RequestRecorder::log(std::string_view route, std::string_view method, int status,
                          double seconds, const Request* request) const {
  const auto level = status >= 500 ? core::LogLevel::kWarn : core::LogLevel::kInfo;
  if (level == core::LogLevel::kInfo && !access_log_.load(std::memory_order_relaxed)) return;
  if (!core::log::enabled(level)) return;
  // No target: its query may hold OAuth parameters (code, state) and its path whatever a
  // client typed; the route pattern says which endpoint answered.
  //
  // The line is preformatted without the generic redaction of values the server made or
  // took from configuration (route pattern, connection and client-key names, status,
  // duration, a generated request id, the peer's address). What a client chose is still
  // redacted: a method other than the standard ones, an X-Request-Id it sent, the trace id
  // of its traceparent (each bounded: a token within the header limit, 64 and 32 bytes).
  const std::string_view empty;
  const bool own_method = metricMethod(method) == method;
  const bool client_request_id =
      request && request->request_id.size() && findHeader(request->headers, "X-Request-Id");
  const std::string_view trace_id = request ? traceIdOf(request->traceparent) : empty;
  const core::log::NumberText status_text(static_cast<long long>(status));
  const core::log::NumberText duration_text(seconds * 1000);
  const core::log::LineField fields[] = {
      {"method", method, false, !own_method},
      {"route", route},
      {"connection", request ? request->connection : empty},
      {"status", status_text.view(), true},
      {"duration_ms", duration_text.view(), true},
      {"subject", request ? request->subject : empty},
      {"request_id", request ? std::string_view(request->request_id) : empty, false,
       client_request_id},
      {"trace_id", trace_id, false, !trace_id.empty()},
      {"remote", request ? std::string_view(request->remote_address) : empty}};
  core::log::writeFields(level, "request", fields);
}

void RequestRecorder::record(size_t thread, std::string_view route, std::string_view method,
                             int status, std::chrono::steady_clock::time_point started,
                             const Request* request) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log(route, method, status, seconds, request);
  if (!metrics_) return;
  method = metricMethod(method);
  auto& cache = series_[thread];
  if (status == cache.last_status && route == cache.last_route && method == cache.last_method) {
    cache.last.first->inc();
    cache.last.second->observe(seconds);
    return;
  }
  std::string& key = cache.key;
  key.clear();
  key.append(route).append(1, ' ').append(method).append(1, ' ');
  char digits[16];
  key.append(digits, std::to_chars(digits, digits + sizeof digits, status).ptr);
  auto it = cache.series.find(key);
  if (it == cache.series.end()) {
    auto* counter = &metrics_->counter("tether_http_requests_total",
                                       "HTTP requests served, by route and status",
                                       {{"route", std::string(route)},
                                        {"method", std::string(method)},
                                        {"status", std::to_string(status)}});
    auto* histogram = &metrics_->histogram("tether_http_request_duration_seconds",
                                           "Time from request read to response written",
                                           {{"route", std::string(route)}});
    it = cache.series.emplace(key, std::make_pair(counter, histogram)).first;
  }
  cache.last = it->second;
  cache.last_status = status;
  cache.last_route.assign(route);
  cache.last_method.assign(method);
  it->second.first->inc();
  it->second.second->observe(seconds);
}

}  // namespace tether::http
