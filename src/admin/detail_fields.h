#pragma once
/// Fields of the connection detail (`GET /api/v1/admin/connections/{kind}/{name}`) that an
/// operator plans with: where to point an agent (the gateway path), the refresh deadline's
/// source, the next planned refresh, the issuer and the last failed connect. Pure functions.

#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

#include "admin/admin_api.h"
#include "lifecycle/connection_view.h"
#include "store/types.h"

namespace tether::admin::detail {

/// Adds upstream, gateway_path ("/mcp/<name>" or "/api/<name>/"), gateway_url (the data
/// plane's base URL and that path; null when the base is unknown) and client_key_required.
void addUseIt(boost::json::object& o, const ConnectionView& view, bool client_keys_required,
              std::string_view gateway_base_url);

/// Adds last_used_at (when a proxied call last reached the connection) to `o`.
void addLastUse(boost::json::object& o, const store::ConnectionActivity& activity);

/// Adds consenting_account ({subject, email, name, at} from the last completed connect's ID
/// token, or null: no token held, or the IdP sent no ID token) to `oauth`.
void addConsentingAccount(boost::json::object& oauth, const store::ConnectionActivity& activity,
                          const std::optional<store::TokenRecord>& token);

/// Adds refresh_deadline_source ("idp" | "refresh_max_lifetime" | ""),
/// refresh_max_lifetime_s, next_refresh_at, issuer and last_connect_failure to `oauth`.
void addPlanning(boost::json::object& oauth, const ConnectionView& view,
                 const std::optional<store::TokenRecord>& token,
                 const std::optional<store::StateRecord>& state,
                 const lifecycle::ConnectionView& shown);

}  // namespace tether::admin::detail
