#include "flows/consenting_account.h"

#include <boost/json/parse.hpp>

#include "core/encoding.h"
#include "oauth/protocol.h"
#include "oauth/sanitize.h"

namespace tether::flows {

store::ConsentingAccount consentingAccountOf(std::string_view id_token) {
  store::ConsentingAccount out;
  if (id_token.empty() || id_token.size() > oauth::protocol::kMaxTokenBytes) return out;
  const size_t dot1 = id_token.find('.');
  if (dot1 == std::string_view::npos) return out;
  const size_t dot2 = id_token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || id_token.find('.', dot2 + 1) != std::string_view::npos) {
    return out;
  }
  auto payload = core::base64Decode(id_token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload.ok()) return out;
  boost::json::parse_options opts;
  opts.max_depth = oauth::protocol::kMaxJsonDepth;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(payload.value(), ec, {}, opts);
  if (ec || !v.is_object()) return out;
  const auto& claims = v.get_object();
  auto claim = [&](std::string_view name) -> std::string {
    const auto* c = claims.if_contains(name);
    if (!c || !c->is_string()) return {};
    const auto& s = c->get_string();
    return oauth::sanitizeIdpString(std::string_view(s.data(), s.size()), kMaxAccountClaimBytes);
  };
  out.subject = claim("sub");
  out.email = claim("email");
  out.name = claim("name");
  return out;
}

}  // namespace tether::flows
