#pragma once
/// Portal sessions: a signed cookie (HMAC-SHA256) naming the admin key it was opened with
/// (or, for single sign-on, the IdP subject, display name and role granted at sign-in), an
/// expiry and a random nonce (the session id), plus the CSRF token derived from it. The
/// signature is stateless, so every replica sharing the encryption key accepts it; sign-out
/// stores the session id in the store's revocation table (durable, shared by every replica),
/// and removing (or changing) the admin key ends its sessions everywhere.
///
/// Revocation checks read the store, which blocks: the caller runs `checkRevocation` on the
/// blocking pool before `verify`, which answers from a small in-process cache. A "not
/// revoked" answer is trusted for kRevocationRecheck, so a sign-out on another replica is
/// honoured there within that bound (at once by the replica that signed out, and at once
/// after a restart). Nothing is stored or cached for a cookie whose signature does not hold.
/// Thread-safe.

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace tether::admin {

inline constexpr std::string_view kSessionCookie = "tether_session";

/// How long a "not revoked" answer from the store is trusted (the bound within which a
/// sign-out on another replica takes effect on this one).
inline constexpr core::Duration kRevocationRecheck = std::chrono::seconds(5);

/// At most this many sessions' revocation states are cached (evicting the stale first); a
/// session evicted is simply asked for again.
inline constexpr size_t kMaxCachedSessions = 10'000;

/// What a portal session may do: admin (everything), viewer (read only), user (no admin
/// route; only "My connections").
enum class Role { kAdmin, kViewer, kUser };
std::string_view roleName(Role role);

/// At most this many bytes of an SSO subject / display name fit in a session.
inline constexpr size_t kMaxSubjectBytes = 255;
inline constexpr size_t kMaxDisplayNameBytes = 64;

struct Session {
  std::string key_id;  // the admin key's id; empty for an SSO session
  std::string csrf_token;
  Role role = Role::kAdmin;
  std::string subject;  // SSO: the IdP's `sub`; empty for a key session
  std::string name;     // SSO: a display name (the token's name/email), may be empty
  bool sso() const { return key_id.empty(); }
};

class SessionCodec {
 public:
  /// `secret`: at least 32 bytes (derive it from the encryption key so replicas agree).
  SessionCodec(std::string secret, const core::Clock& clock,
               core::Duration ttl = std::chrono::hours(12));

  /// A new session for `key`: the cookie value, and the session it stands for.
  std::string issue(const config::AccessKey& key, Session* session);

  /// A new single-sign-on session for `subject` (1..kMaxSubjectBytes bytes) with `role`;
  /// `name` is cut to kMaxDisplayNameBytes.
  std::string issueSso(std::string_view subject, std::string_view name, Role role,
                       Session* session);

  /// The session a cookie value stands for, if its signature holds, it has not expired, its
  /// key is still configured unchanged, and the cache holds a current "not revoked" answer
  /// for it (see needsRevocationCheck). SSO sessions hold only while `sso_enabled`. Never
  /// blocks.
  std::optional<Session> verify(std::string_view cookie, const std::vector<config::AccessKey>& keys,
                                bool sso_enabled = false) const;

  /// True when the cookie's signature holds, it has not expired, and the cache has no
  /// current answer on its revocation: run `checkRevocation` (blocking) before `verify`.
  bool needsRevocationCheck(std::string_view cookie) const;

  /// BLOCKING (store I/O): asks the store whether the (signed, unexpired) cookie's session
  /// was revoked and caches the answer. A cookie whose signature does not hold is left
  /// alone (verify refuses it anyway). Store errors are returned.
  core::Status checkRevocation(store::SessionRevocationStore& store, std::string_view cookie);

  /// BLOCKING (store I/O): sign-out. Records the session's revocation in the store until the
  /// session's expiry, if and only if the cookie's signature holds; refused from then on by
  /// every replica. A cookie that does not verify (forged, expired) changes nothing.
  core::Status revoke(store::SessionRevocationStore& store, std::string_view cookie);

  core::Duration ttl() const { return ttl_; }

 private:
  struct Claims {
    std::string key_id;  // empty for SSO
    std::string key_fingerprint;
    Role role = Role::kAdmin;
    std::string subject, name;
    int64_t expires_ms = 0;
    std::string nonce;
  };
  struct CacheEntry {
    bool revoked = false;
    core::TimePoint checked_at;
    int64_t expires_ms = 0;
  };

  std::string mac(std::string_view data) const;
  int64_t expiresMs() const;
  std::string seal(const std::string& payload) const;
  /// The cookie's claims if its signature holds and it has not expired.
  std::optional<Claims> open(std::string_view cookie) const;
  int64_t nowMs() const;
  void remember(const Claims& claims, bool revoked);

  const std::string secret_;
  const core::Clock& clock_;
  const core::Duration ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, CacheEntry> cache_;  // by nonce
};

/// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name);

}  // namespace tether::admin
