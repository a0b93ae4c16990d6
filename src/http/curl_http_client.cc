// The production HttpClient on libcurl (easy interface, OpenSSL backend).
//
// Design notes:
// - Connection reuse: libcurl's shared connection cache (CURL_LOCK_DATA_CONNECT) is documented
//   as unsafe across concurrent threads, so each easy handle keeps its own connection cache and
//   idle handles are pooled; a transfer takes the idle handle that last talked to its origin.
//   DNS answers and TLS sessions are shared through a share handle (both thread-safe).
// - Trust partitions: handles, connections and TLS sessions are kept per CA bundle path. A
//   connection verified with an extra CA must never serve a request that did not trust that
//   CA (libcurl does not know about the SSL_CTX callback when it matches connections).
// - The extra CA bundle is merged in CURLOPT_SSL_CTX_FUNCTION into a fresh X509_STORE that
//   copies the system store; the store libcurl gives us may be a cached one it reuses for
//   later connections, so it is never modified.
// - The callbacks of one transfer (headers, body, request_sent, cancel, CA bundle) live in
//   curl_transfer.cc.
// - A request with a ConnectGuard (discovery) is resolved here, checked address by address and
//   pinned (CURLOPT_RESOLVE, CURLOPT_OPENSOCKETFUNCTION; see curl_connect_pin.h) on a fresh
//   handle outside the pool and the share: no cached connection or DNS answer decides where
//   it goes, and no pinned DNS entry leaks into other transfers.
// - request_sent is derived from CURLOPT_DEBUGFUNCTION: the bytes libcurl reports as written
//   (header block up to its blank line, then exactly the body length).

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "core/log.h"
#include "core/redact.h"
#include "http/curl_connect_pin.h"
#include "http/curl_support.h"
#include "http/curl_transfer.h"
#include "http/http_client.h"

