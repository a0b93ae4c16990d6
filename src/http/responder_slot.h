#pragma once
/// Responder::Slot: the answer a handler completes (a response, a stream, an abort), once,
/// from any thread; the session awaits it on its strand.
///
/// Internal to the server (brings Asio in through socket_io.h): include only from src/http
/// implementation files (responding.h includes it).

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "http/message.h"
#include "http/socket_io.h"

namespace tether::http {

class StreamImpl;

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

}  // namespace tether::http
