// TokenSource and the entry points of its runner: the cache, singleflight, operator actions
// and the keeper's pass. The refresh itself is in refresh.cc.
#include "lifecycle/token_source.h"

#include <future>

#include "core/log.h"
#include "core/random.h"
#include "lifecycle/source_runner.h"

namespace tether::lifecycle {

// ---------------------------------------------------------------------------------------
// TokenSource: the public face.

TokenSource::TokenSource(ConnectionSpec spec, std::shared_ptr<const SourceDeps> deps)
    : runner_(std::make_shared<detail::SourceRunner>(std::move(spec), std::move(deps))) {}
TokenSource::~TokenSource() = default;
const ConnectionSpec& TokenSource::spec() const { return runner_->spec(); }
bool TokenSource::loadState() { return runner_->loadState(); }
void TokenSource::acquire(std::string actor, TokenCallback done) {
  runner_->acquire(std::move(actor), std::move(done));
}
TokenResult TokenSource::token(std::string actor) { return runner_->token(std::move(actor)); }
bool TokenSource::invalidate(int64_t version) { return runner_->invalidate(version); }
StepUp TokenSource::stepUp(int64_t version, const std::string& challenged) {
  return runner_->stepUp(version, challenged);
}
TokenResult TokenSource::refreshNow(std::string actor) {
  return runner_->refreshNow(std::move(actor));
}
core::Result<bool> TokenSource::deleteToken(const std::string& actor) {
  return runner_->deleteToken(actor);
}
void TokenSource::keeperRefresh() { runner_->keeperRefresh(); }
void TokenSource::onTokenChanged(const store::TokenChange& change) {
  runner_->onTokenChanged(change);
}
void TokenSource::onConnected() { runner_->onConnected(); }
void TokenSource::setOAuthConfig(oauth::OAuthClientConfig config, std::string idp_host) {
  runner_->setOAuthConfig(std::move(config), std::move(idp_host));
}
std::optional<TokenResult> TokenSource::clientSettingsChanged(oauth::OAuthClientConfig config,
                                                              std::string idp_host,
                                                              std::string actor) {
  return runner_->clientSettingsChanged(std::move(config), std::move(idp_host), std::move(actor));
}
oauth::OAuthClientConfig TokenSource::oauthConfig() const { return runner_->oauthConfig(); }
std::string TokenSource::idpHost() const { return runner_->idpHost(); }
SourceStatus TokenSource::status() const { return runner_->status(); }

namespace detail {
namespace {

using store::ConnectionState;
using store::EventType;

}  // namespace

SourceRunner::SourceRunner(ConnectionSpec spec, std::shared_ptr<const SourceDeps> deps)
    : spec_(std::move(spec)), deps_ptr_(std::move(deps)), deps_(*deps_ptr_) {
  const std::string seed = core::randomBytes(8);
  for (char c : seed) rng_state_ = (rng_state_ << 8) | static_cast<uint8_t>(c);
}

SourceRunner::TokenMeta SourceRunner::TokenMeta::of(const store::TokenRecord& r) {
  TokenMeta m;
  m.expires_at = r.expires_at;
  m.authenticated_at = r.authenticated_at;
  m.last_refreshed_at = r.last_refreshed_at;
  m.refresh_expires_at = r.refresh_expires_at;
  m.has_refresh_token = r.refresh_token && !r.refresh_token->empty();
  m.version = r.version;
  m.scope = r.scope;
  return m;
}

store::TokenRecord SourceRunner::TokenMeta::asRecord() const {
  store::TokenRecord r;
  r.expires_at = expires_at;
  r.authenticated_at = authenticated_at;
  r.last_refreshed_at = last_refreshed_at;
  r.refresh_expires_at = refresh_expires_at;
  if (has_refresh_token) r.refresh_token = "x";
  r.version = version;
  return r;
}

std::shared_ptr<const AccessToken> SourceRunner::freshCached(TimePoint now) const {
  if (!cache_ || invalidated_ || !meta_ || !meta_->expires_at) return nullptr;
  const TimePoint issued = meta_->last_refreshed_at.value_or(meta_->authenticated_at);
  const TimePoint refresh_at =
      *meta_->expires_at - effectiveLead(deps_.settings.access_lead, issued, *meta_->expires_at);
  return now < refresh_at ? cache_ : nullptr;
}

double SourceRunner::randomUnit() {
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// ---------------------------------------------------------------------------------------
// State

Effects SourceRunner::transition(const Event& e, TimePoint now) {
  auto t = apply(std::move(state_), e, now, deps_.settings);
  state_ = std::move(t.state);
  return t.effects;
}

bool SourceRunner::loadState() {
  auto st = deps_.store->getState(spec_.key);
  std::lock_guard lock(mu_);
  state_loaded_ = true;
  if (!st.ok() || !st.value()) return false;
  state_ = fromRecord(*st.value());
  return st.value()->next_due_at.has_value();
}

void SourceRunner::writeState(std::optional<TimePoint> next_due) {
  store::StateRecord s;
  {
    std::lock_guard lock(mu_);
    s = toRecord(state_, spec_.key, next_due);
  }
  auto st = deps_.outbox ? deps_.store->outbox().putStateAndEnqueue(s, deps_.outbox)
                         : deps_.store->putState(s);
  if (!st.ok()) {
    core::log::warn("could not write connection state",
                    {{"connection", spec_.key.str()}, {"error", st.error().message}});
  }
}

std::optional<TimePoint> SourceRunner::computeNextDue(const store::TokenRecord& record) {
  std::lock_guard lock(mu_);  // guards the random state
  return nextDue(record, deps_.settings, spec_.refresh_max_lifetime, randomUnit());
}

SourceStatus SourceRunner::status() const {
  std::lock_guard lock(mu_);
  SourceStatus s;
  s.state = state_.state;
  s.reason = state_.reason;
  s.last_error_code = state_.last_error_code;
  s.consecutive_failures = state_.failures;
  s.next_attempt_at = state_.next_attempt_at;
  if (cache_) s.expires_at = cache_->expires_at;
  s.persist_pending = pending_ != nullptr;
  s.step_up_scopes = state_.step_up_scopes;
  s.step_ups = state_.step_ups;
  return s;
}

TokenResult SourceRunner::adopt(const store::TokenRecord& record) {
  std::lock_guard lock(mu_);
  const bool newer = !meta_ || meta_->version != record.version;
  meta_ = TokenMeta::of(record);
  cache_ = makeAccess(record);
  invalidated_ = false;
  transition(event::Adopted{newer}, deps_.clock->now());
  return served(cache_);
}

// ---------------------------------------------------------------------------------------
// Entry points

TokenResult SourceRunner::cachedOrError() const {
  const TimePoint now = deps_.clock->now();
  if (cache_ && now < cache_->expires_at) return served(cache_);
  if (state_.state == ConnectionState::kNeedsClientFix) {
    return refused(TokenError::Kind::kTemporarilyUnavailable, "needs_client_fix",
                   state_.last_error_code);
  }
  if (state_.state == ConnectionState::kNeedsReauth) {
    return refused(TokenError::Kind::kNeedsReauth,
                   state_.reason.empty() ? "revoked" : state_.reason, state_.last_error_code);
  }
  return refused(TokenError::Kind::kTemporarilyUnavailable,
                 state_.last_error_code.empty() ? "refresh_failing" : state_.last_error_code,
                 state_.last_error_code, state_.next_attempt_at);
}

void SourceRunner::acquire(std::string actor, TokenCallback done) {
  std::unique_lock lock(mu_);
  const TimePoint now = deps_.clock->now();
  bool persist_retry_due = pending_ && now >= pending_->next_retry && !in_flight_;
  if (auto token = freshCached(now)) {
    if (persist_retry_due) {
      in_flight_ = true;
      lock.unlock();
      startRefresh(Mode::kOnDemand, actor);
    } else {
      lock.unlock();
    }
    done(TokenResult(std::move(token)));
    return;
  }
  if ((state_.state == ConnectionState::kNeedsReauth && !cache_) ||
      state_.state == ConnectionState::kNeedsClientFix ||
      (backingOff(state_, now) && !persist_retry_due)) {
    // Needs a human (a reconnect, or new client settings), or backing off: no IdP call
    // before the next attempt; a still-valid token is served.
    auto r = cachedOrError();
    lock.unlock();
    done(r);
    return;
  }
  waiters_.push_back(std::move(done));
  if (in_flight_) return;
  in_flight_ = true;
  lock.unlock();
  startRefresh(Mode::kOnDemand, std::move(actor));
}

TokenResult SourceRunner::token(std::string actor) {
  {
    // Hot path: a fresh cached token, no allocation beyond the shared_ptr copy.
    std::lock_guard lock(mu_);
    const TimePoint now = deps_.clock->now();
    const bool persist_retry_due = pending_ && now >= pending_->next_retry;
    if (!persist_retry_due) {
      if (auto t = freshCached(now)) return TokenResult(std::move(t));
    }
  }
  std::promise<TokenResult> promise;
  auto future = promise.get_future();
  acquire(std::move(actor), [&promise](const TokenResult& r) { promise.set_value(r); });
  return future.get();
}

bool SourceRunner::invalidate(int64_t version) {
  std::lock_guard lock(mu_);
  if (!cache_) return true;                     // nothing cached: the next acquire loads
  if (cache_->version != version) return true;  // a newer token is already here
  if (meta_) {
    const TimePoint issued = meta_->last_refreshed_at.value_or(meta_->authenticated_at);
    if (deps_.clock->now() - issued < deps_.settings.invalidate_window) {
      // Fresh from the IdP and still rejected: the upstream has another problem. Refreshing
      // again would only burn refresh tokens (and get us rate limited).
      return false;
    }
  }
  invalidated_ = true;
  return true;
}

StepUp SourceRunner::stepUp(int64_t version, const std::string& challenged) {
  std::unique_lock lock(mu_);
  if (!state_loaded_) {
    // Without the stored row the count and the scopes asked for are unknown: load it off
    // this (I/O) thread and let the caller retry.
    lock.unlock();
    deps_.pool->post([self = shared_from_this()] { (void)self->loadState(); });
    return StepUp{StepUp::Kind::kStale, {}, 0};
  }
  if (!cache_ || cache_->version != version || !meta_) return StepUp{StepUp::Kind::kStale, {}, 0};
  const TimePoint now = deps_.clock->now();
  const Effects fx = transition(event::InsufficientScope{meta_->scope, challenged}, now);
  StepUp out;
  out.scopes = state_.step_up_scopes;
  out.step_ups = state_.step_ups;
  std::optional<store::TokenRecord> token;
  switch (fx.step_up) {
    case StepUpEffect::kReauth:
      out.kind = StepUp::Kind::kReauth;
      cache_.reset();
      meta_.reset();
      invalidated_ = false;
      break;
    case StepUpEffect::kLimitReached:
    case StepUpEffect::kLimitHeld:
      out.kind = StepUp::Kind::kLimitReached;
      token = meta_->asRecord();
      break;
    default:
      out.kind = StepUp::Kind::kRefused;
      break;
  }
  if (!fx.write_state) return out;
  // The keeper's next look: never for needs_reauth, the token's due time otherwise.
  const std::optional<TimePoint> due =
      keeperNextDue(state_, token, spec_.client_credentials, std::nullopt, now, deps_.settings,
                    spec_.refresh_max_lifetime, randomUnit());
  lock.unlock();
  const EventType type = fx.step_up == StepUpEffect::kReauth ? EventType::kStepUpRequired
                                                             : EventType::kStepUpLimitReached;
  deps_.pool->post([self = shared_from_this(), type, due, step_ups = out.step_ups] {
    self->writeState(due);
    events::Detail detail;
    detail.error_class = "terminal";
    detail.reason = "insufficient_scope";
    detail.http_status = 403;
    detail.consecutive_failures = step_ups;
    self->deps_.recorder->record({type, self->spec_.key, std::string(events::kActorToolCall),
                                  self->idpHost(), core::newId(), detail});
  });
  core::log::warn(
      fx.step_up == StepUpEffect::kReauth
          ? "upstream asked for more scopes: the connection needs a reconnect"
          : "upstream keeps asking for scopes already asked for: step-up stopped",
      {{"connection", spec_.key.str()}, {"scopes", out.scopes}, {"step_ups", out.step_ups}});
  return out;
}

void SourceRunner::startRefresh(Mode mode, std::string actor) {
  deps_.pool->post([self = shared_from_this(), mode, actor = std::move(actor)] {
    auto r = self->runRefresh(mode, actor);
    self->complete(r);
  });
}

void SourceRunner::beginExclusive() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return !in_flight_; });
  in_flight_ = true;
}

