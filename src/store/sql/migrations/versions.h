#pragma once
/// Internal: one numbered migration a file (`vNN_<what>.cc`, both dialects side by side);
/// `store/sql/migrations.cc` owns their order. A released migration is never edited.
///
/// Adding migration N: a new `vNN_<what>.cc` defining `constinit const Migration kVNN...`
/// (copy the newest one), its declaration below, its name appended to `kMigrations` in
/// `migrations.cc`, and the file in src/store/CMakeLists.txt.
///
/// Event types and states appear literally: a migration must not change when code does
/// (migrations_test checks the newest CHECK lists against EventType and ConnectionState).

#include "store/sql/migrations.h"

namespace tether::store::sql::migrations {

extern const Migration kV01InitialSchema;
extern const Migration kV02NotifyReplicas;
extern const Migration kV03ConnectFlowEndpoints;
extern const Migration kV04SessionRevocations;
extern const Migration kV05WebhookOutbox;
extern const Migration kV06ClientRegisteredEvent;
extern const Migration kV07StepUp;
extern const Migration kV08ConnectionDefinitions;
extern const Migration kV09NeedsClientFix;
extern const Migration kV10ConnectionActivity;

}  // namespace tether::store::sql::migrations
