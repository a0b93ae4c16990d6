#include "store/sql/sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace tether::store::sql {

using core::Errc;
using core::Error;
using core::Result;

int64_t Value::asInt() const {
  if (const auto* i = std::get_if<int64_t>(&v_)) return *i;
  if (const auto* s = std::get_if<std::string>(&v_)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

std::string Value::asText() const {
  if (const auto* s = std::get_if<std::string>(&v_)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v_)) return std::to_string(*i);
  return {};
}

std::optional<int64_t> Value::optInt() const {
  if (isNull()) return std::nullopt;
  return asInt();
}

std::optional<std::string> Value::optText() const {
  if (isNull()) return std::nullopt;
  return asText();
}

void LeaseReturn::operator()(Session* session) const {
  std::unique_ptr<Session> owned(session);
  if (pool) pool->giveBack(std::move(owned));
}

std::shared_ptr<Pool> Pool::create(std::string name, size_t max_size,
                                   std::chrono::milliseconds acquire_timeout, Factory factory,
                                   const core::Clock& clock) {
  return std::make_shared<Pool>(std::move(name), std::max<size_t>(1, max_size), acquire_timeout,
                                std::move(factory), clock);
}

Result<Lease> Pool::acquire() {
  const core::MonoPoint deadline = clock_.monotonic() + acquire_timeout_;
  std::unique_lock lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Session> s = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      if (s->stillUsable()) return Lease(s.release(), LeaseReturn{shared_from_this()});
      s.reset();  // the server closed it meanwhile: discard, try the next
      lock.lock();
      --open_;
      cv_.notify_one();
    }
    if (open_ < max_size_) {
      ++open_;
      lock.unlock();
      auto created = factory_();
      if (!created.ok()) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return std::move(created).takeError();
      }
      return Lease(created->release(), LeaseReturn{shared_from_this()});
    }
    const auto remaining = deadline - clock_.monotonic();
    if (remaining > remaining.zero()) cv_.wait_for(lock, remaining);
    if (clock_.monotonic() >= deadline && idle_.empty() && open_ >= max_size_) {
      return Error(Errc::kUnavailable, fmt::format("all {} {} connections stayed busy for {} ms",
                                                   max_size_, name_, acquire_timeout_.count()));
    }
  }
}

void Pool::adopt(std::unique_ptr<Session> session) {
  std::lock_guard lock(mu_);
  ++open_;
  idle_.push_back(std::move(session));
  cv_.notify_one();
}

void Pool::giveBack(std::unique_ptr<Session> session) {
  std::unique_lock lock(mu_);
  if (session->healthy()) {
    idle_.push_back(std::move(session));
  } else {
    --open_;
    lock.unlock();
    session.reset();  // close outside the lock
    lock.lock();
  }
  cv_.notify_one();
}

void Pool::clearIdle() {
  std::vector<std::unique_ptr<Session>> doomed;
  {
    std::lock_guard lock(mu_);
    doomed.swap(idle_);
    open_ -= doomed.size();
  }
}

Subscription Subscribers::add(TokenChangeCallback callback) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  callbacks_.emplace_back(id, std::move(callback));
  std::weak_ptr<Subscribers> weak = weak_from_this();
  return Subscription([weak, id] {
    if (auto self = weak.lock()) self->remove(id);
  });
}

void Subscribers::remove(uint64_t id) {
  std::lock_guard lock(mu_);
  std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

void Subscribers::dispatch(const TokenChange& change) {
  std::lock_guard lock(mu_);
  // Copy: a callback may subscribe or unsubscribe (same thread, recursive mutex).
  const auto callbacks = callbacks_;
  for (const auto& [id, callback] : callbacks) callback(change);
}

}  // namespace tether::store::sql
