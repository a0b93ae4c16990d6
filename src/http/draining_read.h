// Socket reads that skip the read Asio would try before waiting when it cannot succeed.
//
// Asio's epoll reactor tries a read at once when it is started (a "speculative" read) unless
// the descriptor is known to be drained, and it learns that only from an operation that says
// so ("done_and_exhausted"). Its receive says so only at EOF, so every read started after a
// complete one costs a recv() that returns EAGAIN when the peer has not written yet: the
// read-ahead of a client's next request and the read of the upstream's answer just after the
// request went out, two wasted system calls per proxied call. nginx reads only after epoll
// says so, which is why it made one system call less per call than Tether.
//
// On a stream socket a read that fills less than the buffer has taken all that was there, so
// a read through `draining()` reports the socket drained: the next read is then only queued,
// and the descriptor's next edge (registered with EPOLLET) performs it. Data that arrives
// after the short read makes such an edge, including while no read is queued (the reactor
// marks the descriptor readable again under the same lock), so no data is left waiting.
//
// What can be missed is an end that arrived together with the last data: a FIN or RST the
// short read left behind makes no later edge. So the rule of use is:
//   - `draining()` for every read of the HTTP server and the upstream client;
//   - a read that *starts* a message (the client's next request, the upstream's answer to the
//     request just written) waits for the edge: its peer must send first, and an end missed
//     there costs nothing the deadlines and the next write do not catch (a write to a reset
//     socket fails at once; the idle and first-byte deadlines bound the wait);
//   - a read that *continues* a message (more of a request, of a body, of a stream), or that
//     waits for the client to go, first calls `readNow()`, a direct read, so an end already
//     there is seen at once. That costs the recv() Asio would have made, only on those reads.
//
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/config.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>

// The specialization below is checked against Asio 1.81 (Boost 1.81) only. On another Boost the
// build stops here rather than silently losing the behaviour or specializing a template whose
// contract changed: compare it with that Boost's asio/detail/reactive_socket_recv_op.hpp, then
// update the version here and in tests/unit/http/draining_read_test.cc; or build with
// -DTETHER_ALLOW_PLAIN_READS to use Asio's own reads (one recv() more per read).
#if BOOST_VERSION != 108100 && !defined(TETHER_ALLOW_PLAIN_READS)
#error "http/draining_read.h is verified against Boost 1.81 only (see the comment above)"
#endif

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define TETHER_DRAINING_READS 1
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#else
#define TETHER_DRAINING_READS 0
#endif

namespace tether::http {

// A mutable buffer whose socket reads report a short read as draining the socket.
struct DrainingBuffer : boost::asio::mutable_buffer {
  explicit DrainingBuffer(boost::asio::mutable_buffer b) noexcept
      : boost::asio::mutable_buffer(b) {}
};

inline DrainingBuffer draining(boost::asio::mutable_buffer b) noexcept { return DrainingBuffer(b); }

inline constexpr bool kDrainingReads = TETHER_DRAINING_READS != 0;

// recv() calls made through DrainingBuffer reads on the calling thread (those that returned
// EAGAIN included).
inline uint64_t& drainingRecvCalls() noexcept {
  thread_local uint64_t calls = 0;
  return calls;
}

// One read of what a non-blocking TCP socket holds now, without waiting: true with the result
// (data, EOF or an error) in `out`; false when the socket holds nothing, or for a stream other
// than a plain TCP socket (TLS reads are Asio's own and unaffected by draining()).
template <class Stream>
bool readNow(Stream& stream, boost::asio::mutable_buffer buffer,
             std::tuple<boost::system::error_code, size_t>& out) {
  if constexpr (std::is_same_v<Stream, boost::asio::ip::tcp::socket>) {
    boost::system::error_code ec;
    const size_t n = stream.read_some(buffer, ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) return false;
    out = {ec, n};
    return true;
  } else {
    (void)stream;
    (void)buffer;
    (void)out;
    return false;
  }
}

}  // namespace tether::http

#if TETHER_DRAINING_READS
namespace boost::asio::detail {

// Asio 1.81's reactive_socket_recv_op_base with one change: on a stream socket, a read that
// returned fewer bytes than asked for is "done_and_exhausted" (Asio's own receive says so only
// at EOF), so the reactor tries no read on this descriptor before its next readiness edge.
template <>
class reactive_socket_recv_op_base<tether::http::DrainingBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const tether::http::DrainingBuffer& buffers,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffers_(buffers),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
    ++tether::http::drainingRecvCalls();
    if (!socket_ops::non_blocking_recv1(o->socket_, o->buffers_.data(), o->buffers_.size(),
                                        o->flags_, stream, o->ec_, o->bytes_transferred_)) {
      return not_done;
    }
    // EOF drains the socket for Asio too; an error is left as Asio leaves it.
    if (stream && (o->ec_ == boost::asio::error::eof ||
                   (!o->ec_ && o->bytes_transferred_ < o->buffers_.size()))) {
      return done_and_exhausted;
    }
    return done;
  }

 private:
  socket_type socket_;
  socket_ops::state_type state_;
  tether::http::DrainingBuffer buffers_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif
