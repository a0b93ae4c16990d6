#include "http/server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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

namespace tether::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
// Each I/O thread runs its own io_context; a connection lives on one of them, so its
// handlers never run concurrently and need no strand.
using Strand = asio::io_context::executor_type;

namespace {

const auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<Strand>{});

// Runs `fn` (which resumes an Asio handler) at most once.
class Waiter {
 public:
  template <class Handler>
  void set(Handler&& handler) {
    auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    fn_ = [h] {
      auto ex = asio::get_associated_executor(*h);
      asio::post(ex, std::move(*h));
    };
  }
  void fire() {
    if (fn_) {
      auto fn = std::move(fn_);
      fn_ = nullptr;
      fn();
    }
  }
  explicit operator bool() const { return static_cast<bool>(fn_); }

 private:
  std::function<void()> fn_;
};

bool validRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
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

  void write(std::string chunk, std::function<void(bool ok)> done) override {
    std::unique_lock lock(mu_);
    if (closed_ || finished_) {
      lock.unlock();
      if (done) done(false);
      return;
    }
    queue_.push_back({std::move(chunk), std::move(done)});
    waiter_.fire();
  }

  void finish() override {
    std::lock_guard lock(mu_);
    finished_ = true;
    waiter_.fire();
  }

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
        [this](auto handler) {
          std::lock_guard lock(mu_);
          waiter_.set(std::move(handler));
          if (!queue_.empty() || finished_ || closed_) waiter_.fire();
        },
        token);
  }

  // Takes the queued chunks; `finished` tells whether the producer ended the stream.
  std::deque<Chunk> take(bool& finished) {
    std::lock_guard lock(mu_);
    finished = finished_;
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
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
      pending = std::exchange(queue_, {});
      if (!finished_) on_close = std::move(on_close_);
      on_close_ = nullptr;
      waiter_.fire();
    }
    for (auto& c : pending) {
      if (c.done) c.done(false);
    }
    if (on_close) on_close();
  }

 private:
  mutable std::mutex mu_;
  std::deque<Chunk> queue_;
  bool finished_ = false;
  bool closed_ = false;
  std::function<void()> on_close_;
  Waiter waiter_;
};

// ---------------------------------------------------------------------------------------
// Responder slot: completed once from any thread; the session awaits it.

class Responder::Slot {
 public:
  enum class Kind { kPending, kResponse, kStream, kAbort, kDropped };

  void complete(Kind kind, Response response, std::shared_ptr<StreamImpl> stream) {
    std::lock_guard lock(mu_);
    if (kind_ != Kind::kPending) return;  // completing twice is ignored
    kind_ = kind;
    response_ = std::move(response);
    stream_ = std::move(stream);
    waiter_.fire();
  }

  template <class Token>
  auto asyncWait(Token&& token) {
    return asio::async_initiate<Token, void()>(
        [this](auto handler) {
          std::lock_guard lock(mu_);
          waiter_.set(std::move(handler));
          if (kind_ != Kind::kPending) waiter_.fire();
        },
        token);
  }

  bool ready() {
    std::lock_guard lock(mu_);
    return kind_ != Kind::kPending;
  }
  Kind kind() {
    std::lock_guard lock(mu_);
    return kind_;
  }
  Response& response() { return response_; }
  std::shared_ptr<StreamImpl> stream() { return stream_; }
  int stream_status = 200;
  Headers stream_headers;

 private:
  std::mutex mu_;
  Kind kind_ = Kind::kPending;
  Response response_;
  std::shared_ptr<StreamImpl> stream_;
  Waiter waiter_;
};

Responder::~Responder() {
  if (slot_ && !slot_->ready()) {
    core::log::error("handler dropped its responder without answering");
    slot_->complete(Slot::Kind::kDropped, Response::error(core::Error(core::Errc::kInternal, "")),
                    nullptr);
  }
}

void Responder::send(Response response) {
  if (slot_) slot_->complete(Slot::Kind::kResponse, std::move(response), nullptr);
}

std::shared_ptr<StreamWriter> Responder::startStream(int status, Headers headers) {
  auto stream = std::make_shared<StreamImpl>();
  if (slot_) {
    slot_->stream_status = status;
    slot_->stream_headers = std::move(headers);
    slot_->complete(Slot::Kind::kStream, Response{}, stream);
  }
  return stream;
}

