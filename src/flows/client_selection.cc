#include "flows/client_selection.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "core/log.h"
#include "oauth/discovery.h"
#include "oauth/registration.h"
#include "oauth/sanitize.h"

namespace tether::flows {
namespace {

using core::Errc;
using core::Error;

// The registration a metadata-document client is stored with (no secret, no RFC 7591 answer).
constexpr std::string_view kMetadataDocumentMarker = R"({"client_id_metadata_document":true})";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

void recordRegistered(const ClientSelectionDeps& deps, const FlowConnection& conn,
                      const std::string& issuer, const std::string& correlation,
                      const std::string& actor, const std::string& reason) {
  events::Detail detail;
  detail.error_class = "success";
  detail.reason = reason;
  deps.recorder.record({store::EventType::kClientRegistered, conn.key, actor,
                        oauth::urlHost(issuer), correlation, detail});
}

// Why a new registration is needed (the event's reason), given what is stored.
std::string registrationReason(const ClientSelectionDeps& deps, const FlowConnection& conn,
                               const std::optional<store::OAuthClient>& existing, bool rejected,
                               const std::string& issuer) {
  if (rejected) return "client_rejected";
  if (existing && existing->registration_json == kMetadataDocumentMarker) {
    return "metadata_document_unsupported";  // the server no longer takes the document
  }
  if (existing) return "redirect_uri_changed";
  auto endpoints = deps.store.getEndpoints(conn.key);
  if (endpoints.ok() && *endpoints && !(*endpoints)->issuer.empty() &&
      (*endpoints)->issuer != issuer) {
    return "issuer_changed";
  }
  return "first_registration";
}

}  // namespace

bool registeredFor(const store::OAuthClient& client, const std::string& redirect_uri) {
  if (!client.registration_json) return true;
  boost::system::error_code ec;
  auto v = boost::json::parse(*client.registration_json, ec);
  if (ec || !v.is_object()) return true;
  const auto* uris = v.as_object().if_contains("redirect_uris");
  if (!uris || !uris->is_array()) return true;
  for (const auto& u : uris->as_array()) {
    if (u.is_string() && u.as_string() == redirect_uri) return true;
  }
  return false;
}

core::Result<ChosenClient> chooseClient(const ClientSelectionDeps& deps, const FlowConnection& conn,
                                        const oauth::AuthorizationServerMetadata& metadata,
                                        const std::string& client_key, const std::string& scopes,
                                        const std::string& correlation, const std::string& actor) {
  if (conn.client_id_configured) {
    return ChosenClient{conn.oauth.client_id, ClientSource::kConfigured};
  }
  const std::string server = metadata.issuer.empty() ? client_key : metadata.issuer;
  auto stored = deps.store.getClient(client_key);
  if (!stored.ok()) return std::move(stored).takeError();
  std::optional<store::OAuthClient> existing = std::move(stored).value();
  // A client the server has since rejected (invalid_client on the last refresh) is replaced.
  bool rejected = false;
  if (existing) {
    auto state = deps.store.getState(conn.key);
    rejected = state.ok() && *state &&
               ((*state)->last_error_code == "invalid_client" ||
                (*state)->last_error_code == "unauthorized_client");
  }

  // 2. A Client ID Metadata Document, when the server takes one and Tether can serve it.
  const std::string cimd_url =
      oauth::clientMetadataUrl(deps.options.public_url, deps.options.client_metadata_url);
  const bool cimd_rejected = rejected && existing && existing->client_id == cimd_url;
  if (metadata.client_id_metadata_document_supported && !cimd_url.empty() &&
      !(cimd_rejected && !metadata.registration_endpoint.empty())) {
    if (!existing || existing->client_id != cimd_url) {
      store::OAuthClient client;
      client.issuer = client_key;
      client.client_id = cimd_url;
      client.registration_json = std::string(kMetadataDocumentMarker);
      if (auto st = deps.store.putClient(client); !st.ok()) return st.error();
      recordRegistered(deps, conn, server, correlation, actor, "client_id_metadata_document");
      core::log::info("connect flow: using Tether's client metadata document as client_id",
                      {{"connection", conn.key.str()},
                       {"correlation_id", correlation},
                       {"issuer", server},
                       {"client_id", cimd_url}});
    }
    return ChosenClient{cimd_url, ClientSource::kMetadataDocument};
  }

  // 3. The client registered earlier, while it still fits.
  const bool is_cimd_client = existing && existing->registration_json &&
                              *existing->registration_json == kMetadataDocumentMarker;
  if (existing && !rejected && !is_cimd_client && registeredFor(*existing, deps.redirect_uri)) {
    return ChosenClient{existing->client_id, ClientSource::kStored};
  }
  if (existing && rejected) {
    core::log::warn(
        "connect flow: the registered client was rejected by the authorization server "
        "(invalid_client); registering a new one",
        {{"connection", conn.key.str()}, {"correlation_id", correlation}, {"issuer", server}});
  }

  // 4. RFC 7591 dynamic client registration.
  if (metadata.registration_endpoint.empty()) {
    const std::string register_there = fmt::format(
        "register a client there (redirect URI {}) and set auth.client_id (and "
        "auth.client_secret for a confidential client)",
        deps.redirect_uri);
    if (metadata.client_id_metadata_document_supported) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("connection {} has no auth.client_id and the authorization "
                               "server {} offers no dynamic client registration (no "
                               "registration_endpoint). It accepts Client ID Metadata Documents, "
                               "which need an https public_url (now \"{}\") where it can fetch "
                               "{}, or client_metadata_url: set one, or {}",
                               conn.key.str(), server, deps.options.public_url,
                               oauth::kClientMetadataPath, register_there));
    }
    return Error(Errc::kInvalidArgument,
                 fmt::format("connection {} has no auth.client_id and the authorization server "
                             "{} offers neither Client ID Metadata Documents nor dynamic client "
                             "registration (no registration_endpoint); {}",
                             conn.key.str(), server, register_there));
  }
  oauth::DiscoveryOptions dopts;
  dopts.policy.allowed_hosts = deps.options.allowed_hosts;
  // The operator's hosts only: a discovered issuer passed the policy as a name when its
  // metadata was fetched, and its registration endpoint must pass it again on the addresses
  // the name resolves to now (listing it as "own" would trust a rebound answer).
  for (const std::string* url :
       {&conn.upstream_url, &conn.issuer, &conn.oauth.authorization_url, &conn.oauth.token_url}) {
    if (auto host = oauth::urlHost(*url); !host.empty()) dopts.policy.own_hosts.push_back(host);
  }
  dopts.max_document_bytes = deps.options.max_document_bytes;
  dopts.total_timeout = deps.options.discovery_timeout;
  dopts.ca_bundle = conn.oauth.ca_bundle;
  oauth::Discovery discovery(deps.http, dopts);
  const auto request =
      oauth::registrationRequestFor(metadata, deps.redirect_uri, deps.options.public_url, scopes);
  auto reg = discovery.registerClient(metadata.registration_endpoint, request);
  if (!reg.ok()) {
    return Error(reg.error().code,
                 fmt::format("connection {}: {}", conn.key.str(), reg.error().message));
  }
  if (!reg->dropped_fields.empty()) {
    core::log::warn(
        "connect flow: the authorization server refused Tether's client metadata "
        "(invalid_client_metadata); registered without the optional members",
        {{"connection", conn.key.str()},
         {"correlation_id", correlation},
         {"registration_endpoint", oauth::displayUrl(metadata.registration_endpoint)},
         {"dropped", join(reg->dropped_fields)}});
  }
  const std::string reason = registrationReason(deps, conn, existing, rejected, server);
  store::OAuthClient client;
  client.issuer = client_key;
  client.client_id = reg->client_id;
  client.client_secret = reg->client_secret;
  client.registration_json = reg->response_json;
  if (auto st = deps.store.putClient(client); !st.ok()) return st.error();
  recordRegistered(deps, conn, server, correlation, actor, reason);
  core::log::info("connect flow: registered Tether as a client",
                  {{"connection", conn.key.str()},
                   {"correlation_id", correlation},
                   {"issuer", server},
                   {"client_id", reg->client_id},
                   {"application_type", request.application_type},
                   {"scope", reg->dropped_fields.empty() ? request.scope : std::string()},
                   {"reason", reason}});
  return ChosenClient{reg->client_id, ClientSource::kRegistered};
}

