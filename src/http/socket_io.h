#pragma once
/// Socket I/O shared by the HTTP server and the upstream client: the executor and waiting
/// conventions of the coroutines, reads and writes that try the non-blocking socket first,
/// and (http/deadline_sweeper.h) the coarse deadlines one sweeper per I/O thread enforces.
///
/// Internal: this header brings Asio and Beast in. Include it only from implementation
/// files of src/http and of the gateway's upstream client, never from a header other modules
/// include. Everything here runs on one I/O thread (the socket's) unless said otherwise.

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>

#include "http/deadline_sweeper.h"
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

// ---- reads and writes -----------------------------------------------------------------------

/// A read that continues a message (more of a request or an answer, of a body, of a stream)
/// or waits for the peer to go: a plain socket is tried first, so an end that came with the
/// last bytes is seen at once (http/draining_read.h); otherwise, and for TLS, one draining
/// read.
template <class Stream>
asio::awaitable<std::tuple<boost::system::error_code, size_t>, Strand> readMore(
    Stream& stream, asio::mutable_buffer space) {
  std::tuple<boost::system::error_code, size_t> got;
  if (!readNow(stream, space, got))
    got = co_await stream.async_read_some(draining(space), kNoThrow);
  co_return got;
}

enum class WriteState { kDone, kFailed, kPending };

/// Writes what a plain socket takes at once (the socket is non-blocking): an answer or a
/// request that fits the socket buffer then needs no trip through the scheduler and no
/// coroutine frame. kDone: all of it went out; kFailed: `ec` says why; kPending: `written`
/// bytes went out and writeRest() must send the rest. A TLS stream writes nothing here
/// (kPending, 0): a TLS write that would block cannot be taken back.
template <class Stream, class Buffers>
WriteState writeNow(Stream& stream, const Buffers& buffers, size_t& written,
                    boost::system::error_code& ec) {
  written = 0;
  ec = {};
  if constexpr (std::is_same_v<Stream, tcp::socket>) {
    written = stream.write_some(buffers, ec);
    if (!ec && written == asio::buffer_size(buffers)) return WriteState::kDone;
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      return WriteState::kFailed;
    }
    if (ec) written = 0;
    ec = {};
  }
  return WriteState::kPending;
}

/// The rest of `buffers` after writeNow() (its first `written` bytes went out), asynchronously
/// under `deadline`: armed `timeout` from now for the write and disarmed after it, or, with
/// kUnderArmedDeadline, the deadline the caller armed (it stays armed). `written` grows by
/// what went out (TLS: whole records). The write's error: operation_aborted when the
/// deadline's sweeper or a cancel cut it short (Deadline::fired tells which).
inline constexpr std::chrono::milliseconds kUnderArmedDeadline{0};
template <class Stream, class Buffers>
asio::awaitable<boost::system::error_code, Strand> writeRest(
    Stream& stream, Deadline& deadline, const Buffers& buffers, size_t& written,
    std::chrono::milliseconds timeout = kUnderArmedDeadline) {
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(written);
  if (timeout != kUnderArmedDeadline) deadline.expiresIn(timeout);
  auto [ec, n] = co_await asio::async_write(stream, rest, kNoThrow);
  if (timeout != kUnderArmedDeadline) deadline.disarm();
  written += n;
  co_return ec;
}

/// Writes `buffers` whole: on a plain socket first straight from this thread, the rest (TLS:
/// all of it) asynchronously under `deadline`, armed `timeout` from now. False when the peer
/// is gone.
template <class Stream, class Buffers>
asio::awaitable<bool, Strand> writeAll(Stream& sock, Deadline& deadline,
                                       std::chrono::milliseconds timeout, const Buffers& buffers) {
  size_t written = 0;
  boost::system::error_code ec;
  switch (writeNow(sock, buffers, written, ec)) {
    case WriteState::kDone:
      co_return true;
    case WriteState::kFailed:
      co_return false;
    case WriteState::kPending:
      break;
  }
  co_return !co_await writeRest(sock, deadline, buffers, written, timeout);
}

}  // namespace tether::http