void Responder::abort() {
  if (slot_) slot_->complete(Slot::Kind::kAbort, Response{}, nullptr);
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
        acceptor_(accept_strand_) {}

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

  // Timeouts are coarse deadlines checked by one sweeper per I/O thread, not a timer armed
  // per read and write (which costs timer-queue work and timerfd syscalls per request).
  struct SessionState {
    SessionState(Strand s, asio::io_context& ctx, size_t index)
        : strand(std::move(s)), context(ctx), context_index(index) {}
    Strand strand;
    asio::io_context& context;
    size_t context_index;
    tcp::socket* socket = nullptr;  // touched only on the session's I/O thread
    SteadyTime deadline = kNever;   // ditto: the sweeper closes the socket past it
    std::list<SessionState*>::iterator in_context;
    std::atomic<bool> busy{false};  // a request is being read or handled (read by stop())
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

  asio::awaitable<void, Strand> acceptLoop() {
    for (;;) {
      const size_t index = next_context_++ % contexts_.size();
      auto& context = *contexts_[index];
      auto strand = context.get_executor();
      tcp::socket socket(strand);
      auto [ec] = co_await acceptor_.async_accept(socket, kNoThrow);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        core::log::warn("accept failed", {{"error", ec.message()}});
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto state = std::make_shared<SessionState>(strand, context, index);
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
                     });
    }
  }

  void recordMetrics(const std::string& route, std::string_view method, int status,
                     std::chrono::steady_clock::time_point started,
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
    // Resolved series are cached per thread: the hot path touches only atomics.
    thread_local std::unordered_map<std::string, std::pair<core::Counter*, core::Histogram*>> cache;
    thread_local const core::MetricsRegistry* cache_owner = nullptr;
    if (cache_owner != metrics_) {
      cache.clear();
      cache_owner = metrics_;
    }
    std::string key;
    key.reserve(route.size() + method.size() + 6);
    key.append(route).append(1, ' ').append(method).append(1, ' ').append(std::to_string(status));
    auto it = cache.find(key);
    if (it == cache.end()) {
      auto* counter = &metrics_->counter(
          "tether_http_requests_total", "HTTP requests served, by route and status",
          {{"route", route}, {"method", std::string(method)}, {"status", std::to_string(status)}});
      auto* histogram =
          &metrics_->histogram("tether_http_request_duration_seconds",
                               "Time from request read to response written", {{"route", route}});
      it = cache.emplace(std::move(key), std::make_pair(counter, histogram)).first;
    }
    it->second.first->inc();
    it->second.second->observe(seconds);
  }

  // Writes a complete response. Returns false when the connection must close.
  asio::awaitable<bool, Strand> writeResponse(tcp::socket& stream, SessionState& state, Response& r,
                                              const std::string& request_id, bool keep_alive,
                                              unsigned version, bool head) {
    bhttp::response<bhttp::string_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    for (auto& h : r.headers) res.insert(h.name, h.value);
    if (!request_id.empty()) res.set("X-Request-Id", request_id);
    res.keep_alive(keep_alive);
    const size_t body_size = r.body.size();
    res.body() = std::move(r.body);
    res.prepare_payload();
    if (head) res.content_length(body_size);
    setDeadline(state, options_.write_timeout);
    if (head) {
      bhttp::response_serializer<bhttp::string_body> sr(res);
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kNoThrow);
      if (ec) co_return false;
    } else {
      auto [ec, n] = co_await bhttp::async_write(stream, res, kNoThrow);
      if (ec) co_return false;
    }
    state.deadline = kNever;
    co_return keep_alive;
  }

  // Streams a chunked response until the producer finishes or the client leaves.
  asio::awaitable<void, Strand> writeStream(tcp::socket& stream, SessionState& state,
                                            Responder::Slot& slot, const std::string& request_id,
                                            unsigned version) {
    auto impl = slot.stream();
    bhttp::response<bhttp::empty_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(slot.stream_status));
    for (auto& h : slot.stream_headers) res.insert(h.name, h.value);
    if (!request_id.empty()) res.set("X-Request-Id", request_id);
    res.keep_alive(false);
    res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> sr(res);
    setDeadline(state, options_.write_timeout);
    {
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kNoThrow);
      if (ec) {
        impl->markClosed();
        co_return;
      }
    }
    state.deadline = kNever;

    // Watch for the client going away while we wait for chunks.
    auto alive = std::make_shared<bool>(true);
    asio::co_spawn(
        stream.get_executor(),
        [&stream, impl, alive]() -> asio::awaitable<void> {
          std::array<char, 512> scratch{};
          for (;;) {
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch),
                                                           asio::as_tuple(asio::use_awaitable));
            if (ec || !*alive) break;
          }
          if (*alive) impl->markClosed();
        },
        asio::detached);

    for (;;) {
      co_await impl->asyncWait(asio::use_awaitable_t<Strand>{});
      bool finished = false;
      auto chunks = impl->take(finished);
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
        setDeadline(state, options_.write_timeout);
        co_await asio::async_write(stream, bhttp::make_chunk_last(), kNoThrow);
        state.deadline = kNever;
        break;
      }
      if (impl->clientGone()) break;
    }
    *alive = false;
    impl->markClosed();
    boost::system::error_code ignored;
    stream.shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Feeds buffered bytes to the parser, reading more only when it needs them. Most requests
  // arrive whole in one read, so this usually completes without another trip through the
  // scheduler. `until_done`: the whole message, else just the header.
  template <class Parser>
  asio::awaitable<boost::system::error_code, Strand> parseRequest(tcp::socket& sock,
                                                                  beast::flat_buffer& buffer,
                                                                  Parser& parser, bool until_done) {
    for (;;) {
      const bool complete = until_done ? parser.is_done() : parser.is_header_done();
      if (complete) co_return boost::system::error_code{};
      if (buffer.size() > 0) {
        boost::system::error_code ec;
        const size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec && ec != bhttp::error::need_more) co_return ec;
        if (!ec && used > 0) continue;
      }
      if (buffer.size() >= buffer.max_size()) co_return bhttp::error::header_limit;
      auto [ec, n] = co_await sock.async_read_some(
          buffer.prepare(std::max<size_t>(4096, std::min<size_t>(65536, buffer.size()))), kNoThrow);
      if (ec == asio::error::eof) {
        boost::system::error_code eof_ec;
        parser.put_eof(eof_ec);
        co_return eof_ec ? eof_ec : boost::system::error_code(bhttp::error::end_of_stream);
      }
      if (ec) co_return ec;
      buffer.commit(n);
    }
  }

  asio::awaitable<void, Strand> session(tcp::socket socket, SessionPtr state) {
    tcp::socket& stream = socket;
    state->socket = &stream;
    auto& registry = context_sessions_[state->context_index];
    state->in_context = registry.insert(registry.end(), state.get());
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = stream.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    beast::flat_buffer buffer;
    bool keep_alive = true;
    while (keep_alive && !stopping_) {
      // Wait for the first byte of the next request under the idle timeout...
      if (buffer.size() == 0) {
        setDeadline(*state, options_.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
        if (ec) break;
        buffer.commit(n);
      }
      // ...then the whole request must arrive within the read timeout.
      state->busy = true;
      const auto started = std::chrono::steady_clock::now();
      setDeadline(*state, options_.read_timeout);
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      // No body limit while reading the header: the route decides it (checked below).
      parser.body_limit(boost::none);
      {
        auto ec = co_await parseRequest(stream, buffer, parser, false);
        if (ec) {
          if (ec == bhttp::error::header_limit) {
            Response r = Response::error(core::Error(
                core::Errc::kHeadersTooLarge,
                "request headers exceed " + std::to_string(options_.max_header_bytes) + " bytes"));
            co_await writeResponse(stream, *state, r, "", false, 11, false);
            recordMetrics("-", "-", 431, started);
          } else if (ec == bhttp::error::body_limit) {
            Response r = Response::error(
                core::Error(core::Errc::kPayloadTooLarge, "request body too large"));
            co_await writeResponse(stream, *state, r, "", false, 11, false);
            recordMetrics("-", "-", 413, started);
          } else if (ec != beast::error::timeout && ec != bhttp::error::end_of_stream &&
                     ec != bhttp::error::partial_message && ec != asio::error::eof &&
                     ec != asio::error::connection_reset && ec != asio::error::operation_aborted &&
                     ec != asio::error::bad_descriptor) {
            Response r = Response::error(core::Error(core::Errc::kInvalidArgument,
                                                     "malformed HTTP request: " + ec.message()));
            co_await writeResponse(stream, *state, r, "", false, 11, false);
            recordMetrics("-", "-", 400, started);
          }
          break;
        }
      }
      auto& head = parser.get();
      Request req;
      req.method = std::string(head.method_string());
      req.target = std::string(head.target());
      const size_t q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.query = req.target.substr(q + 1);
      req.remote_address = remote;
      req.headers.reserve(16);
      for (const auto& f : head) {
        req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
      }
      const auto incoming_id = findHeader(req.headers, "X-Request-Id");
      req.request_id = incoming_id && validRequestId(*incoming_id) ? std::string(*incoming_id)
                                                                   : core::newRequestId();
      const unsigned version = head.version();
      keep_alive = head.keep_alive() && !stopping_;
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
      if (!have_immediate) {
        const auto content_length = parser.content_length();
        if (content_length && *content_length > body_limit) {
          immediate = Response::error(
              core::Error(core::Errc::kPayloadTooLarge,
                          "request body exceeds " + std::to_string(body_limit) + " bytes"));
          have_immediate = true;
          keep_alive = false;  // the body is not read
        }
      }
      if (!have_immediate && !parser.is_done()) {
        parser.body_limit(body_limit);
        const auto expect = findHeader(req.headers, "Expect");
        if (expect && core::iequals(*expect, "100-continue")) {
          bhttp::response<bhttp::empty_body> cont(bhttp::status::continue_, version);
          co_await bhttp::async_write(stream, cont, kNoThrow);
        }
        auto ec = co_await parseRequest(stream, buffer, parser, true);
        if (ec) {
          if (ec == bhttp::error::body_limit) {
            Response r = Response::error(
                core::Error(core::Errc::kPayloadTooLarge,
                            "request body exceeds " + std::to_string(body_limit) + " bytes"));
            co_await writeResponse(stream, *state, r, req.request_id, false, version, false);
            recordMetrics(match.pattern, req.method, 413, started);
          }
          break;
        }
      }
      state->deadline = kNever;
      if (have_immediate) {
        const int status = immediate.status;
        const bool ok = co_await writeResponse(stream, *state, immediate, req.request_id,
                                               keep_alive, version, is_head);
        recordMetrics(match.kind == RouteMatch::Kind::kFound ? match.pattern : "-", req.method,
                      status, started, &req);
        state->busy = false;
        if (!ok) break;
        continue;
      }
      req.body = std::move(parser.get().body());
      req.params = std::move(match.params);
      req.route = match.pattern;
      req.io_context = &state->context;

      auto slot = std::make_shared<Responder::Slot>();
      try {
        (*match.handler)(req, Responder(slot));
      } catch (const std::exception& e) {
        core::log::error(
            "handler threw",
            {{"route", req.route}, {"error", e.what()}, {"request_id", req.request_id}});
        slot->complete(Responder::Slot::Kind::kResponse,
                       Response::error(core::Error(core::Errc::kInternal, "")), nullptr);
      }
      if (!slot->ready()) co_await slot->asyncWait(asio::use_awaitable_t<Strand>{});

      switch (slot->kind()) {
        case Responder::Slot::Kind::kResponse:
        case Responder::Slot::Kind::kDropped: {
          const int status = slot->response().status;
          const bool ok = co_await writeResponse(stream, *state, slot->response(), req.request_id,
                                                 keep_alive && !stopping_, version, is_head);
          recordMetrics(req.route, req.method, status, started, &req);
          if (!ok) keep_alive = false;
          break;
        }
        case Responder::Slot::Kind::kStream:
          co_await writeStream(stream, *state, *slot, req.request_id, version);
          recordMetrics(req.route, req.method, slot->stream_status, started, &req);
          keep_alive = false;
          break;
        case Responder::Slot::Kind::kAbort:
        case Responder::Slot::Kind::kPending:
          keep_alive = false;
          break;
      }
      state->busy = false;
    }
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
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  size_t next_context_ = 0;
  Strand accept_strand_;
  tcp::acceptor acceptor_;
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
