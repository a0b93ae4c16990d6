#include "flows/stored_client.h"

#include <boost/json.hpp>

namespace tether::flows {

oauth::ClientAuthStyle registeredAuthStyle(const store::OAuthClient& client) {
  if (!client.client_secret || !client.registration_json) return oauth::ClientAuthStyle::kNone;
  boost::system::error_code ec;
  auto v = boost::json::parse(*client.registration_json, ec);
  if (ec || !v.is_object()) return oauth::ClientAuthStyle::kPost;
  const auto* m = v.as_object().if_contains("token_endpoint_auth_method");
  if (m && m->is_string() && m->as_string() == "client_secret_basic") {
    return oauth::ClientAuthStyle::kBasic;
  }
  if (m && m->is_string() && m->as_string() == "none") return oauth::ClientAuthStyle::kNone;
  return oauth::ClientAuthStyle::kPost;
}

std::string clientKey(const std::string& issuer, const std::string& token_endpoint) {
  return issuer.empty() ? token_endpoint : issuer;
}

}  // namespace tether::flows
