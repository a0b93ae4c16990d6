// OutboxStore over SQL: webhook messages queued with the state change that caused them,
// claimed by one replica at a time (PostgreSQL: FOR UPDATE SKIP LOCKED), kept after
// delivery for the delivery log; and the notices already given (reauthorize_soon).

#include "store/outbox_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store {

std::string_view outboxStatusName(OutboxStatus status) {
  switch (status) {
    case OutboxStatus::kPending:
      return "pending";
    case OutboxStatus::kDelivered:
      return "delivered";
    case OutboxStatus::kGivenUp:
      return "given_up";
  }
  return "pending";
}

namespace sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

constexpr size_t kMaxBody = 64 * 1024;
constexpr size_t kMaxError = 500;

constexpr auto kMessageColumns = columns("id", "message_id", "webhook_key", "event", "kind", "name",
                                         "body", "status", "attempts", "last_status", "last_error",
                                         "created_at", "next_attempt_at", "finished_at");
constexpr auto kClaimedColumns =
    columns("o.id", "o.message_id", "o.webhook_key", "o.event", "o.kind", "o.name", "o.body",
            "o.status", "o.attempts", "o.last_status", "o.last_error", "o.created_at",
            "o.next_attempt_at", "o.finished_at");
static_assert(kClaimedColumns.sameNames(kMessageColumns));

OutboxStatus parseStatus(std::string_view s) {
  if (s == "delivered") return OutboxStatus::kDelivered;
  if (s == "given_up") return OutboxStatus::kGivenUp;
  return OutboxStatus::kPending;
}

std::vector<OutboxMessage> messagesFromRows(const std::vector<Row>& rows) {
  constexpr auto c = kMessageColumns;
  std::vector<OutboxMessage> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    OutboxMessage m;
    m.id = row[c("id")].asInt();
    m.message_id = row[c("message_id")].asText();
    m.webhook_key = row[c("webhook_key")].asText();
    m.event = row[c("event")].asText();
    m.key = {row[c("kind")].asText(), row[c("name")].asText()};
    m.body = row[c("body")].asText();
    m.status = parseStatus(row[c("status")].asText());
    m.attempts = static_cast<int>(row[c("attempts")].asInt());
    m.last_status = static_cast<int>(row[c("last_status")].asInt());
    m.last_error = row[c("last_error")].asText();
    m.created_at = fromMs(row[c("created_at")].asInt());
    m.next_attempt_at = fromMs(row[c("next_attempt_at")].asInt());
    m.finished_at = optTime(row[c("finished_at")]);
    out.push_back(std::move(m));
  }
  return out;
}

Status checkMessage(const OutboxMessage& m) {
  TETHER_TRY(checkKey(m.key, "enqueue webhook message"));
  if (m.message_id.empty() || m.webhook_key.empty() || m.event.empty()) {
    return Error(Errc::kInvalidArgument,
                 "store: enqueue webhook message: message id, webhook and event are required");
  }
  TETHER_TRY(checkTexts(
      {{"message_id", m.message_id}, {"webhook_key", m.webhook_key}, {"event", m.event}}));
  return checkText("body", m.body, kMaxBody);
}

// Inserts the messages on `s` (inside the caller's transaction).
Status insertMessages(StoreContext& ctx, Session& s, const std::vector<OutboxMessage>& messages) {
  const int64_t now = ctx.nowMs();
  for (const OutboxMessage& m : messages) {
    TETHER_TRY(checkMessage(m));
    const int64_t created = m.created_at == TimePoint{} ? now : toMs(m.created_at);
    const int64_t due = m.next_attempt_at == TimePoint{} ? created : toMs(m.next_attempt_at);
    TETHER_TRY(s.query(
        "INSERT INTO webhook_outbox (message_id, webhook_key, event, kind, name, body, status, "
        "created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)",
        {Param::text(m.message_id), Param::text(m.webhook_key), Param::text(m.event),
         Param::text(m.key.kind), Param::text(m.key.name), Param::text(m.body),
         Param::integer(created), Param::integer(due)}));
  }
  return core::okStatus();
}

class SqlOutboxStore final : public OutboxStore {
 public:
  explicit SqlOutboxStore(StoreContext& ctx) : ctx_(ctx) {}

  Status putStateAndEnqueue(const StateRecord& state, const OutboxDeriver& derive) override {
    TETHER_TRY(checkKey(state.key, "put state"));
    return annotated("put state", state.key.str(), [&]() -> Status {
      const bool pg = ctx_.backend().dialect() == Dialect::kPostgres;
      return ctx_.inTransaction([&](Session& s) -> Status {
        TETHER_TRY_ASSIGN(const std::optional<StateRecord> before,
                          readStateRow(s, state.key, /*for_update=*/pg));
        TETHER_TRY(writeStateRow(ctx_, s, state));
        if (!derive) return core::okStatus();
        return insertMessages(ctx_, s, derive(before, state));
      });
    });
  }

  Status enqueue(const std::vector<OutboxMessage>& messages) override {
    if (messages.empty()) return core::okStatus();
    return annotated("enqueue webhook messages", "", [&]() -> Status {
      return ctx_.inTransaction(
          [&](Session& s) -> Status { return insertMessages(ctx_, s, messages); });
    });
  }

