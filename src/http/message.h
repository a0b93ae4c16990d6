#pragma once
/// What a server handler sees and answers. Plain data; no Beast types.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/headers.h"

namespace tether::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. /a/b?x=1
  std::string path;    // target without the query, not decoded
  std::string query;   // after '?', not decoded
  /// As received. The server's parsers guarantee what a header line needs: names are tokens,
  /// values hold no CR, LF or NUL (so they can be relayed without checking them again).
  Headers headers;
  std::string body;
  std::string request_id;                     // X-Request-Id accepted (if sane) or generated
  std::string remote_address;                 // peer ip
  std::map<std::string, std::string> params;  // path parameters from the route pattern
  std::string route;                          // the matched route pattern (metrics label)
  /// The client's `traceparent` header when it is valid W3C Trace Context (version 00, one
  /// header), else empty: a view into `headers` (http/trace_context.h).
  std::string_view traceparent;
  /// For the access log, set by the handler that knows them, during its call on the I/O
  /// thread: views into storage that outlives every request (the gateway's connection table,
  /// the configured client keys). `connection`: "kind/name"; `subject`: the id of the client
  /// key that authenticated the request.
  std::string_view connection;
  std::string_view subject;
  /// The boost::asio::io_context running this request's connection (type-erased so this
  /// header stays free of Asio). Proxy code may run its upstream I/O on it to stay on the
  /// same thread. Valid while the request is being handled.
  void* io_context = nullptr;

  std::optional<std::string_view> header(std::string_view name) const {
    return findHeader(headers, name);
  }
  /// Decoded query parameter.
  std::optional<std::string> queryParam(std::string_view name) const;
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  /// Header lines sent verbatim after `headers`, unchecked: text with static storage
  /// duration whose every line is a valid field ending in CRLF (the gateway's relay policy,
  /// the same two lines on every relayed answer, so nothing is allocated or checked per
  /// answer). Empty for most answers.
  std::string_view fixed_header_lines;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
  static Response html(int status, std::string body);
  /// JSON error body through the one error table (status from the table).
  static Response error(const core::Error& error);
  static Response redirect(std::string location, int status = 302);
};

/// A chunked response in progress (SSE, streamed proxies). Thread-safe: may be driven from
/// any thread. Writes are queued in order; `done(ok)` fires once the chunk left our buffer
/// (ok=false: the client is gone, stop producing).
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual void write(std::string chunk, std::function<void(bool ok)> done = {}) = 0;
  /// Ends the response (terminating chunk). Idempotent.
  virtual void finish() = 0;
  /// Ends the response without its terminating chunk and closes the connection, so the
  /// client sees a truncated message rather than a complete one (a relayed upstream
  /// stream that broke off). Idempotent; no effect after finish().
  virtual void abort() = 0;
  /// True once the client disconnected or the stream was finished.
  virtual bool closed() const = 0;
  /// Called once when the client goes away before finish() (upstream must be closed).
  virtual void onClose(std::function<void()> fn) = 0;
};

/// Completes one request, exactly once, from any thread: either `send` a whole response,
/// `startStream` for a chunked one, or `abort` to drop the connection without answering.
/// A Responder dropped without completing answers 500 (a bug, logged).
/// Called on the request's own I/O thread (outside a handler call), `send` may write the
/// response before it returns: callers must not hold locks that another handler takes.
class Responder {
 public:
  class Slot;
  explicit Responder(std::shared_ptr<Slot> slot) : slot_(std::move(slot)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&&) noexcept = default;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void send(Response response);
  /// `fixed_header_lines`: as Response::fixed_header_lines.
  std::shared_ptr<StreamWriter> startStream(int status, Headers headers,
                                            std::string_view fixed_header_lines = {});
  void abort();
  /// Registers `fn`, run once on the request's I/O thread if the client disconnects before
  /// the answer was handed over (it would be discarded: upstream work can stop). Runs at
  /// once when the client is already gone; never once the request was completed. One
  /// callback: a later call replaces it, an empty `fn` removes it. Watched only while the
  /// server waits for a handler that did not answer synchronously.
  void onClientGone(std::function<void()> fn);

 private:
  std::shared_ptr<Slot> slot_;
};

/// A route handler. Must not block: blocking work (store, curl) goes to a worker pool and
/// the Responder is completed from there.
using Handler = std::function<void(Request& request, Responder responder)>;

}  // namespace tether::http
