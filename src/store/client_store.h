#pragma once
/// OAuth clients registered per issuer, and the endpoints each connection resolved. Part
/// of the blocking store API (see store/store.h).

#include <optional>
#include <string_view>

#include "core/result.h"
#include "store/types.h"

namespace tether::store {

/// OAuth clients registered per issuer, and the endpoints each connection resolved.
class ClientStore {
 public:
  virtual ~ClientStore() = default;
  /// Creates or replaces the client of `client.issuer`.
  virtual core::Status putClient(const OAuthClient& client) = 0;
  virtual core::Result<std::optional<OAuthClient>> getClient(std::string_view issuer) = 0;
  virtual core::Result<bool> deleteClient(std::string_view issuer) = 0;

  /// Creates or replaces the resolved endpoints of `endpoints.key`.
  virtual core::Status putEndpoints(const OAuthEndpoints& endpoints) = 0;
  virtual core::Result<std::optional<OAuthEndpoints>> getEndpoints(const ConnectionKey& key) = 0;
};

}  // namespace tether::store
