#include "oauth/registration.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "oauth/error_response.h"
#include "oauth/protocol.h"
#include "oauth/sanitize.h"

namespace tether::oauth {
namespace {

using core::Errc;
using core::Error;

constexpr size_t kMaxScopes = 256;
constexpr size_t kMaxScopeBytes = 256;
constexpr size_t kMaxClientIdBytes = 1024;

bool listed(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

boost::json::array toArray(const std::vector<std::string>& values) {
  boost::json::array out;
  for (const auto& v : values) out.emplace_back(v);
  return out;
}

Error refused(std::string_view where, std::string_view why) {
  return Error(Errc::kUpstreamError,
               fmt::format("client registration at {} failed: {}", displayUrl(where), why));
}

bool printableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

std::string applicationTypeFor(std::string_view public_url) {
  auto parsed = boost::urls::parse_uri(public_url);
  if (!parsed) return "web";
  const auto& u = *parsed;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      return u.host_ipv4_address().to_bytes()[0] == 127 ? "native" : "web";
    case boost::urls::host_type::ipv6:
      return u.host_ipv6_address().is_loopback() ? "native" : "web";
    case boost::urls::host_type::name: {
      std::string host(u.encoded_host());
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return host == "localhost" || host.ends_with(".localhost") ? "native" : "web";
    }
    default:
      return "web";
  }
}

std::string supportedScopes(std::string_view requested, const std::vector<std::string>& supported) {
  std::string out;
  std::vector<std::string_view> seen;
  size_t pos = 0;
  while (pos < requested.size() && seen.size() < kMaxScopes) {
    const size_t end = std::min(requested.find(' ', pos), requested.size());
    const std::string_view scope = requested.substr(pos, end - pos);
    pos = end + 1;
    if (scope.empty() || scope.size() > kMaxScopeBytes) continue;
    if (std::find(seen.begin(), seen.end(), scope) != seen.end()) continue;
    seen.push_back(scope);
    if (!listed(supported, scope)) continue;
    if (!out.empty()) out += ' ';
    out.append(scope);
  }
  return out;
}

std::string tokenEndpointAuthMethodFor(const AuthorizationServerMetadata& metadata) {
  const auto& methods = metadata.token_endpoint_auth_methods_supported;
  if (methods.empty() || listed(methods, "none")) return "none";
  for (const char* m : {"client_secret_basic", "client_secret_post"}) {
    if (listed(methods, m)) return m;
  }
  return "none";
}

RegistrationRequest registrationRequestFor(const AuthorizationServerMetadata& metadata,
                                           std::string_view redirect_uri,
                                           std::string_view public_url, std::string_view scopes) {
  RegistrationRequest r;
  r.redirect_uris = {std::string(redirect_uri)};
  r.application_type = applicationTypeFor(public_url);
  r.token_endpoint_auth_method = tokenEndpointAuthMethodFor(metadata);
  r.scope = supportedScopes(scopes, metadata.scopes_supported);
  return r;
}

std::string registrationBody(const RegistrationRequest& request) {
  boost::json::object body;
  body["redirect_uris"] = toArray(request.redirect_uris);
  body["grant_types"] = toArray(request.grant_types);
  body["response_types"] = toArray(request.response_types);
  body["token_endpoint_auth_method"] = request.token_endpoint_auth_method;
  if (!request.client_name.empty()) body["client_name"] = request.client_name;
  if (!request.application_type.empty()) body["application_type"] = request.application_type;
  if (!request.scope.empty()) body["scope"] = request.scope;
  return boost::json::serialize(body);
}

RegistrationRequest withoutOptionalFields(const RegistrationRequest& request,
                                          std::vector<std::string>& dropped) {
  RegistrationRequest out = request;
  for (auto [name, field] : {std::pair<const char*, std::string*>{"scope", &out.scope},
                             {"application_type", &out.application_type},
                             {"client_name", &out.client_name}}) {
    if (field->empty()) continue;
    dropped.emplace_back(name);
    field->clear();
  }
  return out;
}

bool refusedForMetadata(int status, const http::Headers& headers, std::string_view body) {
  if (status != 400) return false;
  auto err = parseErrorResponse(headers, body);
  return err && (err->code == "invalid_client_metadata" || err->code == "invalid_scope");
}

core::Result<RegisteredClient> parseRegistrationResponse(int status, const http::Headers& headers,
                                                         std::string body, std::string_view where) {
  if (status >= 300 && status < 400) {
    auto location = headerValue(headers, "Location");
    return refused(where,
                   fmt::format("it answered with a redirect (HTTP {}{}); Tether does not "
                               "follow redirects from a registration endpoint",
                               status, location ? " to " + displayUrl(*location) : std::string()));
  }
  if (status != 200 && status != 201) {
    std::string code;
    if (auto err = parseErrorResponse(headers, body)) code = err->code;
    return refused(where, fmt::format("it was refused: HTTP {}{}", status,
                                      code.empty() ? std::string() : " " + code));
  }
  const std::string type = mediaType(headerValue(headers, "Content-Type").value_or(""));
  const bool html = type == "text/html" || type == "application/xhtml+xml" ||
                    (!body.empty() && body.front() == '<');
  if (html) {
    return refused(where,
                   "it answered with an HTML page, not a JSON client registration (is "
                   "registration_endpoint the right URL?)");
  }
  boost::json::parse_options opts;
  opts.max_depth = protocol::kMaxJsonDepth;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec, {}, opts);
  if (ec || !v.is_object()) {
    return refused(where, fmt::format("its answer is not a JSON object (Content-Type {})",
                                      type.empty() ? "none" : sanitizeIdpString(type, 64)));
  }
  const auto& o = v.as_object();
  RegisteredClient out;
  const auto* id = o.if_contains("client_id");
  if (!id || id->is_null()) return refused(where, "its answer has no client_id");
  if (!id->is_string()) return refused(where, "its answer's client_id is not a string");
  out.client_id = std::string(id->as_string());
  if (out.client_id.empty() || out.client_id.size() > kMaxClientIdBytes ||
      !printableAscii(out.client_id)) {
    return refused(where, "its answer's client_id is empty, longer than 1 KiB or not printable");
  }
  if (const auto* secret = o.if_contains("client_secret"); secret && !secret->is_null()) {
    if (!secret->is_string()) return refused(where, "its answer's client_secret is not a string");
    if (!secret->as_string().empty()) out.client_secret = std::string(secret->as_string());
  }
  out.response_json = std::move(body);
  return out;
}

namespace {
std::string_view trimmedBase(std::string_view public_url) {
  while (!public_url.empty() && public_url.back() == '/') public_url.remove_suffix(1);
  return public_url;
}
}  // namespace

std::string clientMetadataUrl(std::string_view public_url, std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  const std::string_view base = trimmedBase(public_url);
  if (base.size() < 9 || !std::equal(base.begin(), base.begin() + 8, "https://",
                                     [](char a, char b) { return std::tolower(a) == b; })) {
    return {};
  }
  return std::string(base) + std::string(kClientMetadataPath);
}

std::string clientMetadataDocument(std::string_view public_url, std::string_view configured) {
  const std::string base(trimmedBase(public_url));
  boost::json::object doc;
  doc["client_id"] =
      configured.empty() ? base + std::string(kClientMetadataPath) : std::string(configured);
  doc["client_name"] = "Tether";
  doc["client_uri"] = base + "/";
  doc["redirect_uris"] = boost::json::array{base + "/oauth/callback"};
  doc["grant_types"] = boost::json::array{"authorization_code", "refresh_token"};
  doc["response_types"] = boost::json::array{"code"};
  doc["token_endpoint_auth_method"] = "none";
  doc["application_type"] = applicationTypeFor(base);
  return boost::json::serialize(doc);
}

}  // namespace tether::oauth
