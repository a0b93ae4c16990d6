#pragma once
// Shared set-up for the lifecycle benchmarks: an SQLite store in a temp dir with an AES key.
#include <filesystem>

#include "core/random.h"
#include "store/store.h"

namespace tether::bench {

inline std::unique_ptr<store::Store> openTempStore(const std::filesystem::path& dir,
                                                   const core::Clock& clock) {
  std::filesystem::create_directories(dir);
  store::SqliteOptions sq;
  sq.path = (dir / "bench.db").string();
  sq.synchronous_full = false;
  store::StoreOptions so;
  so.backend = sq;
  std::vector<store::SealingKey> keys;
  keys.push_back(store::SealingKey::fromBytes(core::randomBytes(32)).value());
  so.sealer = std::shared_ptr<const store::Sealer>(
      store::makeAesGcmSealer(std::move(keys)).value().release());
  so.clock = &clock;
  auto s = store::openStore(std::move(so));
  if (!s.ok()) {
    fprintf(stderr, "store: %s\n", s.error().message.c_str());
    std::exit(2);
  }
  return std::move(s).value();
}

}  // namespace tether::bench
