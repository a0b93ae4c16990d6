#include "lifecycle/token_source.h"

#include <future>

#include "core/log.h"
#include "core/random.h"
#include "oauth/classify.h"

namespace tether::lifecycle {
namespace {

using store::ConnectionState;
using store::EventType;

double toMs(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::shared_ptr<const AccessToken> makeAccess(const store::TokenRecord& r) {
  auto t = std::make_shared<AccessToken>();
  t->value = r.access_token;
  t->type = r.token_type.empty() ? "Bearer" : r.token_type;
  t->expires_at = r.expires_at.value_or(TimePoint{});
  t->version = r.version;
  return t;
}

TokenResult failure(TokenError::Kind kind, std::string reason, std::string idp_code,
                    std::optional<TimePoint> retry_at = std::nullopt) {
  TokenResult r;
  r.error = TokenError{kind, std::move(reason), std::move(idp_code), retry_at};
  return r;
}

}  // namespace

TokenSource::TokenSource(ConnectionSpec spec, std::shared_ptr<const SourceDeps> deps)
    : spec_(std::move(spec)), deps_ptr_(std::move(deps)), deps_(*deps_ptr_) {
  const std::string seed = core::randomBytes(8);
  for (char c : seed) rng_state_ = (rng_state_ << 8) | static_cast<uint8_t>(c);
}

TokenSource::TokenMeta TokenSource::metaOf(const store::TokenRecord& r) {
  TokenMeta m;
  m.expires_at = r.expires_at;
  m.authenticated_at = r.authenticated_at;
  m.last_refreshed_at = r.last_refreshed_at;
  m.refresh_expires_at = r.refresh_expires_at;
  m.has_refresh_token = r.refresh_token && !r.refresh_token->empty();
  m.version = r.version;
  return m;
}

store::TokenRecord TokenSource::TokenMeta::asRecord() const {
  store::TokenRecord r;
  r.expires_at = expires_at;
  r.authenticated_at = authenticated_at;
  r.last_refreshed_at = last_refreshed_at;
  r.refresh_expires_at = refresh_expires_at;
  if (has_refresh_token) r.refresh_token = "x";
  r.version = version;
  return r;
}

std::shared_ptr<const AccessToken> TokenSource::freshCached(TimePoint now) const {
  if (!cache_ || invalidated_ || !meta_ || !meta_->expires_at) return nullptr;
  const TimePoint issued = meta_->last_refreshed_at.value_or(meta_->authenticated_at);
  const TimePoint refresh_at =
      *meta_->expires_at - effectiveLead(deps_.settings.access_lead, issued, *meta_->expires_at);
  return now < refresh_at ? cache_ : nullptr;
}

TokenSource::~TokenSource() = default;

double TokenSource::randomUnit() {
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// ---------------------------------------------------------------------------------------
// State

bool TokenSource::loadState() {
  auto st = deps_.store->getState(spec_.key);
  std::lock_guard lock(mu_);
  state_loaded_ = true;
  if (!st.ok() || !st.value()) return false;
  const auto& s = *st.value();
  state_ = s.state;
  reason_ = s.reason;
  last_error_code_ = s.last_error_code;
  failures_ = s.consecutive_failures;
  first_failure_at_ = s.first_failure_at;
  next_attempt_at_ = s.next_attempt_at;
  revoked_at_ = s.revoked_at;
  return s.next_due_at.has_value();
}

void TokenSource::writeState(std::optional<TimePoint> next_due) {
  store::StateRecord s;
  s.key = spec_.key;
  {
    std::lock_guard lock(mu_);
    s.state = state_;
    s.reason = reason_;
    s.last_error_code = last_error_code_;
    s.consecutive_failures = failures_;
    s.first_failure_at = first_failure_at_;
    s.next_attempt_at = next_attempt_at_;
    s.revoked_at = revoked_at_;
  }
  s.next_due_at = next_due;
  auto st = deps_.store->putState(s);
  if (!st.ok()) {
    core::log::warn("could not write connection state",
                    {{"connection", spec_.key.str()}, {"error", st.error().message}});
  }
}

std::optional<TimePoint> TokenSource::computeNextDue(const store::TokenRecord& record) {
  std::lock_guard lock(mu_);  // guards rng_
  return nextDue(record, deps_.settings, spec_.refresh_max_lifetime, randomUnit());
}

SourceStatus TokenSource::status() const {
  std::lock_guard lock(mu_);
  SourceStatus s;
  s.state = state_;
  s.reason = reason_;
  s.last_error_code = last_error_code_;
  s.consecutive_failures = failures_;
  s.next_attempt_at = next_attempt_at_;
  if (cache_) s.expires_at = cache_->expires_at;
  s.persist_pending = pending_ != nullptr;
  return s;
}

// ---------------------------------------------------------------------------------------
// Entry points

TokenResult TokenSource::cachedOrError(const std::unique_lock<std::mutex>&) const {
  const TimePoint now = deps_.clock->now();
  if (cache_ && now < cache_->expires_at) return TokenResult{cache_, std::nullopt};
  if (state_ == ConnectionState::kNeedsReauth) {
    return failure(TokenError::Kind::kNeedsReauth, reason_.empty() ? "revoked" : reason_,
                   last_error_code_);
  }
  return failure(TokenError::Kind::kTemporarilyUnavailable,
                 last_error_code_.empty() ? "refresh_failing" : last_error_code_, last_error_code_,
                 next_attempt_at_);
}

void TokenSource::acquire(std::string actor, TokenCallback done) {
  std::unique_lock lock(mu_);
  const TimePoint now = deps_.clock->now();
  bool persist_retry_due = pending_ && now >= pending_->next_retry && !in_flight_;
  {
    auto token = freshCached(now);
    if (token) {
      if (persist_retry_due) {
        in_flight_ = true;
        lock.unlock();
        startRefresh(Mode::kOnDemand, actor);
      } else {
        lock.unlock();
      }
      done(TokenResult{std::move(token), std::nullopt});
      return;
    }
  }
  if (state_ == ConnectionState::kNeedsReauth && !cache_) {
    auto r = cachedOrError(lock);
    lock.unlock();
    done(r);
    return;
  }
  if (state_ == ConnectionState::kRefreshFailing && next_attempt_at_ && now < *next_attempt_at_ &&
      !persist_retry_due) {
    // Backing off: no IdP call before the next attempt; a still-valid token is served.
    auto r = cachedOrError(lock);
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

TokenResult TokenSource::token(std::string actor) {
  {
    // Hot path: a fresh cached token, no allocation beyond the shared_ptr copy.
    std::lock_guard lock(mu_);
    const bool persist_retry_due = pending_ && deps_.clock->now() >= pending_->next_retry;
    if (!persist_retry_due) {
      if (auto t = freshCached(deps_.clock->now())) return TokenResult{std::move(t), std::nullopt};
    }
  }
  std::promise<TokenResult> promise;
  auto future = promise.get_future();
  acquire(std::move(actor), [&promise](const TokenResult& r) { promise.set_value(r); });
  return future.get();
}

bool TokenSource::invalidate(int64_t version) {
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

void TokenSource::startRefresh(Mode mode, std::string actor) {
  auto self = shared_from_this();
  deps_.pool->post([self, mode, actor = std::move(actor)] {
    auto r = self->runRefresh(mode, actor);
    self->complete(r);
  });
}

void TokenSource::complete(const TokenResult& result) {
  std::vector<TokenCallback> waiters;
  {
    std::lock_guard lock(mu_);
    waiters.swap(waiters_);
    in_flight_ = false;
  }
  idle_cv_.notify_all();
  for (auto& w : waiters) w(result);
}

TokenResult TokenSource::runExclusive(Mode mode, const std::string& actor) {
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return !in_flight_; });
    in_flight_ = true;
  }
  auto r = runRefresh(mode, actor);
  complete(r);
  return r;
}

TokenResult TokenSource::refreshNow(std::string actor) {
  {
    std::lock_guard lock(mu_);
    forced_from_version_ = cache_ ? cache_->version : 0;
  }
  return runExclusive(Mode::kForced, actor);
}

void TokenSource::keeperRefresh() {
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return !in_flight_; });
    in_flight_ = true;
  }
  TokenResult result;
  bool ran = false;
  const TimePoint now = deps_.clock->now();
  if (!state_loaded_) loadState();
  bool skip = false;
  {
    // Nothing to do for a connection that needs a human, or one still backing off (unless
    // a rotated token waits to be written).
    std::lock_guard lock(mu_);
    skip = state_ == ConnectionState::kNeedsReauth ||
           (state_ == ConnectionState::kRefreshFailing && next_attempt_at_ &&
            now < *next_attempt_at_ && !pending_);
  }
  if (!skip) {
    result = runRefresh(Mode::kKeeper, std::string(events::kActorBackground));
    ran = true;
  }
  // Next look: the token's due time, the end of the backoff, or never (needs a human).
  std::optional<TimePoint> due;
  std::optional<store::TokenRecord> record;
  {
    std::lock_guard lock(mu_);
    if (state_ == ConnectionState::kRefreshFailing) {
      due = next_attempt_at_;
    } else if (state_ == ConnectionState::kConnected && meta_) {
      record = meta_->asRecord();
    } else if (state_ != ConnectionState::kNeedsReauth && spec_.client_credentials) {
      due = now;
    }
    if (pending_) due = due ? std::min(*due, pending_->next_retry) : pending_->next_retry;
  }
  if (record) due = computeNextDue(*record);
  writeState(due);
  if (ran) {
    complete(result);
  } else {
    {
      std::lock_guard lock(mu_);
      in_flight_ = false;
    }
    idle_cv_.notify_all();
  }
}

