// Store::rotateKeys over SQL: every sealed value not under the sealer's primary key is
// opened with the old key and sealed again, in one transaction.

#include "core/log.h"
#include "store/sql/columns.h"
#include "store/sql/parts.h"

namespace tether::store::sql {
namespace {

using core::Result;
using core::Status;

constexpr auto kTokenSecrets = columns("kind", "name", "access_token", "refresh_token");
constexpr auto kFlowSecrets = columns("state_hash", "pkce_verifier", "authorization_url");
constexpr auto kClientSecrets = columns("issuer", "client_secret", "registration");
constexpr auto kKeyCheck = columns("value");
constexpr auto kDefinitionSecrets = columns("kind", "name", "secrets");

// Re-seals values and counts what it did.
class Resealer {
 public:
  Resealer(const StoreContext& ctx, RotationReport& report) : ctx_(ctx), report_(report) {}

  // The value under the primary key (unchanged when it is already), or nullopt for NULL.
  Result<std::optional<std::string>> operator()(const std::optional<std::string>& sealed,
                                                const std::string& aad, std::string_view what) {
    if (!sealed) return std::optional<std::string>();
    if (ctx_.sealer().isCurrent(*sealed)) {
      ++report_.values_current;
      return std::optional<std::string>(*sealed);
    }
    TETHER_TRY_ASSIGN(const std::string plain, ctx_.openValue(*sealed, aad, what));
    TETHER_TRY_ASSIGN(std::string resealed, ctx_.sealer().seal(plain, aad));
    ++report_.values_resealed;
    return std::optional<std::string>(std::move(resealed));
  }

