#pragma once
/// Internal to the store module: the SQL implementation of each store interface, one
/// file each, over a shared StoreContext. `SqlStore` (sql_store.cc) assembles them into a
/// `Store`. Each part holds a reference to the context, which must outlive it.

#include <memory>

#include "core/result.h"
#include "store/sql/store_context.h"
#include "store/store.h"

namespace tether::store::sql {

std::unique_ptr<TokenStore> makeTokenStore(StoreContext& ctx);    // token_store.cc
std::unique_ptr<StateStore> makeStateStore(StoreContext& ctx);    // state_store.cc
std::unique_ptr<EventStore> makeEventStore(StoreContext& ctx);    // event_store.cc
std::unique_ptr<FlowStore> makeFlowStore(StoreContext& ctx);      // flow_store.cc
std::unique_ptr<ClientStore> makeClientStore(StoreContext& ctx);  // client_store.cc
std::unique_ptr<ConnectionRegistry> makeConnectionRegistry(
    StoreContext& ctx);  // connection_registry.cc
std::unique_ptr<SessionRevocationStore> makeSessionRevocationStore(
    StoreContext& ctx);  // session_revocations.cc

std::unique_ptr<OutboxStore> makeOutboxStore(StoreContext& ctx);  // outbox_store.cc
std::unique_ptr<ConnectionDefinitionStore> makeConnectionDefinitionStore(
    StoreContext& ctx);  // connection_definitions.cc

/// The state row of `key` read on `session` (`for_update`: PostgreSQL locks it until the
/// transaction ends; SQLite's write transaction already excludes other writers).
core::Result<std::optional<StateRecord>> readStateRow(Session& session, const ConnectionKey& key,
                                                      bool for_update);
/// Writes (upserts) the state row on `session` (state_store.cc; the outbox writes it in its
/// own transaction).
core::Status writeStateRow(StoreContext& ctx, Session& session, const StateRecord& state);

/// `Store::rotateKeys` (key_rotation.cc): re-seals every value not under the primary key,
/// in one transaction.
core::Result<RotationReport> rotateKeys(StoreContext& ctx);

}  // namespace tether::store::sql