void TokenSource::onTokenChanged(const store::TokenChange& change) {
  std::lock_guard lock(mu_);
  if (change.resync || change.deleted || (cache_ && change.version > cache_->version)) {
    cache_.reset();
  }
  if (!change.deleted && state_ == ConnectionState::kNeedsReauth) {
    // Reconnected (on some replica): re-read the store on the next call.
    state_ = ConnectionState::kNotConnected;
  }
}

void TokenSource::setOAuthConfig(oauth::OAuthClientConfig config, std::string idp_host) {
  auto r = std::make_shared<Resolved>(Resolved{std::move(config), std::move(idp_host)});
  std::lock_guard lock(mu_);
  resolved_ = std::move(r);
}

std::shared_ptr<const TokenSource::Resolved> TokenSource::resolved() const {
  std::lock_guard lock(mu_);
  return resolved_;
}

oauth::OAuthClientConfig TokenSource::oauthConfig() const {
  auto r = resolved();
  return r ? r->oauth : spec_.oauth;
}

std::string TokenSource::idpHost() const {
  auto r = resolved();
  return r && !r->idp_host.empty() ? r->idp_host : spec_.idp_host;
}

void TokenSource::onConnected() {
  {
    std::lock_guard lock(mu_);
    cache_.reset();
    meta_.reset();
    invalidated_ = false;
    markConnected();
  }
  auto row = deps_.store->getToken(spec_.key);
  std::optional<TimePoint> due;
  if (row.ok() && row.value()) {
    adopt(*row.value());
    due = computeNextDue(*row.value());
  }
  writeState(due);
}

