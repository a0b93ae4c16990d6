// Standard Webhooks signatures: HMAC-SHA256 over "id.timestamp.body" with the decoded secret.

#include "webhooks/signing.h"

#include "core/digest.h"
#include "core/encoding.h"
#include "core/random.h"

namespace tether::webhooks {

core::Result<std::string> signingKey(std::string_view secret) {
  const core::Error bad(core::Errc::kConfig,
                        "a webhook secret must be whsec_ followed by the Base64 of 24 to 64 "
                        "random bytes");
  if (!secret.starts_with(kSecretPrefix)) return bad;
  auto key = core::base64Decode(secret.substr(kSecretPrefix.size()));
  if (!key.ok() || key->size() < 24 || key->size() > 64) return bad;
  return key;
}

std::string signedContent(std::string_view message_id, int64_t timestamp_seconds,
                          std::string_view body) {
  std::string out;
  out.reserve(message_id.size() + body.size() + 24);
  out.append(message_id);
  out += '.';
  out += std::to_string(timestamp_seconds);
  out += '.';
  out.append(body);
  return out;
}

std::string signature(std::string_view key, std::string_view message_id, int64_t timestamp_seconds,
                      std::string_view body) {
  return "v1," + core::base64Encode(
                     core::hmacSha256(key, signedContent(message_id, timestamp_seconds, body)));
}

std::string newMessageId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  const std::string bytes = core::randomBytes(26);
  std::string out = "msg_";
  for (unsigned char b : bytes) out += kAlphabet[b & 31];
  return out;
}

}  // namespace tether::webhooks
