#pragma once
/// The fault-injecting identity provider used by Tether's tests and demos: an OAuth 2.x
/// authorization server on our own HTTP server (tether_http), with RFC 8414 / OIDC
/// discovery, /authorize (auto-approve or a minimal consent page), /token (authorization
/// code with PKCE S256, refresh token, client credentials), /register (RFC 7591),
/// /introspect (RFC 7662), /revoke (RFC 7009) and a JWKS. Access tokens are RS256 JWTs.
///
/// Everything that makes real IdPs hard is a knob: lifetimes, refresh_expires_in disclosed
/// or not, rotation (none / rotate / one-time-use with reuse detection, family revocation
/// and a grace window), idle expiry of refresh tokens, HTTP Basic decoded as RFC 6749
/// §2.3.1 says or compared raw, revoked clients and families, and scripted faults (see
/// faults.h). Counters let tests assert "exactly one IdP call".
///
/// Time comes from an injected core::Clock: in-process tests share a ManualClock with
/// Tether; standalone, the IdP uses the system clock plus an offset that POST
/// /control/clock advances.
///
/// Control API (JSON, under /control): GET/POST/DELETE /control/faults, GET/DELETE
/// /control/counters, POST /control/clock, POST /control/revoke, GET/POST
/// /control/settings. docs/mock-idp.md describes every endpoint and knob.
///
/// Thread-safety: all public methods may be called from any thread while serving.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "mockidp/faults.h"

namespace tether::mockidp {

enum class Rotation {
  kNone,        // the same refresh token forever
  kRotate,      // a new refresh token each time; the old one stays valid
  kOneTimeUse,  // a new one each time; replaying a spent one is invalid_grant
};
std::string_view rotationName(Rotation r);
std::optional<Rotation> parseRotation(std::string_view name);

enum class BasicMode {
  kRfc6749,  // Basic credentials are form-urldecoded after Base64 (oidc-provider)
  kRaw,      // compared as sent (IdPs that do not decode)
};
std::string_view basicModeName(BasicMode m);
std::optional<BasicMode> parseBasicMode(std::string_view name);

/// A registered client.
struct ClientSpec {
  std::string client_id;
  std::string client_secret;               // empty: public client (token_endpoint_auth_method none)
  std::vector<std::string> redirect_uris;  // empty: any redirect URI is accepted
};

/// Knobs that may change while serving (POST /control/settings or update()).
struct MockIdpSettings {
  std::chrono::seconds access_token_lifetime{3600};
  /// Absolute lifetime of a refresh token family; 0: unlimited.
  std::chrono::seconds refresh_token_lifetime{0};
  /// Idle expiry (Keycloak SSO idle): a refresh token unused this long is dead; 0: none.
  std::chrono::seconds refresh_idle_timeout{0};
  /// Send refresh_expires_in (the nearer of the absolute and idle deadlines).
  bool disclose_refresh_expires_in = true;
  /// Send expires_in (off: clients must use the JWT exp claim).
  bool disclose_expires_in = true;
  bool issue_refresh_tokens = true;
  Rotation rotation = Rotation::kRotate;
  /// One-time-use: replaying a spent refresh token also revokes its whole family.
  bool revoke_family_on_reuse = true;
  /// One-time-use: a spent token is still accepted this long after its first use.
  std::chrono::seconds reuse_grace{0};
  BasicMode basic_mode = BasicMode::kRfc6749;
  /// /authorize redirects at once (tests); off: a consent page with Approve / Deny.
  bool auto_approve = true;
  /// Subject put in tokens issued through /authorize.
  std::string subject = "mock-user";
  /// List `revocation_endpoint` (RFC 7009, POST /revoke) in the metadata. Off: an IdP
  /// without one (/revoke then answers 404).
  bool revocation_endpoint = true;
};

struct MockIdpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  /// Issuer URL; empty: http://<host>:<port>.
  std::string issuer;
  size_t io_threads = 2;
  /// Serve /control/*. Off for demos exposed beyond loopback.
  bool control_api = true;
  MockIdpSettings settings;
  std::vector<ClientSpec> clients = {{"tether-client", "tether-secret", {}}};
  std::vector<FaultRule> faults;
};

