// The refresh of one connection (DESIGN.md §3–§5), run by the one runner of its source:
// the store lock, the re-read of the row, the local deadline rules, the IdP call, and what
// each outcome does (transitions.h decides the state; this file does the I/O around it).
#include "core/log.h"
#include "core/random.h"
#include "lifecycle/source_runner.h"
#include "oauth/classify.h"

namespace tether::lifecycle::detail {
namespace {

using store::ConnectionState;
using store::EventType;

/// The record a successful grant leaves: `row` with the new tokens.
store::TokenRecord refreshed(const store::TokenRecord& row, const oauth::GrantResult& grant,
                             TimePoint now, std::string idp_host) {
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
  if (!idp_host.empty()) after.idp_host = std::move(idp_host);
  return after;
}

}  // namespace

TokenResult SourceRunner::runRefresh(Mode mode, const std::string& actor) {
  if (!state_loaded_) loadState();
  Attempt a{mode, actor, core::newId()};
  if (!retryPendingPersist()) {
    // The rotated token is still only in memory. Serve it while it is fresh; refresh from
    // it (never from the stale row) when it is not.
    std::unique_lock lock(mu_);
    if (auto t = freshCached(deps_.clock->now()); t && mode != Mode::kForced) {
      return TokenResult(t);
    }
  }
  if (!held_lock_.held()) {
    auto lock = deps_.store->locks().lock(spec_.key, deps_.settings.lock_timeout);
    if (!lock.ok()) {
      const bool timeout = lock.error().code == core::Errc::kTimeout;
      core::log::warn("could not take the refresh lock",
                      {{"connection", spec_.key.str()}, {"error", lock.error().message}});
      return transient(a, nullptr,
                       {timeout ? "lock_timeout" : "store_unavailable", "", std::nullopt, 0});
    }
    held_lock_ = std::move(lock).value();
  }
  auto result = refreshLocked(a);
  bool keep_lock = false;
  {
    std::lock_guard lock(mu_);
    keep_lock = pending_ != nullptr;
  }
  if (!keep_lock) held_lock_.release();
  return result;
}

TokenResult SourceRunner::refreshLocked(Attempt& a) {
  const TimePoint now = deps_.clock->now();
  a.started = now;
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
    a.from_client_fix = state_.state == ConnectionState::kNeedsClientFix;
  }
  if (!from_pending) {
    auto read = deps_.store->getToken(spec_.key);
    if (!read.ok()) return transient(a, nullptr, {"store_unavailable", "", std::nullopt, 0});
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
    if (a.mode == Mode::kOnDemand && !same_as_rejected) return adopt(row);
    if (a.mode == Mode::kForced && row.version > forced_from && forced_from != 0) {
      return adopt(row);
    }
    if (a.mode == Mode::kKeeper &&
        !refreshDue(row, deps_.settings, spec_.refresh_max_lifetime, now)) {
      return adopt(row);
    }
  }

  // Local reasons not to call the IdP at all.
  switch (localVerdict(row, spec_.client_credentials, spec_.refresh_max_lifetime, now)) {
    case Verdict::kRefreshExpired:
      return terminal(a, row, EventType::kRefreshSkippedExpired, {"refresh_expired", ""});
    case Verdict::kNoRefreshToken:
      return terminal(a, row, EventType::kRefreshSkippedNoToken, {"no_refresh_token", ""});
    case Verdict::kAdopt:
      return adopt(row);
    case Verdict::kCallIdp:
      break;
  }
  return callIdp(a, row, expected_version);
}