// ---------------------------------------------------------------------------------------
// The refresh

TokenResult TokenSource::runRefresh(Mode mode, const std::string& actor) {
  if (!state_loaded_) loadState();
  const std::string correlation = core::newId();
  if (!retryPendingPersist()) {
    // The rotated token is still only in memory. Serve it while it is fresh; refresh from
    // it (never from the stale row) when it is not.
    std::unique_lock lock(mu_);
    const TimePoint now = deps_.clock->now();
    if (auto t = freshCached(now); t && mode != Mode::kForced) return TokenResult{t, std::nullopt};
  }
  if (!held_lock_.held()) {
    auto lock = deps_.store->locks().lock(spec_.key, deps_.settings.lock_timeout);
    if (!lock.ok()) {
      const bool timeout = lock.error().code == core::Errc::kTimeout;
      core::log::warn("could not take the refresh lock",
                      {{"connection", spec_.key.str()}, {"error", lock.error().message}});
      return transient(nullptr, timeout ? "lock_timeout" : "store_unavailable", "", std::nullopt,
                       nullptr, 0, actor, correlation);
    }
    held_lock_ = std::move(lock).value();
  }
  auto result = refreshLocked(mode, actor, correlation, 0);
  bool keep_lock = false;
  {
    std::lock_guard lock(mu_);
    keep_lock = pending_ != nullptr;
  }
  if (!keep_lock) held_lock_.release();
  return result;
}