namespace tether::http {

namespace {

// Idle easy handles (each with its own connection cache) kept per trust partition.
constexpr size_t kMaxIdleHandlesPerPartition = 16;
constexpr long kMaxRedirects = 5;

// ---- C handles ------------------------------------------------------------------------------

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlShareDeleter {
  void operator()(CURLSH* h) const { curl_share_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSharePtr = std::unique_ptr<CURLSH, CurlShareDeleter>;
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// ---- small helpers ---------------------------------------------------------------------------

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

bool isSafeHeaderValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string envFirst(const char* a, const char* b) {
  for (const char* name : {a, b}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  return {};
}

long clampMillis(std::chrono::milliseconds d) {
  return static_cast<long>(std::min<int64_t>(d.count(), LONG_MAX));
}

// Scheme, host and port of a URL; the URL is validated by libcurl's own parser.
struct Origin {
  UrlTarget target;
  std::string scheme;  // lower case: "http" or "https"
  std::string key;     // "scheme://host:port", for pooling and logs (no path, no query)
};

bool parseOrigin(const std::string& url, Origin& out) {
  auto target = parseClientUrl(url);
  if (!target) return false;
  out.scheme = target->scheme;
  const bool v6 = target->host.find(':') != std::string::npos;
  out.key = out.scheme + "://" + (v6 ? "[" + target->host + "]" : target->host) + ":" +
            std::to_string(target->port);
  out.target = std::move(*target);
  return true;
}

ClientResult failure(TransportError error, std::string message, bool request_sent = false) {
  ClientResult r;
  r.error = error;
  r.request_sent = request_sent;
  r.error_message = core::redactText(message);
  return r;
}

// ---- handle pool -----------------------------------------------------------------------------

struct IdleHandle {
  CurlEasyPtr easy;
  std::string origin;  // origin of its last transfer: its cache likely holds that connection
};

// Everything that may carry trust decisions (connections, TLS sessions) for one CA bundle.
class Partition {
 public:
  Partition() : share_(curl_share_init()) {
    if (!share_) return;
    curl_share_setopt(share_.get(), CURLSHOPT_LOCKFUNC, &Partition::lock);
    curl_share_setopt(share_.get(), CURLSHOPT_UNLOCKFUNC, &Partition::unlock);
    curl_share_setopt(share_.get(), CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;
  ~Partition() {
    std::lock_guard lock(idle_mu_);
    idle_.clear();  // easy handles detach from the share before it is cleaned up
  }

  CURLSH* share() const { return share_.get(); }

  /// An idle handle, preferably one that last talked to `origin`; a new one if none is idle.
  CurlEasyPtr acquire(const std::string& origin) {
    {
      std::lock_guard lock(idle_mu_);
      if (!idle_.empty()) {
        auto it = std::find_if(idle_.rbegin(), idle_.rend(),
                               [&](const IdleHandle& h) { return h.origin == origin; });
        auto pick = it != idle_.rend() ? std::prev(it.base()) : std::prev(idle_.end());
        CurlEasyPtr easy = std::move(pick->easy);
        idle_.erase(pick);
        return easy;
      }
    }
    return CurlEasyPtr(curl_easy_init());
  }

  /// Returns a handle (already curl_easy_reset) to the pool; drops it when the pool is full.
  void release(CurlEasyPtr easy, std::string origin) {
    std::unique_lock lock(idle_mu_);
    if (idle_.size() >= kMaxIdleHandlesPerPartition) {
      lock.unlock();
      return;  // `easy` is cleaned up (and its connections closed) outside the lock
    }
    idle_.push_back({std::move(easy), std::move(origin)});
  }

 private:
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Partition*>(user)->locks_[static_cast<size_t>(data)].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Partition*>(user)->locks_[static_cast<size_t>(data)].unlock();
  }

  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks_;
  CurlSharePtr share_;  // declared before idle_: destroyed after every pooled handle
  std::mutex idle_mu_;
  std::vector<IdleHandle> idle_;
};

// ---- the client ------------------------------------------------------------------------------

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(const HttpClientOptions& options) : options_(options) {
    const size_t n = std::max<size_t>(1, options_.worker_threads);
    workers_.reserve(n);
    for (size_t i = 0; i < n; ++i) workers_.emplace_back([this] { workerLoop(); });
  }

  ~CurlHttpClient() override {
    {
      std::lock_guard lock(jobs_mu_);
      stopping_.store(true);
    }
    jobs_cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  ClientResult send(const ClientRequest& request) override;

  void sendAsync(ClientRequest request, std::function<void(ClientResult)> done) override {
    {
      std::lock_guard lock(jobs_mu_);
      jobs_.push_back({std::move(request), std::move(done)});
    }
    jobs_cv_.notify_one();
  }

 private:
  struct Job {
    ClientRequest request;
    std::function<void(ClientResult)> done;
  };

  void workerLoop();
  Partition& partitionFor(const std::string& ca_bundle_path);

  const HttpClientOptions options_;
  std::atomic<bool> stopping_{false};

  std::mutex partitions_mu_;
  std::map<std::string, std::unique_ptr<Partition>> partitions_;

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;
  std::vector<std::thread> workers_;
};

void CurlHttpClient::workerLoop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(jobs_mu_);
      jobs_cv_.wait(lock, [&] { return stopping_.load() || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    ClientResult result = stopping_.load()
                              ? failure(TransportError::kOther, "HTTP client is shutting down")
                              : send(job.request);
    try {
      job.done(std::move(result));
    } catch (const std::exception& e) {
      core::log::error("HTTP client completion callback threw", {{"what", e.what()}});
    } catch (...) {
      core::log::error("HTTP client completion callback threw");
    }
  }
}

Partition& CurlHttpClient::partitionFor(const std::string& ca_bundle_path) {
  std::lock_guard lock(partitions_mu_);
  auto& slot = partitions_[ca_bundle_path];
  if (!slot) slot = std::make_unique<Partition>();
  return *slot;
}

ClientResult CurlHttpClient::send(const ClientRequest& request) {
  const detail::CurlGlobal& global = detail::curlGlobal();
  if (global.init_code != CURLE_OK) {
    return failure(TransportError::kOther, "libcurl failed to initialise");
  }

  // ---- validate what is ours to get right, before touching the network.
  if (!isToken(request.method)) {
    return failure(TransportError::kInvalidRequest, "invalid HTTP method");
  }
  Origin origin;
  if (!parseOrigin(request.url, origin)) {
    // The URL itself is not quoted: its query may hold a secret.
    return failure(TransportError::kInvalidRequest, "invalid URL (http or https required)");
  }
  if (request.connect_timeout.count() <= 0 || request.total_timeout.count() <= 0) {
    return failure(TransportError::kInvalidRequest, "timeouts must be positive");
  }
  if (!request.ca_bundle_path.empty() && !global.openssl) {
    return failure(TransportError::kInvalidRequest, "a CA bundle needs libcurl built with OpenSSL");
  }
  for (const auto& h : request.headers) {
    if (!isToken(h.name) || !isSafeHeaderValue(h.value)) {
      return failure(TransportError::kInvalidRequest,
                     "invalid request header " + std::string(isToken(h.name) ? h.name : "name"));
    }
  }

  // ---- request headers: exactly the caller's, minus curl's defaults.
  CurlSlistPtr header_list;
  auto addHeader = [&](const std::string& line) -> bool {
    curl_slist* next = curl_slist_append(header_list.get(), line.c_str());
    if (next == nullptr) return false;
    (void)header_list.release();
    header_list.reset(next);
    return true;
  };
  bool headers_ok = true;
  for (const auto& h : request.headers) {
    // Framing is derived from the body; a copied Content-Length could contradict it.
    if (core::iequals(h.name, "content-length") || core::iequals(h.name, "transfer-encoding")) {
      continue;
    }
    // "Name;" is curl's spelling for a header with an empty value.
    headers_ok &= addHeader(h.value.empty() ? h.name + ";" : h.name + ": " + h.value);
  }
  for (const char* name : {"Expect", "Accept", "Content-Type"}) {
    if (!findHeader(request.headers, name)) headers_ok &= addHeader(std::string(name) + ":");
  }
  if (!headers_ok) return failure(TransportError::kOther, "out of memory building headers");

  std::string proxy;
  std::string no_proxy;
  if (request.use_proxy) {
    // Resolved here rather than by libcurl, which ignores upper-case HTTP_PROXY.
    proxy = origin.scheme == "https" ? envFirst("https_proxy", "HTTPS_PROXY")
                                     : envFirst("http_proxy", "HTTP_PROXY");
    if (proxy.empty()) proxy = envFirst("all_proxy", "ALL_PROXY");
    no_proxy = envFirst("no_proxy", "NO_PROXY");
  }

  // ---- a guarded request: resolve, check every address, pin (before any connection).
  std::optional<detail::ConnectPin> pin;
  CurlSlistPtr resolve_list;
  if (request.connect_guard) {
    pin.emplace();
    pin->target = origin.target;
    pin->guard = request.connect_guard.get();
    const auto outcome =
        detail::preparePin(*pin, options_.resolver, request.connect_timeout, proxy);
    if (outcome.error != TransportError::kNone) {
      core::log::debug("outbound HTTP request refused before connecting",
                       {{"method", request.method},
                        {"origin", origin.key},
                        {"error", transportErrorName(outcome.error)},
                        {"detail", outcome.message}});
      return failure(outcome.error, outcome.message);
    }
    if (!pin->resolve_entry.empty()) {
      resolve_list.reset(curl_slist_append(nullptr, pin->resolve_entry.c_str()));
      if (!resolve_list) return failure(TransportError::kOther, "out of memory pinning the host");
    }
  }

  Partition& partition = partitionFor(request.ca_bundle_path);
  // A guarded transfer gets a handle of its own (destroyed after it): no pooled connection
  // to an unchecked address is reused, and its pinned DNS entry reaches no other transfer.
  CurlEasyPtr easy = pin ? CurlEasyPtr(curl_easy_init()) : partition.acquire(origin.key);
  if (!easy) return failure(TransportError::kOther, "curl_easy_init failed");
  CURL* h = easy.get();
  curl_easy_reset(h);

  const bool head = request.method == "HEAD";
  detail::Transfer t(request, head, stopping_);
  std::array<char, CURL_ERROR_SIZE> errbuf{};

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, option, value);
  };
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, errbuf.data());
  if (!pin) set(CURLOPT_SHARE, partition.share());
  // HTTP/1.1 keeps the wire format predictable: header names as given, one request per
  // connection at a time, and errors that map cleanly.
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_CONNECTTIMEOUT_MS, clampMillis(request.connect_timeout));
  set(CURLOPT_TIMEOUT_MS, clampMillis(request.total_timeout));
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!request.ca_bundle_path.empty()) {
    set(CURLOPT_SSL_CTX_FUNCTION, &detail::onSslCtx);
    set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(&t));
  }
  // A redirect would lead a guarded request to a host nobody resolved and checked.
  set(CURLOPT_FOLLOWLOCATION, request.follow_redirects && !pin ? 1L : 0L);
  if (pin) {
    if (resolve_list) set(CURLOPT_RESOLVE, resolve_list.get());
    set(CURLOPT_OPENSOCKETFUNCTION, &detail::openPinnedSocket);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&*pin));
    set(CURLOPT_FRESH_CONNECT, 1L);
    set(CURLOPT_FORBID_REUSE, 1L);
  }
  set(CURLOPT_MAXREDIRS, kMaxRedirects);
  set(CURLOPT_PROXY, proxy.c_str());  // "" disables every proxy, the environment's too
  if (request.use_proxy) set(CURLOPT_NOPROXY, no_proxy.c_str());
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  if (!options_.user_agent.empty()) set(CURLOPT_USERAGENT, options_.user_agent.c_str());
  set(CURLOPT_HTTPHEADER, header_list.get());

  if (head) {
    set(CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET" && request.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    const bool send_body = !request.body.empty() || request.method == "POST" ||
                           request.method == "PUT" || request.method == "PATCH";
    if (send_body) {
      // Not copied: `request` outlives the transfer.
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      set(CURLOPT_POSTFIELDS, request.body.data());
    }
    if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
    // libcurl silently resends a request when a reused keep-alive connection turns out to
    // be dead before any answer byte. For a non-idempotent request (a token request with a
    // one-time-use refresh token) that resend is a replay, and the caller could not tell.
    // A fresh connection makes "sent, answer lost" visible as kReset with request_sent.
    if (request.method == "POST" || request.method == "PATCH") set(CURLOPT_FRESH_CONNECT, 1L);
  }

  set(CURLOPT_HEADERFUNCTION, &detail::onHeader);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  set(CURLOPT_WRITEFUNCTION, &detail::onBody);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_DEBUGFUNCTION, &detail::onDebug);
  set(CURLOPT_DEBUGDATA, static_cast<void*>(&t));
  set(CURLOPT_VERBOSE, 1L);  // required for the debug callback; nothing goes to stderr
  set(CURLOPT_NOPROGRESS, 0L);
  set(CURLOPT_XFERINFOFUNCTION, &detail::onProgress);
  set(CURLOPT_XFERINFODATA, static_cast<void*>(&t));

  ClientResult result;
  if (rc != CURLE_OK) {
    result = failure(TransportError::kInvalidRequest,
                     std::string("unsupported request option: ") + curl_easy_strerror(rc));
  } else {
    const CURLcode code = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    long connect_code = 0;
    curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &connect_code);

    if (code == CURLE_OK) {
      result.request_sent = true;
      result.response.status = static_cast<int>(status);
      result.response.headers = std::move(t.response.headers);
      result.response.body = std::move(t.response.body);
    } else {
      TransportError error = detail::classifyCurlCode(code);
      std::string message = curl_easy_strerror(code);
      if (errbuf[0] != '\0') message += std::string(": ") + errbuf.data();
      if (t.cancelled) {
        error = TransportError::kOther;
        message = "HTTP client is shutting down";
      } else if (t.too_large) {
        error = TransportError::kTooLarge;
        message =
            t.headers_too_large
                ? "response headers exceed " + std::to_string(detail::kMaxHeaderBytes) + " bytes"
                : "response body exceeds " + std::to_string(request.max_response_bytes) + " bytes";
      } else if (pin && !pin->refused.empty()) {
        error = TransportError::kInvalidRequest;
        message = pin->refused;
      } else if (!t.bundle_error.empty()) {
        error = TransportError::kInvalidRequest;
        message = t.bundle_error;
      } else if (connect_code != 0 && (connect_code < 200 || connect_code > 299)) {
        error = TransportError::kConnect;
        message = "proxy refused the tunnel with HTTP " + std::to_string(connect_code);
      } else if (error == TransportError::kTimeout) {
        curl_off_t connect_us = 0;
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
        message = (connect_us == 0 ? "deadline passed before the connection was established: "
                                   : "deadline passed: ") +
                  message;
      }
      result = failure(error, message, t.request_sent);
      core::log::debug("outbound HTTP request failed", {{"method", request.method},
                                                        {"origin", origin.key},
                                                        {"error", transportErrorName(error)},
                                                        {"request_sent", result.request_sent},
                                                        {"detail", result.error_message}});
    }
  }

  // Drop libcurl's pointers into this stack frame (callbacks, buffers, header list) before the
  // handle waits in the pool; its connection and DNS caches survive the reset.
  curl_easy_reset(h);
  if (!pin) partition.release(std::move(easy), origin.key);
  return result;
}

}  // namespace

std::unique_ptr<HttpClient> makeHttpClient(const HttpClientOptions& options) {
  (void)detail::curlGlobal();  // initialise libcurl once, before any worker thread uses it
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace tether::http