void SourceRunner::complete(const TokenResult& result) {
  std::vector<TokenCallback> waiters;
  {
    std::lock_guard lock(mu_);
    waiters.swap(waiters_);
    in_flight_ = false;
  }
  idle_cv_.notify_all();
  for (auto& w : waiters) w(result);
}

TokenResult SourceRunner::runExclusive(Mode mode, const std::string& actor) {
  beginExclusive();
  auto r = runRefresh(mode, actor);
  complete(r);
  return r;
}

TokenResult SourceRunner::refreshNow(std::string actor) {
  {
    std::lock_guard lock(mu_);
    forced_from_version_ = cache_ ? cache_->version : 0;
  }
  return runExclusive(Mode::kForced, actor);
}

core::Result<bool> SourceRunner::deleteToken(const std::string& actor) {
  beginExclusive();
  auto deleted = deleteExclusive(actor);
  complete(refused(TokenError::Kind::kNeedsReauth, "not_connected", ""));
  return deleted;
}

core::Result<bool> SourceRunner::deleteExclusive(const std::string& actor) {
  // A rotated token waiting to be written holds the lock already (and is dropped here).
  store::LockGuard taken;
  if (!held_lock_.held()) {
    TETHER_TRY_ASSIGN(taken, deps_.store->locks().lock(spec_.key, deps_.settings.lock_timeout));
  }
  TETHER_TRY_ASSIGN(const auto before, deps_.store->getToken(spec_.key));
  TETHER_TRY_ASSIGN(const bool deleted, deps_.store->deleteToken(spec_.key, std::nullopt));
  {
    std::lock_guard lock(mu_);
    cache_.reset();
    meta_.reset();
    invalidated_ = false;
    pending_.reset();
    transition(event::Deleted{}, deps_.clock->now());
  }
  writeState(std::nullopt);
  held_lock_.release();
  taken.release();
  if (deleted) {
    events::Detail detail;
    detail.reason = "deleted_by_admin";
    if (before) detail.expires_before = before->expires_at;
    deps_.recorder->record({EventType::kTokenDeletedAdmin, spec_.key, actor,
                            before ? before->idp_host : std::string(), core::newId(), detail});
  }
  return deleted;
}