TokenResult TokenSource::refreshLocked(Mode mode, const std::string& actor,
                                       const std::string& correlation, int depth) {
  const TimePoint now = deps_.clock->now();
  store::TokenRecord row;
  int64_t expected_version = 0;
  bool from_pending = false;
  int64_t cached_version = -1;
  bool invalidated = false;
  int64_t forced_from = 0;
  {
    std::lock_guard lock(mu_);
    if (pending_) {
      row = pending_->record;
      expected_version = pending_->expected_version;
      from_pending = true;
    }
    cached_version = cache_ ? cache_->version : -1;
    invalidated = invalidated_;
    forced_from = forced_from_version_;
  }
  if (!from_pending) {
    auto read = deps_.store->getToken(spec_.key);
    if (!read.ok()) {
      return transient(nullptr, "store_unavailable", "", std::nullopt, nullptr, 0, actor,
                       correlation);
    }
    if (!read.value()) {
      if (!spec_.client_credentials) return needsReauthFromStore();
      row.key = spec_.key;  // client_credentials: the first token comes from the grant
      row.authenticated_at = now;
      row.authenticated_by = "system:client-credentials";
    } else {
      row = *read.value();
    }
    expected_version = row.version;
  }

  // Another replica, a reconnect or a concurrent caller may have refreshed already.
  const auto refresh_at = accessRefreshAt(row, deps_.settings);
  const bool fresh = row.version > 0 && refresh_at && now < *refresh_at;
  if (!from_pending && fresh) {
    const bool same_as_rejected = invalidated && row.version == cached_version;
    if (mode == Mode::kOnDemand && !same_as_rejected) return adopt(row);
    if (mode == Mode::kForced && row.version > forced_from && forced_from != 0) return adopt(row);
    if (mode == Mode::kKeeper &&
        !refreshDue(row, deps_.settings, spec_.refresh_max_lifetime, now)) {
      return adopt(row);
    }
  }

  // Local reasons not to call the IdP at all.
  if (!spec_.client_credentials && row.version > 0) {
    const auto deadline = refreshDeadline(row, spec_.refresh_max_lifetime);
    if (deadline && now >= *deadline) {
      return terminal(row, EventType::kRefreshSkippedExpired, "refresh_expired", nullptr, actor,
                      correlation, depth);
    }
    if (!row.refresh_token || row.refresh_token->empty()) {
      if (row.expires_at && now < *row.expires_at) return adopt(row);
      return terminal(row, EventType::kRefreshSkippedNoToken, "no_refresh_token", nullptr, actor,
                      correlation, depth);
    }
  }

  if (deps_.hooks.before_idp_call) deps_.hooks.before_idp_call();
  const auto t0 = std::chrono::steady_clock::now();
  const auto resolved_config = resolved();
  oauth::TokenEndpointClient client(*deps_.http,
                                    resolved_config ? resolved_config->oauth : spec_.oauth,
                                    *deps_.clock, basic_form_.load());
  oauth::GrantResult grant =
      spec_.client_credentials ? client.clientCredentials() : client.refresh(*row.refresh_token);
  bool answer_lost = false;
  if (!spec_.client_credentials && grant.classification.transient() &&
      grant.classification.request_sent &&
      grant.classification.transport_error != http::TransportError::kNone) {
    // The IdP may have acted on the request and spent a one-time-use refresh token: try
    // again at once (many IdPs allow a short reuse grace window).
    answer_lost = true;
    core::log::warn("refresh answer lost after the request was sent; retrying at once",
                    {{"connection", spec_.key.str()},
                     {"error", grant.classification.code},
                     {"correlation_id", correlation}});
    grant = client.refresh(*row.refresh_token);
  }
  basic_form_.store(client.basicForm());
  if (deps_.hooks.after_idp_response) deps_.hooks.after_idp_response();
  const double duration_ms = toMs(std::chrono::steady_clock::now() - t0);
  deps_.recorder->countRefresh(spec_.key,
                               oauth::outcomeClassName(grant.classification.outcome_class),
                               std::chrono::duration<double, std::milli>(duration_ms));

  const auto& c = grant.classification;
  if (grant.ok()) {
    store::TokenRecord after = row;
    const auto& t = *grant.tokens;
    after.access_token = t.access_token;
    after.token_type = t.token_type.empty() ? "Bearer" : t.token_type;
    if (!t.scope.empty()) after.scope = t.scope;
    after.expires_at = t.access_expires_at;
    if (!t.refresh_token.empty()) after.refresh_token = t.refresh_token;
    if (t.refresh_expires_at) {
      after.refresh_expires_at = t.refresh_expires_at;
    } else if (t.refresh_token_rotated) {
      after.refresh_expires_at.reset();
    }
    after.last_refreshed_at = now;
    if (auto host = idpHost(); !host.empty()) after.idp_host = std::move(host);
    return persistRefreshed(row, std::move(after), expected_version, grant, duration_ms, actor,
                            correlation);
  }
  if (c.terminal() && !spec_.client_credentials) {
    const std::string reason =
        answer_lost && c.code == "invalid_grant" ? "rotation_response_lost" : c.code;
    return terminal(row, EventType::kRefreshFailedRevoked, reason, &grant, actor, correlation,
                    depth);
  }
  // Transient, or a client_credentials rejection (a configuration error that needs an
  // operator to fix the client, never a re-authorization).
  return transient(row.version > 0 ? &row : nullptr, c.code, c.idp_error, c.retry_after, &grant,
                   duration_ms, actor, correlation);
}

