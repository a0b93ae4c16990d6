// ConnectionRegistry over SQL: the configured connections (synced in batches under one
// generation) and the bulk health view, one streamed query however many there are.

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include "core/random.h"
#include "store/shown_state.h"
#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

constexpr size_t kSyncBatch = 200;

constexpr auto kConnectionColumns = columns("kind", "name", "auth_mode", "has_oauth", "idp_host");

// The registry joined to state, token and the event head (whose lifecycle_failed flag
// decides whether the IdP code shows).
constexpr auto kHealthColumns = columns(
    "c.kind", "c.name", "c.auth_mode", "c.has_oauth", "s.state", "s.reason",
    "s.consecutive_failures", "s.next_attempt_at",
    "CASE WHEN h.lifecycle_failed = 1 THEN s.last_error_code ELSE NULL END AS last_error_code",
    "CASE WHEN t.kind IS NULL THEN 0 ELSE 1 END AS token_acquired",
    "t.authenticated_at AS token_acquired_at", "t.expires_at", "t.refresh_expires_at",
    "t.last_refreshed_at", "a.last_used_at", "a.connect_failed_at", "a.connect_failure_reason",
    "a.connect_failure_idp_error");

constexpr auto kActivityColumns = columns(
    "last_used_at", "connect_failed_at", "connect_failure_reason", "connect_failure_idp_error",
    "connected_at", "account_subject", "account_email", "account_name");

constexpr size_t kLastUseBatch = 200;
constexpr size_t kMaxHealthKeys = 500;

class SqlConnectionRegistry final : public ConnectionRegistry {
 public:
  explicit SqlConnectionRegistry(StoreContext& ctx) : ctx_(ctx) {}

  Status syncConnections(std::span<const ConnectionInfo> connections) override {
    constexpr std::string_view op = "sync connections";
    std::set<ConnectionKey> seen;
    for (const auto& c : connections) {
      TETHER_TRY(checkKey(c.key, op));
      if (!seen.insert(c.key).second) {
        return Error(Errc::kInvalidArgument,
                     fmt::format("store: {}: connection {} is listed twice", op, c.key.str()));
      }
      TETHER_TRY(annotated(op, c.key.str(), [&] {
        return checkTexts({{"auth_mode", c.auth_mode}, {"idp_host", c.idp_host}});
      }));
    }
    const std::string random = core::randomBytes(8);
    int64_t generation = 0;
    for (char ch : random) generation = (generation << 8) | static_cast<unsigned char>(ch);
    generation &= INT64_MAX;
    const int64_t now = ctx_.nowMs();
    return annotated(op, "", [&]() -> Status {
      return ctx_.inTransaction([&](Session& s) -> Status {
        TETHER_TRY(upsert(s, connections, generation, now));
        TETHER_TRY(s.query("DELETE FROM connections WHERE sync_generation <> $1",
                           {Param::integer(generation)}));
        return core::okStatus();
      });
    });
  }

  Status updateConnections(std::span<const ConnectionInfo> upserted,
                           std::span<const ConnectionKey> removed) override {
    constexpr std::string_view op = "update connections";
    for (const auto& c : upserted) {
      TETHER_TRY(checkKey(c.key, op));
      TETHER_TRY(annotated(op, c.key.str(), [&] {
        return checkTexts({{"auth_mode", c.auth_mode}, {"idp_host", c.idp_host}});
      }));
    }
    for (const auto& k : removed) TETHER_TRY(checkKey(k, op));
    if (upserted.empty() && removed.empty()) return core::okStatus();
    const int64_t now = ctx_.nowMs();
    return annotated(op, "", [&]() -> Status {
      return ctx_.inTransaction([&](Session& s) -> Status {
        // Outside a full sync's generation: the next full sync (a restart) rewrites them.
        TETHER_TRY(upsert(s, upserted, /*generation=*/0, now));
        for (const auto& k : removed) {
          TETHER_TRY(s.query("DELETE FROM connections WHERE kind = $1 AND name = $2",
                             {Param::text(k.kind), Param::text(k.name)}));
        }
        return core::okStatus();
      });
    });
  }

