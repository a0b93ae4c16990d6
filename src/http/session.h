#pragma once
/// The state of one client connection of the HTTP server and the read posted while a
/// handler works (readAhead). Internal to the server: include only from src/http
/// implementation files.

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "http/head_scanner.h"
#include "http/responding.h"
#include "http/socket_io.h"

namespace boost::asio::ssl {
class context;
}

namespace tether::http {

/// One client connection's state, shared by the session coroutine, the read posted while a
/// handler works, and its I/O thread's deadline sweeper (`deadline`). Touched only on the
/// connection's I/O thread, except `busy`.
struct SessionState {
  SessionState(Strand s, asio::io_context& ctx, size_t index, size_t max_buffered,
               std::chrono::milliseconds write_timeout_)
      : write_timeout(write_timeout_),
        strand(std::move(s)),
        context(ctx),
        context_index(index),
        buffer(max_buffered) {
    deadline.action = Deadline::Action::kClose;
  }
  // The connection's deadline: its socket (null once closed by the session) is closed when
  // it passes. Armed for the idle wait, the request read, and each write that blocks.
  Deadline deadline;
  const std::chrono::milliseconds write_timeout;  // the deadline of a write that blocks
  Strand strand;
  asio::io_context& context;
  size_t context_index;
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
  // The stream being written (writeStream), if any: the read-ahead closes it when the
  // client goes away.
  std::shared_ptr<StreamImpl> streaming;
  // TLS: the credentials' context this connection was accepted with (kept while it lasts).
  std::shared_ptr<asio::ssl::context> tls_context;
};
using SessionPtr = std::shared_ptr<SessionState>;

/// While a handler works on an answer, the next read is already posted: a client that
/// disconnects is noticed at once (EOF) and the handler told, so it can stop upstream work;
/// otherwise the read brings the next request, which the session picks up (no extra system
/// call either way). The buffer lives in the session state, which the read keeps alive.
/// The slot told is the session's current one (and the stream being written, if any): the
/// session waits for this read before it starts the next request.
/// The size of a read that waits for a client's next request (or its end).
inline constexpr size_t kWaitingReadBytes = 4096;

/// Before a read that may wait long (an idle keep-alive connection, the watch of a stream held
/// open for hours): frees what a large request (a body read through the buffer, up to the
/// header limit and a read more) left allocated, when the buffer holds nothing.
inline void releaseIdleBuffer(beast::flat_buffer& buffer) {
  if (buffer.size() == 0 && buffer.capacity() > kWaitingReadBytes) buffer.shrink_to_fit();
}

template <class Stream>
void readAhead(const SessionPtr& state, Stream& sock) {
  state->read_ahead_pending = true;
  releaseIdleBuffer(state->buffer);
  sock.async_read_some(draining(state->buffer.prepare(kWaitingReadBytes)),
                       [state](boost::system::error_code ec, size_t n) {
                         state->read_ahead_pending = false;
                         if (ec) {
                           state->read_ahead_error = ec;
                           state->slot->clientGone();  // no effect once answered
                           if (state->streaming) state->streaming->markClosed();
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

/// Session side: waits for the read posted by readAhead().
template <class Token>
auto awaitReadAhead(SessionState& s, Token&& token) {
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

}  // namespace tether::http
