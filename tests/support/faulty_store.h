#pragma once
// A store::Store decorator for fault injection: forwards everything to a real store, and
// fails chosen operations a chosen number of times (as a database that is briefly gone).

#include <atomic>
#include <functional>

#include "store/store.h"

namespace tether::testing {

/// The API-made connection definitions of a FaultyStore: fail every call while `down` (as a
/// database that is gone) or `broken` (kStore, as a failing query), or only the writes (put,
/// delete) while `writes_down` (reads answer, the commit fails).
class FaultyDefinitions final : public store::ConnectionDefinitionStore {
 public:
  explicit FaultyDefinitions(store::ConnectionDefinitionStore& inner) : inner_(inner) {}

  std::atomic<bool> down{false};
  std::atomic<bool> broken{false};
  std::atomic<bool> writes_down{false};

  core::Result<std::vector<store::ConnectionDefinition>> listDefinitions(bool d) override {
    if (down || broken) return failure();
    return inner_.listDefinitions(d);
  }
  core::Result<std::optional<store::ConnectionDefinition>> getDefinition(
      const store::ConnectionKey& k) override {
    if (down || broken) return failure();
    return inner_.getDefinition(k);
  }
  core::Result<int64_t> putDefinition(const store::ConnectionKey& k, std::string_view d,
                                      std::string_view s, int64_t v) override {
    if (down || broken || writes_down) return failure();
    return inner_.putDefinition(k, d, s, v);
  }
  core::Result<store::DeletedDefinition> deleteDefinition(const store::ConnectionKey& k,
                                                          std::optional<int64_t> v) override {
    if (down || broken || writes_down) return failure();
    return inner_.deleteDefinition(k, v);
  }
  core::Result<int64_t> definitionsVersion() override {
    if (down || broken) return failure();
    return inner_.definitionsVersion();
  }
  core::Result<std::vector<std::pair<store::ConnectionKey, int64_t>>> listDefinitionVersions()
      override {
    if (down || broken) return failure();
    return inner_.listDefinitionVersions();
  }
  store::Subscription subscribeDefinitionChanges(store::DefinitionChangeCallback cb) override {
    return inner_.subscribeDefinitionChanges(std::move(cb));
  }

 private:
  core::Error failure() const {
    if (broken) return core::Error(core::Errc::kStore, "injected: no such table x");
    return core::Error(core::Errc::kUnavailable, "injected: store unavailable");
  }
  store::ConnectionDefinitionStore& inner_;
};

class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(store::Store& inner) : inner_(inner), definitions_(inner.definitions()) {}

  /// The next `n` putToken calls fail with kUnavailable.
  std::atomic<int> fail_put_token{0};
  /// Every call fails while set (a store that is down).
  std::atomic<bool> down{false};
  std::atomic<int> put_token_calls{0};
  std::atomic<int> bulk_health_calls{0};
  /// bulkHealth and recentEvents fail with kStore while set (a broken query, not an outage).
  std::atomic<bool> broken_reads{false};
  /// Called before every putState (a slow or paused store in race tests); set it before the
  /// store is shared with other threads.
  std::function<void(const store::StateRecord&)> before_put_state;

