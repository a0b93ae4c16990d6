// The store's logic and queries, written once over the internal SQL session layer
// (store/sql/sql.h); the SQLite and PostgreSQL backends differ only where noted.

#include "store/store.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <set>
#include <tuple>

#include "core/log.h"
#include "core/random.h"
#include "store/shown_state.h"
#include "store/sql/migrations.h"
#include "store/sql/session_revocations.h"
#include "store/sql/sql.h"

namespace tether::store {

std::string_view connectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::kNotConnected:
      return "not_connected";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kRefreshFailing:
      return "refresh_failing";
    case ConnectionState::kNeedsReauth:
      return "needs_reauth";
  }
  return "not_connected";
}

std::optional<ConnectionState> parseConnectionState(std::string_view name) {
  for (auto s : {ConnectionState::kNotConnected, ConnectionState::kConnected,
                 ConnectionState::kRefreshFailing, ConnectionState::kNeedsReauth}) {
    if (connectionStateName(s) == name) return s;
  }
  return std::nullopt;
}

namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;
using sql::Param;
using sql::Session;

constexpr std::string_view kKeyCheckPlaintext = "tether-key-check-v1";
constexpr size_t kMaxKeyPart = 256;
constexpr size_t kMaxText = 4096;
constexpr size_t kMaxDetail = 16 * 1024;
constexpr int kMaxListLimit = 100'000;
constexpr size_t kSyncBatch = 200;

int64_t toMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint fromMs(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}
std::optional<int64_t> optMs(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return toMs(*t);
}
std::optional<TimePoint> optTime(const sql::Value& v) {
  if (v.isNull()) return std::nullopt;
  return fromMs(v.asInt());
}

Error withContext(const Error& e, std::string_view op, std::string_view subject) {
  if (subject.empty()) return Error(e.code, fmt::format("store: {}: {}", op, e.message));
  return Error(e.code, fmt::format("store: {} {}: {}", op, subject, e.message));
}

Status checkKey(const ConnectionKey& key) {
  if (key.kind.empty() || key.name.empty()) {
    return Error(Errc::kInvalidArgument, "connection kind and name must not be empty");
  }
  if (key.kind.size() > kMaxKeyPart || key.name.size() > kMaxKeyPart) {
    return Error(Errc::kInvalidArgument, "connection kind or name is too long");
  }
  return core::okStatus();
}

Status checkText(std::string_view field, std::string_view value, size_t max = kMaxText) {
  if (value.size() > max) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("{} is too long ({} bytes, at most {})", field, value.size(), max));
  }
  return core::okStatus();
}

std::string tokenAad(const ConnectionKey& key, std::string_view column) {
  return sealingAad("tokens", {key.kind, key.name}, column);
}
std::string flowAad(std::string_view state_hash, std::string_view column = "pkce_verifier") {
  return sealingAad("pending_flows", {state_hash}, column);
}
std::string clientAad(std::string_view issuer, std::string_view column) {
  return sealingAad("oauth_clients", {issuer}, column);
}
std::string keyCheckAad() { return sealingAad("meta", {"key_check"}, "value"); }

constexpr std::string_view kTokenColumns =
    "access_token, refresh_token, token_type, scope, expires_at, refresh_expires_at, "
    "authenticated_at, authenticated_by, last_refreshed_at, idp_host, version, updated_at";

constexpr std::string_view kStateColumns =
    "state, reason, last_error_code, consecutive_failures, first_failure_at, next_attempt_at, "
    "revoked_at, next_due_at, updated_at";

constexpr std::string_view kEventColumns =
    "id, at, kind, name, type, actor, idp_host, correlation_id, detail";

constexpr std::string_view kFlowColumns =
    "kind, name, pkce_verifier, return_url, started_by, issuer, correlation_id, created_at, "
    "expires_at, client_id, authorization_url";
constexpr size_t kFlowColumnCount = 11;

constexpr std::string_view kEndpointColumns =
    "issuer, authorization_endpoint, token_endpoint, registration_endpoint, scopes, resource, "
    "iss_parameter_supported, updated_at";

