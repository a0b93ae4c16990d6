// EventStore over SQL: append-only auth events and the per-connection head row that
// answers "newest event" and "newest lifecycle event" without scanning.

#include <fmt/format.h>

#include <boost/json/parse.hpp>

#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;

constexpr auto kEventColumns =
    columns("id", "at", "kind", "name", "type", "actor", "idp_host", "correlation_id", "detail");
// The same columns read through the head join (`e.` alias); mapped by kEventColumns.
constexpr auto kJoinedEventColumns =
    columns("e.id", "e.at", "e.kind", "e.name", "e.type", "e.actor", "e.idp_host",
            "e.correlation_id", "e.detail");
static_assert(kJoinedEventColumns.sameNames(kEventColumns));

constexpr auto kId = columns("id");

Result<std::vector<AuthEvent>> eventsFromRows(const std::vector<Row>& rows) {
  constexpr auto c = kEventColumns;
  std::vector<AuthEvent> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    AuthEvent e;
    e.id = row[c("id")].asInt();
    e.at = fromMs(row[c("at")].asInt());
    e.key = {row[c("kind")].asText(), row[c("name")].asText()};
    const auto type = parseEventType(row[c("type")].asText());
    if (!type) {
      return Error(Errc::kStore,
                   fmt::format("event {} has an unknown type (database edited by hand?)", e.id));
    }
    e.type = *type;
    e.actor = row[c("actor")].asText();
    e.idp_host = row[c("idp_host")].asText();
    e.correlation_id = row[c("correlation_id")].asText();
    e.detail_json = row[c("detail")].asText();
    out.push_back(std::move(e));
  }
  return out;
}

// Replaces the connection's head when the new (at, id) is newer; the lifecycle columns
// only for a lifecycle event.
constexpr std::string_view kUpsertHead =
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
    "END";

class SqlEventStore final : public EventStore {
 public:
  explicit SqlEventStore(StoreContext& ctx) : ctx_(ctx) {}

  Result<int64_t> appendEvent(const AuthEvent& event) override {
    const ConnectionKey& key = event.key;
    const std::string_view type = eventTypeName(event.type);
    if (type.empty()) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("store: append event {}: unknown event type {} (not one of the "
                               "closed set)",
                               key.str(), static_cast<int>(event.type)));
    }
    TETHER_TRY(checkKey(key, "append event"));
    return annotated("append event", key.str(), [&]() -> Result<int64_t> {
      TETHER_TRY(checkTexts({{"actor", event.actor},
                             {"idp_host", event.idp_host},
                             {"correlation_id", event.correlation_id}}));
      std::string_view detail = event.detail_json;
      if (detail.empty()) detail = "{}";
      TETHER_TRY(checkText("detail", detail, kMaxDetail));
      boost::system::error_code ec;
      const auto parsed = boost::json::parse(detail, ec);
      if (ec || !parsed.is_object()) {
        return Error(Errc::kInvalidArgument, "detail is not a JSON object");
      }
      const int64_t at = event.at == TimePoint{} ? ctx_.nowMs() : toMs(event.at);
      const EventOutcome outcome = eventOutcome(event.type);
      const bool lifecycle = outcome != EventOutcome::kNeutral;
      return ctx_.inTransaction([&](Session& s) -> Result<int64_t> {
        TETHER_TRY_ASSIGN(
            ResultSet inserted,
            s.query("INSERT INTO auth_events (at, kind, name, type, actor, idp_host, "
                    "correlation_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    {Param::integer(at), Param::text(key.kind), Param::text(key.name),
                     Param::text(type), Param::text(event.actor), Param::text(event.idp_host),
                     Param::text(event.correlation_id), Param::text(detail)}));
        const int64_t id = inserted.rows.at(0).at(kId("id")).asInt();
        TETHER_TRY(s.query(kUpsertHead,
                           {Param::text(key.kind), Param::text(key.name), Param::integer(id),
                            Param::integer(at), lifecycle ? Param::integer(id) : Param::nullInt(),
                            lifecycle ? Param::integer(at) : Param::nullInt(),
                            Param::integer(outcome == EventOutcome::kFailure ? 1 : 0)}));
        return id;
      });
    });
  }

  Result<std::vector<AuthEvent>> recentEvents(const ConnectionKey& key, int limit) override {
    TETHER_TRY(checkKey(key, "recent events"));
    if (limit <= 0 || limit > kMaxListLimit) {
      return Error(Errc::kInvalidArgument, "store: recent events: limit out of range");
    }
    return annotated("recent events", key.str(), [&]() -> Result<std::vector<AuthEvent>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql = fmt::format(
          "SELECT {} FROM auth_events WHERE kind = $1 AND name = $2 ORDER BY at DESC, id DESC "
          "LIMIT $3",
          kEventColumns.sql());
      TETHER_TRY_ASSIGN(
          ResultSet r,
          lease->query(sql, {Param::text(key.kind), Param::text(key.name), Param::integer(limit)}));
      return eventsFromRows(r.rows);
    });
  }

  Result<std::vector<AuthEvent>> latestEventPerConnection() override {
    return annotated("latest event per connection", "", [&]() -> Result<std::vector<AuthEvent>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql = fmt::format(
          "SELECT {} FROM event_heads h JOIN auth_events e ON e.id = h.last_event_id "
          "ORDER BY h.kind, h.name",
          kJoinedEventColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query(sql));
      return eventsFromRows(r.rows);
    });
  }

  Result<int64_t> pruneEvents(Duration retention) override {
    if (retention.count() < 0) {
      return Error(Errc::kInvalidArgument, "store: prune events: negative retention");
    }
    return annotated("prune events", "", [&]() -> Result<int64_t> {
      const int64_t cutoff = ctx_.nowMs() - retention.count();
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query("DELETE FROM auth_events WHERE at < $1",
                                                  {Param::integer(cutoff)}));
      return r.affected;
    });
  }

 private:
  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<EventStore> makeEventStore(StoreContext& ctx) {
  return std::make_unique<SqlEventStore>(ctx);
}

}  // namespace tether::store::sql
