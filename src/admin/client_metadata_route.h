#pragma once
/// GET /oauth/client-metadata.json: Tether's OAuth Client ID Metadata Document
/// (draft-ietf-oauth-client-id-metadata-document), the client metadata an authorization
/// server fetches when Tether uses `<public_url>/oauth/client-metadata.json` as its
/// client_id (see flows/client_selection.h). Public (the server fetches it without
/// credentials) and static: it holds no secret, only public_url-derived values.

#include <string>

#include "http/router.h"

namespace tether::admin {

/// Registers the route on `router` (where /oauth/callback is served). `public_url` is
/// Tether's public base URL, read at each request (the process completes a configured port
/// 0 once it listens); it must outlive the router. `client_metadata_url`
/// (Config::client_metadata_url, may be empty) is the document's client_id when set: the
/// operator publishes this document at that URL; it must outlive the router too.
void registerClientMetadataRoute(http::Router& router, const std::string& public_url,
                                 const std::string& client_metadata_url);

}  // namespace tether::admin
