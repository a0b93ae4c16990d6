#pragma once
/// Portal sessions: a signed cookie (HMAC-SHA256) naming the admin key it was opened with,
/// an expiry and a nonce, plus the CSRF token derived from it. Stateless, so every replica
/// sharing the encryption key accepts it; sign-out revokes the nonce in this process and
/// clears the cookie, and removing (or changing) the admin key ends its sessions everywhere.
/// Thread-safe.

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"

namespace tether::admin {

inline constexpr std::string_view kSessionCookie = "tether_session";

struct Session {
  std::string key_id;
  std::string csrf_token;
};

class SessionCodec {
 public:
  /// `secret`: at least 32 bytes (derive it from the encryption key so replicas agree).
  SessionCodec(std::string secret, const core::Clock& clock,
               core::Duration ttl = std::chrono::hours(12));

  /// A new session for `key`: the cookie value, and the session it stands for.
  std::string issue(const config::AccessKey& key, Session* session);

  /// The session a cookie value stands for, if its signature holds, it has not expired or
  /// been revoked, and its key is still configured unchanged.
  std::optional<Session> verify(std::string_view cookie,
                                const std::vector<config::AccessKey>& keys) const;

  /// Sign-out: this cookie is refused from now on (by this process).
  void revoke(std::string_view cookie);

  core::Duration ttl() const { return ttl_; }

 private:
  std::string mac(std::string_view data) const;

  const std::string secret_;
  const core::Clock& clock_;
  const core::Duration ttl_;
  mutable std::mutex mu_;
  std::set<std::string> revoked_;  // nonces
};

/// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name);

}  // namespace tether::admin
