#include "store/sql/migrations.h"

#include <fmt/format.h>

#include <array>
#include <set>

#include "core/log.h"
#include "store/sql/columns.h"

namespace tether::store::sql {
namespace {

using core::Errc;
using core::Error;
using core::Result;
using core::Status;

// Event types and states appear literally: a migration must not change when code does.
// (A unit test checks the lists against EventType and ConnectionState.)
// Small rows keyed by (kind, name) are WITHOUT ROWID tables (one b-tree descent per
// lookup); tables with large sealed values or a second unique index keep their rowid.
constexpr std::string_view kSqliteV1 = R"sql(
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

constexpr std::string_view kPostgresV1 = R"sql(
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

// Every committed change to a token row NOTIFYs the other replicas (the listener drops
// their cached copy). SQLite announces in-process instead, so its migration is empty.
constexpr std::string_view kPostgresV2 = R"sql(
CREATE FUNCTION tether_token_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('tether_token_changed', json_build_object(
      'kind', OLD.kind, 'name', OLD.name, 'version', OLD.version, 'deleted', true)::text);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('tether_token_changed', json_build_object(
    'kind', NEW.kind, 'name', NEW.name, 'version', NEW.version, 'deleted', false)::text);
  RETURN NEW;
END
$fn$;
CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OR DELETE ON tokens
  FOR EACH ROW EXECUTE FUNCTION tether_token_changed();
)sql";

constexpr std::string_view kSqliteV2 = "SELECT 1;";

// Connect flow: the flow remembers its client and its (sealed) authorization URL, so a
// second start returns the same URL; endpoints found by discovery outlive the process.
constexpr std::string_view kSqliteV3 = R"sql(
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

constexpr std::string_view kPostgresV3 = R"sql(
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

// Signed-out portal sessions: one row per revoked session until the session's own expiry
// (then the cookie is refused anyway and the row is pruned).
constexpr std::string_view kSqliteV4 = R"sql(
CREATE TABLE session_revocations (
  session_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX session_revocations_by_expiry ON session_revocations (expires_at);
)sql";

constexpr std::string_view kPostgresV4 = R"sql(
CREATE TABLE session_revocations (
  session_id TEXT COLLATE "C" PRIMARY KEY,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL
);
CREATE INDEX session_revocations_by_expiry ON session_revocations (expires_at);
)sql";

// The webhook outbox (messages kept after delivery for the delivery log, claimed like the
// keeper's due rows), the notices already given per connection (reauthorize_soon: once
// per refresh deadline, across restarts and replicas), and the event type webhook_given_up
// (SQLite cannot alter a CHECK constraint: auth_events is copied into a new table, its
// AUTOINCREMENT sequence kept).
constexpr std::string_view kSqliteV5 = R"sql(
CREATE TABLE webhook_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL UNIQUE,
  webhook_key TEXT NOT NULL,
  event TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'given_up')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  finished_at INTEGER,
  claim_owner TEXT,
  claim_until INTEGER
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, id)
  WHERE status = 'pending';
CREATE INDEX webhook_outbox_finished ON webhook_outbox (finished_at)
  WHERE finished_at IS NOT NULL;
CREATE TABLE webhook_notices (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  notice TEXT NOT NULL,
  value INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name, notice)
) WITHOUT ROWID;
CREATE TABLE auth_events_v5 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'webhook_given_up')),
  actor TEXT NOT NULL,
  idp_host TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
INSERT INTO auth_events_v5 (id, at, kind, name, type, actor, idp_host, correlation_id, detail)
  SELECT id, at, kind, name, type, actor, idp_host, correlation_id, detail FROM auth_events;
DELETE FROM sqlite_sequence WHERE name = 'auth_events_v5';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'auth_events_v5', seq FROM sqlite_sequence WHERE name = 'auth_events';
DROP TABLE auth_events;
ALTER TABLE auth_events_v5 RENAME TO auth_events;
CREATE INDEX auth_events_by_connection ON auth_events (kind, name, at DESC, id DESC);
CREATE INDEX auth_events_by_time ON auth_events (at);
)sql";

