// Small rows keyed by (kind, name) are WITHOUT ROWID tables (one b-tree descent per
// lookup); tables with large sealed values or a second unique index keep their rowid.

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('token_version', 0);
CREATE TABLE connections (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  auth_mode TEXT NOT NULL,
  has_oauth INTEGER NOT NULL,
  idp_host TEXT NOT NULL DEFAULT '',
  sync_generation INTEGER NOT NULL,
  synced_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE tokens (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  access_token TEXT NOT NULL,
  refresh_token TEXT,
  refresh_fp TEXT,
  token_type TEXT NOT NULL,
  scope TEXT NOT NULL,
  expires_at INTEGER,
  refresh_expires_at INTEGER,
  authenticated_at INTEGER NOT NULL,
  authenticated_by TEXT NOT NULL,
  last_refreshed_at INTEGER,
  idp_host TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
);
CREATE TABLE connection_state (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('not_connected', 'connected', 'refresh_failing', 'needs_reauth')),
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
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE INDEX connection_state_due ON connection_state (next_due_at, kind, name)
  WHERE next_due_at IS NOT NULL;
CREATE TABLE auth_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin')),
  actor TEXT NOT NULL,
  idp_host TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX auth_events_by_connection ON auth_events (kind, name, at DESC, id DESC);
CREATE INDEX auth_events_by_time ON auth_events (at);
CREATE TABLE event_heads (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  last_event_id INTEGER NOT NULL,
  last_event_at INTEGER NOT NULL,
  lifecycle_event_id INTEGER,
  lifecycle_at INTEGER,
  lifecycle_failed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE pending_flows (
  state_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  pkce_verifier TEXT NOT NULL,
  return_url TEXT NOT NULL,
  started_by TEXT NOT NULL,
  issuer TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX pending_flows_by_connection ON pending_flows (kind, name);
CREATE INDEX pending_flows_by_expiry ON pending_flows (expires_at);
CREATE TABLE oauth_clients (
  issuer TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  client_secret TEXT,
  registration TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql";

constexpr std::string_view kPostgres = R"sql(
CREATE TABLE meta (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE counters (
  name TEXT COLLATE "C" PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('token_version', 0);
CREATE TABLE connections (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  auth_mode TEXT NOT NULL,
  has_oauth SMALLINT NOT NULL,
  idp_host TEXT NOT NULL DEFAULT '',
  sync_generation BIGINT NOT NULL,
  synced_at BIGINT NOT NULL,
  PRIMARY KEY (kind, name)
);
CREATE TABLE tokens (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  access_token TEXT NOT NULL,
  refresh_token TEXT,
  refresh_fp TEXT,
  token_type TEXT NOT NULL,
  scope TEXT NOT NULL,
  expires_at BIGINT,
  refresh_expires_at BIGINT,
  authenticated_at BIGINT NOT NULL,
  authenticated_by TEXT NOT NULL,
  last_refreshed_at BIGINT,
  idp_host TEXT NOT NULL,
  version BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (kind, name)
);
CREATE TABLE connection_state (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('not_connected', 'connected', 'refresh_failing', 'needs_reauth')),
  reason TEXT NOT NULL DEFAULT '',
  last_error_code TEXT NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  first_failure_at BIGINT,
  next_attempt_at BIGINT,
  revoked_at BIGINT,
  next_due_at BIGINT,
  claim_owner TEXT,
  claim_until BIGINT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (kind, name)
);
CREATE INDEX connection_state_due ON connection_state (next_due_at, kind, name)
  WHERE next_due_at IS NOT NULL;
CREATE TABLE auth_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin')),
  actor TEXT NOT NULL,
  idp_host TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX auth_events_by_connection ON auth_events (kind, name, at DESC, id DESC);
CREATE INDEX auth_events_by_time ON auth_events (at);
CREATE TABLE event_heads (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  last_event_id BIGINT NOT NULL,
  last_event_at BIGINT NOT NULL,
  lifecycle_event_id BIGINT,
  lifecycle_at BIGINT,
  lifecycle_failed SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, name)
);
CREATE TABLE pending_flows (
  state_hash TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  pkce_verifier TEXT NOT NULL,
  return_url TEXT NOT NULL,
  started_by TEXT NOT NULL,
  issuer TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pending_flows_by_connection ON pending_flows (kind, name);
CREATE INDEX pending_flows_by_expiry ON pending_flows (expires_at);
CREATE TABLE oauth_clients (
  issuer TEXT COLLATE "C" PRIMARY KEY,
  client_id TEXT NOT NULL,
  client_secret TEXT,
  registration TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
)sql";

}  // namespace

constinit const Migration kV01InitialSchema{1, "initial schema", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
