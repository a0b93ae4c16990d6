// Signed-out portal sessions: one row per revoked session until the session's own expiry
// (then the cookie is refused anyway and the row is pruned).

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
CREATE TABLE session_revocations (
  session_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX session_revocations_by_expiry ON session_revocations (expires_at);
)sql";

constexpr std::string_view kPostgres = R"sql(
CREATE TABLE session_revocations (
  session_id TEXT COLLATE "C" PRIMARY KEY,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL
);
CREATE INDEX session_revocations_by_expiry ON session_revocations (expires_at);
)sql";

}  // namespace

constinit const Migration kV04SessionRevocations{4, "revoked portal sessions", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
