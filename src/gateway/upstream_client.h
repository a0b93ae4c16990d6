#pragma once
/// The data plane's outbound HTTP/1.1 client: asynchronous, on the io_context that serves
/// the inbound request (so one proxied call stays on one thread), with keep-alive
/// connections pooled per thread, per Tether connection (`UpstreamCall::pool_key`, and so per
/// credential) and per upstream origin. It relays the upstream's answer
/// straight into the inbound request's `http::Responder`:
///   - a small answer with a Content-Length (up to `fast_path_max_bytes`), or a non-SSE
///     answer without one when the call asks for buffering (MCP POST), is read whole
///     (at most `max_buffered_body_bytes`) and sent as one Response;
///   - anything else (SSE, large or unknown-length bodies) is streamed chunk by chunk
///     through `Responder::startStream` as it arrives, with back-pressure from the client;
///     if the client goes away the upstream connection is closed.
/// Deadlines: connect (TCP + TLS), first byte (request written and response head read),
/// idle (between body reads). TLS always verifies the peer (system roots plus an optional
/// CA bundle) and checks the host name or IP address; SNI is sent for host names.
/// Pooled connections: one is kept only after an answer that ended exactly where the bytes
/// read ended, and reused only if nothing arrived on it since (no byte, no close; for TLS
/// nothing buffered in OpenSSL either): an upstream's extra bytes never become the answer
/// to a later call. That check is one non-blocking recv() per reuse. A request on a pooled
/// connection that the upstream closed without answering is sent again on a fresh one only
/// if none of it was written or its method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT,
/// DELETE, as nginx retries); otherwise the exchange fails (kClosed): a POST the upstream
/// may have run is never run twice.
///
/// Boost.Asio/Beast stay behind this header (io_contexts are passed type-erased as
/// `void*`, as http::Request::io_context carries them).
/// Thread-safety: `exchange` must be called on the thread running `io_context`; `post` may
/// be called from any thread. Callbacks run on the io_context's thread.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/upstream_url.h"
#include "http/headers.h"
#include "http/message.h"

namespace tether::gateway {

/// Bounds of one exchange.
struct UpstreamLimits {
  std::chrono::milliseconds connect_timeout{5'000};      // TCP connect + TLS handshake
  std::chrono::milliseconds first_byte_timeout{60'000};  // request written + response head
  std::chrono::milliseconds idle_timeout{300'000};       // between reads of the body
  /// The response head; also each chunk line (extensions included) and the trailer section,
  /// the other framing buffered whole. Past it the exchange fails kTooLarge.
  size_t max_header_bytes = 64 * 1024;
  size_t max_buffered_body_bytes = 16 * 1024 * 1024;  // bodies read whole
  size_t fast_path_max_bytes = 256 * 1024;            // Content-Length bodies read whole
};

/// Appends the header line `name: value` CRLF to `lines`. False, and nothing appended, when
/// the name is not a token or the value holds CR, LF or NUL (it could split the request).
bool appendHeaderLine(std::string& lines, std::string_view name, std::string_view value);

/// One request to send.
struct UpstreamCall {
  std::shared_ptr<const UpstreamEndpoint> endpoint;  // origin
  /// Which pooled connections this call may reuse besides the origin: the Tether connection
  /// (and so the credential) it is made for, e.g. "mcp/github". Calls of two Tether
  /// connections never share an upstream socket, even to one origin.
  std::string pool_key;
  std::string method;
  std::string target;  // origin-form: /path?query
  /// The header lines to send, serialized once by appendHeaderLine() (no copies of each
  /// header): final, filtered client headers plus credentials; no Host or framing.
  std::string header_lines;
  /// A header could not be appended (appendHeaderLine() refused it): the exchange fails
  /// (kProtocol) without sending anything.
  bool invalid_header = false;
  /// Header lines every relayed answer carries after the upstream's (static storage; see
  /// http::Response::fixed_header_lines).
  std::string_view fixed_response_header_lines;
  std::shared_ptr<const std::string> body;  // may be null; kept for a replay
  /// Read non-SSE answers without a Content-Length whole (bounded) instead of streaming
  /// them (an MCP POST's JSON answer).
  bool buffer_unknown_length = false;
  UpstreamLimits limits;
};

/// Why an exchange produced no (complete) answer.
enum class UpstreamFailure {
  kNone,
  kConnect,    // DNS, refused, unreachable
  kTls,        // handshake or certificate verification failed
  kTimeout,    // a deadline passed
  kClosed,     // the upstream closed or reset the connection early
  kProtocol,   // malformed HTTP from the upstream
  kTooLarge,   // response head or buffered body over its limit
  kCancelled,  // the client went away
};

const char* upstreamFailureName(UpstreamFailure failure);

struct ExchangeResult {
  enum class Outcome {
    kRelayed,   // the answer went to the client (streamed ones may have been cut short)
    kRejected,  // the head filter refused the answer: nothing sent, responder handed back
    kFailed,    // no answer could be relayed: nothing sent, responder handed back
  };
  Outcome outcome = Outcome::kFailed;
  int status = 0;                                    // the upstream's status (kRelayed, kRejected)
  bool streamed = false;                             // relayed through startStream
  UpstreamFailure failure = UpstreamFailure::kNone;  // kFailed; or a relayed stream cut short
  std::string message;  // failure detail for operators; never holds request secrets
  std::optional<http::Responder> responder;  // kRejected and kFailed
  std::chrono::nanoseconds head_latency{0};  // call start to response head
};

/// Sees the response head before anything reaches the client. Returns false to refuse the
/// answer (the exchange then ends kRejected and the connection is closed); may edit
/// `headers` (what the client will get; Content-Length/Transfer-Encoding are the server's).
using HeadFilter = std::function<bool(int status, http::Headers& headers)>;
using ExchangeDone = std::function<void(ExchangeResult result)>;

struct UpstreamClientOptions {
  /// Idle keep-alive connections kept per thread, Tether connection and origin.
  size_t max_idle_per_origin = 64;
  /// An idle pooled connection older than this is closed instead of reused.
  std::chrono::milliseconds pool_idle_timeout{30'000};
};

class UpstreamClient {
 public:
  virtual ~UpstreamClient() = default;

  /// Sends `call` on `io_context` (a boost::asio::io_context*, the calling thread's) and
  /// relays the answer to `responder` unless `on_head` refuses it. `done` runs exactly once,
  /// on that thread, after the answer was relayed (or handed back).
  virtual void exchange(void* io_context, UpstreamCall call, http::Responder responder,
                        HeadFilter on_head, ExchangeDone done) = 0;

  /// Runs `fn` on the thread of `io_context` (from any thread): token callbacks that arrive
  /// on a worker thread come back to the request's thread this way.
  virtual void post(void* io_context, std::function<void()> fn) = 0;

  /// Connections currently open by this process's upstream clients (pooled and in use), for
  /// leak tests.
  static size_t openConnections();
};

std::unique_ptr<UpstreamClient> makeUpstreamClient(UpstreamClientOptions options = {});

}  // namespace tether::gateway
