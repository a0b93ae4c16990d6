#pragma once
// Internal to the upstream client (the gateway's upstream_*.cc files; Asio and Beast types,
// so never included by a header other modules include): one upstream connection, the
// deadline of an exchange, and each I/O thread's pool of idle connections and TLS contexts.

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/deadline_sweeper.h"

namespace tether::gateway::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
template <class T>
using Awaitable = asio::awaitable<T, Executor>;
using Clock = std::chrono::steady_clock;

/// Completion token of every upstream operation: errors as values, never exceptions.
inline const auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<Executor>{});

/// Upstream connections open in this process (pooled and in use).
std::atomic<size_t>& openConnectionCount();

/// Bytes allocated for upstream connections' read buffers in this process (their capacity,
/// pooled and in use): what idle streams and pooled connections hold, for memory tests.
std::atomic<size_t>& readBufferBytes();

/// The allocator of Conn::buffer: std::allocator that keeps readBufferBytes() up to date.
template <class T>
struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <class U>
  CountingAllocator(const CountingAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    T* p = std::allocator<T>().allocate(n);
    readBufferBytes().fetch_add(n * sizeof(T), std::memory_order_relaxed);
    return p;
  }
  void deallocate(T* p, size_t n) noexcept {
    readBufferBytes().fetch_sub(n * sizeof(T), std::memory_order_relaxed);
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const CountingAllocator<U>&) const noexcept {
    return true;
  }
};

/// A connection's read buffer.
using ReadBuffer = beast::basic_flat_buffer<CountingAllocator<char>>;

/// Frees what `buffer` allocated beyond its content (a chunk's CRLF Beast's parser waits to
/// see with the next size line, say) when that is more than `keep` bytes: before a read that
/// may wait for long (an idle stream), so the burst before it does not stay allocated.
inline void releaseIdleBuffer(ReadBuffer& buffer, size_t keep) {
  if (buffer.capacity() > keep && buffer.size() <= keep / 2) buffer.shrink_to_fit();
}

/// The deadline of one exchange: enforced by its thread's sweeper, the one the HTTP server's
/// sessions on that thread use (http/deadline_sweeper.h), instead of a timer armed per read
/// and write. The sweeper cancels the socket once `at` has passed (Action::kCancel) and sets
/// `fired`, which interrupted() turns into a timeout.
using Deadline = http::Deadline;

/// One upstream connection, plain or TLS. Counted in openConnectionCount() while it lives.
struct Conn {
  Conn(Executor ex, std::shared_ptr<ssl::context> ctx) : ssl_ctx(std::move(ctx)) {
    if (ssl_ctx) {
      tls = std::make_unique<beast::ssl_stream<tcp::socket>>(ex, *ssl_ctx);
    } else {
      plain = std::make_unique<tcp::socket>(ex);
    }
    openConnectionCount().fetch_add(1, std::memory_order_relaxed);
  }
  ~Conn() { openConnectionCount().fetch_sub(1, std::memory_order_relaxed); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  tcp::socket& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Declared first: destroyed after the stream that uses it.
  std::shared_ptr<ssl::context> ssl_ctx;
  std::unique_ptr<tcp::socket> plain;
  std::unique_ptr<beast::ssl_stream<tcp::socket>> tls;
  ReadBuffer buffer;
  std::string head;  // the request head being written (storage reused by each request)
  Clock::time_point idle_since{};
};

/// The error an operation cut short by the deadline sweeper or by a cancel() reports:
/// beast::error::timeout when `deadline` fired (and the caller did not cancel), else `ec`.
inline boost::system::error_code interrupted(boost::system::error_code ec, const Deadline& deadline,
                                             bool cancelled) {
  if (ec == asio::error::operation_aborted && deadline.fired && !cancelled) {
    return beast::error::timeout;
  }
  return ec;
}

/// Whether an idle pooled connection may carry the next request: only if nothing arrived on
/// it since its last answer ended. A byte there is either the peer's close (FIN, RST, TLS
/// close_notify) or something nobody asked for (an upstream's extra answer), which would
/// otherwise be read as the answer to the next request. Costs one system call (a recv()
/// that finds nothing); a connection that fails it is to be closed.
bool reusable(Conn& c);

/// How late an exchange's deadline may be acted on at most (Deadline::precision): while
/// exchanges are in flight their thread's sweeper checks deadlines at least this often.
inline constexpr auto kDeadlinePrecision = std::chrono::milliseconds(25);

/// Per io_context (and so per I/O thread) storage: idle connections by Tether connection and
/// origin (two connections, and so two credentials, never share an upstream socket), TLS
/// contexts by CA bundle, and the context's deadline sweeper. Owned by the io_context, so
/// sockets never outlive the context they use. Used on that context's thread only.
class PoolService final : public asio::execution_context::service {
 public:
  using key_type = PoolService;
  static inline asio::execution_context::id id;

  explicit PoolService(asio::execution_context& ctx)
      : asio::execution_context::service(ctx),
        sweeper_(asio::use_service<http::DeadlineSweeper>(ctx)) {}

  /// The sweeper of this context's deadlines (found once, not per exchange).
  http::DeadlineSweeper& sweeper() { return sweeper_; }

  /// An idle connection of `pool_key` to `origin_key`, idle for at most `max_idle`, that
  /// passes reusable(), or null. Connections that fail either are closed.
  std::unique_ptr<Conn> take(std::string_view pool_key, std::string_view origin_key,
                             std::chrono::milliseconds max_idle) {
    auto it = idle_.find(keyOf(pool_key, origin_key));
    if (it == idle_.end()) return nullptr;
    auto& stack = it->second;
    const auto now = Clock::now();
    while (!stack.empty()) {
      std::unique_ptr<Conn> c = std::move(stack.back());
      stack.pop_back();
      if (now - c->idle_since > max_idle) {
        stack.clear();  // the rest are older still
        break;
      }
      if (reusable(*c)) return c;
    }
    return nullptr;
  }

  /// Keeps `c` for reuse (closes it past `max_idle` idle ones of that key).
  void give(std::string_view pool_key, std::string_view origin_key, std::unique_ptr<Conn> c,
            size_t max_idle) {
    if (shut_down_) return;
    auto& stack = idle_[keyOf(pool_key, origin_key)];
    if (stack.size() >= max_idle) return;  // closes it
    c->idle_since = Clock::now();
    stack.push_back(std::move(c));
  }

  /// The TLS client context for `ca_bundle` (system roots plus that file; empty: system roots
  /// only), made once per thread. Null with `error` set when the bundle cannot be loaded.
  std::shared_ptr<ssl::context> sslContext(const std::string& ca_bundle, std::string& error);

 private:
  // The key of the idle map, built in a buffer reused by the thread (no allocation per call).
  static const std::string& keyOf(std::string_view pool_key, std::string_view origin_key) {
    thread_local std::string key;
    key.assign(pool_key).push_back('\0');
    key.append(origin_key);
    return key;
  }

  void shutdown() override;

  http::DeadlineSweeper& sweeper_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
  std::unordered_map<std::string, std::shared_ptr<ssl::context>> ssl_;
  bool shut_down_ = false;
};

/// The calling thread's pool (asio::use_service, with the last answer kept per thread).
PoolService& poolOf(asio::io_context& ctx);

}  // namespace tether::gateway::upstream
