// The operator's activity record per connection (the portal's list and detail): when a
// proxied call last reached it (the gateway flushes these in batches), the newest connect
// attempt when it failed, and the upstream account that consented at the last completed one
// (ID token claims, display only). No secrets.

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
CREATE TABLE connection_activity (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  last_used_at INTEGER,
  connect_failed_at INTEGER,
  connect_failure_reason TEXT NOT NULL DEFAULT '',
  connect_failure_idp_error TEXT NOT NULL DEFAULT '',
  connected_at INTEGER,
  account_subject TEXT NOT NULL DEFAULT '',
  account_email TEXT NOT NULL DEFAULT '',
  account_name TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kPostgres = R"sql(
CREATE TABLE connection_activity (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  last_used_at BIGINT,
  connect_failed_at BIGINT,
  connect_failure_reason TEXT NOT NULL DEFAULT '',
  connect_failure_idp_error TEXT NOT NULL DEFAULT '',
  connected_at BIGINT,
  account_subject TEXT NOT NULL DEFAULT '',
  account_email TEXT NOT NULL DEFAULT '',
  account_name TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (kind, name)
);
)sql";

}  // namespace

constinit const Migration kV10ConnectionActivity{10, "connection activity", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