  Result<std::vector<ConnectionInfo>> listConnections() override {
    return annotated("list connections", "", [&]() -> Result<std::vector<ConnectionInfo>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql =
          fmt::format("SELECT {} FROM connections ORDER BY kind, name", kConnectionColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query(sql));
      constexpr auto c = kConnectionColumns;
      std::vector<ConnectionInfo> out;
      out.reserve(r.rows.size());
      for (const auto& row : r.rows) {
        out.push_back(ConnectionInfo{{row[c("kind")].asText(), row[c("name")].asText()},
                                     row[c("auth_mode")].asText(),
                                     row[c("has_oauth")].asInt() != 0,
                                     row[c("idp_host")].asText()});
      }
      return out;
    });
  }

  Result<std::vector<HealthRow>> bulkHealth() override {
    // One query, however many connections. Rows are streamed into HealthRow without an
    // intermediate result set.
    return annotated("bulk health", "", [&]() -> Result<std::vector<HealthRow>> {
      static const std::string sql = healthSql("");
      std::vector<HealthRow> out;
      out.reserve(last_health_rows_.load(std::memory_order_relaxed));
      TETHER_TRY(readHealth(sql, {}, out));
      last_health_rows_.store(out.size(), std::memory_order_relaxed);
      return out;
    });
  }

  Result<std::vector<HealthRow>> healthOf(std::span<const ConnectionKey> keys) override {
    constexpr std::string_view op = "health of connections";
    if (keys.size() > kMaxHealthKeys) {
      return Error(Errc::kInvalidArgument, fmt::format("store: {}: at most {} keys (got {})", op,
                                                       kMaxHealthKeys, keys.size()));
    }
    for (const auto& k : keys) TETHER_TRY(checkKey(k, op));
    if (keys.empty()) return std::vector<HealthRow>{};
    return annotated(op, "", [&]() -> Result<std::vector<HealthRow>> {
      // (c.kind = $1 AND c.name IN ($2, ...)) OR ...: primary-key lookups, one query.
      std::map<std::string_view, std::vector<std::string_view>> by_kind;
      for (const auto& k : keys) by_kind[k.kind].push_back(k.name);
      std::string where;
      std::vector<Param> params;
      for (const auto& [kind, names] : by_kind) {
        where += where.empty() ? "" : " OR ";
        params.push_back(Param::text(kind));
        where += fmt::format("(c.kind = ${} AND c.name IN (", params.size());
        for (size_t i = 0; i < names.size(); ++i) {
          params.push_back(Param::text(names[i]));
          where += fmt::format("{}${}", i == 0 ? "" : ", ", params.size());
        }
        where += "))";
      }
      std::vector<HealthRow> out;
      out.reserve(keys.size());
      TETHER_TRY(readHealth(healthSql("WHERE " + where + " "), params, out));
      return out;
    });
  }

  Status recordLastUse(std::span<const LastUse> uses) override {
    constexpr std::string_view op = "record last use";
    for (const auto& u : uses) TETHER_TRY(checkKey(u.key, op));
    if (uses.empty()) return core::okStatus();
    return annotated(op, "", [&]() -> Status {
      return ctx_.inTransaction([&](Session& s) -> Status {
        std::vector<Param> params;
        for (size_t start = 0; start < uses.size(); start += kLastUseBatch) {
          const size_t n = std::min(kLastUseBatch, uses.size() - start);
          std::string sql = "INSERT INTO connection_activity (kind, name, last_used_at) VALUES ";
          params.clear();
          for (size_t i = 0; i < n; ++i) {
            const auto& u = uses[start + i];
            sql += fmt::format("{}(${}, ${}, ${})", i == 0 ? "" : ", ", i * 3 + 1, i * 3 + 2,
                               i * 3 + 3);
            params.push_back(Param::text(u.key.kind));
            params.push_back(Param::text(u.key.name));
            params.push_back(Param::integer(toMs(u.at)));
          }
          // Never backwards: two replicas may flush out of order.
          sql +=
              " ON CONFLICT (kind, name) DO UPDATE SET last_used_at = CASE WHEN "
              "connection_activity.last_used_at IS NULL OR connection_activity.last_used_at < "
              "excluded.last_used_at THEN excluded.last_used_at ELSE "
              "connection_activity.last_used_at END";
          TETHER_TRY(s.query(sql, params));
        }
        return core::okStatus();
      });
    });
  }

  Status recordConnectOutcome(const ConnectOutcome& o) override {
    constexpr std::string_view op = "record connect outcome";
    TETHER_TRY(checkKey(o.key, op));
    return annotated(op, o.key.str(), [&]() -> Status {
      TETHER_TRY(checkTexts({{"reason", o.reason},
                             {"idp_error", o.idp_error},
                             {"account subject", o.account.subject},
                             {"account email", o.account.email},
                             {"account name", o.account.name}}));
      return ctx_.inTransaction([&](Session& s) -> Status {
        const int64_t at = toMs(o.at);
        if (o.failed) {
          TETHER_TRY(s.query(
              "INSERT INTO connection_activity (kind, name, connect_failed_at, "
              "connect_failure_reason, connect_failure_idp_error) VALUES ($1, $2, $3, $4, $5) "
              "ON CONFLICT (kind, name) DO UPDATE SET connect_failed_at = "
              "excluded.connect_failed_at, connect_failure_reason = "
              "excluded.connect_failure_reason, connect_failure_idp_error = "
              "excluded.connect_failure_idp_error",
              {Param::text(o.key.kind), Param::text(o.key.name), Param::integer(at),
               Param::text(o.reason), Param::text(o.idp_error)}));
          return core::okStatus();
        }
        TETHER_TRY(s.query(
            "INSERT INTO connection_activity (kind, name, connected_at, account_subject, "
            "account_email, account_name) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (kind, name) DO UPDATE SET connected_at = excluded.connected_at, "
            "account_subject = excluded.account_subject, account_email = "
            "excluded.account_email, account_name = excluded.account_name, connect_failed_at = "
            "NULL, connect_failure_reason = '', connect_failure_idp_error = ''",
            {Param::text(o.key.kind), Param::text(o.key.name), Param::integer(at),
             Param::text(o.account.subject), Param::text(o.account.email),
             Param::text(o.account.name)}));
        return core::okStatus();
      });
    });
  }

  Result<ConnectionActivity> activity(const ConnectionKey& key) override {
    constexpr std::string_view op = "read activity";
    TETHER_TRY(checkKey(key, op));
    return annotated(op, key.str(), [&]() -> Result<ConnectionActivity> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql =
          fmt::format("SELECT {} FROM connection_activity WHERE kind = $1 AND name = $2",
                      kActivityColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query(sql, {Param::text(key.kind), Param::text(key.name)}));
      ConnectionActivity out;
      if (r.rows.empty()) return out;
      constexpr auto c = kActivityColumns;
      const auto& row = r.rows.front();
      out.last_used_at = optTime(row[c("last_used_at")]);
      out.connect_failed_at = optTime(row[c("connect_failed_at")]);
      out.connect_failure_reason = row[c("connect_failure_reason")].asText();
      out.connect_failure_idp_error = row[c("connect_failure_idp_error")].asText();
      out.connected_at = optTime(row[c("connected_at")]);
      out.account.subject = row[c("account_subject")].asText();
      out.account.email = row[c("account_email")].asText();
      out.account.name = row[c("account_name")].asText();
      return out;
    });
  }

 private:
  static std::string healthSql(const std::string& where) {
    return fmt::format(
        "SELECT {} FROM connections c "
        "LEFT JOIN connection_state s ON s.kind = c.kind AND s.name = c.name "
        "LEFT JOIN tokens t ON t.kind = c.kind AND t.name = c.name "
        "LEFT JOIN event_heads h ON h.kind = c.kind AND h.name = c.name "
        "LEFT JOIN connection_activity a ON a.kind = c.kind AND a.name = c.name "
        "{}ORDER BY c.kind, c.name",
        kHealthColumns.sql(), where);
  }

  Status readHealth(const std::string& sql, const std::vector<Param>& params,
                    std::vector<HealthRow>& out) {
    TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
    return lease->forEach(sql, params, [&out](const RowView& row) {
      constexpr auto c = kHealthColumns;
      HealthRow& h = out.emplace_back();
      h.key.kind = row.text(c("kind"));
      h.key.name = row.text(c("name"));
      h.auth_mode = row.text(c("auth_mode"));
      h.has_oauth = row.integer(c("has_oauth")) != 0;
      h.token_acquired = row.integer(c("token_acquired")) != 0;
      std::optional<ConnectionState> recorded;
      if (!row.isNull(c("state"))) {
        recorded =
            parseConnectionState(row.text(c("state"))).value_or(ConnectionState::kNotConnected);
      }
      h.state = shownConnectionState(recorded, h.token_acquired);
      h.needs_reauth = h.state == ConnectionState::kNeedsReauth;
      h.reason = row.text(c("reason"));
      h.consecutive_failures = static_cast<int>(row.integer(c("consecutive_failures")));
      h.next_attempt_at = optTime(row, c("next_attempt_at"));
      h.last_error_code = row.text(c("last_error_code"));
      h.token_acquired_at = optTime(row, c("token_acquired_at"));
      h.expires_at = optTime(row, c("expires_at"));
      h.refresh_expires_at = optTime(row, c("refresh_expires_at"));
      h.last_refreshed_at = optTime(row, c("last_refreshed_at"));
      h.last_used_at = optTime(row, c("last_used_at"));
      h.connect_failed_at = optTime(row, c("connect_failed_at"));
      if (h.connect_failed_at) {
        h.connect_failure_reason = row.text(c("connect_failure_reason"));
        h.connect_failure_idp_error = row.text(c("connect_failure_idp_error"));
      }
    });
  }

  // Upserts `connections` in statements of kSyncBatch rows.
  static Status upsert(Session& s, std::span<const ConnectionInfo> connections, int64_t generation,
                       int64_t now) {
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
      TETHER_TRY(s.query(sql, params));
    }
    return core::okStatus();
  }

  StoreContext& ctx_;
  std::atomic<size_t> last_health_rows_{0};  // capacity hint for the next bulk health
};

}  // namespace

std::unique_ptr<ConnectionRegistry> makeConnectionRegistry(StoreContext& ctx) {
  return std::make_unique<SqlConnectionRegistry>(ctx);
}

}  // namespace tether::store::sql