class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<sql::Backend> backend, std::shared_ptr<const Sealer> sealer,
           const core::Clock& clock)
      : backend_(std::move(backend)), sealer_(std::move(sealer)), clock_(clock) {}

  Status open() {
    auto migrated = sql::migrate(*backend_, toMs(clock_.now()));
    if (!migrated.ok()) return withContext(migrated.error(), "migrate", backend_->describe());
    migrations_applied_ = migrated->applied;
    schema_version_ = migrated->schema_version;
    if (auto st = verifyTables(); !st.ok()) return st;
    if (auto st = verifyKey(); !st.ok()) return st;
    if (auto st = backend_->start(); !st.ok()) return st;
    locks_ = backend_->makeLockManager();
    return core::okStatus();
  }

  // ---- Store -------------------------------------------------------------------------

  LockManager& locks() override { return *locks_; }

  Status ping() override {
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "ping", backend_->describe());
    auto r = (*lease)->query("SELECT 1");
    if (!r.ok()) return withContext(r.error(), "ping", backend_->describe());
    return core::okStatus();
  }

  Result<RotationReport> rotateKeys() override {
    auto out = inTransaction([&](Session& s) -> Result<RotationReport> {
      RotationReport report;
      auto reseal = [&](const std::optional<std::string>& sealed, const std::string& aad,
                        std::string_view what) -> Result<std::optional<std::string>> {
        if (!sealed) return std::optional<std::string>();
        if (sealer_->isCurrent(*sealed)) {
          ++report.values_current;
          return std::optional<std::string>(*sealed);
        }
        auto plain = openValue(*sealed, aad, what);
        if (!plain.ok()) return std::move(plain).takeError();
        auto resealed = sealer_->seal(*plain, aad);
        if (!resealed.ok()) return std::move(resealed).takeError();
        ++report.values_resealed;
        return std::optional<std::string>(std::move(resealed).value());
      };

      auto tokens = s.query("SELECT kind, name, access_token, refresh_token FROM tokens");
      if (!tokens.ok()) return std::move(tokens).takeError();
      for (const auto& row : tokens->rows) {
        const ConnectionKey key{row[0].asText(), row[1].asText()};
        auto access = reseal(row[2].optText(), tokenAad(key, "access_token"),
                             "tokens.access_token of " + key.str());
        if (!access.ok()) return std::move(access).takeError();
        auto refresh = reseal(row[3].optText(), tokenAad(key, "refresh_token"),
                              "tokens.refresh_token of " + key.str());
        if (!refresh.ok()) return std::move(refresh).takeError();
        if (*access == row[2].optText() && *refresh == row[3].optText()) continue;
        auto upd = s.query(
            "UPDATE tokens SET access_token = $3, refresh_token = $4 WHERE kind = $1 AND "
            "name = $2",
            {Param::text(key.kind), Param::text(key.name), Param::optText(*access),
             Param::optText(*refresh)});
        if (!upd.ok()) return std::move(upd).takeError();
      }

      auto flows =
          s.query("SELECT state_hash, pkce_verifier, authorization_url FROM pending_flows");
      if (!flows.ok()) return std::move(flows).takeError();
      for (const auto& row : flows->rows) {
        const std::string hash = row[0].asText();
        auto verifier = reseal(row[1].optText(), flowAad(hash),
                               "pending_flows.pkce_verifier of a pending flow");
        if (!verifier.ok()) return std::move(verifier).takeError();
        auto url = reseal(row[2].optText(), flowAad(hash, "authorization_url"),
                          "pending_flows.authorization_url of a pending flow");
        if (!url.ok()) return std::move(url).takeError();
        if (*verifier == row[1].optText() && *url == row[2].optText()) continue;
        auto upd = s.query(
            "UPDATE pending_flows SET pkce_verifier = $2, authorization_url = $3 WHERE "
            "state_hash = $1",
            {Param::text(hash), Param::optText(*verifier), Param::optText(*url)});
        if (!upd.ok()) return std::move(upd).takeError();
      }

      auto clients = s.query("SELECT issuer, client_secret, registration FROM oauth_clients");
      if (!clients.ok()) return std::move(clients).takeError();
      for (const auto& row : clients->rows) {
        const std::string issuer = row[0].asText();
        auto secret = reseal(row[1].optText(), clientAad(issuer, "client_secret"),
                             "oauth_clients.client_secret of " + issuer);
        if (!secret.ok()) return std::move(secret).takeError();
        auto registration = reseal(row[2].optText(), clientAad(issuer, "registration"),
                                   "oauth_clients.registration of " + issuer);
        if (!registration.ok()) return std::move(registration).takeError();
        if (*secret == row[1].optText() && *registration == row[2].optText()) continue;
        auto upd = s.query(
            "UPDATE oauth_clients SET client_secret = $2, registration = $3 WHERE issuer = $1",
            {Param::text(issuer), Param::optText(*secret), Param::optText(*registration)});
        if (!upd.ok()) return std::move(upd).takeError();
      }

      auto check = s.query("SELECT value FROM meta WHERE key = 'key_check'");
      if (!check.ok()) return std::move(check).takeError();
      if (!check->rows.empty()) {
        auto value = reseal(check->rows[0][0].optText(), keyCheckAad(), "meta.key_check");
        if (!value.ok()) return std::move(value).takeError();
        auto upd =
            s.query("UPDATE meta SET value = $1 WHERE key = 'key_check'", {Param::optText(*value)});
        if (!upd.ok()) return std::move(upd).takeError();
      }
      return report;
    });
    if (!out.ok()) return withContext(out.error(), "rotate keys", "");
    core::log::info("store keys rotated", {{"sealer", sealer_->describe()},
                                           {"resealed", out->values_resealed},
                                           {"already_current", out->values_current}});
    return out;
  }

  int migrationsAppliedAtOpen() const override { return migrations_applied_; }
  int schemaVersion() const override { return schema_version_; }
  std::string describe() const override { return backend_->describe(); }

  // ---- TokenStore --------------------------------------------------------------------

  Result<std::optional<TokenRecord>> getToken(const ConnectionKey& key) override {
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "get token", "");
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "get token", key.str());
    static const std::string sql =
        fmt::format("SELECT {} FROM tokens WHERE kind = $1 AND name = $2", kTokenColumns);
    auto r = (*lease)->query(sql, {Param::text(key.kind), Param::text(key.name)});
    if (!r.ok()) return withContext(r.error(), "get token", key.str());
    if (r->rows.empty()) return std::optional<TokenRecord>();
    auto token = tokenFromRow(key, r->rows[0]);
    if (!token.ok()) return withContext(token.error(), "get token", key.str());
    return std::optional<TokenRecord>(std::move(token).value());
  }

  Result<int64_t> putToken(const TokenRecord& token, int64_t expected_version) override {
    const ConnectionKey& key = token.key;
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "put token", "");
    if (token.access_token.empty()) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("store: put token {}: the access token is empty", key.str()));
    }
    for (auto [field, value] :
         {std::pair<std::string_view, std::string_view>{"token_type", token.token_type},
          {"scope", token.scope},
          {"authenticated_by", token.authenticated_by},
          {"idp_host", token.idp_host}}) {
      if (auto st = checkText(field, value); !st.ok()) {
        return withContext(st.error(), "put token", key.str());
      }
    }
    auto access = sealer_->seal(token.access_token, tokenAad(key, "access_token"));
    if (!access.ok()) return withContext(access.error(), "put token", key.str());
    std::optional<std::string> refresh;
    std::optional<std::string> refresh_fp;
    if (token.refresh_token) {
      auto sealed = sealer_->seal(*token.refresh_token, tokenAad(key, "refresh_token"));
      if (!sealed.ok()) return withContext(sealed.error(), "put token", key.str());
      refresh = std::move(sealed).value();
      refresh_fp = sha256Hex(*token.refresh_token);
    }
    const int64_t now = toMs(clock_.now());
    auto version = inTransaction([&](Session& s) -> Result<int64_t> {
      auto counter = s.query(
          "UPDATE counters SET value = value + 1 WHERE name = 'token_version' RETURNING value");
      if (!counter.ok()) return std::move(counter).takeError();
      if (counter->rows.empty()) return Error(Errc::kStore, "the token version counter is gone");
      const int64_t next = counter->rows[0][0].asInt();
      const std::initializer_list<Param> common = {
          Param::text(key.kind),
          Param::text(key.name),
          Param::text(*access),
          Param::optText(refresh),
          Param::optText(refresh_fp),
          Param::text(token.token_type),
          Param::text(token.scope),
          Param::optInt(optMs(token.expires_at)),
          Param::optInt(optMs(token.refresh_expires_at)),
          Param::integer(toMs(token.authenticated_at)),
          Param::text(token.authenticated_by),
          Param::optInt(optMs(token.last_refreshed_at)),
          Param::text(token.idp_host),
          Param::integer(next),
          Param::integer(now),
          Param::integer(expected_version),
      };
      Result<sql::ResultSet> w = sql::ResultSet{};
      if (expected_version == 0) {
        w = s.query(
            "INSERT INTO tokens (kind, name, access_token, refresh_token, refresh_fp, "
            "token_type, scope, expires_at, refresh_expires_at, authenticated_at, "
            "authenticated_by, last_refreshed_at, idp_host, version, updated_at) VALUES ($1, "
            "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
            "ON CONFLICT (kind, name) DO NOTHING",
            std::span<const Param>(common.begin(), 15));
      } else {
        w = s.query(
            "UPDATE tokens SET access_token = $3, refresh_token = $4, refresh_fp = $5, "
            "token_type = $6, scope = $7, expires_at = $8, refresh_expires_at = $9, "
            "authenticated_at = $10, authenticated_by = $11, last_refreshed_at = $12, "
            "idp_host = $13, version = $14, updated_at = $15 "
            "WHERE kind = $1 AND name = $2 AND version = $16",
            std::span<const Param>(common.begin(), common.size()));
      }
      if (!w.ok()) return std::move(w).takeError();
      if (w->affected == 0) {
        return Error(Errc::kConflict,
                     expected_version == 0
                         ? std::string("a token exists already (expected none); it was "
                                       "written meanwhile")
                         : fmt::format("the token changed meanwhile (expected version {})",
                                       expected_version));
      }
      return next;
    });
    if (!version.ok()) return withContext(version.error(), "put token", key.str());
    backend_->announce(TokenChange{key, *version, false, false});
    return version;
  }

  Result<bool> deleteToken(const ConnectionKey& key,
                           std::optional<int64_t> expected_version) override {
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "delete token", "");
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "delete token", key.str());
    Session& s = **lease;
    Result<sql::ResultSet> r =
        expected_version
            ? s.query(
                  "DELETE FROM tokens WHERE kind = $1 AND name = $2 AND version = $3 "
                  "RETURNING version",
                  {Param::text(key.kind), Param::text(key.name), Param::integer(*expected_version)})
            : s.query("DELETE FROM tokens WHERE kind = $1 AND name = $2 RETURNING version",
                      {Param::text(key.kind), Param::text(key.name)});
    if (!r.ok()) return withContext(r.error(), "delete token", key.str());
    if (!r->rows.empty()) {
      const int64_t version = r->rows[0][0].asInt();
      lease->reset();
      backend_->announce(TokenChange{key, version, true, false});
      return true;
    }
    if (!expected_version) return false;
    auto exists = s.query("SELECT version FROM tokens WHERE kind = $1 AND name = $2",
                          {Param::text(key.kind), Param::text(key.name)});
    if (!exists.ok()) return withContext(exists.error(), "delete token", key.str());
    if (exists->rows.empty()) return false;
    return Error(Errc::kConflict,
                 fmt::format("store: delete token {}: the token changed meanwhile (expected "
                             "version {}, found {})",
                             key.str(), *expected_version, exists->rows[0][0].asInt()));
  }

  Result<ConditionalDelete> deleteTokenIfRefreshTokenIs(const ConnectionKey& key,
                                                        std::string_view refresh_token) override {
    constexpr std::string_view op = "delete token if refresh token matches";
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), op, "");
    const std::string fp = sha256Hex(refresh_token);
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), op, key.str());
    Session& s = **lease;
    auto r = s.query(
        "DELETE FROM tokens WHERE kind = $1 AND name = $2 AND refresh_fp = $3 RETURNING version",
        {Param::text(key.kind), Param::text(key.name), Param::text(fp)});
    if (!r.ok()) return withContext(r.error(), op, key.str());
    if (!r->rows.empty()) {
      const int64_t version = r->rows[0][0].asInt();
      lease->reset();
      backend_->announce(TokenChange{key, version, true, false});
      return ConditionalDelete::kDeleted;
    }
    auto exists = s.query("SELECT 1 FROM tokens WHERE kind = $1 AND name = $2",
                          {Param::text(key.kind), Param::text(key.name)});
    if (!exists.ok()) return withContext(exists.error(), op, key.str());
    return exists->rows.empty() ? ConditionalDelete::kNoToken : ConditionalDelete::kTokenChanged;
  }

  Subscription subscribeTokenChanges(TokenChangeCallback callback) override {
    return backend_->subscribe(std::move(callback));
  }

  // ---- StateStore --------------------------------------------------------------------

  Result<std::optional<StateRecord>> getState(const ConnectionKey& key) override {
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "get state", "");
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "get state", key.str());
    static const std::string sql =
        fmt::format("SELECT {} FROM connection_state WHERE kind = $1 AND name = $2", kStateColumns);
    auto r = (*lease)->query(sql, {Param::text(key.kind), Param::text(key.name)});
    if (!r.ok()) return withContext(r.error(), "get state", key.str());
    if (r->rows.empty()) return std::optional<StateRecord>();
    const auto& row = r->rows[0];
    StateRecord out;
    out.key = key;
    out.state = parseConnectionState(row[0].asText()).value_or(ConnectionState::kNotConnected);
    out.reason = row[1].asText();
    out.last_error_code = row[2].asText();
    out.consecutive_failures = static_cast<int>(row[3].asInt());
    out.first_failure_at = optTime(row[4]);
    out.next_attempt_at = optTime(row[5]);
    out.revoked_at = optTime(row[6]);
    out.next_due_at = optTime(row[7]);
    out.updated_at = fromMs(row[8].asInt());
    return std::optional<StateRecord>(std::move(out));
  }

  Status putState(const StateRecord& state) override {
    const ConnectionKey& key = state.key;
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "put state", "");
    if (auto st = checkText("reason", state.reason); !st.ok()) {
      return withContext(st.error(), "put state", key.str());
    }
    if (auto st = checkText("last_error_code", state.last_error_code); !st.ok()) {
      return withContext(st.error(), "put state", key.str());
    }
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "put state", key.str());
    auto r = (*lease)->query(
        "INSERT INTO connection_state (kind, name, state, reason, last_error_code, "
        "consecutive_failures, first_failure_at, next_attempt_at, revoked_at, next_due_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (kind, name) DO UPDATE SET state = excluded.state, reason = "
        "excluded.reason, last_error_code = excluded.last_error_code, consecutive_failures = "
        "excluded.consecutive_failures, first_failure_at = excluded.first_failure_at, "
        "next_attempt_at = excluded.next_attempt_at, revoked_at = excluded.revoked_at, "
        "next_due_at = excluded.next_due_at, updated_at = excluded.updated_at",
        {Param::text(key.kind), Param::text(key.name),
         Param::text(connectionStateName(state.state)), Param::text(state.reason),
         Param::text(state.last_error_code), Param::integer(state.consecutive_failures),
         Param::optInt(optMs(state.first_failure_at)), Param::optInt(optMs(state.next_attempt_at)),
         Param::optInt(optMs(state.revoked_at)), Param::optInt(optMs(state.next_due_at)),
         Param::integer(toMs(clock_.now()))});
    if (!r.ok()) return withContext(r.error(), "put state", key.str());
    return core::okStatus();
  }

  Status setNextDue(const ConnectionKey& key, std::optional<TimePoint> due) override {
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "set next due", "");
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "set next due", key.str());
    auto r = (*lease)->query(
        "INSERT INTO connection_state (kind, name, state, next_due_at, updated_at) "
        "VALUES ($1, $2, 'not_connected', $3, $4) ON CONFLICT (kind, name) DO UPDATE SET "
        "next_due_at = excluded.next_due_at, updated_at = excluded.updated_at",
        {Param::text(key.kind), Param::text(key.name), Param::optInt(optMs(due)),
         Param::integer(toMs(clock_.now()))});
    if (!r.ok()) return withContext(r.error(), "set next due", key.str());
    return core::okStatus();
  }

  Result<std::vector<DueConnection>> dueConnections(TimePoint until, int limit) override {
    if (limit <= 0 || limit > kMaxListLimit) {
      return Error(Errc::kInvalidArgument, "store: due connections: limit out of range");
    }
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "due connections", "");
    auto r = (*lease)->query(
        "SELECT kind, name, next_due_at FROM connection_state WHERE next_due_at IS NOT NULL "
        "AND next_due_at <= $1 ORDER BY next_due_at, kind, name LIMIT $2",
        {Param::integer(toMs(until)), Param::integer(limit)});
    if (!r.ok()) return withContext(r.error(), "due connections", "");
    return dueFromRows(r->rows);
  }

  Result<std::vector<DueConnection>> claimDue(TimePoint until, int limit, std::string_view owner,
                                              Duration lease_for) override {
    if (limit <= 0 || limit > kMaxListLimit || owner.empty() || lease_for.count() <= 0) {
      return Error(Errc::kInvalidArgument,
                   "store: claim due connections: limit, owner or lease out of range");
    }
    const int64_t now = toMs(clock_.now());
    // PostgreSQL: rows another replica is claiming right now are skipped, not waited for.
    constexpr std::string_view kPostgres =
        "UPDATE connection_state AS s SET claim_owner = $3, claim_until = $4 FROM (SELECT "
        "kind, name FROM connection_state WHERE next_due_at IS NOT NULL AND next_due_at <= $1 "
        "AND (claim_until IS NULL OR claim_until <= $5) ORDER BY next_due_at, kind, name "
        "LIMIT $2 FOR UPDATE SKIP LOCKED) AS d WHERE s.kind = d.kind AND s.name = d.name "
        "RETURNING s.kind, s.name, s.next_due_at";
    // SQLite: the single writer makes the statement atomic.
    constexpr std::string_view kSqlite =
        "UPDATE connection_state SET claim_owner = $3, claim_until = $4 WHERE (kind, name) IN "
        "(SELECT kind, name FROM connection_state WHERE next_due_at IS NOT NULL AND "
        "next_due_at <= $1 AND (claim_until IS NULL OR claim_until <= $5) ORDER BY "
        "next_due_at, kind, name LIMIT $2) RETURNING kind, name, next_due_at";
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "claim due connections", owner);
    auto r =
        (*lease)->query(backend_->dialect() == sql::Dialect::kPostgres ? kPostgres : kSqlite,
                        {Param::integer(toMs(until)), Param::integer(limit), Param::text(owner),
                         Param::integer(now + lease_for.count()), Param::integer(now)});
    if (!r.ok()) return withContext(r.error(), "claim due connections", owner);
    auto out = dueFromRows(r->rows);
    std::sort(out.begin(), out.end(), [](const DueConnection& a, const DueConnection& b) {
      return std::tie(a.next_due, a.key) < std::tie(b.next_due, b.key);
    });
    return out;
  }

  Status releaseClaim(const ConnectionKey& key, std::string_view owner) override {
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "release claim", "");
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "release claim", key.str());
    auto r = (*lease)->query(
        "UPDATE connection_state SET claim_owner = NULL, claim_until = NULL WHERE kind = $1 "
        "AND name = $2 AND claim_owner = $3",
        {Param::text(key.kind), Param::text(key.name), Param::text(owner)});
    if (!r.ok()) return withContext(r.error(), "release claim", key.str());
    return core::okStatus();
  }

  // ---- EventStore --------------------------------------------------------------------

  Result<int64_t> appendEvent(const AuthEvent& event) override {
    const ConnectionKey& key = event.key;
    const std::string_view type = eventTypeName(event.type);
    if (type.empty()) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("store: append event {}: unknown event type {} (not one of the "
                               "closed set)",
                               key.str(), static_cast<int>(event.type)));
    }
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "append event", "");
    for (auto [field, value] : {std::pair<std::string_view, std::string_view>{"actor", event.actor},
                                {"idp_host", event.idp_host},
                                {"correlation_id", event.correlation_id}}) {
      if (auto st = checkText(field, value); !st.ok()) {
        return withContext(st.error(), "append event", key.str());
      }
    }
    std::string_view detail = event.detail_json;
    if (detail.empty()) detail = "{}";
    if (auto st = checkText("detail", detail, kMaxDetail); !st.ok()) {
      return withContext(st.error(), "append event", key.str());
    }
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(detail, ec);
    if (ec || !parsed.is_object()) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("store: append event {}: detail is not a JSON object", key.str()));
    }
    const int64_t at = event.at == TimePoint{} ? toMs(clock_.now()) : toMs(event.at);
    const EventOutcome outcome = eventOutcome(event.type);
    const bool lifecycle = outcome != EventOutcome::kNeutral;

    auto id = inTransaction([&](Session& s) -> Result<int64_t> {
      auto ins = s.query(
          "INSERT INTO auth_events (at, kind, name, type, actor, idp_host, correlation_id, "
          "detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
          {Param::integer(at), Param::text(key.kind), Param::text(key.name), Param::text(type),
           Param::text(event.actor), Param::text(event.idp_host), Param::text(event.correlation_id),
           Param::text(detail)});
      if (!ins.ok()) return std::move(ins).takeError();
      const int64_t new_id = ins->rows.at(0).at(0).asInt();
      // The head row answers "newest event" and "newest lifecycle event" per connection
      // without scanning events. A newer (at, id) replaces the older one.
      auto head = s.query(
          "INSERT INTO event_heads (kind, name, last_event_id, last_event_at, "
          "lifecycle_event_id, lifecycle_at, lifecycle_failed) VALUES ($1, $2, $3, $4, $5, $6, "
          "$7) ON CONFLICT (kind, name) DO UPDATE SET "
          "last_event_id = CASE WHEN excluded.last_event_at >= event_heads.last_event_at "
          "THEN excluded.last_event_id ELSE event_heads.last_event_id END, "
          "last_event_at = CASE WHEN excluded.last_event_at >= event_heads.last_event_at "
          "THEN excluded.last_event_at ELSE event_heads.last_event_at END, "
          "lifecycle_event_id = CASE WHEN excluded.lifecycle_at IS NOT NULL AND "
          "(event_heads.lifecycle_at IS NULL OR excluded.lifecycle_at >= "
          "event_heads.lifecycle_at) THEN excluded.lifecycle_event_id ELSE "
          "event_heads.lifecycle_event_id END, "
          "lifecycle_failed = CASE WHEN excluded.lifecycle_at IS NOT NULL AND "
          "(event_heads.lifecycle_at IS NULL OR excluded.lifecycle_at >= "
          "event_heads.lifecycle_at) THEN excluded.lifecycle_failed ELSE "
          "event_heads.lifecycle_failed END, "
          "lifecycle_at = CASE WHEN excluded.lifecycle_at IS NOT NULL AND "
          "(event_heads.lifecycle_at IS NULL OR excluded.lifecycle_at >= "
          "event_heads.lifecycle_at) THEN excluded.lifecycle_at ELSE event_heads.lifecycle_at "
          "END",
          {Param::text(key.kind), Param::text(key.name), Param::integer(new_id), Param::integer(at),
           lifecycle ? Param::integer(new_id) : Param::nullInt(),
           lifecycle ? Param::integer(at) : Param::nullInt(),
           Param::integer(outcome == EventOutcome::kFailure ? 1 : 0)});
      if (!head.ok()) return std::move(head).takeError();
      return new_id;
    });
    if (!id.ok()) return withContext(id.error(), "append event", key.str());
    return id;
  }

  Result<std::vector<AuthEvent>> recentEvents(const ConnectionKey& key, int limit) override {
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "recent events", "");
    if (limit <= 0 || limit > kMaxListLimit) {
      return Error(Errc::kInvalidArgument, "store: recent events: limit out of range");
    }
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "recent events", key.str());
    static const std::string sql = fmt::format(
        "SELECT {} FROM auth_events WHERE kind = $1 AND name = $2 ORDER BY at DESC, id DESC "
        "LIMIT $3",
        kEventColumns);
    auto r =
        (*lease)->query(sql, {Param::text(key.kind), Param::text(key.name), Param::integer(limit)});
    if (!r.ok()) return withContext(r.error(), "recent events", key.str());
    auto events = eventsFromRows(r->rows);
    if (!events.ok()) return withContext(events.error(), "recent events", key.str());
    return events;
  }

  Result<std::vector<AuthEvent>> latestEventPerConnection() override {
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "latest event per connection", "");
    auto r = (*lease)->query(
        "SELECT e.id, e.at, e.kind, e.name, e.type, e.actor, e.idp_host, e.correlation_id, "
        "e.detail FROM event_heads h JOIN auth_events e ON e.id = h.last_event_id "
        "ORDER BY h.kind, h.name");
    if (!r.ok()) return withContext(r.error(), "latest event per connection", "");
    auto events = eventsFromRows(r->rows);
    if (!events.ok()) return withContext(events.error(), "latest event per connection", "");
    return events;
  }

  Result<int64_t> pruneEvents(Duration retention) override {
    if (retention.count() < 0) {
      return Error(Errc::kInvalidArgument, "store: prune events: negative retention");
    }
    const int64_t cutoff = toMs(clock_.now()) - retention.count();
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "prune events", "");
    auto r = (*lease)->query("DELETE FROM auth_events WHERE at < $1", {Param::integer(cutoff)});
    if (!r.ok()) return withContext(r.error(), "prune events", "");
    return r->affected;
  }

  // ---- FlowStore ---------------------------------------------------------------------

  Result<CreateFlowResult> createPendingFlow(const PendingFlow& flow) override {
    constexpr std::string_view op = "create pending flow";
    const ConnectionKey& key = flow.key;
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), op, "");
    if (flow.state.empty() || flow.pkce_verifier.empty()) {
      return Error(
          Errc::kInvalidArgument,
          fmt::format("store: {} {}: state and PKCE verifier are required", op, key.str()));
    }
    for (auto [field, value] :
         {std::pair<std::string_view, std::string_view>{"return_url", flow.return_url},
          {"started_by", flow.started_by},
          {"issuer", flow.issuer},
          {"correlation_id", flow.correlation_id},
          {"client_id", flow.client_id},
          {"authorization_url", flow.authorization_url}}) {
      if (auto st = checkText(field, value); !st.ok())
        return withContext(st.error(), op, key.str());
    }
    const TimePoint now_tp = clock_.now();
    const int64_t now = toMs(now_tp);
    if (flow.expires_at <= now_tp) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("store: {} {}: expires_at is not in the future", op, key.str()));
    }
    const std::string hash = sha256Hex(flow.state);
    auto verifier = sealer_->seal(flow.pkce_verifier, flowAad(hash));
    if (!verifier.ok()) return withContext(verifier.error(), op, key.str());
    std::optional<std::string> auth_url;
    if (!flow.authorization_url.empty()) {
      auto sealed = sealer_->seal(flow.authorization_url, flowAad(hash, "authorization_url"));
      if (!sealed.ok()) return withContext(sealed.error(), op, key.str());
      auth_url = std::move(sealed).value();
    }

    // Two attempts: on PostgreSQL a concurrent creator may win the unique index between
    // our read and our insert; the second attempt then returns its flow.
    for (int attempt = 0;; ++attempt) {
      auto out = inTransaction([&](Session& s) -> Result<CreateFlowResult> {
        auto purge =
            s.query("DELETE FROM pending_flows WHERE kind = $1 AND name = $2 AND expires_at <= $3",
                    {Param::text(key.kind), Param::text(key.name), Param::integer(now)});
        if (!purge.ok()) return std::move(purge).takeError();
        static const std::string select = fmt::format(
            "SELECT {}, state_hash FROM pending_flows WHERE kind = $1 AND name = $2", kFlowColumns);
        auto existing = s.query(select, {Param::text(key.kind), Param::text(key.name)});
        if (!existing.ok()) return std::move(existing).takeError();
        if (!existing->rows.empty()) {
          const auto& row = existing->rows[0];
          auto found = flowFromRow(row, row[kFlowColumnCount].asText());
          if (!found.ok()) return std::move(found).takeError();
          return CreateFlowResult{false, std::move(found).value()};
        }
        auto ins = s.query(
            "INSERT INTO pending_flows (state_hash, kind, name, pkce_verifier, return_url, "
            "started_by, issuer, correlation_id, created_at, expires_at, client_id, "
            "authorization_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            {Param::text(hash), Param::text(key.kind), Param::text(key.name),
             Param::text(*verifier), Param::text(flow.return_url), Param::text(flow.started_by),
             Param::text(flow.issuer), Param::text(flow.correlation_id), Param::integer(now),
             Param::integer(toMs(flow.expires_at)), Param::text(flow.client_id),
             Param::optText(auth_url)});
        if (!ins.ok()) return std::move(ins).takeError();
        PendingFlow created = flow;
        created.created_at = fromMs(now);
        return CreateFlowResult{true, std::move(created)};
      });
      if (out.ok()) return out;
      if (out.error().code == Errc::kAlreadyExists && attempt == 0) continue;
      return withContext(out.error(), op, key.str());
    }
  }

  Result<PendingFlow> takePendingFlow(std::string_view state) override {
    constexpr std::string_view op = "take pending flow";
    if (state.empty() || state.size() > kMaxText) {
      return Error(Errc::kInvalidArgument, "store: take pending flow: invalid state");
    }
    const std::string hash = sha256Hex(state);
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), op, "");
    static const std::string sql =
        fmt::format("DELETE FROM pending_flows WHERE state_hash = $1 RETURNING {}", kFlowColumns);
    auto r = (*lease)->query(sql, {Param::text(hash)});
    if (!r.ok()) return withContext(r.error(), op, "");
    lease->reset();
    if (r->rows.empty()) {
      return Error(Errc::kNotFound,
                   "store: take pending flow: no pending OAuth flow for this state (unknown or "
                   "already used)");
    }
    auto flow = flowFromRow(r->rows[0], hash);
    if (!flow.ok()) return withContext(flow.error(), op, "");
    if (flow->expires_at <= clock_.now()) {
      return Error(Errc::kNotFound,
                   fmt::format("store: take pending flow {}: the OAuth flow expired at {}",
                               flow->key.str(), core::formatRfc3339(flow->expires_at)));
    }
    flow->state = std::string(state);
    return flow;
  }

  Result<int64_t> expirePendingFlows() override {
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "expire pending flows", "");
    auto r = (*lease)->query("DELETE FROM pending_flows WHERE expires_at <= $1",
                             {Param::integer(toMs(clock_.now()))});
    if (!r.ok()) return withContext(r.error(), "expire pending flows", "");
    return r->affected;
  }

  Result<bool> cancelPendingFlow(const ConnectionKey& key) override {
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), "cancel flow", "");
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "cancel pending flow", key.str());
    auto r = (*lease)->query("DELETE FROM pending_flows WHERE kind = $1 AND name = $2",
                             {Param::text(key.kind), Param::text(key.name)});
    if (!r.ok()) return withContext(r.error(), "cancel pending flow", key.str());
    return r->affected > 0;
  }

  // ---- SessionRevocationStore (queries in sql/session_revocations.cc) ---------------------

  Status revokeSession(std::string_view session_id, TimePoint expires_at) override {
    return sql::revokeSession(*backend_, session_id, toMs(expires_at), toMs(clock_.now()));
  }
  Result<bool> isSessionRevoked(std::string_view session_id) override {
    return sql::isSessionRevoked(*backend_, session_id, toMs(clock_.now()));
  }
  Result<int64_t> pruneSessionRevocations() override {
    return sql::pruneSessionRevocations(*backend_, toMs(clock_.now()));
  }

  // ---- ClientStore -------------------------------------------------------------------

  Status putClient(const OAuthClient& client) override {
    constexpr std::string_view op = "put OAuth client";
    if (client.issuer.empty() || client.client_id.empty()) {
      return Error(Errc::kInvalidArgument,
                   "store: put OAuth client: issuer and client_id are required");
    }
    if (auto st = checkText("issuer", client.issuer); !st.ok()) {
      return withContext(st.error(), op, "");
    }
    if (auto st = checkText("client_id", client.client_id); !st.ok()) {
      return withContext(st.error(), op, client.issuer);
    }
    std::optional<std::string> secret;
    std::optional<std::string> registration;
    if (client.client_secret) {
      auto sealed = sealer_->seal(*client.client_secret, clientAad(client.issuer, "client_secret"));
      if (!sealed.ok()) return withContext(sealed.error(), op, client.issuer);
      secret = std::move(sealed).value();
    }
    if (client.registration_json) {
      auto sealed =
          sealer_->seal(*client.registration_json, clientAad(client.issuer, "registration"));
      if (!sealed.ok()) return withContext(sealed.error(), op, client.issuer);
      registration = std::move(sealed).value();
    }
    const int64_t now = toMs(clock_.now());
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), op, client.issuer);
    auto r = (*lease)->query(
        "INSERT INTO oauth_clients (issuer, client_id, client_secret, registration, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (issuer) DO UPDATE SET "
        "client_id = excluded.client_id, client_secret = excluded.client_secret, "
        "registration = excluded.registration, updated_at = excluded.updated_at",
        {Param::text(client.issuer), Param::text(client.client_id), Param::optText(secret),
         Param::optText(registration), Param::integer(now)});
    if (!r.ok()) return withContext(r.error(), op, client.issuer);
    return core::okStatus();
  }

  Result<std::optional<OAuthClient>> getClient(std::string_view issuer) override {
    constexpr std::string_view op = "get OAuth client";
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), op, issuer);
    auto r = (*lease)->query(
        "SELECT client_id, client_secret, registration, created_at, updated_at FROM "
        "oauth_clients WHERE issuer = $1",
        {Param::text(issuer)});
    if (!r.ok()) return withContext(r.error(), op, issuer);
    if (r->rows.empty()) return std::optional<OAuthClient>();
    const auto& row = r->rows[0];
    OAuthClient out;
    out.issuer = std::string(issuer);
    out.client_id = row[0].asText();
    if (!row[1].isNull()) {
      auto secret = openValue(row[1].asText(), clientAad(issuer, "client_secret"),
                              "oauth_clients.client_secret");
      if (!secret.ok()) return withContext(secret.error(), op, issuer);
      out.client_secret = std::move(secret).value();
    }
    if (!row[2].isNull()) {
      auto reg = openValue(row[2].asText(), clientAad(issuer, "registration"),
                           "oauth_clients.registration");
      if (!reg.ok()) return withContext(reg.error(), op, issuer);
      out.registration_json = std::move(reg).value();
    }
    out.created_at = fromMs(row[3].asInt());
    out.updated_at = fromMs(row[4].asInt());
    return std::optional<OAuthClient>(std::move(out));
  }

  Result<bool> deleteClient(std::string_view issuer) override {
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "delete OAuth client", issuer);
    auto r = (*lease)->query("DELETE FROM oauth_clients WHERE issuer = $1", {Param::text(issuer)});
    if (!r.ok()) return withContext(r.error(), "delete OAuth client", issuer);
    return r->affected > 0;
  }

  Status putEndpoints(const OAuthEndpoints& e) override {
    constexpr std::string_view op = "put OAuth endpoints";
    if (auto st = checkKey(e.key); !st.ok()) return withContext(st.error(), op, "");
    if (e.token_endpoint.empty()) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("store: {} {}: token_endpoint is required", op, e.key.str()));
    }
    for (auto [field, value] : {std::pair<std::string_view, std::string_view>{"issuer", e.issuer},
                                {"authorization_endpoint", e.authorization_endpoint},
                                {"token_endpoint", e.token_endpoint},
                                {"registration_endpoint", e.registration_endpoint},
                                {"scopes", e.scopes},
                                {"resource", e.resource}}) {
      if (auto st = checkText(field, value); !st.ok()) {
        return withContext(st.error(), op, e.key.str());
      }
    }
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), op, e.key.str());
    auto r = (*lease)->query(
        "INSERT INTO oauth_endpoints (kind, name, issuer, authorization_endpoint, "
        "token_endpoint, registration_endpoint, scopes, resource, iss_parameter_supported, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kind, name) "
        "DO UPDATE SET issuer = excluded.issuer, authorization_endpoint = "
        "excluded.authorization_endpoint, token_endpoint = excluded.token_endpoint, "
        "registration_endpoint = excluded.registration_endpoint, scopes = excluded.scopes, "
        "resource = excluded.resource, iss_parameter_supported = "
        "excluded.iss_parameter_supported, updated_at = excluded.updated_at",
        {Param::text(e.key.kind), Param::text(e.key.name), Param::text(e.issuer),
         Param::text(e.authorization_endpoint), Param::text(e.token_endpoint),
         Param::text(e.registration_endpoint), Param::text(e.scopes), Param::text(e.resource),
         Param::integer(e.iss_parameter_supported ? 1 : 0), Param::integer(toMs(clock_.now()))});
    if (!r.ok()) return withContext(r.error(), op, e.key.str());
    return core::okStatus();
  }

  Result<std::optional<OAuthEndpoints>> getEndpoints(const ConnectionKey& key) override {
    constexpr std::string_view op = "get OAuth endpoints";
    if (auto st = checkKey(key); !st.ok()) return withContext(st.error(), op, "");
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), op, key.str());
    static const std::string sql = fmt::format(
        "SELECT {} FROM oauth_endpoints WHERE kind = $1 AND name = $2", kEndpointColumns);
    auto r = (*lease)->query(sql, {Param::text(key.kind), Param::text(key.name)});
    if (!r.ok()) return withContext(r.error(), op, key.str());
    if (r->rows.empty()) return std::optional<OAuthEndpoints>();
    const auto& row = r->rows[0];
    OAuthEndpoints e;
    e.key = key;
    e.issuer = row[0].asText();
    e.authorization_endpoint = row[1].asText();
    e.token_endpoint = row[2].asText();
    e.registration_endpoint = row[3].asText();
    e.scopes = row[4].asText();
    e.resource = row[5].asText();
    e.iss_parameter_supported = row[6].asInt() != 0;
    e.updated_at = fromMs(row[7].asInt());
    return std::optional<OAuthEndpoints>(std::move(e));
  }

  // ---- ConnectionRegistry ------------------------------------------------------------

  Status syncConnections(std::span<const ConnectionInfo> connections) override {
    constexpr std::string_view op = "sync connections";
    std::set<ConnectionKey> seen;
    for (const auto& c : connections) {
      if (auto st = checkKey(c.key); !st.ok()) return withContext(st.error(), op, "");
      if (!seen.insert(c.key).second) {
        return Error(Errc::kInvalidArgument,
                     fmt::format("store: {}: connection {} is listed twice", op, c.key.str()));
      }
      if (auto st = checkText("auth_mode", c.auth_mode); !st.ok()) {
        return withContext(st.error(), op, c.key.str());
      }
      if (auto st = checkText("idp_host", c.idp_host); !st.ok()) {
        return withContext(st.error(), op, c.key.str());
      }
    }
    const std::string random = core::randomBytes(8);
    int64_t generation = 0;
    for (char ch : random) generation = (generation << 8) | static_cast<unsigned char>(ch);
    generation &= INT64_MAX;
    const int64_t now = toMs(clock_.now());
    auto done = inTransaction([&](Session& s) -> Result<int64_t> {
      std::vector<Param> params;
      for (size_t start = 0; start < connections.size(); start += kSyncBatch) {
        const size_t n = std::min(kSyncBatch, connections.size() - start);
        std::string sql =
            "INSERT INTO connections (kind, name, auth_mode, has_oauth, idp_host, "
            "sync_generation, synced_at) VALUES ";
        params.clear();
        for (size_t i = 0; i < n; ++i) {
          const auto& c = connections[start + i];
          const size_t b = i * 7;
          sql += fmt::format("{}(${}, ${}, ${}, ${}, ${}, ${}, ${})", i == 0 ? "" : ", ", b + 1,
                             b + 2, b + 3, b + 4, b + 5, b + 6, b + 7);
          params.push_back(Param::text(c.key.kind));
          params.push_back(Param::text(c.key.name));
          params.push_back(Param::text(c.auth_mode));
          params.push_back(Param::integer(c.has_oauth ? 1 : 0));
          params.push_back(Param::text(c.idp_host));
          params.push_back(Param::integer(generation));
          params.push_back(Param::integer(now));
        }
        sql +=
            " ON CONFLICT (kind, name) DO UPDATE SET auth_mode = excluded.auth_mode, "
            "has_oauth = excluded.has_oauth, idp_host = excluded.idp_host, sync_generation = "
            "excluded.sync_generation, synced_at = excluded.synced_at";
        auto r = s.query(sql, params);
        if (!r.ok()) return std::move(r).takeError();
      }
      auto removed = s.query("DELETE FROM connections WHERE sync_generation <> $1",
                             {Param::integer(generation)});
      if (!removed.ok()) return std::move(removed).takeError();
      return removed->affected;
    });
    if (!done.ok()) return withContext(done.error(), op, "");
    return core::okStatus();
  }

  Result<std::vector<ConnectionInfo>> listConnections() override {
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "list connections", "");
    auto r = (*lease)->query(
        "SELECT kind, name, auth_mode, has_oauth, idp_host FROM connections ORDER BY kind, name");
    if (!r.ok()) return withContext(r.error(), "list connections", "");
    std::vector<ConnectionInfo> out;
    out.reserve(r->rows.size());
    for (const auto& row : r->rows) {
      out.push_back(ConnectionInfo{{row[0].asText(), row[1].asText()},
                                   row[2].asText(),
                                   row[3].asInt() != 0,
                                   row[4].asText()});
    }
    return out;
  }

  Result<std::vector<HealthRow>> bulkHealth() override {
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "bulk health", "");
    // One query, however many connections: the registry joined to state, token and the
    // event head (whose lifecycle_failed flag decides whether the IdP code shows). Rows
    // are streamed into HealthRow without an intermediate result set.
    std::vector<HealthRow> out;
    out.reserve(last_health_rows_.load(std::memory_order_relaxed));
    auto st = (*lease)->forEach(
        "SELECT c.kind, c.name, c.auth_mode, c.has_oauth, s.state, s.reason, "
        "s.consecutive_failures, s.next_attempt_at, "
        "CASE WHEN h.lifecycle_failed = 1 THEN s.last_error_code ELSE NULL END, "
        "CASE WHEN t.kind IS NULL THEN 0 ELSE 1 END, t.authenticated_at, t.expires_at, "
        "t.refresh_expires_at "
        "FROM connections c "
        "LEFT JOIN connection_state s ON s.kind = c.kind AND s.name = c.name "
        "LEFT JOIN tokens t ON t.kind = c.kind AND t.name = c.name "
        "LEFT JOIN event_heads h ON h.kind = c.kind AND h.name = c.name "
        "ORDER BY c.kind, c.name",
        {}, [&out](const sql::RowView& row) {
          auto time = [&row](int c) -> std::optional<TimePoint> {
            if (row.isNull(c)) return std::nullopt;
            return fromMs(row.integer(c));
          };
          HealthRow& h = out.emplace_back();
          h.key.kind = row.text(0);
          h.key.name = row.text(1);
          h.auth_mode = row.text(2);
          h.has_oauth = row.integer(3) != 0;
          h.token_acquired = row.integer(9) != 0;
          std::optional<ConnectionState> recorded;
          if (!row.isNull(4)) {
            recorded = parseConnectionState(row.text(4)).value_or(ConnectionState::kNotConnected);
          }
          h.state = shownConnectionState(recorded, h.token_acquired);
          h.needs_reauth = h.state == ConnectionState::kNeedsReauth;
          h.reason = row.text(5);
          h.consecutive_failures = static_cast<int>(row.integer(6));
          h.next_attempt_at = time(7);
          h.last_error_code = row.text(8);
          h.token_acquired_at = time(10);
          h.expires_at = time(11);
          h.refresh_expires_at = time(12);
        });
    if (!st.ok()) return withContext(st.error(), "bulk health", "");
    last_health_rows_.store(out.size(), std::memory_order_relaxed);
    return out;
  }

 private:
  // Runs `fn` in a write transaction: commit when it succeeds, roll back when it fails.
  template <class F>
  auto inTransaction(F&& fn) -> decltype(fn(std::declval<Session&>())) {
    using R = decltype(fn(std::declval<Session&>()));
    auto lease = backend_->writer();
    if (!lease.ok()) return R(std::move(lease).takeError());
    Session& s = **lease;
    if (auto b = s.query(backend_->beginSql()); !b.ok()) return R(std::move(b).takeError());
    R result = fn(s);
    if (!result.ok()) {
      (void)s.query("ROLLBACK");
      return result;
    }
    if (auto c = s.query("COMMIT"); !c.ok()) {
      (void)s.query("ROLLBACK");
      return R(std::move(c).takeError());
    }
    return result;
  }

  Result<std::string> openValue(std::string_view sealed, std::string_view aad,
                                std::string_view what) const {
    auto plain = sealer_->open(sealed, aad);
    if (!plain.ok()) {
      return Error(Errc::kCrypto, fmt::format("cannot open {}: {}", what, plain.error().message));
    }
    return plain;
  }

  Result<TokenRecord> tokenFromRow(const ConnectionKey& key, const sql::Row& row) const {
    TokenRecord t;
    t.key = key;
    auto access = openValue(row[0].asText(), tokenAad(key, "access_token"), "tokens.access_token");
    if (!access.ok()) return std::move(access).takeError();
    t.access_token = std::move(access).value();
    if (!row[1].isNull()) {
      auto refresh =
          openValue(row[1].asText(), tokenAad(key, "refresh_token"), "tokens.refresh_token");
      if (!refresh.ok()) return std::move(refresh).takeError();
      t.refresh_token = std::move(refresh).value();
    }
    t.token_type = row[2].asText();
    t.scope = row[3].asText();
    t.expires_at = optTime(row[4]);
    t.refresh_expires_at = optTime(row[5]);
    t.authenticated_at = fromMs(row[6].asInt());
    t.authenticated_by = row[7].asText();
    t.last_refreshed_at = optTime(row[8]);
    t.idp_host = row[9].asText();
    t.version = row[10].asInt();
    t.updated_at = fromMs(row[11].asInt());
    return t;
  }

  Result<PendingFlow> flowFromRow(const sql::Row& row, const std::string& state_hash) const {
    PendingFlow f;
    f.key = {row[0].asText(), row[1].asText()};
    auto verifier = openValue(row[2].asText(), flowAad(state_hash),
                              "pending_flows.pkce_verifier of " + f.key.str());
    if (!verifier.ok()) return std::move(verifier).takeError();
    f.pkce_verifier = std::move(verifier).value();
    f.return_url = row[3].asText();
    f.started_by = row[4].asText();
    f.issuer = row[5].asText();
    f.correlation_id = row[6].asText();
    f.created_at = fromMs(row[7].asInt());
    f.expires_at = fromMs(row[8].asInt());
    f.client_id = row[9].asText();
    if (!row[10].isNull()) {
      auto url = openValue(row[10].asText(), flowAad(state_hash, "authorization_url"),
                           "pending_flows.authorization_url of " + f.key.str());
      if (!url.ok()) return std::move(url).takeError();
      f.authorization_url = std::move(url).value();
    }
    return f;
  }

  static std::vector<DueConnection> dueFromRows(const std::vector<sql::Row>& rows) {
    std::vector<DueConnection> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      out.push_back(DueConnection{{row[0].asText(), row[1].asText()}, fromMs(row[2].asInt())});
    }
    return out;
  }

  static Result<std::vector<AuthEvent>> eventsFromRows(const std::vector<sql::Row>& rows) {
    std::vector<AuthEvent> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      AuthEvent e;
      e.id = row[0].asInt();
      e.at = fromMs(row[1].asInt());
      e.key = {row[2].asText(), row[3].asText()};
      const auto type = parseEventType(row[4].asText());
      if (!type) {
        return Error(Errc::kStore,
                     fmt::format("event {} has an unknown type (database edited by hand?)", e.id));
      }
      e.type = *type;
      e.actor = row[5].asText();
      e.idp_host = row[6].asText();
      e.correlation_id = row[7].asText();
      e.detail_json = row[8].asText();
      out.push_back(std::move(e));
    }
    return out;
  }

  Status verifyTables() {
    auto lease = backend_->reader();
    if (!lease.ok()) return withContext(lease.error(), "open", backend_->describe());
    for (std::string_view table : sql::requiredTables()) {
      auto r = (*lease)->query(fmt::format("SELECT 1 FROM {} LIMIT 1", table));
      if (!r.ok()) {
        return Error(Errc::kStore,
                     fmt::format("store: open {}: table '{}' is missing or unreadable although "
                                 "the migrations are recorded (the schema is damaged; restore "
                                 "a backup or re-create the database): {}",
                                 backend_->describe(), table, r.error().message));
      }
    }
    return core::okStatus();
  }

  // Verifies the sealer against the key-check value, writing it on first open.
  Status verifyKey() {
    const std::string aad = keyCheckAad();
    auto sealed = sealer_->seal(kKeyCheckPlaintext, aad);
    if (!sealed.ok()) return withContext(sealed.error(), "open", "key check");
    auto lease = backend_->writer();
    if (!lease.ok()) return withContext(lease.error(), "open", backend_->describe());
    auto ins = (*lease)->query(
        "INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING",
        {Param::text(*sealed)});
    if (!ins.ok()) return withContext(ins.error(), "open", backend_->describe());
    auto r = (*lease)->query("SELECT value FROM meta WHERE key = 'key_check'");
    if (!r.ok()) return withContext(r.error(), "open", backend_->describe());
    if (r->rows.empty()) return Error(Errc::kStore, "store: open: the key check value vanished");
    auto opened = sealer_->open(r->rows[0][0].asText(), aad);
    if (!opened.ok() || *opened != kKeyCheckPlaintext) {
      return Error(Errc::kCrypto,
                   fmt::format("store: open {}: the configured sealing key ({}) does not match "
                               "the key this store was written with: {}. Configure the "
                               "original key (with the new one first, to rotate)",
                               backend_->describe(), sealer_->describe(),
                               opened.ok() ? "key check value differs" : opened.error().message));
    }
    return core::okStatus();
  }

  std::unique_ptr<sql::Backend> backend_;
  std::shared_ptr<const Sealer> sealer_;
  const core::Clock& clock_;
  std::unique_ptr<LockManager> locks_;
  std::atomic<size_t> last_health_rows_{0};  // capacity hint for the next bulk health
  int migrations_applied_ = 0;
  int schema_version_ = 0;
};

}  // namespace

Result<std::unique_ptr<Store>> openStore(StoreOptions options) {
  if (!options.sealer) {
    return Error(Errc::kConfig,
                 "store: no sealer: configure a sealing key, or explicitly allow plaintext "
                 "storage");
  }
  const core::Clock& clock = options.clock != nullptr ? *options.clock : core::systemClock();
  Result<std::unique_ptr<sql::Backend>> backend =
      std::holds_alternative<SqliteOptions>(options.backend)
          ? sql::openSqliteBackend(std::get<SqliteOptions>(options.backend))
          : sql::openPostgresBackend(std::get<PostgresOptions>(options.backend));
  if (!backend.ok()) {
    const Error& e = backend.error();
    return Error(e.code, e.message.starts_with("store:") ? e.message : "store: open: " + e.message);
  }
  auto store =
      std::make_unique<SqlStore>(std::move(backend).value(), std::move(options.sealer), clock);
  if (auto st = store->open(); !st.ok()) return std::move(st).takeError();
  core::log::info("store opened", {{"database", store->describe()},
                                   {"schema_version", store->schemaVersion()},
                                   {"migrations_applied", store->migrationsAppliedAtOpen()}});
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tether::store
