// The only Beast/Asio translation unit of the gateway (Beast in coroutines is the costliest
// thing to compile here): connection pool, TLS, request writing, response relaying.

#include "gateway/upstream_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <unordered_map>
#include <vector>

#include "core/encoding.h"
#include "core/log.h"
#include "gateway/protocol.h"

namespace tether::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
template <class T>
using Awaitable = asio::awaitable<T, Executor>;
using Clock = std::chrono::steady_clock;

namespace {

const auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<Executor>{});

// Bytes handed to the client's stream but not yet written to its socket before the relay
// stops reading from the upstream (back-pressure).
constexpr size_t kStreamHighWater = 256 * 1024;
constexpr size_t kStreamChunkBytes = 16 * 1024;

// A pooled connection idle for less than this is reused without checking its socket first.
constexpr auto kTrustedIdle = std::chrono::milliseconds(500);

std::atomic<size_t> g_open_connections{0};

// One upstream connection, plain or TLS.
struct Conn {
  Conn(Executor ex, std::shared_ptr<ssl::context> ctx) : ssl_ctx(std::move(ctx)) {
    if (ssl_ctx) {
      tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, *ssl_ctx);
    } else {
      plain = std::make_unique<beast::tcp_stream>(ex);
    }
    g_open_connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~Conn() { g_open_connections.fetch_sub(1, std::memory_order_relaxed); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Declared first: destroyed after the stream that uses it.
  std::shared_ptr<ssl::context> ssl_ctx;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
};

// A pooled connection is usable unless the peer closed it or sent something unasked
// (plain HTTP). TLS may legitimately have unread records (session tickets), so only a FIN
// disqualifies it; a close racing with our request is handled by the stale retry.
bool stillOpen(Conn& c) {
  char byte;
  const ssize_t n = ::recv(c.lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;
  if (n > 0) return static_cast<bool>(c.tls);
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

// Per io_context (and so per I/O thread) storage: idle connections by origin, TLS contexts
// by CA bundle. Owned by the io_context, so sockets never outlive the context they use.
class PoolService final : public asio::execution_context::service {
 public:
  using key_type = PoolService;
  static inline asio::execution_context::id id;

  explicit PoolService(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}

  std::unique_ptr<Conn> take(const std::string& key, std::chrono::milliseconds max_idle) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& stack = it->second;
    const auto now = Clock::now();
    while (!stack.empty()) {
      std::unique_ptr<Conn> c = std::move(stack.back());
      stack.pop_back();
      if (now - c->idle_since > max_idle) {
        stack.clear();  // the rest are older still
        break;
      }
      // A connection that was busy a moment ago is trusted without a syscall; a close that
      // slipped in meanwhile is caught by the stale-connection retry.
      if (now - c->idle_since < kTrustedIdle || stillOpen(*c)) return c;
    }
    return nullptr;
  }

  void give(const std::string& key, std::unique_ptr<Conn> c, size_t max_idle) {
    auto& stack = idle_[key];
    if (stack.size() >= max_idle) return;  // closes it
    c->idle_since = Clock::now();
    stack.push_back(std::move(c));
  }

  std::shared_ptr<ssl::context> sslContext(const std::string& ca_bundle, std::string& error) {
    auto it = ssl_.find(ca_bundle);
    if (it != ssl_.end()) return it->second;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (!ca_bundle.empty()) {
      ctx->load_verify_file(ca_bundle, ec);
      if (ec) {
        error = "cannot load the CA bundle " + ca_bundle + ": " + ec.message();
        return nullptr;
      }
    }
    ctx->set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ssl_.emplace(ca_bundle, ctx);
    return ctx;
  }

 private:
  void shutdown() override {
    idle_.clear();
    ssl_.clear();
  }

  std::unordered_map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
  std::unordered_map<std::string, std::shared_ptr<ssl::context>> ssl_;
};

bool validHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == ':') return false;
  }
  return true;
}

