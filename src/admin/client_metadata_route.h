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
/// 0 once it listens); it must outlive the router.
void registerClientMetadataRoute(http::Router& router, const std::string& public_url);

}  // namespace tether::admin