void TokenSource::markConnected() {
  state_ = ConnectionState::kConnected;
  reason_.clear();
  last_error_code_.clear();
  failures_ = 0;
  first_failure_at_.reset();
  next_attempt_at_.reset();
  revoked_at_.reset();
  last_transient_event_at_.reset();
  suppressed_transient_ = 0;
}

TokenResult TokenSource::adopt(const store::TokenRecord& record) {
  std::lock_guard lock(mu_);
  const bool newer = !meta_ || meta_->version != record.version;
  meta_ = metaOf(record);
  cache_ = makeAccess(record);
  invalidated_ = false;
  if (state_ == ConnectionState::kNeedsReauth || state_ == ConnectionState::kNotConnected ||
      (state_ == ConnectionState::kRefreshFailing && newer)) {
    markConnected();
  }
  return TokenResult{cache_, std::nullopt};
}

TokenResult TokenSource::persistRefreshed(const store::TokenRecord& before,
                                          store::TokenRecord after, int64_t expected_version,
                                          const oauth::GrantResult& grant, double duration_ms,
                                          const std::string& actor,
                                          const std::string& correlation) {
  const TimePoint now = deps_.clock->now();
  const auto& tokens = *grant.tokens;
  events::Detail detail;
  detail.expires_before = before.expires_at;
  detail.expires_after = after.expires_at;
  detail.refresh_expires_before = before.refresh_expires_at;
  detail.refresh_expires_after = after.refresh_expires_at;
  detail.rotated = tokens.refresh_token_rotated;
  detail.duration_ms = duration_ms;
  if (grant.classification.http_status) detail.http_status = grant.classification.http_status;
  detail.error_class = "success";

  auto written = deps_.store->putToken(after, expected_version);
  if (written.ok()) {
    after.version = written.value();
    bool recovered = false;
    {
      std::lock_guard lock(mu_);
      recovered = state_ == ConnectionState::kRefreshFailing;
      meta_ = metaOf(after);
      cache_ = makeAccess(after);
      invalidated_ = false;
      pending_.reset();
      markConnected();
    }
    if (recovered) detail.reason = "recovered";
    writeState(computeNextDue(after));
    deps_.recorder->record(
        {EventType::kRefreshSucceeded, spec_.key, actor, idpHost(), correlation, detail});
    std::lock_guard lock(mu_);
    return TokenResult{cache_, std::nullopt};
  }

  if (written.error().code == core::Errc::kConflict) {
    // The row changed under our lock: a reconnect or an operator's delete. Theirs wins.
    core::log::warn("token row changed during the refresh; keeping the stored state",
                    {{"connection", spec_.key.str()}, {"correlation_id", correlation}});
    auto current = deps_.store->getToken(spec_.key);
    if (current.ok() && current.value()) return adopt(*current.value());
    {
      std::lock_guard lock(mu_);
      cache_.reset();
      meta_.reset();
    }
    return needsReauthFromStore();
  }

  // The write failed: the rotated refresh token must not be lost while this process
  // lives. Keep the tokens in memory, keep the lock (no replica may refresh from the stale
  // row), serve the new access token, and retry the write.
  core::log::error("could not persist refreshed tokens; keeping them in memory and retrying",
                   {{"connection", spec_.key.str()},
                    {"error", written.error().message},
                    {"correlation_id", correlation}});
  {
    std::lock_guard lock(mu_);
    meta_ = metaOf(after);
    auto access = std::make_shared<AccessToken>(*makeAccess(after));
    access->version = 0;  // not in the store yet
    cache_ = std::move(access);
    invalidated_ = false;
    state_ = ConnectionState::kConnected;
    failures_ = 0;
    next_attempt_at_.reset();
    auto p = std::make_unique<PendingPersist>();
    p->record = after;
    p->expected_version = expected_version;
    p->delay = deps_.settings.persist_retry_initial;
    p->next_retry = now + p->delay;
    pending_ = std::move(p);
  }
  detail.error_class = "store";
  detail.reason = std::string(core::errorInfo(written.error().code).name);
  deps_.recorder->record({EventType::kRefreshRotationPersistenceFailed, spec_.key, actor, idpHost(),
                          correlation, detail});
  std::lock_guard lock(mu_);
  return TokenResult{cache_, std::nullopt};
}

