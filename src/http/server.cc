#include "http/server.h"

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/encoding.h"
#include "core/errors.h"
#include "core/log.h"
#include "http/request_log.h"
#include "http/request_reading.h"
#include "http/responding.h"
#include "http/session.h"
#include "http/socket_io.h"
#include "http/tls_server.h"
#include "http/tls_stream.h"
#include "http/trace_context.h"

// The connection loop (session) and the accept loop. Reading a request is in
// request_reading.{h,cc}, answering in responding.{h,cc}, socket I/O in socket_io.h and
// deadlines in deadline_sweeper.h (both shared with the upstream client).

namespace tether::http {

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, core::MetricsRegistry* metrics)
      : options_(std::move(options)),
        router_(router),
        metrics_(metrics),
        contexts_(makeContexts(std::max<size_t>(1, options_.io_threads))),
        recorder_(metrics, contexts_.size(), options_.access_log),
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
    asio::co_spawn(accept_strand_, acceptLoop(), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        core::log::error("accept loop ended; no new connections", {{"error", ex.what()}});
      }
    });
    // Timeouts are coarse deadlines checked by each I/O thread's sweeper, the one the
    // upstream client's exchanges on that thread use too (http/deadline_sweeper.h).
    const auto shortest =
        std::min({options_.read_timeout, options_.idle_timeout, options_.write_timeout});
    const auto interval = std::clamp<std::chrono::milliseconds>(
        shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
    for (auto& ctx : contexts_) {
      auto& sweeper = asio::use_service<DeadlineSweeper>(*ctx);
      sweeper.setInterval(interval);
      sweepers_.push_back(&sweeper);
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

  void setAccessLog(bool on) { recorder_.setAccessLog(on); }

  size_t openConnections() const {
    std::lock_guard lock(sessions_mu_);
    return sessions_.size();
  }

 private:
  // Bounds of a lingering close.
  static constexpr std::chrono::milliseconds kLingerTime{2000};
  static constexpr size_t kLingerBytes = 1024 * 1024;
  // The longest wait for a TLS client's close_notify answer.
  static constexpr std::chrono::milliseconds kTlsShutdownTime{1000};
  // Room in a session's read buffer beyond the header limit: one read's worth.
  static constexpr size_t kReadSlack = 64 * 1024;
  // The pause after a failed accept doubles from the first to the last while failures
  // persist; at most one log line per interval.
  static constexpr std::chrono::milliseconds kAcceptBackoffMin{50};
  static constexpr std::chrono::milliseconds kAcceptBackoffMax{1000};
  static constexpr std::chrono::seconds kAcceptLogInterval{10};

  void closeSession(const SessionPtr& s) {
    asio::post(s->strand, [s] {
      if (s->deadline.socket) {
        boost::system::error_code ignored;
        s->deadline.socket->shutdown(tcp::socket::shutdown_both, ignored);
        s->deadline.socket->close(ignored);
      }
    });
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
      boost::system::error_code ec;
      std::string failure;
      try {
        ec = co_await acceptOne();
      } catch (const std::exception& e) {
        // Asio creating what a new socket needs (e.g. an I/O thread's reactor) out of
        // descriptors: a failed accept too, not the end of the loop.
        failure = e.what();
        ec = asio::error::no_descriptors;
      }
      if (!ec) {
        backoff = std::chrono::milliseconds(0);
        continue;
      }
      if (stopping_ || ec == asio::error::operation_aborted) co_return;
      backoff = std::clamp(backoff * 2, kAcceptBackoffMin, kAcceptBackoffMax);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_logged >= kAcceptLogInterval) {
        core::log::warn("accept failed; pausing before the next accept",
                        {{"error", failure.empty() ? ec.message() : failure},
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
    }
  }

  // Accepts one connection and starts its session on the next I/O thread.
  asio::awaitable<boost::system::error_code, Strand> acceptOne() {
    const size_t index = next_context_++ % contexts_.size();
    auto& context = *contexts_[index];
    auto strand = context.get_executor();
    tcp::socket socket(strand);
    auto [ec] = co_await acceptor_.async_accept(socket, kNoThrow);
    if (ec) co_return ec;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto state = std::make_shared<SessionState>(
        strand, context, index, options_.max_header_bytes + kReadSlack, options_.write_timeout);
    std::list<SessionPtr>::iterator listed;  // erased in O(1) when the session ends
    {
      std::lock_guard lock(sessions_mu_);
      listed = sessions_.insert(sessions_.end(), state);
    }
    if (options_.tls) state->tls_context = options_.tls->current();
    auto run =
        options_.tls ? tlsSession(std::move(socket), state) : session(std::move(socket), state);
    asio::co_spawn(strand, std::move(run), [this, state, listed](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          core::log::error("session failed", {{"error", ex.what()}});
        }
      }
      std::lock_guard lock(sessions_mu_);
      // Not remove(state): a scan of every open session per session that ends made 9,500
      // streams closing at once take 10 s of CPU (quadratic).
      sessions_.erase(listed);
      sessions_cv_.notify_all();
      // The accept loop waits at the cap: a session ended, it may go on.
      if (at_capacity_) {
        asio::post(accept_strand_, [this] { capacity_timer_.cancel(); });
      }
    });
    co_return boost::system::error_code{};
  }

  // Whether max_connections are open; if so, the accept loop waits for capacity_timer_,
  // which the end of a session cancels. On the accept strand.
  bool atCapacity() {
    std::lock_guard lock(sessions_mu_);
    at_capacity_ = sessions_.size() >= std::max<size_t>(1, options_.max_connections);
    return at_capacity_;
  }

  void recordMetrics(size_t context_index, std::string_view route, std::string_view method,
                     int status, std::chrono::steady_clock::time_point started,
                     const Request* request = nullptr) {
    recorder_.record(context_index, route, method, status, started, request);
  }

  // A head past the limit because of its Authorization field, on a route that answers such
  // a caller itself (RouteOptions::oversized_credentials): that answer, else nullopt (431).
  std::optional<Response> oversizedCredentials(const beast::flat_buffer& buffer, Request& req) {
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!oversizedAuthorization(bytes, options_.max_header_bytes, req)) return std::nullopt;
    req.path.assign(req.target, 0, req.target.find('?'));
    RouteMatch match = router_.match(req.method, req.path);
    if (match.kind != RouteMatch::Kind::kFound || !match.options.oversized_credentials) {
      return std::nullopt;
    }
    req.params = std::move(match.params);
    newRequestId(req.request_id);
    return (*match.options.oversized_credentials)(req);
  }

  // Closes a connection whose client may still be sending (an answer that left its request
  // unread): half-closes, then reads and drops what comes for a bounded time and number of
  // bytes, so the client gets the answer instead of a reset that can discard it.
  template <class Stream>
  asio::awaitable<void, Strand> lingerClose(Stream& sock, SessionState& state) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(sock).shutdown(tcp::socket::shutdown_send, ignored);
    state.deadline.expiresIn(
        std::min<std::chrono::milliseconds>(options_.read_timeout, kLingerTime));
    std::array<char, 4096> scratch;
    size_t drained = 0;
    while (drained < kLingerBytes) {
      const auto [ec, n] = co_await readMore(sock, asio::buffer(scratch));
      if (ec) break;
      drained += n;
    }
    state.deadline.disarm();
  }

  // A connection's first steps, plain or TLS: its deadline watched, the peer's address.
  void open(tcp::socket& socket, SessionState& state, Request& req) {
    state.deadline.socket = &socket;
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) req.remote_address = ep.address().to_string();
    socket.non_blocking(true, ec);  // writes are tried synchronously first (writeAll)
    req.io_context = &state.context;
  }

  // A plain HTTP connection.
  asio::awaitable<void, Strand> session(tcp::socket socket, SessionPtr state) {
    const DeadlineSweeper::Watch watch(*sweepers_[state->context_index], state->deadline);
    Request req;
    open(socket, *state, req);
    if (co_await serve(socket, state, req) && !stopping_) co_await lingerClose(socket, *state);
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    state->deadline.clear();
  }

  // A TLS connection: the handshake under the read timeout, then requests as on a plain one.
  // A client that speaks plain HTTP to this port gets a 400 saying so.
  asio::awaitable<void, Strand> tlsSession(tcp::socket socket, SessionPtr state) {
    const DeadlineSweeper::Watch watch(*sweepers_[state->context_index], state->deadline);
    Request req;
    open(socket, *state, req);
    TlsStream tls(std::move(socket), *state->tls_context);
    tcp::socket& lowest = beast::get_lowest_layer(tls);
    state->deadline.socket = &lowest;
    const auto started = std::chrono::steady_clock::now();
    state->deadline.expiresIn(options_.read_timeout);
    beast::flat_buffer& buffer = state->buffer;
    auto [ec, n] = co_await lowest.async_read_some(buffer.prepare(4096), kNoThrow);
    if (!ec) buffer.commit(n);
    const auto first =
        buffer.size() ? static_cast<const unsigned char*>(buffer.data().data())[0] : 0;
    if (!ec && looksLikePlainHttp(first)) {
      Response r = Response::error(
          core::Error(core::Errc::kInvalidArgument,
                      "this port speaks HTTPS: the plain HTTP request was sent to an HTTPS port"));
      co_await writeResponse(lowest, *state, r, "", false, 11, false);
      recordMetrics(state->context_index, "-", "-", 400, started, &req);
      if (!stopping_) co_await lingerClose(lowest, *state);
    } else if (!ec) {
      auto [hec, used] = co_await tls.async_handshake(TlsStream::server, buffer.data(), kNoThrow);
      buffer.consume(buffer.size());  // the handshake took every byte before it completed
      state->deadline.disarm();
      if (hec) {
        core::log::debug("TLS handshake failed",
                         {{"remote", req.remote_address}, {"error", hec.message()}});
      } else {
        if (co_await serve(tls, state, req) && !stopping_) co_await lingerClose(tls, *state);
        if (lowest.is_open() && !stopping_) {
          // close_notify, bounded: the client may never answer it.
          state->deadline.expiresIn(std::min(options_.write_timeout, kTlsShutdownTime));
          co_await tls.async_shutdown(kNoThrow);
        }
      }
    }
    boost::system::error_code ignored;
    lowest.shutdown(tcp::socket::shutdown_both, ignored);
    lowest.close(ignored);
    state->deadline.clear();
  }

  // The first byte of an HTTP request line (a method is upper-case letters); a TLS
  // connection starts with a handshake record (0x16).
  static bool looksLikePlainHttp(unsigned char first) { return first >= 'A' && first <= 'Z'; }

  // The requests of one connection until it ends. True when the close must linger (the
  // server answered while the client may still be sending: see lingerClose()).
  template <class Stream>
  asio::awaitable<bool, Strand> serve(Stream& stream, const SessionPtr& state, Request& req) {
    const size_t ctx = state->context_index;
    beast::flat_buffer& buffer = state->buffer;
    bool keep_alive = true;
    bool linger = false;
    while (keep_alive && !stopping_) {
      // Wait for the first byte of the next request under the idle timeout...
      if (state->read_ahead_pending) {
        state->deadline.expiresIn(options_.idle_timeout);
        co_await awaitReadAhead(*state, asio::use_awaitable_t<Strand>{});
      }
      if (state->read_ahead_error) break;
      if (buffer.size() == 0) {
        state->deadline.expiresIn(options_.idle_timeout);
        releaseIdleBuffer(buffer);
        auto [ec, n] =
            co_await stream.async_read_some(draining(buffer.prepare(kWaitingReadBytes)), kNoThrow);
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
      state->deadline.expiresIn(options_.read_timeout);
      resetRequest(req);
      RequestParser parser(req);
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      // No body limit while reading the header: the route decides it (checked below).
      parser.body_limit(boost::none);
      // The fast path: a plain head with its whole body already buffered (nearly every
      // request) is scanned in one pass; anything else goes through Beast's parser.
      const bool scanned = scanWholeRequest(buffer, state->scanned, options_.max_header_bytes, req);
      if (!scanned) {
        auto ec = parseBuffered(buffer, parser, false);
        if (ec == bhttp::error::need_more)
          ec = co_await parseRequest(stream, buffer, parser, false);
        if (ec) {
          std::optional<Response> refusal;
          if (ec == bhttp::error::header_limit) refusal = oversizedCredentials(buffer, req);
          if (!refusal) refusal = headParseRefusal(ec, options_.max_header_bytes);
          if (refusal) {
            co_await writeResponse(stream, *state, *refusal, "", false, 11, false);
            recordMetrics(ctx, "-", "-", refusal->status, started);
            linger = true;
          }
          break;
        }
      }
      const unsigned version = scanned ? state->scanned.version : parser.version();
      if (auto bad =
              scanned ? checkScannedFraming(state->scanned) : checkFraming(req.headers, version)) {
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
      req.traceparent = findTraceparent(req.headers);
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
            co_await writeAll(stream, state->deadline, state->write_timeout, asio::buffer(cont));
          }
          auto ec = parseBuffered(buffer, parser, true);
          if (ec == bhttp::error::need_more)
            ec = co_await parseRequest(stream, buffer, parser, true);
          if (ec) {
            std::optional<Response> refusal =
                bodyParseRefusal(ec, body_limit, options_.max_header_bytes);
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
      state->deadline.disarm();
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
          const auto buffers = responseBuffers(state->head, slot->response(), req.request_id, keep,
                                               version, is_head);
          size_t written = 0;
          boost::system::error_code wec;
          bool ok = false;
          switch (writeNow(stream, buffers, written, wec)) {
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
          const StreamEnd end =
              co_await writeStream(stream, state, *slot, req, version, keep_alive && !stopping_);
          recordMetrics(ctx, req.route, req.method, end.status, started, &req);
          keep_alive = end.keep_alive;
          break;
        }
        case Responder::Slot::Kind::kAbort:
        case Responder::Slot::Kind::kClientGone:
        case Responder::Slot::Kind::kPending:
          keep_alive = false;
          break;
      }
      state->busy = false;
    }
    co_return linger;
  }

  ServerOptions options_;
  const Router& router_;
  core::MetricsRegistry* metrics_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<DeadlineSweeper*> sweepers_;  // [i]: contexts_[i]'s, touched only on thread i
  RequestRecorder recorder_;                // the access log and request metrics
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
void Server::setAccessLog(bool on) { impl_->setAccessLog(on); }

}  // namespace tether::http
