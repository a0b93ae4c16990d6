// needs_client_fix: the IdP rejected Tether's client credentials; the grant is kept until
// the client settings change. The state CHECK and the event-type CHECK are rebuilt and list
// every value of this version (SQLite copies both tables: the state rows with their
// columns, the events with their ids and AUTOINCREMENT high-water mark).

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
CREATE TABLE connection_state_v9 (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('not_connected', 'connected', 'refresh_failing', 'needs_reauth', 'needs_client_fix')),
  reason TEXT NOT NULL DEFAULT '',
  last_error_code TEXT NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  first_failure_at INTEGER,
  next_attempt_at INTEGER,
  revoked_at INTEGER,
  next_due_at INTEGER,
  claim_owner TEXT,
  claim_until INTEGER,
  updated_at INTEGER NOT NULL,
  step_up_scopes TEXT NOT NULL DEFAULT '',
  step_ups INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
INSERT INTO connection_state_v9 (kind, name, state, reason, last_error_code,
  consecutive_failures, first_failure_at, next_attempt_at, revoked_at, next_due_at,
  claim_owner, claim_until, updated_at, step_up_scopes, step_ups)
  SELECT kind, name, state, reason, last_error_code, consecutive_failures, first_failure_at,
    next_attempt_at, revoked_at, next_due_at, claim_owner, claim_until, updated_at,
    step_up_scopes, step_ups FROM connection_state;
DROP TABLE connection_state;
ALTER TABLE connection_state_v9 RENAME TO connection_state;
CREATE INDEX connection_state_due ON connection_state (next_due_at, kind, name)
  WHERE next_due_at IS NOT NULL;
CREATE TABLE auth_events_v9 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up', 'step_up_required', 'step_up_limit_reached',
    'refresh_failed_client_rejected', 'connection_created', 'connection_updated',
    'connection_deleted')),
  actor TEXT NOT NULL,
  idp_host TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
INSERT INTO auth_events_v9 (id, at, kind, name, type, actor, idp_host, correlation_id, detail)
  SELECT id, at, kind, name, type, actor, idp_host, correlation_id, detail FROM auth_events;
DELETE FROM sqlite_sequence WHERE name = 'auth_events_v9';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'auth_events_v9', seq FROM sqlite_sequence WHERE name = 'auth_events';
DROP TABLE auth_events;
ALTER TABLE auth_events_v9 RENAME TO auth_events;
CREATE INDEX auth_events_by_connection ON auth_events (kind, name, at DESC, id DESC);
CREATE INDEX auth_events_by_time ON auth_events (at);
)sql";

constexpr std::string_view kPostgres = R"sql(
ALTER TABLE connection_state DROP CONSTRAINT connection_state_state_check;
ALTER TABLE connection_state ADD CONSTRAINT connection_state_state_check CHECK (state IN
    ('not_connected', 'connected', 'refresh_failing', 'needs_reauth', 'needs_client_fix'));
ALTER TABLE auth_events DROP CONSTRAINT auth_events_type_check;
ALTER TABLE auth_events ADD CONSTRAINT auth_events_type_check CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up', 'step_up_required', 'step_up_limit_reached',
    'refresh_failed_client_rejected', 'connection_created', 'connection_updated',
    'connection_deleted'));
)sql";

}  // namespace

constinit const Migration kV09NeedsClientFix{9, "needs_client_fix state", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
