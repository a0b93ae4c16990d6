#include "http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/encoding.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/random.h"
#include "http/draining_read.h"
#include "http/head_scanner.h"

namespace tether::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::string_view_literals;
// Each I/O thread runs its own io_context; a connection lives on one of them, so its
// handlers never run concurrently and need no strand.
using Strand = asio::io_context::executor_type;

namespace {

const auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<Strand>{});

// The handler of `co_await x.asyncWait(asio::use_awaitable_t<Strand>{})`: resumes a session
// coroutine. Held by value (no allocation) and resumed at most once.
using WaitHandler = asio::async_result<asio::use_awaitable_t<Strand>, void()>::handler_type;

// Moves a waiting handler from `from` to (empty) `to`: the handler is not move-assignable.
void moveWaiter(std::optional<WaitHandler>& to, std::optional<WaitHandler>& from) {
  if (!from) return;
  to.emplace(std::move(*from));
  from.reset();
}

// Session coroutines resumed inline on this thread and not yet suspended again (see
// resume()).
thread_local int t_inline_depth = 0;

// Resumes a waiting session: inline when called on its own I/O thread from outside any
// session (a proxy exchange answering on the request's thread: no trip through the
// scheduler, no extra epoll_wait), else posted. Must be called without locks held.
void resume(std::optional<WaitHandler>& waiter, const Strand& strand) {
  if (!waiter) return;
  WaitHandler h = std::move(*waiter);
  waiter.reset();
  if (t_inline_depth == 0 && strand.running_in_this_thread()) {
    ++t_inline_depth;
    std::move(h)();
    --t_inline_depth;
    return;
  }
  asio::post(strand, std::move(h));
}

bool validRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Builds the http::Request straight from the parser's callbacks: no intermediate Beast
// fields container, and the session's Request (with its headers' storage) is reused from
// one request to the next.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& req) : req_(req) {}

  unsigned version() const { return version_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, boost::system::error_code&) override {
    req_.method.assign(method.data(), method.size());
    req_.target.assign(target.data(), target.size());
    version_ = static_cast<unsigned>(version);
  }
  void on_response_impl(int, beast::string_view, int, boost::system::error_code&) override {}
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     boost::system::error_code&) override {
    // Beast reports trailer fields here too: they are dropped, never merged into the
    // headers (which are relayed upstream and checked for the client key).
    if (in_trailer_) return;
    if (fields_ < req_.headers.size()) {
      auto& h = req_.headers[fields_];
      h.name.assign(name.data(), name.size());
      h.value.assign(value.data(), value.size());
    } else {
      req_.headers.push_back({std::string(name), std::string(value)});
    }
    ++fields_;
  }
  void on_header_impl(boost::system::error_code&) override {
    req_.headers.resize(fields_);
    in_trailer_ = true;
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         boost::system::error_code&) override {
    // Reached only once the route's body limit is set (and checked against the length).
    if (length) req_.body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(beast::string_view body, boost::system::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view,
                            boost::system::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                            boost::system::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(boost::system::error_code&) override {}

  Request& req_;
  size_t fields_ = 0;
  unsigned version_ = 11;
  bool in_trailer_ = false;
};

// ---- framing checks (RFC 9112 §6, §3.2) on a parsed head, for both parsers ----------

struct FramingError {
  int status;  // 400, or 501 for a transfer coding this server does not decode
  std::string message;
};

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && isOws(v.front())) v.remove_prefix(1);
  while (!v.empty() && isOws(v.back())) v.remove_suffix(1);
  return v;
}

bool allDigits(std::string_view v) {
  if (v.empty() || v.size() > 19) return false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The transfer codings of the Transfer-Encoding fields, in order: the last must be
// `chunked` (else the body length is unknowable: 400), once; others are not supported (501).
std::optional<FramingError> checkTransferCodings(const Headers& headers) {
  std::string_view last;
  size_t chunked = 0;
  std::string_view unsupported;
  for (const auto& h : headers) {
    if (h.name.size() != 17 || !core::iequals(h.name, "Transfer-Encoding")) continue;
    std::string_view v = h.value;
    while (true) {
      const size_t comma = v.find(',');
      const std::string_view coding = trimOws(v.substr(0, comma));
      if (!coding.empty()) {
        last = coding;
        if (core::iequals(coding, "chunked")) {
          ++chunked;
        } else if (unsupported.empty()) {
          unsupported = coding;
        }
      }
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  if (last.empty() || !core::iequals(last, "chunked") || chunked != 1) {
    return FramingError{400, "Transfer-Encoding must end with chunked, once"};
  }
  if (!unsupported.empty()) {
    return FramingError{
        501, "transfer coding \"" + std::string(unsupported.substr(0, 32)) + "\" is not supported"};
  }
  return std::nullopt;
}

// Refuses what two HTTP implementations could frame differently: Transfer-Encoding with
// Content-Length, a coding other than a final chunked, a repeated or non-numeric
// Content-Length, and an HTTP/1.1 request without exactly one Host.
std::optional<FramingError> checkFraming(const Headers& headers, unsigned version) {
  size_t hosts = 0;
  size_t lengths = 0;
  bool bad_length = false;
  bool transfer_encoding = false;
  for (const auto& h : headers) {
    switch (h.name.size()) {
      case 4:
        hosts += core::iequals(h.name, "Host") ? 1 : 0;
        break;
      case 14:
        if (core::iequals(h.name, "Content-Length")) {
          ++lengths;
          bad_length |= !allDigits(h.value);
        }
        break;
      case 17:
        transfer_encoding |= core::iequals(h.name, "Transfer-Encoding");
        break;
      default:
        break;
    }
  }
  if (hosts > 1 || (version >= 11 && hosts == 0)) {
    return FramingError{400, "Host header missing or repeated: a request needs exactly one"};
  }
  if (lengths > 1 || bad_length) {
    return FramingError{400, "Content-Length must be one field of digits"};
  }
  if (!transfer_encoding) return std::nullopt;
  if (lengths > 0) {
    return FramingError{400, "Transfer-Encoding and Content-Length together"};
  }
  if (version < 11) {
    return FramingError{400, "Transfer-Encoding in an HTTP/1.0 request"};
  }
  return checkTransferCodings(headers);
}

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

// A final status a client can read: 200..599 (a 1xx is interim, outside 100..599 is not
// HTTP). Anything else, from a handler or relayed from an upstream, becomes a 500.
bool validFinalStatus(int status) { return status >= 200 && status <= 599; }

// ---- response heads, serialized by hand into a per-session buffer ---------------------

void appendStatusLine(std::string& out, unsigned version, int status) {
  out.append("HTTP/"sv);
  out.push_back(static_cast<char>('0' + (version / 10) % 10));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + version % 10));
  out.push_back(' ');
  char digits[16];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, status).ptr);
  out.push_back(' ');
  const auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  out.append(reason.data(), reason.size());
  out.append("\r\n"sv);
}