bool validHeaderValue(std::string_view value) {
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool isEventStream(std::string_view content_type) {
  return content_type.size() >= kEventStream.size() &&
         core::iequals(content_type.substr(0, kEventStream.size()), kEventStream);
}

// A pooled connection failing this way before any answer byte was closed by the upstream
// while idle: the request did not reach it, so it may be sent again.
bool isStaleConnectionError(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

UpstreamFailure failureOf(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return UpstreamFailure::kTimeout;
  if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit ||
      ec == bhttp::error::buffer_overflow) {
    return UpstreamFailure::kTooLarge;
  }
  if (ec == asio::error::operation_aborted) return UpstreamFailure::kCancelled;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
      ec == ssl::error::stream_truncated) {
    return UpstreamFailure::kClosed;
  }
  if (ec.category() == asio::error::get_ssl_category()) return UpstreamFailure::kTls;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return UpstreamFailure::kProtocol;
  }
  return UpstreamFailure::kClosed;
}

// ---------------------------------------------------------------------------------------

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& ctx, const UpstreamClientOptions& options, UpstreamCall call,
           http::Responder responder, HeadFilter on_head, ExchangeDone done)
      : ctx_(ctx),
        options_(options),
        call_(std::move(call)),
        responder_(std::move(responder)),
        on_head_(std::move(on_head)),
        done_(std::move(done)) {}

  static Awaitable<void> start(std::shared_ptr<Exchange> self) { co_await self->run(); }

  // The client went away (posted to our thread): stop reading the upstream.
  void cancel() {
    cancelled_ = true;
    if (conn_) conn_->lowest().cancel();
    if (drained_) drained_->cancel();
  }

 private:
  enum class Step { kKeep, kClose, kRetryStale };

  const UpstreamOrigin& origin() const { return call_.endpoint->origin; }

  Awaitable<void> run() {
    started_ = Clock::now();
    if (!buildHead()) co_return;
    auto& pool = asio::use_service<PoolService>(ctx_);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Conn> conn;
      if (attempt == 0) conn = pool.take(origin().key, options_.pool_idle_timeout);
      const bool reused = conn != nullptr;
      if (!conn) {
        conn = co_await connect(pool);
        if (!conn) co_return;
      }
      conn_ = conn.get();
      const Step step = conn->tls ? co_await exchangeOn(*conn->tls, *conn, reused)
                                  : co_await exchangeOn(*conn->plain, *conn, reused);
      conn_ = nullptr;
      if (step == Step::kRetryStale) continue;
      if (step == Step::kKeep)
        pool.give(origin().key, std::move(conn), options_.max_idle_per_origin);
      co_return;
    }
  }

  bool buildHead() {
    const std::string& body = call_.body ? *call_.body : kEmpty;
    head_.reserve(128 + call_.target.size() + call_.headers.size() * 48);
    head_.append(call_.method).append(1, ' ').append(call_.target).append(" HTTP/1.1\r\nHost: ");
    head_.append(origin().host_header).append("\r\n");
    for (const auto& h : call_.headers) {
      if (!validHeaderName(h.name) || !validHeaderValue(h.value)) {
        fail(UpstreamFailure::kProtocol, "refusing to send an invalid request header");
        return false;
      }
      head_.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    if (!body.empty() || call_.method == "POST" || call_.method == "PUT" ||
        call_.method == "PATCH") {
      head_.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    head_.append("\r\n");
    return true;
  }

  Awaitable<std::unique_ptr<Conn>> connect(PoolService& pool) {
    const auto& o = origin();
    const auto& limits = call_.limits;
    std::shared_ptr<ssl::context> ssl_ctx;
    if (o.tls) {
      std::string error;
      ssl_ctx = pool.sslContext(o.ca_bundle, error);
      if (!ssl_ctx) {
        fail(UpstreamFailure::kTls, error);
        co_return nullptr;
      }
    }
    auto conn = std::make_unique<Conn>(ctx_.get_executor(), std::move(ssl_ctx));
    conn_ = conn.get();
    auto& lowest = conn->lowest();
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(o.host, ec);
    if (!ec) {
      lowest.expires_after(limits.connect_timeout);
      auto [cec] = co_await lowest.async_connect(tcp::endpoint(address, o.port), kNoThrow);
      ec = cec;
    } else {
      // The resolver has no deadline of its own: a timer cancels it.
      auto resolver = std::make_shared<tcp::resolver>(ctx_);
      asio::steady_timer timer(ctx_, limits.connect_timeout);
      timer.async_wait(
          [weak = std::weak_ptr<tcp::resolver>(resolver)](boost::system::error_code e) {
            if (auto r = weak.lock(); r && !e) r->cancel();
          });
      auto [rec, results] =
          co_await resolver->async_resolve(o.host, std::to_string(o.port), kNoThrow);
      timer.cancel();
      if (rec) {
        conn_ = nullptr;
        fail(rec == asio::error::operation_aborted && !cancelled_ ? UpstreamFailure::kTimeout
                                                                  : UpstreamFailure::kConnect,
             "cannot resolve " + o.host + ": " + rec.message());
        co_return nullptr;
      }
      lowest.expires_after(limits.connect_timeout);
      auto [cec, endpoint] = co_await lowest.async_connect(results, kNoThrow);
      ec = cec;
    }
    if (ec) {
      conn_ = nullptr;
      fail(ec == beast::error::timeout ? UpstreamFailure::kTimeout : UpstreamFailure::kConnect,
           "cannot connect to " + o.host_header + ": " + ec.message());
      co_return nullptr;
    }
    boost::system::error_code ignored;
    lowest.socket().set_option(tcp::no_delay(true), ignored);
    if (conn->tls) {
      SSL* ssl = conn->tls->native_handle();
      if (!o.host_is_ip) SSL_set_tlsext_host_name(ssl, o.host.c_str());
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set = o.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str())
                                   : X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), 0);
      if (set != 1) {
        conn_ = nullptr;
        fail(UpstreamFailure::kTls, "cannot set up host name verification for " + o.host);
        co_return nullptr;
      }
      lowest.expires_after(limits.connect_timeout);
      auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kNoThrow);
      if (hec) {
        conn_ = nullptr;
        std::string why = hec.message();
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
        fail(hec == beast::error::timeout ? UpstreamFailure::kTimeout : UpstreamFailure::kTls,
             "TLS handshake with " + o.host_header + " failed: " + why);
        co_return nullptr;
      }
    }
    lowest.expires_never();
    conn_ = nullptr;
    co_return conn;
  }

  template <class Stream>
  Awaitable<Step> exchangeOn(Stream& stream, Conn& conn, bool reused) {
    const auto& limits = call_.limits;
    conn.lowest().expires_after(limits.first_byte_timeout);
    {
      const std::string& body = call_.body ? *call_.body : kEmpty;
      const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body)};
      auto [ec, n] = co_await asio::async_write(stream, buffers, kNoThrow);
      if (ec) {
        if (reused && !cancelled_ && isStaleConnectionError(ec)) co_return Step::kRetryStale;
        fail(cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec),
             "sending the request failed: " + ec.message());
        co_return Step::kClose;
      }
    }
    std::optional<bhttp::response_parser<bhttp::empty_body>> head;
    bool first = true;
    for (;;) {
      head.emplace();
      head->header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
      head->body_limit(boost::none);
      if (call_.method == "HEAD") head->skip(true);
      auto [ec, n] = co_await bhttp::async_read_header(stream, conn.buffer, *head, kNoThrow);
      if (ec) {
        if (first && reused && !cancelled_ && isStaleConnectionError(ec)) {
          co_return Step::kRetryStale;
        }
        const auto failure = cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec);
        fail(failure,
             failure == UpstreamFailure::kTimeout
                 ? "no answer within " + std::to_string(limits.first_byte_timeout.count()) + " ms"
             : failure == UpstreamFailure::kTooLarge
                 ? "response headers exceed " + std::to_string(limits.max_header_bytes) + " bytes"
                 : "reading the response failed: " + ec.message());
        co_return Step::kClose;
      }
      first = false;
      const unsigned status = head->get().result_int();
      if (status == 101) {
        fail(UpstreamFailure::kProtocol, "unexpected 101 Switching Protocols");
        co_return Step::kClose;
      }
      if (status >= 100 && status < 200) continue;  // interim (103 Early Hints, ...)
      break;
    }
    result_.head_latency = Clock::now() - started_;
    auto& res = head->get();
    const int status = static_cast<int>(res.result_int());
    http::Headers headers;
    headers.reserve(12);
    for (const auto& f : res) {
      headers.push_back({std::string(f.name_string()), std::string(f.value())});
    }
    result_.status = status;
    if (on_head_ && !on_head_(status, headers)) {
      result_.outcome = ExchangeResult::Outcome::kRejected;
      complete();
      co_return Step::kClose;
    }
    // Framing is the server's business: it sets its own Content-Length or chunking.
    http::removeHeader(headers, kContentLength);
    http::removeHeader(headers, kTransferEncoding);
    if (head->is_done()) {
      conn.lowest().expires_never();
      sendWhole(status, std::move(headers), {});
      co_return keepable(head->keep_alive(), conn);
    }
    const bool sse = isEventStream(res[bhttp::field::content_type]);
    const auto length = head->content_length();
    const bool whole =
        !sse && (length ? *length <= limits.fast_path_max_bytes : call_.buffer_unknown_length);
    if (whole)
      co_return co_await readWhole(stream, conn, std::move(*head), status, std::move(headers));
    co_return co_await relayStream(stream, conn, std::move(*head), status, std::move(headers));
  }

  template <class Stream>
  Awaitable<Step> readWhole(Stream& stream, Conn& conn,
                            bhttp::response_parser<bhttp::empty_body>&& head, int status,
                            http::Headers headers) {
    const auto& limits = call_.limits;
    bhttp::response_parser<bhttp::string_body> parser(std::move(head));
    parser.body_limit(limits.max_buffered_body_bytes);
    if (auto length = parser.content_length()) parser.get().body().reserve(*length);
    while (!parser.is_done()) {
      // A body read whole is part of the answer the client waits for: the connection's
      // answer deadline bounds each read.
      conn.lowest().expires_after(limits.first_byte_timeout);
      auto [ec, n] = co_await bhttp::async_read_some(stream, conn.buffer, parser, kNoThrow);
      if (ec == ssl::error::stream_truncated && parser.need_eof()) {
        // An EOF-delimited body over TLS whose peer skipped close_notify: the end.
        boost::system::error_code eof_ec;
        parser.put_eof(eof_ec);
        if (!eof_ec) break;
      }
      if (ec) {
        const auto failure = cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec);
        fail(failure,
             failure == UpstreamFailure::kTooLarge
                 ? "the answer exceeds " + std::to_string(limits.max_buffered_body_bytes) + " bytes"
             : failure == UpstreamFailure::kTimeout
                 ? "the answer stalled for " + std::to_string(limits.first_byte_timeout.count()) +
                       " ms"
                 : "reading the answer failed: " + ec.message());
        co_return Step::kClose;
      }
    }
    conn.lowest().expires_never();
    const bool keep = parser.keep_alive();
    sendWhole(status, std::move(headers), std::move(parser.get().body()));
    co_return keepable(keep, conn);
  }

  template <class Stream>
  Awaitable<Step> relayStream(Stream& stream, Conn& conn,
                              bhttp::response_parser<bhttp::empty_body>&& head, int status,
                              http::Headers headers) {
    const auto& limits = call_.limits;
    bhttp::response_parser<bhttp::buffer_body> parser(std::move(head));
    parser.body_limit(boost::none);
    std::shared_ptr<http::StreamWriter> writer =
        responder_->startStream(status, std::move(headers));
    responder_.reset();
    result_.outcome = ExchangeResult::Outcome::kRelayed;
    result_.streamed = true;
    writer->onClose([weak = weak_from_this(), ex = ctx_.get_executor()] {
      asio::post(ex, [weak] {
        if (auto self = weak.lock()) self->cancel();
      });
    });
    chunk_.resize(kStreamChunkBytes);
    drained_.emplace(ctx_, Clock::time_point::max());
    Step step = Step::kClose;
    for (;;) {
      if (cancelled_ || client_gone_) {
        result_.failure = UpstreamFailure::kCancelled;
        result_.message = "the client went away";
        break;
      }
      parser.get().body().data = chunk_.data();
      parser.get().body().size = chunk_.size();
      conn.lowest().expires_after(limits.idle_timeout);
      auto [ec, n] = co_await bhttp::async_read_some(stream, conn.buffer, parser, kNoThrow);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == ssl::error::stream_truncated && parser.need_eof()) {
        boost::system::error_code eof_ec;
        parser.put_eof(eof_ec);
        if (!eof_ec) ec = {};
      }
      const size_t got = chunk_.size() - parser.get().body().size;
      if (got > 0 && !cancelled_) {
        inflight_ += got;
        writer->write(std::string(chunk_.data(), got),
                      [weak = weak_from_this(), ex = ctx_.get_executor(), got](bool ok) {
                        asio::post(ex, [weak, got, ok] {
                          if (auto self = weak.lock()) self->chunkWritten(got, ok);
                        });
                      });
      }
      if (ec) {
        result_.failure = cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec);
        result_.message =
            result_.failure == UpstreamFailure::kTimeout
                ? "the stream stalled for " + std::to_string(limits.idle_timeout.count()) + " ms"
                : "the stream ended early: " + ec.message();
        break;
      }
      if (parser.is_done()) {
        step = keepable(parser.keep_alive(), conn);
        break;
      }
      while (inflight_ > kStreamHighWater && !client_gone_ && !cancelled_) {
        co_await drained_->async_wait(kNoThrow);
      }
    }
    conn.lowest().expires_never();
    writer->finish();
    complete();
    co_return step;
  }

  void chunkWritten(size_t bytes, bool ok) {
    inflight_ -= std::min(inflight_, bytes);
    if (!ok) client_gone_ = true;
    if (drained_) drained_->cancel();
  }

  Step keepable(bool keep_alive, Conn& conn) const {
    if (!keep_alive || cancelled_ || conn.buffer.size() != 0) return Step::kClose;
    return Step::kKeep;
  }

  void sendWhole(int status, http::Headers headers, std::string body) {
    http::Response r;
    r.status = status;
    r.headers = std::move(headers);
    r.body = std::move(body);
    // `done` first: the caller's accounting is in place before the client can see the
    // answer (send() may write it at once).
    http::Responder responder = std::move(*responder_);
    responder_.reset();
    result_.outcome = ExchangeResult::Outcome::kRelayed;
    complete();
    responder.send(std::move(r));
  }

  void fail(UpstreamFailure failure, std::string message) {
    result_.outcome = ExchangeResult::Outcome::kFailed;
    result_.failure = failure;
    result_.message = std::move(message);
    complete();
  }

  void complete() {
    if (!done_) return;
    ExchangeDone done = std::move(done_);
    done_ = nullptr;
    if (responder_) {
      result_.responder = std::move(responder_);
      responder_.reset();
    }
    done(std::move(result_));
  }

  static inline const std::string kEmpty;

  asio::io_context& ctx_;
  const UpstreamClientOptions options_;
  UpstreamCall call_;
  std::optional<http::Responder> responder_;
  HeadFilter on_head_;
  ExchangeDone done_;
  ExchangeResult result_;
  std::optional<asio::steady_timer> drained_;  // streams only: wakes the relay when written
  std::string head_;
  std::vector<char> chunk_;
  Conn* conn_ = nullptr;
  Clock::time_point started_{};
  size_t inflight_ = 0;
  bool cancelled_ = false;
  bool client_gone_ = false;
};

