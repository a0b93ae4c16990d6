// Connect flow: the flow remembers its client and its (sealed) authorization URL, so a
// second start returns the same URL; endpoints found by discovery outlive the process.

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
ALTER TABLE pending_flows ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_flows ADD COLUMN authorization_url TEXT;
CREATE TABLE oauth_endpoints (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  issuer TEXT NOT NULL,
  authorization_endpoint TEXT NOT NULL,
  token_endpoint TEXT NOT NULL,
  registration_endpoint TEXT NOT NULL,
  scopes TEXT NOT NULL,
  resource TEXT NOT NULL,
  iss_parameter_supported INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kPostgres = R"sql(
ALTER TABLE pending_flows ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_flows ADD COLUMN authorization_url TEXT;
CREATE TABLE oauth_endpoints (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  issuer TEXT NOT NULL,
  authorization_endpoint TEXT NOT NULL,
  token_endpoint TEXT NOT NULL,
  registration_endpoint TEXT NOT NULL,
  scopes TEXT NOT NULL,
  resource TEXT NOT NULL,
  iss_parameter_supported SMALLINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (kind, name)
);
)sql";

}  // namespace

constinit const Migration kV03ConnectFlowEndpoints{3, "connect flow endpoints", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
