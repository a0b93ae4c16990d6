#pragma once
/// One parser per area of the config file, each filling its part of `Config` and recording
/// problems on the shared Reader (config-internal; other modules include config/config.h).
/// parse.cc calls them in file-schema order and then runs the checks that span sections.
///
///   listeners.cc    listen, public_url, client_metadata_url, log, server
///   storage.cc      storage, encryption
///   access.cc       admin, clients, allowed_origins
///   keeper.cc       keeper, events, discovery
///   webhooks.cc     webhooks, webhook_delivery
///   inbound.cc      inbound (Tether as an OAuth resource server)
///   connections.cc  connections (kind, url, auth modes, OAuth settings)
///
/// Each parser takes the entry of its key (a null node stands for "key:" with nothing
/// under it) and leaves defaults in place for what is absent or invalid.

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/reader.h"

namespace tether::config::sections {

// listeners.cc ---------------------------------------------------------------------------
void parseListen(Reader& r, const Entry& e, HostPort& out);
/// Without trailing slashes.
void parsePublicUrl(Reader& r, const Entry& e, std::string& out);
/// An https URL with a non-root path and no query or fragment.
void parseClientMetadataUrl(Reader& r, const Entry& e, std::string& out);
void parseLog(Reader& r, const Entry& e, LogConfig& out);
void parseServer(Reader& r, const Entry& e, ServerConfig& out);

// storage.cc -----------------------------------------------------------------------------
void parseStorage(Reader& r, const Entry& e, StorageConfig& out);
/// Returns true when encryption.key or encryption.key_file is present (valid or not).
bool parseEncryption(Reader& r, const Entry& e, EncryptionConfig& out);

// access.cc ------------------------------------------------------------------------------
/// Where each access key (by SHA-256) was first configured: every admin and client key
/// must be distinct across both lists.
struct KeyOrigins {
  struct Place {
    std::string path;
    int line = 0;
  };
  std::map<std::string, Place> by_sha256;
};
/// `listen_line` is set to the line of admin.listen when it is present and valid.
void parseAdmin(Reader& r, const Entry& e, AdminConfig& out, KeyOrigins& keys, int& listen_line);
void parseClients(Reader& r, const Entry& e, ClientsConfig& out, KeyOrigins& keys);
/// allowed_origins, normalised by core::normalizeOrigin.
void parseOrigins(Reader& r, const Entry& e, std::vector<std::string>& out);

// keeper.cc ------------------------------------------------------------------------------
void parseKeeper(Reader& r, const Entry& e, KeeperConfig& out);
void parseEvents(Reader& r, const Entry& e, EventsConfig& out);
void parseDiscovery(Reader& r, const Entry& e, DiscoveryConfig& out);

// webhooks.cc ----------------------------------------------------------------------------
void parseWebhooks(Reader& r, const Entry& e, std::vector<WebhookConfig>& out);
void parseWebhookDelivery(Reader& r, const Entry& e, WebhookDeliveryConfig& out);

// inbound.cc -----------------------------------------------------------------------------
void parseInbound(Reader& r, const Entry& e, InboundConfig& out);

// connections.cc -------------------------------------------------------------------------
/// Valid connections are appended to `out`; `own_token_lifetime` gets one flag per appended
/// connection: true when it sets auth.default_token_lifetime itself (otherwise parse.cc
/// fills in keeper.default_token_lifetime).
void parseConnections(Reader& r, const Entry& e, std::vector<ConnectionConfig>& out,
                      std::vector<bool>& own_token_lifetime);

}  // namespace tether::config::sections