class AsioUpstreamClient final : public UpstreamClient {
 public:
  explicit AsioUpstreamClient(UpstreamClientOptions options) : options_(std::move(options)) {}

  void exchange(void* io_context, UpstreamCall call, http::Responder responder, HeadFilter on_head,
                ExchangeDone done) override {
    auto& ctx = *static_cast<asio::io_context*>(io_context);
    auto ex = std::make_shared<Exchange>(ctx, options_, std::move(call), std::move(responder),
                                         std::move(on_head), std::move(done));
    asio::co_spawn(ctx, Exchange::start(std::move(ex)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        core::log::error("upstream exchange failed", {{"error", ex.what()}});
      }
    });
  }

  void post(void* io_context, std::function<void()> fn) override {
    asio::post(*static_cast<asio::io_context*>(io_context), std::move(fn));
  }

 private:
  const UpstreamClientOptions options_;
};

}  // namespace

const char* upstreamFailureName(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::kNone:
      return "none";
    case UpstreamFailure::kConnect:
      return "connect";
    case UpstreamFailure::kTls:
      return "tls";
    case UpstreamFailure::kTimeout:
      return "timeout";
    case UpstreamFailure::kClosed:
      return "closed";
    case UpstreamFailure::kProtocol:
      return "protocol";
    case UpstreamFailure::kTooLarge:
      return "too_large";
    case UpstreamFailure::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

size_t UpstreamClient::openConnections() {
  return g_open_connections.load(std::memory_order_relaxed);
}

std::unique_ptr<UpstreamClient> makeUpstreamClient(UpstreamClientOptions options) {
  return std::make_unique<AsioUpstreamClient>(std::move(options));
}

}  // namespace tether::gateway
