#pragma once
/// Responding: the stream a handler may start (StreamImpl; the answer it completes,
/// Responder::Slot, is in responder_slot.h), and the serialization and writing of response heads
/// and bodies. Every response head the server writes is built here (responseBuffers, writeStream):
/// the one place for a header on every response.
///
/// Internal to the server (brings Asio and Beast in): include only from src/http
/// implementation files. Slots and streams are completed from any thread; the rest runs on
/// the connection's I/O thread.

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "http/message.h"
#include "http/responder_slot.h"
#include "http/socket_io.h"

namespace tether::http {

struct SessionState;

/// A final status a client can read: 200..599 (a 1xx is interim, outside 100..599 is not
/// HTTP). Anything else, from a handler or relayed from an upstream, becomes a 500.
inline bool validFinalStatus(int status) { return status >= 200 && status <= 599; }

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

/// A status outside validFinalStatus() becomes a 500 (logged with the route and request id).
void refuseInvalidStatus(Response& r, const Request& req);

/// Serializes the head of `r` into `out`: the head and the body to write. The server owns
/// framing (Content-Length, Connection, Transfer-Encoding) and X-Request-Id; a handler's
/// header with CR or LF is dropped. `head`: the answer to a HEAD request.
std::array<asio::const_buffer, 2> responseBuffers(std::string& out, Response& r,
                                                  std::string_view request_id, bool keep_alive,
                                                  unsigned version, bool head);

// The writers below take a tcp::socket or a TlsStream (instantiated for both in
// responding.cc).

/// Writes a complete response. Returns false when the connection must close.
template <class Stream>
asio::awaitable<bool, Strand> writeResponse(Stream& stream, SessionState& state, Response& r,
                                            std::string_view request_id, bool keep_alive,
                                            unsigned version, bool head);

/// The hot path's writeResponse(): a coroutine frame only when the socket did not take the
/// whole answer at once (writeNow()).
template <class Stream>
asio::awaitable<bool, Strand> writeResponseSlow(Stream& stream, SessionState& state,
                                                const std::array<asio::const_buffer, 2>& buffers,
                                                size_t written, bool keep_alive);

/// How a streamed answer ended: the status sent (500 for a stream started with an invalid
/// status) and whether the connection can carry the client's next request.
struct StreamEnd {
  int status = 0;
  bool keep_alive = false;
};

/// Streams a chunked response until the producer finishes or the client leaves. While it
/// streams, the session's read-ahead watches the client (readAhead(): an end closes the
/// stream, bytes are the client's next request, kept in the session's buffer). A stream that
/// ended with its last chunk keeps the connection when `keep_alive` (the request's) allows.
template <class Stream>
asio::awaitable<StreamEnd, Strand> writeStream(Stream& stream,
                                               const std::shared_ptr<SessionState>& session,
                                               Responder::Slot& slot, const Request& req,
                                               unsigned version, bool keep_alive);

}  // namespace tether::http
