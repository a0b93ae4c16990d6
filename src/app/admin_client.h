#pragma once
/// The operator commands' side of the admin API (`/api/v1/admin/...` on a running Tether):
/// one call is one HTTP request through the project's client (src/http), with a connect
/// and a total deadline, the admin key in `Authorization: Bearer`, and a bounded answer.
/// Failures come back as one line for the operator: the server's own message (its
/// `{"error":{"message":...}}`), the HTTP status, or "cannot reach Tether at URL: why".
/// The admin key never appears in any of them.
///
/// Thread-safety: `call` and `callAll` may be used from one thread at a time.

#include <boost/json/value.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tether::http {
class HttpClient;
struct ClientResult;
}  // namespace tether::http

namespace tether::app {

struct AdminClientOptions {
  std::string url;        // Tether's base URL, e.g. http://127.0.0.1:8080 (no trailing '/')
  std::string admin_key;  // sent as a Bearer token; never shown
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{30'000};  // the whole exchange
  size_t max_answer_bytes = 32u << 20;        // the connections list of 10,000 and more
  size_t parallel = 4;                        // requests in flight at once in callAll
};

/// One answer of the admin API.
struct AdminAnswer {
  int status = 0;           // the HTTP status; 0 when no answer came
  std::string body;         // as received
  boost::json::value json;  // the body parsed; null when it is not JSON
  std::string error;        // empty on a 2xx answer with a JSON body; else why not

  bool ok() const { return error.empty(); }
  bool answered() const { return status != 0; }
};

/// Why `url` cannot be a Tether base URL (not absolute http(s), holds credentials, a query
/// or a fragment), or empty when it can.
std::string baseUrlProblem(const std::string& url);

class AdminClient {
 public:
  explicit AdminClient(AdminClientOptions options);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  /// `method` on `path` (from `/api/v1/admin/...`), with a JSON `body` when not empty.
  /// `headers` are sent too (If-Match).
  AdminAnswer call(const std::string& method, const std::string& path, const std::string& body = {},
                   std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

  /// GETs every path, `parallel` at a time; the answers in the order of `paths`.
  std::vector<AdminAnswer> getAll(const std::vector<std::string>& paths);

  const std::string& url() const { return options_.url; }

 private:
  struct Pending;
  AdminAnswer answerOf(http::ClientResult&& result) const;

  AdminClientOptions options_;
  std::unique_ptr<http::HttpClient> http_;
};

}  // namespace tether::app
