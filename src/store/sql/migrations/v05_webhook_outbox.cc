// The webhook outbox (messages kept after delivery for the delivery log, claimed like the
// keeper's due rows), the notices already given per connection (reauthorize_soon: once
// per refresh deadline, across restarts and replicas), and the event type webhook_given_up
// (SQLite cannot alter a CHECK constraint: auth_events is copied into a new table, its
// AUTOINCREMENT sequence kept).

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = R"sql(
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

constexpr std::string_view kPostgres = R"sql(
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

}  // namespace

constinit const Migration kV05WebhookOutbox{5, "webhook outbox", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