  // TokenStore
  core::Result<std::optional<store::TokenRecord>> getToken(const store::ConnectionKey& k) override {
    if (down) return unavailable();
    return inner_.getToken(k);
  }
  core::Result<int64_t> putToken(const store::TokenRecord& t, int64_t v) override {
    ++put_token_calls;
    if (down) return unavailable();
    if (fail_put_token.load() > 0) {
      --fail_put_token;
      return unavailable();
    }
    return inner_.putToken(t, v);
  }
  core::Result<bool> deleteToken(const store::ConnectionKey& k, std::optional<int64_t> v) override {
    if (down) return unavailable();
    return inner_.deleteToken(k, v);
  }
  core::Result<store::ConditionalDelete> deleteTokenIfRefreshTokenIs(const store::ConnectionKey& k,
                                                                     std::string_view rt) override {
    if (down) return unavailable();
    return inner_.deleteTokenIfRefreshTokenIs(k, rt);
  }
  store::Subscription subscribeTokenChanges(store::TokenChangeCallback cb) override {
    return inner_.subscribeTokenChanges(std::move(cb));
  }
  // StateStore
  core::Result<std::optional<store::StateRecord>> getState(const store::ConnectionKey& k) override {
    if (down) return unavailable();
    return inner_.getState(k);
  }
  core::Status putState(const store::StateRecord& s) override {
    if (before_put_state) before_put_state(s);
    if (down) return unavailable();
    return inner_.putState(s);
  }
  core::Status setNextDue(const store::ConnectionKey& k,
                          std::optional<core::TimePoint> d) override {
    if (down) return unavailable();
    return inner_.setNextDue(k, d);
  }
  core::Result<std::vector<store::DueConnection>> dueConnections(core::TimePoint u,
                                                                 int l) override {
    if (down) return unavailable();
    return inner_.dueConnections(u, l);
  }
  core::Result<std::vector<store::DueConnection>> claimDue(core::TimePoint u, int l,
                                                           std::string_view o,
                                                           core::Duration lease) override {
    if (down) return unavailable();
    return inner_.claimDue(u, l, o, lease);
  }
  core::Status releaseClaim(const store::ConnectionKey& k, std::string_view o) override {
    if (down) return unavailable();
    return inner_.releaseClaim(k, o);
  }
  // EventStore
  core::Result<int64_t> appendEvent(const store::AuthEvent& e) override {
    if (down) return unavailable();
    return inner_.appendEvent(e);
  }
  core::Result<std::vector<store::AuthEvent>> recentEvents(const store::ConnectionKey& k,
                                                           int l) override {
    if (broken_reads) return broken();
    return inner_.recentEvents(k, l);
  }
  core::Result<std::vector<store::AuthEvent>> latestEventPerConnection() override {
    return inner_.latestEventPerConnection();
  }
  core::Result<int64_t> pruneEvents(core::Duration r) override { return inner_.pruneEvents(r); }
  // FlowStore
  core::Result<store::CreateFlowResult> createPendingFlow(const store::PendingFlow& f) override {
    return inner_.createPendingFlow(f);
  }
  core::Result<store::TakenFlow> takeFlow(std::string_view s) override {
    return inner_.takeFlow(s);
  }
  core::Result<int64_t> expirePendingFlows() override { return inner_.expirePendingFlows(); }
  core::Result<bool> cancelPendingFlow(const store::ConnectionKey& k) override {
    return inner_.cancelPendingFlow(k);
  }
  // ClientStore
  core::Status putClient(const store::OAuthClient& c) override { return inner_.putClient(c); }
  core::Result<std::optional<store::OAuthClient>> getClient(std::string_view i) override {
    return inner_.getClient(i);
  }
  core::Result<bool> deleteClient(std::string_view i) override { return inner_.deleteClient(i); }
  core::Status putEndpoints(const store::OAuthEndpoints& e) override {
    return inner_.putEndpoints(e);
  }
  core::Result<std::optional<store::OAuthEndpoints>> getEndpoints(
      const store::ConnectionKey& k) override {
    return inner_.getEndpoints(k);
  }
  // ConnectionRegistry
  core::Status syncConnections(std::span<const store::ConnectionInfo> c) override {
    return inner_.syncConnections(c);
  }
  core::Status updateConnections(std::span<const store::ConnectionInfo> upserted,
                                 std::span<const store::ConnectionKey> removed) override {
    return inner_.updateConnections(upserted, removed);
  }
  core::Result<std::vector<store::ConnectionInfo>> listConnections() override {
    return inner_.listConnections();
  }
  core::Result<std::vector<store::HealthRow>> bulkHealth() override {
    ++bulk_health_calls;
    if (broken_reads) return broken();
    if (down) return unavailable();
    return inner_.bulkHealth();
  }
  core::Result<std::vector<store::HealthRow>> healthOf(
      std::span<const store::ConnectionKey> keys) override {
    ++bulk_health_calls;
    if (broken_reads) return broken();
    if (down) return unavailable();
    return inner_.healthOf(keys);
  }
  core::Status recordLastUse(std::span<const store::LastUse> uses) override {
    if (down) return unavailable();
    return inner_.recordLastUse(uses);
  }
  core::Status recordConnectOutcome(const store::ConnectOutcome& outcome) override {
    if (down) return unavailable();
    return inner_.recordConnectOutcome(outcome);
  }
  core::Result<store::ConnectionActivity> activity(const store::ConnectionKey& key) override {
    if (down) return unavailable();
    return inner_.activity(key);
  }
  // Store
  // SessionRevocationStore
  core::Status revokeSession(std::string_view id, core::TimePoint expires_at) override {
    if (down) return unavailable();
    return inner_.revokeSession(id, expires_at);
  }
  core::Result<bool> isSessionRevoked(std::string_view id) override {
    if (down) return unavailable();
    return inner_.isSessionRevoked(id);
  }
  core::Result<int64_t> pruneSessionRevocations() override {
    if (down) return unavailable();
    return inner_.pruneSessionRevocations();
  }
  store::LockManager& locks() override { return inner_.locks(); }
  store::OutboxStore& outbox() override { return inner_.outbox(); }
  /// Its own switches (FaultyDefinitions), apart from `down`.
  FaultyDefinitions& faultyDefinitions() { return definitions_; }
  store::ConnectionDefinitionStore& definitions() override { return definitions_; }
  core::Status ping() override { return down ? core::Status(unavailable()) : inner_.ping(); }
  core::Result<store::RotationReport> rotateKeys() override { return inner_.rotateKeys(); }
  int migrationsAppliedAtOpen() const override { return inner_.migrationsAppliedAtOpen(); }
  int schemaVersion() const override { return inner_.schemaVersion(); }
  std::string describe() const override { return "faulty(" + inner_.describe() + ")"; }

 private:
  static core::Error broken() {
    return core::Error(core::Errc::kStore, "store: bulk health: injected: no such column x");
  }
  static core::Error unavailable() {
    return core::Error(core::Errc::kUnavailable, "injected: store unavailable");
  }
  store::Store& inner_;
  FaultyDefinitions definitions_;
};

}  // namespace tether::testing
