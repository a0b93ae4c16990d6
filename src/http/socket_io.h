#pragma once
/// Socket I/O shared by the HTTP server's parts (and open to the upstream client): the
/// executor and waiting conventions of the coroutines, reads and writes that try the
/// non-blocking socket first, and coarse deadlines swept by one timer per I/O thread.
///
/// Internal: this header brings Asio and Beast in. Include it only from implementation
/// files of src/http (and the upstream client), never from a header other modules include.
/// Everything here runs on one I/O thread (the socket's) unless said otherwise.

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <tuple>

#include "http/draining_read.h"

namespace tether::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

/// Each I/O thread runs its own io_context; a connection lives on one of them, so its
/// handlers never run concurrently and need no strand.
using Strand = asio::io_context::executor_type;

/// Completion token for coroutines on a Strand that take errors as values.
inline const auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<Strand>{});

/// The handler of `co_await x.asyncWait(asio::use_awaitable_t<Strand>{})`: resumes a session
/// coroutine. Held by value (no allocation) and resumed at most once.
using WaitHandler = asio::async_result<asio::use_awaitable_t<Strand>, void()>::handler_type;

/// Moves a waiting handler from `from` to (empty) `to`: the handler is not move-assignable.
inline void moveWaiter(std::optional<WaitHandler>& to, std::optional<WaitHandler>& from) {
  if (!from) return;
  to.emplace(std::move(*from));
  from.reset();
}

/// Session coroutines resumed inline on this thread and not yet suspended again (see
/// resume()).
inline thread_local int t_inline_depth = 0;

/// Resumes a waiting session: inline when called on its own I/O thread from outside any
/// session (a proxy exchange answering on the request's thread: no trip through the
/// scheduler, no extra epoll_wait), else posted. Must be called without locks held; any
/// thread.
inline void resume(std::optional<WaitHandler>& waiter, const Strand& strand) {
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

// ---- deadlines ----------------------------------------------------------------------------

using SteadyTime = std::chrono::steady_clock::time_point;
inline constexpr SteadyTime kNever = SteadyTime::max();

/// A socket under a coarse deadline: a DeadlineSweeper on its I/O thread closes it once the
/// deadline passed (cheaper than a timer armed per read and write: no timer-queue work and
/// no timerfd system calls per request).
struct WatchedSocket {
  tcp::socket* socket = nullptr;  // null once closed by its owner
  SteadyTime deadline = kNever;
  std::chrono::milliseconds write_timeout{30'000};  // the deadline of writeRest()
  std::list<WatchedSocket*>::iterator in_sweeper;

  void setDeadline(std::chrono::milliseconds in) {
    deadline = std::chrono::steady_clock::now() + in;
  }
};

/// The sockets of one I/O thread under deadlines, and the loop that closes the late ones.
/// Touched only on that thread.
class DeadlineSweeper {
 public:
  void add(WatchedSocket& w) { w.in_sweeper = watched_.insert(watched_.end(), &w); }
  void remove(WatchedSocket& w) { watched_.erase(w.in_sweeper); }

  /// Every `interval` (until the context stops), closes the sockets whose deadline passed.
  asio::awaitable<void, Strand> run(asio::io_context& context, std::chrono::milliseconds interval) {
    asio::steady_timer timer(context);
    for (;;) {
      timer.expires_after(interval);
      auto [ec] = co_await timer.async_wait(kNoThrow);
      if (ec) co_return;
      const auto now = std::chrono::steady_clock::now();
      for (WatchedSocket* w : watched_) {
        if (w->socket && w->deadline < now) {
          boost::system::error_code ignored;
          w->socket->shutdown(tcp::socket::shutdown_both, ignored);
          w->socket->close(ignored);
        }
      }
    }
  }

 private:
  std::list<WatchedSocket*> watched_;
};

// ---- reads and writes -----------------------------------------------------------------------

/// A read that continues a message (more of a request) or waits for the peer to go: the
/// socket is tried first, so an end that came with the last bytes is seen at once
/// (http/draining_read.h).
inline asio::awaitable<std::tuple<boost::system::error_code, size_t>, Strand> readMore(
    tcp::socket& sock, asio::mutable_buffer space) {
  std::tuple<boost::system::error_code, size_t> got;
  if (!readNow(sock, space, got)) got = co_await sock.async_read_some(draining(space), kNoThrow);
  co_return got;
}

enum class WriteState { kDone, kFailed, kPending };

/// Writes what the socket takes at once (the socket is non-blocking): an answer that fits
/// the socket buffer then needs no trip through the scheduler and no coroutine frame.
/// kPending: `written` bytes went out, writeRest() must send the rest.
template <class Buffers>
WriteState writeNow(tcp::socket& sock, const Buffers& buffers, size_t& written) {
  boost::system::error_code ec;
  written = sock.write_some(buffers, ec);
  if (!ec && written == asio::buffer_size(buffers)) return WriteState::kDone;
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    return WriteState::kFailed;
  }
  if (ec) written = 0;
  return WriteState::kPending;
}

/// The rest of `buffers` after writeNow(), asynchronously under the write deadline. False
/// when the peer is gone.
template <class Buffers>
asio::awaitable<bool, Strand> writeRest(tcp::socket& sock, WatchedSocket& watched,
                                        const Buffers& buffers, size_t written) {
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(written);
  watched.setDeadline(watched.write_timeout);
  auto [wec, n] = co_await asio::async_write(sock, rest, kNoThrow);
  watched.deadline = kNever;
  co_return !wec;
}

/// Writes `buffers` whole: first straight from this thread, the rest asynchronously under
/// the write deadline. False when the peer is gone.
template <class Buffers>
asio::awaitable<bool, Strand> writeAll(tcp::socket& sock, WatchedSocket& watched,
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
  co_return co_await writeRest(sock, watched, buffers, written);
}

}  // namespace tether::http
