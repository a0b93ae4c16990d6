#include "admin/admin_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/encoding.h"

namespace tether::admin {

AdminAuth::AdminAuth(std::vector<config::AccessKey> keys) : keys_(std::move(keys)) {}

core::Result<std::string> AdminAuth::authenticate(const http::Request& request) const {
  using core::Errc;
  if (keys_.empty()) {
    return core::Error(Errc::kUnauthenticated,
                       "the admin API is closed: no admin key is configured (admin.keys)");
  }
  auto header = request.header("Authorization");
  if (!header) {
    return core::Error(Errc::kUnauthenticated,
                       "an admin key is required: send Authorization: Bearer <admin key>");
  }
  std::string_view value = *header;
  if (value.size() < 7 || !core::iequals(value.substr(0, 7), "Bearer ")) {
    return core::Error(Errc::kUnauthenticated,
                       "the Authorization header must be Bearer <admin key>");
  }
  value.remove_prefix(7);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest);
  // Compare against every key (no early exit), so timing says nothing about which matched.
  const config::AccessKey* match = nullptr;
  for (const auto& k : keys_) {
    if (k.sha256.size() == sizeof digest &&
        CRYPTO_memcmp(k.sha256.data(), digest, sizeof digest) == 0) {
      match = &k;
    }
  }
  if (!match) return core::Error(Errc::kUnauthenticated, "the admin key is not valid");
  return match->id;
}

}  // namespace tether::admin
