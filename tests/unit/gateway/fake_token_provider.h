#pragma once
// A scriptable lifecycle::TokenProvider for gateway tests: hands out a current token (or a
// TokenError), rotates on demand or on invalidate, answers inline or from its own thread,
// and counts acquire/invalidate calls so tests can assert "exactly one refresh".

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lifecycle/token_provider.h"

namespace tether::testing {

class FakeTokenProvider final : public lifecycle::TokenProvider {
 public:
  explicit FakeTokenProvider(std::string token = "upstream-token-1", int64_t version = 1) {
    setToken(std::move(token), version);
  }
  ~FakeTokenProvider() override {
    for (auto& t : threads_) t.join();
  }

  /// The token handed out from now on (clears any error).
  void setToken(std::string value, int64_t version) {
    std::lock_guard lock(mu_);
    auto t = std::make_shared<lifecycle::AccessToken>();
    t->value = std::move(value);
    t->version = version;
    current_ = std::move(t);
    error_.reset();
  }
  /// Every acquire fails with `error` from now on.
  void setError(lifecycle::TokenError error) {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }
  /// What an invalidate of the current version rotates to (nothing when unset: the provider
  /// "refreshed very recently" and keeps handing out the same token).
  void setRefreshTo(std::string value, int64_t version) {
    std::lock_guard lock(mu_);
    refresh_to_ = std::make_pair(std::move(value), version);
  }
  /// Answer acquire from a separate thread (as TokenSource does when it must refresh).
  void setAsync(bool async) { async_ = async; }

  void acquire(std::string actor, lifecycle::TokenCallback done) override {
    ++acquire_calls;
    {
      std::lock_guard lock(mu_);
      last_actor_ = std::move(actor);
    }
    lifecycle::TokenResult result = lifecycle::TokenError{};
    {
      std::lock_guard lock(mu_);
      if (error_) {
        result = *error_;
      } else if (current_) {
        result = current_;
      }
    }
    if (!async_) {
      done(result);
      return;
    }
    std::lock_guard lock(mu_);
    threads_.emplace_back([done = std::move(done), result] { done(result); });
  }

  bool invalidate(int64_t version) override {
    ++invalidate_calls;
    std::lock_guard lock(mu_);
    if (!current_ || current_->version != version || !refresh_to_) return false;
    auto t = std::make_shared<lifecycle::AccessToken>();
    t->value = refresh_to_->first;
    t->version = refresh_to_->second;
    current_ = std::move(t);
    refresh_to_.reset();
    return true;
  }

  /// What stepUp answers from now on (kind and scopes); calls are counted.
  void setStepUp(lifecycle::StepUp outcome) {
    std::lock_guard lock(mu_);
    step_up_ = std::move(outcome);
  }
  lifecycle::StepUp stepUp(int64_t version, const std::string& challenged) override {
    ++step_up_calls;
    std::lock_guard lock(mu_);
    last_step_up_ = std::make_pair(version, challenged);
    return step_up_;
  }
  std::pair<int64_t, std::string> lastStepUp() const {
    std::lock_guard lock(mu_);
    return last_step_up_;
  }

  std::string lastActor() const {
    std::lock_guard lock(mu_);
    return last_actor_;
  }

  std::atomic<int> acquire_calls{0};
  std::atomic<int> invalidate_calls{0};
  std::atomic<int> step_up_calls{0};

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const lifecycle::AccessToken> current_;
  std::optional<lifecycle::TokenError> error_;
  std::optional<std::pair<std::string, int64_t>> refresh_to_;
  std::atomic<bool> async_{false};
  std::string last_actor_;
  lifecycle::StepUp step_up_;
  std::pair<int64_t, std::string> last_step_up_;
  std::vector<std::thread> threads_;
};

}  // namespace tether::testing
