#pragma once
// Shared fixtures for the config tests: an environment map and the distinctive secret
// values that must never appear in a message or a rendering.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace tether::config::testing {

inline const std::string kDataDir = TETHER_CONFIG_TEST_DATA;

inline constexpr std::string_view kClientSecret = "s3cr3t-NEVER-PRINT";
inline constexpr std::string_view kAdminKey = "admin-key-NEVER-PRINT-0001";
// A Standard Webhooks secret: whsec_ + Base64("hook-NEVER-PRINT-secret-32-bytes").
inline constexpr std::string_view kHookSecret = "whsec_aG9vay1ORVZFUi1QUklOVC1zZWNyZXQtMzItYnl0ZXM=";
inline constexpr std::string_view kApiToken = "api-token-NEVER-PRINT";
inline constexpr std::string_view kEncryptionKeyHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Every secret a fixture uses, literal or through the environment.
inline std::vector<std::string> allSecrets() {
  return {std::string(kClientSecret),
          std::string(kAdminKey),
          std::string(kHookSecret),
          std::string(kApiToken),
          std::string(kEncryptionKeyHex),
          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  // kEncryptionKeyHex in Base64
          "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=",  // previous key in full.yaml
          "pg-NEVER-PRINT",
          "ops-key-NEVER-PRINT-123",
          "client-key-NEVER-PRINT-1",
          "apikey-NEVER-PRINT-77",
          "m2m-secret-NEVER-PRINT",
          "literal-${NOT_A_VAR}-hook-NEVER-PRINT",
          "aG9vay1ORVZFUi1QUklOVC1zZWNyZXQtMzItYnl0ZXM=",  // kHookSecret's key part
          "cded7769342859e0116dc49ea83fc563cb898cf505765eafff3c0e787a70cb4c",
          "12d8c06e0d73320cee53a837baf682bf4ac470a51ef7a6ea65ed3b35e12355fc",
          "NEVER-PRINT"};
}

/// An EnvLookup over a fixed map.
inline EnvLookup mapEnv(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// The environment the fixtures expect.
inline EnvLookup defaultEnv() {
  return mapEnv({{"DEMO_CLIENT_SECRET", std::string(kClientSecret)},
                 {"TETHER_ADMIN_KEY", std::string(kAdminKey)},
                 {"TETHER_ENCRYPTION_KEY", std::string(kEncryptionKeyHex)},
                 {"HOOK_SECRET", std::string(kHookSecret)},
                 {"API_TOKEN", std::string(kApiToken)},
                 {"TEST_DATA", kDataDir}});
}

}  // namespace tether::config::testing