// The client_registered event type. SQLite cannot change a CHECK constraint in place: the
// table is rebuilt (rows, ids and the AUTOINCREMENT high-water mark kept), then its indexes.
// The list spells out every type the code knows at this version (the migrations test checks
// the newest list against EventType).
constexpr std::string_view kSqliteV6 = R"sql(
CREATE TABLE auth_events_v6 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up')),
  actor TEXT NOT NULL,
  idp_host TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
INSERT INTO auth_events_v6 (id, at, kind, name, type, actor, idp_host, correlation_id, detail)
  SELECT id, at, kind, name, type, actor, idp_host, correlation_id, detail FROM auth_events;
DELETE FROM sqlite_sequence WHERE name = 'auth_events_v6';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'auth_events_v6', seq FROM sqlite_sequence WHERE name = 'auth_events';
DROP TABLE auth_events;
ALTER TABLE auth_events_v6 RENAME TO auth_events;
CREATE INDEX auth_events_by_connection ON auth_events (kind, name, at DESC, id DESC);
CREATE INDEX auth_events_by_time ON auth_events (at);
)sql";

constexpr std::string_view kPostgresV5 = R"sql(
CREATE TABLE webhook_outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id TEXT COLLATE "C" NOT NULL UNIQUE,
  webhook_key TEXT COLLATE "C" NOT NULL,
  event TEXT NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'given_up')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  finished_at BIGINT,
  claim_owner TEXT,
  claim_until BIGINT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, id)
  WHERE status = 'pending';
CREATE INDEX webhook_outbox_finished ON webhook_outbox (finished_at)
  WHERE finished_at IS NOT NULL;
CREATE TABLE webhook_notices (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  notice TEXT COLLATE "C" NOT NULL,
  value BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (kind, name, notice)
);
ALTER TABLE auth_events DROP CONSTRAINT auth_events_type_check;
ALTER TABLE auth_events ADD CONSTRAINT auth_events_type_check CHECK (type IN (
  'connect_started', 'connect_completed', 'connect_failed', 'refresh_succeeded',
  'refresh_failed_transient', 'refresh_failed_revoked', 'refresh_skipped_no_token',
  'refresh_skipped_expired', 'refresh_rotation_persistence_failed', 'token_deleted_revoked',
  'token_deleted_admin', 'webhook_given_up'));
)sql";

constexpr std::string_view kPostgresV6 = R"sql(
ALTER TABLE auth_events DROP CONSTRAINT auth_events_type_check;
ALTER TABLE auth_events ADD CONSTRAINT auth_events_type_check CHECK (type IN ('connect_started',
  'connect_completed', 'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
  'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
  'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
  'client_registered', 'webhook_given_up'));
)sql";

// MCP step-up authorization: the state row remembers the scopes the next connect asks for
// and how many step-ups in a row found nothing new; two event types for it. The event-type
// CHECK is rebuilt once more and lists every type of this version (SQLite cannot alter a
// CHECK: the table is copied, its ids and AUTOINCREMENT high-water mark kept).
constexpr std::string_view kSqliteV7 = R"sql(
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

constexpr std::string_view kPostgresV7 = R"sql(
ALTER TABLE connection_state ADD COLUMN step_up_scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE connection_state ADD COLUMN step_ups INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auth_events DROP CONSTRAINT auth_events_type_check;
ALTER TABLE auth_events ADD CONSTRAINT auth_events_type_check CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up', 'step_up_required', 'step_up_limit_reached'));
)sql";

// Connections made through the admin API (store/connection_definition_store.h): the
// definition as JSON, its secrets sealed apart, a per-row version, soft deletes, and a
// registry version every write bumps. PostgreSQL NOTIFYs replicas of each write. Three
// event types for operator changes: the event-type CHECK lists every type of this version.
constexpr std::string_view kSqliteV8 = R"sql(
CREATE TABLE connection_definitions (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  definition TEXT NOT NULL,
  secrets TEXT,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER,
  PRIMARY KEY (kind, name)
);
INSERT INTO counters (name, value) VALUES ('definitions_version', 0);
CREATE TABLE auth_events_v8 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up', 'step_up_required', 'step_up_limit_reached',
    'connection_created', 'connection_updated', 'connection_deleted')),
  actor TEXT NOT NULL,
  idp_host TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
