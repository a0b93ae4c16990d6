// MCP step-up authorization: the state row remembers the scopes the next connect asks for
// and how many step-ups in a row found nothing new; two event types for it. The event-type
// CHECK is rebuilt once more and lists every type of this version (SQLite cannot alter a
// CHECK: the table is copied, its ids and AUTOINCREMENT high-water mark kept).

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
ALTER TABLE connection_state ADD COLUMN step_up_scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE connection_state ADD COLUMN step_ups INTEGER NOT NULL DEFAULT 0;
CREATE TABLE auth_events_v7 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up', 'step_up_required', 'step_up_limit_reached')),
  actor TEXT NOT NULL,
  idp_host TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
INSERT INTO auth_events_v7 (id, at, kind, name, type, actor, idp_host, correlation_id, detail)
  SELECT id, at, kind, name, type, actor, idp_host, correlation_id, detail FROM auth_events;
DELETE FROM sqlite_sequence WHERE name = 'auth_events_v7';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'auth_events_v7', seq FROM sqlite_sequence WHERE name = 'auth_events';
DROP TABLE auth_events;
ALTER TABLE auth_events_v7 RENAME TO auth_events;
CREATE INDEX auth_events_by_connection ON auth_events (kind, name, at DESC, id DESC);
CREATE INDEX auth_events_by_time ON auth_events (at);
)sql";

constexpr std::string_view kPostgres = R"sql(
ALTER TABLE connection_state ADD COLUMN step_up_scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE connection_state ADD COLUMN step_ups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auth_events DROP CONSTRAINT auth_events_type_check;
ALTER TABLE auth_events ADD CONSTRAINT auth_events_type_check CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up', 'step_up_required', 'step_up_limit_reached'));
)sql";

}  // namespace

constinit const Migration kV07StepUp{7, "step-up authorization", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
