// TokenStore over SQL: sealed tokens with compare-and-swap versions from one store-wide
// counter, and token-change announcements after each committed write.

#include <fmt/format.h>

#include "core/digest.h"
#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;

constexpr auto kTokenColumns =
    columns("access_token", "refresh_token", "token_type", "scope", "expires_at",
            "refresh_expires_at", "authenticated_at", "authenticated_by", "last_refreshed_at",
            "idp_host", "version", "updated_at");

constexpr auto kVersion = columns("version");
constexpr auto kCounter = columns("value");

class SqlTokenStore final : public TokenStore {
 public:
  explicit SqlTokenStore(StoreContext& ctx) : ctx_(ctx) {}

  Result<std::optional<TokenRecord>> getToken(const ConnectionKey& key) override {
    TETHER_TRY(checkKey(key, "get token"));
    return annotated("get token", key.str(), [&]() -> Result<std::optional<TokenRecord>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql =
          fmt::format("SELECT {} FROM tokens WHERE kind = $1 AND name = $2", kTokenColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query(sql, {Param::text(key.kind), Param::text(key.name)}));
      if (r.rows.empty()) return std::optional<TokenRecord>();
      TETHER_TRY_ASSIGN(TokenRecord token, tokenFromRow(key, r.rows[0]));
      return std::optional<TokenRecord>(std::move(token));
    });
  }

  Result<int64_t> putToken(const TokenRecord& token, int64_t expected_version) override {
    const ConnectionKey& key = token.key;
    TETHER_TRY(checkKey(key, "put token"));
    return annotated("put token", key.str(), [&]() -> Result<int64_t> {
      if (token.access_token.empty()) {
        return Error(Errc::kInvalidArgument, "the access token is empty");
      }
      TETHER_TRY(checkTexts({{"token_type", token.token_type},
                             {"scope", token.scope},
                             {"authenticated_by", token.authenticated_by},
                             {"idp_host", token.idp_host}}));
      TETHER_TRY_ASSIGN(const std::string access,
                        ctx_.sealer().seal(token.access_token, tokenAad(key, "access_token")));
      std::optional<std::string> refresh;
      std::optional<std::string> refresh_fp;
      if (token.refresh_token) {
        TETHER_TRY_ASSIGN(refresh,
                          ctx_.sealer().seal(*token.refresh_token, tokenAad(key, "refresh_token")));
        refresh_fp = core::sha256Hex(*token.refresh_token);
      }
      const int64_t now = ctx_.nowMs();
      TETHER_TRY_ASSIGN(const int64_t version, ctx_.inTransaction([&](Session& s) {
        return writeToken(s, token, expected_version, access, refresh, refresh_fp, now);
      }));
      ctx_.backend().announce(TokenChange{key, version, false, false});
      return version;
    });
  }

  Result<bool> deleteToken(const ConnectionKey& key,
                           std::optional<int64_t> expected_version) override {
    TETHER_TRY(checkKey(key, "delete token"));
    return annotated("delete token", key.str(), [&]() -> Result<bool> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      Session& s = *lease;
      TETHER_TRY_ASSIGN(
          ResultSet r,
          expected_version
              ? s.query("DELETE FROM tokens WHERE kind = $1 AND name = $2 AND version = $3 "
                        "RETURNING version",
                        {Param::text(key.kind), Param::text(key.name),
                         Param::integer(*expected_version)})
              : s.query("DELETE FROM tokens WHERE kind = $1 AND name = $2 RETURNING version",
                        {Param::text(key.kind), Param::text(key.name)}));
      if (!r.rows.empty()) {
        const int64_t version = r.rows[0][kVersion("version")].asInt();
        lease.reset();
        ctx_.backend().announce(TokenChange{key, version, true, false});
        return true;
      }
      if (!expected_version) return false;
      TETHER_TRY_ASSIGN(ResultSet exists,
                        s.query("SELECT version FROM tokens WHERE kind = $1 AND name = $2",
                                {Param::text(key.kind), Param::text(key.name)}));
      if (exists.rows.empty()) return false;
      return Error(Errc::kConflict,
                   fmt::format("the token changed meanwhile (expected version {}, found {})",
                               *expected_version, exists.rows[0][kVersion("version")].asInt()));
    });
  }

  Result<ConditionalDelete> deleteTokenIfRefreshTokenIs(const ConnectionKey& key,
                                                        std::string_view refresh_token) override {
    constexpr std::string_view op = "delete token if refresh token matches";
    TETHER_TRY(checkKey(key, op));
    return annotated(op, key.str(), [&]() -> Result<ConditionalDelete> {
      const std::string fp = core::sha256Hex(refresh_token);
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      Session& s = *lease;
      TETHER_TRY_ASSIGN(
          ResultSet r,
          s.query("DELETE FROM tokens WHERE kind = $1 AND name = $2 AND refresh_fp = $3 "
                  "RETURNING version",
                  {Param::text(key.kind), Param::text(key.name), Param::text(fp)}));
      if (!r.rows.empty()) {
        const int64_t version = r.rows[0][kVersion("version")].asInt();
        lease.reset();
        ctx_.backend().announce(TokenChange{key, version, true, false});
        return ConditionalDelete::kDeleted;
      }
      TETHER_TRY_ASSIGN(ResultSet exists,
                        s.query("SELECT 1 FROM tokens WHERE kind = $1 AND name = $2",
                                {Param::text(key.kind), Param::text(key.name)}));
      return exists.rows.empty() ? ConditionalDelete::kNoToken : ConditionalDelete::kTokenChanged;
    });
  }

  Subscription subscribeTokenChanges(TokenChangeCallback callback) override {
    return ctx_.backend().subscribe(std::move(callback));
  }

 private:
  // Inside the write transaction: takes the next version and writes the row if it still
  // has `expected_version` (0: only if none exists).
  static Result<int64_t> writeToken(Session& s, const TokenRecord& token, int64_t expected_version,
                                    const std::string& access,
                                    const std::optional<std::string>& refresh,
                                    const std::optional<std::string>& refresh_fp, int64_t now) {
    const ConnectionKey& key = token.key;
    TETHER_TRY_ASSIGN(ResultSet counter,
                      s.query("UPDATE counters SET value = value + 1 WHERE name = 'token_version' "
                              "RETURNING value"));
    if (counter.rows.empty()) return Error(Errc::kStore, "the token version counter is gone");
    const int64_t next = counter.rows[0][kCounter("value")].asInt();
    const std::initializer_list<Param> params = {
        Param::text(key.kind),
        Param::text(key.name),
        Param::text(access),
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
    Result<ResultSet> written = ResultSet{};
    if (expected_version == 0) {
      written = s.query(
          "INSERT INTO tokens (kind, name, access_token, refresh_token, refresh_fp, "
          "token_type, scope, expires_at, refresh_expires_at, authenticated_at, "
          "authenticated_by, last_refreshed_at, idp_host, version, updated_at) VALUES ($1, "
          "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
          "ON CONFLICT (kind, name) DO NOTHING",
          std::span<const Param>(params.begin(), 15));
    } else {
      written = s.query(
          "UPDATE tokens SET access_token = $3, refresh_token = $4, refresh_fp = $5, "
          "token_type = $6, scope = $7, expires_at = $8, refresh_expires_at = $9, "
          "authenticated_at = $10, authenticated_by = $11, last_refreshed_at = $12, "
          "idp_host = $13, version = $14, updated_at = $15 "
          "WHERE kind = $1 AND name = $2 AND version = $16",
          std::span<const Param>(params.begin(), params.size()));
    }
    TETHER_TRY(written);
    if (written->affected == 0) {
      return Error(
          Errc::kConflict,
          expected_version == 0
              ? std::string("a token exists already (expected none); it was "
                            "written meanwhile")
              : fmt::format("the token changed meanwhile (expected version {})", expected_version));
    }
    return next;
  }

  Result<TokenRecord> tokenFromRow(const ConnectionKey& key, const Row& row) const {
    constexpr auto c = kTokenColumns;
    TokenRecord t;
    t.key = key;
    TETHER_TRY_ASSIGN(t.access_token,
                      ctx_.openValue(row[c("access_token")].asText(), tokenAad(key, "access_token"),
                                     "tokens.access_token"));
    if (!row[c("refresh_token")].isNull()) {
      TETHER_TRY_ASSIGN(t.refresh_token,
                        ctx_.openValue(row[c("refresh_token")].asText(),
                                       tokenAad(key, "refresh_token"), "tokens.refresh_token"));
    }
    t.token_type = row[c("token_type")].asText();
    t.scope = row[c("scope")].asText();
    t.expires_at = optTime(row[c("expires_at")]);
    t.refresh_expires_at = optTime(row[c("refresh_expires_at")]);
    t.authenticated_at = fromMs(row[c("authenticated_at")].asInt());
    t.authenticated_by = row[c("authenticated_by")].asText();
    t.last_refreshed_at = optTime(row[c("last_refreshed_at")]);
    t.idp_host = row[c("idp_host")].asText();
    t.version = row[c("version")].asInt();
    t.updated_at = fromMs(row[c("updated_at")].asInt());
    return t;
  }

  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<TokenStore> makeTokenStore(StoreContext& ctx) {
  return std::make_unique<SqlTokenStore>(ctx);
}

}  // namespace tether::store::sql
