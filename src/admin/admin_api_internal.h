#pragma once
// Internal to the admin API (not for other modules): what admin_api.cc,
// admin_connection_reads.cc and admin_oauth_actions.cc share. AdminApi is one class in
// several files:
//   admin_api.cc               construction, route table, authentication, sessions
//   admin_connection_reads.cc  the list, bulk health, one connection's detail, its events
//   admin_oauth_actions.cc     connect (start, status), refresh, delete token, the callback

#include <string>

#include "core/errors.h"
#include "core/result.h"
#include "http/message.h"
#include "store/types.h"

namespace tether::admin::detail {

/// The {kind}/{name} of a connection route; kNotFound for a kind other than mcp or api.
core::Result<store::ConnectionKey> connectionOf(const http::Request& r);

}  // namespace tether::admin::detail
