// ConnectionDefinitionStore over SQL: API-made connection definitions with their secrets
// sealed apart, per-row versions for If-Match, soft deletes, and a registry version that
// every write bumps in the same transaction.

#include <fmt/format.h>

#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;

constexpr size_t kMaxDefinition = 64 * 1024;

constexpr auto kDefinitionColumns = columns("kind", "name", "definition", "secrets", "version",
                                            "created_at", "updated_at", "deleted_at");
constexpr auto kVersionColumns = columns("version", "deleted_at");
constexpr auto kCounter = columns("value");
constexpr auto kRefresh = columns("refresh_token");

std::string definitionAad(const ConnectionKey& key) {
  return sealingAad("connection_definitions", {key.kind, key.name}, "secrets");
}

class SqlConnectionDefinitionStore final : public ConnectionDefinitionStore {
 public:
  explicit SqlConnectionDefinitionStore(StoreContext& ctx) : ctx_(ctx) {}

  Result<std::vector<ConnectionDefinition>> listDefinitions(bool include_deleted) override {
    return annotated("list connection definitions", "",
                     [&]() -> Result<std::vector<ConnectionDefinition>> {
                       TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
                       static const std::string live = fmt::format(
                           "SELECT {} FROM connection_definitions WHERE deleted_at IS NULL "
                           "ORDER BY kind, name",
                           kDefinitionColumns.sql());
                       static const std::string all =
                           fmt::format("SELECT {} FROM connection_definitions ORDER BY kind, name",
                                       kDefinitionColumns.sql());
                       TETHER_TRY_ASSIGN(ResultSet r, lease->query(include_deleted ? all : live));
                       std::vector<ConnectionDefinition> out;
                       out.reserve(r.rows.size());
                       for (const auto& row : r.rows) {
                         TETHER_TRY_ASSIGN(ConnectionDefinition d, fromRow(row));
                         out.push_back(std::move(d));
                       }
                       return out;
                     });
  }

