#include "oauth/metadata.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "oauth/protocol.h"
#include "oauth/sanitize.h"

namespace tether::oauth {
namespace {

using core::Errc;
using core::Error;

constexpr size_t kMaxListItems = 256;

Error bad(std::string_view doc, std::string_view what) {
  return Error(Errc::kInvalidArgument, fmt::format("{}: {}", doc, what));
}

core::Result<boost::json::object> parseObject(std::string_view body, std::string_view doc) {
  boost::json::parse_options opts;
  opts.max_depth = protocol::kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec, {}, opts);
  if (ec) return bad(doc, "not valid JSON");
  if (!v.is_object()) return bad(doc, "not a JSON object");
  return std::move(v.as_object());
}

// An optional string member; error when present with another type.
core::Status readString(const boost::json::object& o, std::string_view name, std::string_view doc,
                        std::string& out) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return core::okStatus();
  if (!it->value().is_string()) return bad(doc, fmt::format("{} must be a string", name));
  out = std::string(it->value().as_string());
  return core::okStatus();
}

core::Status readStringList(const boost::json::object& o, std::string_view name,
                            std::string_view doc, std::vector<std::string>& out) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return core::okStatus();
  if (!it->value().is_array()) return bad(doc, fmt::format("{} must be an array of strings", name));
  for (const auto& item : it->value().as_array()) {
    if (!item.is_string()) return bad(doc, fmt::format("{} must be an array of strings", name));
    if (out.size() < kMaxListItems) out.emplace_back(item.as_string());
  }
  return core::okStatus();
}

std::string_view withoutTrailingSlash(std::string_view s) {
  if (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
  return s;
}

// scheme://authority of a parsed URL (as written) and its path without a trailing '/'.
struct Split {
  std::string origin;
  std::string path;
};

std::optional<Split> split(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return std::nullopt;
  const auto& u = *parsed;
  if (u.has_fragment() || u.encoded_host().empty()) return std::nullopt;
  Split out;
  out.origin =
      fmt::format("{}://{}", std::string_view(u.scheme()), std::string_view(u.encoded_authority()));
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.path = path;
  if (u.has_query())
    fmt::format_to(std::back_inserter(out.path), "?{}", std::string_view(u.encoded_query()));
  return out;
}

}  // namespace

core::Result<ProtectedResourceMetadata> parseProtectedResourceMetadata(std::string_view body) {
  constexpr std::string_view doc = "protected resource metadata";
  auto o = parseObject(body, doc);
  if (!o.ok()) return std::move(o).takeError();
  ProtectedResourceMetadata m;
  if (auto st = readString(*o, "resource", doc, m.resource); !st.ok()) return st.error();
  if (m.resource.empty()) return bad(doc, "resource is missing");
  if (auto st = readStringList(*o, "authorization_servers", doc, m.authorization_servers);
      !st.ok()) {
    return st.error();
  }
  if (auto st = readStringList(*o, "scopes_supported", doc, m.scopes_supported); !st.ok()) {
    return st.error();
  }
  return m;
}

core::Result<AuthorizationServerMetadata> parseAuthorizationServerMetadata(
    std::string_view body, std::string_view expected_issuer) {
  constexpr std::string_view doc = "authorization server metadata";
  auto o = parseObject(body, doc);
  if (!o.ok()) return std::move(o).takeError();
  AuthorizationServerMetadata m;
  for (auto [name, field] : {std::pair<std::string_view, std::string*>{"issuer", &m.issuer},
                             {"authorization_endpoint", &m.authorization_endpoint},
                             {"token_endpoint", &m.token_endpoint},
                             {"registration_endpoint", &m.registration_endpoint},
                             {"revocation_endpoint", &m.revocation_endpoint}}) {
    if (auto st = readString(*o, name, doc, *field); !st.ok()) return st.error();
  }
  for (auto [name, list] :
       {std::pair<std::string_view, std::vector<std::string>*>{"code_challenge_methods_supported",
                                                               &m.code_challenge_methods_supported},
        {"scopes_supported", &m.scopes_supported},
        {"token_endpoint_auth_methods_supported", &m.token_endpoint_auth_methods_supported}}) {
    if (auto st = readStringList(*o, name, doc, *list); !st.ok()) return st.error();
  }
  if (auto it = o->find("authorization_response_iss_parameter_supported"); it != o->end()) {
    m.iss_parameter_supported = it->value().is_bool() && it->value().as_bool();
  }
  if (auto it = o->find("client_id_metadata_document_supported"); it != o->end()) {
    m.client_id_metadata_document_supported = it->value().is_bool() && it->value().as_bool();
  }
  if (m.issuer.empty()) return bad(doc, "issuer is missing");
  if (withoutTrailingSlash(m.issuer) != withoutTrailingSlash(expected_issuer)) {
    return bad(doc, fmt::format("issuer \"{}\" differs from the issuer it was fetched for \"{}\" "
                                "(RFC 8414 §3.3: refusing, the document may be forged)",
                                displayUrl(m.issuer), expected_issuer));
  }
  if (m.authorization_endpoint.empty()) return bad(doc, "authorization_endpoint is missing");
  if (m.token_endpoint.empty()) return bad(doc, "token_endpoint is missing");
  return m;
}

core::Status requireS256(const AuthorizationServerMetadata& metadata) {
  for (const auto& method : metadata.code_challenge_methods_supported) {
    if (method == "S256") return core::okStatus();
  }
  return Error(Errc::kInvalidArgument,
               fmt::format("the authorization server {} does not list S256 in "
                           "code_challenge_methods_supported; Tether only connects with PKCE "
                           "S256 and refuses to start the flow",
                           metadata.issuer));
}

std::vector<std::string> protectedResourceMetadataUrls(std::string_view resource_url) {
  auto s = split(resource_url);
  if (!s) return {};
  constexpr std::string_view wk = "/.well-known/oauth-protected-resource";
  std::vector<std::string> out;
  if (!s->path.empty()) out.push_back(fmt::format("{}{}{}", s->origin, wk, s->path));
  out.push_back(fmt::format("{}{}", s->origin, wk));
  return out;
}

std::vector<std::string> authorizationServerMetadataUrls(std::string_view issuer) {
  auto s = split(issuer);
  if (!s || s->path.find('?') != std::string::npos) return {};
  constexpr std::string_view oauth = "/.well-known/oauth-authorization-server";
  constexpr std::string_view oidc = "/.well-known/openid-configuration";
  if (s->path.empty()) {
    return {fmt::format("{}{}", s->origin, oauth), fmt::format("{}{}", s->origin, oidc)};
  }
  return {fmt::format("{}{}{}", s->origin, oauth, s->path),
          fmt::format("{}{}{}", s->origin, oidc, s->path),
          fmt::format("{}{}{}", s->origin, s->path, oidc)};
}

bool resourceCovers(std::string_view resource, std::string_view url) {
  auto r = split(resource);
  auto u = split(url);
  if (!r || !u) return false;
  // Scheme and host compare case-insensitively; the authority as written otherwise.
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  if (lower(r->origin) != lower(u->origin)) return false;
  if (r->path.empty()) return true;
  if (!u->path.starts_with(r->path)) return false;
  return u->path.size() == r->path.size() || u->path[r->path.size()] == '/' ||
         u->path[r->path.size()] == '?';
}

}  // namespace tether::oauth
