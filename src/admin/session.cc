#include "admin/session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
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

std::optional<Session> SessionCodec::verify(std::string_view cookie,
                                            const std::vector<config::AccessKey>& keys) const {
  const auto dot = cookie.find('.');
  if (dot == std::string_view::npos || cookie.size() > 1024) return std::nullopt;
  auto payload_r = core::base64Decode(cookie.substr(0, dot));
  auto sig_r = core::base64Decode(cookie.substr(dot + 1));
  if (!payload_r.ok() || !sig_r.ok()) return std::nullopt;
  const std::string* payload = &payload_r.value();
  const std::string* sig = &sig_r.value();
  const std::string expected = mac(*payload);
  if (sig->size() != expected.size() ||
      CRYPTO_memcmp(sig->data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  const auto parts = split(*payload, '|');
  if (parts.size() != 5 || parts[0] != "v1") return std::nullopt;
  int64_t expires = 0;
  try {
    expires = std::stoll(std::string(parts[3]));
  } catch (...) {
    return std::nullopt;
  }
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  if (expires <= now) return std::nullopt;
  {
    std::lock_guard lock(mu_);
    if (revoked_.count(std::string(parts[4]))) return std::nullopt;
  }
  for (const auto& k : keys) {
    if (k.id == parts[1] && core::hexEncode(k.sha256.substr(0, 8)) == parts[2]) {
      return Session{k.id, core::base64UrlEncode(mac("csrf|" + std::string(parts[4])))};
    }
  }
  return std::nullopt;
}

void SessionCodec::revoke(std::string_view cookie) {
  const auto dot = cookie.find('.');
  if (dot == std::string_view::npos) return;
  auto payload = core::base64Decode(cookie.substr(0, dot));
  if (!payload.ok()) return;
  const auto parts = split(payload.value(), '|');
  if (parts.size() != 5) return;
  std::lock_guard lock(mu_);
  if (revoked_.size() > 100'000) revoked_.clear();  // bounded; sessions expire anyway
  revoked_.insert(std::string(parts[4]));
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
