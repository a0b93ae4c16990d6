// ClientStore over SQL: OAuth clients per issuer (secret and registration sealed) and the
// endpoints each connection's connect flow resolved.

#include <fmt/format.h>

#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

constexpr auto kClientColumns =
    columns("client_id", "client_secret", "registration", "created_at", "updated_at");

constexpr auto kEndpointColumns =
    columns("issuer", "authorization_endpoint", "token_endpoint", "registration_endpoint", "scopes",
            "resource", "iss_parameter_supported", "updated_at");

class SqlClientStore final : public ClientStore {
 public:
  explicit SqlClientStore(StoreContext& ctx) : ctx_(ctx) {}

  Status putClient(const OAuthClient& client) override {
    constexpr std::string_view op = "put OAuth client";
    if (client.issuer.empty() || client.client_id.empty()) {
      return Error(Errc::kInvalidArgument,
                   "store: put OAuth client: issuer and client_id are required");
    }
    TETHER_TRY(annotated(op, "", [&] { return checkText("issuer", client.issuer); }));
    return annotated(op, client.issuer, [&]() -> Status {
      TETHER_TRY(checkText("client_id", client.client_id));
      std::optional<std::string> secret;
      std::optional<std::string> registration;
      if (client.client_secret) {
        TETHER_TRY_ASSIGN(secret, ctx_.sealer().seal(*client.client_secret,
                                                     clientAad(client.issuer, "client_secret")));
      }
      if (client.registration_json) {
        TETHER_TRY_ASSIGN(registration,
                          ctx_.sealer().seal(*client.registration_json,
                                             clientAad(client.issuer, "registration")));
      }
      const int64_t now = ctx_.nowMs();
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY(lease->query(
          "INSERT INTO oauth_clients (issuer, client_id, client_secret, registration, "
          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (issuer) DO "
          "UPDATE SET client_id = excluded.client_id, client_secret = excluded.client_secret, "
          "registration = excluded.registration, updated_at = excluded.updated_at",
          {Param::text(client.issuer), Param::text(client.client_id), Param::optText(secret),
           Param::optText(registration), Param::integer(now)}));
      return core::okStatus();
    });
  }

  Result<std::optional<OAuthClient>> getClient(std::string_view issuer) override {
    return annotated("get OAuth client", issuer, [&]() -> Result<std::optional<OAuthClient>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql =
          fmt::format("SELECT {} FROM oauth_clients WHERE issuer = $1", kClientColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query(sql, {Param::text(issuer)}));
      if (r.rows.empty()) return std::optional<OAuthClient>();
      constexpr auto c = kClientColumns;
      const Row& row = r.rows[0];
      OAuthClient out;
      out.issuer = std::string(issuer);
      out.client_id = row[c("client_id")].asText();
      if (!row[c("client_secret")].isNull()) {
        TETHER_TRY_ASSIGN(out.client_secret, ctx_.openValue(row[c("client_secret")].asText(),
                                                            clientAad(issuer, "client_secret"),
                                                            "oauth_clients.client_secret"));
      }
      if (!row[c("registration")].isNull()) {
        TETHER_TRY_ASSIGN(out.registration_json, ctx_.openValue(row[c("registration")].asText(),
                                                                clientAad(issuer, "registration"),
                                                                "oauth_clients.registration"));
      }
      out.created_at = fromMs(row[c("created_at")].asInt());
      out.updated_at = fromMs(row[c("updated_at")].asInt());
      return std::optional<OAuthClient>(std::move(out));
    });
  }

  Result<bool> deleteClient(std::string_view issuer) override {
    return annotated("delete OAuth client", issuer, [&]() -> Result<bool> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY_ASSIGN(ResultSet r, lease->query("DELETE FROM oauth_clients WHERE issuer = $1",
                                                  {Param::text(issuer)}));
      return r.affected > 0;
    });
  }

  Status putEndpoints(const OAuthEndpoints& e) override {
    constexpr std::string_view op = "put OAuth endpoints";
    TETHER_TRY(checkKey(e.key, op));
    return annotated(op, e.key.str(), [&]() -> Status {
      if (e.token_endpoint.empty()) {
        return Error(Errc::kInvalidArgument, "token_endpoint is required");
      }
      TETHER_TRY(checkTexts({{"issuer", e.issuer},
                             {"authorization_endpoint", e.authorization_endpoint},
                             {"token_endpoint", e.token_endpoint},
                             {"registration_endpoint", e.registration_endpoint},
                             {"scopes", e.scopes},
                             {"resource", e.resource}}));
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().writer());
      TETHER_TRY(lease->query(
          "INSERT INTO oauth_endpoints (kind, name, issuer, authorization_endpoint, "
          "token_endpoint, registration_endpoint, scopes, resource, iss_parameter_supported, "
          "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kind, "
          "name) DO UPDATE SET issuer = excluded.issuer, authorization_endpoint = "
          "excluded.authorization_endpoint, token_endpoint = excluded.token_endpoint, "
          "registration_endpoint = excluded.registration_endpoint, scopes = excluded.scopes, "
          "resource = excluded.resource, iss_parameter_supported = "
          "excluded.iss_parameter_supported, updated_at = excluded.updated_at",
          {Param::text(e.key.kind), Param::text(e.key.name), Param::text(e.issuer),
           Param::text(e.authorization_endpoint), Param::text(e.token_endpoint),
           Param::text(e.registration_endpoint), Param::text(e.scopes), Param::text(e.resource),
           Param::integer(e.iss_parameter_supported ? 1 : 0), Param::integer(ctx_.nowMs())}));
      return core::okStatus();
    });
  }

  Result<std::optional<OAuthEndpoints>> getEndpoints(const ConnectionKey& key) override {
    constexpr std::string_view op = "get OAuth endpoints";
    TETHER_TRY(checkKey(key, op));
    return annotated(op, key.str(), [&]() -> Result<std::optional<OAuthEndpoints>> {
      TETHER_TRY_ASSIGN(Lease lease, ctx_.backend().reader());
      static const std::string sql = fmt::format(
          "SELECT {} FROM oauth_endpoints WHERE kind = $1 AND name = $2", kEndpointColumns.sql());
      TETHER_TRY_ASSIGN(ResultSet r,
                        lease->query(sql, {Param::text(key.kind), Param::text(key.name)}));
      if (r.rows.empty()) return std::optional<OAuthEndpoints>();
      constexpr auto c = kEndpointColumns;
      const Row& row = r.rows[0];
      OAuthEndpoints e;
      e.key = key;
      e.issuer = row[c("issuer")].asText();
      e.authorization_endpoint = row[c("authorization_endpoint")].asText();
      e.token_endpoint = row[c("token_endpoint")].asText();
      e.registration_endpoint = row[c("registration_endpoint")].asText();
      e.scopes = row[c("scopes")].asText();
      e.resource = row[c("resource")].asText();
      e.iss_parameter_supported = row[c("iss_parameter_supported")].asInt() != 0;
      e.updated_at = fromMs(row[c("updated_at")].asInt());
      return std::optional<OAuthEndpoints>(std::move(e));
    });
  }

 private:
  StoreContext& ctx_;
};

}  // namespace

std::unique_ptr<ClientStore> makeClientStore(StoreContext& ctx) {
  return std::make_unique<SqlClientStore>(ctx);
}

}  // namespace tether::store::sql