  Result<bool> enqueueOnce(const ConnectionKey& key, std::string_view notice, int64_t value,
                           const std::vector<OutboxMessage>& messages) override {
    TETHER_TRY(checkKey(key, "enqueue webhook notice"));
    TETHER_TRY(checkText("notice", notice));
    return annotated("enqueue webhook notice", key.str(), [&]() -> Result<bool> {
      return ctx_.inTransaction([&](Session& s) -> Result<bool> {
        // The upsert returns a row only when the notice is new or its value changed; a
        // concurrent writer of the same value waits for this row and then returns none.
        TETHER_TRY_ASSIGN(
            ResultSet r,
            s.query("INSERT INTO webhook_notices (kind, name, notice, value, updated_at) VALUES "
                    "($1, $2, $3, $4, $5) ON CONFLICT (kind, name, notice) DO UPDATE SET "
                    "value = excluded.value, updated_at = excluded.updated_at WHERE "
                    "webhook_notices.value <> excluded.value RETURNING value",
                    {Param::text(key.kind), Param::text(key.name), Param::text(notice),
                     Param::integer(value), Param::integer(ctx_.nowMs())}));
        if (r.rows.empty()) return false;
        TETHER_TRY(insertMessages(ctx_, s, messages));
        return true;
      });
    });
  }

  Result<std::vector<OutboxMessage>> claimDueMessages(int limit, std::string_view owner,
                                                      Duration lease) override {
    if (limit <= 0 || limit > kMaxListLimit || owner.empty() || lease.count() <= 0) {
      return Error(Errc::kInvalidArgument,
                   "store: claim webhook messages: limit, owner or lease out of range");
    }
    return annotated("claim webhook messages", owner, [&]() -> Result<std::vector<OutboxMessage>> {
      const int64_t now = ctx_.nowMs();
      static const std::string postgres = fmt::format(
          "UPDATE webhook_outbox AS o SET claim_owner = $2, claim_until = $3 FROM (SELECT id "
          "FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= $4 AND "
          "(claim_until IS NULL OR claim_until <= $4) ORDER BY next_attempt_at, id LIMIT $1 "
          "FOR UPDATE SKIP LOCKED) AS d WHERE o.id = d.id RETURNING {}",
          kClaimedColumns.sql());
      static const std::string sqlite = fmt::format(
          "UPDATE webhook_outbox SET claim_owner = $2, claim_until = $3 WHERE id IN (SELECT id "
          "FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= $4 AND "
          "(claim_until IS NULL OR claim_until <= $4) ORDER BY next_attempt_at, id LIMIT $1) "
          "RETURNING {}",
          kMessageColumns.sql());
      TETHER_TRY_ASSIGN(Lease l, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(ResultSet r,
                        l->query(ctx_.backend().dialect() == Dialect::kPostgres ? postgres : sqlite,
                                 {Param::integer(limit), Param::text(owner),
                                  Param::integer(now + lease.count()), Param::integer(now)}));
      auto out = messagesFromRows(r.rows);
      std::sort(out.begin(), out.end(), [](const OutboxMessage& a, const OutboxMessage& b) {
        return std::tie(a.next_attempt_at, a.id) < std::tie(b.next_attempt_at, b.id);
      });
      return out;
    });
  }

  Result<bool> recordAttempt(int64_t id, std::string_view owner,
                             const OutboxAttempt& attempt) override {
    return annotated("record webhook attempt", std::to_string(id), [&]() -> Result<bool> {
      std::string error = attempt.error.substr(0, kMaxError);
      const bool pending = attempt.status == OutboxStatus::kPending;
      const int64_t now = ctx_.nowMs();
      TETHER_TRY_ASSIGN(Lease l, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(
          ResultSet r,
          l->query(
              "UPDATE webhook_outbox SET status = $3, attempts = attempts + 1, "
              "last_status = $4, last_error = $5, next_attempt_at = $6, finished_at = $7, "
              "claim_owner = NULL, claim_until = NULL WHERE id = $1 AND claim_owner = $2",
              {Param::integer(id), Param::text(owner),
               Param::text(outboxStatusName(attempt.status)), Param::integer(attempt.http_status),
               Param::text(error), Param::integer(pending ? toMs(attempt.next_attempt_at) : now),
               pending ? Param::nullInt() : Param::integer(now)}));
      return r.affected > 0;
    });
  }

  Result<std::vector<OutboxMessage>> recentMessages(int limit) override {
    if (limit <= 0 || limit > kMaxListLimit) {
      return Error(Errc::kInvalidArgument, "store: recent webhook messages: limit out of range");
    }
    return annotated("recent webhook messages", "", [&]() -> Result<std::vector<OutboxMessage>> {
      static const std::string sql = fmt::format(
          "SELECT {} FROM webhook_outbox ORDER BY id DESC LIMIT $1", kMessageColumns.sql());
      TETHER_TRY_ASSIGN(Lease l, ctx_.backend().reader());
      TETHER_TRY_ASSIGN(ResultSet r, l->query(sql, {Param::integer(limit)}));
      return messagesFromRows(r.rows);
    });
  }

  Result<int64_t> pendingMessages() override {
    return annotated("count pending webhook messages", "", [&]() -> Result<int64_t> {
      constexpr auto c = columns("COUNT(*) AS n");
      TETHER_TRY_ASSIGN(Lease l, ctx_.backend().reader());
      TETHER_TRY_ASSIGN(ResultSet r, l->query("SELECT " + c.sql() +
                                              " FROM webhook_outbox WHERE status = 'pending'"));
      return r.rows.empty() ? int64_t{0} : r.rows[0][c("n")].asInt();
    });
  }

  Result<int64_t> pruneMessages(TimePoint before) override {
    return annotated("prune webhook messages", "", [&]() -> Result<int64_t> {
      TETHER_TRY_ASSIGN(Lease l, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(ResultSet r,
                        l->query("DELETE FROM webhook_outbox WHERE finished_at IS NOT NULL AND "
                                 "finished_at < $1",
                                 {Param::integer(toMs(before))}));
      return r.affected;
    });
  }

 private:
  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<OutboxStore> makeOutboxStore(StoreContext& ctx) {
  return std::make_unique<SqlOutboxStore>(ctx);
}

}  // namespace sql
}  // namespace tether::store