bool TokenSource::retryPendingPersist() {
  std::optional<store::TokenRecord> record;
  int64_t expected = 0;
  {
    std::lock_guard lock(mu_);
    if (!pending_) return true;
    record = pending_->record;
    expected = pending_->expected_version;
  }
  auto written = deps_.store->putToken(*record, expected);
  const TimePoint now = deps_.clock->now();
  if (written.ok()) {
    record->version = written.value();
    {
      std::lock_guard lock(mu_);
      pending_.reset();
      meta_ = metaOf(*record);
      cache_ = makeAccess(*record);
    }
    held_lock_.release();
    core::log::info("refreshed tokens persisted after an earlier failure",
                    {{"connection", spec_.key.str()}});
    writeState(computeNextDue(*record));
    return true;
  }
  if (written.error().code == core::Errc::kConflict) {
    core::log::error(
        "token row changed while a refreshed token waited to be written; keeping the stored one",
        {{"connection", spec_.key.str()}});
    {
      std::lock_guard lock(mu_);
      pending_.reset();
      cache_.reset();
      meta_.reset();
    }
    held_lock_.release();
    return true;
  }
  std::lock_guard lock(mu_);
  pending_->delay = std::min(pending_->delay * 2, deps_.settings.persist_retry_max);
  pending_->next_retry = now + pending_->delay;
  core::log::error("refreshed tokens still not persisted; will retry",
                   {{"connection", spec_.key.str()}, {"error", written.error().message}});
  return false;
}

TokenResult TokenSource::terminal(const store::TokenRecord& row, store::EventType lead_event,
                                  const std::string& reason, const oauth::GrantResult* grant,
                                  const std::string& actor, const std::string& correlation,
                                  int depth) {
  const TimePoint now = deps_.clock->now();
  events::Detail detail;
  detail.error_class = "terminal";
  detail.reason = reason;
  std::string idp_code;
  if (grant) {
    idp_code = grant->classification.idp_error;
    detail.idp_error = idp_code;
    if (grant->classification.http_status) detail.http_status = grant->classification.http_status;
  }
  detail.expires_before = row.expires_at;
  // 1. The lead event, with the IdP's code.
  deps_.recorder->record({lead_event, spec_.key, actor, idpHost(), correlation, detail});

  // 2. Delete only if the row still holds the refresh token that was rejected.
  core::Result<store::ConditionalDelete> deleted = store::ConditionalDelete::kNoToken;
  if (row.refresh_token && !row.refresh_token->empty()) {
    deleted = deps_.store->deleteTokenIfRefreshTokenIs(spec_.key, *row.refresh_token);
  } else {
    auto d = deps_.store->deleteToken(spec_.key, row.version);
    if (d.ok()) {
      deleted = d.value() ? store::ConditionalDelete::kDeleted : store::ConditionalDelete::kNoToken;
    } else if (d.error().code == core::Errc::kConflict) {
      deleted = store::ConditionalDelete::kTokenChanged;
    } else {
      deleted = std::move(d).takeError();
    }
  }

  if (deleted.ok() && deleted.value() == store::ConditionalDelete::kTokenChanged) {
    // 3. Someone else rotated it meanwhile: their token is good; use it.
    core::log::info("the rejected refresh token was already rotated elsewhere; using the new one",
                    {{"connection", spec_.key.str()}, {"correlation_id", correlation}});
    auto current = deps_.store->getToken(spec_.key);
    if (current.ok() && current.value()) {
      const auto& cur = *current.value();
      const auto refresh_at = accessRefreshAt(cur, deps_.settings);
      if ((refresh_at && now < *refresh_at) || depth > 0) return adopt(cur);
      return refreshLocked(Mode::kOnDemand, actor, correlation, depth + 1);
    }
  }
  if (!deleted.ok()) {
    core::log::error("could not delete the rejected token; it stays until the next attempt",
                     {{"connection", spec_.key.str()}, {"error", deleted.error().message}});
  }
  // 4. token_deleted_revoked only after the delete happened.
  if (deleted.ok() && deleted.value() == store::ConditionalDelete::kDeleted) {
    events::Detail d2;
    d2.reason = reason;
    d2.idp_error = idp_code;
    deps_.recorder->record(
        {EventType::kTokenDeletedRevoked, spec_.key, actor, idpHost(), correlation, d2});
  }
  // 5. needs_reauth.
  {
    std::lock_guard lock(mu_);
    cache_.reset();
    meta_.reset();
    invalidated_ = false;
    state_ = ConnectionState::kNeedsReauth;
    reason_ = reason;
    last_error_code_ = idp_code.empty() ? reason : idp_code;
    ++failures_;
    revoked_at_ = now;
    next_attempt_at_.reset();
  }
  writeState(std::nullopt);
  return failure(TokenError::Kind::kNeedsReauth, reason, idp_code);
}

