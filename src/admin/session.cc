#include "admin/session.h"

#include <charconv>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/random.h"

namespace tether::admin {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::optional<Role> roleFrom(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "viewer") return Role::kViewer;
  if (name == "user") return Role::kUser;
  return std::nullopt;
}

}  // namespace

std::string_view roleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kViewer:
      return "viewer";
    case Role::kUser:
      return "user";
  }
  return "user";
}

SessionCodec::SessionCodec(std::string secret, const core::Clock& clock, core::Duration ttl)
    : secret_(std::move(secret)), clock_(clock), ttl_(ttl) {}

std::string SessionCodec::mac(std::string_view data) const {
  return core::hmacSha256(secret_, data);
}

int64_t SessionCodec::expiresMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             (clock_.now() + ttl_).time_since_epoch())
      .count();
}

std::string SessionCodec::seal(const std::string& payload) const {
  return core::base64UrlEncode(payload) + "." + core::base64UrlEncode(mac(payload));
}

std::string SessionCodec::issue(const config::AccessKey& key, Session* session) {
  const std::string nonce = core::hexEncode(core::randomBytes(16));
  const std::string payload = "v1|" + key.id + "|" + core::hexEncode(key.sha256.substr(0, 8)) +
                              "|" + std::to_string(expiresMs()) + "|" + nonce;
  if (session) {
    *session = Session{};
    session->key_id = key.id;
    session->role = key.read_only ? Role::kViewer : Role::kAdmin;
    session->csrf_token = core::base64UrlEncode(mac("csrf|" + nonce));
  }
  return seal(payload);
}

// "v2|<role>|<b64url subject>|<b64url name>|<expires ms>|<nonce>": the subject and name are
// encoded because an IdP's subject may hold any character, '|' included.
std::string SessionCodec::issueSso(std::string_view subject, std::string_view name, Role role,
                                   Session* session) {
  const std::string nonce = core::hexEncode(core::randomBytes(16));
  const std::string short_name(name.substr(0, kMaxDisplayNameBytes));
  const std::string payload =
      "v2|" + std::string(roleName(role)) + "|" + core::base64UrlEncode(subject) + "|" +
      core::base64UrlEncode(short_name) + "|" + std::to_string(expiresMs()) + "|" + nonce;
  if (session) {
    *session = Session{"", core::base64UrlEncode(mac("csrf|" + nonce)), role, std::string(subject),
                       short_name};
  }
  return seal(payload);
}

int64_t SessionCodec::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

std::optional<SessionCodec::Claims> SessionCodec::open(std::string_view cookie) const {
  const auto dot = cookie.find('.');
  if (dot == std::string_view::npos || cookie.size() > 1024) return std::nullopt;
  auto payload = core::base64Decode(cookie.substr(0, dot));
  auto sig = core::base64Decode(cookie.substr(dot + 1));
  if (!payload.ok() || !sig.ok()) return std::nullopt;
  const std::string expected = mac(*payload);
  if (!core::constantTimeEqual(*sig, expected)) return std::nullopt;
  const auto parts = split(*payload, '|');
  const bool v1 = parts.size() == 5 && parts[0] == "v1";
  const bool v2 = parts.size() == 6 && parts[0] == "v2";
  if ((!v1 && !v2) || parts.back().empty() ||
      parts.back().size() > store::SessionRevocationStore::kMaxSessionIdBytes) {
    return std::nullopt;
  }
  const std::string_view expires_text = parts[parts.size() - 2];
  int64_t expires = 0;
  const auto [end, ec] =
      std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires);
  if (ec != std::errc() || end != expires_text.data() + expires_text.size()) return std::nullopt;
  if (expires <= nowMs()) return std::nullopt;
  Claims claims;
  claims.expires_ms = expires;
  claims.nonce = std::string(parts.back());
  if (v1) {
    claims.key_id = std::string(parts[1]);
    claims.key_fingerprint = std::string(parts[2]);
    return claims;
  }
  auto role = roleFrom(parts[1]);
  auto subject = core::base64Decode(parts[2]);
  auto name = core::base64Decode(parts[3]);
  if (!role || !subject.ok() || !name.ok() || subject->empty()) return std::nullopt;
  claims.role = *role;
  claims.subject = std::move(subject).value();
  claims.name = std::move(name).value();
  return claims;
}

std::optional<Session> SessionCodec::verify(std::string_view cookie,
                                            const std::vector<config::AccessKey>& keys,
                                            bool sso_enabled) const {
  auto claims = open(cookie);
  if (!claims) return std::nullopt;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(claims->nonce);
    // No current answer from the store: refuse rather than guess (the caller checks first).
    if (it == cache_.end() || it->second.revoked) return std::nullopt;
    if (clock_.now() - it->second.checked_at >= kRevocationRecheck) return std::nullopt;
  }
  const std::string csrf = core::base64UrlEncode(mac("csrf|" + claims->nonce));
  if (claims->key_id.empty()) {
    if (!sso_enabled) return std::nullopt;
    return Session{"", csrf, claims->role, claims->subject, claims->name};
  }
  for (const auto& k : keys) {
    if (k.id == claims->key_id &&
        core::hexEncode(k.sha256.substr(0, 8)) == claims->key_fingerprint) {
      return Session{k.id, csrf, k.read_only ? Role::kViewer : Role::kAdmin, "", ""};
    }
  }
  return std::nullopt;
}

bool SessionCodec::needsRevocationCheck(std::string_view cookie) const {
  auto claims = open(cookie);
  if (!claims) return false;
  std::lock_guard lock(mu_);
  auto it = cache_.find(claims->nonce);
  if (it == cache_.end()) return true;
  if (it->second.revoked) return false;  // a revocation is final
  return clock_.now() - it->second.checked_at >= kRevocationRecheck;
}

void SessionCodec::remember(const Claims& claims, bool revoked) {
  const auto now = clock_.now();
  const int64_t now_ms = nowMs();
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxCachedSessions && cache_.find(claims.nonce) == cache_.end()) {
    // Expired sessions and stale answers go first (revocations are in the store anyway).
    std::erase_if(cache_, [&](const auto& entry) {
      return entry.second.expires_ms <= now_ms ||
             (!entry.second.revoked && now - entry.second.checked_at >= kRevocationRecheck);
    });
    if (cache_.size() >= kMaxCachedSessions) cache_.erase(cache_.begin());
  }
  auto& entry = cache_[claims.nonce];
  entry.revoked = entry.revoked || revoked;
  entry.checked_at = now;
  entry.expires_ms = claims.expires_ms;
}

core::Status SessionCodec::checkRevocation(store::SessionRevocationStore& store,
                                           std::string_view cookie) {
  auto claims = open(cookie);
  if (!claims) return core::okStatus();
  auto revoked = store.isSessionRevoked(claims->nonce);
  if (!revoked.ok()) return std::move(revoked).takeError();
  remember(*claims, *revoked);
  return core::okStatus();
}

core::Status SessionCodec::revoke(store::SessionRevocationStore& store, std::string_view cookie) {
  auto claims = open(cookie);
  if (!claims) return core::okStatus();  // forged or expired: nothing to revoke
  const auto expires = core::TimePoint(std::chrono::duration_cast<core::TimePoint::duration>(
      std::chrono::milliseconds(claims->expires_ms)));
  if (auto st = store.revokeSession(claims->nonce, expires); !st.ok()) return st;
  remember(*claims, true);
  return core::okStatus();
}

std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name) {
  for (auto part : split(header, ';')) {
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return part.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

}  // namespace tether::admin
