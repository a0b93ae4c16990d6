#pragma once
/// Serves the operator portal (the React app embedded in the binary, see portal_assets.h)
/// under /portal/: the files as built, and index.html for every other /portal/ path (the
/// app routes in the browser). The files hold no data: everything the portal shows comes
/// from the admin API, which needs a session.

#include "http/router.h"

namespace tether::admin {

void registerPortalRoutes(http::Router& router);

}  // namespace tether::admin
