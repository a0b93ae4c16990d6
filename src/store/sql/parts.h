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

/// `Store::rotateKeys` (key_rotation.cc): re-seals every value not under the primary key,
/// in one transaction.
core::Result<RotationReport> rotateKeys(StoreContext& ctx);

}  // namespace tether::store::sql
