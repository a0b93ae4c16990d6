#pragma once
/// Internal to the mock IdP (not installed for other modules): the private state behind
/// MockIdp and the declarations its implementation files share. One class, several files:
///   mock_idp.cc            lifecycle, clock, counters, clients/revocation/settings state
///   mock_idp_routes.cc     the route table, counting and fault injection around each answer
///   mock_idp_endpoints.cc  discovery, /authorize, client authentication, /register, /introspect,
///                          /revoke
///   mock_idp_token.cc      /token grants and token issuance
///   mock_idp_control.cc    the /control/* JSON API
///
/// Locking: `mu_` guards every map below and `settings_`; methods named *Locked expect it
/// held. `counters_mu_` guards `counters_` alone, so count() may be called under `mu_`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "mockidp/faults.h"
#include "mockidp/jwt_signer.h"
#include "mockidp/mock_idp.h"

namespace tether::mockidp {

namespace detail {
/// An RFC 6749 §5.2 error answer (JSON, Cache-Control: no-store).
http::Response oauthError(int status, std::string_view code, std::string_view description);
/// `url` with `query` appended after '?' or '&'.
std::string appendQuery(const std::string& url, std::string_view query);
}  // namespace detail

class MockIdp::Impl {
 public:
  Impl(MockIdpOptions options, const core::Clock* clock);

  // ----- lifecycle (mock_idp.cc) ------------------------------------------------------
  core::Status start();
  void stop();
  uint16_t port() const { return server_ ? server_->port() : 0; }
  std::string issuer() const { return issuer_; }
  core::TimePoint now() const;
  core::Status advanceClock(std::chrono::seconds by);

  // ----- counters (mock_idp.cc) -------------------------------------------------------
  void count(std::string_view name, uint64_t n = 1);
  uint64_t counter(std::string_view name) const;
  std::map<std::string, uint64_t> counters() const;
  void resetCounters();

  // ----- state (mock_idp.cc) ----------------------------------------------------------
  void addClient(ClientSpec c);
  void revokeClient(std::string_view id);
  bool revokeFamilyOf(std::string_view rt);
  void revokeAll();
  std::vector<std::string> liveRefreshTokens() const;
  MockIdpSettings settings() const;
  void update(const std::function<void(MockIdpSettings&)>& change);
  std::string issueCode(std::string_view client_id, std::string_view redirect_uri,
                        std::string_view challenge, std::string_view scope,
                        std::string_view resource, std::string subject);
  std::pair<std::string, std::string> issueTokensDirect(std::string_view client_id,
                                                        std::string_view scope);

  FaultQueue& faults() { return faults_; }
  const FaultQueue& faults() const { return faults_; }

 private:
  struct Code {
    std::string client_id, redirect_uri, challenge, scope, resource, subject;
    core::TimePoint expires_at;
  };
  struct Refresh {
    std::string client_id, family, scope, resource, subject;
    core::TimePoint last_used;
    std::optional<core::TimePoint> spent_at;  // one-time-use: when first used
  };
  struct Family {
    core::TimePoint started;
    bool revoked = false;
  };
  struct Pending {
    std::string client_id, redirect_uri, state, challenge, scope, resource;
  };
  struct AccessInfo {
    std::string client_id, scope, subject, audience;
    core::TimePoint issued_at, expires_at;
  };
  struct AuthResult {
    std::optional<ClientSpec> client;
    std::optional<http::Response> failure;
  };
  using Answer = std::function<http::Response(http::Request&)>;
  using Form = std::vector<std::pair<std::string, std::string>>;

  // ----- routing and faults (mock_idp_routes.cc) --------------------------------------
  void route(std::string_view method, std::string_view pattern, std::string endpoint,
             Answer answer);
  void control(std::string_view method, std::string_view pattern, Answer answer);
  void addRoutes();
  /// Counts the request, then answers normally or as the next matching fault says.
  void serve(const std::string& endpoint, http::Request& req, http::Responder res,
             const Answer& answer);
  http::Response faultResponse(const Fault& f);

  // ----- endpoints (mock_idp_endpoints.cc) --------------------------------------------
  http::Response discovery(bool oidc);
  http::Response authorize(http::Request& req);
  http::Response decision(http::Request& req);
  http::Response approve(const Pending& pending);
  AuthResult authenticate(const http::Request& req, const Form& form);
  http::Response registerClient(http::Request& req);
  http::Response introspect(http::Request& req);
  http::Response revoke(http::Request& req);

  // ----- /token (mock_idp_token.cc) ---------------------------------------------------
  http::Response token(http::Request& req);
  http::Response codeGrant(const ClientSpec& client, const Form& form);
  http::Response refreshGrant(const ClientSpec& client, const Form& form);
  http::Response clientCredentialsGrant(const ClientSpec& client, const Form& form);
  static bool isSubset(std::string_view requested, std::string_view granted);
  /// `kept_refresh`: the refresh token that stays valid (rotation none), for the deadline.
  http::Response tokenResponseLocked(const std::string& client_id, const std::string& subject,
                                     const std::string& scope, const std::string& resource,
                                     const std::string& family, bool issue_refresh,
                                     const std::string& kept_refresh = {});
  std::string issueAccessLocked(const std::string& client_id, const std::string& subject,
                                const std::string& scope, const std::string& resource);
  std::string newFamilyLocked();
  std::string issueRefreshLocked(const std::string& client_id, const std::string& family,
                                 const std::string& scope, const std::string& resource,
                                 const std::string& subject);
  void revokeFamilyLocked(const std::string& family);

  // ----- control API (mock_idp_control.cc) --------------------------------------------
  static std::string errorBody(std::string_view message);
  http::Response faultsJson();
  http::Response countersJson();
  http::Response clockJson();
  http::Response clockControl(http::Request& req);
  http::Response revokeControl(http::Request& req);
  http::Response settingsJson();
  http::Response settingsControl(http::Request& req);
  http::Response clientsControl(http::Request& req);

  MockIdpOptions options_;
  const core::Clock* clock_;
  std::atomic<int64_t> offset_s_{0};
  std::unique_ptr<JwtSigner> signer_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::string issuer_;
  FaultQueue faults_;

  mutable std::mutex counters_mu_;
  std::map<std::string, uint64_t> counters_;

  mutable std::mutex mu_;
  MockIdpSettings settings_;
  std::map<std::string, ClientSpec> clients_;
  std::set<std::string> revoked_clients_;
  std::map<std::string, Code> codes_;
  std::map<std::string, Refresh> refresh_;
  std::map<std::string, Family> families_;
  std::map<std::string, Pending> pending_;
  std::map<std::string, AccessInfo> access_;
};

}  // namespace tether::mockidp