INSERT INTO auth_events_v8 (id, at, kind, name, type, actor, idp_host, correlation_id, detail)
  SELECT id, at, kind, name, type, actor, idp_host, correlation_id, detail FROM auth_events;
DELETE FROM sqlite_sequence WHERE name = 'auth_events_v8';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'auth_events_v8', seq FROM sqlite_sequence WHERE name = 'auth_events';
DROP TABLE auth_events;
ALTER TABLE auth_events_v8 RENAME TO auth_events;
CREATE INDEX auth_events_by_connection ON auth_events (kind, name, at DESC, id DESC);
CREATE INDEX auth_events_by_time ON auth_events (at);
)sql";

constexpr std::string_view kPostgresV8 = R"sql(
CREATE TABLE connection_definitions (
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  definition TEXT NOT NULL,
  secrets TEXT,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT,
  PRIMARY KEY (kind, name)
);
INSERT INTO counters (name, value) VALUES ('definitions_version', 0);
CREATE FUNCTION tether_connections_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('tether_connections_changed', json_build_object(
    'kind', NEW.kind, 'name', NEW.name, 'version', NEW.version)::text);
  RETURN NEW;
END
$fn$;
CREATE TRIGGER connection_definitions_changed AFTER INSERT OR UPDATE
  ON connection_definitions FOR EACH ROW EXECUTE FUNCTION tether_connections_changed();
ALTER TABLE auth_events DROP CONSTRAINT auth_events_type_check;
ALTER TABLE auth_events ADD CONSTRAINT auth_events_type_check CHECK (type IN ('connect_started', 'connect_completed',
    'connect_failed', 'refresh_succeeded', 'refresh_failed_transient',
    'refresh_failed_revoked', 'refresh_skipped_no_token', 'refresh_skipped_expired',
    'refresh_rotation_persistence_failed', 'token_deleted_revoked', 'token_deleted_admin',
    'client_registered', 'webhook_given_up', 'step_up_required', 'step_up_limit_reached',
    'connection_created', 'connection_updated', 'connection_deleted'));
)sql";

// needs_client_fix: the IdP rejected Tether's client credentials; the grant is kept until
// the client settings change. The state CHECK and the event-type CHECK are rebuilt and list
// every value of this version (SQLite copies both tables: the state rows with their
// columns, the events with their ids and AUTOINCREMENT high-water mark).
constexpr std::string_view kSqliteV9 = R"sql(
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

constexpr std::string_view kPostgresV9 = R"sql(
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

// The operator's activity record per connection (the portal's list and detail): when a
// proxied call last reached it (the gateway flushes these in batches), the newest connect
// attempt when it failed, and the upstream account that consented at the last completed one
// (ID token claims, display only). No secrets.
constexpr std::string_view kSqliteV10 = R"sql(
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

constexpr std::string_view kPostgresV10 = R"sql(
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

constexpr std::array kMigrations = {
    Migration{1, "initial schema", kSqliteV1, kPostgresV1},
    Migration{2, "notify replicas of changes", kSqliteV2, kPostgresV2},
    Migration{3, "connect flow endpoints", kSqliteV3, kPostgresV3},
    Migration{4, "revoked portal sessions", kSqliteV4, kPostgresV4},
    Migration{5, "webhook outbox", kSqliteV5, kPostgresV5},
    Migration{6, "client_registered event type", kSqliteV6, kPostgresV6},
    Migration{7, "step-up authorization", kSqliteV7, kPostgresV7},
    Migration{8, "connection definitions", kSqliteV8, kPostgresV8},
    Migration{9, "needs_client_fix state", kSqliteV9, kPostgresV9},
    Migration{10, "connection activity", kSqliteV10, kPostgresV10},
};

