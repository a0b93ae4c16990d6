#include "app/admin_client.h"

#include <boost/json.hpp>
#include <condition_variable>
#include <mutex>

#include "app/operator_format.h"
#include "http/http_client.h"

namespace tether::app {

struct AdminClient::Pending {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<http::ClientResult>> results;
  size_t done = 0;
};

namespace {

constexpr size_t kMaxMessage = 300;

http::ClientRequest requestFor(const AdminClientOptions& o, const std::string& method,
                               const std::string& path, const std::string& body,
                               std::chrono::milliseconds timeout) {
  http::ClientRequest req;
  req.method = method;
  req.url = o.url + path;
  req.body = body;
  req.headers = {{"Authorization", "Bearer " + o.admin_key}, {"Accept", "application/json"}};
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  req.connect_timeout = o.connect_timeout;
  req.total_timeout = timeout;
  req.max_response_bytes = o.max_answer_bytes;
  return req;
}

// The API's own sentence from {"error":{"message":...}}, if it sent one.
std::string apiMessage(const boost::json::value& v) {
  const auto* o = v.if_object();
  const auto* err = o ? o->if_contains("error") : nullptr;
  const auto* eo = err ? err->if_object() : nullptr;
  const auto* msg = eo ? eo->if_contains("message") : nullptr;
  if (!msg || !msg->is_string()) return {};
  std::string text = printable(std::string_view(msg->as_string()));
  if (text.size() > kMaxMessage) text = text.substr(0, kMaxMessage) + "...";
  return text;
}

}  // namespace

std::string baseUrlProblem(const std::string& url) {
  const auto target = http::parseClientUrl(url);
  if (!target) {
    return "the Tether URL \"" + printable(url.substr(0, 200)) +
           "\" is not an absolute http:// or https:// URL";
  }
  const auto authority = url.find("://") + 3;
  const auto path_start = url.find_first_of("/?#", authority);
  if (url.substr(authority, path_start - authority).find('@') != std::string::npos) {
    return "the Tether URL must not hold credentials (the admin key goes in TETHER_ADMIN_KEY "
           "or --admin-key-file)";
  }
  if (url.find_first_of("?#") != std::string::npos) {
    return "the Tether URL must not hold a query or a fragment";
  }
  return {};
}

AdminClient::AdminClient(AdminClientOptions options) : options_(std::move(options)) {
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
  http::HttpClientOptions ho;
  ho.worker_threads = std::max<size_t>(1, options_.parallel);
  ho.user_agent = "tether-cli";
  http_ = http::makeHttpClient(ho);
}

AdminClient::~AdminClient() = default;

AdminAnswer AdminClient::answerOf(http::ClientResult&& r) const {
  AdminAnswer a;
  if (!r.ok()) {
    const std::string why = printable(r.error_message.empty() ? "no answer" : r.error_message);
    if (r.error == http::TransportError::kTimeout) {
      a.error = "Tether at " + options_.url + " did not answer in time (" + why + ")";
    } else if (r.error == http::TransportError::kTooLarge) {
      a.error = "the answer of Tether at " + options_.url + " is larger than " +
                std::to_string(options_.max_answer_bytes) + " bytes";
    } else {
      a.error = "cannot reach Tether at " + options_.url + ": " + why;
    }
    return a;
  }
  const int status = r.response.status;
  a.status = status;
  a.body = std::move(r.response.body);
  boost::system::error_code ec;
  a.json = boost::json::parse(a.body, ec);
  if (ec) a.json = nullptr;
  if (status >= 200 && status < 300) {
    if (ec) {
      a.error = "Tether at " + options_.url + " answered HTTP " + std::to_string(status) +
                " with something that is not JSON (is the URL Tether's admin API?)";
    }
    return a;
  }
  const std::string message = apiMessage(a.json);
  a.error = message.empty()
                ? "Tether at " + options_.url + " answered HTTP " + std::to_string(status)
                : message;
  return a;
}

AdminAnswer AdminClient::call(const std::string& method, const std::string& path,
                              const std::string& body,
                              std::optional<std::chrono::milliseconds> timeout,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  auto req = requestFor(options_, method, path, body, timeout.value_or(options_.timeout));
  for (const auto& [name, value] : headers) req.headers.push_back({name, value});
  auto r = http_->send(std::move(req));
  return answerOf(std::move(r));
}

std::vector<AdminAnswer> AdminClient::getAll(const std::vector<std::string>& paths) {
  auto pending = std::make_shared<Pending>();
  pending->results.resize(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    http_->sendAsync(requestFor(options_, "GET", paths[i], {}, options_.timeout),
                     [pending, i](http::ClientResult r) {
                       std::lock_guard lock(pending->mu);
                       pending->results[i] = std::move(r);
                       ++pending->done;
                       pending->cv.notify_all();
                     });
  }
  // Each transfer has its own deadline; this one only guards against a client that never
  // calls back.
  const auto rounds = paths.size() / std::max<size_t>(1, options_.parallel) + 1;
  const auto deadline = std::chrono::steady_clock::now() +
                        (options_.timeout + options_.connect_timeout) * rounds +
                        std::chrono::seconds(5);
  std::vector<AdminAnswer> out;
  std::unique_lock lock(pending->mu);
  pending->cv.wait_until(lock, deadline, [&] { return pending->done == paths.size(); });
  for (auto& r : pending->results) {
    if (!r) {
      http::ClientResult late;
      late.error = http::TransportError::kTimeout;
      late.error_message = "no answer in time";
      r = std::move(late);
    }
    out.push_back(answerOf(std::move(*r)));
  }
  return out;
}

}  // namespace tether::app
