#pragma once
/// The `storage` and `encryption` sections of the configuration (see config/config.h).

#include <string>
#include <string_view>
#include <vector>

namespace tether::config {

enum class StorageDriver { kSqlite, kPostgres };
/// The name used in the config file (and in logs and the admin API): "sqlite" | "postgres".
std::string_view storageDriverName(StorageDriver d);

struct StorageConfig {
  StorageDriver driver = StorageDriver::kSqlite;
  std::string path = "var/tether.db";  // sqlite only
  std::string dsn;                     // postgres only; SECRET (may carry a password)
  int pool_size = 8;                   // postgres only, 1..256
  /// Explicit opt-out of sealing secrets at rest; required when no encryption key is set.
  bool allow_plaintext = false;
};

struct EncryptionConfig {
  /// The current sealing key, 32 raw bytes; empty when none is configured (only allowed
  /// with storage.allow_plaintext). SECRET.
  std::string key;
  /// The file `key` was read from, when it came from `key_file` (empty when inline).
  std::string key_file;
  /// Older keys (32 raw bytes each) still accepted for opening sealed values. SECRET.
  std::vector<std::string> previous_keys;

  bool hasKey() const { return !key.empty(); }
};

}  // namespace tether::config