constexpr std::array<std::string_view, 15> kTables = {
    "meta",
    "counters",
    "connections",
    "tokens",
    "connection_state",
    "auth_events",
    "event_heads",
    "pending_flows",
    "oauth_clients",
    "oauth_endpoints",
    "session_revocations",
    "webhook_outbox",
    "webhook_notices",
    "connection_activity",
    "connection_definitions",
};

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
    "NULL, applied_at BIGINT NOT NULL)";

Result<std::set<int>> appliedVersions(Session& s) {
  constexpr auto c = columns("version");
  TETHER_TRY_ASSIGN(ResultSet r, s.query("SELECT " + c.sql() + " FROM schema_migrations"));
  std::set<int> out;
  for (const auto& row : r.rows) out.insert(static_cast<int>(row[c("version")].asInt()));
  return out;
}

Status checkNotNewer(const std::set<int>& applied) {
  const int known = kMigrations.back().version;
  if (!applied.empty() && *applied.rbegin() > known) {
    return Error(Errc::kStore,
                 fmt::format("the database schema is at version {}, newer than this Tether "
                             "build knows ({}); upgrade Tether",
                             *applied.rbegin(), known));
  }
  return core::okStatus();
}

Status applyOne(Session& s, Dialect dialect, const Migration& m, int64_t now_ms) {
  const std::string_view script = dialect == Dialect::kSqlite ? m.sqlite : m.postgres;
  if (auto st = s.script(script); !st.ok()) {
    return Error(st.error().code, fmt::format("migration {} ({}) failed: {}", m.version, m.name,
                                              st.error().message));
  }
  TETHER_TRY(
      s.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
              {Param::integer(m.version), Param::text(m.name), Param::integer(now_ms)}));
  core::log::info("store migration applied",
                  {{"version", m.version}, {"name", std::string(m.name)}});
  return core::okStatus();
}

// SQLite: one BEGIN IMMEDIATE transaction for the lot; it excludes other writers, including
// another process starting at the same time (which waits for the busy timeout).
Result<MigrationOutcome> migrateSqlite(Session& s, int64_t now_ms) {
  return inTransaction(s, "BEGIN IMMEDIATE", [&]() -> Result<MigrationOutcome> {
    TETHER_TRY(s.query(kCreateMigrationsTable));
    TETHER_TRY_ASSIGN(const std::set<int> applied, appliedVersions(s));
    TETHER_TRY(checkNotNewer(applied));
    MigrationOutcome out;
    for (const auto& m : kMigrations) {
      if (applied.count(m.version) != 0) continue;
      TETHER_TRY(applyOne(s, Dialect::kSqlite, m, now_ms));
      ++out.applied;
    }
    return out;
  });
}

// PostgreSQL: the caller holds an advisory lock; each migration is its own transaction.
Result<MigrationOutcome> migratePostgres(Session& s, int64_t now_ms) {
  TETHER_TRY(s.query(kCreateMigrationsTable));
  TETHER_TRY_ASSIGN(const std::set<int> applied, appliedVersions(s));
  TETHER_TRY(checkNotNewer(applied));
  MigrationOutcome out;
  for (const auto& m : kMigrations) {
    if (applied.count(m.version) != 0) continue;
    TETHER_TRY(
        inTransaction(s, "BEGIN", [&] { return applyOne(s, Dialect::kPostgres, m, now_ms); }));
    ++out.applied;
  }
  return out;
}

}  // namespace

std::span<const Migration> allMigrations() { return kMigrations; }
std::span<const std::string_view> requiredTables() { return kTables; }

Result<MigrationOutcome> migrate(Backend& backend, int64_t now_ms) {
  TETHER_TRY_ASSIGN(Lease lease, backend.writer());
  Session& s = *lease;
  Result<MigrationOutcome> outcome = MigrationOutcome{};
  TETHER_TRY(backend.withMigrationLock(s, [&]() -> Status {
    outcome = backend.dialect() == Dialect::kSqlite ? migrateSqlite(s, now_ms)
                                                    : migratePostgres(s, now_ms);
    if (!outcome.ok()) return outcome.error();
    return core::okStatus();
  }));
  outcome->schema_version = kMigrations.back().version;
  return outcome;
}

}  // namespace tether::store::sql
