#include "gateway/last_use.h"

#include "core/log.h"

namespace tether::gateway {
namespace {

int64_t toMs(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

LastUseTracker::Slot* LastUseTracker::slot(const store::ConnectionKey& key) {
  std::lock_guard lock(mu_);
  auto& e = entries_[key];
  if (!e) e = std::make_unique<Entry>();
  return &e->at;
}

void LastUseTracker::touch(Slot& slot) const {
  const int64_t now = toMs(clock_.now());
  // Read first: calls to a busy connection mostly find a fresh time and write nothing, so
  // they do not contend for the cache line.
  if (now - slot.load(std::memory_order_relaxed) >= 1000) {
    slot.store(now, std::memory_order_relaxed);
  }
}

std::vector<store::LastUse> LastUseTracker::changed() const {
  std::lock_guard lock(mu_);
  std::vector<store::LastUse> out;
  for (const auto& [key, e] : entries_) {
    const int64_t at = e->at.load(std::memory_order_relaxed);
    if (at != 0 && at != e->flushed) {
      out.push_back({key, core::TimePoint(std::chrono::milliseconds(at))});
    }
  }
  return out;
}

void LastUseTracker::markFlushed(std::span<const store::LastUse> flushed) {
  std::lock_guard lock(mu_);
  for (const auto& u : flushed) {
    auto it = entries_.find(u.key);
    if (it != entries_.end()) it->second->flushed = toMs(u.at);
  }
}

LastUseFlusher::LastUseFlusher(LastUseTracker& tracker, Sink sink, core::Duration interval)
    : tracker_(tracker), sink_(std::move(sink)), interval_(interval) {}

LastUseFlusher::~LastUseFlusher() { stop(); }

void LastUseFlusher::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

core::Result<size_t> LastUseFlusher::flushNow() {
  std::lock_guard flush(flush_mu_);
  const auto changes = tracker_.changed();
  if (changes.empty()) return size_t{0};
  TETHER_TRY(sink_(changes));
  tracker_.markFlushed(changes);
  return changes.size();
}

void LastUseFlusher::run() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    if (auto n = flushNow(); !n.ok()) {
      core::log::warn("cannot record when connections were last used; retrying",
                      {{"error", n.error().message}});
    }
    lock.lock();
  }
}

void LastUseFlusher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (auto n = flushNow(); !n.ok()) {
    core::log::warn("cannot record when connections were last used at stop",
                    {{"error", n.error().message}});
  }
}

}  // namespace tether::gateway