// A header that would split the response (CR, LF in it) is dropped, not sent.
void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  if (!validHeaderName(name) || !validHeaderValue(value)) {
    core::log::warn("dropped a response header with forbidden characters",
                    {{"header", validHeaderName(name) ? name : std::string_view("?")}});
    return;
  }
  appendFieldLine(out, name, value);
}

void appendConnection(std::string& out, unsigned version, bool keep_alive) {
  if (version >= 11 && !keep_alive) out.append("Connection: close\r\n"sv);
  if (version < 11 && keep_alive) out.append("Connection: keep-alive\r\n"sv);
}

bool isContentLength(std::string_view name) {
  return name.size() == 14 && core::iequals(name, "Content-Length");
}

// Framing and the request id are the server's: a handler's own are not sent.
bool isServerOwned(std::string_view name) {
  switch (name.size()) {
    case 10:
      return core::iequals(name, "Connection");
    case 12:
      return core::iequals(name, "X-Request-Id");
    case 17:
      return core::iequals(name, "Transfer-Encoding");
    default:
      return false;
  }
}

bool validLength(std::string_view v) {
  if (v.empty() || v.size() > 19) return false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// StreamWriter implementation: a queue filled from any thread, drained by the session.

class StreamImpl final : public StreamWriter {
 public:
  struct Chunk {
    std::string data;
    std::function<void(bool)> done;
  };

  // `strand`: the session's; none for a stream nobody drains (created closed).
  explicit StreamImpl(std::optional<Strand> strand) : strand_(std::move(strand)) {}

  void write(std::string chunk, std::function<void(bool ok)> done) override {
    std::optional<WaitHandler> waiter;
    {
      std::unique_lock lock(mu_);
      if (closed_ || finished_) {
        lock.unlock();
        if (done) done(false);
        return;
      }
      queue_.push_back({std::move(chunk), std::move(done)});
      moveWaiter(waiter, waiter_);
    }
    if (waiter) resume(waiter, *strand_);
  }

  void finish() override { end(false); }
  void abort() override { end(true); }

  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_ || finished_;
  }

  void onClose(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    if (closed_) {
      lock.unlock();
      fn();
      return;
    }
    on_close_ = std::move(fn);
  }

  // Session side. Waits until there is a chunk, the end, or the client went away.
  template <class Token>
  auto asyncWait(Token&& token) {
    return asio::async_initiate<Token, void()>(
        [this](WaitHandler handler) {
          std::optional<WaitHandler> waiter(std::move(handler));
          {
            std::lock_guard lock(mu_);
            if (queue_.empty() && !finished_ && !closed_) {
              moveWaiter(waiter_, waiter);
              return;
            }
          }
          asio::post(*strand_, std::move(*waiter));
        },
        token);
  }

  // Takes the queued chunks; `finished` tells whether the producer ended the stream and
  // `aborted` whether it ended it without the terminating chunk.
  std::deque<Chunk> take(bool& finished, bool& aborted) {
    std::lock_guard lock(mu_);
    finished = finished_;
    aborted = aborted_;
    return std::exchange(queue_, {});
  }

  bool clientGone() const {
    std::lock_guard lock(mu_);
    return closed_;
  }

  // The client is gone (or the session ends): fail pending chunks, notify once.
  void markClosed() {
    std::deque<Chunk> pending;
    std::function<void()> on_close;
    std::optional<WaitHandler> waiter;
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
      pending = std::exchange(queue_, {});
      if (!finished_) on_close = std::move(on_close_);
      on_close_ = nullptr;
      moveWaiter(waiter, waiter_);
    }
    for (auto& c : pending) {
      if (c.done) c.done(false);
    }
    if (on_close) on_close();
    if (waiter) resume(waiter, *strand_);
  }

 private:
  void end(bool aborted) {
    std::optional<WaitHandler> waiter;
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
      aborted_ = aborted;
      moveWaiter(waiter, waiter_);
    }
    if (waiter) resume(waiter, *strand_);
  }

  const std::optional<Strand> strand_;
  mutable std::mutex mu_;
  std::deque<Chunk> queue_;
  bool finished_ = false;
  bool aborted_ = false;
  bool closed_ = false;
  std::function<void()> on_close_;
  std::optional<WaitHandler> waiter_;
};

// ---------------------------------------------------------------------------------------
// Responder slot: completed once from any thread; the session awaits it.

class Responder::Slot {
 public:
  enum class Kind { kPending, kResponse, kStream, kAbort, kDropped, kClientGone };

  explicit Slot(Strand strand) : strand_(std::move(strand)) {}

  // Returns false when the slot was already complete (the call is then ignored).
  bool complete(Kind kind, Response&& response, std::shared_ptr<StreamImpl> stream = nullptr,
                int stream_status = 0, Headers&& stream_headers = {}) {
    std::optional<WaitHandler> waiter;
    {
      std::lock_guard lock(mu_);
      if (kind_ != Kind::kPending) return false;  // completing twice is ignored
      kind_ = kind;
      response_ = std::move(response);
      stream_ = std::move(stream);
      stream_status_ = stream_status;
      stream_headers_ = std::move(stream_headers);
      on_gone_ = nullptr;
      moveWaiter(waiter, waiter_);
    }
    resume(waiter, strand_);
    return true;
  }

  // Session side: the client went away before the answer. Runs the handler's callback,
  // then wakes the session.
  void clientGone() {
    std::optional<WaitHandler> waiter;
    std::function<void()> on_gone;
    {
      std::lock_guard lock(mu_);
      if (kind_ != Kind::kPending) return;
      kind_ = Kind::kClientGone;
      on_gone = std::exchange(on_gone_, nullptr);
      moveWaiter(waiter, waiter_);
    }
    if (on_gone) on_gone();
    resume(waiter, strand_);
  }

