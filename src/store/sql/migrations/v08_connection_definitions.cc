// Connections made through the admin API (store/connection_definition_store.h): the
// definition as JSON, its secrets sealed apart, a per-row version, soft deletes, and a
// registry version every write bumps. PostgreSQL NOTIFYs replicas of each write. Three
// event types for operator changes: the event-type CHECK lists every type of this version.

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
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

constexpr std::string_view kPostgres = R"sql(
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

}  // namespace

constinit const Migration kV08ConnectionDefinitions{8, "connection definitions", kSqlite,
                                                    kPostgres};

}  // namespace tether::store::sql::migrations
