#pragma once
/// Coarse socket deadlines, shared by the HTTP server's sessions and the upstream client's
/// exchanges: one sweeper per io_context (and so per I/O thread) walks an intrusive list of
/// deadlines on a timer and acts on the sockets whose deadline passed. Cheaper than a timer
/// armed per read and write: setting a deadline is a clock read and a store (no timer-queue
/// work, no timerfd system call), watching one links it into a list (no allocation).
///
/// Internal (Asio types): include only from implementation files of src/http and of the
/// gateway's upstream client, and from their internal headers, never from a header other
/// modules include. A sweeper and the deadlines it watches are touched only on the thread
/// that runs its io_context, except setInterval() before that thread starts.

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <optional>

namespace tether::http {

using SteadyTime = std::chrono::steady_clock::time_point;
inline constexpr SteadyTime kNever = SteadyTime::max();

class DeadlineSweeper;

/// A deadline on one socket. Once `at` has passed, its io_context's DeadlineSweeper cancels
/// the socket's operations or closes it (`action`), sets `fired` (so the owner can report a
/// timeout rather than a cancellation) and disarms it. Owned by the caller (a session, an
/// exchange); watched between DeadlineSweeper::watch() and unwatch(), which must come before
/// it dies (a Watch guard does both).
struct Deadline {
  enum class Action : std::uint8_t {
    kCancel,  // cancel the socket's operations: they end with operation_aborted
    kClose,   // shut the socket down and close it: every later operation fails too
  };

  SteadyTime at = kNever;
  boost::asio::ip::tcp::socket* socket = nullptr;  // what to act on; null: nothing
  Action action = Action::kCancel;
  /// At most how late past `at` the sweeper may act; zero: its interval (setInterval()). A
  /// precision finer than the interval makes the sweeper tick that often while it is watched.
  std::chrono::milliseconds precision{0};
  /// Set when the sweeper acted; stays set until the owner resets it.
  bool fired = false;

  /// Arms the deadline `in` from now on `s`.
  void set(boost::asio::ip::tcp::socket& s, std::chrono::milliseconds in) {
    socket = &s;
    expiresIn(in);
  }
  /// Arms the deadline `in` from now on the socket already set.
  void expiresIn(std::chrono::milliseconds in) { at = std::chrono::steady_clock::now() + in; }
  /// No deadline until the next set() or expiresIn(); the socket stays set.
  void disarm() { at = kNever; }
  /// No deadline and no socket (before the socket goes away).
  void clear() {
    socket = nullptr;
    at = kNever;
  }

 private:
  friend class DeadlineSweeper;
  // The sweeper's watched deadlines form an intrusive list (no node allocated per session
  // or exchange).
  Deadline* prev_ = nullptr;
  Deadline* next_ = nullptr;
  bool watched_ = false;
  bool precise_ = false;  // counted in the sweeper's precise_count_
};

/// The deadlines of one io_context and the timer that enforces them: an asio service, so
/// `asio::use_service<DeadlineSweeper>(ctx)` finds the one of `ctx`, and it lives (and stops)
/// with the io_context. The timer runs only while deadlines are watched, every interval, or at
/// a finer precision while a deadline asking for it is watched and for kPreciseLingerTicks
/// ticks after (so a thread that runs one exchange after another does not re-arm the timer
/// for each).
class DeadlineSweeper final : public boost::asio::execution_context::service {
 public:
  using key_type = DeadlineSweeper;
  static inline boost::asio::execution_context::id id;

  /// The interval when nobody set one (an io_context only the upstream client uses).
  static constexpr std::chrono::milliseconds kDefaultInterval{25};
  /// Ticks at the finer precision with no deadline asking for it before the pace drops back.
  static constexpr int kPreciseLingerTicks = 40;

  explicit DeadlineSweeper(boost::asio::execution_context& ctx)
      : boost::asio::execution_context::service(ctx),
        ctx_(static_cast<boost::asio::io_context&>(ctx)) {}

  /// How often deadlines are checked: the shortest interval asked for so far. Call before
  /// the io_context's thread runs, or on it.
  void setInterval(std::chrono::milliseconds interval) {
    if (!interval_ || interval < *interval_) interval_ = interval;
  }

