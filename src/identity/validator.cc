#include "identity/validator.h"

#include <algorithm>
#include <boost/json.hpp>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/digest.h"
#include "core/log.h"

namespace tether::identity {

namespace {

Rejection reject(Check check, std::string detail) { return Rejection{check, std::move(detail)}; }

int64_t epochSeconds(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view checkName(Check check) {
  switch (check) {
    case Check::kMalformed:
      return "malformed";
    case Check::kAlgorithm:
      return "algorithm";
    case Check::kUnknownKey:
      return "unknown_kid";
    case Check::kKeysUnavailable:
      return "jwks_unavailable";
    case Check::kSignature:
      return "signature";
    case Check::kIssuer:
      return "issuer";
    case Check::kAudience:
      return "audience";
    case Check::kExpired:
      return "expired";
    case Check::kNotYetValid:
      return "not_yet_valid";
    case Check::kSubject:
      return "subject";
    case Check::kInactive:
      return "inactive";
    case Check::kIntrospectionUnavailable:
      return "introspection_unavailable";
    case Check::kScope:
      return "insufficient_scope";
  }
  return "unknown";
}

struct Validator::State {
  struct Waiter {
    std::string token;
    std::string audience;
    std::function<void(Verdict)> done;
  };
  struct Introspected {
    TokenClaims claims;
    core::MonoPoint expires;
  };

  // Recursive: a fetch is posted to the blocking executor with `mu` held, and an executor
  // that is shutting down runs it on the calling thread (core::ThreadPool::post).
  std::recursive_mutex mu;
  std::shared_ptr<const JwkSet> jwks;
  std::optional<core::MonoPoint> jwks_loaded;
  std::optional<core::MonoPoint> last_fetch;
  std::string last_fetch_error;
  bool fetching = false;
  std::vector<Waiter> waiters;

  // Introspection cache: SHA-256 of the token -> its claims, in insertion order for eviction.
  std::unordered_map<std::string, Introspected> introspected;
  std::deque<std::string> order;

  // Verified JWTs: SHA-256 of the token -> the audience it was checked for, its exp and the
  // caller, so a client reusing its token costs a hash and a lookup, not a signature check.
  // Cleared whenever the JWK Set changes (a key removed stops its tokens at once).
  struct Verified {
    std::string audience;
    int64_t exp = 0;
    std::shared_ptr<const Caller> caller;
  };
  std::unordered_map<std::string, Verified> verified;
  std::deque<std::string> verified_order;
  size_t introspections_in_flight = 0;
};

std::shared_ptr<Validator> Validator::create(ValidatorOptions options, ValidatorDeps deps) {
  return std::shared_ptr<Validator>(new Validator(std::move(options), std::move(deps)));
}

Validator::Validator(ValidatorOptions options, ValidatorDeps deps)
    : options_(std::move(options)),
      deps_(std::move(deps)),
      clock_(deps_.clock ? deps_.clock : &core::systemClock()),
      state_(std::make_unique<State>()) {}

Validator::~Validator() = default;

std::chrono::seconds Validator::fetchInterval() const {
  // mu held. Without any key every call fails anyway: retry sooner than a refresh.
  return state_->jwks ? options_.jwks_min_refresh : options_.jwks_retry_without_keys;
}

void Validator::prefetch() {
  std::lock_guard lock(state_->mu);
  startFetchLocked();
}

bool Validator::startFetchLocked() {
  State& s = *state_;
  if (s.fetching) return true;
  const auto now = clock_->monotonic();
  if (s.last_fetch && now - *s.last_fetch < fetchInterval()) return false;
  if (!deps_.fetch_jwks || !deps_.run_blocking) return false;
  s.fetching = true;
  s.last_fetch = now;
  jwks_fetches_.fetch_add(1, std::memory_order_relaxed);
  deps_.run_blocking([self = shared_from_this()] { self->runFetch(); });
  return true;
}

void Validator::runFetch() {
  auto body = deps_.fetch_jwks();
  std::shared_ptr<const JwkSet> parsed;
  std::string error;
  if (body.ok()) {
    auto set = JwkSet::parse(*body);
    if (set.ok()) {
      parsed = std::make_shared<const JwkSet>(std::move(set).value());
    } else {
      error = set.error().message;
    }
  } else {
    error = body.error().message;
  }
  std::vector<State::Waiter> waiters;
  {
    std::lock_guard lock(state_->mu);
    state_->fetching = false;
    if (parsed) {
      state_->jwks = parsed;
      state_->jwks_loaded = clock_->monotonic();
      state_->last_fetch_error.clear();
      state_->verified.clear();
      state_->verified_order.clear();
    } else {
      state_->last_fetch_error = error;
    }
    waiters.swap(state_->waiters);
  }
  if (parsed) {
    core::log::info("inbound JWK Set fetched",
                    {{"issuer", options_.issuer}, {"keys", std::to_string(parsed->size())}});
  } else {
    // The old set (if any) stays in use.
    core::log::warn("inbound JWK Set fetch failed",
                    {{"issuer", options_.issuer}, {"error", error}});
  }
  for (auto& w : waiters) {
    bool must_wait = false;
    auto v = checkJwt(w.token, w.audience, /*may_fetch=*/false, &must_wait);
    w.done(v ? std::move(*v)
             : Verdict(reject(Check::kKeysUnavailable, "the issuer's JWK Set is unavailable")));
  }
}

Verdict Validator::checkClaims(const TokenClaims& c, std::string_view audience, bool require_exp) {
  if (c.iss != options_.issuer && !(c.iss.empty() && !require_exp)) {
    return reject(Check::kIssuer, "iss is not the configured issuer " + options_.issuer);
  }
  if (!(c.aud.empty() && !require_exp) &&
      std::find(c.aud.begin(), c.aud.end(), audience) == c.aud.end()) {
    return reject(Check::kAudience, "aud does not include " + std::string(audience));
  }
  const int64_t now = epochSeconds(clock_->now());
  const int64_t skew = options_.clock_skew.count();
  if (!c.exp && require_exp) return reject(Check::kExpired, "the token has no exp");
  if (c.exp && now > *c.exp + skew) {
    return reject(Check::kExpired, "the token expired " + std::to_string(now - *c.exp) +
                                       " s ago (clock skew " + std::to_string(skew) + " s)");
  }
  if (c.nbf && *c.nbf > now + skew) {
    return reject(Check::kNotYetValid, "nbf is " + std::to_string(*c.nbf - now) +
                                           " s in the future (clock skew " + std::to_string(skew) +
                                           " s)");
  }
  if (c.iat && *c.iat > now + skew) {
    return reject(Check::kNotYetValid, "iat is " + std::to_string(*c.iat - now) +
                                           " s in the future (clock skew " + std::to_string(skew) +
                                           " s)");
  }
  if (c.subject.empty()) {
    return reject(Check::kSubject, "the token has no " + options_.claims.subject + " claim");
  }
  for (const auto& need : options_.required_scopes) {
    if (std::find(c.scopes.begin(), c.scopes.end(), need) == c.scopes.end()) {
      return reject(Check::kScope, "the token lacks the required scope " + need);
    }
  }
  auto caller = std::make_shared<Caller>();
  caller->subject = c.subject;
  caller->groups = c.groups;
  caller->scopes = c.scopes;
  caller->client_id = c.client_id;
  return std::shared_ptr<const Caller>(std::move(caller));
}

std::optional<Verdict> Validator::checkJwt(std::string_view token, std::string_view audience,
                                           bool may_fetch, bool* must_wait, int64_t* exp) {
  auto parsed = parseJws(token, options_.claims);
  if (!parsed.ok()) return Verdict(reject(Check::kMalformed, parsed.error().message));
  const ParsedJws& jws = *parsed;
  auto alg = algFromName(jws.header.alg);
  if (!alg || std::find(options_.algorithms.begin(), options_.algorithms.end(), *alg) ==
                  options_.algorithms.end()) {
    // Bounded echo: alg is caller-chosen, keep it short and printable.
    std::string shown = jws.header.alg.substr(0, 16);
    for (char& ch : shown) {
      if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
    }
    return Verdict(reject(Check::kAlgorithm, "alg \"" + shown + "\" is not accepted"));
  }
  std::shared_ptr<const JwkSet> jwks;
  bool refresh_due = false;
  {
    std::lock_guard lock(state_->mu);
    jwks = state_->jwks;
    const auto now = clock_->monotonic();
    refresh_due = state_->jwks_loaded && now - *state_->jwks_loaded > options_.jwks_max_age;
    const bool known = jwks && (jws.header.kid.empty() || jwks->hasKid(jws.header.kid));
    if (!known) {
      if (may_fetch && startFetchLocked() && state_->waiters.size() < options_.max_waiters) {
        *must_wait = true;
        return std::nullopt;
      }
      if (!jwks) {
        return Verdict(reject(
            Check::kKeysUnavailable,
            "the issuer's JWK Set is unavailable" + (state_->last_fetch_error.empty()
                                                         ? std::string()
                                                         : " (" + state_->last_fetch_error + ")")));
      }
      return Verdict(reject(Check::kUnknownKey, "no key of the issuer's JWK Set has this kid"));
    }
    if (refresh_due) startFetchLocked();  // in the background; this call goes on
  }
  bool verified = false;
  for (const PublicJwk* key : jwks->candidates(jws.header.kid, *alg)) {
    if (key->verify(*alg, jws.signing_input, jws.signature)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    return Verdict(reject(Check::kSignature, "the signature does not verify with the issuer's " +
                                                 std::string(algName(*alg)) + " keys"));
  }
  if (exp) *exp = jws.claims.exp.value_or(0);
  return checkClaims(jws.claims, audience, /*require_exp=*/true);
}

std::optional<Verdict> Validator::tryValidate(std::string_view token, std::string_view audience) {
  if (token.size() > kMaxTokenBytes) {
    return Verdict(reject(Check::kMalformed, "token is larger than 16 KiB"));
  }
  if (looksLikeJws(token)) {
    const std::string key = core::sha256(token);
    {
      std::lock_guard lock(state_->mu);
      auto it = state_->verified.find(key);
      if (it != state_->verified.end() && it->second.audience == audience) {
        const int64_t now = epochSeconds(clock_->now());
        if (now <= it->second.exp + options_.clock_skew.count()) return Verdict(it->second.caller);
        state_->verified.erase(it);  // expired: the full check says so below
      }
    }
    bool must_wait = false;
    int64_t exp = 0;
    // No fetch from here: `validate` starts it and registers as a waiter.
    auto v = checkJwt(token, audience, /*may_fetch=*/false, &must_wait, &exp);
    if (v && v->ok()) {
      std::lock_guard lock(state_->mu);
      auto& s = *state_;
      while (s.verified.size() >= options_.verified_cache_entries && !s.verified_order.empty()) {
        s.verified.erase(s.verified_order.front());
        s.verified_order.pop_front();
      }
      if (options_.verified_cache_entries > 0 &&
          s.verified.insert_or_assign(key, State::Verified{std::string(audience), exp, **v})
              .second) {
        s.verified_order.push_back(key);
      }
    }
    if (v && !v->ok() &&
        (v->error().check == Check::kUnknownKey || v->error().check == Check::kKeysUnavailable)) {
      std::lock_guard lock(state_->mu);
      const auto now = clock_->monotonic();
      const bool may_start =
          state_->fetching || !state_->last_fetch || now - *state_->last_fetch >= fetchInterval();
      if (may_start && deps_.fetch_jwks) return std::nullopt;
    }
    return v;
  }
  if (!options_.introspection) {
    return Verdict(reject(Check::kMalformed,
                          "the token is not a JWT and no introspection endpoint is configured"));
  }
  const std::string key = core::sha256(token);
  std::lock_guard lock(state_->mu);
  auto it = state_->introspected.find(key);
  if (it != state_->introspected.end() && clock_->monotonic() < it->second.expires) {
    return checkClaims(it->second.claims, audience, /*require_exp=*/false);
  }
  return std::nullopt;
}

void Validator::validate(std::string token, std::string audience,
                         std::function<void(Verdict)> done) {
  if (auto v = tryValidate(token, audience)) {
    done(std::move(*v));
    return;
  }
  if (looksLikeJws(token)) {
    bool must_wait = false;
    std::optional<Verdict> v;
    {
      // Check and enqueue under one lock, so the fetch cannot finish in between.
      std::unique_lock lock(state_->mu);
      const bool known = state_->jwks && [&] {
        auto p = parseJws(token, options_.claims);
        return p.ok() && (p->header.kid.empty() || state_->jwks->hasKid(p->header.kid));
      }();
      // `fetching` is false again when the executor ran the fetch on this thread.
      if (!known && startFetchLocked() && state_->fetching &&
          state_->waiters.size() < options_.max_waiters) {
        state_->waiters.push_back({std::move(token), std::move(audience), std::move(done)});
        return;
      }
    }
    v = checkJwt(token, audience, /*may_fetch=*/false, &must_wait);
    done(v ? std::move(*v)
           : Verdict(reject(Check::kKeysUnavailable, "the issuer's JWK Set is unavailable")));
    return;
  }
  {
    std::lock_guard lock(state_->mu);
    if (state_->introspections_in_flight >= options_.max_introspections_in_flight ||
        !deps_.introspect || !deps_.run_blocking) {
      done(reject(Check::kIntrospectionUnavailable, "too many introspections in flight"));
      return;
    }
    ++state_->introspections_in_flight;
  }
  deps_.run_blocking([self = shared_from_this(), token = std::move(token),
                      audience = std::move(audience), done = std::move(done)] {
    auto body = self->deps_.introspect(token);
    std::optional<Verdict> verdict;
    std::optional<TokenClaims> claims;
    if (!body.ok()) {
      verdict = Verdict(reject(Check::kIntrospectionUnavailable, body.error().message));
    } else {
      boost::system::error_code ec;
      auto v = boost::json::parse(*body, ec);
      const auto* active = !ec && v.is_object() ? v.as_object().if_contains("active") : nullptr;
      if (!active) {
        verdict = Verdict(reject(Check::kIntrospectionUnavailable,
                                 "the introspection answer is not an RFC 7662 JSON object"));
      } else if (!active->is_bool() || !active->as_bool()) {
        verdict = Verdict(reject(Check::kInactive, "the introspection endpoint says inactive"));
      } else {
        auto c = parseClaims(*body, self->options_.claims);
        if (!c.ok()) {
          verdict = Verdict(reject(Check::kMalformed, c.error().message));
        } else {
          claims = std::move(c).value();
        }
      }
    }
    if (claims) {
      verdict = self->checkClaims(*claims, audience, /*require_exp=*/false);
      std::lock_guard lock(self->state_->mu);
      auto& s = *self->state_;
      const auto mono = self->clock_->monotonic();
      auto ttl =
          std::chrono::duration_cast<std::chrono::seconds>(self->options_.introspection_cache_ttl);
      if (claims->exp) {
        const int64_t left = *claims->exp - epochSeconds(self->clock_->now());
        ttl = std::min(ttl, std::chrono::seconds(std::max<int64_t>(0, left)));
      }
      if (verdict->ok() && ttl.count() > 0) {
        while (s.introspected.size() >= self->options_.introspection_cache_entries &&
               !s.order.empty()) {
          s.introspected.erase(s.order.front());
          s.order.pop_front();
        }
        const std::string key = core::sha256(token);
        if (s.introspected.insert_or_assign(key, State::Introspected{*claims, mono + ttl}).second) {
          s.order.push_back(key);
        }
      }
    }
    {
      std::lock_guard lock(self->state_->mu);
      --self->state_->introspections_in_flight;
    }
    done(std::move(*verdict));
  });
}

}  // namespace tether::identity