 private:
  const StoreContext& ctx_;
  RotationReport& report_;
};

Status rotateTokens(Session& s, Resealer& reseal) {
  constexpr auto c = kTokenSecrets;
  TETHER_TRY_ASSIGN(ResultSet tokens, s.query("SELECT " + c.sql() + " FROM tokens"));
  for (const auto& row : tokens.rows) {
    const ConnectionKey key{row[c("kind")].asText(), row[c("name")].asText()};
    const auto old_access = row[c("access_token")].optText();
    const auto old_refresh = row[c("refresh_token")].optText();
    TETHER_TRY_ASSIGN(auto access, reseal(old_access, tokenAad(key, "access_token"),
                                          "tokens.access_token of " + key.str()));
    TETHER_TRY_ASSIGN(auto refresh, reseal(old_refresh, tokenAad(key, "refresh_token"),
                                           "tokens.refresh_token of " + key.str()));
    if (access == old_access && refresh == old_refresh) continue;
    TETHER_TRY(s.query(
        "UPDATE tokens SET access_token = $3, refresh_token = $4 WHERE kind = $1 AND name = $2",
        {Param::text(key.kind), Param::text(key.name), Param::optText(access),
         Param::optText(refresh)}));
  }
  return core::okStatus();
}

Status rotateFlows(Session& s, Resealer& reseal) {
  constexpr auto c = kFlowSecrets;
  TETHER_TRY_ASSIGN(ResultSet flows, s.query("SELECT " + c.sql() + " FROM pending_flows"));
  for (const auto& row : flows.rows) {
    const std::string hash = row[c("state_hash")].asText();
    const auto old_verifier = row[c("pkce_verifier")].optText();
    const auto old_url = row[c("authorization_url")].optText();
    TETHER_TRY_ASSIGN(auto verifier, reseal(old_verifier, flowAad(hash),
                                            "pending_flows.pkce_verifier of a pending flow"));
    TETHER_TRY_ASSIGN(auto url, reseal(old_url, flowAad(hash, "authorization_url"),
                                       "pending_flows.authorization_url of a pending flow"));
    if (verifier == old_verifier && url == old_url) continue;
    TETHER_TRY(
        s.query("UPDATE pending_flows SET pkce_verifier = $2, authorization_url = $3 WHERE "
                "state_hash = $1",
                {Param::text(hash), Param::optText(verifier), Param::optText(url)}));
  }
  return core::okStatus();
}

Status rotateClients(Session& s, Resealer& reseal) {
  constexpr auto c = kClientSecrets;
  TETHER_TRY_ASSIGN(ResultSet clients, s.query("SELECT " + c.sql() + " FROM oauth_clients"));
  for (const auto& row : clients.rows) {
    const std::string issuer = row[c("issuer")].asText();
    const auto old_secret = row[c("client_secret")].optText();
    const auto old_registration = row[c("registration")].optText();
    TETHER_TRY_ASSIGN(auto secret, reseal(old_secret, clientAad(issuer, "client_secret"),
                                          "oauth_clients.client_secret of " + issuer));
    TETHER_TRY_ASSIGN(auto registration, reseal(old_registration, clientAad(issuer, "registration"),
                                                "oauth_clients.registration of " + issuer));
    if (secret == old_secret && registration == old_registration) continue;
    TETHER_TRY(
        s.query("UPDATE oauth_clients SET client_secret = $2, registration = $3 WHERE issuer = $1",
                {Param::text(issuer), Param::optText(secret), Param::optText(registration)}));
  }
  return core::okStatus();
}

Status rotateDefinitions(Session& s, Resealer& reseal) {
  constexpr auto c = kDefinitionSecrets;
  TETHER_TRY_ASSIGN(
      ResultSet rows,
      s.query("SELECT " + c.sql() + " FROM connection_definitions WHERE secrets IS NOT NULL"));
  for (const auto& row : rows.rows) {
    const ConnectionKey key{row[c("kind")].asText(), row[c("name")].asText()};
    const auto old_secrets = row[c("secrets")].optText();
    TETHER_TRY_ASSIGN(
        auto secrets,
        reseal(old_secrets, sealingAad("connection_definitions", {key.kind, key.name}, "secrets"),
               "connection_definitions.secrets of " + key.str()));
    if (secrets == old_secrets) continue;
    TETHER_TRY(
        s.query("UPDATE connection_definitions SET secrets = $3 WHERE kind = $1 AND name = $2",
                {Param::text(key.kind), Param::text(key.name), Param::optText(secrets)}));
  }
  return core::okStatus();
}

Status rotateKeyCheck(Session& s, Resealer& reseal) {
  constexpr auto c = kKeyCheck;
  TETHER_TRY_ASSIGN(ResultSet check,
                    s.query("SELECT " + c.sql() + " FROM meta WHERE key = 'key_check'"));
  if (check.rows.empty()) return core::okStatus();
  TETHER_TRY_ASSIGN(auto value,
                    reseal(check.rows[0][c("value")].optText(), keyCheckAad(), "meta.key_check"));
  TETHER_TRY(
      s.query("UPDATE meta SET value = $1 WHERE key = 'key_check'", {Param::optText(value)}));
  return core::okStatus();
}

}  // namespace

Result<RotationReport> rotateKeys(StoreContext& ctx) {
  TETHER_TRY_ASSIGN(RotationReport report, annotated("rotate keys", "", [&] {
                      return ctx.inTransaction([&](Session& s) -> Result<RotationReport> {
                        RotationReport counted;
                        Resealer reseal(ctx, counted);
                        TETHER_TRY(rotateTokens(s, reseal));
                        TETHER_TRY(rotateFlows(s, reseal));
                        TETHER_TRY(rotateClients(s, reseal));
                        TETHER_TRY(rotateDefinitions(s, reseal));
                        TETHER_TRY(rotateKeyCheck(s, reseal));
                        return counted;
                      });
                    }));
  core::log::info("store keys rotated", {{"sealer", ctx.sealer().describe()},
                                         {"resealed", report.values_resealed},
                                         {"already_current", report.values_current}});
  return report;
}

}  // namespace tether::store::sql
