#pragma once
/// Admin authentication: `Authorization: Bearer <admin key>` compared in constant time
/// against the SHA-256 of every configured admin key (keys may be configured as hashes).
/// Thread-safe (immutable after construction).

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "http/message.h"

namespace tether::admin {

class AdminAuth {
 public:
  explicit AdminAuth(std::vector<config::AccessKey> keys);

  /// The id of the key the request presents ("admin-1", or the configured id).
  /// kUnauthenticated when no key, a malformed header or an unknown key is presented, or
  /// when no admin key is configured at all (the message says which).
  core::Result<std::string> authenticate(const http::Request& request) const;

  bool configured() const { return !keys_.empty(); }

 private:
  std::vector<config::AccessKey> keys_;
};

}  // namespace tether::admin
