#pragma once
// A sealed (AES-256-GCM) SQLite store in a fresh temporary folder, removed at the end; for
// tests that need a real store but not a particular backend.

#include <filesystem>
#include <memory>
#include <string>

#include "core/random.h"
#include "store/store.h"

namespace tether::testing {

class SealedSqlite {
 public:
  /// `clock` must outlive the store. Opening failures are thrown (a broken test setup).
  explicit SealedSqlite(const core::Clock& clock, const std::string& prefix = "tether-test-") {
    dir_ = std::filesystem::temp_directory_path() / (prefix + core::newId().substr(0, 10));
    std::filesystem::create_directories(dir_);
    store::SqliteOptions sq;
    sq.path = path();
    store::StoreOptions so;
    so.backend = sq;
    std::vector<store::SealingKey> keys;
    keys.push_back(store::SealingKey::fromBytes(std::string(32, 'k')).value());
    so.sealer = std::shared_ptr<const store::Sealer>(
        store::makeAesGcmSealer(std::move(keys)).value().release());
    so.clock = &clock;
    store_ = store::openStore(std::move(so)).value();
  }
  ~SealedSqlite() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SealedSqlite(const SealedSqlite&) = delete;
  SealedSqlite& operator=(const SealedSqlite&) = delete;

  store::Store& store() { return *store_; }
  /// The database file (its "-wal" sibling holds recent writes).
  std::string path() const { return (dir_ / "t.db").string(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace tether::testing
