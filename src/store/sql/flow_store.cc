// FlowStore over SQL: pending connect flows keyed by a SHA-256 of their state, with the
// PKCE verifier and the authorization URL sealed.

#include <fmt/format.h>

#include "core/digest.h"
#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;

constexpr auto kFlowColumns =
    columns("kind", "name", "pkce_verifier", "return_url", "started_by", "issuer", "correlation_id",
            "created_at", "expires_at", "client_id", "authorization_url");
// The same row and its key, for a flow found by connection rather than by state.
constexpr auto kFlowWithHashColumns = kFlowColumns.plus("state_hash");

class SqlFlowStore final : public FlowStore {
 public:
  explicit SqlFlowStore(StoreContext& ctx) : ctx_(ctx) {}

  Result<CreateFlowResult> createPendingFlow(const PendingFlow& flow) override {
    constexpr std::string_view op = "create pending flow";
    const ConnectionKey& key = flow.key;
    TETHER_TRY(checkKey(key, op));
    return annotated(op, key.str(), [&]() -> Result<CreateFlowResult> {
      if (flow.state.empty() || flow.pkce_verifier.empty()) {
        return Error(Errc::kInvalidArgument, "state and PKCE verifier are required");
      }
      TETHER_TRY(checkTexts({{"return_url", flow.return_url},
                             {"started_by", flow.started_by},
                             {"issuer", flow.issuer},
                             {"correlation_id", flow.correlation_id},
                             {"client_id", flow.client_id},
                             {"authorization_url", flow.authorization_url}}));
      const TimePoint now = ctx_.clock().now();
      if (flow.expires_at <= now) {
        return Error(Errc::kInvalidArgument, "expires_at is not in the future");
      }
      const std::string hash = core::sha256Hex(flow.state);
      TETHER_TRY_ASSIGN(const std::string verifier,
                        ctx_.sealer().seal(flow.pkce_verifier, flowAad(hash)));
      std::optional<std::string> auth_url;
      if (!flow.authorization_url.empty()) {
        TETHER_TRY_ASSIGN(auth_url, ctx_.sealer().seal(flow.authorization_url,
                                                       flowAad(hash, "authorization_url")));
      }
      // Two attempts: on PostgreSQL a concurrent creator may win the unique index between
      // our read and our insert; the second attempt then returns its flow.
      for (int attempt = 0;; ++attempt) {
        auto out = ctx_.inTransaction(
            [&](Session& s) { return createIn(s, flow, hash, verifier, auth_url, toMs(now)); });
        if (out.ok() || out.error().code != Errc::kAlreadyExists || attempt > 0) return out;
      }
    });
  }

  Result<TakenFlow> takeFlow(std::string_view state) override {
    constexpr std::string_view op = "take pending flow";
    if (state.empty() || state.size() > kMaxText) {
      return Error(Errc::kInvalidArgument, "store: take pending flow: invalid state");
    }
    return annotated(op, "", [&]() -> Result<TakenFlow> {
      const std::string hash = core::sha256Hex(state);
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      static const std::string sql = fmt::format(
          "DELETE FROM pending_flows WHERE state_hash = $1 RETURNING {}", kFlowColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query(sql, {Param::text(hash)}));
      lease.reset();
      if (r.rows.empty()) return TakenFlow{FlowTakeOutcome::kUnknown, {}};
      TETHER_TRY_ASSIGN(PendingFlow flow, flowFromRow(r.rows[0], hash));
      if (flow.expires_at <= ctx_.clock().now()) {
        return TakenFlow{FlowTakeOutcome::kExpired, std::move(flow)};
      }
      flow.state = std::string(state);
      return TakenFlow{FlowTakeOutcome::kTaken, std::move(flow)};
    });
  }

