#include "admin/admin_auth.h"

#include "core/digest.h"
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
  // Every key is compared (no early exit), so timing says nothing about which matched.
  const config::AccessKey* match = core::findBySha256(
      keys_, value, [](const config::AccessKey& k) -> std::string_view { return k.sha256; });
  if (!match) return core::Error(Errc::kUnauthenticated, "the admin key is not valid");
  return match->id;
}

}  // namespace tether::admin
