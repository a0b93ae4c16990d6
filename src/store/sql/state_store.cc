// StateStore over SQL: the connection-state rows and the keeper's due set with claims.

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

constexpr auto kStateColumns = columns("state", "reason", "last_error_code", "consecutive_failures",
                                       "first_failure_at", "next_attempt_at", "revoked_at",
                                       "next_due_at", "updated_at", "step_up_scopes", "step_ups");

constexpr auto kDueColumns = columns("kind", "name", "next_due_at");
// The PostgreSQL claim returns the same columns through an alias; read by kDueColumns.
constexpr auto kClaimedColumns = columns("s.kind", "s.name", "s.next_due_at");
static_assert(kClaimedColumns.sameNames(kDueColumns));

std::vector<DueConnection> dueFromRows(const std::vector<Row>& rows) {
  constexpr auto c = kDueColumns;
  std::vector<DueConnection> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back(DueConnection{{row[c("kind")].asText(), row[c("name")].asText()},
                                fromMs(row[c("next_due_at")].asInt())});
  }
  return out;
}

}  // namespace

Result<std::optional<StateRecord>> readStateRow(Session& session, const ConnectionKey& key,
                                                bool for_update) {
  static const std::string sql = fmt::format(
      "SELECT {} FROM connection_state WHERE kind = $1 AND name = $2", kStateColumns.sql());
  static const std::string locking = sql + " FOR UPDATE";
  TETHER_TRY_ASSIGN(ResultSet r, session.query(for_update ? locking : sql,
                                               {Param::text(key.kind), Param::text(key.name)}));
  if (r.rows.empty()) return std::optional<StateRecord>();
  constexpr auto c = kStateColumns;
  const Row& row = r.rows[0];
  StateRecord out;
  out.key = key;
  out.state =
      parseConnectionState(row[c("state")].asText()).value_or(ConnectionState::kNotConnected);
  out.reason = row[c("reason")].asText();
  out.last_error_code = row[c("last_error_code")].asText();
  out.consecutive_failures = static_cast<int>(row[c("consecutive_failures")].asInt());
  out.first_failure_at = optTime(row[c("first_failure_at")]);
  out.next_attempt_at = optTime(row[c("next_attempt_at")]);
  out.revoked_at = optTime(row[c("revoked_at")]);
  out.next_due_at = optTime(row[c("next_due_at")]);
  out.updated_at = fromMs(row[c("updated_at")].asInt());
  out.step_up_scopes = row[c("step_up_scopes")].asText();
  out.step_ups = static_cast<int>(row[c("step_ups")].asInt());
  return std::optional<StateRecord>(std::move(out));
}

Status writeStateRow(StoreContext& ctx, Session& session, const StateRecord& state) {
  const ConnectionKey& key = state.key;
  TETHER_TRY(checkTexts({{"reason", state.reason},
                         {"last_error_code", state.last_error_code},
                         {"step_up_scopes", state.step_up_scopes}}));
  TETHER_TRY(session.query(
      "INSERT INTO connection_state (kind, name, state, reason, last_error_code, "
      "consecutive_failures, first_failure_at, next_attempt_at, revoked_at, next_due_at, "
      "updated_at, step_up_scopes, step_ups) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
      "$11, $12, $13) "
      "ON CONFLICT (kind, name) DO UPDATE SET state = excluded.state, reason = "
      "excluded.reason, last_error_code = excluded.last_error_code, consecutive_failures = "
      "excluded.consecutive_failures, first_failure_at = excluded.first_failure_at, "
      "next_attempt_at = excluded.next_attempt_at, revoked_at = excluded.revoked_at, "
      "next_due_at = excluded.next_due_at, updated_at = excluded.updated_at, "
      "step_up_scopes = excluded.step_up_scopes, step_ups = excluded.step_ups",
      {Param::text(key.kind), Param::text(key.name), Param::text(connectionStateName(state.state)),
       Param::text(state.reason), Param::text(state.last_error_code),
       Param::integer(state.consecutive_failures), Param::optInt(optMs(state.first_failure_at)),
       Param::optInt(optMs(state.next_attempt_at)), Param::optInt(optMs(state.revoked_at)),
       Param::optInt(optMs(state.next_due_at)), Param::integer(ctx.nowMs()),
       Param::text(state.step_up_scopes), Param::integer(state.step_ups)}));
  return core::okStatus();
}

namespace {

class SqlStateStore final : public StateStore {
 public:
  explicit SqlStateStore(StoreContext& ctx) : ctx_(ctx) {}

  Result<std::optional<StateRecord>> getState(const ConnectionKey& key) override {
    TETHER_TRY(checkKey(key, "get state"));
    return annotated("get state", key.str(), [&]() -> Result<std::optional<StateRecord>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      return readStateRow(*lease, key, false);
    });
  }

