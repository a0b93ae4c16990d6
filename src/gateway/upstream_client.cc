// One exchange with an upstream: writing the request, reading the head, relaying the body
// (read whole, or streamed with back-pressure). Beast in coroutines, the costliest thing to
// compile here, stays in this file. The rest of the upstream client:
//   upstream_pool.{h,cc}     connections, the per-thread pool and its reuse check;
//   upstream_connect.{h,cc}  TCP connect and the TLS handshake;
//   upstream_response.h      the response parser and how read errors map to failures;
// and, shared with the HTTP server, http/socket_io.h (the reads and writes that try the
// socket first) and http/deadline_sweeper.h (the per-thread sweeper of deadlines).
// Where an upstream's framing is buffered, and bounded: the head (the parser's header
// limit) and, past it, Exchange::framingBound() (chunk lines, trailers); bodies read whole
// are bounded by the parser's body limit, streams by back-pressure.

#include "gateway/upstream_client.h"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <charconv>

#include "core/encoding.h"
#include "core/log.h"
#include "gateway/protocol.h"
#include "gateway/upstream_connect.h"
#include "gateway/upstream_pool.h"
#include "gateway/upstream_response.h"
#include "http/deadline_sweeper.h"
#include "http/draining_read.h"
#include "http/head_scanner.h"
#include "http/socket_io.h"

namespace tether::gateway {

using namespace upstream;
using ReadResult = std::tuple<boost::system::error_code, size_t>;  // of one socket read
using namespace std::string_view_literals;

namespace {

// Bytes handed to the client's stream but not yet written to its socket before the relay
// stops reading from the upstream (back-pressure).
constexpr size_t kStreamHighWater = 256 * 1024;
// A streamed body is read in pieces of up to this while the upstream's bytes are there (a
// 1 MiB answer in 16 pieces, not 64: fewer reads, chunks and client writes)...
constexpr size_t kStreamChunkBytes = 64 * 1024;
// ...and, when the socket held nothing, waited for with a buffer of this size only, the
// larger one released first: an idle stream (an SSE GET held open for hours) keeps 2 KiB
// instead of the 16 or 64 KiB its last burst needed. TLS reads keep kTlsStreamChunkBytes
// (a TLS record; a TLS socket cannot be read without a buffer, nor tried first).
constexpr size_t kStreamIdleReadBytes = 2 * 1024;
constexpr size_t kTlsStreamChunkBytes = 16 * 1024;

// Interim (1xx) answers skipped before the final one; past this the upstream is broken.
constexpr int kMaxInterimAnswers = 100;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& ctx, const UpstreamClientOptions& options, UpstreamCall call,
           http::Responder responder, HeadFilter on_head, ExchangeDone done)
      : ctx_(ctx),
        options_(options),
        call_(std::move(call)),
        responder_(std::move(responder)),
        on_head_(std::move(on_head)),
        done_(std::move(done)) {
    deadline_.precision = kDeadlinePrecision;
  }

  // The client went away (on our thread): stop talking to the upstream.
  void cancel() {
    cancelled_ = true;
    if (conn_) {
      boost::system::error_code ignored;
      conn_->lowest().cancel(ignored);
    }
    if (drained_) drained_->cancel();
  }

 private:
  enum class Step { kKeep, kClose, kRetryStale };

  const UpstreamOrigin& origin() const { return call_.endpoint->origin; }