TokenResult SourceRunner::callIdp(Attempt& a, const store::TokenRecord& row,
                                  int64_t expected_version) {
  if (needsTokenEndpoint()) {
    if (auto failure = discoverTokenEndpoint(a.correlation)) {
      return transient(a, row.version > 0 ? &row : nullptr, std::move(*failure));
    }
  }
  if (deps_.hooks.before_idp_call) deps_.hooks.before_idp_call();
  const auto t0 = deps_.clock->monotonic();
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
                     {"correlation_id", a.correlation}});
    grant = client.refresh(*row.refresh_token);
  }
  basic_form_.store(client.basicForm());
  if (deps_.hooks.after_idp_response) deps_.hooks.after_idp_response();
  a.duration_ms = std::chrono::duration<double, std::milli>(deps_.clock->monotonic() - t0).count();
  a.grant = &grant;
  deps_.recorder->countRefresh(spec_.key,
                               oauth::outcomeClassName(grant.classification.outcome_class),
                               std::chrono::duration<double, std::milli>(a.duration_ms));

  const auto& c = grant.classification;
  if (grant.ok()) {
    return persistRefreshed(a, row, refreshed(row, grant, a.started, idpHost()), expected_version);
  }
  if (c.terminal() && rejectsClient(c.code)) {
    return clientRejected(a, row.version > 0 ? &row : nullptr, {c.code, c.idp_error});
  }
  if (c.terminal() && !spec_.client_credentials) {
    const std::string reason =
        answer_lost && c.code == "invalid_grant" ? "rotation_response_lost" : c.code;
    return terminal(a, row, EventType::kRefreshFailedRevoked, {reason, c.idp_error});
  }
  // Transient, or a client_credentials grant the IdP refused for another reason
  // (unsupported_grant_type, invalid_scope: a configuration error, never a re-authorization).
  return transient(a, row.version > 0 ? &row : nullptr, {c.code, c.idp_error, c.retry_after, 0});
}

TokenResult SourceRunner::persistRefreshed(const Attempt& a, const store::TokenRecord& before,
                                           store::TokenRecord after, int64_t expected_version) {
  const TimePoint now = deps_.clock->now();
  const auto& grant = *a.grant;
  events::Detail detail;
  detail.expires_before = before.expires_at;
  detail.expires_after = after.expires_at;
  detail.refresh_expires_before = before.refresh_expires_at;
  detail.refresh_expires_after = after.refresh_expires_at;
  detail.rotated = grant.tokens->refresh_token_rotated;
  detail.duration_ms = a.duration_ms;
  if (grant.classification.http_status) detail.http_status = grant.classification.http_status;
  detail.error_class = "success";

  auto written = deps_.store->putToken(after, expected_version);
  if (written.ok()) {
    after.version = written.value();
    Effects fx;
    {
      std::lock_guard lock(mu_);
      meta_ = TokenMeta::of(after);
      cache_ = makeAccess(after);
      invalidated_ = false;
      pending_.reset();
      fx = transition(event::Succeeded{}, now);
    }
    if (fx.recovered || a.from_client_fix) detail.reason = "recovered";
    writeState(computeNextDue(after));
    deps_.recorder->record(
        {EventType::kRefreshSucceeded, spec_.key, a.actor, idpHost(), a.correlation, detail});
    std::lock_guard lock(mu_);
    return served(cache_);
  }

  if (written.error().code == core::Errc::kConflict) {
    // The row changed under our lock: a reconnect or an operator's delete. Theirs wins.
    core::log::warn("token row changed during the refresh; keeping the stored state",
                    {{"connection", spec_.key.str()}, {"correlation_id", a.correlation}});
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
                    {"correlation_id", a.correlation}});
  {
    std::lock_guard lock(mu_);
    meta_ = TokenMeta::of(after);
    auto access = std::make_shared<AccessToken>(*makeAccess(after));
    access->version = 0;  // not in the store yet
    cache_ = std::move(access);
    invalidated_ = false;
    transition(event::PersistFailed{}, now);
    auto p = std::make_unique<PendingPersist>();
    p->record = after;
    p->expected_version = expected_version;
    p->delay = deps_.settings.persist_retry_initial;
    p->next_retry = now + p->delay;
    pending_ = std::move(p);
  }
  detail.error_class = "store";
  detail.reason = std::string(core::errorInfo(written.error().code).name);
  deps_.recorder->record({EventType::kRefreshRotationPersistenceFailed, spec_.key, a.actor,
                          idpHost(), a.correlation, detail});
  std::lock_guard lock(mu_);
  return served(cache_);
}