  Result<std::vector<std::pair<ConnectionKey, int64_t>>> listDefinitionVersions() override {
    using Versions = std::vector<std::pair<ConnectionKey, int64_t>>;
    return annotated("list connection definition versions", "", [&]() -> Result<Versions> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static constexpr auto c = columns("kind", "name", "version");
      static const std::string sql = fmt::format(
          "SELECT {} FROM connection_definitions WHERE deleted_at IS NULL ORDER BY kind, name",
          c.sql());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query(sql));
      Versions out;
      out.reserve(r.rows.size());
      for (const auto& row : r.rows) {
        out.push_back(
            {{row[c("kind")].asText(), row[c("name")].asText()}, row[c("version")].asInt()});
      }
      return out;
    });
  }

  Result<std::optional<ConnectionDefinition>> getDefinition(const ConnectionKey& key) override {
    TETHER_TRY(checkKey(key, "get connection definition"));
    return annotated(
        "get connection definition", key.str(),
        [&]() -> Result<std::optional<ConnectionDefinition>> {
          TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
          static const std::string sql =
              fmt::format("SELECT {} FROM connection_definitions WHERE kind = $1 AND name = $2",
                          kDefinitionColumns.sql());
          TETHER_TRY_ASSIGN(ResultSet r,
                            lease->query(sql, {Param::text(key.kind), Param::text(key.name)}));
          if (r.rows.empty()) return std::optional<ConnectionDefinition>();
          TETHER_TRY_ASSIGN(ConnectionDefinition d, fromRow(r.rows[0]));
          return std::optional<ConnectionDefinition>(std::move(d));
        });
  }

  Result<int64_t> putDefinition(const ConnectionKey& key, std::string_view definition,
                                std::string_view secrets, int64_t expected_version) override {
    constexpr std::string_view op = "put connection definition";
    TETHER_TRY(checkKey(key, op));
    TETHER_TRY_ASSIGN(
        const int64_t version, annotated(op, key.str(), [&]() -> Result<int64_t> {
          TETHER_TRY(checkText("definition", definition, kMaxDefinition));
          TETHER_TRY(checkText("secrets", secrets, kMaxDefinition));
          if (expected_version < 0) {
            return Error(Errc::kInvalidArgument, "the expected version is negative");
          }
          std::optional<std::string> sealed;
          if (!secrets.empty()) {
            TETHER_TRY_ASSIGN(sealed, ctx_.sealer().seal(secrets, definitionAad(key)));
          }
          const int64_t now = ctx_.nowMs();
          return ctx_.inTransaction([&](Session& s) -> Result<int64_t> {
            TETHER_TRY_ASSIGN(std::optional<Current> current, readCurrent(s, key));
            const bool live = current && !current->deleted;
            if (expected_version == 0 && live) {
              return Error(Errc::kAlreadyExists, "a connection with this kind and name exists");
            }
            if (expected_version > 0) {
              if (!live) return Error(Errc::kNotFound, "no such connection");
              if (current->version != expected_version) {
                return Error(Errc::kConflict,
                             fmt::format("the connection changed meanwhile (expected version {}, "
                                         "found {})",
                                         expected_version, current->version));
              }
            }
            const int64_t next = current ? current->version + 1 : 1;
            if (current) {
              // A deleted row is revived: its created_at restarts, its version continues. The
              // version condition makes two concurrent writers (PostgreSQL, read committed) end
              // with one winner: the loser's UPDATE finds no row.
              TETHER_TRY_ASSIGN(
                  ResultSet u,
                  s.query("UPDATE connection_definitions SET definition = $3, secrets = $4, "
                          "version = $5, updated_at = $6, deleted_at = NULL, created_at = CASE "
                          "WHEN deleted_at IS NULL THEN created_at ELSE $6 END WHERE kind = $1 AND "
                          "name = $2 AND version = $7",
                          {Param::text(key.kind), Param::text(key.name), Param::text(definition),
                           Param::optText(sealed), Param::integer(next), Param::integer(now),
                           Param::integer(current->version)}));
              if (u.affected == 0) return lostRace();
            } else {
              TETHER_TRY(s.query(
                  "INSERT INTO connection_definitions (kind, name, definition, secrets, version, "
                  "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                  {Param::text(key.kind), Param::text(key.name), Param::text(definition),
                   Param::optText(sealed), Param::integer(next), Param::integer(now)}));
            }
            TETHER_TRY(bumpRegistry(s));
            return next;
          });
        }));
    announce();
    return version;
  }

  Result<DeletedDefinition> deleteDefinition(const ConnectionKey& key,
                                             std::optional<int64_t> expected_version) override {
    constexpr std::string_view op = "delete connection definition";
    TETHER_TRY(checkKey(key, op));
    TETHER_TRY_ASSIGN(
        DeletedDefinition deleted, annotated(op, key.str(), [&]() -> Result<DeletedDefinition> {
          const int64_t now = ctx_.nowMs();
          return ctx_.inTransaction([&](Session& s) -> Result<DeletedDefinition> {
            TETHER_TRY_ASSIGN(std::optional<Current> current, readCurrent(s, key));
            if (!current || current->deleted) return Error(Errc::kNotFound, "no such connection");
            if (expected_version && current->version != *expected_version) {
              return Error(Errc::kConflict,
                           fmt::format("the connection changed meanwhile (expected version {}, "
                                       "found {})",
                                       *expected_version, current->version));
            }
            DeletedDefinition out;
            out.version = current->version + 1;
            TETHER_TRY_ASSIGN(
                ResultSet u,
                s.query("UPDATE connection_definitions SET version = $3, updated_at = $4, "
                        "deleted_at = $4, secrets = NULL WHERE kind = $1 AND name = $2 AND "
                        "version = $5",
                        {Param::text(key.kind), Param::text(key.name), Param::integer(out.version),
                         Param::integer(now), Param::integer(current->version)}));
            if (u.affected == 0) return lostRace();
            TETHER_TRY_ASSIGN(ResultSet tok,
                              s.query("DELETE FROM tokens WHERE kind = $1 AND name = $2 "
                                      "RETURNING refresh_token",
                                      {Param::text(key.kind), Param::text(key.name)}));
            if (!tok.rows.empty()) {
              out.token_deleted = true;
              if (auto sealed = tok.rows[0][kRefresh("refresh_token")].optText()) {
                // A refresh token that does not open cannot be revoked: the delete goes on.
                auto opened = ctx_.sealer().open(*sealed, tokenAad(key, "refresh_token"));
                if (opened.ok()) out.refresh_token = std::move(opened).value();
              }
            }
            TETHER_TRY(bumpRegistry(s));
            return out;
          });
        }));
    if (deleted.token_deleted) ctx_.backend().announce(TokenChange{key, 0, true, false});
    announce();
    return deleted;
  }

  Result<int64_t> definitionsVersion() override {
    return annotated("read connection definitions version", "", [&]() -> Result<int64_t> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query("SELECT " + kCounter.sql() +
                                                  " FROM counters WHERE name = "
                                                  "'definitions_version'"));
      if (r.rows.empty()) return Error(Errc::kStore, "the definitions version counter is gone");
      return r.rows[0][kCounter("value")].asInt();
    });
  }

  Subscription subscribeDefinitionChanges(DefinitionChangeCallback callback) override {
    return ctx_.backend().definitionSubscribers()->add(
        [cb = std::move(callback)](const TokenChange&) { cb(); });
  }

 private:
  struct Current {
    int64_t version = 0;
    bool deleted = false;
  };

  static Result<std::optional<Current>> readCurrent(Session& s, const ConnectionKey& key) {
    static const std::string sql =
        fmt::format("SELECT {} FROM connection_definitions WHERE kind = $1 AND name = $2",
                    kVersionColumns.sql());
    TETHER_TRY_ASSIGN(ResultSet r, s.query(sql, {Param::text(key.kind), Param::text(key.name)}));
    if (r.rows.empty()) return std::optional<Current>();
    return std::optional<Current>(Current{r.rows[0][kVersionColumns("version")].asInt(),
                                          !r.rows[0][kVersionColumns("deleted_at")].isNull()});
  }

  static Error lostRace() {
    return Error(Errc::kConflict, "the connection changed meanwhile (another write won)");
  }

  static core::Status bumpRegistry(Session& s) {
    TETHER_TRY_ASSIGN(ResultSet r, s.query("UPDATE counters SET value = value + 1 WHERE name = "
                                           "'definitions_version' RETURNING value"));
    if (r.rows.empty()) return Error(Errc::kStore, "the definitions version counter is gone");
    return core::okStatus();
  }

  void announce() {
    // PostgreSQL's trigger also NOTIFYs every replica; this covers SQLite and a store
    // opened without the listener.
    ctx_.backend().definitionSubscribers()->dispatch(TokenChange{});
  }

  Result<ConnectionDefinition> fromRow(const Row& row) const {
    constexpr auto c = kDefinitionColumns;
    ConnectionDefinition d;
    d.key = {row[c("kind")].asText(), row[c("name")].asText()};
    d.definition = row[c("definition")].asText();
    if (auto sealed = row[c("secrets")].optText()) {
      TETHER_TRY_ASSIGN(d.secrets,
                        ctx_.openValue(*sealed, definitionAad(d.key),
                                       "connection_definitions.secrets of " + d.key.str()));
    }
    d.version = row[c("version")].asInt();
    d.created_at = fromMs(row[c("created_at")].asInt());
    d.updated_at = fromMs(row[c("updated_at")].asInt());
    d.deleted_at = optTime(row[c("deleted_at")]);
    return d;
  }

  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<ConnectionDefinitionStore> makeConnectionDefinitionStore(StoreContext& ctx) {
  return std::make_unique<SqlConnectionDefinitionStore>(ctx);
}

}  // namespace tether::store::sql
