#include "store/from_config.h"

#include <string>
#include <utility>

namespace tether::store {

ConnectionKey connectionKeyFromConfig(const config::ConnectionConfig& connection) {
  return {std::string(config::kindName(connection.kind)), connection.name};
}

core::Result<std::shared_ptr<const Sealer>> sealerFromConfig(
    const config::EncryptionConfig& encryption, const config::StorageConfig& storage) {
  if (!encryption.hasKey()) {
    if (!storage.allow_plaintext) {
      return core::Error(core::Errc::kConfig,
                         "no encryption key: set encryption.key (or key_file), or "
                         "storage.allow_plaintext: true to store secrets unencrypted");
    }
    return std::shared_ptr<const Sealer>(makePlaintextSealer());
  }
  std::vector<SealingKey> keys;
  auto primary = SealingKey::fromBytes(encryption.key);
  if (!primary.ok()) {
    return core::Error(core::Errc::kConfig, "encryption.key: " + primary.error().message);
  }
  keys.push_back(std::move(primary).value());
  for (size_t i = 0; i < encryption.previous_keys.size(); ++i) {
    auto k = SealingKey::fromBytes(encryption.previous_keys[i]);
    if (!k.ok()) {
      return core::Error(core::Errc::kConfig, "encryption.previous_keys[" + std::to_string(i) +
                                                  "]: " + k.error().message);
    }
    keys.push_back(std::move(k).value());
  }
  auto sealer = makeAesGcmSealer(std::move(keys));
  if (!sealer.ok()) {
    return core::Error(core::Errc::kConfig, "encryption: " + sealer.error().message);
  }
  return std::shared_ptr<const Sealer>(std::move(sealer).value().release());
}

StoreOptions optionsFromConfig(const config::StorageConfig& storage,
                               std::shared_ptr<const Sealer> sealer, const core::Clock* clock,
                               int connect_attempts) {
  StoreOptions o;
  if (storage.driver == config::StorageDriver::kPostgres) {
    PostgresOptions pg;
    pg.dsn = storage.dsn;
    pg.pool_size = storage.pool_size;
    pg.connect_attempts = connect_attempts;
    o.backend = pg;
  } else {
    SqliteOptions sq;
    sq.path = storage.path;
    o.backend = sq;
  }
  o.sealer = std::move(sealer);
  o.clock = clock;
  return o;
}

std::vector<ConnectionInfo> connectionInfosFromConfig(
    const std::vector<config::ConnectionConfig>& connections) {
  std::vector<ConnectionInfo> out;
  for (const auto& c : connections) {
    ConnectionInfo info;
    info.key = connectionKeyFromConfig(c);
    info.auth_mode = std::string(config::authModeName(c.auth.mode));
    info.has_oauth = c.auth.oauth.has_value();
    if (c.auth.oauth) info.idp_host = config::idpHost(*c.auth.oauth);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace tether::store