  void onClientGone(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      if (!fn) {
        on_gone_ = nullptr;
        return;
      }
      if (kind_ == Kind::kPending) {
        on_gone_ = std::move(fn);
        return;
      }
      if (kind_ != Kind::kClientGone) return;  // answered: the client did not go away first
    }
    fn();
  }

  template <class Token>
  auto asyncWait(Token&& token) {
    return asio::async_initiate<Token, void()>(
        [this](WaitHandler handler) {
          std::optional<WaitHandler> waiter(std::move(handler));
          {
            std::lock_guard lock(mu_);
            if (kind_ == Kind::kPending) {
              moveWaiter(waiter_, waiter);
              return;
            }
          }
          asio::post(strand_, std::move(*waiter));
        },
        token);
  }

  bool ready() {
    std::lock_guard lock(mu_);
    return kind_ != Kind::kPending;
  }

  // Makes a slot nobody else holds any more pending again, for the session's next request
  // (one allocation less per request).
  void reuse() {
    std::lock_guard lock(mu_);
    kind_ = Kind::kPending;
    response_ = Response{};
    stream_.reset();
    stream_status_ = 0;
    stream_headers_.clear();
    on_gone_ = nullptr;
    waiter_.reset();
  }
  Kind kind() {
    std::lock_guard lock(mu_);
    return kind_;
  }
  // Read by the session once ready() (the completion happened before, under the lock).
  Response& response() { return response_; }
  std::shared_ptr<StreamImpl> stream() { return stream_; }
  int streamStatus() const { return stream_status_; }
  const Headers& streamHeaders() const { return stream_headers_; }
  const Strand& strand() const { return strand_; }

 private:
  const Strand strand_;
  std::mutex mu_;
  Kind kind_ = Kind::kPending;
  Response response_;
  std::shared_ptr<StreamImpl> stream_;
  int stream_status_ = 0;
  Headers stream_headers_;
  std::function<void()> on_gone_;
  std::optional<WaitHandler> waiter_;
};

Responder::~Responder() {
  if (slot_ && !slot_->ready()) {
    if (slot_->complete(Slot::Kind::kDropped,
                        Response::error(core::Error(core::Errc::kInternal, "")))) {
      core::log::error("handler dropped its responder without answering");
    }
  }
}

void Responder::send(Response response) {
  if (slot_) slot_->complete(Slot::Kind::kResponse, std::move(response));
}

std::shared_ptr<StreamWriter> Responder::startStream(int status, Headers headers) {
  if (!slot_) {
    auto closed = std::make_shared<StreamImpl>(std::nullopt);
    closed->markClosed();
    return closed;
  }
  auto stream = std::make_shared<StreamImpl>(slot_->strand());
  if (!slot_->complete(Slot::Kind::kStream, Response{}, stream, status, std::move(headers))) {
    stream->markClosed();  // nobody will drain it: writes fail, closed() is true
  }
  return stream;
}

void Responder::abort() {
  if (slot_) slot_->complete(Slot::Kind::kAbort, Response{});
}

void Responder::onClientGone(std::function<void()> fn) {
  if (slot_) slot_->onClientGone(std::move(fn));
}