  Result<int64_t> expirePendingFlows() override {
    return annotated("expire pending flows", "", [&]() -> Result<int64_t> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query("DELETE FROM pending_flows WHERE expires_at <= $1",
                                     {Param::integer(ctx_.nowMs())}));
      return r.affected;
    });
  }

  Result<bool> cancelPendingFlow(const ConnectionKey& key) override {
    TETHER_TRY(checkKey(key, "cancel flow"));
    return annotated("cancel pending flow", key.str(), [&]() -> Result<bool> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query("DELETE FROM pending_flows WHERE kind = $1 AND name = $2",
                                     {Param::text(key.kind), Param::text(key.name)}));
      return r.affected > 0;
    });
  }

 private:
  // Inside the write transaction: drops the connection's expired flow, returns a pending
  // one, or inserts `flow`.
  Result<CreateFlowResult> createIn(Session& s, const PendingFlow& flow, const std::string& hash,
                                    const std::string& verifier,
                                    const std::optional<std::string>& auth_url, int64_t now) const {
    const ConnectionKey& key = flow.key;
    TETHER_TRY(
        s.query("DELETE FROM pending_flows WHERE kind = $1 AND name = $2 AND expires_at <= $3",
                {Param::text(key.kind), Param::text(key.name), Param::integer(now)}));
    static const std::string select = fmt::format(
        "SELECT {} FROM pending_flows WHERE kind = $1 AND name = $2", kFlowWithHashColumns.sql());
    TETHER_TRY_ASSIGN(ResultSet existing,
                      s.query(select, {Param::text(key.kind), Param::text(key.name)}));
    if (!existing.rows.empty()) {
      const Row& row = existing.rows[0];
      TETHER_TRY_ASSIGN(PendingFlow found,
                        flowFromRow(row, row[kFlowWithHashColumns("state_hash")].asText()));
      return CreateFlowResult{false, std::move(found)};
    }
    TETHER_TRY(
        s.query("INSERT INTO pending_flows (state_hash, kind, name, pkce_verifier, return_url, "
                "started_by, issuer, correlation_id, created_at, expires_at, client_id, "
                "authorization_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                {Param::text(hash), Param::text(key.kind), Param::text(key.name),
                 Param::text(verifier), Param::text(flow.return_url), Param::text(flow.started_by),
                 Param::text(flow.issuer), Param::text(flow.correlation_id), Param::integer(now),
                 Param::integer(toMs(flow.expires_at)), Param::text(flow.client_id),
                 Param::optText(auth_url)}));
    PendingFlow created = flow;
    created.created_at = fromMs(now);
    return CreateFlowResult{true, std::move(created)};
  }

  // Reads a row of kFlowColumns (or of kFlowWithHashColumns, which starts the same).
  Result<PendingFlow> flowFromRow(const Row& row, const std::string& state_hash) const {
    constexpr auto c = kFlowColumns;
    PendingFlow f;
    f.key = {row[c("kind")].asText(), row[c("name")].asText()};
    TETHER_TRY_ASSIGN(f.pkce_verifier,
                      ctx_.openValue(row[c("pkce_verifier")].asText(), flowAad(state_hash),
                                     "pending_flows.pkce_verifier of " + f.key.str()));
    f.return_url = row[c("return_url")].asText();
    f.started_by = row[c("started_by")].asText();
    f.issuer = row[c("issuer")].asText();
    f.correlation_id = row[c("correlation_id")].asText();
    f.created_at = fromMs(row[c("created_at")].asInt());
    f.expires_at = fromMs(row[c("expires_at")].asInt());
    f.client_id = row[c("client_id")].asText();
    if (!row[c("authorization_url")].isNull()) {
      TETHER_TRY_ASSIGN(f.authorization_url,
                        ctx_.openValue(row[c("authorization_url")].asText(),
                                       flowAad(state_hash, "authorization_url"),
                                       "pending_flows.authorization_url of " + f.key.str()));
    }
    return f;
  }

  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<FlowStore> makeFlowStore(StoreContext& ctx) {
  return std::make_unique<SqlFlowStore>(ctx);
}

}  // namespace tether::store::sql