  /// Enforces `d` until unwatch(d). No effect once the io_context shut down.
  void watch(Deadline& d) {
    if (shut_down_ || d.watched_) return;
    d.prev_ = nullptr;
    d.next_ = head_;
    if (head_) head_->prev_ = &d;
    head_ = &d;
    d.watched_ = true;
    if (d.precision.count() > 0 && d.precision < interval()) {
      d.precise_ = true;
      ++precise_count_;
      quiet_ticks_ = 0;
      if (!precise_interval_ || d.precision < *precise_interval_) precise_interval_ = d.precision;
    }
    // Not ticking, or ticking too coarsely for `d`: (re)armed now. While precise deadlines
    // stay watched the timer keeps their pace, so this is not done per exchange under load.
    if (!armed_ || armed_interval_ > tickInterval()) arm();
  }

  /// Stops enforcing `d` (no effect if not watched).
  void unwatch(Deadline& d) {
    if (!d.watched_) return;
    d.watched_ = false;
    if (d.precise_) {
      d.precise_ = false;
      --precise_count_;
    }
    if (shut_down_) return;
    if (d.prev_) {
      d.prev_->next_ = d.next_;
    } else {
      head_ = d.next_;
    }
    if (d.next_) d.next_->prev_ = d.prev_;
    d.prev_ = d.next_ = nullptr;
  }

  /// Watches a deadline for a scope: unwatched on every way out, exceptions included.
  class Watch {
   public:
    Watch(DeadlineSweeper& sweeper, Deadline& d) : sweeper_(sweeper), d_(d) { sweeper_.watch(d_); }
    ~Watch() { sweeper_.unwatch(d_); }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    DeadlineSweeper& sweeper_;
    Deadline& d_;
  };

 private:
  std::chrono::milliseconds interval() const { return interval_.value_or(kDefaultInterval); }
  std::chrono::milliseconds tickInterval() const {
    const bool precise =
        precise_interval_ && (precise_count_ > 0 || quiet_ticks_ < kPreciseLingerTicks);
    return precise ? std::min(*precise_interval_, interval()) : interval();
  }

  void arm() {
    if (!timer_) timer_.emplace(ctx_);
    armed_ = true;
    armed_interval_ = tickInterval();
    // Re-arming a waiting timer cancels that wait: its handler sees operation_aborted.
    timer_->expires_after(armed_interval_);
    timer_->async_wait([this](boost::system::error_code ec) {
      if (ec == boost::asio::error::operation_aborted || shut_down_) return;
      if (ec) {
        armed_ = false;
        return;
      }
      sweep(std::chrono::steady_clock::now());
      if (precise_count_ > 0) {
        quiet_ticks_ = 0;
      } else if (quiet_ticks_ < kPreciseLingerTicks) {
        ++quiet_ticks_;
      }
      if (!head_) {
        armed_ = false;
        return;
      }
      arm();
    });
  }

  // Acting on a socket only queues its handlers: none runs during the walk.
  void sweep(SteadyTime now) {
    for (Deadline* d = head_; d; d = d->next_) {
      if (!d->socket || d->at > now) continue;
      d->fired = true;
      d->at = kNever;
      boost::system::error_code ignored;
      if (d->action == Deadline::Action::kClose) {
        d->socket->shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        d->socket->close(ignored);
      } else {
        d->socket->cancel(ignored);
      }
    }
  }

  void shutdown() override {
    shut_down_ = true;
    head_ = nullptr;
    timer_.reset();
  }

  boost::asio::io_context& ctx_;
  Deadline* head_ = nullptr;  // the watched deadlines
  std::optional<boost::asio::steady_timer> timer_;
  std::optional<std::chrono::milliseconds> interval_;          // setInterval(); else default
  std::optional<std::chrono::milliseconds> precise_interval_;  // finest precision watched
  size_t precise_count_ = 0;  // watched deadlines with a precision finer than interval()
  int quiet_ticks_ = 0;       // ticks since one found a precise deadline watched
  std::chrono::milliseconds armed_interval_{0};
  bool armed_ = false;
  bool shut_down_ = false;
};

}  // namespace tether::http