bool SourceRunner::retryPendingPersist() {
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
      meta_ = TokenMeta::of(*record);
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
  pending_->delay = nextPersistDelay(pending_->delay, deps_.settings);
  pending_->next_retry = now + pending_->delay;
  core::log::error("refreshed tokens still not persisted; will retry",
                   {{"connection", spec_.key.str()}, {"error", written.error().message}});
  return false;
}

TokenResult SourceRunner::terminal(Attempt& a, const store::TokenRecord& row,
                                   store::EventType lead_event, event::TerminalFailure failure) {
  const TimePoint now = deps_.clock->now();
  events::Detail detail;
  detail.error_class = "terminal";
  detail.reason = failure.reason;
  detail.idp_error = failure.idp_code;
  if (a.grant && a.grant->classification.http_status) {
    detail.http_status = a.grant->classification.http_status;
  }
  detail.expires_before = row.expires_at;
  // 1. The lead event, with the IdP's code.
  deps_.recorder->record({lead_event, spec_.key, a.actor, idpHost(), a.correlation, detail});

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
                    {{"connection", spec_.key.str()}, {"correlation_id", a.correlation}});
    auto current = deps_.store->getToken(spec_.key);
    if (current.ok() && current.value()) {
      const auto& cur = *current.value();
      const auto refresh_at = accessRefreshAt(cur, deps_.settings);
      if ((refresh_at && now < *refresh_at) || a.depth > 0) return adopt(cur);
      Attempt again{Mode::kOnDemand, a.actor, a.correlation, a.depth + 1};
      return refreshLocked(again);
    }
  }
  if (!deleted.ok()) {
    core::log::error("could not delete the rejected token; it stays until the next attempt",
                     {{"connection", spec_.key.str()}, {"error", deleted.error().message}});
  }
  // 4. token_deleted_revoked only after the delete happened.
  if (deleted.ok() && deleted.value() == store::ConditionalDelete::kDeleted) {
    events::Detail d2;
    d2.reason = failure.reason;
    d2.idp_error = failure.idp_code;
    deps_.recorder->record(
        {EventType::kTokenDeletedRevoked, spec_.key, a.actor, idpHost(), a.correlation, d2});
  }
  // 5. needs_reauth.
  {
    std::lock_guard lock(mu_);
    cache_.reset();
    meta_.reset();
    invalidated_ = false;
    transition(failure, now);
  }
  writeState(std::nullopt);
  return refused(TokenError::Kind::kNeedsReauth, failure.reason, failure.idp_code);
}

TokenResult SourceRunner::transient(const Attempt& a, const store::TokenRecord* row,
                                    event::TransientFailure failure) {
  const TimePoint now = deps_.clock->now();
  Effects fx;
  State after;
  {
    std::lock_guard lock(mu_);
    failure.unit = randomUnit();
    fx = transition(failure, now);
    after = state_;
  }
  const TimePoint next_attempt = *after.next_attempt_at;
  writeState(next_attempt);
  core::log::warn("token refresh failed; will retry",
                  {{"connection", spec_.key.str()},
                   {"error", failure.code},
                   {"consecutive_failures", static_cast<int64_t>(after.failures)},
                   {"next_attempt_at", core::formatRfc3339(next_attempt)},
                   {"correlation_id", a.correlation}});
  if (fx.record_transient) {
    events::Detail detail;
    if (fx.suppressed) detail.suppressed = fx.suppressed;
    detail.consecutive_failures = after.failures;
    detail.error_class = failure.configuration ? "configuration" : "transient";
    detail.reason = failure.code;
    detail.idp_error = failure.idp_code;
    detail.next_attempt_at = next_attempt;
    if (a.grant && a.grant->classification.http_status) {
      detail.http_status = a.grant->classification.http_status;
    }
    if (a.duration_ms > 0) detail.duration_ms = a.duration_ms;
    deps_.recorder->record(
        {EventType::kRefreshFailedTransient, spec_.key, a.actor, idpHost(), a.correlation, detail});
  }
  // A token that has not expired yet still works.
  std::lock_guard lock(mu_);
  if (row && row->expires_at && now < *row->expires_at) {
    if (!cache_ || cache_->version != row->version) {
      meta_ = TokenMeta::of(*row);
      cache_ = makeAccess(*row);
    }
    return served(cache_);
  }
  if (!row && cache_ && now < cache_->expires_at) return served(cache_);
  return refused(TokenError::Kind::kTemporarilyUnavailable, failure.code, failure.idp_code,
                 next_attempt);
}