  Status putState(const StateRecord& state) override {
    const ConnectionKey& key = state.key;
    TETHER_TRY(checkKey(key, "put state"));
    return annotated("put state", key.str(), [&]() -> Status {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      return writeStateRow(ctx_, *lease, state);
    });
  }

  Status setNextDue(const ConnectionKey& key, std::optional<TimePoint> due) override {
    TETHER_TRY(checkKey(key, "set next due"));
    return annotated("set next due", key.str(), [&]() -> Status {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY(lease->query(
          "INSERT INTO connection_state (kind, name, state, next_due_at, updated_at) "
          "VALUES ($1, $2, 'not_connected', $3, $4) ON CONFLICT (kind, name) DO UPDATE SET "
          "next_due_at = excluded.next_due_at, updated_at = excluded.updated_at",
          {Param::text(key.kind), Param::text(key.name), Param::optInt(optMs(due)),
           Param::integer(ctx_.nowMs())}));
      return core::okStatus();
    });
  }

  Result<std::vector<DueConnection>> dueConnections(TimePoint until, int limit) override {
    if (limit <= 0 || limit > kMaxListLimit) {
      return Error(Errc::kInvalidArgument, "store: due connections: limit out of range");
    }
    return annotated("due connections", "", [&]() -> Result<std::vector<DueConnection>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql = fmt::format(
          "SELECT {} FROM connection_state WHERE next_due_at IS NOT NULL AND next_due_at <= $1 "
          "ORDER BY next_due_at, kind, name LIMIT $2",
          kDueColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query(sql, {Param::integer(toMs(until)), Param::integer(limit)}));
      return dueFromRows(r.rows);
    });
  }

  Result<std::vector<DueConnection>> claimDue(TimePoint until, int limit, std::string_view owner,
                                              Duration lease_for) override {
    if (limit <= 0 || limit > kMaxListLimit || owner.empty() || lease_for.count() <= 0) {
      return Error(Errc::kInvalidArgument,
                   "store: claim due connections: limit, owner or lease out of range");
    }
    return annotated("claim due connections", owner, [&]() -> Result<std::vector<DueConnection>> {
      const int64_t now = ctx_.nowMs();
      // PostgreSQL: rows another replica is claiming right now are skipped, not waited for.
      static const std::string postgres = fmt::format(
          "UPDATE connection_state AS s SET claim_owner = $3, claim_until = $4 FROM (SELECT "
          "kind, name FROM connection_state WHERE next_due_at IS NOT NULL AND next_due_at <= $1 "
          "AND (claim_until IS NULL OR claim_until <= $5) ORDER BY next_due_at, kind, name "
          "LIMIT $2 FOR UPDATE SKIP LOCKED) AS d WHERE s.kind = d.kind AND s.name = d.name "
          "RETURNING {}",
          kClaimedColumns.sql());
      // SQLite: the single writer makes the statement atomic.
      static const std::string sqlite = fmt::format(
          "UPDATE connection_state SET claim_owner = $3, claim_until = $4 WHERE (kind, name) IN "
          "(SELECT kind, name FROM connection_state WHERE next_due_at IS NOT NULL AND "
          "next_due_at <= $1 AND (claim_until IS NULL OR claim_until <= $5) ORDER BY "
          "next_due_at, kind, name LIMIT $2) RETURNING {}",
          kDueColumns.sql());
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(
          ResultSet r,
          lease->query(ctx_.backend().dialect() == Dialect::kPostgres ? postgres : sqlite,
                       {Param::integer(toMs(until)), Param::integer(limit), Param::text(owner),
                        Param::integer(now + lease_for.count()), Param::integer(now)}));
      auto out = dueFromRows(r.rows);
      std::sort(out.begin(), out.end(), [](const DueConnection& a, const DueConnection& b) {
        return std::tie(a.next_due, a.key) < std::tie(b.next_due, b.key);
      });
      return out;
    });
  }

  Status releaseClaim(const ConnectionKey& key, std::string_view owner) override {
    TETHER_TRY(checkKey(key, "release claim"));
    return annotated("release claim", key.str(), [&]() -> Status {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY(lease->query(
          "UPDATE connection_state SET claim_owner = NULL, claim_until = NULL WHERE kind = $1 "
          "AND name = $2 AND claim_owner = $3",
          {Param::text(key.kind), Param::text(key.name), Param::text(owner)}));
      return core::okStatus();
    });
  }

 private:
  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<StateStore> makeStateStore(StoreContext& ctx) {
  return std::make_unique<SqlStateStore>(ctx);
}

}  // namespace tether::store::sql