/// Counter names (also the keys of GET /control/counters).
namespace counters {
inline constexpr std::string_view kRequestsPrefix = "requests.";  // requests.<endpoint>
/// requests.token.<grant> (grant "none" when absent).
inline constexpr std::string_view kAccessTokensIssued = "access_tokens_issued";
inline constexpr std::string_view kRefreshTokensIssued = "refresh_tokens_issued";
inline constexpr std::string_view kRefreshReuseAttempts = "refresh_reuse_attempts";
inline constexpr std::string_view kFamiliesRevoked = "families_revoked";
inline constexpr std::string_view kFaultsInjected = "faults_injected";
inline constexpr std::string_view kCodesIssued = "codes_issued";
inline constexpr std::string_view kClientsRegistered = "clients_registered";
inline constexpr std::string_view kClientAuthFailures = "client_auth_failures";
/// Refresh tokens revoked through POST /revoke (RFC 7009), each counted once.
inline constexpr std::string_view kRefreshTokensRevoked = "refresh_tokens_revoked";
}  // namespace counters

class MockIdp {
 public:
  /// `clock` must outlive the IdP; nullptr: the system clock plus an adjustable offset.
  explicit MockIdp(MockIdpOptions options, const core::Clock* clock = nullptr);
  ~MockIdp();
  MockIdp(const MockIdp&) = delete;
  MockIdp& operator=(const MockIdp&) = delete;

  /// Generates the signing key, binds and serves. kUnavailable if the port is taken.
  core::Status start();
  /// Stops serving (idempotent).
  void stop();

  uint16_t port() const;
  std::string issuer() const;
  std::string tokenUrl() const { return issuer() + "/token"; }
  std::string authorizeUrl() const { return issuer() + "/authorize"; }

  // --- faults -------------------------------------------------------------------------
  void addFault(FaultRule rule);
  void clearFaults();
  std::vector<FaultRule> pendingFaults() const;

  // --- counters -----------------------------------------------------------------------
  /// One counter (0 if never incremented), e.g. "requests.token.refresh_token".
  uint64_t counter(std::string_view name) const;
  std::map<std::string, uint64_t> counters() const;
  void resetCounters();

  // --- clients, revocation, settings ---------------------------------------------------
  void addClient(ClientSpec client);
  /// Every later request authenticated as this client gets invalid_client.
  void revokeClient(std::string_view client_id);
  /// Revokes the family of `refresh_token` (later use: invalid_grant). False if unknown.
  bool revokeFamilyOf(std::string_view refresh_token);
  /// Revokes every refresh token issued so far.
  void revokeAllRefreshTokens();
  /// The refresh tokens that would be accepted now (not revoked, not spent), oldest first
  /// per family. SECRET values: for tests only.
  std::vector<std::string> liveRefreshTokens() const;
  MockIdpSettings settings() const;
  void update(const std::function<void(MockIdpSettings&)>& change);

  // --- time ---------------------------------------------------------------------------
  core::TimePoint now() const;
  /// Moves the IdP's own clock (only when none was injected). kConflict otherwise.
  core::Status advanceClock(std::chrono::seconds by);

  // --- shortcuts for tests -------------------------------------------------------------
  /// Issues an authorization code as /authorize would, without the browser round trip.
  std::string issueCode(std::string_view client_id, std::string_view redirect_uri,
                        std::string_view code_challenge, std::string_view scope = "",
                        std::string_view resource = "");
  /// Issues tokens directly (refresh token included unless disabled): {access, refresh}.
  std::pair<std::string, std::string> issueTokens(std::string_view client_id,
                                                  std::string_view scope = "");

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::mockidp