 public:
  // Co-spawned by the client, whose completion handler keeps the exchange alive (no frame
  // of its own just to hold it).
  Awaitable<void> run() {
    started_ = Clock::now();
    if (call_.invalid_header) {
      fail(UpstreamFailure::kProtocol, "refusing to send an invalid request header");
      co_return;
    }
    auto& pool = poolOf(ctx_);
    const http::DeadlineSweeper::Watch watch(pool.sweeper(), deadline_);
    // A client that leaves before the answer stops the exchange (the callback runs on this
    // thread; it is dropped when the responder is used or handed back).
    responder_->onClientGone([this] { cancel(); });
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (cancelled_) {
        fail(UpstreamFailure::kCancelled, "the client went away");
        co_return;
      }
      std::unique_ptr<Conn> conn;
      if (attempt == 0) {
        conn = pool.take(call_.pool_key, origin().key, options_.pool_idle_timeout);
      }
      const bool reused = conn != nullptr;
      if (!conn) {
        Connected c = co_await connectUpstream(ctx_, pool, origin(), call_.limits, deadline_, conn_,
                                               cancelled_);
        if (!c.conn) {
          fail(c.failure, std::move(c.message));
          co_return;
        }
        conn = std::move(c.conn);
      }
      conn_ = conn.get();
      const Step step = conn->tls ? co_await exchangeOn(*conn->tls, *conn, reused)
                                  : co_await exchangeOn(*conn->plain, *conn, reused);
      conn_ = nullptr;
      deadline_.clear();
      if (step == Step::kRetryStale) continue;
      if (step == Step::kKeep) {
        pool.give(call_.pool_key, origin().key, std::move(conn), options_.max_idle_per_origin);
      }
      co_return;
    }
  }

 private:
  // The request head, into the connection's buffer.
  void buildHead(std::string& head) const {
    const std::string& body = call_.body ? *call_.body : kEmpty;
    head.clear();
    head.reserve(96 + call_.method.size() + call_.target.size() + origin().host_header.size() +
                 call_.header_lines.size());
    head.append(call_.method).append(1, ' ').append(call_.target).append(" HTTP/1.1\r\nHost: "sv);
    head.append(origin().host_header).append("\r\n"sv);
    head.append(call_.header_lines);
    if (!body.empty() || call_.method == "POST" || call_.method == "PUT" ||
        call_.method == "PATCH") {
      char digits[24];
      head.append("Content-Length: "sv)
          .append(digits, std::to_chars(digits, digits + sizeof digits, body.size()).ptr)
          .append("\r\n"sv);
    }
    head.append("\r\n"sv);
  }

  // The error an operation cut short by the sweeper or by cancel() reports.
  boost::system::error_code interrupted(boost::system::error_code ec) const {
    return upstream::interrupted(ec, deadline_, cancelled_);
  }

  std::array<asio::const_buffer, 2> requestBuffers(const Conn& conn) const {
    const std::string& body = call_.body ? *call_.body : kEmpty;
    return {asio::buffer(conn.head), asio::buffer(body)};
  }

  // What nginx retries on another connection by default (proxy_next_upstream): a request
  // the upstream may have run once already is sent again only if running it twice is safe.
  bool idempotent() const {
    const std::string_view m = call_.method;
    return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" ||
           m == "DELETE";
  }

  // Feeds what conn.buffer holds to the parser until `done()`: {} when done, need_more
  // when it wants more bytes, or the parse error.
  template <class Done>
  static boost::system::error_code parseBuffered(ResponseParser& p, ReadBuffer& buf, Done done) {
    for (;;) {
      if (done()) return {};
      if (buf.size() == 0) return bhttp::error::need_more;
      boost::system::error_code ec;
      const size_t used = p.put(buf.data(), ec);
      buf.consume(used);
      if (ec) return ec;
      if (used == 0) return bhttp::error::need_more;
    }
  }

  // Reads more of the answer into conn.buffer: `co_await readSome(...)`, then afterRead()
  // (not a coroutine of its own: no frame for the read every answer needs). That first read
  // of an answer waits for the socket to become readable; a read that continues one,
  // readMore(), tries the socket first, so an end that came with the last bytes is seen at
  // once (http/draining_read.h).
  template <class Stream>
  static auto readSome(Stream& stream, Conn& conn, size_t size) {
    return stream.async_read_some(http::draining(conn.buffer.prepare(size)), kNoThrow);
  }
  template <class Stream>
  static Awaitable<ReadResult> readMore(Stream& stream, Conn& conn, size_t size) {
    return http::readMore(stream, conn.buffer.prepare(size));
  }

  // An EOF that ends an EOF-delimited body (or TLS without close_notify there) is handed to
  // the parser: {} then, and the parser is done.
  boost::system::error_code afterRead(Conn& conn, ResponseParser& p, ReadResult read) {
    const auto [ec0, n] = read;
    conn.buffer.commit(n);
    auto ec = interrupted(ec0);
    if ((ec == asio::error::eof || ec == ssl::error::stream_truncated) && p.is_header_done() &&
        p.need_eof()) {
      boost::system::error_code eof_ec;
      p.put_eof(eof_ec);
      return eof_ec;
    }
    if (ec == asio::error::eof) ec = bhttp::error::end_of_stream;
    return ec;
  }

  template <class Stream>
  Awaitable<Step> exchangeOn(Stream& stream, Conn& conn, bool reused) {
    const auto& limits = call_.limits;
    deadline_.set(conn.lowest(), limits.first_byte_timeout);
    // The request, straight from this thread when the socket takes it (nearly always: no
    // trip through the scheduler, no coroutine frame), else the rest under the deadline.
    boost::system::error_code wec;
    size_t written = 0;
    buildHead(conn.head);
    const auto request = requestBuffers(conn);
    if (http::writeNow(stream, request, written, wec) == http::WriteState::kPending) {
      wec = interrupted(co_await http::writeRest(stream, deadline_, request, written));
    }
    if (auto ec = wec) {
      // A pooled connection the upstream had closed: sent again on a fresh one if none of
      // the request went out, or if it may run twice.
      const bool stale = reused && !cancelled_ && isStaleConnectionError(ec);
      if (stale && (written == 0 || idempotent())) co_return Step::kRetryStale;
      fail(cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec),
           "sending the request failed: " + ec.message() +
               (stale ? "; not sent again (" + call_.method + " is not idempotent)" : ""));
      co_return Step::kClose;
    }
    const bool head_request = call_.method == "HEAD";
    std::optional<ResponseParser> parser;
    bool first = true;
    int interim = 0;              // 1xx answers skipped
    bool awaiting_answer = true;  // nothing read since the request went out
    for (;;) {
      parser.emplace(head_request);
      parser->header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
      parser->body_limit(boost::none);
      if (head_request) parser->skip(true);
      boost::system::error_code ec;
      for (;;) {
        if (first && !head_request) {
          if (auto step = fastAnswer(conn)) co_return *step;
        }
        ec = parseBuffered(*parser, conn.buffer, [&] { return parser->is_header_done(); });
        if (ec != bhttp::error::need_more) break;
        const ReadResult got = awaiting_answer ? co_await readSome(stream, conn, 16 * 1024)
                                               : co_await readMore(stream, conn, 16 * 1024);
        awaiting_answer = false;
        ec = afterRead(conn, *parser, got);
        if (ec) break;
      }
      if (ec) {
        // A pooled connection closed without a byte of answer: the upstream may have read
        // (and run) the request before closing, so only an idempotent one is sent again.
        const bool stale =
            first && reused && !cancelled_ && conn.buffer.size() == 0 && isStaleConnectionError(ec);
        if (stale && idempotent()) co_return Step::kRetryStale;
        const auto failure = cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec);
        fail(failure,
             failure == UpstreamFailure::kTimeout
                 ? "no answer within " + std::to_string(limits.first_byte_timeout.count()) + " ms"
             : failure == UpstreamFailure::kTooLarge
                 ? "response headers exceed " + std::to_string(limits.max_header_bytes) + " bytes"
             : stale ? "the upstream closed a kept-alive connection without answering; not sent "
                       "again (" +
                           call_.method + " is not idempotent)"
                     : "reading the response failed: " + ec.message());
        co_return Step::kClose;
      }
      first = false;
      const int status = parser->status;
      if (status < 100 || status > 599) {  // Beast takes any three digits
        fail(UpstreamFailure::kProtocol, "malformed status " + std::to_string(status));
        co_return Step::kClose;
      }
      if (status == 101) {
        fail(UpstreamFailure::kProtocol, "unexpected 101 Switching Protocols");
        co_return Step::kClose;
      }
      if (status >= 200) break;
      // Interim (100 Continue, 102 Processing, 103 Early Hints): skipped, a bounded number.
      if (++interim > kMaxInterimAnswers) {
        fail(UpstreamFailure::kProtocol,
             "more than " + std::to_string(kMaxInterimAnswers) + " interim (1xx) answers");
        co_return Step::kClose;
      }
    }
    result_.head_latency = Clock::now() - started_;
    const int status = parser->status;
    result_.status = status;
    // A HEAD answer's Content-Length is the length a GET would have had: it goes to the
    // client past the filter (which drops framing headers).
    std::optional<std::string> head_length;
    if (head_request) {
      if (auto v = http::findHeader(parser->headers, kContentLength)) head_length.emplace(*v);
      http::removeHeader(parser->headers, kContentLength);
    }
    if (on_head_ && !on_head_(status, parser->headers)) {
      result_.outcome = ExchangeResult::Outcome::kRejected;
      complete();
      co_return Step::kClose;
    }
    if (head_length) parser->headers.push_back({std::string(kContentLength), *head_length});
    if (parser->is_done()) {
      deadline_.clear();
      const bool keep = parser->keep_alive();
      sendWhole(status, std::move(parser->headers), {});
      co_return keepable(keep, conn);
    }
    const auto length = parser->content_length();
    const bool whole = !parser->event_stream && (length ? *length <= limits.fast_path_max_bytes
                                                        : call_.buffer_unknown_length);
    if (!whole) co_return co_await relayStream(stream, conn, *parser);
    // A small answer has nearly always arrived with its head: no coroutine frame to read it.
    parser->body_limit(limits.max_buffered_body_bytes);
    const auto ec = parseBuffered(*parser, conn.buffer, [&] { return parser->is_done(); });
    if (ec == bhttp::error::need_more) co_return co_await readWhole(stream, conn, *parser);
    co_return wholeRead(ec, conn, *parser);
  }

  // The fast path of the usual answer, taken when its head is plain (http::scanResponseHead)
  // and it arrived whole: a final status with a body of known length, small enough to be
  // read whole, not an event stream. Relays it as readWhole() would and returns the step;
  // nullopt (nothing consumed) when Beast's parser must take the answer.
  std::optional<Step> fastAnswer(Conn& conn) {
    const auto& limits = call_.limits;
    const std::string_view bytes(static_cast<const char*>(conn.buffer.data().data()),
                                 conn.buffer.size());
    if (bytes.empty()) return std::nullopt;
    http::ScannedHead& head = t_scanned;
    if (http::scanResponseHead(bytes, limits.max_header_bytes, head) != http::ScanResult::kOk) {
      return std::nullopt;
    }
    const int status = head.status;
    if (status < 200 || status > 599 || status == 204 || status == 304 || !head.content_length ||
        *head.content_length > limits.fast_path_max_bytes ||
        bytes.size() - head.size < *head.content_length) {
      return std::nullopt;
    }
    http::Headers headers;
    headers.reserve(head.field_count);
    for (size_t i = 0; i < head.field_count; ++i) {
      const auto& f = head.fields[i];
      if (f.name.size() == kContentLength.size() && core::iequals(f.name, kContentLength)) {
        continue;  // the server frames the answer
      }
      if (f.name.size() == kContentType.size() && core::iequals(f.name, kContentType) &&
          isEventStream(f.value)) {
        return std::nullopt;  // streamed
      }
      headers.push_back({std::string(f.name), std::string(f.value)});
    }
    const size_t body_size = static_cast<size_t>(*head.content_length);
    std::string body(bytes.substr(head.size, body_size));
    const bool keep = head.keepAlive();
    conn.buffer.consume(head.size + body_size);
    result_.head_latency = Clock::now() - started_;
    result_.status = status;
    deadline_.clear();
    if (on_head_ && !on_head_(status, headers)) {
      result_.outcome = ExchangeResult::Outcome::kRejected;
      complete();
      return Step::kClose;
    }
    sendWhole(status, std::move(headers), std::move(body));
    return keepable(keep, conn);
  }

  // The rest of a body read whole (body limit set, what was buffered parsed).
  template <class Stream>
  Awaitable<Step> readWhole(Stream& stream, Conn& conn, ResponseParser& parser) {
    const auto& limits = call_.limits;
    boost::system::error_code ec;
    for (;;) {
      ec = parseBuffered(parser, conn.buffer, [&] { return parser.is_done(); });
      if (ec != bhttp::error::need_more) break;
      if ((ec = framingBound(conn))) break;
      // A body read whole is part of the answer the client waits for: the connection's
      // answer deadline bounds each read.
      deadline_.set(conn.lowest(), limits.first_byte_timeout);
      ec = afterRead(conn, parser, co_await readMore(stream, conn, 64 * 1024));
      if (ec) break;
    }
    co_return wholeRead(ec, conn, parser);
  }

  Step wholeRead(boost::system::error_code ec, Conn& conn, ResponseParser& parser) {
    const auto& limits = call_.limits;
    if (ec) {
      const auto failure = cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec);
      fail(failure,
           ec == bhttp::error::buffer_overflow ? framingMessage()
           : failure == UpstreamFailure::kTooLarge
               ? "the answer exceeds " + std::to_string(limits.max_buffered_body_bytes) + " bytes"
           : failure == UpstreamFailure::kTimeout
               ? "the answer stalled for " + std::to_string(limits.first_byte_timeout.count()) +
                     " ms"
               : "reading the answer failed: " + ec.message());
      return Step::kClose;
    }
    deadline_.clear();
    const bool keep = parser.keep_alive();
    sendWhole(parser.status, std::move(parser.headers), std::move(parser.body));
    return keepable(keep, conn);
  }

  template <class Stream>
  Awaitable<Step> relayStream(Stream& stream, Conn& conn, ResponseParser& parser) {
    const auto& limits = call_.limits;
    parser.body_limit(boost::none);
    responder_->onClientGone(nullptr);  // the stream's own onClose takes over
    std::shared_ptr<http::StreamWriter> writer = responder_->startStream(
        parser.status, std::move(parser.headers), call_.fixed_response_header_lines);
    responder_.reset();
    result_.outcome = ExchangeResult::Outcome::kRelayed;
    result_.streamed = true;
    writer->onClose([weak = weak_from_this(), ex = ctx_.get_executor()] {
      asio::post(ex, [weak] {
        if (auto self = weak.lock()) self->cancel();
      });
    });
    drained_.emplace(ctx_, Clock::time_point::max());
    Step step = Step::kClose;
    bool broken = false;
    for (;;) {
      if (cancelled_ || client_gone_) {
        result_.failure = UpstreamFailure::kCancelled;
        result_.message = "the client went away";
        break;
      }
      boost::system::error_code ec =
          parseBuffered(parser, conn.buffer, [&] { return parser.is_done(); });
      if (ec == bhttp::error::need_more) ec = {};
      if (!parser.body.empty() && !cancelled_) {
        const size_t got = parser.body.size();
        inflight_ += got;
        writer->write(std::exchange(parser.body, {}),
                      [weak = weak_from_this(), ex = ctx_.get_executor(), got](bool ok) {
                        asio::post(ex, [weak, got, ok] {
                          if (auto self = weak.lock()) self->chunkWritten(got, ok);
                        });
                      });
      }
      if (!ec && parser.is_done()) {
        step = keepable(parser.keep_alive(), conn);
        break;
      }
      if (!ec) {
        while (inflight_ > kStreamHighWater && !client_gone_ && !cancelled_) {
          co_await drained_->async_wait(kNoThrow);
        }
        if (cancelled_ || client_gone_) continue;
        if (!(ec = framingBound(conn))) {
          deadline_.set(conn.lowest(), limits.idle_timeout);
          ec = afterRead(conn, parser, co_await readStreamed(stream, conn));
          if (!ec) continue;
          if (parser.is_done()) continue;  // an EOF that ended the body
        }
      }
      result_.failure = cancelled_ ? UpstreamFailure::kCancelled : failureOf(ec);
      result_.message =
          ec == bhttp::error::buffer_overflow ? framingMessage()
          : result_.failure == UpstreamFailure::kTimeout
              ? "the stream stalled for " + std::to_string(limits.idle_timeout.count()) + " ms"
              : "the stream ended early: " + ec.message();
      broken = result_.failure != UpstreamFailure::kCancelled;
      break;
    }
    deadline_.clear();
    // A stream the upstream broke off must not look complete to the client.
    if (broken) {
      writer->abort();
    } else {
      writer->finish();
    }
    complete();
    co_return step;
  }

  // The next piece of a streamed body: what the socket holds now, up to stream_read_;
  // else a wait with a small buffer (the rest of the answer may be hours away).
  template <class Stream>
  Awaitable<ReadResult> readStreamed(Stream& stream, Conn& conn) {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      co_return co_await readMore(stream, conn, kTlsStreamChunkBytes);
    } else {
      ReadResult got;
      if (!http::readNow(stream, conn.buffer.prepare(stream_read_), got)) {
        releaseIdleBuffer(conn.buffer, kStreamIdleReadBytes);
        got = co_await readSome(stream, conn, kStreamIdleReadBytes);
      }
      // The next read asks for 4x what this one got (kStreamIdleReadBytes..kStreamChunkBytes):
      // a burst is soon read 64 KiB at a time, a trickle of events never grows the buffer.
      stream_read_ = std::clamp(4 * std::get<1>(got), kStreamIdleReadBytes, kStreamChunkBytes);
      co_return got;
    }
  }

  // Once the parser took all it could of conn.buffer, what is left is framing it waits to see
  // whole: a chunk line (extensions included) or the trailer section; the head before it is
  // bounded by Beast's header limit, and bodies are consumed as they come. This is the one
  // bound on that rest, checked before each body read: buffer_overflow when reached (the
  // exchange then fails kTooLarge and the connection is closed).
  boost::system::error_code framingBound(const Conn& conn) const {
    if (conn.buffer.size() < call_.limits.max_header_bytes) return {};
    return bhttp::error::buffer_overflow;
  }
  std::string framingMessage() const {
    return "a chunk line or the trailers exceed " + std::to_string(call_.limits.max_header_bytes) +
           " bytes";
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
    r.fixed_header_lines = call_.fixed_response_header_lines;
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
      responder_->onClientGone(nullptr);  // handed back: no longer ours to cancel
      result_.responder = std::move(responder_);
      responder_.reset();
    }
    done(std::move(result_));
  }

  static inline const std::string kEmpty;
  // Scratch for fastAnswer() (its field views live only during the call).
  static inline thread_local http::ScannedHead t_scanned;

  asio::io_context& ctx_;
  const UpstreamClientOptions options_;
  UpstreamCall call_;
  std::optional<http::Responder> responder_;
  HeadFilter on_head_;
  ExchangeDone done_;
  ExchangeResult result_;
  Deadline deadline_;
  std::optional<asio::steady_timer> drained_;  // streams only: wakes the relay when written
  Conn* conn_ = nullptr;
  Clock::time_point started_{};
  size_t inflight_ = 0;
  size_t stream_read_ = kStreamChunkBytes;  // readStreamed()'s next read, plain sockets
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
    auto run = ex->run();
    asio::co_spawn(ctx, std::move(run), [keep = std::move(ex)](std::exception_ptr e) {
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

bool appendHeaderLine(std::string& lines, std::string_view name, std::string_view value) {
  if (!http::validHeaderName(name) || !http::validHeaderValue(value)) return false;
  http::appendFieldLine(lines, name, value);
  return true;
}

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
  return openConnectionCount().load(std::memory_order_relaxed);
}

std::unique_ptr<UpstreamClient> makeUpstreamClient(UpstreamClientOptions options) {
  return std::make_unique<AsioUpstreamClient>(std::move(options));
}

}  // namespace tether::gateway