namespace {
bool hasScope(std::string_view scopes, std::string_view scope) {
  size_t pos = 0;
  while (pos <= scopes.size()) {
    const size_t end = std::min(scopes.find(' ', pos), scopes.size());
    if (scopes.substr(pos, end - pos) == scope) return true;
    pos = end + 1;
  }
  return false;
}
}  // namespace

bool askOfflineAccess(const FlowConnection& conn,
                      const oauth::AuthorizationServerMetadata& metadata, std::string& scopes) {
  constexpr std::string_view kOffline = "offline_access";
  if (hasScope(scopes, kOffline)) return true;
  if (!conn.oauth.scopes.empty()) return false;
  const auto& supported = metadata.scopes_supported;
  if (std::find(supported.begin(), supported.end(), kOffline) == supported.end()) return false;
  if (!scopes.empty()) scopes += ' ';
  scopes += kOffline;
  return true;
}

void addConsentPrompt(const oauth::AuthorizationServerMetadata& metadata,
                      std::vector<std::pair<std::string, std::string>>& extra_params) {
  const auto& supported = metadata.scopes_supported;
  if (std::find(supported.begin(), supported.end(), "openid") == supported.end()) return;
  for (const auto& [name, value] : extra_params) {
    if (name == "prompt") return;
  }
  extra_params.emplace_back("prompt", "consent");
}

}  // namespace tether::flows