TokenResult SourceRunner::clientRejected(Attempt& a, const store::TokenRecord* row,
                                         event::ClientRejected failure) {
  const TimePoint now = deps_.clock->now();
  const bool reregister = spec_.client_registered;
  events::Detail detail;
  detail.error_class = "client";
  detail.reason = reregister ? "registered_client_rejected" : failure.reason;
  detail.idp_error = failure.idp_code;
  if (a.grant && a.grant->classification.http_status) {
    detail.http_status = a.grant->classification.http_status;
  }
  if (a.duration_ms > 0) detail.duration_ms = a.duration_ms;
  if (row) detail.expires_before = row->expires_at;
  deps_.recorder->record({EventType::kRefreshFailedClientRejected, spec_.key, a.actor, idpHost(),
                          a.correlation, detail});
  core::log::warn(reregister ? "the identity provider rejected the client Tether registered; the "
                               "next connect registers a new one"
                             : "the identity provider rejected Tether's client credentials; the "
                               "tokens are kept until the connection's client settings are fixed",
                  {{"connection", spec_.key.str()},
                   {"error", failure.reason},
                   {"correlation_id", a.correlation}});
  if (reregister) {
    // A grant belongs to its client: a new registration needs a new consent. The tokens
    // stay stored (the reconnect replaces them); last_error_code tells the connect flow to
    // register afresh.
    {
      std::lock_guard lock(mu_);
      cache_.reset();
      meta_.reset();
      invalidated_ = false;
      transition(
          event::TerminalFailure{"client_rejected",
                                 failure.idp_code.empty() ? failure.reason : failure.idp_code},
          now);
    }
    writeState(std::nullopt);
    return refused(TokenError::Kind::kNeedsReauth, "client_rejected", failure.idp_code);
  }
  {
    std::lock_guard lock(mu_);
    client_rejected_here_ = true;
    transition(failure, now);
    // The access token held still works at the upstream until it expires.
    if (row && row->expires_at && now < *row->expires_at &&
        (!cache_ || cache_->version != row->version)) {
      meta_ = TokenMeta::of(*row);
      cache_ = makeAccess(*row);
    }
  }
  writeState(std::nullopt);  // no next due time: the keeper waits for new client settings
  std::lock_guard lock(mu_);
  if (cache_ && now < cache_->expires_at) return served(cache_);
  return refused(TokenError::Kind::kTemporarilyUnavailable, "needs_client_fix",
                 failure.idp_code.empty() ? failure.reason : failure.idp_code);
}

TokenResult SourceRunner::needsReauthFromStore() {
  auto st = deps_.store->getState(spec_.key);
  std::lock_guard lock(mu_);
  cache_.reset();
  meta_.reset();
  std::optional<store::StateRecord> stored;
  if (st.ok() && st.value()) stored = *st.value();
  transition(event::NoToken{stored}, deps_.clock->now());
  if (state_.state == ConnectionState::kNeedsReauth) {
    return refused(TokenError::Kind::kNeedsReauth,
                   state_.reason.empty() ? "revoked" : state_.reason, state_.last_error_code);
  }
  return refused(TokenError::Kind::kNeedsReauth, "not_connected", "");
}

}  // namespace tether::lifecycle::detail