void SourceRunner::keeperRefresh() {
  beginExclusive();
  const TimePoint now = deps_.clock->now();
  if (!state_loaded_) loadState();
  bool skip = false;
  bool recheck = false;
  {
    std::lock_guard lock(mu_);
    skip = keeperSkips(state_, now, pending_ != nullptr);
    if (skip && state_.state == ConnectionState::kNeedsClientFix && !client_rejected_here_) {
      // Read from the store, never tried with the settings this process holds (a restart,
      // or the connection rebuilt from edited settings): one IdP call tells.
      skip = false;
      recheck = true;
      forced_from_version_ = 0;
    }
  }
  if (recheck) {
    core::log::info("needs_client_fix: trying the client settings this process holds once",
                    {{"connection", spec_.key.str()}});
  }
  std::optional<TokenResult> result;
  if (!skip) {
    result =
        runRefresh(recheck ? Mode::kForced : Mode::kKeeper, std::string(events::kActorBackground));
  }
  // Next look: the token's due time, the end of the backoff, or never (needs a human).
  // Written before the refresh counts as finished, so no operator action comes between.
  std::optional<TimePoint> due;
  {
    std::lock_guard lock(mu_);
    std::optional<store::TokenRecord> token;
    if (meta_) token = meta_->asRecord();
    due = keeperNextDue(state_, token, spec_.client_credentials,
                        pending_ ? std::optional<TimePoint>(pending_->next_retry) : std::nullopt,
                        now, deps_.settings, spec_.refresh_max_lifetime, randomUnit());
  }
  writeState(due);
  if (result) {
    complete(*result);
  } else {
    {
      std::lock_guard lock(mu_);
      in_flight_ = false;
    }
    idle_cv_.notify_all();
  }
}

