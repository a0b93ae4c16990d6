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

}  // namespace

SessionCodec::SessionCodec(std::string secret, const core::Clock& clock, core::Duration ttl)
    : secret_(std::move(secret)), clock_(clock), ttl_(ttl) {}

std::string SessionCodec::mac(std::string_view data) const {
  return core::hmacSha256(secret_, data);
}

std::string SessionCodec::issue(const config::AccessKey& key, Session* session) {
  const int64_t expires = std::chrono::duration_cast<std::chrono::milliseconds>(
                              (clock_.now() + ttl_).time_since_epoch())
                              .count();
  const std::string nonce = core::hexEncode(core::randomBytes(16));
  const std::string payload = "v1|" + key.id + "|" + core::hexEncode(key.sha256.substr(0, 8)) +
                              "|" + std::to_string(expires) + "|" + nonce;
  if (session) {
    session->key_id = key.id;
    session->csrf_token = core::base64UrlEncode(mac("csrf|" + nonce));
  }
  return core::base64UrlEncode(payload) + "." + core::base64UrlEncode(mac(payload));
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
  if (parts.size() != 5 || parts[0] != "v1" || parts[4].empty() ||
      parts[4].size() > store::SessionRevocationStore::kMaxSessionIdBytes) {
    return std::nullopt;
  }
  int64_t expires = 0;
  const auto [end, ec] =
      std::from_chars(parts[3].data(), parts[3].data() + parts[3].size(), expires);
  if (ec != std::errc() || end != parts[3].data() + parts[3].size()) return std::nullopt;
  if (expires <= nowMs()) return std::nullopt;
  return Claims{std::string(parts[1]), std::string(parts[2]), expires, std::string(parts[4])};
}

std::optional<Session> SessionCodec::verify(std::string_view cookie,
                                            const std::vector<config::AccessKey>& keys) const {
  auto claims = open(cookie);
  if (!claims) return std::nullopt;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(claims->nonce);
    // No current answer from the store: refuse rather than guess (the caller checks first).
    if (it == cache_.end() || it->second.revoked) return std::nullopt;
    if (clock_.now() - it->second.checked_at >= kRevocationRecheck) return std::nullopt;
  }
  for (const auto& k : keys) {
    if (k.id == claims->key_id &&
        core::hexEncode(k.sha256.substr(0, 8)) == claims->key_fingerprint) {
      return Session{k.id, core::base64UrlEncode(mac("csrf|" + claims->nonce))};
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