TokenResult TokenSource::transient(const store::TokenRecord* row, const std::string& code,
                                   const std::string& idp_code, std::optional<Duration> retry_after,
                                   const oauth::GrantResult* grant, double duration_ms,
                                   const std::string& actor, const std::string& correlation) {
  const TimePoint now = deps_.clock->now();
  bool record_event = false;
  events::Detail detail;
  TimePoint next_attempt;
  {
    std::lock_guard lock(mu_);
    const bool first = state_ != ConnectionState::kRefreshFailing;
    ++failures_;
    if (!first_failure_at_) first_failure_at_ = now;
    next_attempt = now + backoffDelay(failures_, deps_.settings, retry_after, randomUnit());
    next_attempt_at_ = next_attempt;
    state_ = ConnectionState::kRefreshFailing;
    reason_ = code;
    last_error_code_ = idp_code.empty() ? code : idp_code;
    record_event = first || !last_transient_event_at_ ||
                   now - *last_transient_event_at_ >= deps_.settings.transient_event_interval;
    if (record_event) {
      last_transient_event_at_ = now;
      if (suppressed_transient_) detail.suppressed = suppressed_transient_;
      suppressed_transient_ = 0;
    } else {
      ++suppressed_transient_;
    }
    detail.consecutive_failures = failures_;
  }
  writeState(next_attempt);
  core::log::warn(
      "token refresh failed; will retry",
      {{"connection", spec_.key.str()},
       {"error", code},
       {"consecutive_failures", static_cast<int64_t>(detail.consecutive_failures.value_or(0))},
       {"next_attempt_at", core::formatRfc3339(next_attempt)},
       {"correlation_id", correlation}});
  if (record_event) {
    detail.error_class = "transient";
    detail.reason = code;
    detail.idp_error = idp_code;
    detail.next_attempt_at = next_attempt;
    if (grant && grant->classification.http_status) {
      detail.http_status = grant->classification.http_status;
    }
    if (duration_ms > 0) detail.duration_ms = duration_ms;
    deps_.recorder->record(
        {EventType::kRefreshFailedTransient, spec_.key, actor, idpHost(), correlation, detail});
  }
  // A token that has not expired yet still works.
  std::lock_guard lock(mu_);
  if (row && row->expires_at && now < *row->expires_at) {
    if (!cache_ || cache_->version != row->version) {
      meta_ = metaOf(*row);
      cache_ = makeAccess(*row);
    }
    return TokenResult{cache_, std::nullopt};
  }
  if (!row && cache_ && now < cache_->expires_at) return TokenResult{cache_, std::nullopt};
  return failure(TokenError::Kind::kTemporarilyUnavailable, code, idp_code, next_attempt);
}

TokenResult TokenSource::needsReauthFromStore() {
  auto st = deps_.store->getState(spec_.key);
  std::lock_guard lock(mu_);
  cache_.reset();
  meta_.reset();
  if (st.ok() && st.value() && st.value()->state == ConnectionState::kNeedsReauth) {
    state_ = ConnectionState::kNeedsReauth;
    reason_ = st.value()->reason;
    last_error_code_ = st.value()->last_error_code;
    return failure(TokenError::Kind::kNeedsReauth, reason_.empty() ? "revoked" : reason_,
                   last_error_code_);
  }
  state_ = ConnectionState::kNotConnected;
  return failure(TokenError::Kind::kNeedsReauth, "not_connected", "");
}

}  // namespace tether::lifecycle