void SourceRunner::onTokenChanged(const store::TokenChange& change) {
  std::lock_guard lock(mu_);
  if (change.resync || change.deleted || (cache_ && change.version > cache_->version)) {
    cache_.reset();
  }
  if (!change.deleted) transition(event::TokenWritten{}, deps_.clock->now());
}

void SourceRunner::setOAuthConfig(oauth::OAuthClientConfig config, std::string idp_host) {
  auto r = std::make_shared<Resolved>(Resolved{std::move(config), std::move(idp_host)});
  std::lock_guard lock(mu_);
  resolved_ = std::move(r);
}

std::optional<TokenResult> SourceRunner::clientSettingsChanged(oauth::OAuthClientConfig config,
                                                               std::string idp_host,
                                                               std::string actor) {
  setOAuthConfig(std::move(config), std::move(idp_host));
  basic_form_.store(oauth::BasicForm::kEncoded);  // a new secret: learn the form again
  {
    std::lock_guard lock(mu_);
    client_rejected_here_ = false;
  }
  if (!state_loaded_) loadState();
  beginExclusive();
  bool refresh_now = false;
  {
    std::lock_guard lock(mu_);
    refresh_now = transition(event::ClientSettingsChanged{}, deps_.clock->now()).refresh_now;
    // A newer stored token (healed on another replica) is adopted, not refreshed again.
    forced_from_version_ = cache_ ? cache_->version : 0;
  }
  if (!refresh_now) {
    complete(refused(TokenError::Kind::kTemporarilyUnavailable, "not_refreshed", ""));
    return std::nullopt;
  }
  core::log::info("client settings changed: refreshing with them now",
                  {{"connection", spec_.key.str()}});
  auto r = runRefresh(Mode::kForced, actor);
  // The keeper's next look follows the outcome (the token's due time once connected).
  std::optional<TimePoint> due;
  {
    std::lock_guard lock(mu_);
    std::optional<store::TokenRecord> token;
    if (meta_) token = meta_->asRecord();
    due =
        keeperNextDue(state_, token, spec_.client_credentials,
                      pending_ ? std::optional<TimePoint>(pending_->next_retry) : std::nullopt,
                      deps_.clock->now(), deps_.settings, spec_.refresh_max_lifetime, randomUnit());
  }
  writeState(due);
  complete(r);
  return r;
}

std::shared_ptr<const SourceRunner::Resolved> SourceRunner::resolved() const {
  std::lock_guard lock(mu_);
  return resolved_;
}

oauth::OAuthClientConfig SourceRunner::oauthConfig() const {
  auto r = resolved();
  return r ? r->oauth : spec_.oauth;
}

std::string SourceRunner::idpHost() const {
  auto r = resolved();
  return r && !r->idp_host.empty() ? r->idp_host : spec_.idp_host;
}

void SourceRunner::onConnected() {
  {
    std::lock_guard lock(mu_);
    cache_.reset();
    meta_.reset();
    invalidated_ = false;
    transition(event::Succeeded{}, deps_.clock->now());
  }
  auto row = deps_.store->getToken(spec_.key);
  std::optional<TimePoint> due;
  if (row.ok() && row.value()) {
    (void)adopt(*row.value());  // caches it; the caller wants no token
    due = computeNextDue(*row.value());
  }
  writeState(due);
}

}  // namespace detail
}  // namespace tether::lifecycle