// ---------------------------------------------------------------------------------------

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, core::MetricsRegistry* metrics)
      : options_(std::move(options)),
        router_(router),
        metrics_(metrics),
        contexts_(makeContexts(std::max<size_t>(1, options_.io_threads))),
        accept_strand_(contexts_[0]->get_executor()),
        acceptor_(accept_strand_),
        backoff_timer_(accept_strand_),
        capacity_timer_(accept_strand_) {}

  static std::vector<std::unique_ptr<asio::io_context>> makeContexts(size_t n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (size_t i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  ~Impl() { stop(); }

  core::Status start() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      return core::Error(core::Errc::kInvalidArgument,
                         "listen address \"" + options_.host + "\" is not an IP address");
    }
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return core::Error(core::Errc::kUnavailable, "cannot listen on " + options_.host + ":" +
                                                       std::to_string(options_.port) + ": " +
                                                       ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(accept_strand_, acceptLoop(), asio::detached);
    context_sessions_.resize(contexts_.size());
    series_.resize(contexts_.size());
    for (size_t i = 0; i < contexts_.size(); ++i) {
      asio::co_spawn(contexts_[i]->get_executor(), sweeper(i), asio::detached);
    }
    for (auto& ctx : contexts_) {
      work_.push_back(asio::make_work_guard(*ctx));
      threads_.emplace_back([c = ctx.get()] { c->run(); });
    }
    started_ = true;
    return {};
  }

  uint16_t port() const { return port_; }

  void stop() {
    if (!started_ || stopped_.exchange(true)) return;
    stopping_ = true;
    asio::post(accept_strand_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      backoff_timer_.cancel();
      capacity_timer_.cancel();
    });
    // Idle keep-alive connections close now; busy ones finish their request first.
    {
      std::lock_guard lock(sessions_mu_);
      for (auto& s : sessions_) {
        if (!s->busy) closeSession(s);
      }
    }
    {
      std::unique_lock lock(sessions_mu_);
      sessions_cv_.wait_for(lock, options_.drain_timeout, [this] { return sessions_.empty(); });
      for (auto& s : sessions_) closeSession(s);
    }
    {
      std::unique_lock lock(sessions_mu_);
      sessions_cv_.wait_for(lock, std::chrono::seconds(2), [this] { return sessions_.empty(); });
    }
    work_.clear();
    for (auto& ctx : contexts_) ctx->stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  void schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
    auto timer = std::make_shared<asio::steady_timer>(*contexts_[0], delay);
    timer->async_wait([timer, fn = std::move(fn)](boost::system::error_code ec) {
      if (!ec) fn();
    });
  }

  size_t openConnections() const {
    std::lock_guard lock(sessions_mu_);
    return sessions_.size();
  }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  static constexpr SteadyTime kNever = SteadyTime::max();
  // Bounds of a lingering close.
  static constexpr std::chrono::milliseconds kLingerTime{2000};
  static constexpr size_t kLingerBytes = 1024 * 1024;
  // Room in a session's read buffer beyond the header limit: one read's worth.
  static constexpr size_t kReadSlack = 64 * 1024;
  // The pause after a failed accept doubles from the first to the last while failures
  // persist; at most one log line per interval.
  static constexpr std::chrono::milliseconds kAcceptBackoffMin{50};
  static constexpr std::chrono::milliseconds kAcceptBackoffMax{1000};
  static constexpr std::chrono::seconds kAcceptLogInterval{10};

  // Timeouts are coarse deadlines checked by one sweeper per I/O thread, not a timer armed
  // per read and write (which costs timer-queue work and timerfd syscalls per request).
  struct SessionState {
    SessionState(Strand s, asio::io_context& ctx, size_t index, size_t max_buffered)
        : strand(std::move(s)), context(ctx), context_index(index), buffer(max_buffered) {}
    Strand strand;
    asio::io_context& context;
    size_t context_index;
    tcp::socket* socket = nullptr;  // touched only on the session's I/O thread
    SteadyTime deadline = kNever;   // ditto: the sweeper closes the socket past it
    std::list<SessionState*>::iterator in_context;
    std::atomic<bool> busy{false};  // a request is being read or handled (read by stop())
    std::string head;               // response head being written (storage reused)
    ScannedHead scanned;            // the last request head scanned (scanWholeRequest)
    // The current request's responder slot, reused by the next request when nobody else
    // holds it any more.
    std::shared_ptr<Responder::Slot> slot;
    // Bytes read from the client, not yet parsed: at most a head (or chunk-size line, or
    // trailers) and one read more.
    beast::flat_buffer buffer;
    // The read posted while a handler works (readAhead); touched only on the I/O thread.
    bool read_ahead_pending = false;
    boost::system::error_code read_ahead_error;
    std::optional<WaitHandler> read_ahead_waiter;
  };
  using SessionPtr = std::shared_ptr<SessionState>;

  void closeSession(const SessionPtr& s) {
    asio::post(s->strand, [s] {
      if (s->socket) {
        boost::system::error_code ignored;
        s->socket->shutdown(tcp::socket::shutdown_both, ignored);
        s->socket->close(ignored);
      }
    });
  }

  static void setDeadline(SessionState& s, std::chrono::milliseconds in) {
    s.deadline = std::chrono::steady_clock::now() + in;
  }

  // Closes the sockets of this I/O thread's sessions whose deadline passed.
  asio::awaitable<void, Strand> sweeper(size_t index) {
    asio::steady_timer timer(*contexts_[index]);
    const auto shortest =
        std::min({options_.read_timeout, options_.idle_timeout, options_.write_timeout});
    const auto interval = std::clamp<std::chrono::milliseconds>(
        shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
    for (;;) {
      timer.expires_after(interval);
      auto [ec] = co_await timer.async_wait(kNoThrow);
      if (ec) co_return;
      const auto now = std::chrono::steady_clock::now();
      for (SessionState* s : context_sessions_[index]) {
        if (s->socket && s->deadline < now) {
          boost::system::error_code ignored;
          s->socket->shutdown(tcp::socket::shutdown_both, ignored);
          s->socket->close(ignored);
        }
      }
    }
  }

  // Accepts connections: at most max_connections open at once (past it the kernel's backlog
  // holds the rest until a session ends), and after a failed accept (out of descriptors:
  // EMFILE, ENFILE, ENOBUFS) a growing pause instead of a retry at once, with one log line per
  // interval that counts the failures not logged.
  asio::awaitable<void, Strand> acceptLoop() {
    std::chrono::milliseconds backoff{0};
    SteadyTime last_logged{};
    size_t unlogged = 0;
    for (;;) {
      if (atCapacity()) {
        capacity_timer_.expires_at(SteadyTime::max());
        co_await capacity_timer_.async_wait(kNoThrow);
        at_capacity_ = false;
        if (stopping_) co_return;
        continue;
      }
      const size_t index = next_context_++ % contexts_.size();
      auto& context = *contexts_[index];
      auto strand = context.get_executor();
      tcp::socket socket(strand);
      auto [ec] = co_await acceptor_.async_accept(socket, kNoThrow);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        backoff = std::clamp(backoff * 2, kAcceptBackoffMin, kAcceptBackoffMax);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_logged >= kAcceptLogInterval) {
          core::log::warn("accept failed; pausing before the next accept",
                          {{"error", ec.message()},
                           {"pause_ms", static_cast<int64_t>(backoff.count())},
                           {"failures_not_logged", static_cast<int64_t>(unlogged)}});
          last_logged = now;
          unlogged = 0;
        } else {
          ++unlogged;
        }
        backoff_timer_.expires_after(backoff);
        co_await backoff_timer_.async_wait(kNoThrow);
        if (stopping_) co_return;
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto state = std::make_shared<SessionState>(strand, context, index,
                                                  options_.max_header_bytes + kReadSlack);
      {
        std::lock_guard lock(sessions_mu_);
        sessions_.push_back(state);
      }
      asio::co_spawn(strand, session(std::move(socket), state),
                     [this, state](std::exception_ptr e) {
                       if (e) {
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::exception& ex) {
                           core::log::error("session failed", {{"error", ex.what()}});
                         }
                       }
                       std::lock_guard lock(sessions_mu_);
                       sessions_.remove(state);
                       sessions_cv_.notify_all();
                       // The accept loop waits at the cap: a session ended, it may go on.
                       if (at_capacity_) {
                         asio::post(accept_strand_, [this] { capacity_timer_.cancel(); });
                       }
                     });
    }
  }

  // Whether max_connections are open; if so, the accept loop waits for capacity_timer_,
  // which the end of a session cancels. On the accept strand.
  bool atCapacity() {
    std::lock_guard lock(sessions_mu_);
    at_capacity_ = sessions_.size() >= std::max<size_t>(1, options_.max_connections);
    return at_capacity_;
  }

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

  void recordMetrics(size_t context_index, std::string_view route, std::string_view method,
                     int status, std::chrono::steady_clock::time_point started,
                     const Request* request = nullptr) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto level = status >= 500 ? core::LogLevel::kWarn : core::LogLevel::kDebug;
    if (core::log::enabled(level)) {
      // The target may carry secrets in its query (callback codes): redacted by the logger.
      core::log::write(level, "http request",
                       {{"method", method},
                        {"target", request ? std::string_view(request->target) : "-"},
                        {"route", route},
                        {"status", status},
                        {"duration_ms", seconds * 1000},
                        {"request_id", request ? std::string_view(request->request_id) : ""},
                        {"remote", request ? std::string_view(request->remote_address) : ""}});
    }
    if (!metrics_) return;
    method = metricMethod(method);
    auto& cache = series_[context_index];
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

  // While a handler works on an answer, the next read is already posted: a client that
  // disconnects is noticed at once (EOF) and the handler told, so it can stop upstream work;
  // otherwise the read brings the next request, which the session picks up (no extra system
  // call either way). The buffer lives in the session state, which the read keeps alive.
  // The slot told is the session's current one: the session waits for this read before it
  // starts the next request.
  static void readAhead(const SessionPtr& state, tcp::socket& sock) {
    state->read_ahead_pending = true;
    sock.async_read_some(draining(state->buffer.prepare(4096)),
                         [state](boost::system::error_code ec, size_t n) {
                           state->read_ahead_pending = false;
                           if (ec) {
                             state->read_ahead_error = ec;
                             state->slot->clientGone();  // no effect once answered
                           } else {
                             state->buffer.commit(n);
                           }
                           // Called from the scheduler, nothing else on the stack: the
                           // session may run right here.
                           if (state->read_ahead_waiter) {
                             WaitHandler h = std::move(*state->read_ahead_waiter);
                             state->read_ahead_waiter.reset();
                             std::move(h)();
                           }
                         });
  }

  // Session side: waits for the read posted by readAhead().
  template <class Token>
  static auto awaitReadAhead(SessionState& s, Token&& token) {
    return asio::async_initiate<Token, void()>(
        [&s](WaitHandler handler) {
          if (!s.read_ahead_pending) {
            asio::post(s.strand, std::move(handler));
            return;
          }
          s.read_ahead_waiter.emplace(std::move(handler));
        },
        token);
  }

  enum class WriteState { kDone, kFailed, kPending };

  // Writes what the socket takes at once (the socket is non-blocking): an answer that fits
  // the socket buffer then needs no trip through the scheduler and no coroutine frame.
  // kPending: `written` bytes went out, writeRest() must send the rest.
  template <class Buffers>
  static WriteState writeNow(tcp::socket& sock, const Buffers& buffers, size_t& written) {
    boost::system::error_code ec;
    written = sock.write_some(buffers, ec);
    if (!ec && written == asio::buffer_size(buffers)) return WriteState::kDone;
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      return WriteState::kFailed;
    }
    if (ec) written = 0;
    return WriteState::kPending;
  }

  // The rest of `buffers` after writeNow(), asynchronously under the write deadline. False
  // when the client is gone.
  template <class Buffers>
  asio::awaitable<bool, Strand> writeRest(tcp::socket& sock, SessionState& state,
                                          const Buffers& buffers, size_t written) {
    beast::buffers_suffix<Buffers> rest(buffers);
    rest.consume(written);
    setDeadline(state, options_.write_timeout);
    auto [wec, n] = co_await asio::async_write(sock, rest, kNoThrow);
    state.deadline = kNever;
    co_return !wec;
  }

  // Writes `buffers` whole: first straight from this thread, the rest asynchronously under
  // the write deadline. False when the client is gone.
  template <class Buffers>
  asio::awaitable<bool, Strand> writeAll(tcp::socket& sock, SessionState& state,
                                         const Buffers& buffers) {
    size_t written = 0;
    switch (writeNow(sock, buffers, written)) {
      case WriteState::kDone:
        co_return true;
      case WriteState::kFailed:
        co_return false;
      case WriteState::kPending:
        break;
    }
    co_return co_await writeRest(sock, state, buffers, written);
  }

  // Writes a complete response. Returns false when the connection must close.
  asio::awaitable<bool, Strand> writeResponse(tcp::socket& stream, SessionState& state, Response& r,
                                              std::string_view request_id, bool keep_alive,
                                              unsigned version, bool head) {
    const auto buffers = responseBuffers(state, r, request_id, keep_alive, version, head);
    const bool ok = co_await writeAll(stream, state, buffers);
    co_return ok&& keep_alive;
  }

  // The hot path's writeResponse(): a coroutine frame only when the socket does not take the
  // whole answer at once.
  asio::awaitable<bool, Strand> writeResponseSlow(tcp::socket& stream, SessionState& state,
                                                  const std::array<asio::const_buffer, 2>& buffers,
                                                  size_t written, bool keep_alive) {
    const bool ok = co_await writeRest(stream, state, buffers, written);
    co_return ok&& keep_alive;
  }

  // Serializes a response head into the session's buffer: the head and body to write.
  static std::array<asio::const_buffer, 2> responseBuffers(SessionState& state, Response& r,
                                                           std::string_view request_id,
                                                           bool keep_alive, unsigned version,
                                                           bool head) {
    std::string& out = state.head;
    out.clear();
    appendStatusLine(out, version, r.status);
    const bool bodiless = (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
    std::optional<std::string_view> head_length;
    for (const auto& h : r.headers) {
      if (isContentLength(h.name)) {
        // A HEAD answer states the length a GET would have had (a relayed upstream's).
        if (head) head_length = h.value;
        continue;
      }
      if (isServerOwned(h.name)) continue;
      appendHeader(out, h.name, h.value);
    }
    if (!request_id.empty()) appendHeader(out, "X-Request-Id", request_id);
    appendConnection(out, version, keep_alive);
    if (!bodiless) {
      out.append("Content-Length: "sv);
      if (head_length && validLength(*head_length)) {
        out.append(*head_length);
      } else {
        char digits[24];
        out.append(digits, std::to_chars(digits, digits + sizeof digits, r.body.size()).ptr);
      }
      out.append("\r\n"sv);
    }
    out.append("\r\n"sv);
    const std::string_view body = head || bodiless ? std::string_view() : std::string_view(r.body);
    return {asio::buffer(out), asio::buffer(body)};
  }

  // A handler's (or relayed upstream's) answer with a status no client can read becomes a
  // 500, logged: the status line is always 200..599.
  static void refuseInvalidStatus(Response& r, const Request& req) {
    if (validFinalStatus(r.status)) return;
    core::log::error("handler answered with an invalid status; sent 500 instead",
                     {{"status", r.status}, {"route", req.route}, {"request_id", req.request_id}});
    r = Response::error(core::Error(core::Errc::kInternal, ""));
  }

  // Streams a chunked response until the producer finishes or the client leaves. Returns the
  // status sent.
  asio::awaitable<int, Strand> writeStream(tcp::socket& stream, SessionState& state,
                                           Responder::Slot& slot, const Request& req,
                                           unsigned version) {
    const std::string_view request_id = req.request_id;
    auto impl = slot.stream();
    if (!validFinalStatus(slot.streamStatus())) {
      impl->markClosed();
      Response r;
      r.status = slot.streamStatus();
      refuseInvalidStatus(r, req);
      co_await writeResponse(stream, state, r, request_id, false, version, false);
      co_return r.status;
    }
    std::string& out = state.head;
    out.clear();
    appendStatusLine(out, version, slot.streamStatus());
    for (const auto& h : slot.streamHeaders()) {
      if (isContentLength(h.name) || isServerOwned(h.name)) continue;
      appendHeader(out, h.name, h.value);
    }
    if (!request_id.empty()) appendHeader(out, "X-Request-Id", request_id);
    appendConnection(out, version, false);
    out.append("Transfer-Encoding: chunked\r\n\r\n");
    if (!co_await writeAll(stream, state, asio::buffer(out))) {
      impl->markClosed();
      co_return slot.streamStatus();
    }

    // Watch for the client going away while we wait for chunks (after the read posted while
    // the handler worked, if it is still out).
    auto alive = std::make_shared<bool>(true);
    asio::co_spawn(
        state.strand,
        [&stream, &state, impl, alive]() -> asio::awaitable<void, Strand> {
          if (state.read_ahead_pending) {
            co_await awaitReadAhead(state, asio::use_awaitable_t<Strand>{});
            if (state.read_ahead_error) {
              if (*alive) impl->markClosed();
              co_return;
            }
          }
          std::array<char, 512> scratch{};
          for (;;) {
            // It waits for the client to go: an end that came with its last bytes counts.
            auto [ec, n] = co_await readMore(stream, asio::buffer(scratch));
            if (ec || !*alive) break;
          }
          if (*alive) impl->markClosed();
        },
        asio::detached);

    for (;;) {
      co_await impl->asyncWait(asio::use_awaitable_t<Strand>{});
      bool finished = false;
      bool aborted = false;
      auto chunks = impl->take(finished, aborted);
      bool failed = false;
      for (auto& c : chunks) {
        if (!failed && !c.data.empty()) {
          setDeadline(state, options_.write_timeout);
          auto [ec, n] =
              co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(c.data)), kNoThrow);
          state.deadline = kNever;
          if (ec) failed = true;
        }
        if (c.done) c.done(!failed);
      }
      if (failed) break;
      if (finished) {
        // An aborted stream ends without its last chunk: the client sees it cut short.
        if (!aborted) {
          setDeadline(state, options_.write_timeout);
          co_await asio::async_write(stream, bhttp::make_chunk_last(), kNoThrow);
          state.deadline = kNever;
        }
        break;
      }
      if (impl->clientGone()) break;
    }
    *alive = false;
    impl->markClosed();
    boost::system::error_code ignored;
    stream.shutdown(tcp::socket::shutdown_send, ignored);
    co_return slot.streamStatus();
  }

  // Feeds buffered bytes to the parser without reading: {} once complete (`until_done`: the
  // whole message, else just the header), need_more when it wants more bytes than the buffer
  // holds, or the error. Most requests arrive whole in one read, so the session calls this
  // first and needs parseRequest() (a coroutine frame, reads) only for the rest.
  template <class Parser>
  static boost::system::error_code parseBuffered(beast::flat_buffer& buffer, Parser& parser,
                                                 bool until_done) {
    for (;;) {
      const bool complete = until_done ? parser.is_done() : parser.is_header_done();
      if (complete) return {};
      if (buffer.size() == 0) return bhttp::error::need_more;
      boost::system::error_code ec;
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec) return ec;
      if (used == 0) return bhttp::error::need_more;
    }
  }

  // A read that continues a message (more of a request) or waits for the client to go: the
  // socket is tried first, so an end that came with the last bytes is seen at once
  // (http/draining_read.h).
  static asio::awaitable<std::tuple<boost::system::error_code, size_t>, Strand> readMore(
      tcp::socket& sock, asio::mutable_buffer space) {
    std::tuple<boost::system::error_code, size_t> got;
    if (!readNow(sock, space, got)) got = co_await sock.async_read_some(draining(space), kNoThrow);
    co_return got;
  }

  // parseBuffered(), reading more while the parser needs it.
  template <class Parser>
  asio::awaitable<boost::system::error_code, Strand> parseRequest(tcp::socket& sock,
                                                                  beast::flat_buffer& buffer,
                                                                  Parser& parser, bool until_done) {
    for (;;) {
      const auto pec = parseBuffered(buffer, parser, until_done);
      if (pec != bhttp::error::need_more) co_return pec;
      // The buffer holds framing Beast wants whole (a head, a chunk-size line, trailers):
      // bounded by its max_size, so an endless line is refused, not buffered.
      if (buffer.size() >= buffer.max_size()) co_return bhttp::error::header_limit;
      const size_t want = std::max<size_t>(4096, std::min<size_t>(65536, buffer.size()));
      const auto [ec, n] = co_await readMore(
          sock, buffer.prepare(std::min(want, buffer.max_size() - buffer.size())));
      if (ec == asio::error::eof) {
        boost::system::error_code eof_ec;
        parser.put_eof(eof_ec);
        co_return eof_ec ? eof_ec : boost::system::error_code(bhttp::error::end_of_stream);
      }
      if (ec) co_return ec;
      buffer.commit(n);
    }
  }

  // The answer to a request head that did not parse (none when the client just went away or
  // timed out): 431 past the header limit, else 400.
  std::optional<Response> headParseRefusal(boost::system::error_code ec) const {
    if (ec == bhttp::error::header_limit) {
      return Response::error(core::Error(
          core::Errc::kHeadersTooLarge,
          "request headers exceed " + std::to_string(options_.max_header_bytes) + " bytes"));
    }
    if (ec == bhttp::error::body_limit) {
      return Response::error(core::Error(core::Errc::kPayloadTooLarge, "request body too large"));
    }
    if (isIoEnd(ec)) return std::nullopt;
    return Response::error(
        core::Error(core::Errc::kInvalidArgument, "malformed HTTP request: " + ec.message()));
  }

  // The answer to a body that did not parse: 413 past the limit, 400 for a chunk-size line,
  // extension or trailer section past the framing bound or malformed chunking.
  std::optional<Response> bodyParseRefusal(boost::system::error_code ec, size_t body_limit) const {
    if (ec == bhttp::error::body_limit) {
      return Response::error(
          core::Error(core::Errc::kPayloadTooLarge,
                      "request body exceeds " + std::to_string(body_limit) + " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      return Response::error(core::Error(
          core::Errc::kInvalidArgument,
          "chunk line or trailers exceed " + std::to_string(options_.max_header_bytes) + " bytes"));
    }
    if (isIoEnd(ec)) return std::nullopt;
    return Response::error(
        core::Error(core::Errc::kInvalidArgument, "malformed request body: " + ec.message()));
  }

  // The client went away, the read timed out or the session is being closed: no answer.
  static bool isIoEnd(boost::system::error_code ec) {
    return ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
           ec == bhttp::error::partial_message || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
           ec == asio::error::bad_descriptor;
  }

  // Closes a connection whose client may still be sending (an answer that left its request
  // unread): half-closes, then reads and drops what comes for a bounded time and number of
  // bytes, so the client gets the answer instead of a reset that can discard it.
  asio::awaitable<void, Strand> lingerClose(tcp::socket& sock, SessionState& state) {
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_send, ignored);
    setDeadline(state, std::min<std::chrono::milliseconds>(options_.read_timeout, kLingerTime));
    std::array<char, 4096> scratch;
    size_t drained = 0;
    while (drained < kLingerBytes) {
      const auto [ec, n] = co_await readMore(sock, asio::buffer(scratch));
      if (ec) break;
      drained += n;
    }
    state.deadline = kNever;
  }

  // A generated request id: 16 hex digits per thread at random, then a per-thread counter
  // (the format of core::newRequestId, built in place).
  static void newRequestId(std::string& out) {
    thread_local const std::string prefix = core::hexEncode(core::randomBytes(8));
    thread_local uint64_t counter = 0;
    ++counter;
    static constexpr char kHex[] = "0123456789abcdef";
    char tail[16];
    for (int i = 0; i < 16; ++i) tail[i] = kHex[(counter >> ((15 - i) * 4)) & 0xF];
    out.assign(prefix).append(tail, sizeof tail);
  }

  // Fills `req` from a request whose head scanRequestHead() accepts and whose body is
  // buffered whole, and consumes it. False (nothing consumed): Beast's parser takes it.
  bool scanWholeRequest(SessionState& state, Request& req) const {
    beast::flat_buffer& buffer = state.buffer;
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    ScannedHead& head = state.scanned;
    if (scanRequestHead(bytes, options_.max_header_bytes, head) != ScanResult::kOk) return false;
    const uint64_t body_size = head.content_length.value_or(0);
    if (bytes.size() - head.size < body_size) return false;
    for (size_t i = 0; i < head.field_count; ++i) {
      // Expect: 100-continue is answered by the full path, as before.
      if (head.fields[i].name.size() == 6 && core::iequals(head.fields[i].name, "Expect")) {
        return false;
      }
    }
    req.method.assign(head.method);
    req.target.assign(head.target);
    // The same reuse of header entries as RequestParser::on_field_impl.
    const size_t reused = std::min(req.headers.size(), head.field_count);
    for (size_t i = 0; i < reused; ++i) {
      req.headers[i].name.assign(head.fields[i].name);
      req.headers[i].value.assign(head.fields[i].value);
    }
    req.headers.resize(head.field_count);
    for (size_t i = reused; i < head.field_count; ++i) {
      req.headers[i].name.assign(head.fields[i].name);
      req.headers[i].value.assign(head.fields[i].value);
    }
    req.body.assign(bytes.substr(head.size, static_cast<size_t>(body_size)));
    buffer.consume(head.size + static_cast<size_t>(body_size));
    return true;
  }

  static void resetRequest(Request& req) {
    req.method.clear();
    req.target.clear();
    req.path.clear();
    req.query.clear();
    req.body.clear();
    req.request_id.clear();
    req.params.clear();
    req.route.clear();
    // req.headers: the parser reuses the entries (and their strings' storage).
  }

  asio::awaitable<void, Strand> session(tcp::socket socket, SessionPtr state) {
    tcp::socket& stream = socket;
    state->socket = &stream;
    auto& registry = context_sessions_[state->context_index];
    state->in_context = registry.insert(registry.end(), state.get());
    const size_t ctx = state->context_index;
    Request req;
    {
      boost::system::error_code ec;
      auto ep = stream.remote_endpoint(ec);
      if (!ec) req.remote_address = ep.address().to_string();
      stream.non_blocking(true, ec);  // writes are tried synchronously first (writeAll)
    }
    req.io_context = &state->context;
    beast::flat_buffer& buffer = state->buffer;
    bool keep_alive = true;
    // Set when the server answered and closes while the client may still be sending: the
    // close then lingers (see lingerClose()) so the answer is not lost to a reset.
    bool linger = false;
    while (keep_alive && !stopping_) {
      // Wait for the first byte of the next request under the idle timeout...
      if (state->read_ahead_pending) {
        setDeadline(*state, options_.idle_timeout);
        co_await awaitReadAhead(*state, asio::use_awaitable_t<Strand>{});
      }
      if (state->read_ahead_error) break;
      if (buffer.size() == 0) {
        setDeadline(*state, options_.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(draining(buffer.prepare(4096)), kNoThrow);
        if (ec) break;
        buffer.commit(n);
      } else if (t_inline_depth > 0) {
        // Resumed inline by the previous answer with the next request already buffered:
        // unwind first, so this one does not run nested inside the previous one's producer.
        co_await asio::post(state->strand, asio::use_awaitable_t<Strand>{});
      }
      // ...then the whole request must arrive within the read timeout.
      state->busy = true;
      const auto started = std::chrono::steady_clock::now();
      setDeadline(*state, options_.read_timeout);
      resetRequest(req);
      RequestParser parser(req);
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      // No body limit while reading the header: the route decides it (checked below).
      parser.body_limit(boost::none);
      // The fast path: a plain head with its whole body already buffered (nearly every
      // request) is scanned in one pass; anything else goes through Beast's parser.
      const bool scanned = scanWholeRequest(*state, req);
      if (!scanned) {
        auto ec = parseBuffered(buffer, parser, false);
        if (ec == bhttp::error::need_more)
          ec = co_await parseRequest(stream, buffer, parser, false);
        if (ec) {
          std::optional<Response> refusal = headParseRefusal(ec);
          if (refusal) {
            co_await writeResponse(stream, *state, *refusal, "", false, 11, false);
            recordMetrics(ctx, "-", "-", refusal->status, started);
            linger = true;
          }
          break;
        }
      }
      const unsigned version = scanned ? state->scanned.version : parser.version();
      if (auto bad = checkFraming(req.headers, version)) {
        Response r = Response::json(
            bad->status, core::errorJson(core::Error(core::Errc::kInvalidArgument, bad->message)));
        co_await writeResponse(stream, *state, r, "", false, version, false);
        recordMetrics(ctx, "-", "-", bad->status, started);
        linger = true;
        break;
      }
      const size_t q = req.target.find('?');
      req.path.assign(req.target, 0, q);
      if (q != std::string::npos) req.query.assign(req.target, q + 1);
      const auto incoming_id = findHeader(req.headers, "X-Request-Id");
      if (incoming_id && validRequestId(*incoming_id)) {
        req.request_id.assign(*incoming_id);
      } else {
        newRequestId(req.request_id);
      }
      keep_alive = (scanned ? state->scanned.keepAlive() : parser.keep_alive()) && !stopping_;
      const bool is_head = req.method == "HEAD";

      RouteMatch match = router_.match(req.method, req.path);
      Response immediate;
      bool have_immediate = false;
      if (match.kind == RouteMatch::Kind::kNotFound) {
        immediate = Response::error(core::Error(core::Errc::kNotFound, "no route for " + req.path));
        have_immediate = true;
      } else if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
        immediate = Response::json(
            405,
            core::errorJson(core::Error(core::Errc::kInvalidArgument,
                                        "method " + req.method + " not allowed on " + req.path)));
        immediate.headers.push_back({"Allow", match.allow});
        have_immediate = true;
      }
      const size_t body_limit =
          match.options.max_body_bytes ? match.options.max_body_bytes : options_.max_body_bytes;
      // The body still to read (the fast path took it whole with the head).
      const bool body_pending = !scanned && !parser.is_done();
      std::optional<uint64_t> content_length = state->scanned.content_length;
      if (!scanned) {
        const auto parsed = parser.content_length();
        content_length = parsed ? std::optional<uint64_t>(*parsed) : std::nullopt;
      }
      if (content_length && *content_length > body_limit) {
        immediate = Response::error(
            core::Error(core::Errc::kPayloadTooLarge,
                        "request body exceeds " + std::to_string(body_limit) + " bytes"));
        have_immediate = true;
        keep_alive = false;
      }
      if (body_pending) {
        const auto expect = findHeader(req.headers, "Expect");
        const bool wants_continue = expect && core::iequals(*expect, "100-continue");
        if (have_immediate && (immediate.status == 413 || wants_continue)) {
          // An answer that leaves the body unread closes the connection: its bytes must
          // never be read as the next request (a client told no 100 may send it or not).
          keep_alive = false;
          linger = true;
        } else {
          // Read the body, also under an immediate answer (404, 405): then the connection
          // can stay open, and the bytes after it are the client's next request.
          parser.body_limit(body_limit);
          if (wants_continue) {
            std::string cont = version == 10 ? "HTTP/1.0" : "HTTP/1.1";
            cont.append(" 100 Continue\r\n\r\n");
            co_await writeAll(stream, *state, asio::buffer(cont));
          }
          auto ec = parseBuffered(buffer, parser, true);
          if (ec == bhttp::error::need_more)
            ec = co_await parseRequest(stream, buffer, parser, true);
          if (ec) {
            std::optional<Response> refusal = bodyParseRefusal(ec, body_limit);
            if (refusal) {
              co_await writeResponse(stream, *state, *refusal, req.request_id, false, version,
                                     false);
              recordMetrics(ctx, match.kind == RouteMatch::Kind::kFound ? match.pattern : "-",
                            req.method, refusal->status, started, &req);
              linger = true;
            }
            break;
          }
        }
      }
      state->deadline = kNever;
      if (have_immediate) {
        const int status = immediate.status;
        const bool ok = co_await writeResponse(stream, *state, immediate, req.request_id,
                                               keep_alive, version, is_head);
        recordMetrics(ctx, match.kind == RouteMatch::Kind::kFound ? match.pattern : "-", req.method,
                      status, started, &req);
        state->busy = false;
        if (!ok) break;
        continue;
      }
      req.params = std::move(match.params);
      req.route = match.pattern;

      if (state->slot && state->slot.use_count() == 1) {
        state->slot->reuse();
      } else {
        state->slot = std::make_shared<Responder::Slot>(state->strand);
      }
      const std::shared_ptr<Responder::Slot>& slot = state->slot;
      try {
        (*match.handler)(req, Responder(slot));
      } catch (const std::exception& e) {
        core::log::error(
            "handler threw",
            {{"route", req.route}, {"error", e.what()}, {"request_id", req.request_id}});
        slot->complete(Responder::Slot::Kind::kResponse,
                       Response::error(core::Error(core::Errc::kInternal, "")));
      }
      if (!slot->ready()) {
        if (buffer.size() == 0) readAhead(state, stream);
        co_await slot->asyncWait(asio::use_awaitable_t<Strand>{});
      }

      switch (slot->kind()) {
        case Responder::Slot::Kind::kResponse:
        case Responder::Slot::Kind::kDropped: {
          refuseInvalidStatus(slot->response(), req);
          const int status = slot->response().status;
          const bool keep = keep_alive && !stopping_;
          const auto buffers =
              responseBuffers(*state, slot->response(), req.request_id, keep, version, is_head);
          size_t written = 0;
          bool ok = false;
          switch (writeNow(stream, buffers, written)) {
            case WriteState::kDone:
              ok = keep;
              break;
            case WriteState::kFailed:
              break;
            case WriteState::kPending:
              ok = co_await writeResponseSlow(stream, *state, buffers, written, keep);
              break;
          }
          recordMetrics(ctx, req.route, req.method, status, started, &req);
          if (!ok) keep_alive = false;
          break;
        }
        case Responder::Slot::Kind::kStream: {
          const int status = co_await writeStream(stream, *state, *slot, req, version);
          recordMetrics(ctx, req.route, req.method, status, started, &req);
        }
          keep_alive = false;
          break;
        case Responder::Slot::Kind::kAbort:
        case Responder::Slot::Kind::kClientGone:
        case Responder::Slot::Kind::kPending:
          keep_alive = false;
          break;
      }
      state->busy = false;
    }
    if (linger && !stopping_) co_await lingerClose(stream, *state);
    boost::system::error_code ignored;
    stream.shutdown(tcp::socket::shutdown_both, ignored);
    stream.close(ignored);
    state->socket = nullptr;
    registry.erase(state->in_context);
  }

  ServerOptions options_;
  const Router& router_;
  core::MetricsRegistry* metrics_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<std::list<SessionState*>> context_sessions_;  // [i] touched only on thread i
  std::vector<SeriesCache> series_;                         // ditto
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  size_t next_context_ = 0;
  Strand accept_strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_timer_;   // the pause after a failed accept (accept strand)
  asio::steady_timer capacity_timer_;  // the wait at max_connections (accept strand)
  std::atomic<bool> at_capacity_{false};
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  bool started_ = false;
  uint16_t port_ = 0;
  mutable std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::list<SessionPtr> sessions_;
};

Server::Server(ServerOptions options, const Router& router, core::MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}
Server::~Server() = default;
core::Status Server::start() { return impl_->start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::stop() { impl_->stop(); }
void Server::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  impl_->schedule(delay, std::move(fn));
}
size_t Server::openConnections() const { return impl_->openConnections(); }

}  // namespace tether::http
